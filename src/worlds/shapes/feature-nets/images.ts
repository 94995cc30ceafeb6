/**
 * The images the feature networks train on: renders, some blurred or noisy like a diffusion
 * model's output (degrade.ts), quantised to 8 bits and normalised exactly as the metrics loaders
 * preprocess an image for the exported networks (config.json's image_mean / image_std).
 */
import type { Rng } from '../../../util/random.js';
import { addNoise, blur } from '../degrade.js';
import type { Placement } from '../layout.js';
import { renderPlacements } from '../render.js';
import { FEATURE_NETS } from './config.js';

const between = (rng: Rng, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * rng.uniform();

/** A render of the placements, degraded at random (see FEATURE_NETS.degrade), in [0, 1]. */
export function trainingRender(placements: readonly Placement[], size: number, rng: Rng): Float32Array {
  const d = FEATURE_NETS.degrade;
  let image = renderPlacements(placements, size);
  if (rng.uniform() < d.blurProbability) image = blur(image, size, between(rng, d.blurSigma));
  if (rng.uniform() < d.noiseProbability) image = addNoise(image, between(rng, d.noiseSd), rng);
  return image;
}

/** [0, 1] pixels to the networks' input: 8-bit quantised, then (v - mean) / std. */
export function networkPixels(image: Float32Array): Float32Array {
  const { mean, std } = FEATURE_NETS.pixels;
  return image.map((v) => (Math.round(Math.min(1, Math.max(0, v)) * 255) / 255 - mean) / std);
}
