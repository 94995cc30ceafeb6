/**
 * DPM-Solver++ multistep (Lu et al. 2022), orders 1 and 2, as diffusers' `DPMSolverMultistepScheduler` with
 * `algorithm_type="dpmsolver++"`. It works in the data-prediction (x0) parameterisation and in log-SNR time
 * lambda = log(alpha_t / sigma_t); order 2 reuses the previous step's x0 estimate, so the scheduler keeps a
 * short history that `setTimesteps` clears. Scalars and samples are float32, rounded after every torch op.
 */
import { alphasCumprod, makeBetas } from './betas.js';
import { type DPMSolverConfig, parseDPMSolverConfig } from './config.js';
import {
  checkInferenceSteps,
  checkSameLength,
  checkScheduleInRange,
  type Scheduler,
  type StepOptions,
  type StepResult,
} from './scheduler.js';
import { dpmTimesteps, npLinspace, roundHalfEven } from './timesteps.js';

const f32 = Math.fround;

/** VP-schedule alpha_t and sigma_t for a noise level sigma = sqrt((1 - a) / a) (`_sigma_to_alpha_sigma_t`). */
function alphaSigma(sigma: number): { alpha: number; sigma: number } {
  const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  return { alpha, sigma: f32(sigma * alpha) };
}

/** Half log-SNR; +Infinity at sigma = 0, which makes the final step return x0 exactly. */
function logSnr({ alpha, sigma }: { alpha: number; sigma: number }): number {
  return f32(f32(Math.log(alpha)) - f32(Math.log(sigma)));
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly kind = 'dpm';
  readonly initNoiseSigma = 1;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** sqrt((1 - a) / a) for every training timestep, float32 as torch computes it. */
  private readonly trainSigmas: Float32Array;
  private schedule: number[] = [];
  /** Noise level at each scheduled step plus the final one (0 or sigma_min). */
  private sigmas = new Float32Array(0);
  /** Converted (x0) model outputs of the last `solver_order` steps, most recent last. */
  private history: Float32Array<ArrayBuffer>[] = [];
  private lowerOrderNums = 0;
  private stepIndex: number | null = null;

  static fromConfig(config: unknown): DPMSolverMultistepScheduler {
    return new DPMSolverMultistepScheduler(parseDPMSolverConfig(config));
  }

  constructor(readonly config: Readonly<DPMSolverConfig>) {
    this.betas = makeBetas(config);
    this.alphasCumprod = alphasCumprod(this.betas);
    this.trainSigmas = this.alphasCumprod.map((a) => Math.sqrt(f32(f32(1 - a) / a)));
  }

  get timesteps(): readonly number[] {
    return this.schedule;
  }

  get numInferenceSteps(): number | null {
    return this.schedule.length > 0 ? this.schedule.length : null;
  }

  setTimesteps(numInferenceSteps: number): void {
    const cfg = this.config;
    checkInferenceSteps(numInferenceSteps, cfg.num_train_timesteps);
    let timesteps: number[];
    let sigmas: number[];
    if (cfg.use_karras_sigmas) {
      sigmas = this.karrasSigmas(numInferenceSteps);
      const logSigmas = this.trainSigmas.map(Math.log);
      // diffusers leaves the cosine schedule's timesteps unrounded, so the int64 cast truncates them.
      const toInt = cfg.beta_schedule === 'squaredcos_cap_v2' ? Math.trunc : roundHalfEven;
      timesteps = sigmas.map((s) => toInt(sigmaToT(s, logSigmas)));
    } else {
      timesteps = dpmTimesteps(
        cfg.timestep_spacing,
        cfg.num_train_timesteps,
        this.lastTimestep(),
        numInferenceSteps,
        cfg.steps_offset,
      );
      checkScheduleInRange(timesteps, cfg.num_train_timesteps, `${cfg.timestep_spacing} spacing`);
      sigmas = timesteps.map((t) => this.trainSigmas[t]);
    }
    const finalSigma = cfg.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, finalSigma]);
    this.schedule = timesteps;
    this.history = [];
    this.lowerOrderNums = 0;
    this.stepIndex = null;
  }

  scaleModelInput(sample: Float32Array, _t: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    if (opts.eta) throw new Error('eta is a DDIM option; DPM-Solver++ is deterministic');
    checkSameLength('modelOutput', modelOutput, sample);
    const index = this.advanceTo(t);
    const cfg = this.config;
    const steps = this.schedule.length;
    // A first-order final step is more stable for short schedules, and exact when the last sigma is 0.
    const lowerOrderFinal =
      index === steps - 1 &&
      (cfg.euler_at_final || (cfg.lower_order_final && steps < 15) || cfg.final_sigmas_type === 'zero');

    const x0 = this.convertModelOutput(modelOutput, sample, index);
    this.history.push(x0);
    if (this.history.length > cfg.solver_order) this.history.shift();

    const prevSample =
      cfg.solver_order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal
        ? this.firstOrderUpdate(x0, sample, index)
        : this.secondOrderUpdate(sample, index);
    if (this.lowerOrderNums < cfg.solver_order) this.lowerOrderNums++;
    this.stepIndex = index + 1;
    return { prevSample, predOriginalSample: x0.slice() };
  }

  addNoise(originalSample: Float32Array, noise: Float32Array, t: number): Float32Array<ArrayBuffer> {
    checkSameLength('noise', noise, originalSample);
    const { alpha, sigma } = alphaSigma(this.sigmas[this.indexForTimestep(t)]);
    return originalSample.map((x, i) => f32(alpha * x) + f32(sigma * noise[i]));
  }

  /** The schedule index this step runs at: located from t on the first step, then counted. */
  private advanceTo(t: number): number {
    if (this.stepIndex === null) return this.indexForTimestep(t);
    const index = this.stepIndex;
    if (index >= this.schedule.length) {
      throw new Error(
        'DPMSolverMultistepScheduler: the schedule is finished; call setTimesteps to start again',
      );
    }
    if (this.schedule[index] !== t) {
      throw new Error(`expected timestep ${this.schedule[index]} (step ${index}), got ${t}`);
    }
    return index;
  }

  /**
   * Where t sits in the schedule. With a repeated timestep diffusers starts from the second occurrence so a
   * run started mid-schedule (img2img) never skips a sigma.
   */
  private indexForTimestep(t: number): number {
    const matches: number[] = [];
    this.schedule.forEach((s, i) => {
      if (s === t) matches.push(i);
    });
    if (matches.length === 0) {
      throw new RangeError(`timestep ${t} is not in the current schedule (call setTimesteps first)`);
    }
    return matches.length > 1 ? matches[1] : matches[0];
  }

  /** The model output as an x0 prediction (DPM-Solver++ integrates the data-prediction model). */
  private convertModelOutput(
    modelOutput: Float32Array,
    sample: Float32Array,
    index: number,
  ): Float32Array<ArrayBuffer> {
    const { alpha, sigma } = alphaSigma(this.sigmas[index]);
    switch (this.config.prediction_type) {
      case 'epsilon':
        return sample.map((s, i) => f32(s - f32(sigma * modelOutput[i])) / alpha);
      case 'sample':
        return modelOutput.slice();
      case 'v_prediction':
        return sample.map((s, i) => f32(alpha * s) - f32(sigma * modelOutput[i]));
    }
  }

  /** DPM-Solver++(1), which is DDIM in lambda time. */
  private firstOrderUpdate(x0: Float32Array, sample: Float32Array, index: number): Float32Array<ArrayBuffer> {
    const t = alphaSigma(this.sigmas[index + 1]);
    const s = alphaSigma(this.sigmas[index]);
    const h = f32(logSnr(t) - logSnr(s));
    const sampleCoef = f32(t.sigma / s.sigma);
    const x0Coef = f32(t.alpha * f32(f32(Math.exp(-h)) - 1));
    return sample.map((v, i) => f32(sampleCoef * v) - f32(x0Coef * x0[i]));
  }

  /** Multistep DPM-Solver++(2): a first-order step corrected by the finite difference of the last two x0s. */
  private secondOrderUpdate(sample: Float32Array, index: number): Float32Array<ArrayBuffer> {
    const [m1, m0] = this.history;
    const t = alphaSigma(this.sigmas[index + 1]);
    const s0 = alphaSigma(this.sigmas[index]);
    const lambdaS0 = logSnr(s0);
    const h = f32(logSnr(t) - lambdaS0);
    const h0 = f32(lambdaS0 - logSnr(alphaSigma(this.sigmas[index - 1])));
    const invR0 = f32(1 / f32(h0 / h));
    const expM1 = f32(f32(Math.exp(-h)) - 1);
    const sampleCoef = f32(t.sigma / s0.sigma);
    const d0Coef = f32(t.alpha * expM1);
    const d1Coef =
      this.config.solver_type === 'midpoint' ? -f32(0.5 * d0Coef) : f32(t.alpha * f32(f32(expM1 / h) + 1));
    return sample.map((v, i) => {
      const d1 = f32(invR0 * f32(m0[i] - m1[i]));
      return f32(f32(sampleCoef * v) - f32(d0Coef * m0[i])) + f32(d1Coef * d1);
    });
  }

  /** Last usable training timestep + 1: `lambda_min_clipped` drops the noisiest steps (cosine schedules). */
  private lastTimestep(): number {
    const clip = this.config.lambda_min_clipped;
    let clipped = 0;
    for (const a of this.alphasCumprod) {
      const lambda = logSnr({ alpha: f32(Math.sqrt(a)), sigma: f32(Math.sqrt(f32(1 - a))) });
      if (lambda < clip) clipped++;
    }
    return this.config.num_train_timesteps - clipped;
  }

  /** Karras et al. (2022) noise levels: uniform in sigma^(1/7) between the training extremes, in float64. */
  private karrasSigmas(n: number): number[] {
    const rho = 7;
    const minInvRho = this.trainSigmas[0] ** (1 / rho);
    const maxInvRho = this.trainSigmas[this.trainSigmas.length - 1] ** (1 / rho);
    return npLinspace(0, 1, n).map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
  }
}

/**
 * Fractional training timestep of a noise level (`_sigma_to_t`): linear interpolation of log sigma between
 * the two training steps around it. `logSigmas` is float32 as numpy's float32 log gives it; the rest is
 * float64 except the bracket width, which numpy computes between two float32 scalars.
 */
function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma >= logSigmas[i]) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lowLog = logSigmas[low];
  const w = Math.min(Math.max((lowLog - logSigma) / f32(lowLog - logSigmas[low + 1]), 0), 1);
  return (1 - w) * low + w * (low + 1);
}
