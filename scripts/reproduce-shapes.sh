#!/usr/bin/env bash
# Rebuilds every artefact of the embedded shapes world after the model itself (models/shapes, made by
# `adadiff world train` + `world export`, see models/shapes/TRAINING.md): the held-out prompt set,
# its collect database, the world evidence, the trained policy and its evaluation. Seeded
# throughout; collect is resumable, so an interrupted run continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
adadiff() { node bin/adadiff.js "$@"; }
D=data/shapes
N=${PROMPTS:-1000}
mkdir -p "$D" docs/results

# Held-out prompts (seeds apart from the model's training scenes); the policy splits them 80/10/10.
adadiff world prompts --n "$N" --dialect terse --seed 1000000 --out "$D/prompts-terse.jsonl"

# One collect at 5..50 steps serves the world evidence (needs 5) and AdaDiff's S = 10..50.
adadiff collect --prompts "$D/prompts-terse.jsonl" --db "$D/collect-ddim.sqlite" --steps 5,10,20,30,40,50 --batch 32
adadiff world evidence --db "$D/collect-ddim.sqlite" --out docs/results/evidence

adadiff policy train --db "$D/collect-ddim.sqlite" --out models/shapes/policy \
  --gradient exact --lr 3e-3 --epochs "${POLICY_EPOCHS:-40}" --batch 64 --seed 0
adadiff policy evaluate --db "$D/collect-ddim.sqlite" --policy models/shapes/policy --out docs/results/adadiff-ddim
