/**
 * CLIP score (Hessel et al. 2021; Radford et al.'s CLIP): how well each image matches its prompt, from
 * the two CLIP embeddings of a pair, as 100 · max(cos(image, text), 0) averaged over the pairs; the
 * formula torchmetrics' CLIPScore documents. Its code clamps the mean instead of each pair
 * (max(mean of 100 · cos, 0)); clamp: 'mean' reproduces that. The two differ only when some pair has
 * a negative cosine, which matched prompts and images practically never do.
 *
 * AdaDiff's tables (and several papers) report the same number divided by 100 (0.31 rather than
 * 31): `cosine`.
 */

export interface ClipScore {
  /** On torchmetrics' scale, 0 to 100. */
  score: number;
  /** score / 100, AdaDiff's scale. */
  cosine: number;
  /** 100 · cos of each pair, before any clamping. */
  perPair: number[];
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>, i: number): number {
  if (a.length !== b.length) {
    throw new Error(`pair ${i}: image embedding has ${a.length} values, text embedding ${b.length}`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k] * b[k];
    na += a[k] * a[k];
    nb += b[k] * b[k];
  }
  if (!(na > 0 && nb > 0 && Number.isFinite(dot))) throw new Error(`pair ${i}: zero or non-finite embedding`);
  return dot / Math.sqrt(na * nb);
}

/** The CLIP score of image/text embedding pairs (image[i] goes with text[i]). */
export function clipScore(
  image: readonly ArrayLike<number>[],
  text: readonly ArrayLike<number>[],
  opts: { clamp?: 'pair' | 'mean' } = {},
): ClipScore {
  if (image.length !== text.length) {
    throw new Error(`${image.length} image embeddings for ${text.length} text embeddings`);
  }
  if (image.length === 0) throw new Error('no embedding pairs');
  const perPair = image.map((img, i) => 100 * cosine(img, text[i], i));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const score =
    (opts.clamp ?? 'pair') === 'pair' ? mean(perPair.map((s) => Math.max(s, 0))) : Math.max(mean(perPair), 0);
  return { score, cosine: score / 100, perPair };
}
