import { z } from 'zod';
import { DEFAULT_GUIDANCE_SCALE } from '../pipelines/text2img.js';
import type { ServeConfig } from './config.js';
import { textField } from './errors.js';
import type { ImageJob, ImageJobResult } from './generation.js';

const MAX_STEPS = 1000;
const MAX_SEED = 2 ** 32 - 1;

/** `POST /v1/images`: the fields of `adadiff generate`, in camelCase; unknown fields are refused. */
export function imagesRequestSchema(config: ServeConfig) {
  const stepsError = `expected "auto" or an integer from 1 to ${MAX_STEPS}`;
  const shape = {
    prompt: textField(config.maxPromptChars),
    negativePrompt: textField(config.maxPromptChars).default(''),
    steps: z
      .union([
        z.literal('auto', { error: stepsError }),
        z.number({ error: stepsError }).int().min(1).max(MAX_STEPS),
      ])
      .default('auto'),
    scheduler: z.enum(['ddim', 'dpm'], { error: 'expected "ddim" or "dpm"' }).default('ddim'),
    guidance: z
      .number({ error: 'expected a number from 0 to 50' })
      .min(0)
      .max(50)
      .default(DEFAULT_GUIDANCE_SCALE),
    seed: z
      .number({ error: `expected an integer from 0 to ${MAX_SEED}` })
      .int()
      .min(0)
      .max(MAX_SEED)
      .optional(),
    batch: z
      .number({ error: `expected an integer from 1 to ${config.maxImages}` })
      .int()
      .min(1)
      .max(config.maxImages)
      .default(1),
  };
  const fields = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `not a field of this request (fields: ${fields})`
        : 'expected a JSON object',
  });
}

export type ImagesRequest = z.output<ReturnType<typeof imagesRequestSchema>>;

export function imagesJob(req: ImagesRequest, randomSeed: () => number): ImageJob {
  return {
    prompt: req.prompt,
    negativePrompt: req.negativePrompt,
    steps: req.steps,
    scheduler: req.scheduler,
    guidance: req.guidance,
    seed: req.seed ?? randomSeed(),
    count: req.batch,
    scale: 1,
  };
}

/** The answer: the images, the steps and why, and what they cost against the reference step count. */
export function imagesResponse(res: ImageJobResult, referenceSteps: number, queueMs: number) {
  const stepsSaved = referenceSteps - res.steps;
  return {
    images: res.pngs.map((png, i) => ({ png: png.toString('base64'), seed: res.seeds[i] })),
    steps: res.steps,
    stepsChosenBy: res.policy ? 'policy' : 'request',
    policy: res.policy && {
      stepSet: res.policy.stepSet,
      probabilities: Object.fromEntries(res.policy.stepSet.map((s, i) => [s, res.policy!.probabilities[i]])),
    },
    referenceSteps,
    stepsSaved,
    timings: {
      queueMs: round(queueMs),
      policyMs: res.policy ? round(res.policy.ms) : null,
      msPerStep: round(res.msPerStep),
      generationMs: round(res.generationMs),
      // The steps not run, at this batch's own measured step time.
      savedMsEstimate: round(res.msPerStep * stepsSaved),
    },
    warnings: res.warnings,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
