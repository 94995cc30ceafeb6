/**
 * Fréchet Inception Distance (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to
 * two sets of network features,
 *   ‖μ₁ - μ₂‖² + Tr(Σ₁ + Σ₂ - 2 (Σ₁Σ₂)^½).
 *
 * pytorch-fid takes scipy's general sqrtm of the non-symmetric Σ₁Σ₂, drops the imaginary rounding
 * noise, and retries with Σ + 1e-6·I when the result is not finite. Here the trace comes from the
 * symmetric form instead: Σ₁Σ₂ is similar to Σ₁^½ Σ₂ Σ₁^½, which is symmetric PSD, so
 * Tr((Σ₁Σ₂)^½) = Σ √λᵢ(Σ₁^½ Σ₂ Σ₁^½). That needs only symmetric eigendecompositions, has no complex
 * part to drop, and stays exact for singular covariances (fewer samples than dimensions), so the
 * ε·I retry has no case to handle.
 */
import { type GaussianStats, gaussianStats } from './gaussian-stats.js';
import { symmetricEigen } from './linalg.js';

/**
 * Tr((AB)^½) for symmetric PSD A and B (n x n, row-major). With A = Σ λᵢ vᵢvᵢᵀ the eigenvalues of
 * A^½ B A^½ are those of C = (√λᵢλⱼ vᵢᵀ B vⱼ)ᵢⱼ over the positive λ, so A^½ is never formed and a
 * rank-r A costs an r x r problem. Negative eigenvalues can only be rounding error and count as 0.
 */
export function traceSqrtProduct(a: Float64Array, b: Float64Array, n: number): number {
  const { values, vectors } = symmetricEigen(a, n);
  const kept = Array.from(values.keys()).filter((i) => values[i] > 0);
  const r = kept.length;
  if (r === 0) return 0;
  // t[i] = B vᵢ (B is symmetric, so row by row).
  const t = new Float64Array(r * n);
  kept.forEach((src, i) => {
    const v = src * n;
    const out = i * n;
    for (let m = 0; m < n; m++) {
      const c = vectors![v + m];
      const row = m * n;
      for (let k = 0; k < n; k++) t[out + k] += c * b[row + k];
    }
  });
  const c = new Float64Array(r * r);
  const scale = kept.map((i) => Math.sqrt(values[i]));
  for (let i = 0; i < r; i++) {
    for (let j = i; j < r; j++) {
      const v = kept[j] * n;
      let dot = 0;
      for (let k = 0; k < n; k++) dot += t[i * n + k] * vectors![v + k];
      c[i * r + j] = scale[i] * scale[j] * dot;
      c[j * r + i] = c[i * r + j];
    }
  }
  let trace = 0;
  for (const mu of symmetricEigen(c, r, { vectors: false }).values) trace += Math.sqrt(Math.max(mu, 0));
  return trace;
}

/** The Fréchet distance between two fitted Gaussians. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) throw new Error(`feature dims differ: ${a.dim} vs ${b.dim}`);
  const n = a.dim;
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < n; i++) {
    meanTerm += (a.mean[i] - b.mean[i]) ** 2;
    traces += a.cov[i * n + i] + b.cov[i * n + i];
  }
  return meanTerm + traces - 2 * traceSqrtProduct(a.cov, b.cov, n);
}

/** FID between two feature sets (one vector per image, e.g. Inception-v3's 2048-d pool features). */
export function fid(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  return frechetDistance(gaussianStats(a), gaussianStats(b));
}
