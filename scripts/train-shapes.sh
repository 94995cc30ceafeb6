#!/usr/bin/env bash
# Trains the embedded shapes model (Stable Diffusion in miniature, models/shapes/TRAINING.md) in
# resumable stretches: run it again after an interruption and every stage continues from its last
# checkpoint (a finished stage returns at once). MINUTES caps this stretch of the denoiser.
#   1. the autoencoder, on reconstruction of scenes rendered on the fly;
#   2. the latent cache: the training scenes rendered and encoded once;
#   3. the text encoder and latent denoiser on the cache, with a training curve (curve.jsonl);
#   4. the export to models/shapes, once the denoiser has run all its steps.
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

# The first 4000 steps planned the cosine decay for 4000; the run was then raised to 7000 (README there).
adadiff world train-autoencoder --out "$AE" --steps 7000 --minutes 120 --seed 0 --threads "$THREADS" --resume \
  2>&1 | tee -a "$AE/train.log"
if [ ! -f "$AE/measure-7000.json" ]; then
  adadiff world measure-autoencoder --checkpoint "$AE" --images 500 --threads "$THREADS" > "$AE/measure-7000.json"
fi
if [ ! -f "$LATENTS/latents.json" ]; then
  adadiff world encode-latents --autoencoder "$AE" --count "$SCENES" --out "$LATENTS" --threads "$THREADS"
fi
mkdir -p "$OUT"
adadiff world train --latents "$LATENTS" --out "$OUT" --steps "$DENOISER_STEPS" --minutes "$MINUTES" --seed 0 \
  --threads "$THREADS" --curve-every 900 --resume 2>&1 | tee -a "$OUT/train.log"
# Ship only the finished run: a stretch cut by MINUTES leaves the current model in place.
if grep -q "^done: $DENOISER_STEPS steps" "$OUT/train.log"; then
  adadiff world export --checkpoint "$OUT" --out models/shapes
fi
