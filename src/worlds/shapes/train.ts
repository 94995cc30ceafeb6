/**
 * Trains the shapes text-to-image model's text encoder and latent denoiser (model.ts) on the
 * latent cache (latents.ts: scenes rendered and encoded once by the autoencoder), with the one
 * training loop of src/graph/trainer.ts: every batch comes from its own Rng(seed, step) (which
 * cached scenes, which phrasing of their prompts, which noise and timesteps), so a resumed run sees
 * exactly the batches an uninterrupted one would.
 */
import { initWeights } from '../../graph/params.js';
import { type Feed, floatFeed, GradientSession, int64Feed } from '../../graph/session.js';
import {
  type Evaluation,
  loadCheckpointDir,
  type RunOptions,
  type TrainerConfig,
  trainInDirectory,
} from '../../graph/trainer.js';
import { Rng } from '../../util/random.js';
import { cacheScene, type LatentCache, type LatentCacheMeta, type LatentSet } from './latents.js';
import { type ModelConfig, modelSpecs, trainingGraph } from './model.js';
import { alphasCumprod } from './model-schedule.js';
import { WordTokenizer } from './model-tokenizer.js';
import type { Scene } from './scene.js';

/** What the trainer needs from the shapes world's language (index.ts provides it). */
export interface WorldSource {
  describe(scene: Scene, dialect: 'terse' | 'verbose', rng: Rng): string;
  normalizeWords(prompt: string): string[];
  readonly WORLD_VOCABULARY: readonly string[];
}

export const TRAIN_CONFIG = {
  model: {
    maxTokens: 64,
    textDim: 128,
    textLayers: 2,
    textHeads: 4,
    /** The latent grid (64 px / 8) and the autoencoder's latent channels. */
    imageSize: 8,
    channels: 4,
    widths: [96, 192],
    midBlocks: 4,
    heads: 4,
    mlpRatio: 4,
    timeFreqDim: 128,
    timeDim: 256,
  },
  batchSize: 64,
  schedule: { lr: 8e-4, minLrFraction: 0.05, warmupSteps: 300 },
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01 },
  gradClip: 1,
  emaDecay: 0.9995,
  /** Share of empty prompts, so the model also learns the unconditional branch of CFG guidance. */
  captionDropout: 0.1,
  logEvery: 25,
  checkpointMinutes: 4,
  planningSteps: 12,
} as const satisfies TrainerConfig & Record<string, unknown>;

/**
 * The denoiser layouts compared on short runs (models/shapes/TRAINING.md): the UNet of
 * TRAIN_CONFIG.model (conv levels at 8 and 4 px, transformer blocks at 4 px, cross-attention at
 * 8 px), and a transformer over the 64 latent tokens (patch size 1) after one conv block, of about
 * the same size.
 */
export const ARCHITECTURES = {
  unet: {},
  transformer: { widths: [192], midBlocks: 6 },
} as const satisfies Record<string, Partial<ModelConfig>>;
export type Architecture = keyof typeof ARCHITECTURES;

export interface TrainOptions extends RunOptions {
  readonly architecture?: Architecture;
  /** A measurement every so many steps (curve.ts's training curve), given the run. */
  readonly evaluate?: (run: RunConfig) => Evaluation;
}

/** Saved beside the weights: everything needed to rebuild the model and continue the run. */
export interface RunConfig {
  readonly model: ModelConfig;
  readonly vocab: readonly string[];
  readonly seed: number;
  readonly totalSteps: number | null;
  readonly train: typeof TRAIN_CONFIG;
  /** The autoencoder whose latents the denoiser learns (absent: the first, pixel-space model). */
  readonly autoencoder?: LatentCacheMeta['autoencoder'] & { readonly scalingFactor: number };
}

export function makeTokenizer(
  world: Pick<WorldSource, 'normalizeWords' | 'WORLD_VOCABULARY'>,
): WordTokenizer {
  return new WordTokenizer(world.WORLD_VOCABULARY, TRAIN_CONFIG.model.maxTokens, world.normalizeWords);
}

export interface Batch {
  readonly noisy: Float32Array;
  /** The network's target, v = √ᾱ·ε − √(1−ᾱ)·x0. */
  readonly velocity: Float32Array;
  readonly timesteps: Int32Array;
  readonly ids: Int32Array;
}

/**
 * One batch from its own seeded stream: cached scenes, a fresh prompt for each (either dialect,
 * or empty for caption dropout), their scaled latents noised at random timesteps, and v targets.
 */
export function makeBatch(
  world: WorldSource,
  tokenizer: WordTokenizer,
  latents: LatentSet,
  seed: number,
  step: number,
  batchSize: number = TRAIN_CONFIG.batchSize,
): Batch {
  const { captionDropout, model } = TRAIN_CONFIG;
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ step) >>> 0);
  const [c, h, w] = latents.shape;
  const per = c * h * w;
  const scale = latents.scalingFactor;
  const abar = alphasCumprod();
  const noisy = new Float32Array(batchSize * per);
  const velocity = new Float32Array(batchSize * per);
  const noise = rng.normalArray(batchSize * per);
  const timesteps = new Int32Array(batchSize);
  const ids = new Int32Array(batchSize * model.maxTokens);
  for (let i = 0; i < batchSize; i++) {
    const index = rng.int(latents.count);
    const prompt = world.describe(cacheScene(index).scene, rng.uniform() < 0.5 ? 'terse' : 'verbose', rng);
    ids.set(tokenizer.encode(rng.uniform() < captionDropout ? '' : prompt), i * model.maxTokens);
    const t = rng.int(abar.length);
    timesteps[i] = t;
    const a = Math.sqrt(abar[t]);
    const s = Math.sqrt(1 - abar[t]);
    for (let j = 0; j < per; j++) {
      const k = i * per + j;
      const x0 = scale * latents.data[index * per + j];
      noisy[k] = a * x0 + s * noise[k];
      velocity[k] = a * noise[k] - s * x0;
    }
  }
  return { noisy, velocity, timesteps, ids };
}

/** A batch as the training graph's feeds. */
export function batchFeeds(cfg: ModelConfig, batch: Batch): Record<string, Feed> {
  const b = batch.timesteps.length;
  const image = [b, cfg.channels, cfg.imageSize, cfg.imageSize];
  return {
    input_ids: int64Feed(batch.ids, [b, cfg.maxTokens]),
    noisy: floatFeed(batch.noisy, image),
    timestep: int64Feed(batch.timesteps, [b]),
    velocity: floatFeed(batch.velocity, image),
  };
}

/** Loads a checkpoint directory: run config, step, and all tensors (params., ema., adam.m., adam.v.). */
export const loadCheckpoint = (dir: string) => loadCheckpointDir<RunConfig>(dir);

export async function train(
  world: WorldSource,
  cache: LatentCache,
  opts: TrainOptions,
): Promise<{ steps: number; loss: number }> {
  const tokenizer = makeTokenizer(world);
  const [channels, side] = cache.meta.shape;
  const cfg: ModelConfig = {
    ...TRAIN_CONFIG.model,
    ...ARCHITECTURES[opts.architecture ?? 'unet'],
    channels,
    imageSize: side,
    vocabSize: tokenizer.vocab.length,
  };
  const autoencoder = { ...cache.meta.autoencoder, scalingFactor: cache.meta.scalingFactor };
  const { graph, loss } = trainingGraph(cfg, TRAIN_CONFIG.batchSize);
  const session = await GradientSession.create(graph, loss, {
    threads: opts.threads,
    provider: opts.provider,
  });
  const run: RunConfig = {
    model: cfg,
    vocab: tokenizer.vocab,
    seed: opts.seed,
    totalSteps: null,
    train: TRAIN_CONFIG,
    autoencoder,
  };
  try {
    return await trainInDirectory<RunConfig>({
      ...opts,
      config: TRAIN_CONFIG,
      run,
      evaluate: opts.evaluate?.(run),
      checkResume: (saved) => {
        if (JSON.stringify(saved.vocab) !== JSON.stringify(tokenizer.vocab))
          throw new Error('resume: the world vocabulary changed');
        if (JSON.stringify(saved.model) !== JSON.stringify(cfg))
          throw new Error(`resume: ${opts.out} holds another network (${JSON.stringify(saved.model)})`);
        if (saved.autoencoder?.weights !== autoencoder.weights)
          throw new Error(
            `resume: the latent cache was encoded by autoencoder weights ${autoencoder.weights}, the run by ${saved.autoencoder?.weights ?? 'none (pixel space)'}`,
          );
      },
      initial: initWeights(modelSpecs(cfg), new Rng(opts.seed)),
      session,
      batch: (step, run) => batchFeeds(cfg, makeBatch(world, tokenizer, cache, run.seed, step)),
      log: opts.log ?? ((line: string) => console.log(line)),
    });
  } finally {
    await session.release();
  }
}
