/** The contract every sampler shares, shaped like diffusers' scheduler API (camelCase, flat Float32Arrays). */
import type { Rng } from '../util/random.js';
import type { DDIMConfig, DPMSolverConfig } from './config.js';

export type SchedulerKind = 'ddim' | 'dpm';

export interface StepOptions {
  /** DDIM's eta (Eq. 2's sigma_t scale): 0 is deterministic DDIM, 1 is DDPM-like. DDIM only. */
  eta?: number;
  /** Draws the eta > 0 noise (`rng.normalArray(n)`); give this or `varianceNoise`, not both. */
  generator?: Rng;
  /** Explicit standard-normal noise for eta > 0, same length as the sample. */
  varianceNoise?: Float32Array;
}

/** Outputs are always freshly allocated, never views of the inputs. */
export interface StepResult {
  /** The sample at the next (less noisy) timestep: feed it to the model next. */
  prevSample: Float32Array<ArrayBuffer>;
  /** The model's current estimate of the clean sample x0. */
  predOriginalSample: Float32Array<ArrayBuffer>;
}

export interface Scheduler {
  readonly kind: SchedulerKind;
  readonly config: Readonly<DDIMConfig | DPMSolverConfig>;
  /** Training betas and their cumulative alpha products, float32 as diffusers holds them. */
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** Scale of the initial Gaussian latent (1 for both DDIM and DPM-Solver++). */
  readonly initNoiseSigma: number;
  /** The current schedule, largest timestep first; empty until `setTimesteps`. */
  readonly timesteps: readonly number[];
  readonly numInferenceSteps: number | null;
  /** Builds the schedule for `numInferenceSteps` (1..num_train_timesteps) and resets any solver state. */
  setTimesteps(numInferenceSteps: number): void;
  /** Input scaling for the denoiser at timestep t (the identity for these schedulers). */
  scaleModelInput(sample: Float32Array, t: number): Float32Array;
  /** One denoising step from timestep t given the model's output there. */
  step(modelOutput: Float32Array, t: number, sample: Float32Array, opts?: StepOptions): StepResult;
  /** Forward-diffuses a clean sample to timestep t (q(x_t | x_0), Eq. 1), e.g. to start img2img there. */
  addNoise(originalSample: Float32Array, noise: Float32Array, t: number): Float32Array<ArrayBuffer>;
}

/** Shared argument check for `setTimesteps`. */
export function checkInferenceSteps(numInferenceSteps: number, numTrainTimesteps: number): void {
  if (
    !Number.isInteger(numInferenceSteps) ||
    numInferenceSteps < 1 ||
    numInferenceSteps > numTrainTimesteps
  ) {
    throw new RangeError(
      `numInferenceSteps must be an integer from 1 to num_train_timesteps (${numTrainTimesteps}), got ${numInferenceSteps}`,
    );
  }
}

/** Shared check that a schedule only names trainable timesteps; diffusers would index out of range. */
export function checkScheduleInRange(
  timesteps: readonly number[],
  numTrainTimesteps: number,
  why: string,
): void {
  const bad = timesteps.find((t) => t < 0 || t >= numTrainTimesteps);
  if (bad !== undefined) {
    throw new RangeError(`timestep ${bad} falls outside 0..${numTrainTimesteps - 1} (${why})`);
  }
}

export function checkSameLength(name: string, array: Float32Array, sample: Float32Array): void {
  if (array.length !== sample.length) {
    throw new RangeError(`${name} has ${array.length} values but the sample has ${sample.length}`);
  }
}
