import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAPER_DEFAULTS } from '../src/policy/config.js';
import {
  autoGamma,
  highQuality,
  oracleIndex,
  type RewardConfig,
  rewards,
  topKIndices,
} from '../src/policy/reward.js';

const cfg: RewardConfig = {
  kind: 'topk',
  steps: PAPER_DEFAULTS.steps,
  lambda: 2,
  topK: 3,
  gamma: 1,
  threshold: 0,
};

test('top-k reward pays saved steps plus lambda * Q for the k best images, -gamma otherwise', () => {
  const scores = [0.1, 0.5, 0.3, 0.2, 0.4];
  // Top 3: indices 1 (0.5), 4 (0.4), 2 (0.3).
  const r = rewards(scores, cfg);
  assert.equal(r[0], -1);
  assert.ok(Math.abs(r[1] - (1 - 20 / 50 + 2 * 0.5)) < 1e-12);
  assert.ok(Math.abs(r[2] - (1 - 30 / 50 + 2 * 0.3)) < 1e-12);
  assert.equal(r[3], -1);
  assert.ok(Math.abs(r[4] - (0 + 2 * 0.4)) < 1e-12);
});

test('ties are broken toward fewer steps, deterministically', () => {
  assert.deepEqual([...topKIndices([1, 1, 1, 1, 1], 3)].sort(), [0, 1, 2]);
  assert.deepEqual([...topKIndices([0, 2, 2, 2, 2], 2)].sort(), [1, 2]);
});

test('threshold and step-only variants', () => {
  const scores = [-0.5, 0.2, 0.1, -0.1, 0.3];
  assert.deepEqual(highQuality(scores, { ...cfg, kind: 'threshold' }), [false, true, true, false, true]);
  const stepOnly = rewards(scores, { ...cfg, kind: 'steps-only' });
  assert.deepEqual(
    stepOnly.map((v) => Number(v.toFixed(6))),
    [0.8, 0.6, 0.4, 0.2, 0],
  );
});

test('oracle picks the fewest steps that reach the top-k', () => {
  assert.equal(oracleIndex([0.9, 0.1, 0.2, 0.3, 0.4], cfg), 0);
  assert.equal(oracleIndex([0.1, 0.2, 0.9, 0.8, 0.7], cfg), 2);
  assert.equal(oracleIndex([-2, -2, -2, -2, -1], { ...cfg, kind: 'threshold' }), 4);
  assert.throws(() => rewards([1, 2], cfg), /expected 5 scores/);
});

test('auto gamma puts every failing choice below the worst passing one, and is at least 1', () => {
  const { gamma: _, ...criterion } = cfg;
  const easy = [0.1, 0.5, 0.3, 0.2, 0.4];
  assert.equal(autoGamma([easy], criterion), 1);
  // A hard prompt: its passing images score about -2, so saved + 2Q is near -4.
  const hard = [-2.5, -2.0, -1.9, -2.2, -1.8];
  const gamma = autoGamma([easy, hard], criterion);
  // Worst passing reward: 50 steps, Q -1.8 -> 0 + 2·(-1.8) = -3.6; one below it.
  assert.ok(Math.abs(gamma - 4.6) < 1e-12);
  for (const scores of [easy, hard]) {
    const r = rewards(scores, { ...criterion, gamma });
    const good = highQuality(scores, { ...criterion, gamma });
    const worstGood = Math.min(...r.filter((_, i) => good[i]));
    for (const [i, ri] of r.entries()) if (!good[i]) assert.ok(ri < worstGood);
  }
});

test('relative quality: Q is the score less the prompt best, so a hard prompt weighs like an easy one', () => {
  const relative: RewardConfig = { ...cfg, quality: 'relative' };
  const easy = [0.1, 0.5, 0.3, 0.2, 0.4];
  const hard = easy.map((s) => s - 2.3);
  const r = rewards(easy, relative);
  // Top 3 at 20, 30 and 50 steps; the best (0.5, at 20) pays the saved steps alone. Failing
  // earns gamma (1) less than the worst of those three (50 steps: 0 + 2 * (0.4 - 0.5) = -0.2).
  assert.ok(Math.abs(r[0] - -1.2) < 1e-12 && r[3] === r[0]);
  assert.ok(Math.abs(r[1] - (1 - 20 / 50)) < 1e-12);
  assert.ok(Math.abs(r[2] - (1 - 30 / 50 + 2 * (0.3 - 0.5))) < 1e-12);
  assert.ok(Math.abs(r[4] - 2 * (0.4 - 0.5)) < 1e-12);
  // A constant shift of a prompt's scores changes nothing, on the relative scale only.
  const rh = rewards(hard, relative);
  for (const [i, v] of rh.entries()) assert.ok(Math.abs(v - r[i]) < 1e-12);
  assert.ok(rewards(hard, cfg)[1] < rewards(easy, cfg)[1] - 4);
  // So gamma 'auto' needs no search over prompts: failing is already below every prompt's passing.
  const { gamma: _, ...criterion } = relative;
  assert.equal(autoGamma([easy, hard, [-9, -1, -1, -1, -9]], criterion), 1);
  // A threshold no image passes: every choice fails alike, at -gamma.
  assert.deepEqual(rewards([-1, -1, -1, -1, -1], { ...relative, kind: 'threshold' }), [-1, -1, -1, -1, -1]);
});
