import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pinvSymmetric, sqrtmPsd, symmetricEigen } from '../../../src/quality/metrics/linalg.js';
import {
  diag,
  matmul,
  maxAbsDiff,
  randomSpd,
  randomSymmetric,
  transpose,
  withEigenvalues,
} from './matrices.js';

/** Vᵀ diag(λ) V from the decomposition (V's rows are the eigenvectors). */
function reconstruct(values: Float64Array, vectors: Float64Array, n: number): Float64Array {
  return matmul(matmul(transpose(vectors, n), diag([...values]), n), vectors, n);
}

test('eigenvalues of the second-difference matrix are 2 - 2cos(kπ/(n+1))', () => {
  const n = 9;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = 2;
    if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
  }
  const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
  const { values } = symmetricEigen(a, n);
  assert.ok(maxAbsDiff(values, expected) < 1e-14, `${values} vs ${expected}`);
});

test('random symmetric matrices: A = Vᵀ diag(λ) V, V orthonormal, ascending; vectors or not, same λ', () => {
  for (const [n, seed] of [
    [1, 1],
    [2, 2],
    [5, 3],
    [40, 4],
  ]) {
    const a = randomSymmetric(n, seed);
    const { values, vectors } = symmetricEigen(a, n);
    assert.ok(vectors);
    assert.ok(maxAbsDiff(reconstruct(values, vectors, n), a) < 1e-12 * n, `n=${n} reconstruction`);
    const gram = matmul(vectors, transpose(vectors, n), n);
    assert.ok(maxAbsDiff(gram, diag(Array.from({ length: n }, () => 1))) < 1e-13 * n, `n=${n} orthonormal`);
    for (let i = 1; i < n; i++) assert.ok(values[i - 1] <= values[i], 'ascending');
    const only = symmetricEigen(a, n, { vectors: false });
    assert.equal(only.vectors, undefined);
    assert.ok(maxAbsDiff(only.values, values) < 1e-12 * n, `n=${n} values without vectors`);
  }
});

test('repeated and zero eigenvalues are found', () => {
  const expected = [-2, 0, 0, 1, 1, 1, 5];
  const { values } = symmetricEigen(withEigenvalues(expected, 7), 7);
  assert.ok(maxAbsDiff(values, expected) < 1e-13, `${values}`);
  // Already diagonal (and all-zero) matrices take no rotation at all.
  assert.deepEqual([...symmetricEigen(diag([3, -1, 2]), 3).values], [-1, 2, 3]);
  assert.deepEqual([...symmetricEigen(new Float64Array(4), 2).values], [0, 0]);
});

test('sqrtmPsd: known roots, and S·S = A for random SPD matrices', () => {
  assert.ok(maxAbsDiff(sqrtmPsd(diag([4, 9, 0]), 3), diag([2, 3, 0])) < 1e-15);
  // [[2, 1], [1, 2]] has eigenvalues 1 and 3 along (1, -1) and (1, 1).
  const r3 = Math.sqrt(3);
  const root = sqrtmPsd(Float64Array.of(2, 1, 1, 2), 2);
  assert.ok(maxAbsDiff(root, [(1 + r3) / 2, (r3 - 1) / 2, (r3 - 1) / 2, (1 + r3) / 2]) < 1e-15, `${root}`);
  for (const [n, seed] of [
    [3, 10],
    [12, 11],
    [60, 12],
  ]) {
    const a = randomSpd(n, seed);
    const s = sqrtmPsd(a, n);
    assert.ok(maxAbsDiff(matmul(s, s, n), a) < 1e-12, `n=${n}: S·S vs A`);
    assert.ok(maxAbsDiff(s, transpose(s, n)) < 1e-14, `n=${n}: symmetric`);
    assert.ok(symmetricEigen(s, n).values[0] > 0, `n=${n}: positive definite`);
  }
});

test('sqrtmPsd of a singular PSD matrix: the root of v vᵀ is v vᵀ / ‖v‖', () => {
  const v = [1, -2, 2];
  const a = Float64Array.from({ length: 9 }, (_, i) => v[Math.floor(i / 3)] * v[i % 3]);
  assert.ok(
    maxAbsDiff(
      sqrtmPsd(a, 3),
      a.map((x) => x / 3),
    ) < 1e-14,
  );
});

test('pinvSymmetric: the inverse when invertible, the Moore-Penrose conditions when not', () => {
  const a = randomSpd(6, 20);
  assert.ok(maxAbsDiff(matmul(a, pinvSymmetric(a, 6), 6), diag([1, 1, 1, 1, 1, 1])) < 1e-12);
  const singular = withEigenvalues([0, 0, 0.5, -2, 3], 21);
  const p = pinvSymmetric(singular, 5);
  assert.ok(maxAbsDiff(matmul(matmul(singular, p, 5), singular, 5), singular) < 1e-13, 'A A⁺ A = A');
  assert.ok(maxAbsDiff(matmul(matmul(p, singular, 5), p, 5), p) < 1e-13, 'A⁺ A A⁺ = A⁺');
  assert.ok(maxAbsDiff(p, withEigenvalues([0, 0, 2, -0.5, 1 / 3], 21)) < 1e-13, 'inverted spectrum');
});

test("pinvSymmetric uses MATLAB pinv's tolerance n·eps(‖A‖)", () => {
  // n·eps(1) = 2 · 2⁻⁵² ≈ 4.4e-16: 1e-16 is dropped, 1e-14 is inverted.
  assert.deepEqual([...pinvSymmetric(diag([1, 1e-16]), 2)], [1, 0, 0, 0]);
  assert.ok(Math.abs(pinvSymmetric(diag([1, 1e-14]), 2)[3] - 1e14) < 1);
  assert.deepEqual([...pinvSymmetric(new Float64Array(4), 2)], [0, 0, 0, 0]);
});

test('bad input is refused', () => {
  assert.throws(() => symmetricEigen(new Float64Array(5), 2), /2 x 2|n = 2/);
  assert.throws(() => symmetricEigen(Float64Array.of(1, Number.NaN, Number.NaN, 1), 2), /non-finite/);
});
