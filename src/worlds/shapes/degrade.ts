/**
 * Degradations of the kind a diffusion model produces (blur, noise, a forgotten or wrong object),
 * used to build the judge's reference set and to test that the judge ranks them below clean.
 */
import type { Rng } from '../../util/random.js';
import type { Placement } from './layout.js';
import type { SceneObject } from './scene.js';

/** Separable Gaussian blur of a CHW RGB image (sigma in pixels), edges clamped. */
export function blur(image: Float32Array, size: number, sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) =>
    Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)),
  );
  const z = kernel.reduce((a, b) => a + b, 0);
  const w = kernel.map((k) => k / z);
  const tmp = new Float32Array(image.length);
  const out = new Float32Array(image.length);
  const clamp = (i: number) => Math.min(size - 1, Math.max(0, i));
  for (let c = 0; c < 3; c++) {
    const base = c * size * size;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += w[k + radius] * image[base + y * size + clamp(x + k)];
        tmp[base + y * size + x] = acc;
      }
    }
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += w[k + radius] * tmp[base + clamp(y + k) * size + x];
        out[base + y * size + x] = acc;
      }
    }
  }
  return out;
}

/** Add independent Gaussian noise of standard deviation sd, clipped to [0, 1]. */
export function addNoise(image: Float32Array, sd: number, rng: Rng): Float32Array {
  return image.map((v) => Math.min(1, Math.max(0, v + sd * rng.normal())));
}

/** Uniform noise image in [0, 1]. */
export function noiseImage(size: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: 3 * size * size }, () => rng.uniform());
}

/** The same layout with object k removed (a diffusion model forgetting an object). */
export function withoutObject(placements: readonly Placement[], k: number): Placement[] {
  return placements.filter((_, i) => i !== k);
}

/** The same layout with object k's attributes changed (a wrong colour, shape or detail). */
export function alterObject(
  placements: readonly Placement[],
  k: number,
  change: Partial<SceneObject>,
): Placement[] {
  return placements.map((p, i) => (i === k ? { ...p, object: { ...p.object, ...change } } : p));
}
