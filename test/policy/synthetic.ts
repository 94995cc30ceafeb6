/**
 * A synthetic policy dataset where the best step count is learnable from the features: each prompt
 * has a hidden difficulty j in 0..|S|-1, every real token carries it as a raised feature channel j
 * on top of noise, and the image passes the quality threshold from S[j] steps on. Padded positions
 * carry the hardest difficulty's channel, so a network that looked at them would choose too many
 * steps.
 */
import { PAPER_DEFAULTS } from '../../src/policy/config.js';
import type { PolicyDataset } from '../../src/policy/dataset.js';
import type { RewardConfig } from '../../src/policy/reward.js';
import { Rng } from '../../src/util/random.js';

export const SYNTHETIC_REWARD: RewardConfig = {
  kind: 'threshold',
  steps: PAPER_DEFAULTS.steps,
  lambda: PAPER_DEFAULTS.lambda,
  topK: PAPER_DEFAULTS.topK,
  gamma: 1,
  threshold: 0,
};

/** Quality of a passing / failing image: passing earns saved + lambda·PASS, failing -gamma. */
const PASS = 0.5;
/** Height of the difficulty channel over N(0, 1) noise. */
const SIGNAL = 2;

/** `difficulties`: the action indices a prompt's difficulty is drawn from (all of S by default). */
export function syntheticDataset(
  n: number,
  l: number,
  d: number,
  seed: number,
  difficulties: readonly number[] = PAPER_DEFAULTS.steps.map((_, i) => i),
): PolicyDataset {
  const actions = PAPER_DEFAULTS.steps.length;
  if (d < actions) throw new Error(`synthetic features need d >= ${actions} (one channel per difficulty)`);
  const rng = new Rng(seed);
  const features = rng.normalArray(n * l * d);
  const mask = new Uint8Array(n * l);
  const scores = new Float32Array(n * actions);
  for (let i = 0; i < n; i++) {
    const difficulty = rng.pick(difficulties);
    const tokens = 1 + rng.int(l);
    mask.fill(1, i * l, i * l + tokens);
    for (let t = 0; t < l; t++) features[(i * l + t) * d + (t < tokens ? difficulty : actions - 1)] += SIGNAL;
    for (let a = 0; a < actions; a++) scores[i * actions + a] = a >= difficulty ? PASS : -PASS;
  }
  return {
    features,
    mask,
    scores,
    promptIds: Array.from({ length: n }, (_, i) => 1000 + i),
    dims: { n, l, d, actions },
  };
}
