/** The report's statistics: means, spreads and a paired bootstrap interval. */
import { Rng } from '../util/random.js';

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Population standard deviation (as compare.ts reports the random policy's spread). */
export const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

export interface BootstrapOptions {
  resamples: number;
  /** Coverage of the interval, e.g. 0.95. */
  level: number;
  seed: number;
}

export interface BootstrapInterval {
  /** Observed mean of a[i] - b[i]. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  resamples: number;
}

/**
 * Percentile bootstrap interval for the mean paired difference a[i] - b[i]: prompts (pairs) are
 * resampled with replacement, so the interval reflects which prompts happened to be evaluated while
 * each prompt's two images keep their shared seed. Seeded, so a rerun gives the same interval.
 */
export function bootstrapMeanDifference(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions,
): BootstrapInterval {
  if (a.length !== b.length) throw new Error(`bootstrap: ${a.length} values paired with ${b.length}`);
  if (a.length === 0) throw new Error('bootstrap: no pairs');
  const diff = a.map((x, i) => x - b[i]);
  const n = diff.length;
  const rng = new Rng(opts.seed);
  const means = Float64Array.from({ length: opts.resamples }, () => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += diff[rng.int(n)];
    return sum / n;
  }).sort();
  // Nearest-rank percentiles of the resampled means.
  const at = (q: number) => means[Math.min(means.length - 1, Math.max(0, Math.ceil(q * means.length) - 1))];
  const tail = (1 - opts.level) / 2;
  return {
    estimate: mean(diff),
    lower: at(tail),
    upper: at(1 - tail),
    level: opts.level,
    resamples: opts.resamples,
  };
}
