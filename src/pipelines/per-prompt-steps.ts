import type { SchedulerKind } from '../schedulers/index.js';
import type { RgbImage } from '../util/image.js';
import { initialLatents } from './latents.js';
import { type EncodedPrompts, etaNoiseSeed, selectRows, type Text2ImagePipeline } from './text2img.js';

export interface PerPromptStepsRequest {
  prompts: readonly string[];
  /** Prompt i starts from the noise of seeds[i], whatever its step count and batch. */
  seeds: readonly number[];
  /** Step count of each prompt. */
  steps: readonly number[];
  scheduler?: SchedulerKind;
  guidanceScale: number;
  /** One negative prompt for all, or one per prompt. */
  negativePrompt?: string | readonly string[];
  eta?: number;
  /** Most prompts in one batch; a whole group of equal step counts when left out. */
  batchSize?: number;
  signal?: AbortSignal;
}

export interface PerPromptStepsResult {
  images: RgbImage[];
  /** Each image's share of its batch's wall time (text encoding when done here, denoising, decoding), s. */
  seconds: number[];
  /** Wall time of all batches, s. */
  totalSeconds: number;
  /** Wall time of every UNet step, ms. */
  stepMs: number[];
}

/**
 * Generates each prompt at its own step count: prompts that share a count are sampled together, in
 * batches of at most `batchSize`, in increasing step order. AdaDiff inference (`generate --steps
 * auto`, the server), collect and the report's timed runs all sample through here, so what the
 * report times is what a user runs. `encoded` (every prompt's features, in order) skips text
 * encoding: the caller has done and timed it.
 */
export async function generateAtSteps(
  pipe: Text2ImagePipeline,
  req: PerPromptStepsRequest,
  encoded?: EncodedPrompts,
): Promise<PerPromptStepsResult> {
  const n = req.prompts.length;
  if (req.seeds.length !== n || req.steps.length !== n)
    throw new Error(`${n} prompts with ${req.seeds.length} seeds and ${req.steps.length} step counts`);
  const images: RgbImage[] = new Array(n);
  const seconds = new Array<number>(n);
  const stepMs: number[] = [];
  let totalMs = 0;
  for (const count of [...new Set(req.steps)].sort((a, b) => a - b)) {
    const rows = req.steps.flatMap((s, i) => (s === count ? [i] : []));
    const size = req.batchSize ?? rows.length;
    for (let start = 0; start < rows.length; start += size) {
      const chunk = rows.slice(start, start + size);
      const t0 = performance.now();
      const negative = req.negativePrompt;
      const features = encoded
        ? selectRows(encoded, chunk)
        : await pipe.encode(
            chunk.map((i) => req.prompts[i]),
            typeof negative === 'string' || negative === undefined ? negative : chunk.map((i) => negative[i]),
            req.guidanceScale,
          );
      const seeds = chunk.map((i) => req.seeds[i]);
      const denoised = await pipe.denoise(initialLatents(seeds, pipe.latentSize), features, {
        steps: count,
        scheduler: req.scheduler,
        guidanceScale: req.guidanceScale,
        eta: req.eta,
        noiseSeed: etaNoiseSeed(seeds[0]),
        signal: req.signal,
      });
      const decoded = await pipe.decode(denoised.latents, chunk.length);
      const ms = performance.now() - t0;
      totalMs += ms;
      stepMs.push(...denoised.stepMs);
      chunk.forEach((i, j) => {
        images[i] = decoded.images[j];
        seconds[i] = ms / chunk.length / 1000;
      });
    }
  }
  return { images, seconds, totalSeconds: totalMs / 1000, stepMs };
}
