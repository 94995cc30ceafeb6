/**
 * Diffusion samplers over flat Float32Arrays, numerically matching diffusers' DDIMScheduler and
 * DPMSolverMultistepScheduler (dpmsolver++) built from the same `scheduler_config.json`.
 *
 * A full sampling loop, as diffusers' pipelines run it:
 *
 *   const config = JSON.parse(readFileSync('model/scheduler/scheduler_config.json', 'utf8'));
 *   const scheduler = createScheduler('ddim', config); // or DDIMScheduler.fromConfig(config)
 *   scheduler.setTimesteps(numSteps);                   // resets any multistep state
 *   let latents = rng.normalArray(n).map((v) => v * scheduler.initNoiseSigma);
 *   for (const t of scheduler.timesteps) {
 *     const eps = denoise(scheduler.scaleModelInput(latents, t), t); // the UNet, same length as latents
 *     latents = scheduler.step(eps, t, latents, { eta: 0 }).prevSample;
 *   }
 *
 * The config may be any diffusers scheduler's (SD exports ship PNDMScheduler's): as with diffusers'
 * `DDIMScheduler.from_config`, keys the target does not take are ignored; `resolveSchedulerConfig` says which.
 *
 * With eta > 0 (DDIM only) also pass `generator: rng` or `varianceNoise`. To check against real diffusers,
 * feed both the same initial latents and a deterministic model and compare `prevSample` step by step.
 */
export { alphasCumprod, alphasCumprod64, makeBetas } from './betas.js';
export {
  type DDIMConfig,
  type DPMSolverConfig,
  type NoiseScheduleConfig,
  parseDDIMConfig,
  parseDPMSolverConfig,
  type ResolvedSchedulerConfig,
  resolveSchedulerConfig,
  type SchedulerConfig,
  SchedulerConfigError,
} from './config.js';
export { DDIMScheduler } from './ddim.js';
export { DPMSolverMultistepScheduler } from './dpm-solver.js';
export { createScheduler } from './factory.js';
export type { Scheduler, SchedulerKind, StepOptions, StepResult } from './scheduler.js';
export { ddimTimesteps, dpmTimesteps, type TimestepSpacing } from './timesteps.js';
