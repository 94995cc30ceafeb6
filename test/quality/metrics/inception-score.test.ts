import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inceptionScore, softmax } from '../../../src/quality/metrics/inception-score.js';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs ${expected}`);

const oneHot = (k: number, classes: number) =>
  Float64Array.from({ length: classes }, (_, i) => (i === k ? 1 : 0));

test('uniform predictions score 1 in every split', () => {
  const probs = Array.from({ length: 50 }, () => new Float64Array(10).fill(0.1));
  const is = inceptionScore(probs);
  close(is.mean, 1, 'mean');
  close(is.std, 0, 'std');
  assert.equal(is.scores.length, 10);
});

test('confident predictions spread evenly over K classes score K', () => {
  // 40 rows cycling through 4 classes: each of the 10 splits of 4 rows holds every class once.
  const is = inceptionScore(Array.from({ length: 40 }, (_, i) => oneHot(i % 4, 7)));
  close(is.mean, 4, 'mean');
  close(is.std, 0, 'std');
});

test('a small example by hand: (4/3)^(3/4)', () => {
  // p(y) = (3/4, 1/4); KL of (1/2, 1/2) is ½·ln(4/3), of (1, 0) is ln(4/3): mean ¾·ln(4/3).
  const is = inceptionScore([Float64Array.of(0.5, 0.5), Float64Array.of(1, 0)], { splits: 1 });
  close(is.mean, (4 / 3) ** 0.75, 'mean');
  close(is.std, 0, 'std');
});

test("splits are the original's consecutive parts ⌊iN/s⌋ .. ⌊(i+1)N/s⌋; std is the population std", () => {
  // N = 10, s = 3: rows 0-2 (one class: 1), 3-5 (three classes: 3), 6-9 (two classes, evenly: 2).
  const classes = [0, 0, 0, 0, 1, 2, 0, 1, 0, 1];
  const is = inceptionScore(
    classes.map((k) => oneHot(k, 3)),
    { splits: 3 },
  );
  assert.ok(
    is.scores.every((s, i) => Math.abs(s - [1, 3, 2][i]) < 1e-12),
    `${is.scores}`,
  );
  close(is.mean, 2, 'mean');
  close(is.std, Math.sqrt(2 / 3), 'std');
});

test('softmax: probabilities from logits, stable for large logits', () => {
  const p = softmax([0, Math.log(3)]);
  close(p[0], 0.25, 'p0');
  close(p[1], 0.75, 'p1');
  assert.deepEqual([...softmax([1000, 1000])], [0.5, 0.5]);
  const is = inceptionScore([softmax([2, 0, 0]), softmax([0, 2, 0]), softmax([0, 0, 2])], { splits: 1 });
  assert.ok(is.mean > 1 && is.mean < 3, `${is.mean}`);
});

test('logits, ragged rows and too few predictions are refused', () => {
  assert.throws(() => inceptionScore([Float64Array.of(2, -1)], { splits: 1 }), /not a probability vector/);
  assert.throws(() => inceptionScore([Float64Array.of(0.2, 0.2)], { splits: 1 }), /sums to/);
  assert.throws(
    () => inceptionScore([Float64Array.of(0.5, 0.5), Float64Array.of(1)], { splits: 1 }),
    /1 classes, expected 2/,
  );
  assert.throws(() => inceptionScore([Float64Array.of(1, 0)]), /cannot make 10 splits/);
  assert.throws(() => inceptionScore([Float64Array.of(1, 0)], { splits: 0 }), /positive integer/);
});
