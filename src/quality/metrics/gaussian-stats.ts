/**
 * The Gaussian fitted to a set of feature vectors: mean and unbiased (N - 1) covariance, as numpy's
 * np.cov(rowvar=False) gives pytorch-fid. Accumulated one vector at a time (Welford's update, in
 * float64) so that tens of thousands of 2048-d Inception features need not be held at once, with the
 * accuracy of numpy's two-pass computation.
 */

export interface GaussianStats {
  dim: number;
  /** How many vectors were fitted. */
  count: number;
  mean: Float64Array;
  /** dim x dim, row-major. */
  cov: Float64Array;
}

export class GaussianAccumulator {
  private n = 0;
  private readonly mean: Float64Array;
  /** Upper triangle of the sum of outer products of deviations from the mean. */
  private readonly m2: Float64Array;
  private readonly delta: Float64Array;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new Error(`feature dim must be a positive integer, got ${dim}`);
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
    this.delta = new Float64Array(dim);
  }

  get count(): number {
    return this.n;
  }

  add(x: ArrayLike<number>): void {
    const { dim, mean, m2, delta } = this;
    if (x.length !== dim) throw new Error(`feature vector has ${x.length} values, expected ${dim}`);
    for (let i = 0; i < dim; i++) {
      if (!Number.isFinite(x[i])) throw new Error(`feature vector ${this.n} has a non-finite value`);
    }
    const n = ++this.n;
    for (let i = 0; i < dim; i++) {
      delta[i] = x[i] - mean[i];
      mean[i] += delta[i] / n;
    }
    // (x - mean_old)(x - mean_new)ᵀ = (n - 1)/n · δδᵀ
    const k = (n - 1) / n;
    for (let i = 0; i < dim; i++) {
      const di = delta[i] * k;
      const row = i * dim;
      for (let j = i; j < dim; j++) m2[row + j] += di * delta[j];
    }
  }

  stats(): GaussianStats {
    const { dim, n } = this;
    if (n < 2) throw new Error(`a covariance needs at least 2 feature vectors, got ${n}`);
    const cov = new Float64Array(dim * dim);
    for (let i = 0; i < dim; i++) {
      for (let j = i; j < dim; j++) {
        const v = this.m2[i * dim + j] / (n - 1);
        cov[i * dim + j] = v;
        cov[j * dim + i] = v;
      }
    }
    return { dim, count: n, mean: Float64Array.from(this.mean), cov };
  }
}

export function gaussianStats(features: readonly ArrayLike<number>[]): GaussianStats {
  if (features.length === 0) throw new Error('no feature vectors');
  const acc = new GaussianAccumulator(features[0].length);
  for (const x of features) acc.add(x);
  return acc.stats();
}
