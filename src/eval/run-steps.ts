import { generateAtSteps } from '../pipelines/per-prompt-steps.js';
import type { EncodedPrompts, Text2ImagePipeline } from '../pipelines/text2img.js';
import type { QualityScore, QualityScorer } from '../quality/scorer.js';
import type { SchedulerKind } from '../schedulers/index.js';
import type { RgbImage } from '../util/image.js';

export interface StepRun {
  /** Step count used for each prompt. */
  steps: number[];
  scores: QualityScore[];
  images: RgbImage[];
  /** Wall time of generation (text, denoising, decoding; not scoring), seconds. */
  seconds: number;
}

export interface RunOptions {
  scheduler: SchedulerKind;
  guidanceScale: number;
  batchSize: number;
}

/**
 * Generates each prompt with its own step count (`generateAtSteps`) and scores every image.
 * Fixed-step baselines, random policies and AdaDiff all run through here, so their wall times are
 * measured the same way in the same process.
 */
export async function runWithSteps(
  pipe: Text2ImagePipeline,
  scorer: QualityScorer,
  prompts: readonly string[],
  seeds: readonly number[],
  steps: readonly number[],
  opts: RunOptions,
  encoded?: EncodedPrompts,
): Promise<StepRun> {
  const run = await generateAtSteps(pipe, { prompts, seeds, steps, ...opts }, encoded);
  const scores = await scorer.score(prompts, run.images);
  return { steps: [...steps], scores, images: run.images, seconds: run.totalSeconds };
}
