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
AE=checkpoints/shapes-vae-dots
LATENTS=checkpoints/shapes-latents
OUT=checkpoints/shapes-v2
SCENES=200000
DENOISER_STEPS=${DENOISER_STEPS:-9000}
MINUTES=${MINUTES:-100}

# The autoencoder in three stages, each continuing the last (their READMEs): plain loss to 7000 steps
# (the cosine first planned for 4000, then raised), the detail term to 9115 (a 28-minute cap), then
# the revised world's larger dots to 9931 (a 16-minute cap). The capped stages run once.
ae() { adadiff world train-autoencoder --seed 0 --threads "$THREADS" --resume "$@"; }
ae --out checkpoints/shapes-vae --steps 7000 --minutes 120 2>&1 | tee -a checkpoints/shapes-vae/train.log
if [ ! -f checkpoints/shapes-vae-detail/checkpoint.safetensors ]; then
  mkdir -p checkpoints/shapes-vae-detail
  cp checkpoints/shapes-vae/{checkpoint.safetensors,config.json} checkpoints/shapes-vae-detail/
  ae --out checkpoints/shapes-vae-detail --steps 9500 --minutes 28 --detail-weight 0.5 \
    2>&1 | tee -a checkpoints/shapes-vae-detail/train.log
fi
if [ ! -f "$AE/checkpoint.safetensors" ]; then
  mkdir -p "$AE"
  cp checkpoints/shapes-vae-detail/{checkpoint.safetensors,config.json} "$AE/"
  ae --out "$AE" --steps 12000 --minutes 16 --detail-weight 0.5 2>&1 | tee -a "$AE/train.log"
fi
# The step a checkpoint holds is in its safetensors header's metadata.
AE_AT=$(node -e "const b=require('fs').readFileSync('$AE/checkpoint.safetensors');
console.log(JSON.parse(b.subarray(8, 8 + Number(b.readBigUInt64LE(0)))).__metadata__.step)")
if [ ! -f "$AE/measure-$AE_AT.json" ]; then
  adadiff world measure-autoencoder --checkpoint "$AE" --images 500 --threads "$THREADS" > "$AE/measure-$AE_AT.json"
fi
if [ ! -f "$LATENTS/latents.json" ]; then
  adadiff world encode-latents --autoencoder "$AE" --count "$SCENES" --out "$LATENTS" --threads "$THREADS"
fi
mkdir -p "$OUT"
adadiff world train --latents "$LATENTS" --out "$OUT" --steps "$DENOISER_STEPS" --minutes "$MINUTES" --seed 0 \
  --threads "$THREADS" --curve-every 900 --resume 2>&1 | tee -a "$OUT/train.log"
# Ship only the finished run: a stretch cut by MINUTES leaves the current model in place.
if grep -q "^done: $DENOISER_STEPS steps" "$OUT/train.log"; then
  adadiff world export --checkpoint "$OUT" --out models/shapes --force
fi
