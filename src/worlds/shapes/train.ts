/**
 * Trains the shapes text-to-image model (model.ts) on scenes rendered on the fly, with the one
 * training loop of src/graph/trainer.ts: every batch comes from its own Rng(seed, step), so a
 * resumed run sees exactly the batches an uninterrupted one would.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostTensor } from '../../graph/params.js';
import { initWeights } from '../../graph/params.js';
import { loadSafetensors } from '../../graph/safetensors.js';
import { type Feed, floatFeed, GradientSession, int64Feed } from '../../graph/session.js';
import {
  freshState,
  loadState,
  runTraining,
  saveState,
  type TrainerConfig,
  type TrainerState,
} from '../../graph/trainer.js';
import type { ExecutionProvider } from '../../models/onnx-model.js';
import { Rng } from '../../util/random.js';
import { type ModelConfig, modelSpecs, trainingGraph } from './model.js';
import { alphasCumprod } from './model-schedule.js';
import { WordTokenizer } from './model-tokenizer.js';

/** What the trainer needs from the shapes world (index.ts provides it). */
export interface WorldSource<Scene> {
  sampleScene(rng: Rng): Scene;
  describe(scene: Scene, dialect: 'terse' | 'verbose', rng: Rng): string;
  render(scene: Scene, size: number, rng?: Rng): Float32Array;
  normalizeWords(prompt: string): string[];
  readonly WORLD_VOCABULARY: readonly string[];
}

export const TRAIN_CONFIG = {
  model: {
    maxTokens: 64,
    textDim: 128,
    textLayers: 2,
    textHeads: 4,
    imageSize: 32,
    channels: 3,
    widths: [32, 64, 128],
    midBlocks: 2,
    heads: 4,
    mlpRatio: 4,
    timeFreqDim: 128,
    timeDim: 128,
  },
  batchSize: 16,
  schedule: { lr: 6e-4, minLrFraction: 0.05, warmupSteps: 150 },
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01 },
  gradClip: 1,
  emaDecay: 0.999,
  /** Share of empty prompts, so the model also learns the unconditional branch of CFG guidance. */
  captionDropout: 0.1,
  logEvery: 25,
  checkpointMinutes: 4,
  planningSteps: 12,
} as const satisfies TrainerConfig & Record<string, unknown>;

export interface TrainOptions {
  readonly out: string;
  readonly seed: number;
  /** Wall-clock budget; the total step count is planned from the first steps' speed unless `steps` is set. */
  readonly minutes: number;
  readonly steps?: number;
  readonly resume?: boolean;
  /** ONNX Runtime intra-op threads (default: one per core). */
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
  readonly log?: (line: string) => void;
}

/** Saved beside the weights: everything needed to rebuild the model and continue the run. */
export interface RunConfig {
  readonly model: ModelConfig;
  readonly vocab: readonly string[];
  readonly seed: number;
  readonly totalSteps: number | null;
  readonly train: typeof TRAIN_CONFIG;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const CONFIG_FILE = 'config.json';

export function makeTokenizer(
  world: Pick<WorldSource<unknown>, 'normalizeWords' | 'WORLD_VOCABULARY'>,
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

/** One batch from its own seeded stream: scenes, prompts (both dialects), renders, noised
 * images and their v targets. */
export function makeBatch<S>(
  world: WorldSource<S>,
  tokenizer: WordTokenizer,
  seed: number,
  step: number,
  size: number,
): Batch {
  const { batchSize: b, captionDropout, model } = TRAIN_CONFIG;
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ step) >>> 0);
  const pixels = model.channels * model.imageSize * model.imageSize;
  const abar = alphasCumprod();
  const noisy = new Float32Array(b * pixels);
  const velocity = new Float32Array(b * pixels);
  const noise = rng.normalArray(b * pixels);
  const timesteps = new Int32Array(b);
  const ids = new Int32Array(b * model.maxTokens);
  for (let i = 0; i < b; i++) {
    const scene = world.sampleScene(rng);
    const prompt = world.describe(scene, rng.uniform() < 0.5 ? 'terse' : 'verbose', rng);
    ids.set(tokenizer.encode(rng.uniform() < captionDropout ? '' : prompt), i * model.maxTokens);
    const image = world.render(scene, size, rng);
    const t = rng.int(abar.length);
    timesteps[i] = t;
    const a = Math.sqrt(abar[t]);
    const s = Math.sqrt(1 - abar[t]);
    for (let j = 0; j < pixels; j++) {
      const k = i * pixels + j;
      const x0 = 2 * image[j] - 1;
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

const readRunConfig = (dir: string) => JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as RunConfig;

/** Loads a checkpoint directory: run config, step, and all tensors (params., ema., adam.m., adam.v.). */
export function loadCheckpoint(dir: string): {
  run: RunConfig;
  step: number;
  tensors: Map<string, HostTensor>;
} {
  const { tensors, metadata } = loadSafetensors(join(dir, CHECKPOINT_FILE));
  return { run: readRunConfig(dir), step: Number(metadata.step), tensors };
}

export async function train<S>(
  world: WorldSource<S>,
  opts: TrainOptions,
): Promise<{ steps: number; loss: number }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const tokenizer = makeTokenizer(world);
  const cfg: ModelConfig = { ...TRAIN_CONFIG.model, vocabSize: tokenizer.vocab.length };
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, CHECKPOINT_FILE);
  const fresh = initWeights(modelSpecs(cfg), new Rng(opts.seed));
  let run: RunConfig = {
    model: cfg,
    vocab: tokenizer.vocab,
    seed: opts.seed,
    totalSteps: opts.steps ?? null,
    train: TRAIN_CONFIG,
  };
  let state: TrainerState;
  if (opts.resume && existsSync(file)) {
    // The weights are read once, by loadState; here only the run's settings.
    const saved = readRunConfig(opts.out);
    if (JSON.stringify(saved.vocab) !== JSON.stringify(tokenizer.vocab))
      throw new Error('resume: the world vocabulary changed');
    run = { ...run, seed: saved.seed, totalSteps: opts.steps ?? saved.totalSteps };
    state = loadState(file, fresh, true);
    state.totalSteps = run.totalSteps;
    log(`resumed ${opts.out} at step ${state.step}`);
  } else {
    state = freshState(TRAIN_CONFIG, fresh, run.totalSteps);
  }
  const { graph, loss } = trainingGraph(cfg, TRAIN_CONFIG.batchSize);
  const session = await GradientSession.create(graph, loss, {
    threads: opts.threads,
    provider: opts.provider,
  });
  const save = (s: TrainerState) => {
    saveState(file, s);
    run = { ...run, totalSteps: s.totalSteps };
    writeFileSync(join(opts.out, CONFIG_FILE), `${JSON.stringify(run, null, 2)}\n`);
  };
  try {
    return await runTraining({
      config: TRAIN_CONFIG,
      session,
      state,
      batch: (step) => batchFeeds(cfg, makeBatch(world, tokenizer, run.seed, step, cfg.imageSize)),
      minutes: opts.minutes,
      save,
      log,
    });
  } finally {
    await session.release();
  }
}
