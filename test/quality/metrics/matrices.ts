/** Seeded test matrices (n x n, row-major Float64Array) and the few products the tests check with. */
import { Rng } from '../../../src/util/random.js';

export function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const c = a[i * n + k];
      for (let j = 0; j < n; j++) out[i * n + j] += c * b[k * n + j];
    }
  return out;
}

export function transpose(a: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n * n }, (_, i) => a[(i % n) * n + Math.floor(i / n)]);
}

export function diag(values: readonly number[]): Float64Array {
  const n = values.length;
  const out = new Float64Array(n * n);
  values.forEach((v, i) => {
    out[i * n + i] = v;
  });
  return out;
}

export function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      a[i * n + j] = rng.normal();
      a[j * n + i] = a[i * n + j];
    }
  return a;
}

/** Q from Gram-Schmidt on Gaussian columns: a uniformly random rotation (or reflection). */
export function randomOrthogonal(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const cols: Float64Array[] = [];
  while (cols.length < n) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const c of cols) {
      const dot = c.reduce((s, x, k) => s + x * v[k], 0);
      for (let k = 0; k < n; k++) v[k] -= dot * c[k];
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Float64Array.from({ length: n * n }, (_, i) => cols[i % n][Math.floor(i / n)]);
}

/** Q diag(values) Qᵀ: a symmetric matrix with exactly these eigenvalues. */
export function withEigenvalues(values: readonly number[], seed: number): Float64Array {
  const n = values.length;
  const q = randomOrthogonal(n, seed);
  return matmul(matmul(q, diag(values), n), transpose(q, n), n);
}

/** A random symmetric positive definite matrix, eigenvalues spread over [0.1, 10]. */
export function randomSpd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed + 1000);
  return withEigenvalues(
    Array.from({ length: n }, () => 0.1 + 9.9 * rng.uniform()),
    seed,
  );
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
