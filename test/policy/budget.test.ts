import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { budgetMultiplier, calibrateToBudget, checkBudget } from '../../src/policy/budget.js';
import { loadCheckpoint } from '../../src/policy/checkpoint.js';
import { PAPER_DEFAULTS } from '../../src/policy/config.js';
import { gatherBatch, splitByPrompt } from '../../src/policy/dataset.js';
import { networkConfig, OUTPUT_BIAS } from '../../src/policy/network.js';
import { oracleIndex, rewards } from '../../src/policy/reward.js';
import { StepSelector } from '../../src/policy/selector.js';
import { TRAIN_DEFAULTS } from '../../src/policy/train.js';
import { trainToCheckpoint } from '../../src/policy/train-run.js';
import { Rng } from '../../src/util/random.js';
import { SYNTHETIC_REWARD, syntheticDataset } from './synthetic.js';

const S = PAPER_DEFAULTS.steps;
const root = mkdtempSync(join(tmpdir(), 'adadiff-budget-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Scores that rise with the steps at a rate of each prompt's own, plus noise. */
function risingScores(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const rate = rng.uniform() * 2;
    return S.map((t) => rate * Math.log(t) + 0.3 * rng.normal());
  });
}

const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const oracleMean = (rows: number[][], multiplier: number) => {
  const cfg = {
    ...SYNTHETIC_REWARD,
    kind: 'budget' as const,
    budget: { target: 0, multiplier, calibration: 0 },
  };
  return meanOf(rows.map((r) => S[oracleIndex(r, cfg)]));
};

test('the step cost meets the budget on the training scores, and a smaller budget prices steps higher', () => {
  const rows = risingScores(400, 1);
  let previous = Number.NEGATIVE_INFINITY;
  for (const target of [40, 30, 25, 20, 12]) {
    const mu = budgetMultiplier(rows, S, target);
    assert.ok(Math.abs(oracleMean(rows, mu) - target) < 1, `B ${target}: mean ${oracleMean(rows, mu)}`);
    assert.ok(mu > previous, `mu grows as B falls (${mu} after ${previous})`);
    previous = mu;
  }
  // The reward is Q less the priced cost, for every action.
  const cfg = {
    ...SYNTHETIC_REWARD,
    kind: 'budget' as const,
    budget: { target: 25, multiplier: 2, calibration: 0 },
  };
  assert.deepEqual(
    rewards([1, 2, 3, 4, 5], cfg),
    S.map((t, i) => i + 1 - (2 * t) / 50),
  );
  assert.throws(
    () => checkBudget(5, S),
    /a step budget of 5 lies outside S = \{10, 20, 30, 40, 50\}: expected 10 to 50/,
  );
  assert.throws(() => checkBudget(55, S), /outside S/);
});

test('calibration shifts the logits to the budget and bakes the shift into the output bias', () => {
  const rng = new Rng(4);
  const rows = 300;
  const probabilities = new Float32Array(rows * S.length);
  for (let r = 0; r < rows; r++) {
    const logits = S.map(() => 2 * rng.normal());
    const z = logits.reduce((a, l) => a + Math.exp(l), 0);
    logits.forEach((l, a) => {
      probabilities[r * S.length + a] = Math.exp(l) / z;
    });
  }
  const bias = new Float32Array(S.length).fill(0.25);
  const params = new Map([[OUTPUT_BIAS, { shape: [S.length], data: bias }]]);
  const { nu, meanSteps } = calibrateToBudget(params, OUTPUT_BIAS, probabilities, S, 22);
  assert.ok(Math.abs(meanSteps - 22) < 0.2, `mean ${meanSteps}`);
  // The baked bias moves each logit by -nu * t / Smax, which is what the greedy choice saw.
  S.forEach((t, a) => {
    assert.ok(Math.abs(bias[a] - (0.25 - (nu * t) / 50)) < 1e-5);
  });
  const greedy = Array.from({ length: rows }, (_, r) => {
    const shifted = S.map((t, a) => Math.log(probabilities[r * S.length + a]) - (nu * t) / 50);
    return S[shifted.indexOf(Math.max(...shifted))];
  });
  assert.equal(meanOf(greedy), meanSteps);
});

test('policy train with a budget: the shipped policy averages B steps on the validation prompts', async () => {
  const network = networkConfig(4, 5, S.length, { width: 16, heads: 2, mlpRatio: 2 });
  const data = syntheticDataset(600, network.tokens, network.featureDim, 9);
  const split = splitByPrompt(data);
  const out = join(root, 'budget-25');
  const { reward, validationMean } = await trainToCheckpoint({
    data,
    split,
    reward: { ...SYNTHETIC_REWARD, kind: 'budget', budget: 25 },
    network,
    training: { ...TRAIN_DEFAULTS, gradient: 'exact', epochs: 5, batchSize: 64, learningRate: 3e-3 },
    out,
    commandLine: ['test'],
  });
  assert.equal(reward.budget?.target, 25);
  assert.ok(
    validationMean !== undefined && Math.abs(validationMean - 25) <= 1,
    `validation mean ${validationMean}`,
  );
  // The folder, as select and --steps auto load it, makes the same choices.
  const selector = await StepSelector.load(out);
  const batch = gatherBatch(data, split.val);
  const { steps } = await selector.select({
    data: batch.features,
    dims: [batch.batch, data.dims.l, data.dims.d],
    mask: batch.mask,
  });
  assert.ok(Math.abs(meanOf(steps) - (validationMean as number)) < 1e-9, `${meanOf(steps)}`);
  const saved = await loadCheckpoint(out);
  assert.deepEqual(saved.reward.budget, reward.budget);
  assert.notEqual(saved.reward.budget?.calibration, 0);
});
