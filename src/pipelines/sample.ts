/**
 * The sampling core, in k-diffusion's shape: a sampler is a short loop over a scheduler's timesteps
 * that asks a denoiser for the noise at each one; the denoiser hides the network (tensor building,
 * dtypes) and classifier-free guidance is a wrapper around a denoiser.
 */
import type { Scheduler } from '../schedulers/index.js';
import type { Rng } from '../util/random.js';
import { checkFinite } from './finite.js';
import { applyGuidance } from './guidance.js';

/** eps(x_t, t) for a batch of latents (already scaled as the scheduler asks). */
export type Denoiser = (x: Float32Array, t: number) => Promise<Float32Array>;

export interface SampleOptions {
  /** DDIM eta; > 0 adds noise from `generator` at each step. */
  eta?: number;
  generator?: Rng;
  onStep?: (done: number, total: number) => void;
  /** Checked before each step, so a caller that gave up stops the loop. */
  signal?: AbortSignal;
}

/** Runs the scheduler from x_T (not modified) to x_0; returns x_0 and every step's wall time in ms. */
export async function sample(
  scheduler: Scheduler,
  denoiser: Denoiser,
  latents: Float32Array,
  opts: SampleOptions = {},
): Promise<{ latents: Float32Array; stepMs: number[] }> {
  let x: Float32Array = Float32Array.from(latents);
  const stepMs: number[] = [];
  const total = scheduler.timesteps.length;
  for (let i = 0; i < total; i++) {
    opts.signal?.throwIfAborted();
    const t0 = performance.now();
    const t = scheduler.timesteps[i];
    const eps = await denoiser(scheduler.scaleModelInput(x, t), t);
    checkFinite(eps, () => `the denoiser's output at step ${i + 1} of ${total} (timestep ${t})`);
    x = scheduler.step(eps, t, x, { eta: opts.eta, generator: opts.generator }).prevSample;
    checkFinite(x, () => `the latents after step ${i + 1} of ${total} (timestep ${t})`);
    stepMs.push(performance.now() - t0);
    opts.onStep?.(i + 1, total);
  }
  return { latents: x, stepMs };
}

/**
 * Classifier-free guidance around a denoiser of doubled batches ([uncond x B, cond x B], the context
 * laid out the same way): one network call for both halves, eps = eps_u + scale * (eps_c - eps_u).
 */
export function guided(doubled: Denoiser, batch: number, scale: number): Denoiser {
  return async (x, t) => {
    const twice = new Float32Array(2 * x.length);
    twice.set(x);
    twice.set(x, x.length);
    return applyGuidance(await doubled(twice, t), batch, scale);
  };
}
