import { generateAtSteps } from '../pipelines/per-prompt-steps.js';
import {
  DEFAULT_GUIDANCE_SCALE,
  type GenerateRequest,
  type Text2ImagePipeline,
} from '../pipelines/text2img.js';
import type { RgbImage } from '../util/image.js';
import type { StepSelection, StepSelector } from './selector.js';

export interface AdaptiveImage {
  prompt: string;
  seed: number;
  steps: number;
  image: RgbImage;
  /** This image's share of the batch's wall time: text, policy, its steps, decode. */
  seconds: number;
}

export interface AdaptiveResult {
  images: AdaptiveImage[];
  selection: StepSelection;
  /** Mean UNet step time over the run, ms. */
  unetMsPerStep: number;
  warnings: string[];
}

/**
 * AdaDiff inference (Eq. 4): encode the prompts, let the policy pick each prompt's step count from
 * its text features, then sample each group of prompts that share a step count as one batch
 * (`generateAtSteps`, from those same features).
 */
export async function generateAdaptive(
  pipe: Text2ImagePipeline,
  selector: Pick<StepSelector, 'select'>,
  req: Omit<GenerateRequest, 'steps'>,
): Promise<AdaptiveResult> {
  const { prompts } = req;
  const seeds = req.seeds ?? prompts.map((_, i) => (req.seed ?? 0) + i);
  const guidanceScale = req.guidanceScale ?? DEFAULT_GUIDANCE_SCALE;
  const encoded = await pipe.encode(prompts, req.negativePrompt, guidanceScale);
  const selection = await selector.select(encoded.cond);
  const run = await generateAtSteps(
    pipe,
    { ...req, seeds, steps: selection.steps, guidanceScale, negativePrompt: req.negativePrompt },
    encoded,
  );
  const sharedSeconds = (encoded.ms + selection.ms) / prompts.length / 1000;
  return {
    images: prompts.map((prompt, i) => ({
      prompt,
      seed: seeds[i],
      steps: selection.steps[i],
      image: run.images[i],
      seconds: sharedSeconds + run.seconds[i],
    })),
    selection,
    unetMsPerStep: run.stepMs.reduce((a, b) => a + b, 0) / run.stepMs.length,
    warnings: pipe.truncationWarnings(encoded.truncated),
  };
}
