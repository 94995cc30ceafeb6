import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/util/random.js';

test('Rng is reproducible for a seed and differs across seeds', () => {
  const a = new Rng(42).normalArray(1000);
  const b = new Rng(42).normalArray(1000);
  const c = new Rng(43).normalArray(1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('Rng normals have mean 0 and variance 1', () => {
  const x = new Rng(7).normalArray(200_000);
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let v2 = 0;
  for (const v of x) v2 += (v - m) ** 2;
  v2 /= x.length;
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(v2 - 1) < 0.01, `variance ${v2}`);
});

test('Rng uniform stays in [0,1) and int in range', () => {
  const r = new Rng(1);
  for (let i = 0; i < 10000; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    const k = r.int(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
  }
});
