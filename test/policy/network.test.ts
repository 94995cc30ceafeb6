import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../../src/graph/graph.js';
import { logSoftmax } from '../../src/graph/layers.js';
import { countWeights } from '../../src/graph/params.js';
import { floatFeed, runGraph } from '../../src/graph/session.js';
import { PAPER_DEFAULTS } from '../../src/policy/config.js';
import { flopsPerPrompt, parameterCount } from '../../src/policy/flops.js';
import {
  type FeatureBatch,
  greedyActions,
  initPolicy,
  type NetworkConfig,
  networkConfig,
  type PolicyParams,
  PolicyRunner,
  policyLogits,
  policyOnnx,
  policySpecs,
  selectSteps,
} from '../../src/policy/network.js';
import { Rng } from '../../src/util/random.js';
import { gradCheck } from '../graph/gradcheck.js';

const cfg = networkConfig(6, 4, PAPER_DEFAULTS.steps.length, { width: 16, heads: 2, mlpRatio: 2 });

/** Fresh weights whose zero-initialised output layer is randomised, so logits depend on the input. */
function nonTrivialPolicy(network: NetworkConfig, seed: number): PolicyParams {
  const p = initPolicy(network, seed);
  p.set('head.w2', {
    shape: [network.width, network.actions],
    data: new Rng(seed + 1).normalArray(network.width * network.actions),
  });
  return p;
}

function batch(b: number, seed: number): FeatureBatch {
  const rng = new Rng(seed);
  const features = rng.normalArray(b * cfg.tokens * cfg.featureDim);
  const mask = new Uint8Array(b * cfg.tokens);
  // Lengths 1..L, and one all-padding row, which must still give finite output.
  for (let i = 0; i < b - 1; i++) mask.fill(1, i * cfg.tokens, i * cfg.tokens + 1 + (i % cfg.tokens));
  return { features, mask, batch: b };
}

test('the policy is a distribution over S for every prompt, uniform at init', async () => {
  const runner = await PolicyRunner.withWeightInputs(cfg);
  const probs = await runner.probabilities(batch(4, 2), initPolicy(cfg, 1));
  assert.equal(probs.length, 4 * cfg.actions);
  for (const v of probs) assert.ok(Math.abs(v - 1 / cfg.actions) < 1e-6);
  await runner.release();
});

test('padded positions do not change the output, real tokens do', async () => {
  const p = nonTrivialPolicy(cfg, 3);
  const runner = await PolicyRunner.fromOnnx(cfg, policyOnnx(cfg, p));
  const x = batch(7, 4);
  const base = await runner.probabilities(x);
  for (const v of base) assert.ok(Number.isFinite(v));

  const rng = new Rng(5);
  const padded = x.features.slice();
  const real = x.features.slice();
  for (let pos = 0; pos < x.mask.length; pos++) {
    const at = pos * cfg.featureDim;
    if (x.mask[pos] === 0) for (let k = 0; k < cfg.featureDim; k++) padded[at + k] = 100 * rng.normal();
  }
  real[0] += 1; // prompt 0's first (real) token
  assert.deepEqual(await runner.probabilities({ ...x, features: padded }), base);
  const changed = await runner.probabilities({ ...x, features: real });
  assert.notDeepEqual(changed.subarray(0, cfg.actions), base.subarray(0, cfg.actions));
  assert.deepEqual(changed.subarray(cfg.actions), base.subarray(cfg.actions));
  await runner.release();
});

test('initialisation is reproducible for a seed and differs across seeds', () => {
  const [a, b, c] = [initPolicy(cfg, 9), initPolicy(cfg, 9), initPolicy(cfg, 10)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.get('blocks.0.attn.q'), c.get('blocks.0.attn.q'));
  // The checkpoints' names.
  assert.deepEqual(
    [...a.keys()].filter((k) => !k.startsWith('blocks.') || k.startsWith('blocks.0.')),
    [
      ...['input.w', 'input.b', 'pos', 'blocks.0.ln1.scale', 'blocks.0.ln1.bias'],
      ...['q', 'k', 'v', 'o', 'oBias'].map((k) => `blocks.0.attn.${k}`),
      ...['blocks.0.ln2.scale', 'blocks.0.ln2.bias'],
      ...['w1', 'b1', 'w2', 'b2'].map((k) => `blocks.0.mlp.${k}`),
      ...['lnOut.scale', 'lnOut.bias', 'head.w1', 'head.b1', 'head.w2', 'head.b2'],
    ],
  );
});

test('greedy selection takes the most probable step count, ties toward fewer steps', () => {
  const probs = Float32Array.from([0.1, 0.5, 0.2, 0.1, 0.1, 0.3, 0.1, 0.1, 0.2, 0.3]);
  assert.deepEqual(greedyActions(probs, 5), [1, 0]);
  assert.deepEqual(selectSteps(probs, PAPER_DEFAULTS.steps), [20, 10]);
});

test('the analytic parameter count matches the weights; FLOPs match a hand count', () => {
  assert.equal(parameterCount(cfg), countWeights(initPolicy(cfg, 1)));
  // L 6, D 4, width 16, MLP 32, 3 layers, N 5; a multiply-add is 2 FLOPs.
  const input = 2 * 6 * 4 * 16;
  const projections = 3 * 4 * (2 * 6 * 16 * 16);
  const attention = 3 * 2 * (2 * 6 * 6 * 16);
  const mlp = 3 * 2 * (2 * 6 * 16 * 32);
  const head = 2 * 16 * 16 + 2 * 16 * 5;
  assert.deepEqual(flopsPerPrompt(cfg), { input, projections, attention, mlp, head, total: 82080 });
});

test('cutting off padding no prompt uses leaves the output unchanged', async () => {
  const long = networkConfig(40, 4, PAPER_DEFAULTS.steps.length, { width: 16, heads: 2, mlpRatio: 2 });
  const p = nonTrivialPolicy(long, 6);
  const rng = new Rng(8);
  const b = 3;
  const features = rng.normalArray(b * long.tokens * long.featureDim);
  const mask = new Uint8Array(b * long.tokens);
  for (const [i, len] of [3, 9, 5].entries()) mask.fill(1, i * long.tokens, i * long.tokens + len);
  // The reference: a static graph over all 40 positions. The runner keeps 9.
  const g = new Graph('full');
  const f = g.input('features', 'float32', [b, long.tokens, long.featureDim]);
  const m = g.input('mask', 'float32', [b, long.tokens]);
  const probs = policyLogits(g, long, f, m).softmax(-1);
  const full = await runGraph(
    g,
    { probs },
    {
      features: floatFeed(features, [b, long.tokens, long.featureDim]),
      mask: floatFeed(Float32Array.from(mask), [b, long.tokens]),
    },
    p,
  );
  const runner = await PolicyRunner.fromOnnx(long, policyOnnx(long, p));
  const trimmed = await runner.probabilities({ features, mask, batch: b });
  for (const [i, v] of full.probs.data.entries())
    assert.ok(Math.abs(v - trimmed[i]) < 1e-6, `${v} vs ${trimmed[i]}`);
  await runner.release();
});

test('the gradient of the whole network (π through the log-softmax) matches finite differences', async () => {
  const rng = new Rng(11);
  const small = networkConfig(5, 4, 3, { width: 8, heads: 2, layers: 2, mlpRatio: 2 });
  const b = 3;
  const mask = new Float32Array(b * small.tokens);
  for (const [i, len] of [5, 2, 0].entries()) mask.fill(1, i * small.tokens, i * small.tokens + len);
  const values = Object.fromEntries(
    policySpecs(small).map((s) => [
      s.name,
      rng.normalArray(s.shape.reduce((x, y) => x * y, 1)).map((v) => 0.5 * v),
    ]),
  );
  await gradCheck(
    'policy',
    (g) => {
      const features = g.constant(rng.normalArray(b * small.tokens * small.featureDim), [b, small.tokens, 4]);
      return logSoftmax(g, policyLogits(g, small, features, g.constant(mask, [b, small.tokens]))).exp();
    },
    { values, coords: 4 },
  );
});
