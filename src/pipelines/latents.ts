import { Rng } from '../util/random.js';

/**
 * Initial latents z_T ~ N(0, I), one independent stream per image seed, so an image depends only on
 * its own seed and not on which other prompts share its batch (collect relies on this to give every
 * step count the same noise).
 */
export function initialLatents(seeds: readonly number[], perImage: number, sigma = 1): Float32Array {
  const out = new Float32Array(seeds.length * perImage);
  seeds.forEach((seed, i) => {
    const noise = new Rng(seed).normalArray(perImage);
    for (let j = 0; j < perImage; j++) out[i * perImage + j] = noise[j] * sigma;
  });
  return out;
}
