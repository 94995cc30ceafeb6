/**
 * Inception Score (Salimans et al. 2016) from a classifier's predictions, as the original code
 * (improved-gan's inception_score.py) computes it: the N predictions, in the order given, are cut
 * into `splits` consecutive parts (part i holds rows ⌊iN/s⌋ .. ⌊(i+1)N/s⌋ - 1); each part scores
 * exp(mean over x of KL(p(y|x) ‖ p(y))), p(y) being the part's mean prediction; the result is the
 * mean and the population standard deviation (np.std) of the part scores. torchmetrics'
 * InceptionScore differs only in shuffling the rows first.
 */

export interface InceptionScore {
  mean: number;
  std: number;
  /** One score per split. */
  scores: number[];
}

/** Probabilities from logits, in float64 and shifted by the maximum so that exp cannot overflow. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = Float64Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i] - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / sum);
}

/** Rows that are not probability vectors (say, logits passed by mistake) would give a meaningless score. */
function checkProbabilities(probs: readonly ArrayLike<number>[]): number {
  const classes = probs[0].length;
  probs.forEach((p, i) => {
    if (p.length !== classes) throw new Error(`prediction ${i} has ${p.length} classes, expected ${classes}`);
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      if (!(p[k] >= 0 && p[k] <= 1)) throw new Error(`prediction ${i} is not a probability vector: ${p[k]}`);
      sum += p[k];
    }
    // float32 softmax outputs of 1000+ classes sum to 1 within ~1e-6.
    if (Math.abs(sum - 1) > 1e-3) throw new Error(`prediction ${i} sums to ${sum}, not 1`);
  });
  return classes;
}

/** exp(mean KL(p(y|x) ‖ p(y))) over one part; 0·log 0 counts as 0, its limit. */
function partScore(part: readonly ArrayLike<number>[], classes: number): number {
  const marginal = new Float64Array(classes);
  for (const p of part) for (let k = 0; k < classes; k++) marginal[k] += p[k];
  for (let k = 0; k < classes; k++) marginal[k] /= part.length;
  let kl = 0;
  for (const p of part) {
    for (let k = 0; k < classes; k++) if (p[k] > 0) kl += p[k] * (Math.log(p[k]) - Math.log(marginal[k]));
  }
  return Math.exp(kl / part.length);
}

/** Inception Score of class probabilities (one row per image, e.g. softmax of Inception-v3's logits). */
export function inceptionScore(
  probs: readonly ArrayLike<number>[],
  opts: { splits?: number } = {},
): InceptionScore {
  const splits = opts.splits ?? 10;
  const n = probs.length;
  if (!Number.isInteger(splits) || splits < 1)
    throw new Error(`splits must be a positive integer, got ${splits}`);
  if (n < splits) throw new Error(`${n} predictions cannot make ${splits} splits`);
  const classes = checkProbabilities(probs);
  const scores = Array.from({ length: splits }, (_, i) =>
    partScore(probs.slice(Math.floor((i * n) / splits), Math.floor(((i + 1) * n) / splits)), classes),
  );
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, s) => a + (s - mean) ** 2, 0) / splits);
  return { mean, std, scores };
}
