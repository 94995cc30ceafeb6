/**
 * One policy training run into a checkpoint folder, as `policy train` and the report's seeds run it:
 * gamma resolved ('auto': from the training prompts' scores), a resumed run held to its checkpoint's
 * data and settings, an existing checkpoint never replaced unless the run resumes it or is forced,
 * and a checkpoint after every epoch.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILES, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type DataSplit, dataHash, type PolicyDataset, scoreRows } from './dataset.js';
import { type NetworkConfig, networkConfig } from './network.js';
import { autoGamma, type RewardConfig } from './reward.js';
import { type EpochLog, type TrainOptions, type TrainState, trainPolicy } from './train.js';

export interface CheckpointRun {
  data: PolicyDataset;
  split: DataSplit;
  /** The reward, its gamma a number or 'auto'. */
  reward: Omit<RewardConfig, 'gamma'> & { gamma: number | 'auto' };
  training: TrainOptions;
  /** Default: the paper's network for the data's feature shape and step set. */
  network?: NetworkConfig;
  out: string;
  /** Continue the checkpoint in `out`; it must have been trained on the same data and settings. */
  resume?: boolean;
  /** Replace a checkpoint already in `out`. */
  force?: boolean;
  commandLine: readonly string[];
  onEpoch?: (log: EpochLog) => void;
}

/** Throws before any work when `out` holds a checkpoint the run would silently replace. */
export function checkCheckpointOut(out: string, resume = false, force = false): void {
  const held = existsSync(join(out, CHECKPOINT_FILES.config));
  if (resume && !held)
    throw new Error(`${out}: no policy checkpoint to resume (no ${CHECKPOINT_FILES.config})`);
  if (held && !resume && !force)
    throw new Error(
      `${out} already holds a policy checkpoint; give --resume to continue it or --force to replace it`,
    );
}

/** Settings that differ between a checkpoint and a resumed run (the epoch count may grow). */
function resumeMismatches(
  was: { t: TrainOptions; r: RewardConfig },
  now: { t: TrainOptions; r: RewardConfig },
) {
  const pairs: [string, unknown, unknown][] = [
    ['batch', was.t.batchSize, now.t.batchSize],
    ['lr', was.t.learningRate, now.t.learningRate],
    ['gradient', was.t.gradient, now.t.gradient],
    ['baseline', was.t.baseline, now.t.baseline],
    ['seed', was.t.seed, now.t.seed],
    ['reward', was.r.kind, now.r.kind],
    ['lambda', was.r.lambda, now.r.lambda],
    ['k', was.r.topK, now.r.topK],
    ['gamma', was.r.gamma, now.r.gamma],
    ['threshold', was.r.threshold, now.r.threshold],
    ['steps', was.r.steps.join(','), now.r.steps.join(',')],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([name, a, b]) => `--${name} was ${a}, now ${b}`);
}

export async function trainToCheckpoint(
  run: CheckpointRun,
): Promise<{ state: TrainState; reward: RewardConfig; network: NetworkConfig }> {
  const { data, split, out, training } = run;
  checkCheckpointOut(out, run.resume, run.force);
  const gamma =
    run.reward.gamma === 'auto' ? autoGamma(scoreRows(data, split.train), run.reward) : run.reward.gamma;
  const reward: RewardConfig = { ...run.reward, gamma };
  const hash = dataHash(data);
  const resumed = run.resume ? await loadCheckpoint(out) : undefined;
  if (resumed) {
    if (resumed.dataHash !== hash)
      throw new Error(`${out} was trained on other data (hash ${resumed.dataHash.slice(0, 12)}...)`);
    // Only the epoch count may change on resume; anything else would silently mix two runs.
    const changed = resumeMismatches({ t: resumed.training, r: resumed.reward }, { t: training, r: reward });
    if (changed.length)
      throw new Error(
        `${out} was trained with other flags (${changed.join('; ')}); resume with the same ones`,
      );
  }
  const network =
    resumed?.network ?? run.network ?? networkConfig(data.dims.l, data.dims.d, reward.steps.length);
  const state = await trainPolicy({
    data,
    split,
    reward,
    network,
    options: training,
    resume: resumed?.state,
    onEpoch: (log, s) => {
      saveCheckpoint(out, {
        network,
        reward,
        training,
        dataHash: hash,
        commandLine: run.commandLine,
        state: s,
      });
      run.onEpoch?.(log);
    },
  });
  return { state, reward, network };
}
