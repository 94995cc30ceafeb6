/** Shared statistics: means, spreads, rank correlation and seeded percentile bootstrap intervals. */
import { Rng } from './random.js';

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Population standard deviation. */
export const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

/** 1-based ranks, ties given the mean of the ranks they span. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rho: Pearson correlation of the (tie-averaged) ranks; NaN when either side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const [ra, rb] = [ranks(a), ranks(b)];
  const [ma, mb] = [mean(ra), mean(rb)];
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

export interface BootstrapOptions {
  resamples: number;
  /** Coverage of the interval, e.g. 0.95. */
  level: number;
  seed: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { resamples: 2000, level: 0.95, seed: 1 };

export interface BootstrapInterval {
  /** The statistic on the data as observed. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  resamples: number;
}

/**
 * Percentile bootstrap interval of a statistic of n units (prompts): the units are resampled with
 * replacement and `statistic` is given the drawn indices. Resamples on which the statistic is not
 * finite (a rank correlation of a constant draw) are left out. Seeded, so a rerun gives the same
 * interval.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: readonly number[]) => number,
  opts: BootstrapOptions = DEFAULT_BOOTSTRAP,
): BootstrapInterval {
  if (n === 0) throw new Error('bootstrap: no data');
  const rng = new Rng(opts.seed);
  const values: number[] = [];
  const draw = new Array<number>(n);
  for (let r = 0; r < opts.resamples; r++) {
    for (let i = 0; i < n; i++) draw[i] = rng.int(n);
    const v = statistic(draw);
    if (Number.isFinite(v)) values.push(v);
  }
  const sorted = Float64Array.from(values).sort();
  // Nearest-rank percentiles of the resampled statistics.
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const tail = (1 - opts.level) / 2;
  return {
    estimate: statistic(Array.from({ length: n }, (_, i) => i)),
    lower: sorted.length ? at(tail) : Number.NaN,
    upper: sorted.length ? at(1 - tail) : Number.NaN,
    level: opts.level,
    resamples: opts.resamples,
  };
}

/**
 * Interval for the mean paired difference a[i] - b[i]: pairs (prompts) are resampled, so the
 * interval reflects which prompts happened to be evaluated while each prompt's two images keep
 * their shared seed.
 */
export function bootstrapMeanDifference(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = DEFAULT_BOOTSTRAP,
): BootstrapInterval {
  if (a.length !== b.length) throw new Error(`bootstrap: ${a.length} values paired with ${b.length}`);
  if (a.length === 0) throw new Error('bootstrap: no pairs');
  const diff = a.map((x, i) => x - b[i]);
  return bootstrapInterval(diff.length, (idx) => mean(idx.map((i) => diff[i])), opts);
}
