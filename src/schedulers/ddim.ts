/**
 * DDIM (Song et al. 2021), the sampler AdaDiff runs for a per-prompt number of steps: Eq. 2 of the paper,
 *
 *   x_{t-1} = sqrt(a_{t-1}) * x0_pred + sqrt(1 - a_{t-1} - sigma_t^2) * eps_pred + sigma_t * z,
 *   sigma_t^2 = eta^2 * (1 - a_{t-1}) / (1 - a_t) * (1 - a_t / a_{t-1}),
 *
 * with a = alphas_cumprod. Arithmetic mirrors diffusers' `DDIMScheduler.step` operation by operation in
 * float32 (Math.fround after every torch op) so results match diffusers to float32 rounding.
 */
import { alphasCumprod, makeBetas } from './betas.js';
import { type DDIMConfig, parseDDIMConfig } from './config.js';
import {
  checkInferenceSteps,
  checkSameLength,
  checkScheduleInRange,
  type Scheduler,
  type StepOptions,
  type StepResult,
} from './scheduler.js';
import { ddimTimesteps } from './timesteps.js';

const f32 = Math.fround;

export class DDIMScheduler implements Scheduler {
  readonly kind = 'ddim';
  readonly initNoiseSigma = 1;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** The "previous" alpha product for the last step: 1, or alphas_cumprod[0] when set_alpha_to_one is off. */
  readonly finalAlphaCumprod: number;
  private schedule: number[] = [];
  private inferenceSteps: number | null = null;

  static fromConfig(config: unknown): DDIMScheduler {
    return new DDIMScheduler(parseDDIMConfig(config));
  }

  constructor(readonly config: Readonly<DDIMConfig>) {
    this.betas = makeBetas(config);
    this.alphasCumprod = alphasCumprod(this.betas);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0];
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  get numInferenceSteps(): number | null {
    return this.inferenceSteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { num_train_timesteps: trainSteps, timestep_spacing: spacing, steps_offset: offset } = this.config;
    checkInferenceSteps(numInferenceSteps, trainSteps);
    const timesteps = ddimTimesteps(spacing, trainSteps, numInferenceSteps, offset);
    checkScheduleInRange(timesteps, trainSteps, `${spacing} spacing with steps_offset ${offset}`);
    this.schedule = timesteps;
    this.inferenceSteps = numInferenceSteps;
  }

  scaleModelInput(sample: Float32Array, _t: number): Float32Array {
    return sample;
  }

  /** sigma_t^2 / eta^2 of Eq. 2 between timestep t and prevT (diffusers' `_get_variance`). */
  variance(t: number, prevT: number): number {
    const alphaProd = this.alphasCumprod[t];
    const alphaProdPrev = this.alphaProdAt(prevT);
    const betaProd = f32(1 - alphaProd);
    const betaProdPrev = f32(1 - alphaProdPrev);
    return f32(f32(betaProdPrev / betaProd) * f32(1 - f32(alphaProd / alphaProdPrev)));
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    if (this.inferenceSteps === null) throw new Error('DDIMScheduler: call setTimesteps before step');
    this.checkTimestep(t);
    checkSameLength('modelOutput', modelOutput, sample);
    const eta = opts.eta ?? 0;
    if (!(eta >= 0 && Number.isFinite(eta)))
      throw new RangeError(`eta must be a finite number >= 0, got ${eta}`);

    // diffusers steps back by num_train // N whatever the spacing, so for `trailing` and `linspace` the
    // "previous" alpha is not always the next scheduled timestep's; kept as is to match diffusers.
    const prevT = t - Math.floor(this.config.num_train_timesteps / this.inferenceSteps);
    const alphaProd = this.alphasCumprod[t];
    const alphaProdPrev = this.alphaProdAt(prevT);
    const sqrtAlpha = f32(Math.sqrt(alphaProd));
    const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProd)));

    const n = sample.length;
    const x0 = new Float32Array(n);
    const eps = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = sample[i];
      const m = modelOutput[i];
      switch (this.config.prediction_type) {
        case 'epsilon':
          x0[i] = f32(s - f32(sqrtBeta * m)) / sqrtAlpha;
          eps[i] = m;
          break;
        case 'sample':
          x0[i] = m;
          eps[i] = f32(s - f32(sqrtAlpha * m)) / sqrtBeta;
          break;
        case 'v_prediction':
          x0[i] = f32(sqrtAlpha * s) - f32(sqrtBeta * m);
          eps[i] = f32(sqrtAlpha * m) + f32(sqrtBeta * s);
          break;
      }
    }
    // Clipping happens after eps is derived, so eps comes from the unclipped x0 (as in diffusers).
    if (this.config.clip_sample) {
      const range = f32(this.config.clip_sample_range);
      for (let i = 0; i < n; i++) x0[i] = Math.min(Math.max(x0[i], -range), range);
    }

    const stdDev = f32(f32(eta) * f32(Math.sqrt(this.variance(t, prevT))));
    const directionCoef = f32(Math.sqrt(f32(f32(1 - alphaProdPrev) - f32(stdDev * stdDev))));
    const sqrtAlphaPrev = f32(Math.sqrt(alphaProdPrev));
    const prevSample = new Float32Array(n);
    for (let i = 0; i < n; i++) prevSample[i] = f32(sqrtAlphaPrev * x0[i]) + f32(directionCoef * eps[i]);

    if (eta > 0) {
      const noise = varianceNoise(opts, n);
      for (let i = 0; i < n; i++) prevSample[i] += f32(stdDev * noise[i]);
    }
    return { prevSample, predOriginalSample: x0 };
  }

  addNoise(originalSample: Float32Array, noise: Float32Array, t: number): Float32Array<ArrayBuffer> {
    this.checkTimestep(t);
    checkSameLength('noise', noise, originalSample);
    const alphaProd = this.alphasCumprod[t];
    const sqrtAlpha = f32(Math.sqrt(alphaProd));
    const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProd)));
    return originalSample.map((x, i) => f32(sqrtAlpha * x) + f32(sqrtBeta * noise[i]));
  }

  private alphaProdAt(t: number): number {
    return t >= 0 ? this.alphasCumprod[t] : this.finalAlphaCumprod;
  }

  private checkTimestep(t: number): void {
    const last = this.config.num_train_timesteps - 1;
    if (!Number.isInteger(t) || t < 0 || t > last) {
      throw new RangeError(`timestep must be an integer from 0 to ${last}, got ${t}`);
    }
  }
}

function varianceNoise(opts: StepOptions, n: number): Float32Array {
  const { generator, varianceNoise: given } = opts;
  if (generator && given) throw new Error('pass either opts.generator or opts.varianceNoise, not both');
  if (given) {
    if (given.length !== n) throw new RangeError(`varianceNoise has ${given.length} values, expected ${n}`);
    return given;
  }
  if (!generator) throw new Error('eta > 0 needs noise: pass opts.generator (an Rng) or opts.varianceNoise');
  return generator.normalArray(n);
}
