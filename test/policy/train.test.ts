import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adamState, adamwStep } from '../../src/graph/optim.js';
import { gatherBatch, gatherRewards, rewardTable, splitByPrompt } from '../../src/policy/dataset.js';
import { bestPossibleReward, constantPolicyRewards } from '../../src/policy/evaluate.js';
import { initPolicy, networkConfig, type PolicyParams } from '../../src/policy/network.js';
import {
  ADAM,
  type EpochLog,
  type GradientEstimator,
  PolicyGradient,
  TRAIN_DEFAULTS,
  type TrainOptions,
  trainPolicy,
} from '../../src/policy/train.js';
import { Rng } from '../../src/util/random.js';
import { SYNTHETIC_REWARD, syntheticDataset } from './synthetic.js';

const actions = SYNTHETIC_REWARD.steps.length;
const network = networkConfig(8, 6, actions, { width: 32, heads: 2, mlpRatio: 2 });
/** Easy prompts pass at 10 steps, hard ones only at 50: one boundary, learnable in seconds. */
const data = syntheticDataset(600, network.tokens, network.featureDim, 1, [0, actions - 1]);
const split = splitByPrompt(data);
const table = rewardTable(data, SYNTHETIC_REWARD);
const fast: TrainOptions = { ...TRAIN_DEFAULTS, epochs: 8, batchSize: 128, learningRate: 3e-3 };

const withoutTimes = (history: EpochLog[]) => history.map(({ seconds: _, ...rest }) => rest);

for (const gradient of ['exact', 'reinforce'] as const) {
  test(`${gradient} gradient learns a feature-dependent policy above the best constant one`, async () => {
    const best = Math.max(...constantPolicyRewards(table, actions, split.val));
    const ceiling = bestPossibleReward(table, actions, split.val);
    const logs: EpochLog[] = [];
    const state = await trainPolicy({
      data,
      split,
      reward: SYNTHETIC_REWARD,
      network,
      options: { ...fast, gradient },
      onEpoch: (log) => {
        logs.push(log);
      },
    });
    const last = state.history.at(-1)!;
    assert.deepEqual(logs, state.history);
    assert.equal(state.epoch, fast.epochs);
    // Half-way or more from the best constant policy to a perfect one.
    assert.ok(
      last.valReward > (best + ceiling) / 2,
      `val reward ${last.valReward}, constant ${best}, best ${ceiling}`,
    );
    assert.ok(last.entropy < Math.log(actions));
  });
}

test('training is reproducible for a seed', async () => {
  const options = { ...fast, epochs: 2, gradient: 'reinforce' as const, baseline: 'mean' as const };
  const run = () => trainPolicy({ data, split, reward: SYNTHETIC_REWARD, network, options });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(withoutTimes(a.history), withoutTimes(b.history));
  assert.deepEqual(a.params, b.params);
});

/** Fresh weights whose output layer passes gradient back (it starts at zero). */
function nonUniform(seed: number): PolicyParams {
  const params = initPolicy(network, seed);
  const w2 = new Rng(seed + 1).normalArray(network.width * actions).map((v) => 0.3 * v);
  params.set('head.w2', { shape: [network.width, actions], data: w2 });
  return params;
}

const close = (a: Float32Array, e: Float32Array, tolerance: number, what: string) => {
  const scale = Math.max(1e-6, ...e.map(Math.abs));
  for (let i = 0; i < e.length; i++)
    assert.ok(Math.abs(a[i] - e[i]) < tolerance * scale, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
};

/** One run of a training graph of `batch` rows and `length` positions on the given rows. */
async function gradientAt(
  params: PolicyParams,
  opts: Parameters<typeof PolicyGradient.create>[1],
  [batch, length]: [number, number],
  rows: number[],
  uniforms: Float32Array,
) {
  const session = await PolicyGradient.create(network, opts, batch, length);
  const out = await session.run(
    params,
    gatherBatch(data, rows),
    gatherRewards(table, actions, rows),
    uniforms,
  );
  await session.release();
  return out;
}

test("REINFORCE's gradient is an unbiased estimate of the exact one", async () => {
  // One prompt repeated B times with stratified uniforms: the sampled actions follow π up to
  // O(1/B), so REINFORCE's gradient must match the exact expectation's.
  const b = 500;
  const rows = new Array(b).fill(split.train[0]);
  const uniforms = Float32Array.from({ length: b }, (_, i) => (i + 0.5) / b);
  const params = nonUniform(2);
  const gradient = async (estimator: GradientEstimator) =>
    (await gradientAt(params, { ...fast, gradient: estimator }, [b, network.tokens], rows, uniforms)).grads;
  const exact = await gradient('exact');
  const reinforce = await gradient('reinforce');
  for (const name of ['head.b2', 'head.w2', 'input.w']) {
    assert.ok(Math.max(...exact.get(name)!.map(Math.abs)) > 0, name);
    close(reinforce.get(name)!, exact.get(name)!, 0.01, name);
  }
});

test('padding rows and positions of the static training graph leave the gradient unchanged', async () => {
  // Prompts of at most 4 of the 8 positions, 5 of them in a graph of 8 rows.
  const lengths = Array.from({ length: data.dims.n }, (_, i) =>
    data.mask.subarray(i * network.tokens, (i + 1) * network.tokens).reduce((a, v) => a + v, 0),
  );
  const rows = split.train.filter((r) => lengths[r] <= 4).slice(0, 5);
  const uniforms = Float32Array.from(rows, (_, i) => (i + 0.5) / rows.length);
  const params = nonUniform(4);
  for (const estimator of ['exact', 'reinforce'] as const) {
    const opts = { gradient: estimator, baseline: 'mean' as const };
    const tight = await gradientAt(params, opts, [rows.length, 4], rows, uniforms);
    const padded = await gradientAt(params, opts, [8, network.tokens], rows, uniforms);
    assert.ok(Math.abs(tight.rewardSum - padded.rewardSum) < 1e-5);
    for (const [name, g] of tight.grads) close(padded.grads.get(name)!, g, 1e-5, `${estimator} ${name}`);
  }
});

test('the paper’s batch of 256 is one Adam step on the whole batch’s gradient', async () => {
  const rows = split.train.slice(0, 256);
  assert.equal(rows.length, 256);
  const options: TrainOptions = { ...fast, epochs: 1, batchSize: 256, gradient: 'exact' };
  const state = await trainPolicy({
    data,
    split: { ...split, train: rows },
    reward: SYNTHETIC_REWARD,
    network,
    options,
  });
  assert.equal(state.step, 1);
  // The same step by hand: the full batch's exact-gradient loss, then Adam.
  const params = initPolicy(network, options.seed);
  const session = await PolicyGradient.create(network, options, rows.length, network.tokens);
  const { grads } = await session.run(
    params,
    gatherBatch(data, rows),
    gatherRewards(table, actions, rows),
    new Float32Array(rows.length),
  );
  await session.release();
  adamwStep(ADAM, params, grads, adamState(params), options.learningRate, 1);
  for (const [name, e] of params) close(state.params.get(name)!.data, e.data, 1e-5, name);
});
