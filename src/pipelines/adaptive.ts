import type { StepSelection, StepSelector } from '../policy/selector.js';
import type { RgbImage } from '../util/image.js';
import { initialLatents } from './latents.js';
import {
  DEFAULT_GUIDANCE_SCALE,
  type GenerateRequest,
  selectRows,
  type Text2ImagePipeline,
} from './text2img.js';

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
 * its text features, then sample each group of prompts that share a step count as one batch.
 */
export async function generateAdaptive(
  pipe: Text2ImagePipeline,
  selector: StepSelector,
  req: Omit<GenerateRequest, 'steps'>,
): Promise<AdaptiveResult> {
  const { prompts } = req;
  const seeds = req.seeds ?? prompts.map((_, i) => (req.seed ?? 0) + i);
  const guidanceScale = req.guidanceScale ?? DEFAULT_GUIDANCE_SCALE;
  const encoded = await pipe.encode(prompts, req.negativePrompt, guidanceScale);
  const selection = await selector.select(encoded.cond);
  const images: AdaptiveImage[] = new Array(prompts.length);
  let stepMsTotal = 0;
  let stepCount = 0;
  for (const steps of new Set(selection.steps)) {
    const rows = selection.steps.flatMap((s, i) => (s === steps ? [i] : []));
    const part = selectRows(encoded, rows);
    const latents = initialLatents(
      rows.map((i) => seeds[i]),
      pipe.latentSize,
    );
    const { latents: z0, stepMs } = await pipe.denoise(latents, part, { ...req, steps, guidanceScale });
    const { images: decoded, ms: decodeMs } = await pipe.decode(z0, rows.length);
    const groupMs = stepMs.reduce((a, b) => a + b, 0);
    stepMsTotal += groupMs;
    stepCount += stepMs.length;
    const sharedMs = (encoded.ms + selection.ms) / prompts.length;
    rows.forEach((i, j) => {
      images[i] = {
        prompt: prompts[i],
        seed: seeds[i],
        steps,
        image: decoded[j],
        seconds: (sharedMs + (groupMs + decodeMs) / rows.length) / 1000,
      };
    });
  }
  return {
    images,
    selection,
    unetMsPerStep: stepMsTotal / stepCount,
    warnings: pipe.truncationWarnings(encoded.truncated),
  };
}
