/**
 * Scheduler configuration as diffusers writes it in `scheduler_config.json`: snake_case keys, every key
 * optional with diffusers' per-class default, unknown keys (`_class_name`, `skip_prk_steps`, ...) ignored.
 * Options that would change the math in ways this module does not implement are rejected by name rather
 * than silently ignored, so a config never produces a different sampler than diffusers would build.
 */
import { z } from 'zod';

/** Thrown for a config that is malformed or asks for something not implemented. */
export class SchedulerConfigError extends Error {
  override name = 'SchedulerConfigError';
}

/** A boolean option that may be present but must stay false. */
const mustBeFalse = (why: string) =>
  z
    .boolean()
    .nullish()
    .refine((v) => !v, { error: `true is not supported (${why})` });

const betaSchedule = z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']);
const predictionType = z.enum(['epsilon', 'v_prediction', 'sample']);
const timestepSpacing = z.enum(['leading', 'trailing', 'linspace']);

/** Keys shared by every scheduler: the training noise schedule and the model's parameterisation. */
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
    variance_type: z.null({ error: 'learned variance outputs are not supported' }).optional(),
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

function parseWith<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.');
    return key ? `${key}: ${issue.message}` : issue.message;
  });
  throw new SchedulerConfigError(`Invalid ${what} scheduler config: ${problems.join('; ')}`);
}

export function parseDDIMConfig(raw: unknown): DDIMConfig {
  return parseWith(ddimConfigSchema, raw, 'DDIM');
}

export function parseDPMSolverConfig(raw: unknown): DPMSolverConfig {
  return parseWith(dpmConfigSchema, raw, 'DPMSolverMultistep');
}
