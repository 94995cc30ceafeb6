/**
 * Policies judged on the collected scores, with no generation: collect scored every prompt at every
 * step count from the prompt's seed, so a policy's quality on a prompt is the collected score at the
 * step count it chooses. Table 5 and Figure 5 train many policies this way (exact gradient, few
 * epochs) and compare them on the test prompts with random policies and the oracle.
 */
import { type DataSplit, type PolicyDataset, rewardTable, scoreRows } from '../policy/dataset.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { type NetworkConfig, PolicyRunner } from '../policy/network.js';
import { oracleIndex, type RewardConfig } from '../policy/reward.js';
import { type TrainOptions, trainPolicy } from '../policy/train.js';
import { calibrateBudget } from '../policy/train-run.js';
import { mean } from '../util/statistics.js';

export interface OfflineData {
  /** Text features and the quality scores collect recorded, [n, |S|]. */
  data: PolicyDataset;
  split: DataSplit;
  /** S, in action order. */
  steps: readonly number[];
  /** parts.success per row and action, when the scorer reports it. */
  success: number[][] | null;
}

/** What choosing actions[i] for rows[i] gives, by the collected scores. */
export interface Outcome {
  meanSteps: number;
  /** Mean collected score of the chosen images. */
  quality: number;
  /** Share of chosen images judged fully correct, or null. */
  success: number | null;
}

/** The outcome of a stochastic choice: probs(row) is a distribution over S; exact expectations. */
function expectedOutcome(d: OfflineData, rows: readonly number[], probs: (row: number) => number[]): Outcome {
  const n = d.steps.length;
  const expect = (f: (row: number, a: number) => number) =>
    mean(rows.map((row) => probs(row).reduce((sum, p, a) => sum + p * f(row, a), 0)));
  const { success } = d;
  return {
    meanSteps: expect((_, a) => d.steps[a]),
    quality: expect((row, a) => d.data.scores[row * n + a]),
    success: success ? expect((row, a) => success[row][a]) : null,
  };
}

const oneHot = (a: number, n: number) => Array.from({ length: n }, (_, i) => (i === a ? 1 : 0));

/** The outcome of choosing actions[i] on rows[i]. */
export function outcomeOf(d: OfflineData, rows: readonly number[], actions: readonly number[]): Outcome {
  const at = new Map(rows.map((row, i) => [row, actions[i]]));
  return expectedOutcome(d, rows, (row) => oneHot(at.get(row)!, d.steps.length));
}

/** A random policy drawing uniformly from the action indices `subset`, in expectation. */
export function randomOutcome(d: OfflineData, rows: readonly number[], subset: readonly number[]): Outcome {
  const p = d.steps.map((_, a) => (subset.includes(a) ? 1 / subset.length : 0));
  return expectedOutcome(d, rows, () => p);
}

/** The oracle's action on each row: the fewest steps that count as high quality under `reward`. */
export function oracleActions(d: OfflineData, rows: readonly number[], reward: RewardConfig): number[] {
  return scoreRows(d.data, rows).map((scores) => oracleIndex(scores, reward));
}

export interface QuickTraining {
  network: NetworkConfig;
  options: TrainOptions;
}

/** Quality scores a policy is trained on in place of the collected ones (e.g. CLIP scores), [n, |S|]. */
export interface ScoreSource {
  name: string;
  scores: Float32Array;
}

/**
 * Policies trained from scratch on the train rows, each for one reward, and their greedy actions on
 * the evaluated rows. Table 5 and Figure 5 share settings (the paper's reward is a point of both
 * sweeps), so each reward is trained once.
 */
export class QuickPolicies {
  private readonly cache = new Map<string, Promise<number[]>>();

  constructor(
    private readonly d: OfflineData,
    private readonly training: QuickTraining,
    private readonly rows: readonly number[],
  ) {}

  actions(reward: RewardConfig, source?: ScoreSource): Promise<number[]> {
    const key = JSON.stringify([reward, source?.name ?? null]);
    let found = this.cache.get(key);
    if (!found) {
      found = this.train(reward, source?.scores);
      this.cache.set(key, found);
    }
    return found;
  }

  private async train(reward: RewardConfig, scores?: Float32Array): Promise<number[]> {
    const { network, options } = this.training;
    const data = scores ? { ...this.d.data, scores } : this.d.data;
    const state = await trainPolicy({ data, split: this.d.split, reward, network, options });
    // A budget policy is brought to its mean on the validation prompts, as `policy train --budget` ships it.
    if (reward.budget) await calibrateBudget(network, state.params, data, this.d.split.val, reward);
    const runner = await PolicyRunner.withWeightInputs(network);
    try {
      const table = rewardTable(data, reward);
      const evaluation = await evaluatePolicy(
        runner,
        state.params,
        data,
        this.rows,
        table,
        reward.steps,
        options.batchSize,
      );
      return evaluation.actions;
    } finally {
      await runner.release();
    }
  }
}
