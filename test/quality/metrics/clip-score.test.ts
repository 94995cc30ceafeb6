import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clipScore } from '../../../src/quality/metrics/clip-score.js';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs ${expected}`);

test('100 · cos per pair: parallel 100, 60° apart 50, orthogonal 0; lengths do not matter', () => {
  const s = clipScore(
    [Float64Array.of(1, 0, 0), Float64Array.of(2, 0, 0), Float64Array.of(0, 3, 0)],
    [Float64Array.of(5, 0, 0), Float64Array.of(0.5, Math.sqrt(3) / 2, 0), Float64Array.of(0, 0, 1)],
  );
  [100, 50, 0].forEach((v, i) => {
    close(s.perPair[i], v, `pair ${i}`);
  });
  close(s.score, 50, 'score');
  close(s.cosine, 0.5, 'cosine (AdaDiff scale)');
});

test("a negative cosine counts as 0 per pair; clamp 'mean' clamps the average as torchmetrics' code does", () => {
  // cos 0.8 and cos -0.2.
  const image = [Float64Array.of(1, 0), Float64Array.of(1, 0)];
  const text = [Float64Array.of(0.8, 0.6), Float64Array.of(-0.2, Math.sqrt(0.96))];
  const pair = clipScore(image, text);
  close(pair.perPair[1], -20, 'raw pair');
  close(pair.score, 40, 'per-pair clamp');
  close(clipScore(image, text, { clamp: 'mean' }).score, 30, 'mean clamp');
  // All negative: per pair 0, and a negative mean clamps to 0 too.
  const opposite = clipScore([Float64Array.of(1, 0)], [Float64Array.of(-1, 0)], { clamp: 'mean' });
  close(opposite.score, 0, 'opposite');
});

test('mismatched or degenerate embeddings are refused', () => {
  assert.throws(() => clipScore([Float64Array.of(1)], []), /1 image embeddings for 0/);
  assert.throws(() => clipScore([], []), /no embedding pairs/);
  assert.throws(
    () => clipScore([Float64Array.of(1, 0)], [Float64Array.of(1)]),
    /pair 0: image embedding has 2/,
  );
  assert.throws(() => clipScore([Float64Array.of(0, 0)], [Float64Array.of(1, 0)]), /zero or non-finite/);
});
