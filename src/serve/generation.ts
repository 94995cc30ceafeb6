import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { modelFingerprint } from '../models/fingerprint.js';
import type { ExecutionProvider } from '../models/index.js';
import { Text2ImagePipeline } from '../pipelines/text2img.js';
import { generateAdaptive } from '../policy/adaptive.js';
import { POLICY_SUBDIR, StepSelector } from '../policy/selector.js';
import { createScheduler, type SchedulerKind } from '../schedulers/index.js';
import { encodePng, type RgbImage } from '../util/image.js';
import { badRequest } from './errors.js';

/** One request's images, as both APIs ask for them: a prompt, drawn `count` times. */
export interface ImageJob {
  prompt: string;
  negativePrompt: string;
  /** A step count, or 'auto' for the policy's choice. */
  steps: number | 'auto';
  scheduler: SchedulerKind;
  guidance: number;
  /** Seed of the first image; image i uses seed + i. */
  seed: number;
  count: number;
  /** Nearest-neighbour enlargement of the PNGs. */
  scale: number;
}

export interface ImageJobResult {
  pngs: Buffer[];
  seeds: number[];
  steps: number;
  /** What the policy read off the prompt, when it chose the steps. */
  policy: { stepSet: readonly number[]; probabilities: number[]; ms: number } | null;
  /** Mean wall time of one denoising step of the batch. */
  msPerStep: number;
  generationMs: number;
  warnings: string[];
}

/** The model and policy a server loaded once, and what it tells clients about them. */
export interface LoadedModel {
  pipeline: Text2ImagePipeline;
  /** Null when the server has no policy: then only fixed step counts can be asked for. */
  selector: StepSelector | null;
  /** Side of the images the model draws, in pixels. */
  imageSize: number;
  name: string;
  /** The weights' fingerprint (see models/fingerprint.ts), A1111's model hash. */
  fingerprint: string;
}

/**
 * Loads the model and its policy (`policyDir`, else the model folder's policy/ if it has one) once,
 * and runs one step through both: the first run of a session is slow, and a policy trained for
 * another text encoder fails here rather than on a client's request.
 */
export async function loadModel(
  dir: string,
  policyDir: string | undefined,
  provider: ExecutionProvider,
): Promise<LoadedModel> {
  const pipeline = await Text2ImagePipeline.load(dir, { executionProvider: provider });
  const shipped = join(dir, POLICY_SUBDIR);
  const chosen = policyDir ?? (existsSync(shipped) ? shipped : undefined);
  const selector = chosen === undefined ? null : await StepSelector.load(chosen);
  const warm = await pipeline.generate({ prompts: [''], steps: 1, guidanceScale: 1 });
  await selector?.select(warm.features);
  const { fingerprint } = await modelFingerprint(dir);
  return {
    pipeline,
    selector,
    imageSize: warm.images[0].width,
    name: basename(resolve(dir)),
    fingerprint,
  };
}

/**
 * Refuses, before it is queued, a step count the model's scheduler cannot lay out (1000 steps with
 * "leading" spacing and steps_offset 1 would name timestep 1000 of 0..999): the client's mistake.
 */
export function checkSteps(model: LoadedModel, job: ImageJob): void {
  if (job.steps === 'auto') return;
  try {
    createScheduler(job.scheduler, model.pipeline.model.schedulerConfig).setTimesteps(job.steps);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw badRequest(
      'steps',
      `this model's scheduler cannot take ${job.steps} steps (${err.message}); ask for fewer`,
    );
  }
}

export async function runImageJob(
  model: LoadedModel,
  job: ImageJob,
  signal: AbortSignal,
): Promise<ImageJobResult> {
  const t0 = performance.now();
  const request = {
    prompts: Array<string>(job.count).fill(job.prompt),
    negativePrompt: job.negativePrompt,
    scheduler: job.scheduler,
    guidanceScale: job.guidance,
    seed: job.seed,
    signal,
  };
  let images: RgbImage[];
  let steps: number;
  let msPerStep: number;
  let policy: ImageJobResult['policy'] = null;
  let warnings: string[];
  if (job.steps === 'auto') {
    if (!model.selector) throw new Error('steps "auto" needs a policy; the request should have been refused');
    const res = await generateAdaptive(model.pipeline, model.selector, request);
    images = res.images.map((r) => r.image);
    // Every image shares the prompt, so the policy chose the same count for all of them.
    steps = res.images[0].steps;
    msPerStep = res.unetMsPerStep;
    policy = {
      stepSet: model.selector.stepSet,
      probabilities: res.selection.probabilities[0],
      ms: res.selection.ms,
    };
    warnings = res.warnings;
  } else {
    const res = await model.pipeline.generate({ ...request, steps: job.steps });
    images = res.images;
    steps = res.steps;
    msPerStep = res.timings.stepMs.reduce((a, b) => a + b, 0) / res.steps;
    warnings = res.warnings;
  }
  const pngs = await Promise.all(images.map((img) => encodePng(img, job.scale)));
  return {
    pngs,
    seeds: images.map((_, i) => job.seed + i),
    steps,
    policy,
    msPerStep,
    generationMs: performance.now() - t0,
    warnings,
  };
}
