import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fid, frechetDistance, traceSqrtProduct } from '../../../src/quality/metrics/fid.js';
import {
  GaussianAccumulator,
  type GaussianStats,
  gaussianStats,
} from '../../../src/quality/metrics/gaussian-stats.js';
import { Rng } from '../../../src/util/random.js';
import { diag, matmul, maxAbsDiff, randomOrthogonal, randomSpd, transpose } from './matrices.js';

const stats = (mean: readonly number[], cov: Float64Array): GaussianStats => ({
  dim: mean.length,
  count: 2,
  mean: Float64Array.from(mean),
  cov,
});

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

/** The example the scipy reference below was computed on. */
const MU1 = [0.5, -1, 2];
const S1 = Float64Array.of(2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 0.5);
const MU2 = [0, 0.25, 1];
const S2 = Float64Array.of(1, -0.5, 0.1, -0.5, 3, 0.7, 0.1, 0.7, 0.8);

test("matches pytorch-fid's calculate_frechet_distance (scipy 1.17.1 sqrtm) on a non-commuting pair", () => {
  // d·d + Tr(S1) + Tr(S2) - 2·Tr(sqrtm(S1 @ S2)).real, printed by Python with repr().
  close(frechetDistance(stats(MU1, S1), stats(MU2, S2)), 3.947983083483935, 1e-13, 'FID');
});

test('diagonal covariances: ‖Δμ‖² + Σ (√a - √b)²', () => {
  const a = stats([1, 2, 3], diag([1, 4, 9]));
  const b = stats([0, 0, 0], diag([4, 1, 16]));
  close(frechetDistance(a, b), 14 + 1 + 1 + 1, 1e-13, 'FID');
});

test('rotating both Gaussians by the same orthogonal matrix leaves the distance unchanged', () => {
  const q = randomOrthogonal(3, 5);
  const rotate = (s: GaussianStats): GaussianStats => ({
    ...s,
    mean: Float64Array.from(
      { length: 3 },
      (_, i) => q[i * 3] * s.mean[0] + q[i * 3 + 1] * s.mean[1] + q[i * 3 + 2] * s.mean[2],
    ),
    cov: matmul(matmul(q, s.cov, 3), transpose(q, 3), 3),
  });
  const a = stats([1, 2, 3], diag([1, 4, 9]));
  const b = stats([0, 0, 0], diag([4, 1, 16]));
  close(frechetDistance(rotate(a), rotate(b)), 17, 1e-12, 'rotated FID');
});

test('2x2 non-commuting covariances: Tr((S1 S2)^½) = √(Tr(S1 S2) + 2√(det S1 · det S2))', () => {
  const s1 = Float64Array.of(2, 1, 1, 1);
  const s2 = Float64Array.of(1, 0, 0, 3);
  // Tr(S1 S2) = 5, det S1 = 1, det S2 = 3.
  close(traceSqrtProduct(s1, s2, 2), Math.sqrt(5 + 2 * Math.sqrt(3)), 1e-14, 'trace');
  close(traceSqrtProduct(s2, s1, 2), Math.sqrt(5 + 2 * Math.sqrt(3)), 1e-14, 'trace, swapped');
  close(
    frechetDistance(stats([0, 0], s1), stats([0, 0], s2)),
    7 - 2 * Math.sqrt(5 + 2 * Math.sqrt(3)),
    1e-14,
    'FID',
  );
});

test('Σ₂ = cΣ₁: the distance is (1 - √c)² Tr Σ₁, for a dense 30-d covariance', () => {
  const n = 30;
  const s1 = randomSpd(n, 7);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += s1[i * n + i];
  const zero = new Array<number>(n).fill(0);
  close(
    frechetDistance(
      stats(zero, s1),
      stats(
        zero,
        s1.map((v) => 4 * v),
      ),
    ),
    trace,
    1e-10,
    'c = 4',
  );
  close(frechetDistance(stats(zero, s1), stats(zero, s1)), 0, 1e-10, 'c = 1');
});

/** n draws from N(mean, cov) through a Cholesky factor. */
function sample(mean: readonly number[], cov: Float64Array, count: number, seed: number): Float64Array[] {
  const d = mean.length;
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = cov[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = i === j ? Math.sqrt(s) : s / l[j * d + j];
    }
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const z = Array.from({ length: d }, () => rng.normal());
    return Float64Array.from(mean, (m, i) => m + z.reduce((s, zk, k) => s + l[i * d + k] * zk, 0));
  });
}

test('feature sets: FID of a set with itself is 0, a shifted copy gives ‖shift‖²', () => {
  const x = sample(MU1, S1, 500, 1);
  close(fid(x, x), 0, 1e-12, 'self');
  const shift = [0.5, -2, 1];
  close(
    fid(
      x,
      x.map((v) => v.map((e, i) => e + shift[i])),
    ),
    0.25 + 4 + 1,
    1e-10,
    'shifted',
  );
});

test('fewer samples than dimensions (singular covariances) stay exact', () => {
  // 6 vectors in 10-d: rank-5 covariances, where scipy's sqrtm of Σ₁Σ₂ is ill-conditioned.
  const rng = new Rng(3);
  const x = Array.from({ length: 6 }, () => Float64Array.from({ length: 10 }, () => rng.normal()));
  close(fid(x, x), 0, 1e-12, 'self');
  const a = gaussianStats(x);
  let trace = 0;
  for (let i = 0; i < 10; i++) trace += a.cov[i * 10 + i];
  close(
    fid(
      x,
      x.map((v) => v.map((e) => 3 * e)),
    ),
    (1 - 3) ** 2 * trace + 4 * a.mean.reduce((s, m) => s + m * m, 0),
    1e-10,
    'scaled by 3',
  );
});

test('sample FID of two large samples approaches the closed form', () => {
  const exact = frechetDistance(stats(MU1, S1), stats(MU2, S2));
  const estimate = fid(sample(MU1, S1, 40000, 11), sample(MU2, S2, 40000, 12));
  close(estimate, exact, 0.05, 'sample FID');
});

test('gaussianStats: mean and unbiased (N - 1) covariance, as np.cov', () => {
  const s = gaussianStats([Float64Array.of(1, 2), Float64Array.of(3, 6), Float64Array.of(5, 7)]);
  assert.deepEqual([...s.mean], [3, 5]);
  assert.ok(maxAbsDiff(s.cov, [4, 5, 5, 7]) < 1e-15, `${s.cov}`);
  assert.equal(s.count, 3);
  // Welford's update keeps full precision far from the origin, where raw sums of squares would not.
  const far = gaussianStats([Float64Array.of(1e9 + 1), Float64Array.of(1e9 + 2), Float64Array.of(1e9 + 3)]);
  assert.equal(far.cov[0], 1);
});

test('the accumulator takes vectors one at a time; bad input is refused', () => {
  const acc = new GaussianAccumulator(3);
  assert.throws(() => acc.stats(), /at least 2/);
  acc.add([1, 2, 3]);
  assert.throws(() => acc.add([1, 2]), /expected 3/);
  assert.throws(() => acc.add([1, Number.NaN, 3]), /non-finite/);
  acc.add([2, 2, 5]);
  assert.deepEqual([...acc.stats().mean], [1.5, 2, 4]);
  assert.throws(() => frechetDistance(acc.stats(), stats([0, 0], diag([1, 1]))), /dims differ/);
});
