/**
 * Trains the shapes text-to-image model (model.ts) on scenes rendered on the fly. One readable loop:
 * sample a seeded batch on the host, run one jitted step (loss, gradient, clip, AdamW, EMA), log,
 * checkpoint. Every batch comes from its own Rng(seed, step), so a resumed run sees exactly the
 * batches an uninterrupted one would.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AdamConfig,
  type AdamState,
  adamw,
  blockUntilReady,
  ENGINE_THREADS,
  emaUpdate,
  fromHost,
  type HostTensor,
  initEngine,
  jit,
  loadSafetensors,
  np,
  type ParamTree,
  refTree,
  saveSafetensors,
  type Tensor,
  toHost,
  tree,
  valueAndGrad,
  zerosLike,
} from '../../engine/index.js';
import { Rng } from '../../util/random.js';
import { encodeText, initParams, type ModelConfig, type ModelParams, predictVelocity } from './model.js';
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
  lr: 6e-4,
  minLrFraction: 0.05,
  warmupSteps: 150,
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01 } satisfies AdamConfig,
  gradClip: 1,
  emaDecay: 0.999,
  /** Share of empty prompts, so the model also learns the unconditional branch of CFG guidance. */
  captionDropout: 0.1,
  logEvery: 25,
  checkpointMinutes: 4,
  /** Steps timed before planning the total step count of a time-limited run. */
  planningSteps: 12,
} as const;

export interface TrainOptions {
  readonly out: string;
  readonly seed: number;
  /** Wall-clock budget; the total step count is planned from the first steps' speed unless `steps` is set. */
  readonly minutes: number;
  readonly steps?: number;
  readonly resume?: boolean;
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

type TrainState = { params: ModelParams; ema: ModelParams; opt: AdamState };

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const CONFIG_FILE = 'config.json';

export function makeTokenizer(
  world: Pick<WorldSource<unknown>, 'normalizeWords' | 'WORLD_VOCABULARY'>,
): WordTokenizer {
  return new WordTokenizer(world.WORLD_VOCABULARY, TRAIN_CONFIG.model.maxTokens, world.normalizeWords);
}

/** Linear warmup, then cosine decay to minLrFraction·lr at totalSteps. */
export function learningRate(step: number, totalSteps: number): number {
  const { lr, warmupSteps, minLrFraction } = TRAIN_CONFIG;
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return lr * (minLrFraction + (1 - minLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export interface Batch {
  readonly noisy: Float32Array;
  /** The network's target, v = √ᾱ·ε − √(1−ᾱ)·x0. */
  readonly velocity: Float32Array;
  readonly timesteps: Float32Array;
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
  const timesteps = new Float32Array(b);
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

/** v-prediction MSE; borrows `params` (disposes its own reference). */
export function diffusionLoss(
  cfg: ModelConfig,
  params: ModelParams,
  noisy: Tensor,
  t: Tensor,
  ids: Tensor,
  velocity: Tensor,
): Tensor {
  const c = encodeText(cfg, refTree(params.text), ids);
  const pred = predictVelocity(cfg, refTree(params.unet), noisy, t, c);
  tree.dispose(params);
  return np.square(pred.sub(velocity)).mean();
}

/** Scales the gradient tree so its global L2 norm is at most maxNorm; returns [grads, norm]. */
function clipGradients(grads: ParamTree, maxNorm: number): [ParamTree, Tensor] {
  const leaves = tree.leaves(grads) as Tensor[];
  const norm = np.sqrt(leaves.map((g) => np.square(g.ref).sum()).reduce((a, b) => a.add(b)));
  const scale = np.minimum(np.reciprocal(norm.ref.add(1e-6)).mul(maxNorm), 1);
  const clipped = tree.map((g: Tensor) => g.mul(scale.ref), grads as Tensor[]) as ParamTree;
  scale.dispose();
  return [clipped, norm];
}

function makeStep(cfg: ModelConfig) {
  return jit(
    (
      state: TrainState,
      noisy: Tensor,
      t: Tensor,
      ids: Tensor,
      velocity: Tensor,
      lr: Tensor,
      step: Tensor,
      decay: Tensor,
    ) => {
      const [loss, grads] = valueAndGrad((p: ModelParams) => diffusionLoss(cfg, p, noisy, t, ids, velocity))(
        refTree(state.params),
      );
      const [clipped, gradNorm] = clipGradients(grads as ParamTree, TRAIN_CONFIG.gradClip);
      const next = adamw(TRAIN_CONFIG.adam, state.params, clipped, state.opt, lr, step);
      const ema = emaUpdate(state.ema, refTree(next.params), decay) as ModelParams;
      return { state: { params: next.params as ModelParams, ema, opt: next.state }, loss, gradNorm };
    },
  );
}

async function saveCheckpoint(out: string, state: TrainState, run: RunConfig, step: number): Promise<void> {
  await blockUntilReady(state);
  const tensors = new Map([
    ...prefixed('params', toHost(state.params)),
    ...prefixed('ema', toHost(state.ema)),
    ...prefixed('adam.m', toHost(state.opt.m)),
    ...prefixed('adam.v', toHost(state.opt.v)),
  ]);
  // Write then rename, so a run killed mid-write leaves the previous checkpoint intact.
  const tmp = join(out, `${CHECKPOINT_FILE}.tmp`);
  saveSafetensors(tmp, tensors, { step: String(step) });
  renameSync(tmp, join(out, CHECKPOINT_FILE));
  writeFileSync(join(out, CONFIG_FILE), `${JSON.stringify(run, null, 2)}\n`);
}

function prefixed<V>(prefix: string, m: Map<string, V>): [string, V][] {
  return [...m].map(([k, v]) => [`${prefix}.${k}`, v]);
}

function unprefixed<V>(prefix: string, m: Map<string, V>): Map<string, V> {
  return new Map(
    [...m].filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => [k.slice(prefix.length + 1), v]),
  );
}

/** Loads a checkpoint directory: run config, step, and all tensors (params., ema., adam.m., adam.v.). */
export function loadCheckpoint(dir: string): {
  run: RunConfig;
  step: number;
  tensors: Map<string, HostTensor>;
} {
  const run = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as RunConfig;
  const { tensors, metadata } = loadSafetensors(join(dir, CHECKPOINT_FILE));
  return { run, step: Number(metadata.step), tensors };
}

/** One prefixed tree of a checkpoint ('params', 'ema', 'adam.m', 'adam.v') shaped like `like`. */
export function weightsFrom<T extends ParamTree>(
  like: T,
  tensors: Map<string, HostTensor>,
  prefix: string,
): T {
  return fromHost(like, unprefixed(prefix, tensors));
}

export async function train<S>(
  world: WorldSource<S>,
  opts: TrainOptions,
): Promise<{ steps: number; loss: number }> {
  await initEngine();
  const log = opts.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const deadline = started + opts.minutes * 60_000;
  const tokenizer = makeTokenizer(world);
  const cfg: ModelConfig = { ...TRAIN_CONFIG.model, vocabSize: tokenizer.vocab.length };
  mkdirSync(opts.out, { recursive: true });

  const fresh = initParams(cfg, new Rng(opts.seed));
  let run: RunConfig = {
    model: cfg,
    vocab: tokenizer.vocab,
    seed: opts.seed,
    totalSteps: opts.steps ?? null,
    train: TRAIN_CONFIG,
  };
  let state: TrainState;
  let step = 0;
  if (opts.resume && existsSync(join(opts.out, CHECKPOINT_FILE))) {
    const ckpt = loadCheckpoint(opts.out);
    if (JSON.stringify(ckpt.run.vocab) !== JSON.stringify(tokenizer.vocab))
      throw new Error('resume: the world vocabulary changed');
    run = { ...ckpt.run, totalSteps: opts.steps ?? ckpt.run.totalSteps };
    state = {
      params: weightsFrom(fresh, ckpt.tensors, 'params'),
      ema: weightsFrom(fresh, ckpt.tensors, 'ema'),
      opt: { m: weightsFrom(fresh, ckpt.tensors, 'adam.m'), v: weightsFrom(fresh, ckpt.tensors, 'adam.v') },
    };
    tree.dispose(fresh);
    step = ckpt.step;
    log(`resumed ${opts.out} at step ${step}`);
  } else {
    state = { params: fresh, ema: refTree(fresh), opt: { m: zerosLike(fresh), v: zerosLike(fresh) } };
  }

  log(`engine threads: ${ENGINE_THREADS} (ADADIFF_THREADS)`);
  const trainStep = makeStep(cfg);
  let lastCheckpoint = Date.now();
  let windowStart = Date.now();
  let windowLoss = 0;
  let windowSteps = 0;
  let loss = Number.NaN;
  const stepTimes: number[] = [];
  while (run.totalSteps === null || step < run.totalSteps) {
    if (Date.now() >= deadline) {
      log(`time budget of ${opts.minutes} min reached at step ${step}`);
      break;
    }
    const t0 = Date.now();
    const batch = makeBatch(world, tokenizer, run.seed, step, cfg.imageSize);
    const b = TRAIN_CONFIG.batchSize;
    const s = cfg.imageSize;
    const lr = learningRate(step, run.totalSteps ?? Number.POSITIVE_INFINITY);
    // EMA warm-up: early weights change fast, so average over a shorter horizon at first.
    const decay = Math.min(TRAIN_CONFIG.emaDecay, (1 + step) / (10 + step));
    const out = trainStep(
      state,
      np.array(batch.noisy).reshape([b, cfg.channels, s, s]),
      np.array(batch.timesteps),
      np.array(batch.ids, { dtype: np.int32 }).reshape([b, cfg.maxTokens]),
      np.array(batch.velocity).reshape([b, cfg.channels, s, s]),
      np.array(lr),
      np.array(step + 1),
      np.array(decay),
    );
    state = out.state;
    loss = (await out.loss.data())[0];
    const gradNorm = (await out.gradNorm.data())[0];
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${step}`);
    step++;
    windowLoss += loss;
    windowSteps++;
    stepTimes.push(Date.now() - t0);

    if (run.totalSteps === null && stepTimes.length === TRAIN_CONFIG.planningSteps) {
      // Plan from the later steps (the first includes compilation), leaving 3% for checkpoints.
      const recent = stepTimes.slice(2);
      const msPerStep = recent.reduce((a, c) => a + c, 0) / recent.length;
      run = { ...run, totalSteps: step + Math.floor((0.97 * (deadline - Date.now())) / msPerStep) };
      log(`planned ${run.totalSteps} steps at ${msPerStep.toFixed(0)} ms/step`);
    }
    if (step % TRAIN_CONFIG.logEvery === 0) {
      const secs = (Date.now() - windowStart) / 1000;
      log(
        `step ${step}/${run.totalSteps ?? '?'} loss ${(windowLoss / windowSteps).toFixed(4)} grad ${gradNorm.toFixed(2)} ` +
          `lr ${lr.toExponential(2)} ${((windowSteps * b) / secs).toFixed(1)} img/s ${((secs * 1000) / windowSteps).toFixed(0)} ms/step ` +
          `elapsed ${((Date.now() - started) / 60_000).toFixed(1)} min`,
      );
      windowStart = Date.now();
      windowLoss = 0;
      windowSteps = 0;
    }
    if (Date.now() - lastCheckpoint > TRAIN_CONFIG.checkpointMinutes * 60_000) {
      await saveCheckpoint(opts.out, state, run, step);
      lastCheckpoint = Date.now();
      log(`checkpoint at step ${step}`);
    }
  }
  await saveCheckpoint(opts.out, state, run, step);
  log(
    `done: ${step} steps, last loss ${loss.toFixed(4)}, ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  );
  tree.dispose(state);
  trainStep.dispose();
  return { steps: step, loss };
}
