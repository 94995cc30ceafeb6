/**
 * The shapes model's noise schedule is Stable Diffusion 2.1's, written once as the scheduler config
 * the export ships; training takes its cumulative alphas from the scheduler module that the
 * pipeline samples with, so the two cannot drift apart.
 */
import { alphasCumprod64, parseDDIMConfig } from '../../schedulers/index.js';

/** scheduler/scheduler_config.json of an exported model (SD 2.1's "scaled_linear" betas). */
export const SCHEDULER_CONFIG = {
  _class_name: 'DDIMScheduler',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
  set_alpha_to_one: false,
  steps_offset: 1,
  timestep_spacing: 'leading',
  clip_sample: false,
  trained_betas: null,
} as const;

/** alpha-bar_t for t = 0..999 in float64 (the trained models were trained, and bake constants, in it). */
export function alphasCumprod(): Float64Array {
  return alphasCumprod64(parseDDIMConfig(SCHEDULER_CONFIG));
}
