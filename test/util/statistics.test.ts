import assert from 'node:assert/strict';
import test from 'node:test';
import { Rng } from '../../src/util/random.js';
import { bootstrapInterval, bootstrapMeanDifference, mean, sd, spearman } from '../../src/util/statistics.js';

test('spearman is the correlation of tie-averaged ranks', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [9, 1, 0, -5]), -1);
  // Ranks of [1, 1, 2] are [1.5, 1.5, 3]; of [3, 1, 2] they are [3, 1, 2]: Pearson of those.
  const [ra, rb] = [
    [1.5, 1.5, 3],
    [3, 1, 2],
  ];
  const [ma, mb] = [mean(ra), mean(rb)];
  const pearson = ra.reduce((s, x, i) => s + (x - ma) * (rb[i] - mb), 0) / (sd(ra) * sd(rb) * ra.length);
  assert.ok(Math.abs(spearman([1, 1, 2], [3, 1, 2]) - pearson) < 1e-12);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])), 'a constant side has no rank correlation');
});

test('the bootstrap interval of a mean covers it with about the normal width', () => {
  const rng = new Rng(7);
  const xs = Array.from({ length: 400 }, () => 2 + rng.normal());
  const ci = bootstrapInterval(xs.length, (idx) => mean(idx.map((i) => xs[i])));
  assert.equal(ci.estimate, mean(xs));
  assert.ok(ci.lower < ci.estimate && ci.estimate < ci.upper);
  const normalWidth = (2 * 1.96 * sd(xs)) / Math.sqrt(xs.length);
  const width = ci.upper - ci.lower;
  assert.ok(Math.abs(width / normalWidth - 1) < 0.15, `width ${width} against ${normalWidth}`);
  assert.deepEqual(
    bootstrapInterval(xs.length, (idx) => mean(idx.map((i) => xs[i]))),
    ci,
    'seeded: the same interval again',
  );
});

test('resamples where the statistic is undefined are left out', () => {
  // Two units, one of each value: a resample drawing the same unit twice has no correlation.
  const a = [0, 1];
  const ci = bootstrapInterval(2, (idx) =>
    spearman(
      idx.map((i) => a[i]),
      idx.map((i) => a[i]),
    ),
  );
  assert.deepEqual([ci.estimate, ci.lower, ci.upper], [1, 1, 1]);
});

test('the paired difference interval is the interval of the mean difference', () => {
  const a = [1, 2, 3, 4, 5, 6];
  const b = a.map((x) => x - 0.5);
  const ci = bootstrapMeanDifference(a, b);
  assert.deepEqual([ci.estimate, ci.lower, ci.upper], [0.5, 0.5, 0.5]);
  assert.throws(() => bootstrapMeanDifference(a, b.slice(1)), /6 values paired with 5/);
});
