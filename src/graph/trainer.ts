/**
 * The one time-budgeted training loop for the networks trained by steps (the shapes model, the
 * feature nets): each step draws its batch from the step number (so a resumed run sees exactly the
 * batches an uninterrupted one would), runs the gradient session, clips, applies AdamW and the EMA,
 * logs, and checkpoints every few minutes. Without a fixed step count, the total is planned from
 * the first steps' speed so the cosine schedule ends with the budget. `trainInDirectory` runs it in
 * a checkpoint directory (weights and run record), fresh or resumed.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProvider } from '../models/onnx-model.js';
import {
  type AdamConfig,
  type AdamState,
  adamState,
  adamwStep,
  learningRate,
  type ScheduleConfig,
} from './optim.js';
import { cloneWeights, type HostTensor } from './params.js';
import { loadSafetensors, saveSafetensors } from './safetensors.js';
import type { Feed, GradientSession } from './session.js';

export interface TrainerConfig {
  readonly batchSize: number;
  readonly schedule: ScheduleConfig;
  readonly adam: AdamConfig;
  readonly gradClip: number;
  /** EMA decay of the weights (warmed up as min(decay, (1+k)/(10+k))); null for no EMA. */
  readonly emaDecay: number | null;
  readonly logEvery: number;
  readonly checkpointMinutes: number;
  /** Steps timed before planning the total step count of a time-limited run. */
  readonly planningSteps: number;
}

export interface TrainerState {
  step: number;
  totalSteps: number | null;
  readonly params: Map<string, HostTensor>;
  readonly ema: Map<string, HostTensor> | null;
  readonly adam: AdamState;
}

export function freshState(
  cfg: TrainerConfig,
  params: Map<string, HostTensor>,
  totalSteps: number | null,
): TrainerState {
  return {
    step: 0,
    totalSteps,
    params,
    ema: cfg.emaDecay === null ? null : cloneWeights(params),
    adam: adamState(params),
  };
}

const PARTS = ['params', 'ema', 'adam.m', 'adam.v'] as const;

function partOf(state: TrainerState, part: (typeof PARTS)[number]): Map<string, HostTensor> | null {
  if (part === 'params') return state.params;
  if (part === 'ema') return state.ema;
  return part === 'adam.m' ? state.adam.m : state.adam.v;
}

/** Writes the state as one safetensors file (write, then rename: a kill mid-write keeps the last one). */
export function saveState(file: string, state: TrainerState): void {
  const tensors = new Map<string, HostTensor>();
  for (const part of PARTS) for (const [k, v] of partOf(state, part) ?? []) tensors.set(`${part}.${k}`, v);
  saveSafetensors(`${file}.tmp`, tensors, { step: String(state.step), totalSteps: String(state.totalSteps) });
  renameSync(`${file}.tmp`, file);
}

/** Reads a state written by saveState; every tensor of `like` must be there with its shape. */
export function loadState(
  file: string,
  like: ReadonlyMap<string, HostTensor>,
  withEma: boolean,
): TrainerState {
  const { tensors, metadata } = loadSafetensors(file);
  const read = (part: string) =>
    new Map(
      [...like].map(([k, t]) => {
        const v = tensors.get(`${part}.${k}`);
        if (!v) throw new Error(`${file}: no tensor "${part}.${k}"`);
        if (v.shape.join(',') !== t.shape.join(','))
          throw new Error(`${file}: "${part}.${k}" is [${v.shape}], expected [${t.shape}]`);
        return [k, v];
      }),
    );
  const total = metadata.totalSteps;
  return {
    step: Number(metadata.step),
    totalSteps: total === undefined || total === 'null' ? null : Number(total),
    params: read('params'),
    ema: withEma ? read('ema') : null,
    adam: { m: read('adam.m'), v: read('adam.v') },
  };
}

/**
 * One step in place: the gradient session at the state's weights, global-norm clipping, AdamW with
 * the EMA update fused into its pass (warmed up: early weights change fast, so it averages over a
 * shorter horizon at first).
 */
export async function trainStep(
  cfg: TrainerConfig,
  session: GradientSession,
  state: TrainerState,
  batch: Readonly<Record<string, Feed>>,
): Promise<{ loss: number; gradNorm: number; lr: number }> {
  const lr = learningRate(cfg.schedule, state.step, state.totalSteps ?? Number.POSITIVE_INFINITY);
  const { loss, gradNorm, grads } = await session.run(state.params, batch);
  if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${state.step}`);
  const ema =
    state.ema && cfg.emaDecay !== null
      ? { weights: state.ema, decay: Math.min(cfg.emaDecay, (1 + state.step) / (10 + state.step)) }
      : undefined;
  const scale = Math.min(1, cfg.gradClip / (gradNorm + 1e-6));
  adamwStep(cfg.adam, state.params, grads, state.adam, lr, state.step + 1, scale, ema);
  state.step++;
  return { loss, gradNorm, lr };
}

export interface TrainLoop {
  readonly config: TrainerConfig;
  readonly session: GradientSession;
  readonly state: TrainerState;
  /** The batch of a step, from its own seeded stream. */
  readonly batch: (step: number) => Readonly<Record<string, Feed>>;
  readonly minutes: number;
  readonly save: (state: TrainerState) => void;
  readonly log: (line: string) => void;
  /** Measured every so many steps (a training curve), after that step's checkpoint, and at the end. */
  readonly evaluate?: Evaluation;
}

export interface Evaluation {
  readonly everySteps: number;
  readonly run: (state: TrainerState) => Promise<void>;
}

/** Runs until the planned or fixed step count, or the budget; returns the last step's loss. */
export async function runTraining(loop: TrainLoop): Promise<{ steps: number; loss: number }> {
  const { config: cfg, session, state, log } = loop;
  const started = Date.now();
  const deadline = started + loop.minutes * 60_000;
  let lastCheckpoint = Date.now();
  let window = { start: Date.now(), loss: 0, steps: 0 };
  let loss = Number.NaN;
  const stepTimes: number[] = [];
  while (state.totalSteps === null || state.step < state.totalSteps) {
    if (Date.now() >= deadline) {
      log(`time budget of ${loop.minutes} min reached at step ${state.step}`);
      break;
    }
    const t0 = Date.now();
    const out = await trainStep(cfg, session, state, loop.batch(state.step));
    ({ loss } = out);
    window.loss += loss;
    window.steps++;
    stepTimes.push(Date.now() - t0);
    if (state.totalSteps === null && stepTimes.length === cfg.planningSteps) {
      // Plan from the later steps (the first ones warm up), leaving 3% for checkpoints.
      const recent = stepTimes.slice(2);
      const msPerStep = recent.reduce((a, c) => a + c, 0) / recent.length;
      state.totalSteps = state.step + Math.floor((0.97 * (deadline - Date.now())) / msPerStep);
      log(`planned ${state.totalSteps} steps at ${msPerStep.toFixed(0)} ms/step`);
    }
    if (state.step % cfg.logEvery === 0) {
      const secs = (Date.now() - window.start) / 1000;
      log(
        `step ${state.step}/${state.totalSteps ?? '?'} loss ${(window.loss / window.steps).toFixed(4)} grad ${out.gradNorm.toFixed(2)} ` +
          `lr ${out.lr.toExponential(2)} ${((window.steps * cfg.batchSize) / secs).toFixed(1)} img/s ${((secs * 1000) / window.steps).toFixed(0)} ms/step ` +
          `elapsed ${((Date.now() - started) / 60_000).toFixed(1)} min`,
      );
      window = { start: Date.now(), loss: 0, steps: 0 };
    }
    const evaluate = loop.evaluate && state.step % loop.evaluate.everySteps === 0;
    if (evaluate || Date.now() - lastCheckpoint > cfg.checkpointMinutes * 60_000) {
      loop.save(state);
      lastCheckpoint = Date.now();
      log(`checkpoint at step ${state.step}`);
    }
    if (evaluate) {
      const t1 = Date.now();
      await loop.evaluate?.run(state);
      log(`evaluated at step ${state.step} in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
      window = { start: Date.now(), loss: 0, steps: 0 };
    }
  }
  loop.save(state);
  // The run's last weights get their point too, unless the loop just measured them.
  if (loop.evaluate && state.step % loop.evaluate.everySteps !== 0) await loop.evaluate.run(state);
  log(
    `done: ${state.step} steps, last loss ${loss.toFixed(4)}, ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  );
  return { steps: state.step, loss };
}

/** How a checkpointed training command is called (its flags). */
export interface RunOptions {
  readonly out: string;
  readonly seed: number;
  /** Wall-clock budget; the total step count is planned from the first steps' speed unless `steps` is set. */
  readonly minutes: number;
  readonly steps?: number;
  readonly resume?: boolean;
  /** Replace a checkpoint already in `out` (without it, or `resume`, an existing one is refused). */
  readonly force?: boolean;
  /** ONNX Runtime intra-op threads (default: one per core). */
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
  readonly log?: (line: string) => void;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const RUN_FILE = 'config.json';

/** What every checkpointed run records beside its weights (plus whatever rebuilds its network). */
export interface RunRecord {
  readonly seed: number;
  readonly totalSteps: number | null;
}

export interface DirectoryRun<R extends RunRecord> {
  /** The checkpoint directory: checkpoint.safetensors and config.json (the run record). */
  readonly out: string;
  readonly config: TrainerConfig;
  /** The record of a fresh run; on resume the saved seed and step count win. */
  readonly run: R;
  /** Throws when a saved run cannot be continued by this code (its network or data changed). */
  readonly checkResume?: (saved: R) => void;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly steps?: number;
  readonly minutes: number;
  readonly initial: Map<string, HostTensor>;
  readonly session: GradientSession;
  readonly batch: (step: number, run: R) => Readonly<Record<string, Feed>>;
  readonly log: (line: string) => void;
  readonly evaluate?: Evaluation;
}

/**
 * A fresh run may not silently replace a checkpoint: it needs `resume` (continue it) or `force`.
 * `resume` on an empty directory starts fresh, so one resumable command both starts and continues.
 */
export function checkRunOut(out: string, resume = false, force = false): void {
  if (!resume && !force && existsSync(join(out, CHECKPOINT_FILE)))
    throw new Error(
      `${out} already holds a training checkpoint; give --resume to continue it or --force to replace it`,
    );
}

export const readRun = <R extends RunRecord>(dir: string): R =>
  JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as R;

/**
 * A training run in a checkpoint directory: fresh, or resumed exactly where its last checkpoint
 * left it; every save writes the weights and then the run record.
 */
export async function trainInDirectory<R extends RunRecord>(
  d: DirectoryRun<R>,
): Promise<{ steps: number; loss: number }> {
  checkRunOut(d.out, d.resume, d.force);
  mkdirSync(d.out, { recursive: true });
  const file = join(d.out, CHECKPOINT_FILE);
  let run: R = { ...d.run, totalSteps: d.steps ?? d.run.totalSteps };
  let state: TrainerState;
  if (d.resume && existsSync(file)) {
    const saved = readRun<R>(d.out);
    d.checkResume?.(saved);
    run = { ...run, seed: saved.seed, totalSteps: d.steps ?? saved.totalSteps };
    state = loadState(file, d.initial, d.config.emaDecay !== null);
    state.totalSteps = run.totalSteps;
    d.log(`resumed ${d.out} at step ${state.step}`);
  } else {
    state = freshState(d.config, d.initial, run.totalSteps);
  }
  const save = (s: TrainerState) => {
    saveState(file, s);
    run = { ...run, totalSteps: s.totalSteps };
    writeFileSync(join(d.out, RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
  };
  return runTraining({
    config: d.config,
    session: d.session,
    state,
    batch: (step) => d.batch(step, run),
    minutes: d.minutes,
    save,
    log: d.log,
    evaluate: d.evaluate,
  });
}

/** A checkpoint directory as saved: its run record, step and every tensor (params., ema., adam.*). */
export function loadCheckpointDir<R extends RunRecord>(
  dir: string,
): { run: R; step: number; tensors: Map<string, HostTensor> } {
  const { tensors, metadata } = loadSafetensors(join(dir, CHECKPOINT_FILE));
  return { run: readRun<R>(dir), step: Number(metadata.step), tensors };
}

/** The EMA weights of a checkpoint's tensors, by parameter name: what gets exported. */
export function emaWeights(tensors: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  return new Map([...tensors].filter(([k]) => k.startsWith('ema.')).map(([k, v]) => [k.slice(4), v]));
}
