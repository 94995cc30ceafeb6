/**
 * A policy checkpoint is a folder: the network weights (policy.safetensors, all inference needs),
 * Adam's moments (optimizer.safetensors) and policy.json with everything else needed to rebuild the
 * network, know what it was trained for and on, and resume training exactly: S, the feature shape,
 * network and reward settings, training options, epoch, Adam step, per-epoch log, data hash and
 * the command line. Each file is written to a temporary name and renamed, so none is ever half
 * written, and each records its epoch, so a folder mixing two saves (a run killed between renames)
 * is refused on load instead of resuming inexactly.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  disposeTree,
  fromHost,
  type HostTensor,
  initEngine,
  loadSafetensors,
  saveSafetensors,
  toHost,
} from '../engine/index.js';
import { ModelFolderError } from '../models/errors.js';
import { readJson } from '../models/json-file.js';
import { initPolicy, type NetworkConfig, networkConfig, type PolicyParams } from './network.js';
import type { RewardConfig } from './reward.js';
import type { TrainOptions, TrainState } from './train.js';

export const CHECKPOINT_FILES = {
  config: 'policy.json',
  weights: 'policy.safetensors',
  optimizer: 'optimizer.safetensors',
} as const;

const FORMAT = 'adadiff-policy';
const VERSION = 1;

const positiveInt = z.int().positive();
const count = z.int().nonnegative();

const schema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  /** S, in action order. */
  steps: z.array(positiveInt).min(1),
  features: z.object({ tokens: positiveInt, dim: positiveInt }),
  network: z
    .object({ width: positiveInt, heads: positiveInt, layers: positiveInt, mlpRatio: positiveInt })
    .refine((n) => n.width % n.heads === 0, { error: 'must be a multiple of heads', path: ['width'] }),
  reward: z.object({
    kind: z.enum(['topk', 'threshold', 'steps-only']),
    lambda: z.number(),
    topK: positiveInt,
    gamma: z.number(),
    threshold: z.number(),
  }),
  training: z.object({
    epochs: count,
    batchSize: positiveInt,
    learningRate: z.number().positive(),
    gradient: z.enum(['reinforce', 'exact']),
    baseline: z.enum(['none', 'mean']),
    seed: z.int(),
  }),
  epoch: count,
  adamStep: count,
  history: z.array(
    z.object({
      epoch: positiveInt,
      trainReward: z.number(),
      valReward: z.number(),
      entropy: z.number(),
      meanSteps: z.number(),
      seconds: z.number(),
    }),
  ),
  dataHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest'),
  commandLine: z.array(z.string()),
});

type CheckpointJson = z.infer<typeof schema>;

export interface Checkpoint {
  readonly network: NetworkConfig;
  /** Its `steps` is S. */
  readonly reward: RewardConfig;
  readonly training: TrainOptions;
  /** `dataHash(...)` of the dataset it was trained on. */
  readonly dataHash: string;
  readonly commandLine: readonly string[];
  readonly state: TrainState;
}

function writeAtomically(file: string, write: (tmp: string) => void): void {
  const tmp = `${file}.tmp`;
  write(tmp);
  renameSync(tmp, file);
}

const prefixed = (prefix: string, m: Map<string, HostTensor>) =>
  new Map([...m].map(([k, v]) => [`${prefix}.${k}`, v]));

const unprefixed = (prefix: string, m: Map<string, HostTensor>) =>
  new Map(
    [...m].filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => [k.slice(prefix.length + 1), v]),
  );

/** Writes the checkpoint folder; does not consume `c.state`. */
export function saveCheckpoint(dir: string, c: Checkpoint): void {
  const { network: net, reward, state } = c;
  if (net.actions !== reward.steps.length)
    throw new Error(`the network has ${net.actions} actions, S has ${reward.steps.length}`);
  mkdirSync(dir, { recursive: true });
  const json: CheckpointJson = {
    format: FORMAT,
    version: VERSION,
    steps: [...reward.steps],
    features: { tokens: net.tokens, dim: net.featureDim },
    network: { width: net.width, heads: net.heads, layers: net.layers, mlpRatio: net.mlpRatio },
    reward: {
      kind: reward.kind,
      lambda: reward.lambda,
      topK: reward.topK,
      gamma: reward.gamma,
      threshold: reward.threshold,
    },
    training: { ...c.training },
    epoch: state.epoch,
    adamStep: state.step,
    history: state.history,
    dataHash: c.dataHash,
    commandLine: [...c.commandLine],
  };
  const optimizer = new Map([...prefixed('m', toHost(state.opt.m)), ...prefixed('v', toHost(state.opt.v))]);
  // Each file records its epoch, so a folder left half-written by a killed save is caught on load.
  const metadata = { epoch: String(state.epoch) };
  writeAtomically(join(dir, CHECKPOINT_FILES.weights), (tmp) =>
    saveSafetensors(tmp, toHost(state.params), metadata),
  );
  writeAtomically(join(dir, CHECKPOINT_FILES.optimizer), (tmp) => saveSafetensors(tmp, optimizer, metadata));
  writeAtomically(join(dir, CHECKPOINT_FILES.config), (tmp) =>
    writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`),
  );
}

/** The tensors of a safetensors file written at `epoch`; faults name the file. */
function readTensors(file: string, epoch: number): Map<string, HostTensor> {
  const { tensors, metadata } = loadSafetensors(file);
  if (metadata.epoch !== String(epoch)) {
    throw new ModelFolderError(
      file,
      `holds epoch ${metadata.epoch}, ${CHECKPOINT_FILES.config} says ${epoch} (interrupted save?)`,
    );
  }
  return tensors;
}

/** A tree shaped like a fresh network's from host tensors; faults name the file. */
function readTree(file: string, network: NetworkConfig, tensors: Map<string, HostTensor>): PolicyParams {
  // initPolicy only supplies names and shapes; its values are replaced.
  const like = initPolicy(network, 0);
  try {
    return fromHost(like, tensors);
  } catch (e) {
    throw new ModelFolderError(file, (e as Error).message, { cause: e });
  } finally {
    disposeTree(like);
  }
}

/** Reads a checkpoint folder; the caller owns the returned state's arrays. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  await initEngine();
  const json = await readJson(join(dir, CHECKPOINT_FILES.config), schema);
  const network = networkConfig(json.features.tokens, json.features.dim, json.steps.length, json.network);
  const weightsFile = join(dir, CHECKPOINT_FILES.weights);
  const optimizerFile = join(dir, CHECKPOINT_FILES.optimizer);
  const params = readTree(weightsFile, network, readTensors(weightsFile, json.epoch));
  const moments = readTensors(optimizerFile, json.epoch);
  const m = readTree(optimizerFile, network, unprefixed('m', moments));
  const v = readTree(optimizerFile, network, unprefixed('v', moments));
  return {
    network,
    reward: { ...json.reward, steps: json.steps },
    training: json.training,
    dataHash: json.dataHash,
    commandLine: json.commandLine,
    state: { params, opt: { m, v }, step: json.adamStep, epoch: json.epoch, history: json.history },
  };
}
