/**
 * How good a policy is on a set of prompts, by the rewards collect recorded: the greedy choice (the
 * paper's inference rule) and, for reference, every constant choice.
 */
import { gatherBatch, type PolicyDataset } from './dataset.js';
import { greedyActions, type PolicyParams, type PolicyRunner } from './network.js';

export interface PolicyEvaluation {
  /** Mean reward of the greedy actions. */
  readonly reward: number;
  /** Mean entropy of π(·|p) in nats. */
  readonly entropy: number;
  /** Mean of the greedy step counts. */
  readonly meanSteps: number;
  /** Greedy action index per row. */
  readonly actions: number[];
}

/** Greedy evaluation on `rows` (in chunks of `batchSize`); `params` for a runner with weight inputs. */
export async function evaluatePolicy(
  runner: PolicyRunner,
  params: PolicyParams | undefined,
  data: PolicyDataset,
  rows: readonly number[],
  table: Float32Array,
  steps: readonly number[],
  batchSize: number,
): Promise<PolicyEvaluation> {
  const n = runner.network.actions;
  let reward = 0;
  let entropy = 0;
  let stepSum = 0;
  const actions: number[] = [];
  for (let at = 0; at < rows.length; at += batchSize) {
    const chunk = rows.slice(at, at + batchSize);
    const probs = await runner.probabilities(gatherBatch(data, chunk), params);
    greedyActions(probs, n).forEach((a, i) => {
      actions.push(a);
      reward += table[chunk[i] * n + a];
      stepSum += steps[a];
    });
    for (const p of probs) if (p > 0) entropy -= p * Math.log(p);
  }
  const count = rows.length;
  return { reward: reward / count, entropy: entropy / count, meanSteps: stepSum / count, actions };
}

/** Mean reward on `rows` of always choosing action a, for each a. */
export function constantPolicyRewards(
  table: Float32Array,
  actions: number,
  rows: readonly number[],
): number[] {
  const sums = new Array<number>(actions).fill(0);
  for (const row of rows) for (let a = 0; a < actions; a++) sums[a] += table[row * actions + a];
  return sums.map((s) => s / rows.length);
}

/** Mean over `rows` of the best action's reward: what a perfect policy would get. */
export function bestPossibleReward(table: Float32Array, actions: number, rows: readonly number[]): number {
  let sum = 0;
  for (const row of rows) sum += Math.max(...table.subarray(row * actions, (row + 1) * actions));
  return sum / rows.length;
}
