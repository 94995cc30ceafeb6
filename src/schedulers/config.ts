/**
 * Scheduler configuration as diffusers writes it in `scheduler_config.json`: snake_case keys, every key
 * optional with diffusers' per-class default. A model folder may ship any diffusers scheduler's config (SD
 * exports ship PNDMScheduler's); like diffusers' `from_config`, the target scheduler keeps the keys its
 * `__init__` takes and ignores the rest. Options that would change the math in ways this module does not
 * implement are rejected by name when their value asks for it, so a config never produces a different
 * sampler than diffusers would build.
 */

import { z } from 'zod';
import { describeIssue } from '../util/issue-words.js';
import type { SchedulerKind } from './scheduler.js';

/** Thrown for a config that is malformed or asks for something not implemented. */
export class SchedulerConfigError extends Error {
  override name = 'SchedulerConfigError';
}

/** A boolean option that may be present but must stay false. */
const mustBeFalse = (why: string) =>
  z
    .boolean()
    .nullish()
    .refine((v) => !v, { error: `not supported (${why})` });

const betaSchedule = z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']);
const predictionType = z.enum(['epsilon', 'v_prediction', 'sample']);
const timestepSpacing = z.enum(['leading', 'trailing', 'linspace']);

/** Keys both schedulers take: the training noise schedule, the model's parameterisation, thresholding. */
const noiseScheduleShape = {
  num_train_timesteps: z.int().positive().default(1000),
  beta_start: z.number().default(0.0001),
  beta_end: z.number().default(0.02),
  beta_schedule: betaSchedule.default('linear'),
  trained_betas: z
    .array(z.number())
    .nullish()
    .transform((v) => v ?? null),
  prediction_type: predictionType.default('epsilon'),
  steps_offset: z.int().nonnegative().default(0),
  thresholding: mustBeFalse('dynamic thresholding is not implemented'),
  // Read by diffusers only when thresholding is on, so any number is accepted.
  dynamic_thresholding_ratio: z.number().default(0.995),
  sample_max_value: z.number().default(1),
  rescale_betas_zero_snr: mustBeFalse('zero-terminal-SNR rescaling is not implemented'),
};

/** diffusers indexes its betas by timestep, so a trained schedule must cover every training step. */
function checkTrainedBetas(
  cfg: { trained_betas: number[] | null; num_train_timesteps: number },
  ctx: z.RefinementCtx,
): void {
  if (cfg.trained_betas !== null && cfg.trained_betas.length !== cfg.num_train_timesteps) {
    ctx.addIssue({
      code: 'custom',
      path: ['trained_betas'],
      message: `has ${cfg.trained_betas.length} values but num_train_timesteps is ${cfg.num_train_timesteps}`,
    });
  }
}

const ddimConfigSchema = z
  .object({
    ...noiseScheduleShape,
    timestep_spacing: timestepSpacing.default('leading'),
    clip_sample: z.boolean().default(true),
    clip_sample_range: z.number().positive().default(1),
    set_alpha_to_one: z.boolean().default(true),
  })
  .superRefine(checkTrainedBetas);

const dpmConfigSchema = z
  .object({
    ...noiseScheduleShape,
    timestep_spacing: timestepSpacing.default('linspace'),
    solver_order: z
      .union([z.literal(1), z.literal(2)], { error: 'only solver orders 1 and 2 are implemented' })
      .default(2),
    // diffusers maps a DEIS config's algorithm and UniPC/DEIS solver types onto these when switching schedulers.
    algorithm_type: z
      .enum(['dpmsolver++', 'deis'], {
        error: "only 'dpmsolver++' is implemented ('dpmsolver' and the SDE variants are not)",
      })
      .transform((): 'dpmsolver++' => 'dpmsolver++')
      .default('dpmsolver++'),
    solver_type: z
      .enum(['midpoint', 'heun', 'logrho', 'bh1', 'bh2'], { error: "expected 'midpoint' or 'heun'" })
      .transform((v) => (v === 'heun' ? 'heun' : 'midpoint'))
      .default('midpoint'),
    lower_order_final: z.boolean().default(true),
    euler_at_final: z.boolean().default(false),
    final_sigmas_type: z
      .enum(['zero', 'sigma_min'])
      .nullish()
      .transform((v) => v ?? 'zero'),
    // diffusers' default, written to its configs as -Infinity (zod's number refuses infinities).
    lambda_min_clipped: z
      .union([z.number(), z.literal(Number.NEGATIVE_INFINITY)])
      .default(Number.NEGATIVE_INFINITY),
    use_karras_sigmas: z
      .boolean()
      .nullish()
      .transform((v) => v ?? false),
    use_lu_lambdas: mustBeFalse('Lu lambda spacing is not implemented'),
    use_exponential_sigmas: mustBeFalse('exponential sigmas are not implemented'),
    use_beta_sigmas: mustBeFalse('beta sigmas are not implemented'),
    use_flow_sigmas: mustBeFalse('flow-matching sigmas are not implemented'),
    // Read by diffusers only with use_flow_sigmas, or with a `mu` passed to set_timesteps (never done here).
    flow_shift: z.number().default(1),
    use_dynamic_shifting: z.boolean().default(false),
    time_shift_type: z.string().default('exponential'),
    // diffusers acts only on 'learned'/'learned_range' (it drops the variance channels); a DDPM config's
    // 'fixed_small' and the like change nothing.
    variance_type: z
      .string()
      .nullish()
      .refine((v) => v !== 'learned' && v !== 'learned_range', {
        error: 'learned variance outputs are not supported',
      })
      .transform((v) => v ?? null),
  })
  .superRefine(checkTrainedBetas);

/** A diffusers `scheduler_config.json` object, as read from disk (snake_case, all keys optional). */
export type SchedulerConfig = z.input<typeof ddimConfigSchema> & z.input<typeof dpmConfigSchema>;
/** A fully resolved DDIM configuration (defaults applied). */
export type DDIMConfig = z.output<typeof ddimConfigSchema>;
/** A fully resolved DPM-Solver++ configuration (defaults applied). */
export type DPMSolverConfig = z.output<typeof dpmConfigSchema>;
/** The keys that define the training noise schedule, common to both schedulers. */
export type NoiseScheduleConfig = Pick<
  DDIMConfig,
  'num_train_timesteps' | 'beta_start' | 'beta_end' | 'beta_schedule' | 'trained_betas'
>;

const targets = {
  ddim: { schema: ddimConfigSchema, name: 'DDIM' },
  dpm: { schema: dpmConfigSchema, name: 'DPMSolverMultistep' },
} as const;

interface ConfigOf {
  ddim: DDIMConfig;
  dpm: DPMSolverConfig;
}

/** A model's scheduler config as one of our schedulers reads it, and what was kept of it. */
export interface ResolvedSchedulerConfig<K extends SchedulerKind = SchedulerKind> {
  kind: K;
  /** The target scheduler's full configuration: the carried values, diffusers' defaults for the rest. */
  config: ConfigOf[K];
  /** The config's `_class_name` (the scheduler the model was exported with), or null. */
  sourceClass: string | null;
  /** Keys of the config the target scheduler's diffusers `__init__` takes, sorted. */
  carried: string[];
  /** The config's other keys, sorted; private `_` keys are not listed. */
  ignored: string[];
}

/**
 * diffusers' `TargetScheduler.from_config(config)` for DDIM or DPM-Solver++: keys the target's `__init__`
 * takes are carried over, others ignored, missing ones default (`extract_init_dict`). Each schema's keys are
 * exactly that `__init__`'s parameters.
 */
export function resolveSchedulerConfig<K extends SchedulerKind>(
  kind: K,
  raw: unknown,
): ResolvedSchedulerConfig<K> {
  const { schema, name } = targets[kind];
  const record = isRecord(raw) ? raw : undefined;
  const sourceClass = typeof record?._class_name === 'string' ? record._class_name : null;
  // Keys a diffusers config lists here were not in the file it was loaded from; from_config drops them.
  const usedDefaults = record?._use_default_values;
  const defaulted = new Set(Array.isArray(usedDefaults) ? usedDefaults : []);
  const accepted = new Set(Object.keys(schema.shape));
  const kept: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(record ?? {})) {
    if (key.startsWith('_')) continue;
    if (accepted.has(key) && !defaulted.has(key)) kept[key] = value;
    else ignored.push(key);
  }
  // A non-object is handed on as is, so the schema reports it.
  const config = parseWith(schema, record ? kept : raw, name, sourceClass) as ConfigOf[K];
  return { kind, config, sourceClass, carried: Object.keys(kept).sort(), ignored: ignored.sort() };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  sourceClass: string | null,
): z.output<S> {
  const result = schema.safeParse(input, { error: describeIssue });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const value = showScalar(valueAt(input, issue.path));
    return key ? `${key}${value === null ? '' : ` = ${value}`}: ${issue.message}` : issue.message;
  });
  const from = sourceClass === null ? '' : ` (from the model's ${sourceClass} config)`;
  throw new SchedulerConfigError(`Invalid ${what} scheduler config${from}: ${problems.join('; ')}`);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path)
    v = isRecord(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** A rejected value as it reads in the config file; null for missing values and whole arrays or objects. */
function showScalar(v: unknown): string | null {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return null;
}

export function parseDDIMConfig(raw: unknown): DDIMConfig {
  return resolveSchedulerConfig('ddim', raw).config;
}

export function parseDPMSolverConfig(raw: unknown): DPMSolverConfig {
  return resolveSchedulerConfig('dpm', raw).config;
}
