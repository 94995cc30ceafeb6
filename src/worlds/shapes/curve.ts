/**
 * The training curve: every so many images, the model as it would ship (its EMA weights exported
 * to a model folder and run by the product's own pipeline: DDIM, default guidance) draws a fixed
 * held-out prompt set at 10 and at 50 steps, and the judge scores it. One JSON line a point, so
 * anyone can see whether more training would still pay.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Evaluation } from '../../graph/trainer.js';
import { Text2ImagePipeline } from '../../pipelines/text2img.js';
import { Rng } from '../../util/random.js';
import { mean } from '../../util/statistics.js';
import { describe } from './describe.js';
import { exportModel, runAutoencoder } from './export.js';
import { sampleScene } from './generate.js';
import { judge } from './judge.js';
import { OBJECT_BUCKETS, objectCount } from './scene.js';
import type { RunConfig } from './train.js';

/** Seeds of the curve's prompts (no trainer or test draws them). */
export const CURVE_SEED = 0xc0e0_0000;
export const CURVE_STEPS = [10, 50] as const;
export const CURVE_FILE = 'curve.jsonl';

export interface CurvePrompt {
  readonly prompt: string;
  readonly objects: number;
  readonly bucket: string;
}

/** `perBucket` terse prompts for each bucket, the same every time. */
export function curvePrompts(perBucket: number): CurvePrompt[] {
  return OBJECT_BUCKETS.flatMap((b, k) =>
    Array.from({ length: perBucket }, (_, i) => {
      const rng = new Rng(CURVE_SEED + 1000 * k + i);
      const scene = sampleScene(rng, { minObjects: b.min, maxObjects: b.max });
      return { prompt: describe(scene, 'terse', rng), objects: objectCount(scene), bucket: b.name };
    }),
  );
}

export interface CurveStats {
  readonly meanScore: number;
  readonly success: number;
  readonly byBucket: Record<string, { meanScore: number; success: number }>;
}

export interface CurvePoint {
  readonly step: number;
  readonly images: number;
  readonly prompts: number;
  readonly at: Record<string, CurveStats>;
}

/** Draws the prompts with a model folder at each of CURVE_STEPS (seed i for prompt i) and judges them. */
export async function measureCurve(
  modelDir: string,
  prompts: readonly CurvePrompt[],
): Promise<Record<string, CurveStats>> {
  const pipe = await Text2ImagePipeline.load(modelDir);
  const at: Record<string, CurveStats> = {};
  for (const steps of CURVE_STEPS) {
    const { images } = await pipe.generate({ prompts: prompts.map((p) => p.prompt), steps, seed: 0 });
    const scores = images.map((img, i) => judge(prompts[i].prompt, img.chw, img.width));
    const stats = (idx: number[]) => ({
      meanScore: mean(idx.map((i) => scores[i].total)),
      success: mean(idx.map((i) => (scores[i].success ? 1 : 0))),
    });
    const all = prompts.map((_, i) => i);
    at[steps] = {
      ...stats(all),
      byBucket: Object.fromEntries(
        OBJECT_BUCKETS.map((b) => [b.name, stats(all.filter((i) => prompts[i].bucket === b.name))]),
      ),
    };
  }
  return at;
}

/**
 * One curve point for weights not yet exported: `exportTo(dir)` writes the model folder, which is
 * measured and removed; the point is appended to `file`.
 */
export async function appendCurvePoint(opts: {
  file: string;
  step: number;
  images: number;
  prompts: readonly CurvePrompt[];
  exportTo: (dir: string) => void;
  log: (line: string) => void;
}): Promise<CurvePoint> {
  const dir = mkdtempSync(join(tmpdir(), 'adadiff-curve-'));
  try {
    opts.exportTo(dir);
    const point: CurvePoint = {
      step: opts.step,
      images: opts.images,
      prompts: opts.prompts.length,
      at: await measureCurve(dir, opts.prompts),
    };
    appendFileSync(opts.file, `${JSON.stringify(point)}\n`);
    const line = CURVE_STEPS.map((s) => {
      const st = point.at[s];
      const buckets = OBJECT_BUCKETS.map(
        (b) => `${b.name}: ${(100 * st.byBucket[b.name].success).toFixed(0)}%`,
      );
      return `${s} steps score ${st.meanScore.toFixed(3)} success ${buckets.join(' ')}`;
    });
    opts.log(`curve at ${opts.images} images: ${line.join(' | ')}`);
    return point;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The curve as a training run's evaluation: a point every `everySteps` steps, into out/curve.jsonl. */
export function curveEvaluation(
  run: RunConfig,
  out: string,
  opts: { everySteps: number; perBucket: number; log: (line: string) => void },
): Evaluation {
  const prompts = curvePrompts(opts.perBucket);
  const autoencoder = runAutoencoder(run)?.weights ?? null;
  return {
    everySteps: opts.everySteps,
    run: async (state) => {
      await appendCurvePoint({
        file: join(out, CURVE_FILE),
        step: state.step,
        images: state.step * run.train.batchSize,
        prompts,
        exportTo: (dir) => exportModel(run, state.ema ?? state.params, dir, autoencoder),
        log: opts.log,
      });
    },
  };
}
