#!/usr/bin/env bash
# Rebuilds every artefact of the embedded shapes world downstream of the model itself
# (models/shapes, made by `adadiff world train` + `world export`, see models/shapes/TRAINING.md):
# the held-out prompt sets, their collect databases, the world evidence, the shipped policy, the
# policy-gradient comparison and the evaluation report. Seeded throughout; collect is resumable, so
# an interrupted run continues where it stopped when the script is run again.
set -euo pipefail
cd "$(dirname "$0")/.."
adadiff() { node bin/adadiff.js "$@"; }
D=data/shapes
R=docs/results
N=${PROMPTS:-2000}
EPOCHS=${POLICY_EPOCHS:-40}
RETEST=${RETEST_PROMPTS:-800}
mkdir -p "$D" "$R"

# Held-out prompts (seeds apart from the model's training scenes); the policy splits them 80/10/10.
adadiff world prompts --n "$N" --dialect terse --seed 1000000 --out "$D/prompts-terse.jsonl" --force
# The other dialect, for zero-shot transfer (Table 4).
adadiff world prompts --n 200 --dialect verbose --seed 3000000 --out "$D/prompts-verbose.jsonl" --force

# One DDIM collect at 5..50 steps serves the world evidence (needs 5) and AdaDiff's S = 10..50.
adadiff collect --prompts "$D/prompts-terse.jsonl" --db "$D/collect-ddim.sqlite" --steps 5,10,20,30,40,50 --batch 32
# The first RETEST prompts from other initial noise: is a prompt's oracle step a property of the prompt?
adadiff collect --prompts "$D/prompts-terse.jsonl" --limit "$RETEST" --db "$D/collect-ddim-seed1.sqlite" \
  --steps 5,10,20,30,40,50 --batch 32 --seed 100000
adadiff world evidence --db "$D/collect-ddim.sqlite" --retest-db "$D/collect-ddim-seed1.sqlite" --out "$R/evidence" --force
adadiff collect --prompts "$D/prompts-verbose.jsonl" --db "$D/collect-verbose.sqlite" --batch 32
adadiff collect --prompts "$D/prompts-terse.jsonl" --scheduler dpm --db "$D/collect-dpm.sqlite" --batch 32

# The shipped policy and one for DPM-Solver++: exact gradient, batch 64, lr 3e-4 (3e-3 puts every
# prompt on one step count within the first epoch; the paper's 1e-5 barely moves in this many
# steps), the reward on the relative scale (the default: Q less the prompt's best score).
P="--gradient exact --lr 3e-4 --batch 64 --epochs $EPOCHS --force"
adadiff policy train --db "$D/collect-ddim.sqlite" --out models/shapes/policy $P --seed 0 | tee "$R/policy-train-exact.txt"
# The embedded model ships its policy without the Adam moments (5 MB), so models/ stays within 32 MB.
rm models/shapes/policy/optimizer.safetensors
adadiff policy train --db "$D/collect-dpm.sqlite" --out "$D/policy-dpm" $P --seed 0
rm "$D/policy-dpm/optimizer.safetensors"
# REINFORCE as the paper trains it (sampled actions, batch 256, Adam), 3 seeds, on the same data;
# each log ends with its validation reward and mean steps. (Step budgets: Figure 5 of the report.)
for SEED in 0 1 2; do
  adadiff policy train --db "$D/collect-ddim.sqlite" --out "$D/policy-reinforce-$SEED" --gradient reinforce \
    --baseline mean --lr 3e-4 --batch 256 --epochs "$EPOCHS" --seed "$SEED" --force | tee "$R/policy-train-reinforce-$SEED.txt"
done

# The whole report (Tables 1, 3, 4, 5; Figures 3, 4, 5), checked in headless Chromium.
adadiff eval --db "$D/collect-ddim.sqlite" --policy models/shapes/policy \
  --transfer-db "$D/collect-verbose.sqlite" --dpm-db "$D/collect-dpm.sqlite" --dpm-policy "$D/policy-dpm" \
  --clip models/shapes-clip --classifier models/shapes-classifier --seeds 0,1,2 --epochs 10 \
  --random-runs 3 --batch 32 --out "$R/report" --readme README.md --force
