/**
 * Held-out checks of the exported folders, run through the same loaders the metrics use
 * (loadImageFeatureNet, loadClipNet) at the embedded model's image size, so the numbers describe what
 * ships and what it is given. Scenes come from seeds
 * at and above HELD_OUT_SEED, which training never draws.
 */
import { clipScore } from '../../../quality/metrics/clip-score.js';
import { loadClipNet, loadImageFeatureNet } from '../../../quality/metrics/feature-net.js';
import { inceptionScore, softmax } from '../../../quality/metrics/inception-score.js';
import type { RgbImage } from '../../../util/image.js';
import { Rng } from '../../../util/random.js';
import { describe } from '../describe.js';
import { sampleScene } from '../generate.js';
import { layoutScene, type Placement } from '../layout.js';
import { HELD_OUT_SEED } from '../prompt-sets.js';
import { renderPlacements } from '../render.js';
import type { Scene } from '../scene.js';
import { FEATURE_NETS } from './config.js';
import { trainingRender } from './images.js';
import { classifierTargets, kindIndex } from './labels.js';
import { siblingScene } from './siblings.js';

/** Renders at the embedded model's image size, given to the loaders as generated images are (they resize). */
const SIZE = FEATURE_NETS.evaluation.imageSize;
const rgb = (chw: Float32Array): RgbImage => ({ width: SIZE, height: SIZE, chw });

const argmax = (xs: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};

const share = (hits: boolean[]) => hits.filter(Boolean).length / hits.length;

export interface ClassifierMetrics {
  readonly images: number;
  /** Top-1 is the kind covering the most object area, on clean renders. */
  readonly dominantAccuracy: number;
  /** The same on renders degraded as in training (blur, noise). */
  readonly dominantAccuracyDegraded: number;
  /** Top-1 on one-object scenes (clean): the object's kind. */
  readonly singleObjectAccuracy: number;
  /** Top-1 is a kind present in the image (clean). */
  readonly presentRate: number;
  /** IS of the clean held-out renders: the real-data reference for generated sets. */
  readonly inceptionScore: number;
}

export async function evaluateClassifier(
  dir: string,
  images = FEATURE_NETS.evaluation.classifierImages,
): Promise<ClassifierMetrics> {
  const net = await loadImageFeatureNet(dir);
  try {
    const rng = new Rng(HELD_OUT_SEED);
    const layouts: Placement[][] = Array.from({ length: images }, () => layoutScene(sampleScene(rng), rng));
    const predict = async (renders: Float32Array[]) =>
      (await net.extract(renders.map(rgb), ['logits'])).logits;
    const clean = await predict(layouts.map((p) => renderPlacements(p, SIZE)));
    const degraded = await predict(layouts.map((p) => trainingRender(p, SIZE, rng)));
    const dominant = layouts.map((p) => argmax(classifierTargets(p).kinds));
    const single = layouts.flatMap((p, i) => (p.length === 1 ? [argmax(clean[i]) === dominant[i]] : []));
    return {
      images,
      dominantAccuracy: share(clean.map((l, i) => argmax(l) === dominant[i])),
      dominantAccuracyDegraded: share(degraded.map((l, i) => argmax(l) === dominant[i])),
      singleObjectAccuracy: share(single),
      presentRate: share(clean.map((l, i) => layouts[i].some((p) => kindIndex(p.object) === argmax(l)))),
      inceptionScore: inceptionScore(clean.map((l) => softmax(l))).mean,
    };
  } finally {
    await net.release();
  }
}

/** One line per metric, for TRAINING.md. */
export const METRIC_NOTES: Record<string, string> = {
  images: 'held-out scenes (1-6 objects, as sampleScene draws them)',
  dominantAccuracy: 'top-1 = kind covering the most object area (clean renders; chance 1/42)',
  dominantAccuracyDegraded: 'the same on renders blurred / noised as in training',
  singleObjectAccuracy: 'top-1 = the kind of a one-object scene (clean)',
  presentRate: 'top-1 is a kind present in the image (clean)',
  inceptionScore: 'IS (10 splits) of the clean held-out renders: the real-data reference',
  pairs: 'held-out (render, prompt) pairs, both dialects, clean renders',
  imageToText: `top-1 retrieval of the prompt among ${FEATURE_NETS.evaluation.retrievalBatch} (chance 1/${FEATURE_NETS.evaluation.retrievalBatch})`,
  textToImage: `top-1 retrieval of the render among ${FEATURE_NETS.evaluation.retrievalBatch}`,
  matchingCosine: 'mean cosine of matching pairs',
  mismatchedCosine: 'mean cosine of mismatched pairs in the same batches',
  siblingPreference: "render closer to its own prompt than to a one-edit sibling scene's prompt",
  clipScore: "CLIP score (cosine scale, AdaDiff's) of the matching pairs",
  logitScale: 'learned logit scale (1 / temperature)',
};

export interface ClipMetrics {
  readonly pairs: number;
  /** Top-1 retrieval among retrievalBatch random pairs, both directions (clean renders). */
  readonly imageToText: number;
  readonly textToImage: number;
  /** Mean cosine of matching and of mismatched (image, prompt) pairs in those batches. */
  readonly matchingCosine: number;
  readonly mismatchedCosine: number;
  /** Share of (scene, one-edit sibling) pairs whose image is closer to its own prompt. */
  readonly siblingPreference: number;
  /** CLIP score (cosine scale) of the matching held-out pairs. */
  readonly clipScore: number;
}

const cosine = (a: Float32Array, b: Float32Array) => {
  let [dot, na, nb] = [0, 0, 0];
  for (let k = 0; k < a.length; k++) {
    dot += a[k] * b[k];
    na += a[k] * a[k];
    nb += b[k] * b[k];
  }
  return dot / Math.sqrt(na * nb);
};

export async function evaluateClip(
  dir: string,
  batches = FEATURE_NETS.evaluation.retrievalBatches,
): Promise<ClipMetrics> {
  const net = await loadClipNet(dir);
  const size = FEATURE_NETS.evaluation.retrievalBatch;
  try {
    const rng = new Rng(HELD_OUT_SEED + 1);
    const embed = async (scenes: Scene[]) => {
      const prompts = scenes.map((s) => describe(s, rng.uniform() < 0.5 ? 'terse' : 'verbose', rng));
      const renders = scenes.map((s) => rgb(renderPlacements(layoutScene(s, rng), SIZE)));
      return net.embed(prompts, renders);
    };
    const [i2t, t2i]: boolean[][] = [[], []];
    const [matching, mismatched]: number[][] = [[], []];
    const pairs = { image: [] as Float32Array[], text: [] as Float32Array[] };
    for (let b = 0; b < batches; b++) {
      const e = await embed(Array.from({ length: size }, () => sampleScene(rng)));
      pairs.image.push(...e.image);
      pairs.text.push(...e.text);
      const sim = e.image.map((img) => e.text.map((txt) => cosine(img, txt)));
      for (let i = 0; i < size; i++) {
        i2t.push(argmax(sim[i]) === i);
        t2i.push(argmax(sim.map((row) => row[i])) === i);
        for (let j = 0; j < size; j++) (i === j ? matching : mismatched).push(sim[i][j]);
      }
    }
    // Scenes and their siblings interleaved, a batch's worth at a time.
    const siblingWins: boolean[] = [];
    while (siblingWins.length < batches * size) {
      const scenes: Scene[] = [];
      while (scenes.length < size) {
        const scene = sampleScene(rng);
        const sibling = siblingScene(scene, rng);
        if (sibling !== null) scenes.push(scene, sibling);
      }
      const e = await embed(scenes);
      for (let i = 0; i < scenes.length; i += 2) {
        siblingWins.push(cosine(e.image[i], e.text[i]) > cosine(e.image[i], e.text[i + 1]));
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;
    return {
      pairs: batches * size,
      imageToText: share(i2t),
      textToImage: share(t2i),
      matchingCosine: mean(matching),
      mismatchedCosine: mean(mismatched),
      siblingPreference: share(siblingWins),
      clipScore: clipScore(pairs.image, pairs.text).cosine,
    };
  } finally {
    await net.release();
  }
}
