/**
 * Table 5: the reward function's ablations, each a policy trained here on the collected scores and
 * judged by them on the test prompts: step savings alone, with the quality score under the relative
 * (top-k) or absolute (threshold) criterion, on the paper's scale (absolute Q, a unit penalty)
 * beside the resolved one, and with the CLIP score in its place when available.
 */
import { qualityScale, qualityScaleWords, type RewardConfig } from '../policy/reward.js';
import type { TrainOptions } from '../policy/train.js';
import type { Cell, Column, Table } from '../report/report.js';
import { type OfflineData, outcomeOf, type QuickPolicies, type ScoreSource } from './report-offline.js';

/** The unit penalty of the row on the paper's scale (absolute Q). */
const PAPER_GAMMA = 1;

export interface AblationSpec {
  /** The given policy's reward: lambda, gamma, k, threshold and S of every variant. */
  base: RewardConfig;
  scoreName: string;
  /** CLIP scores of every collected image, or why there are none. */
  clip: ScoreSource | { omitted: string };
  clipInDomain: boolean;
  /** Rows the policies are judged on, and their name. */
  rows: readonly number[];
  setName: string;
  /** How each policy is trained. */
  training: TrainOptions;
}

interface Variant {
  reward: string;
  criterion: string;
  config: RewardConfig;
  source?: ScoreSource;
}

export async function ablationTable(
  d: OfflineData,
  policies: QuickPolicies,
  spec: AblationSpec,
): Promise<Table> {
  const { base, scoreName } = spec;
  const topk = `top-${base.topK} of ${base.steps.length}`;
  const variants: Variant[] = [
    { reward: 'Step only', criterion: '-', config: { ...base, kind: 'steps-only' } },
    { reward: `Step + ${scoreName}`, criterion: topk, config: { ...base, kind: 'topk' } },
    {
      reward: `Step + ${scoreName}`,
      criterion: `score > ${base.threshold}`,
      config: { ...base, kind: 'threshold' },
    },
  ];
  // The paper's scale beside the resolved one: with an absolute Q below about -0.5, a gamma of 1
  // makes failing cheaper than any high-quality image, and the policy learns to fail.
  if (qualityScale(base) !== 'absolute' || base.gamma !== PAPER_GAMMA)
    variants.push({
      reward: `Step + ${scoreName}, absolute, gamma ${PAPER_GAMMA}`,
      criterion: topk,
      config: { ...base, kind: 'topk', quality: 'absolute', gamma: PAPER_GAMMA },
    });
  const notes = [
    `Each policy is trained here from scratch on the train prompts (${spec.training.gradient} gradient, ${spec.training.epochs} epochs, ` +
      `learning rate ${spec.training.learningRate}, ` +
      `lambda ${base.lambda}, gamma ${base.gamma}, Q ${qualityScaleWords(base)}) and judged on the ${spec.rows.length} ${spec.setName} prompts ` +
      "by the scores collect recorded at the chosen step count: no image is generated, so the paper's IS and " +
      'NIQE columns (which need images) are left to Table 1.',
  ];
  const clip = 'scores' in spec.clip ? spec.clip : null;
  if ('omitted' in spec.clip) notes.push(`Step + CLIP omitted: ${spec.clip.omitted}`);
  else
    variants.push({
      reward: 'Step + CLIP',
      criterion: topk,
      config: { ...base, kind: 'topk' },
      source: spec.clip,
    });
  const columns: Column[] = [
    { title: 'Reward' },
    { title: 'High quality' },
    { title: 'Steps', better: 'lower', digits: 2 },
    { title: scoreName, better: 'higher', digits: 3 },
  ];
  if (d.success) columns.push({ title: 'Full success', unit: '%', better: 'higher', digits: 1 });
  if (clip) columns.push({ title: 'CLIP', better: 'higher', digits: 3, inDomain: spec.clipInDomain });
  const rows: Cell[][] = [];
  for (const v of variants) {
    const actions = await policies.actions(v.config, v.source);
    const o = outcomeOf(d, spec.rows, actions);
    const row: Cell[] = [v.reward, v.criterion, o.meanSteps, o.quality];
    if (d.success) row.push(100 * o.success!);
    if (clip)
      row.push(outcomeOf({ ...d, data: { ...d.data, scores: clip.scores } }, spec.rows, actions).quality);
    rows.push(row);
  }
  return { title: 'Table 5. Reward functions (offline, collected scores)', columns, rows, notes };
}
