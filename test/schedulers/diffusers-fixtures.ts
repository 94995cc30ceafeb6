/**
 * The deterministic fixtures of diffusers' scheduler tests (`tests/schedulers/test_schedulers.py`), so the
 * full-loop numbers diffusers publishes can be asserted here. Layout is (batch 4, channels 3, 8, 8), built
 * like `torch.arange(768).reshape(3, 8, 8, 4).permute(3, 0, 1, 2) / 768`.
 */
import type { Scheduler } from '../../src/schedulers/index.js';

const f32 = Math.fround;
const [BATCH, CHANNELS, HEIGHT, WIDTH] = [4, 3, 8, 8];
const NUM_ELEMS = BATCH * CHANNELS * HEIGHT * WIDTH;

function arangeSample(flip: boolean): Float32Array {
  const out = new Float32Array(NUM_ELEMS);
  for (let b = 0; b < BATCH; b++)
    for (let c = 0; c < CHANNELS; c++)
      for (let h = 0; h < HEIGHT; h++)
        for (let w = 0; w < WIDTH; w++) {
          const k = ((c * HEIGHT + h) * WIDTH + w) * BATCH + b; // index before the permute
          out[((b * CHANNELS + c) * HEIGHT + h) * WIDTH + w] = (flip ? NUM_ELEMS - 1 - k : k) / NUM_ELEMS;
        }
  return out;
}

/** `dummy_sample_deter`. */
export const dummySampleDeter = (): Float32Array => arangeSample(false);
/** `dummy_noise_deter` (the same ramp, reversed). */
export const dummyNoiseDeter = (): Float32Array => arangeSample(true);

/** `dummy_model`: `sample * t / (t + 1)` with t cast to float32. */
export function dummyModel(sample: Float32Array, t: number): Float32Array {
  return sample.map((v) => f32(v * t) / f32(t + 1));
}

/** diffusers' `full_loop`: N steps from `dummy_sample_deter`, optionally noised to the t_start-th timestep. */
export function fullLoop(scheduler: Scheduler, numInferenceSteps: number, tStart?: number): Float32Array {
  scheduler.setTimesteps(numInferenceSteps);
  const timesteps = scheduler.timesteps.slice(tStart ?? 0);
  let sample = dummySampleDeter();
  if (tStart !== undefined) sample = scheduler.addNoise(sample, dummyNoiseDeter(), timesteps[0]);
  for (const t of timesteps) sample = scheduler.step(dummyModel(sample, t), t, sample).prevSample;
  return sample;
}

/** `torch.sum(torch.abs(x))` and `torch.mean(torch.abs(x))`. */
export function absSumMean(x: Float32Array): { sum: number; mean: number } {
  let sum = 0;
  for (const v of x) sum += Math.abs(v);
  return { sum, mean: sum / x.length };
}
