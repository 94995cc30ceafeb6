import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AdamState,
  adamw,
  disposeTree,
  initEngine,
  jit,
  normal,
  np,
  refTree,
  type Tensor,
  tensor,
  toHost,
  valueAndGrad,
  zerosLike,
} from '../../src/engine/index.js';
import { gatherBatch, gatherRewards, rewardTable, splitByPrompt } from '../../src/policy/dataset.js';
import { bestPossibleReward, constantPolicyRewards } from '../../src/policy/evaluate.js';
import { featureTensors, initPolicy, networkConfig, type PolicyParams } from '../../src/policy/network.js';
import {
  ADAM,
  type EpochLog,
  type GradientEstimator,
  MICRO_BATCH,
  policyLoss,
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
    disposeTree(state.params);
    disposeTree(state.opt);
  });
}

test('training is reproducible for a seed', async () => {
  const options = { ...fast, epochs: 2, gradient: 'reinforce' as const, baseline: 'mean' as const };
  const run = () => trainPolicy({ data, split, reward: SYNTHETIC_REWARD, network, options });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(withoutTimes(a.history), withoutTimes(b.history));
  assert.deepEqual(toHost(a.params), toHost(b.params));
  for (const s of [a, b]) {
    disposeTree(s.params);
    disposeTree(s.opt);
  }
});

test("REINFORCE's gradient is an unbiased estimate of the exact one", async () => {
  await initEngine();
  // One prompt repeated B times with stratified uniforms: the sampled actions follow π up to
  // O(1/B), so REINFORCE's gradient must match the exact expectation's.
  const b = 500;
  const row = split.train[0];
  const x = gatherBatch(data, new Array(b).fill(row));
  const rewards = gatherRewards(table, actions, new Array(b).fill(row));
  const uniforms = Float32Array.from({ length: b }, (_, i) => (i + 0.5) / b);
  const params = initPolicy(network, 2);
  // A non-uniform policy whose output layer passes gradient back (it starts at zero).
  params.head.w2.dispose();
  params.head.w2 = normal(new Rng(3), [network.width, actions], 0.3);
  const gradient = (estimator: GradientEstimator) => {
    const { features, mask } = featureTensors(network, x);
    const options = { ...fast, gradient: estimator };
    const step = jit((p: PolicyParams, f: Tensor, m: Tensor, r: Tensor, u: Tensor) =>
      valueAndGrad((q: PolicyParams) => policyLoss(network, options, q, f, m, r, u), { hasAux: true })(p),
    );
    const [[value, sampled], grads] = step(
      refTree(params),
      features,
      mask,
      tensor(rewards, [b, actions]),
      np.array(uniforms),
    );
    step.dispose();
    value.dispose();
    sampled.dispose();
    const host = toHost(grads);
    disposeTree(grads);
    return host;
  };
  const exact = gradient('exact');
  const reinforce = gradient('reinforce');
  for (const name of ['head.b2', 'head.w2', 'input.w']) {
    const [e, r] = [exact.get(name)!.data, reinforce.get(name)!.data];
    const scale = Math.max(...e.map(Math.abs));
    assert.ok(scale > 0, name);
    for (let i = 0; i < e.length; i++)
      assert.ok(Math.abs(e[i] - r[i]) < 0.01 * scale, `${name}[${i}]: ${e[i]} vs ${r[i]}`);
  }
  disposeTree(params);
});

test('a batch larger than MICRO_BATCH takes the whole batch’s gradient in one Adam step', async () => {
  await initEngine();
  const rows = split.train.slice(0, MICRO_BATCH + 40);
  const options: TrainOptions = { ...fast, epochs: 1, batchSize: rows.length, gradient: 'exact' };
  const state = await trainPolicy({
    data,
    split: { ...split, train: rows },
    reward: SYNTHETIC_REWARD,
    network,
    options,
  });
  assert.equal(state.step, 1);
  // The same step by hand: the full batch's exact-gradient loss, then AdamW.
  const params = initPolicy(network, options.seed);
  const { features, mask } = featureTensors(network, gatherBatch(data, rows));
  const [[loss, sampled], grads] = valueAndGrad(
    (q: PolicyParams) =>
      policyLoss(
        network,
        options,
        q,
        features,
        mask,
        tensor(gatherRewards(table, actions, rows), [rows.length, actions]),
        np.zeros([rows.length]),
      ),
    { hasAux: true },
  )(refTree(params));
  loss.dispose();
  sampled.dispose();
  const opt = { m: zerosLike(params), v: zerosLike(params) };
  const update = jit((p: PolicyParams, g: PolicyParams, o: AdamState, lr: Tensor, step: Tensor) =>
    adamw(ADAM, p, g, o, lr, step),
  );
  const expected = toHost(update(params, grads, opt, np.array(options.learningRate), np.array(1)).params);
  update.dispose();
  const actual = toHost(state.params);
  for (const [name, e] of expected) {
    const a = actual.get(name)!.data;
    const scale = Math.max(1e-6, ...e.data.map(Math.abs));
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i] - e.data[i]) < 1e-5 * scale, `${name}[${i}]: ${a[i]} vs ${e.data[i]}`);
  }
  disposeTree(state.params);
});
