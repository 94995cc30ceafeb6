import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkDataset,
  dataHash,
  gatherBatch,
  type PolicyDataset,
  rewardTable,
  splitByPrompt,
} from '../../src/policy/dataset.js';
import { rewards } from '../../src/policy/reward.js';
import { SYNTHETIC_REWARD, syntheticDataset } from './synthetic.js';

test('the split is deterministic, disjoint by prompt id, and roughly 80/10/10', () => {
  const base = syntheticDataset(2000, 3, 5, 1);
  // Every id twice: rows of the same prompt must land in the same set.
  const data: PolicyDataset = { ...base, promptIds: base.promptIds.map((id) => Math.floor(id / 2)) };
  const split = splitByPrompt(data);
  assert.deepEqual(splitByPrompt(data), split);
  const rows = [...split.train, ...split.val, ...split.test].sort((a, b) => a - b);
  assert.deepEqual(
    rows,
    Array.from({ length: data.dims.n }, (_, i) => i),
  );
  const ids = (set: number[]) => new Set(set.map((r) => data.promptIds[r]));
  const [train, val, test] = [ids(split.train), ids(split.val), ids(split.test)];
  for (const id of val) assert.ok(!train.has(id) && !test.has(id));
  for (const id of test) assert.ok(!train.has(id));
  assert.ok(Math.abs(split.val.length / data.dims.n - 0.1) < 0.03);
  assert.ok(Math.abs(split.test.length / data.dims.n - 0.1) < 0.03);
  assert.notDeepEqual(splitByPrompt(data, { seed: 7 }), split);
});

test('a prompt keeps its set when the data grow', () => {
  const small = syntheticDataset(300, 3, 5, 1);
  const big = syntheticDataset(600, 3, 5, 1);
  const setOf = (ds: PolicyDataset) => {
    const s = splitByPrompt(ds);
    const out = new Map<number, string>();
    for (const name of ['train', 'val', 'test'] as const)
      for (const r of s[name]) out.set(ds.promptIds[r], name);
    return out;
  };
  const a = setOf(small);
  const b = setOf(big);
  for (const [id, set] of a) assert.equal(b.get(id), set);
});

test('the data hash changes with any score, feature, mask bit or id', () => {
  const data = syntheticDataset(20, 4, 5, 1);
  const h = dataHash(data);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(dataHash(syntheticDataset(20, 4, 5, 1)), h);
  const scores = data.scores.slice();
  scores[7] += 1e-3;
  const features = data.features.slice();
  features[11] += 1e-3;
  const mask = data.mask.slice();
  mask[5] ^= 1;
  const promptIds = [...data.promptIds];
  promptIds[3] = 99;
  for (const change of [{ scores }, { features }, { mask }, { promptIds }]) {
    assert.notEqual(dataHash({ ...data, ...change }), h);
  }
});

test('checkDataset names the array whose size does not match the dims', () => {
  const data = syntheticDataset(5, 4, 5, 1);
  checkDataset(data);
  assert.throws(() => checkDataset({ ...data, scores: data.scores.subarray(1) }), /scores has 24 values/);
  assert.throws(() => checkDataset({ ...data, mask: data.mask.map(() => 2) }), /mask values/);
});

test('batches and rewards are gathered row by row', () => {
  const data = syntheticDataset(6, 4, 5, 1);
  const b = gatherBatch(data, [4, 1]);
  assert.equal(b.batch, 2);
  assert.deepEqual(b.features.subarray(0, 20), data.features.subarray(80, 100));
  assert.deepEqual(b.mask.subarray(4, 8), data.mask.subarray(4, 8));
  const table = rewardTable(data, SYNTHETIC_REWARD);
  const row2 = rewards([...data.scores.subarray(10, 15)], SYNTHETIC_REWARD);
  assert.deepEqual([...table.subarray(10, 15)], row2.map(Math.fround));
});
