import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyGuidance } from '../../src/pipelines/guidance.js';
import { initialLatents } from '../../src/pipelines/latents.js';

test('applyGuidance computes uncond + s * (cond - uncond) on the conditional half', () => {
  const batched = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]);
  assert.deepEqual([...applyGuidance(batched, 2, 1)], [10, 20, 30, 40]);
  assert.deepEqual([...applyGuidance(batched, 2, 0)], [1, 2, 3, 4]);
  assert.deepEqual([...applyGuidance(batched, 2, 2)], [19, 38, 57, 76]);
  assert.throws(() => applyGuidance(Float32Array.from([1, 2, 3]), 1, 2), /halves/);
});

test('initialLatents depend only on each image seed, not on its batch', () => {
  const alone = initialLatents([7], 16);
  const batch = initialLatents([3, 7, 9], 16);
  assert.deepEqual(batch.subarray(16, 32), alone);
  assert.notDeepEqual(batch.subarray(0, 16), alone);
  const sigma = initialLatents([7], 16, 2);
  assert.ok(sigma.every((v, i) => Math.abs(v - 2 * alone[i]) < 1e-6));
});
