/**
 * A policy checkpoint is a folder: the network weights (policy.safetensors), the inference graph
 * with those weights (policy.onnx, all inference needs, runnable wherever ONNX Runtime runs), Adam's
 * moments (optimizer.safetensors) and policy.json with everything else needed to rebuild the
 * network, know what it was trained for and on, and resume training exactly: S, the feature shape,
 * network and reward settings, training options, epoch, Adam step, per-epoch log, data hash and
 * the command line. Each file is written to a temporary name and renamed, so none is ever half
 * written, and each records its epoch (policy.onnx by its hash in policy.json, written last), so a
 * folder mixing two saves (a run killed between renames) is refused on load instead of resuming
 * inexactly.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { checkWeights, type HostTensor } from '../graph/params.js';
import { loadSafetensors, saveSafetensors } from '../graph/safetensors.js';
import { ModelFolderError } from '../models/errors.js';
import { readJson } from '../models/json-file.js';
import { type NetworkConfig, networkConfig, type PolicyParams, policyOnnx, policySpecs } from './network.js';
import type { RewardConfig } from './reward.js';
import type { TrainOptions, TrainState } from './train.js';

export const CHECKPOINT_FILES = {
  config: 'policy.json',
  weights: 'policy.safetensors',
  onnx: 'policy.onnx',
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
  reward: z
    .object({
      kind: z.enum(['topk', 'threshold', 'steps-only', 'budget']),
      lambda: z.number(),
      topK: positiveInt,
      gamma: z.number(),
      threshold: z.number(),
      quality: z.enum(['absolute', 'relative']).optional(),
      budget: z.object({ target: z.number(), multiplier: z.number(), calibration: z.number() }).optional(),
    })
    .refine((r) => (r.kind === 'budget') === (r.budget !== undefined), {
      error: 'a budget reward, and only one, has a budget',
      path: ['budget'],
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
  /** sha256 of policy.onnx; absent in folders saved before it shipped. */
  onnxHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest')
    .optional(),
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

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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

/** Writes the checkpoint folder. */
export function saveCheckpoint(dir: string, c: Checkpoint): void {
  const { network: net, reward, state } = c;
  if (net.actions !== reward.steps.length)
    throw new Error(`the network has ${net.actions} actions, S has ${reward.steps.length}`);
  mkdirSync(dir, { recursive: true });
  const onnx = policyOnnx(net, state.params);
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
      ...(reward.quality ? { quality: reward.quality } : {}),
      ...(reward.budget ? { budget: { ...reward.budget } } : {}),
    },
    training: { ...c.training },
    epoch: state.epoch,
    adamStep: state.step,
    history: state.history,
    dataHash: c.dataHash,
    onnxHash: sha256(onnx),
    commandLine: [...c.commandLine],
  };
  const optimizer = new Map([...prefixed('m', state.opt.m), ...prefixed('v', state.opt.v)]);
  // Each file records its epoch, so a folder left half-written by a killed save is caught on load.
  const metadata = { epoch: String(state.epoch) };
  writeAtomically(join(dir, CHECKPOINT_FILES.weights), (tmp) => saveSafetensors(tmp, state.params, metadata));
  writeAtomically(join(dir, CHECKPOINT_FILES.optimizer), (tmp) => saveSafetensors(tmp, optimizer, metadata));
  writeAtomically(join(dir, CHECKPOINT_FILES.onnx), (tmp) => writeFileSync(tmp, onnx));
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

/** The network's tensors, in its order; faults name the file. */
function networkTensors(
  file: string,
  network: NetworkConfig,
  tensors: Map<string, HostTensor>,
): PolicyParams {
  const specs = policySpecs(network);
  try {
    checkWeights(specs, tensors, 'policy network');
  } catch (e) {
    throw new ModelFolderError(file, (e as Error).message, { cause: e });
  }
  return new Map(specs.map((s) => [s.name, tensors.get(s.name) as HostTensor]));
}

async function readConfig(dir: string) {
  const json = await readJson(join(dir, CHECKPOINT_FILES.config), schema);
  const network = networkConfig(json.features.tokens, json.features.dim, json.steps.length, json.network);
  return { json, network, reward: { ...json.reward, steps: json.steps } };
}

/** A checkpoint's settings without its tensors: what the policy is, how and on what it was trained. */
export async function loadCheckpointSettings(
  dir: string,
): Promise<Pick<Checkpoint, 'network' | 'reward' | 'training' | 'dataHash' | 'commandLine'>> {
  const { json, network, reward } = await readConfig(dir);
  return { network, reward, training: json.training, dataHash: json.dataHash, commandLine: json.commandLine };
}

/** Reads a checkpoint folder, its optimizer state included (a run resumes from it). */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const { json, network, reward } = await readConfig(dir);
  const weightsFile = join(dir, CHECKPOINT_FILES.weights);
  const optimizerFile = join(dir, CHECKPOINT_FILES.optimizer);
  if (!existsSync(optimizerFile))
    throw new ModelFolderError(
      optimizerFile,
      'is missing: the folder holds a policy without its optimizer state (as the embedded model ships it), which can be used but not resumed',
    );
  const params = networkTensors(weightsFile, network, readTensors(weightsFile, json.epoch));
  const moments = readTensors(optimizerFile, json.epoch);
  const m = networkTensors(optimizerFile, network, unprefixed('m', moments));
  const v = networkTensors(optimizerFile, network, unprefixed('v', moments));
  return {
    network,
    reward,
    training: json.training,
    dataHash: json.dataHash,
    commandLine: json.commandLine,
    state: { params, opt: { m, v }, step: json.adamStep, epoch: json.epoch, history: json.history },
  };
}

/**
 * What inference needs from a policy folder: its config and its ONNX graph. A folder saved before
 * policy.onnx shipped gets the graph built from its weights.
 */
export async function loadPolicyOnnx(
  dir: string,
): Promise<{ network: NetworkConfig; reward: RewardConfig; onnx: Uint8Array }> {
  const { json, network, reward } = await readConfig(dir);
  const onnxFile = join(dir, CHECKPOINT_FILES.onnx);
  const weightsFile = join(dir, CHECKPOINT_FILES.weights);
  // The weights are read even beside the graph: their bytes, shapes and finiteness are checked here.
  const params = existsSync(weightsFile)
    ? networkTensors(weightsFile, network, readTensors(weightsFile, json.epoch))
    : null;
  if (existsSync(onnxFile)) {
    const onnx = new Uint8Array(readFileSync(onnxFile));
    if (json.onnxHash !== undefined && sha256(onnx) !== json.onnxHash) {
      throw new ModelFolderError(
        onnxFile,
        `is not the graph ${CHECKPOINT_FILES.config} names (interrupted save?)`,
      );
    }
    return { network, reward, onnx };
  }
  if (!params)
    throw new ModelFolderError(dir, `holds neither ${CHECKPOINT_FILES.onnx} nor ${CHECKPOINT_FILES.weights}`);
  return { network, reward, onnx: policyOnnx(network, params) };
}
