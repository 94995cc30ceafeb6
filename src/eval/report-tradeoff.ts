/**
 * Figure 5: the speed/quality trade-off as top-k and lambda vary, each point a policy trained here on
 * the collected scores and judged by them on the test prompts, against random policies (uniform over
 * prefixes and suffixes of S, in expectation: cheap to expensive) and the oracle (the fewest steps
 * that reach the top-k, for each k), which no policy choosing from S can beat.
 */
import type { RewardConfig } from '../policy/reward.js';
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

export interface TradeoffSpec {
  base: RewardConfig;
  rows: readonly number[];
  scoreName: string;
  lambdas: readonly number[];
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
  const random = randomSubsets(d.steps.length).map((subset) => randomOutcome(d, rows, subset));
  const oracle = ks.map((k) =>
    outcomeOf(d, rows, oracleActions(d, rows, { ...base, kind: 'topk', topK: k })),
  );
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
      'fewest steps reaching the top-k.',
    spec: fig5Spec(data, spec.scoreName),
    rows: data,
  };
}
