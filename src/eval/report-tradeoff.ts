/**
 * Figure 5: the speed/quality trade-off as top-k and lambda vary, each point a policy trained here on
 * the collected scores and judged by them on the test prompts, against random policies (uniform over
 * prefixes and suffixes of S, in expectation: cheap to expensive) and the oracle (the fewest steps
 * that reach the top-k, for each k), which no policy choosing from S can beat.
 */
import { scoreRows } from '../policy/dataset.js';
import type { RewardConfig } from '../policy/reward.js';
import { resolveReward, rewardRequest } from '../policy/train-run.js';
import { fig5Spec, type TradeoffRow } from '../report/plots.js';
import type { Figure } from '../report/report.js';
import {
  type OfflineData,
  type Outcome,
  oracleActions,
  outcomeOf,
  type QuickPolicies,
  randomOutcome,
} from './report-offline.js';

/** The lambda values of the paper's Figure 5 (right). */
export const FIG5_LAMBDAS: readonly number[] = [0.5, 1, 2, 4];
/** Step budgets of the third panel (beyond the paper), within the default S of 10..50. */
export const FIG5_BUDGETS: readonly number[] = [15, 20, 25, 30, 35, 40];

export interface TradeoffSpec {
  base: RewardConfig;
  rows: readonly number[];
  scoreName: string;
  lambdas: readonly number[];
  /** Mean step counts for budget policies (those outside S are left out), or one halfway across S. */
  budgets: readonly number[] | 'middle';
}

const point = (
  sweep: TradeoffRow['sweep'],
  series: TradeoffRow['series'],
  setting: number | null,
  o: Outcome,
): TradeoffRow => ({
  sweep,
  series,
  setting,
  meanSteps: o.meanSteps,
  quality: o.quality,
  success: o.success,
});

/** Action subsets of the random policies: every prefix and every suffix of S, fewest steps first. */
function randomSubsets(n: number): number[][] {
  const all = Array.from({ length: n }, (_, a) => a);
  const subsets = [...all.map((a) => all.slice(0, a + 1)), ...all.map((a) => all.slice(a))];
  const unique = new Map(subsets.map((s) => [s.join(','), s]));
  return [...unique.values()];
}

export async function tradeoffFigure(
  d: OfflineData,
  policies: QuickPolicies,
  spec: TradeoffSpec,
): Promise<Figure> {
  const { base, rows } = spec;
  const ks = d.steps.map((_, i) => i + 1);
  const data: TradeoffRow[] = [];
  for (const k of ks) {
    const reward: RewardConfig = { ...base, kind: 'topk', topK: k };
    data.push(point('k', 'AdaDiff', k, outcomeOf(d, rows, await policies.actions(reward))));
  }
  for (const lambda of spec.lambdas) {
    const reward: RewardConfig = { ...base, kind: 'topk', lambda };
    data.push(point('lambda', 'AdaDiff', lambda, outcomeOf(d, rows, await policies.actions(reward))));
  }
  const trainScores = scoreRows(d.data, d.split.train);
  const testScores = scoreRows(d.data, rows);
  const [least, most] = [Math.min(...d.steps), Math.max(...d.steps)];
  const budgets =
    spec.budgets === 'middle' ? [(least + most) / 2] : spec.budgets.filter((b) => b >= least && b <= most);
  const budgetOf = (scores: number[][], target: number): RewardConfig =>
    resolveReward({ ...rewardRequest(base), kind: 'budget', budget: target }, scores);
  for (const b of budgets) {
    const actions = await policies.actions(budgetOf(trainScores, b));
    data.push(point('budget', 'AdaDiff', b, outcomeOf(d, rows, actions)));
    // The best any policy over S can do at this mean: its price found on these very prompts.
    data.push(
      point('budget', 'Oracle', b, outcomeOf(d, rows, oracleActions(d, rows, budgetOf(testScores, b)))),
    );
  }
  if (budgets.length > 0)
    for (const [a, t] of d.steps.entries())
      data.push(
        point(
          'budget',
          'Fixed steps',
          t,
          outcomeOf(
            d,
            rows,
            rows.map(() => a),
          ),
        ),
      );
  const random = randomSubsets(d.steps.length).map((subset) => randomOutcome(d, rows, subset));
  const oracle = ks.map((k) =>
    outcomeOf(d, rows, oracleActions(d, rows, { ...base, kind: 'topk', topK: k })),
  );
  if (budgets.length > 0) for (const o of random) data.push(point('budget', 'Random policy', null, o));
  for (const sweep of ['k', 'lambda'] as const) {
    for (const o of random) data.push(point(sweep, 'Random policy', null, o));
    // The oracle depends on k only: labelled in the k panel, the same bound in the lambda panel.
    for (const [i, o] of oracle.entries()) data.push(point(sweep, 'Oracle', sweep === 'k' ? ks[i] : null, o));
  }
  return {
    name: 'fig5-tradeoff',
    caption:
      `Figure 5. Speed/quality trade-off on ${rows.length} test prompts as top-k (left, lambda ${base.lambda}) and ` +
      `lambda (right, k = ${base.topK}) vary; quality is the collected ${spec.scoreName} at the chosen step count. ` +
      'Random policies draw uniformly from a prefix or suffix of S (expected values); the oracle takes the ' +
      'fewest steps reaching the top-k.' +
      (budgets.length > 0
        ? ` Third panel (beyond the paper): policies trained for a mean of B steps (${budgets.join(', ')}), ` +
          'against every fixed step count and the oracle at the same mean.'
        : ''),
    spec: fig5Spec(data, spec.scoreName),
    rows: data,
  };
}
