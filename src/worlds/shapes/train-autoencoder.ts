/**
 * Trains the shapes autoencoder (autoencoder.ts) on reconstruction of scenes rendered on the fly,
 * with the one training loop of src/graph/trainer.ts (every batch from its own Rng(seed, step)),
 * and measures its bound: the judge's full success on reconstructions of held-out clean renders.
 */

import { buildOnnx } from '../../graph/build.js';
import type { HostTensor, Weights } from '../../graph/params.js';
import { initWeights } from '../../graph/params.js';
import { type Feed, floatFeed, GradientSession, openSession } from '../../graph/session.js';
import { type RunOptions, type TrainerConfig, trainInDirectory } from '../../graph/trainer.js';
import { Moments } from '../../util/moments.js';
import { Rng } from '../../util/random.js';
import {
  type AutoencoderConfig,
  autoencoderTrainingGraph,
  downFactor,
  vaeDecoderGraph,
  vaeEncoderGraph,
} from './autoencoder.js';
import { describe } from './describe.js';
import { sampleScene } from './generate.js';
import { judge } from './judge.js';
import { render } from './render.js';
import { objectCount } from './scene.js';

export const AUTOENCODER_TRAIN_CONFIG = {
  model: {
    imageSize: 64,
    latentChannels: 4,
    widths: [32, 64, 128],
    encoderBlocks: [0, 1, 1],
    decoderBlocks: [1, 2, 2],
  },
  batchSize: 32,
  /** Weight of the mean KL against the mean reconstruction error (SD's is weaker still). */
  klWeight: 1e-6,
  schedule: { lr: 1e-3, minLrFraction: 0.05, warmupSteps: 200 },
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 },
  gradClip: 1,
  emaDecay: 0.999,
  logEvery: 25,
  checkpointMinutes: 4,
  planningSteps: 12,
} as const satisfies TrainerConfig & Record<string, unknown>;

export interface AutoencoderRun {
  readonly model: AutoencoderConfig;
  /** Weight of the Laplacian term (autoencoderTrainingGraph); 0 for the plain loss. */
  readonly detailWeight: number;
  readonly seed: number;
  readonly totalSteps: number | null;
  readonly train: typeof AUTOENCODER_TRAIN_CONFIG;
}

/** Scene renders in [-1, 1], CHW, as the autoencoder reads them. */
export const toSigned = (image: Float32Array): Float32Array => image.map((v) => 2 * v - 1);

/** One batch from its own seeded stream: renders of fresh scenes and the posterior's unit noise. */
export function autoencoderBatch(cfg: AutoencoderConfig, seed: number, step: number, batch: number) {
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ step) >>> 0);
  const s = cfg.imageSize;
  const side = s / downFactor(cfg);
  const images = new Float32Array(batch * 3 * s * s);
  for (let i = 0; i < batch; i++) images.set(toSigned(render(sampleScene(rng), s, rng)), i * 3 * s * s);
  const noise = rng.normalArray(batch * cfg.latentChannels * side * side);
  return {
    image: floatFeed(images, [batch, 3, s, s]),
    noise: floatFeed(noise, [batch, cfg.latentChannels, side, side]),
  } satisfies Record<string, Feed>;
}

export async function trainAutoencoder(
  opts: RunOptions & { readonly detailWeight?: number },
): Promise<{ steps: number; loss: number }> {
  const T = AUTOENCODER_TRAIN_CONFIG;
  const cfg: AutoencoderConfig = T.model;
  const detailWeight = opts.detailWeight ?? 0;
  const { graph, loss } = autoencoderTrainingGraph(cfg, T.batchSize, { klWeight: T.klWeight, detailWeight });
  const session = await GradientSession.create(graph, loss, {
    threads: opts.threads,
    provider: opts.provider,
  });
  try {
    return await trainInDirectory<AutoencoderRun>({
      ...opts,
      config: T,
      run: { model: cfg, detailWeight, seed: opts.seed, totalSteps: null, train: T },
      checkResume: (saved) => {
        if (JSON.stringify(saved.model) !== JSON.stringify(cfg))
          throw new Error('resume: the autoencoder configuration changed');
      },
      initial: initWeights(graph.paramSpecs(), new Rng(opts.seed)),
      session,
      batch: (step, run) => autoencoderBatch(cfg, run.seed, step, T.batchSize),
      log: opts.log ?? ((line: string) => console.log(line)),
    });
  } finally {
    await session.release();
  }
}

/** The autoencoder as two inference sessions over given weights (a checkpoint's EMA). */
export async function openAutoencoder(cfg: AutoencoderConfig, weights: Weights, threads?: number) {
  const enc = vaeEncoderGraph(cfg);
  const dec = vaeDecoderGraph(cfg);
  const encoder = await openSession(
    buildOnnx(enc.graph, { outputs: { latent_sample: enc.output }, weights }),
    {
      threads,
    },
  );
  const decoder = await openSession(buildOnnx(dec.graph, { outputs: { sample: dec.output }, weights }), {
    threads,
  });
  const s = cfg.imageSize;
  const side = s / downFactor(cfg);
  return {
    /** images [n, 3, S, S] in [-1, 1] -> posterior means [n, C, s, s]. */
    async encode(images: Float32Array, n: number): Promise<Float32Array> {
      const out = await encoder.run({ sample: floatFeed(images, [n, 3, s, s]) });
      return out.latent_sample.data as Float32Array;
    },
    /** latents [n, C, s, s] -> images [n, 3, S, S] in about [-1, 1]. */
    async decode(latents: Float32Array, n: number): Promise<Float32Array> {
      const out = await decoder.run({
        latent_sample: floatFeed(latents, [n, cfg.latentChannels, side, side]),
      });
      return out.sample.data as Float32Array;
    },
    async release() {
      await encoder.release();
      await decoder.release();
    },
  };
}

/** Seeds of the held-out scenes the autoencoder's bound is measured on (no trainer draws them). */
export const AUTOENCODER_EVAL_SEED = 0x0ae0_0000;

export interface ReconstructionReport {
  readonly images: number;
  /** Judge full success on reconstructions, by object count and overall. */
  readonly successByObjects: Record<number, { n: number; success: number }>;
  readonly success: number;
  /** Full success on the clean renders themselves (the judge's own ceiling). */
  readonly cleanSuccess: number;
  readonly meanAbsError: number;
  /** Standard deviation of the posterior means: 1 / scaling_factor. */
  readonly latentStd: number;
}

/** Encodes and decodes `n` held-out clean renders (terse prompts) and judges the reconstructions. */
export async function measureReconstruction(
  cfg: AutoencoderConfig,
  weights: ReadonlyMap<string, HostTensor>,
  n: number,
  threads?: number,
): Promise<ReconstructionReport> {
  const ae = await openAutoencoder(cfg, weights, threads);
  const s = cfg.imageSize;
  const per = 3 * s * s;
  const successByObjects: Record<number, { n: number; success: number }> = {};
  let success = 0;
  let cleanSuccess = 0;
  let absError = 0;
  const moments = new Moments();
  const chunk = 32;
  try {
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const items = Array.from({ length: m }, (_, i) => {
        const rng = new Rng(AUTOENCODER_EVAL_SEED + start + i);
        const scene = sampleScene(rng);
        return { scene, prompt: describe(scene, 'terse', rng), image: render(scene, s, rng) };
      });
      const batch = new Float32Array(m * per);
      items.forEach((it, i) => {
        batch.set(toSigned(it.image), i * per);
      });
      const latents = await ae.encode(batch, m);
      moments.add(latents);
      const decoded = await ae.decode(latents, m);
      items.forEach((it, i) => {
        const rec = Float32Array.from(decoded.subarray(i * per, (i + 1) * per), (v) =>
          Math.min(1, Math.max(0, v / 2 + 0.5)),
        );
        for (let j = 0; j < per; j++) absError += Math.abs(rec[j] - it.image[j]);
        const ok = judge(it.prompt, rec, s).success;
        const k = objectCount(it.scene);
        successByObjects[k] ??= { n: 0, success: 0 };
        successByObjects[k].n++;
        if (ok) {
          successByObjects[k].success++;
          success++;
        }
        if (judge(it.prompt, it.image, s).success) cleanSuccess++;
      });
    }
  } finally {
    await ae.release();
  }
  return {
    images: n,
    successByObjects,
    success: success / n,
    cleanSuccess: cleanSuccess / n,
    meanAbsError: absError / (n * per),
    latentStd: moments.std,
  };
}
