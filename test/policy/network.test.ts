import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countParams, disposeTree, initEngine, normal, np, refTree, toHost } from '../../src/engine/index.js';
import { PAPER_DEFAULTS } from '../../src/policy/config.js';
import { flopsPerPrompt, parameterCount } from '../../src/policy/flops.js';
import {
  featureTensors,
  forward,
  greedyActions,
  initPolicy,
  logSoftmax,
  networkConfig,
  type PolicyParams,
  policyProbabilities,
  selectSteps,
} from '../../src/policy/network.js';
import { Rng } from '../../src/util/random.js';

const cfg = networkConfig(6, 4, PAPER_DEFAULTS.steps.length, { width: 16, heads: 2, mlpRatio: 2 });

/** Fresh weights whose zero-initialised output layer is randomised, so logits depend on the input. */
function nonTrivialPolicy(seed: number): PolicyParams {
  const p = initPolicy(cfg, seed);
  p.head.w2.dispose();
  return { ...p, head: { ...p.head, w2: normal(new Rng(seed + 1), [cfg.width, cfg.actions], 1) } };
}

function batch(b: number, seed: number) {
  const rng = new Rng(seed);
  const features = rng.normalArray(b * cfg.tokens * cfg.featureDim);
  const mask = new Uint8Array(b * cfg.tokens);
  // Lengths 1..L, and one all-padding row, which must still give finite output.
  for (let i = 0; i < b - 1; i++) mask.fill(1, i * cfg.tokens, i * cfg.tokens + 1 + (i % cfg.tokens));
  return { features, mask, batch: b };
}

test('the policy is a distribution over S for every prompt, uniform at init', async () => {
  await initEngine();
  const p = initPolicy(cfg, 1);
  const probs = await policyProbabilities(cfg, p, batch(4, 2));
  assert.equal(probs.length, 4 * cfg.actions);
  for (const v of probs) assert.ok(Math.abs(v - 1 / cfg.actions) < 1e-6);
  disposeTree(p);
});

test('padded positions do not change the output, real tokens do', async () => {
  await initEngine();
  const p = nonTrivialPolicy(3);
  const x = batch(7, 4);
  const base = await policyProbabilities(cfg, p, x);
  for (const v of base) assert.ok(Number.isFinite(v));

  const rng = new Rng(5);
  const padded = x.features.slice();
  const real = x.features.slice();
  for (let pos = 0; pos < x.mask.length; pos++) {
    const at = pos * cfg.featureDim;
    if (x.mask[pos] === 0) for (let k = 0; k < cfg.featureDim; k++) padded[at + k] = 100 * rng.normal();
  }
  real[0] += 1; // prompt 0's first (real) token
  assert.deepEqual(await policyProbabilities(cfg, p, { ...x, features: padded }), base);
  const changed = await policyProbabilities(cfg, p, { ...x, features: real });
  assert.notDeepEqual(changed.subarray(0, cfg.actions), base.subarray(0, cfg.actions));
  assert.deepEqual(changed.subarray(cfg.actions), base.subarray(cfg.actions));
  disposeTree(p);
});

test('initialisation is reproducible for a seed and differs across seeds', async () => {
  await initEngine();
  const [a, b, c] = [initPolicy(cfg, 9), initPolicy(cfg, 9), initPolicy(cfg, 10)];
  assert.deepEqual(toHost(a), toHost(b));
  assert.notDeepEqual(toHost(a).get('blocks.0.attn.q'), toHost(c).get('blocks.0.attn.q'));
  for (const p of [a, b, c]) disposeTree(p);
});

test('greedy selection takes the most probable step count, ties toward fewer steps', () => {
  const probs = Float32Array.from([0.1, 0.5, 0.2, 0.1, 0.1, 0.3, 0.1, 0.1, 0.2, 0.3]);
  assert.deepEqual(greedyActions(probs, 5), [1, 0]);
  assert.deepEqual(selectSteps(probs, PAPER_DEFAULTS.steps), [20, 10]);
});

test('the analytic parameter count matches the weights; FLOPs match a hand count', async () => {
  await initEngine();
  const p = initPolicy(cfg, 1);
  assert.equal(parameterCount(cfg), countParams(p));
  disposeTree(p);
  // L 6, D 4, width 16, MLP 32, 3 layers, N 5; a multiply-add is 2 FLOPs.
  const input = 2 * 6 * 4 * 16;
  const projections = 3 * 4 * (2 * 6 * 16 * 16);
  const attention = 3 * 2 * (2 * 6 * 6 * 16);
  const mlp = 3 * 2 * (2 * 6 * 16 * 32);
  const head = 2 * 16 * 16 + 2 * 16 * 5;
  assert.deepEqual(flopsPerPrompt(cfg), { input, projections, attention, mlp, head, total: 82080 });
});

test('cutting off padding no prompt uses leaves the output unchanged', async () => {
  await initEngine();
  const long = networkConfig(40, 4, PAPER_DEFAULTS.steps.length, { width: 16, heads: 2, mlpRatio: 2 });
  const p = initPolicy(long, 6);
  p.head.w2.dispose();
  p.head.w2 = normal(new Rng(7), [long.width, long.actions], 1);
  const rng = new Rng(8);
  const b = 3;
  const features = rng.normalArray(b * long.tokens * long.featureDim);
  const mask = new Uint8Array(b * long.tokens);
  for (const [i, len] of [3, 9, 5].entries()) mask.fill(1, i * long.tokens, i * long.tokens + len);
  const x = { features, mask, batch: b };
  // featureTensors keeps 16 of the 40 positions here; the full-length forward pass is the reference.
  const { features: f, mask: m } = featureTensors(long, x);
  assert.deepEqual(f.shape, [b, 16, long.featureDim]);
  f.dispose();
  m.dispose();
  const full = await np
    .exp(
      logSoftmax(
        forward(
          long,
          refTree(p),
          np.array(features).reshape([b, long.tokens, long.featureDim]),
          np.array(Float32Array.from(mask)).reshape([b, long.tokens]),
        ),
      ),
    )
    .data();
  const trimmed = await policyProbabilities(long, p, x);
  for (const [i, v] of (full as Float32Array).entries())
    assert.ok(Math.abs(v - trimmed[i]) < 1e-6, `${v} vs ${trimmed[i]}`);
  disposeTree(p);
});
