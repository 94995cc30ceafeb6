/**
 * The image metrics of the paper's tables beside the judge/IQS score: CLIP score, IS, FID and NIQE.
 * Each run is reduced right after it is generated to what the metrics need (per-image CLIP cosines,
 * class probabilities, pool features, NIQE values), so no run's images are held any longer; FID is
 * taken at the end, once the reference features are known.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClipNet,
  clipScore,
  fid,
  type ImageFeatureNet,
  inceptionScore,
  loadClipNet,
  loadImageFeatureNet,
  NIQE_PATCH_SIZE,
  niqe,
  softmax,
} from '../quality/metrics/index.js';
import type { RgbImage } from '../util/image.js';
import { mean } from '../util/statistics.js';

/** The improved-GAN code's split count for IS; fewer when a run has fewer images. */
const IS_SPLITS = 10;

/** Network folders the shapes world trains for itself say so in network.json (see feature-nets/export.ts). */
function isShapesWorldNet(dir: string): boolean {
  const file = join(dir, 'network.json');
  if (!existsSync(file)) return false;
  const kind = (JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown }).kind;
  return typeof kind === 'string' && kind.startsWith('shapes-');
}

/** One run reduced to what its metrics need. */
export interface RunImageStats {
  /** Mean CLIP score on AdaDiff's scale (cosine, 0..1), or null without a CLIP net. */
  clip: number | null;
  /** Inception Score (mean over splits), or null without classifier logits. */
  is: number | null;
  /** Classifier pool features for FID, or null without them. */
  features: Float32Array[] | null;
  /** Mean NIQE, or null for images smaller than a NIQE patch. */
  niqe: number | null;
}

export interface MetricNets {
  clip: ClipNet | null;
  classifier: ImageFeatureNet | null;
  clipInDomain: boolean;
  classifierInDomain: boolean;
}

export async function loadMetricNets(clipDir?: string, classifierDir?: string): Promise<MetricNets> {
  const clip = clipDir ? await loadClipNet(clipDir) : null;
  const classifier = classifierDir ? await loadImageFeatureNet(classifierDir) : null;
  return {
    clip,
    classifier,
    clipInDomain: clipDir !== undefined && isShapesWorldNet(clipDir),
    classifierInDomain: classifierDir !== undefined && isShapesWorldNet(classifierDir),
  };
}

export async function releaseMetricNets(nets: MetricNets): Promise<void> {
  await nets.clip?.release();
  await nets.classifier?.release();
}

/** NIQE reads whole 96x96 patches; a smaller image has none. */
const niqeApplies = (image: RgbImage) => image.width >= NIQE_PATCH_SIZE && image.height >= NIQE_PATCH_SIZE;

/** Pool features of images (for the FID reference), or null when the classifier has none. */
export async function poolFeatures(nets: MetricNets, images: readonly RgbImage[]) {
  const net = nets.classifier;
  return net?.kinds.includes('features') ? (await net.extract(images, ['features'])).features : null;
}

/** Reduces one run's images (images[i] generated for prompts[i]). */
export async function measureRun(
  nets: MetricNets,
  prompts: readonly string[],
  images: readonly RgbImage[],
): Promise<RunImageStats> {
  let clip: number | null = null;
  if (nets.clip) {
    const emb = await nets.clip.embed(prompts, images);
    clip = clipScore(emb.image, emb.text).cosine;
  }
  let is: number | null = null;
  let features: Float32Array[] | null = null;
  const net = nets.classifier;
  if (net) {
    // One pass for whichever outputs the folder's model has: logits give IS, features give FID.
    const out = await net.extract(images, net.kinds);
    if (net.kinds.includes('logits')) {
      const probs = out.logits.map((l) => softmax(l));
      is = inceptionScore(probs, { splits: Math.min(IS_SPLITS, probs.length) }).mean;
    }
    if (net.kinds.includes('features')) features = out.features;
  }
  const niqeValue = images.every(niqeApplies) ? mean(images.map((img) => niqe(img))) : null;
  return { clip, is, features, niqe: niqeValue };
}

/** A covariance needs two feature vectors. */
export const FID_MIN_IMAGES = 2;

/** FID of a run's features against the reference's, or null when either is missing or too few. */
export function fidAgainst(run: RunImageStats, reference: Float32Array[] | null): number | null {
  if (!run.features || !reference || Math.min(run.features.length, reference.length) < FID_MIN_IMAGES)
    return null;
  return fid(run.features, reference);
}
