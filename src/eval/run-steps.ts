import { initialLatents } from '../pipelines/latents.js';
import { type EncodedPrompts, selectRows, type Text2ImagePipeline } from '../pipelines/text2img.js';
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
 * Generates each prompt with its own step count (prompt i from seeds[i]), batching prompts that
 * share a step count, and scores every image. Fixed-step baselines, random policies and AdaDiff
 * all run through here, so their wall times are measured the same way in the same process.
 * `encoded` (every prompt's features, in order) skips text encoding: the caller has timed it.
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
  const images: RgbImage[] = new Array(prompts.length);
  let ms = 0;
  for (const count of [...new Set(steps)].sort((a, b) => a - b)) {
    const rows = steps.flatMap((s, i) => (s === count ? [i] : []));
    for (let start = 0; start < rows.length; start += opts.batchSize) {
      const chunk = rows.slice(start, start + opts.batchSize);
      const t0 = performance.now();
      const features = encoded
        ? selectRows(encoded, chunk)
        : await pipe.encode(
            chunk.map((i) => prompts[i]),
            '',
            opts.guidanceScale,
          );
      const latents = initialLatents(
        chunk.map((i) => seeds[i]),
        pipe.latentSize,
      );
      const { latents: z0 } = await pipe.denoise(latents, features, {
        steps: count,
        scheduler: opts.scheduler,
        guidanceScale: opts.guidanceScale,
      });
      const { images: out } = await pipe.decode(z0, chunk.length);
      ms += performance.now() - t0;
      chunk.forEach((i, j) => {
        images[i] = out[j];
      });
    }
  }
  const scores = await scorer.score(prompts, images);
  return { steps: [...steps], scores, images, seconds: ms / 1000 };
}
