#!/usr/bin/env bash
# Trains the embedded shapes model (Stable Diffusion in miniature, models/shapes/TRAINING.md) in
# resumable stretches: run it again after an interruption and every stage continues from its last
# checkpoint (a finished stage returns at once). MINUTES caps this stretch of the denoiser.
#   1. the autoencoder, on reconstruction of scenes rendered on the fly;
#   2. the latent cache: the training scenes rendered and encoded once;
#   3. the text encoder and latent denoiser on the cache, with a training curve (curve.jsonl);
#   4. the export to models/shapes.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
adadiff() { node bin/adadiff.js "$@"; }
THREADS=${THREADS:-2}
AE=checkpoints/shapes-vae
LATENTS=checkpoints/shapes-latents
OUT=checkpoints/shapes-v2
SCENES=200000
DENOISER_STEPS=${DENOISER_STEPS:-12000}
MINUTES=${MINUTES:-100}

adadiff world train-autoencoder --out "$AE" --steps 4000 --minutes 120 --seed 0 --threads "$THREADS" --resume \
  2>&1 | tee -a "$AE/train.log"
if [ ! -f "$LATENTS/latents.json" ]; then
  adadiff world encode-latents --autoencoder "$AE" --count "$SCENES" --out "$LATENTS" --threads "$THREADS"
fi
mkdir -p "$OUT"
adadiff world train --latents "$LATENTS" --out "$OUT" --steps "$DENOISER_STEPS" --minutes "$MINUTES" --seed 0 \
  --threads "$THREADS" --curve-every 600 --resume 2>&1 | tee -a "$OUT/train.log"
adadiff world export --checkpoint "$OUT" --out models/shapes
