/**
 * One policy training run into a checkpoint folder, as `policy train` and the report's seeds run it:
 * gamma resolved ('auto': from the training prompts' scores), a resumed run held to its checkpoint's
 * data and settings, an existing checkpoint never replaced unless the run resumes it or is forced,
 * and a checkpoint after every epoch.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { budgetMultiplier, calibrateToBudget } from './budget.js';
import { CHECKPOINT_FILES, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type DataSplit, dataHash, gatherBatch, type PolicyDataset, scoreRows } from './dataset.js';
import {
  type NetworkConfig,
  networkConfig,
  OUTPUT_BIAS,
  type PolicyParams,
  PolicyRunner,
} from './network.js';
import { autoGamma, qualityScale, type RewardConfig } from './reward.js';
import { type EpochLog, type TrainOptions, type TrainState, trainPolicy } from './train.js';

export interface CheckpointRun {
  data: PolicyDataset;
  split: DataSplit;
  /** The reward, its gamma a number or 'auto'; a 'budget' reward gives its target B as `budget`. */
  reward: Omit<RewardConfig, 'gamma' | 'budget'> & { gamma: number | 'auto'; budget?: number };
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
    ['quality', qualityScale(was.r), qualityScale(now.r)],
    ['budget', was.r.budget?.target, now.r.budget?.target],
    ['steps', was.r.steps.join(','), now.r.steps.join(',')],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([name, a, b]) => `--${name} was ${a}, now ${b}`);
}

/** A trained reward as a run asks for it again (a budget by its target; the rest is recomputed). */
export const rewardRequest = (r: RewardConfig): CheckpointRun['reward'] => ({
  ...r,
  budget: r.budget?.target,
});

/**
 * The reward a run trains on, from the training prompts' scores: gamma 'auto' resolved (autoGamma),
 * and a budget's multiplier found (budgetMultiplier; a budget reward has no gamma).
 */
export function resolveReward(r: CheckpointRun['reward'], trainScores: number[][]): RewardConfig {
  const { budget: target, ...rest } = r;
  if (r.kind === 'budget') {
    if (target === undefined) throw new Error('a budget reward needs its target mean step count');
    const multiplier = budgetMultiplier(trainScores, r.steps, target);
    return { ...rest, gamma: 0, budget: { target, multiplier, calibration: 0 } };
  }
  if (target !== undefined) throw new Error(`a step budget needs the budget reward, not ${r.kind}`);
  return { ...rest, gamma: r.gamma === 'auto' ? autoGamma(trainScores, rest) : r.gamma };
}

export async function trainToCheckpoint(run: CheckpointRun): Promise<{
  state: TrainState;
  reward: RewardConfig;
  network: NetworkConfig;
  /** A budget policy's greedy mean step count on the validation prompts, once calibrated. */
  validationMean?: number;
}> {
  const { data, split, out, training } = run;
  checkCheckpointOut(out, run.resume, run.force);
  const reward = resolveReward(run.reward, scoreRows(data, split.train));
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
  const save = (r: RewardConfig, s: TrainState) =>
    saveCheckpoint(out, {
      network,
      reward: r,
      training,
      dataHash: hash,
      commandLine: run.commandLine,
      state: s,
    });
  const state = await trainPolicy({
    data,
    split,
    reward,
    network,
    options: training,
    resume: resumed?.state,
    onEpoch: (log, s) => {
      save(reward, s);
      run.onEpoch?.(log);
    },
  });
  if (!reward.budget) return { state, reward, network };
  const calibrated = await calibrateBudget(network, state.params, data, split.val, reward);
  save(calibrated.reward, state);
  return { state, reward: calibrated.reward, network, validationMean: calibrated.meanSteps };
}

/**
 * A trained budget policy brought to its target on `rows` (the validation prompts): the logit
 * shift found there baked into the output bias of `params` (in place) and recorded in the reward.
 */
export async function calibrateBudget(
  network: NetworkConfig,
  params: PolicyParams,
  data: PolicyDataset,
  rows: readonly number[],
  reward: RewardConfig,
): Promise<{ reward: RewardConfig; meanSteps: number }> {
  if (!reward.budget) throw new Error('only a budget reward is calibrated');
  const runner = await PolicyRunner.withWeightInputs(network);
  try {
    const probabilities = await runner.probabilities(gatherBatch(data, rows), params);
    const { nu, meanSteps } = calibrateToBudget(
      params,
      OUTPUT_BIAS,
      probabilities,
      reward.steps,
      reward.budget.target,
    );
    return { reward: { ...reward, budget: { ...reward.budget, calibration: nu } }, meanSteps };
  } finally {
    await runner.release();
  }
}
