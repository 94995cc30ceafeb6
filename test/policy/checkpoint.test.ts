import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import onnx from 'onnx-proto';
import { saveSafetensors } from '../../src/graph/safetensors.js';
import {
  CHECKPOINT_FILES,
  type Checkpoint,
  loadCheckpoint,
  saveCheckpoint,
} from '../../src/policy/checkpoint.js';
import { dataHash, splitByPrompt } from '../../src/policy/dataset.js';
import { networkConfig, PolicyRunner } from '../../src/policy/network.js';
import { StepSelector } from '../../src/policy/selector.js';
import {
  type EpochLog,
  TRAIN_DEFAULTS,
  type TrainOptions,
  type TrainState,
  trainPolicy,
} from '../../src/policy/train.js';
import { type CheckpointRun, rewardRequest, trainToCheckpoint } from '../../src/policy/train-run.js';
import { SYNTHETIC_REWARD, syntheticDataset } from './synthetic.js';

const network = networkConfig(4, 5, SYNTHETIC_REWARD.steps.length, { width: 16, heads: 2, mlpRatio: 2 });
const data = syntheticDataset(150, network.tokens, network.featureDim, 3);
const split = splitByPrompt(data);
const training: TrainOptions = { ...TRAIN_DEFAULTS, epochs: 4, batchSize: 32, learningRate: 3e-3 };
const commandLine = ['adadiff', 'policy', 'train', '--epochs', '4'];
const root = mkdtempSync(join(tmpdir(), 'adadiff-policy-'));
after(() => rmSync(root, { recursive: true, force: true }));

const withoutTimes = (history: EpochLog[]) => history.map(({ seconds: _, ...rest }) => rest);

/** Trains `training.epochs` epochs, saving a checkpoint into `dir` after epoch `saveAt`. */
async function trainSaving(dir: string, saveAt: number): Promise<TrainState> {
  return trainPolicy({
    data,
    split,
    reward: SYNTHETIC_REWARD,
    network,
    options: training,
    onEpoch: (log, state) => {
      if (log.epoch === saveAt) {
        saveCheckpoint(dir, {
          network,
          reward: SYNTHETIC_REWARD,
          training,
          dataHash: dataHash(data),
          commandLine,
          state,
        });
      }
    },
  });
}

test('a checkpoint round-trips weights, optimizer state and settings', async () => {
  const dir = join(root, 'round-trip');
  const state = await trainSaving(dir, training.epochs);
  const loaded: Checkpoint = await loadCheckpoint(dir);
  assert.deepEqual(loaded.network, network);
  assert.deepEqual(loaded.reward, SYNTHETIC_REWARD);
  assert.deepEqual(loaded.training, training);
  assert.equal(loaded.dataHash, dataHash(data));
  assert.deepEqual(loaded.commandLine, commandLine);
  assert.equal(loaded.state.epoch, training.epochs);
  assert.equal(loaded.state.step, state.step);
  assert.deepEqual(loaded.state.history, state.history);
  assert.deepEqual(loaded.state.params, state.params);
  assert.deepEqual(loaded.state.opt, state.opt);
});

test('resuming from a mid-run checkpoint gives the uninterrupted result exactly', async () => {
  const dir = join(root, 'resume');
  const uninterrupted = await trainSaving(dir, 2);
  const checkpoint = await loadCheckpoint(dir);
  assert.equal(checkpoint.state.epoch, 2);
  const resumed = await trainPolicy({
    data,
    split,
    reward: checkpoint.reward,
    network: checkpoint.network,
    options: checkpoint.training,
    resume: checkpoint.state,
  });
  assert.equal(resumed.epoch, training.epochs);
  assert.equal(resumed.step, uninterrupted.step);
  assert.deepEqual(withoutTimes(resumed.history), withoutTimes(uninterrupted.history));
  assert.deepEqual(resumed.params, uninterrupted.params);
  assert.deepEqual(resumed.opt, uninterrupted.opt);
});

test('a bad checkpoint is rejected naming the file and the field', async () => {
  const dir = join(root, 'bad');
  await trainSaving(dir, 1);
  const jsonFile = join(dir, CHECKPOINT_FILES.config);
  const json = JSON.parse(readFileSync(jsonFile, 'utf8'));
  writeFileSync(jsonFile, JSON.stringify({ ...json, training: { ...json.training, gradient: 'adjoint' } }));
  await assert.rejects(
    loadCheckpoint(dir),
    (e: Error) => e.message.includes(jsonFile) && e.message.includes('training.gradient'),
  );

  writeFileSync(jsonFile, JSON.stringify(json));
  const weights = join(dir, CHECKPOINT_FILES.weights);
  const pos = { shape: [1], data: new Float32Array(1) };
  saveSafetensors(weights, new Map([['pos', pos]]), { epoch: String(json.epoch) });
  await assert.rejects(loadCheckpoint(dir), (e: Error) =>
    e.message.startsWith(`${weights}: policy network: no tensor "input.w"`),
  );
  saveSafetensors(weights, new Map([['pos', pos]]), { epoch: String(json.epoch + 1) });
  await assert.rejects(
    loadCheckpoint(dir),
    (e: Error) => e.message.startsWith(weights) && /interrupted/.test(e.message),
  );
});

test('policy.onnx is the inference graph with symbolic batch and length; a folder without it still loads', async () => {
  const dir = join(root, 'onnx');
  const state = await trainSaving(dir, training.epochs);
  const file = join(dir, CHECKPOINT_FILES.onnx);
  const graph = onnx.onnx.ModelProto.decode(readFileSync(file)).graph!;
  const dims = (v: onnx.onnx.IValueInfoProto) =>
    v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(
    [...graph.input!, ...graph.output!].map((v) => [v.name, dims(v)]),
    [
      ['features', ['batch', 'L', network.featureDim]],
      ['mask', ['batch', 'L']],
      ['probabilities', ['batch', network.actions]],
    ],
  );

  const features = {
    data: data.features.slice(0, 3 * 4 * 5),
    dims: [3, 4, 5] as [number, number, number],
    mask: data.mask.slice(0, 12),
  };
  const reference = await PolicyRunner.withWeightInputs(network);
  const expected = await reference.probabilities(
    { features: features.data, mask: features.mask, batch: 3 },
    state.params,
  );
  const shipped = await StepSelector.load(dir);
  assert.deepEqual(shipped.stepSet, SYNTHETIC_REWARD.steps);
  assert.deepEqual((await shipped.select(features)).probabilities.flat(), Array.from(expected));

  const older = join(root, 'without-onnx');
  mkdirSync(older);
  for (const f of [CHECKPOINT_FILES.config, CHECKPOINT_FILES.weights])
    copyFileSync(join(dir, f), join(older, f));
  const rebuilt = await StepSelector.load(older);
  assert.deepEqual((await rebuilt.select(features)).probabilities.flat(), Array.from(expected));

  // An onnx file from another save is refused, like a safetensors file from another epoch.
  const stale = join(root, 'stale');
  await trainSaving(stale, 1);
  copyFileSync(join(stale, CHECKPOINT_FILES.onnx), file);
  await assert.rejects(
    StepSelector.load(dir),
    (e: Error) => e.message.startsWith(file) && /interrupted/.test(e.message),
  );
  await reference.release();
});

test('a training run never replaces a checkpoint unless it resumes it or is forced, and resumes only with the same settings', async () => {
  const out = join(root, 'guarded');
  const run = (over: Partial<CheckpointRun> = {}) =>
    trainToCheckpoint({
      data,
      split,
      reward: rewardRequest(SYNTHETIC_REWARD),
      network,
      training: { ...training, epochs: 1 },
      out,
      commandLine,
      ...over,
    });
  await assert.rejects(run({ resume: true }), /guarded: no policy checkpoint to resume/);
  await run();
  const first = await loadCheckpoint(out);
  await assert.rejects(
    run(),
    /guarded already holds a policy checkpoint; give --resume to continue it or --force to replace it/,
  );
  assert.deepEqual((await loadCheckpoint(out)).state.params, first.state.params, 'refused before any work');
  await assert.rejects(
    run({ resume: true, training: { ...training, epochs: 2, learningRate: 1e-2 } }),
    /trained with other flags \(--lr was 0\.003, now 0\.01\)/,
  );
  const resumed = await run({ resume: true, training: { ...training, epochs: 2 } });
  assert.equal(resumed.state.epoch, 2);
  const forced = await run({ force: true, training: { ...training, epochs: 1, seed: 5 } });
  assert.equal(forced.state.epoch, 1);
  assert.equal((await loadCheckpoint(out)).training.seed, 5);
});
