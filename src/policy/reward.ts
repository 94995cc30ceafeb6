/**
 * The AdaDiff reward (Eq. 5): R(u) = (1 - t/Smax) + lambda * Q(u) for a high-quality image, else
 * -gamma. "High quality" is relative (Q ranks top-k among the prompt's images at every step count)
 * or absolute (Q above a threshold); the step-only variant ignores quality (Table 5's first row).
 * The budget reward (budget.ts) is Q less a step cost whose price meets a mean step count B.
 */
export type RewardKind = 'topk' | 'threshold' | 'steps-only' | 'budget';

/**
 * The scale of the reward. 'absolute': Q is the score itself (the paper's ImageReward) and a
 * low-quality image earns -gamma. 'relative': Q is the score less the best of the prompt's images
 * (<= 0) and a low-quality image earns gamma less than the prompt's worst high-quality one, so a
 * prompt that is hard at every step count weighs like an easy one, and failing never pays, for any
 * prompt, without a penalty sized by the hardest prompt.
 */
export type QualityScale = 'absolute' | 'relative';

/** A reward's scale: a checkpoint made before the choice existed is on the paper's, absolute. */
export const qualityScale = (r: Pick<RewardConfig, 'quality'>): QualityScale => r.quality ?? 'absolute';

/** The scale in a report's words. */
export const qualityScaleWords = (r: Pick<RewardConfig, 'quality'>): string =>
  qualityScale(r) === 'relative' ? "relative, less the prompt's best score" : 'absolute';

/** A step budget: the target mean step count B, and what meets it (budget.ts). */
export interface StepBudget {
  readonly target: number;
  /** mu of R = Q - mu * t/Smax, from the training prompts. */
  readonly multiplier: number;
  /** nu of the logit shift -nu * t/Smax baked into the output bias after training (0 before). */
  readonly calibration: number;
}

export interface RewardConfig {
  kind: RewardKind;
  steps: readonly number[];
  lambda: number;
  topK: number;
  gamma: number;
  /** Used by 'threshold'. */
  threshold: number;
  /** Q's scale in the reward; absent is absolute (`qualityScale`). */
  quality?: QualityScale;
  /** Used by 'budget'. */
  budget?: StepBudget;
}

/**
 * Indices of the top-k scores. Ties are broken toward fewer steps (the lower index in S), which is
 * deterministic and gives the cheaper image the benefit of the doubt.
 */
export function topKIndices(scores: readonly number[], k: number): Set<number> {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return new Set(order.slice(0, k).map(([, i]) => i));
}

/** Which of a prompt's images count as high quality under the config's criterion. */
export function highQuality(scores: readonly number[], cfg: RewardConfig): boolean[] {
  if (scores.length !== cfg.steps.length) {
    throw new Error(`expected ${cfg.steps.length} scores (one per step count), got ${scores.length}`);
  }
  if (cfg.kind === 'threshold') return scores.map((s) => s > cfg.threshold);
  const top = topKIndices(scores, cfg.topK);
  return scores.map((_, i) => top.has(i));
}

/**
 * Reward of every action for one prompt, given the quality score of its image at each step count
 * (scores[i] for steps[i]). Collect records all |S| images, so the full vector is known.
 */
export function rewards(scores: readonly number[], cfg: RewardConfig): number[] {
  const smax = Math.max(...cfg.steps);
  if (cfg.kind === 'budget') {
    if (!cfg.budget) throw new Error('a budget reward needs its multiplier (budgetMultiplier)');
    const mu = cfg.budget.multiplier;
    return cfg.steps.map((t, i) => scores[i] - (mu * t) / smax);
  }
  const good = highQuality(scores, cfg);
  if (cfg.kind === 'steps-only') return cfg.steps.map((t) => 1 - t / smax);
  const relative = qualityScale(cfg) === 'relative';
  const best = relative ? Math.max(...scores) : 0;
  const passing = cfg.steps.map((t, i) => 1 - t / smax + cfg.lambda * (scores[i] - best));
  const worstGood = Math.min(...passing.filter((_, i) => good[i]));
  // With no high-quality image (a threshold no image passes) every choice fails alike.
  const failing = relative && Number.isFinite(worstGood) ? worstGood - cfg.gamma : -cfg.gamma;
  return passing.map((r, i) => (good[i] ? r : failing));
}

/**
 * The oracle's choice, the best any policy can do for this criterion: the fewest steps whose image
 * counts as high quality (top-k for the step-only reward), or the best image if none does; for a
 * budget, the best trade-off at its price.
 */
export function oracleIndex(scores: readonly number[], cfg: RewardConfig): number {
  if (cfg.kind === 'budget') {
    const r = rewards(scores, cfg);
    return r.indexOf(Math.max(...r));
  }
  const good = highQuality(scores, cfg.kind === 'steps-only' ? { ...cfg, kind: 'topk' } : cfg);
  const first = good.indexOf(true);
  return first >= 0 ? first : scores.indexOf(Math.max(...scores));
}

/**
 * The penalty `--gamma auto` picks: the smallest one, at least `floor`, that puts every
 * low-quality choice `margin` below the worst high-quality choice of any prompt in `scoreRows`.
 * The paper leaves gamma open; with an absolute Q, a fixed gamma of 1 is no penalty at all for
 * prompts whose best images score below -0.5 (R = saved + lambda·Q < -1), and a policy trained
 * on them learns to fail cheaply. Computed on the training split only.
 */
export function autoGamma(
  scoreRows: readonly (readonly number[])[],
  cfg: Omit<RewardConfig, 'gamma'>,
  floor = 1,
  margin = 1,
): number {
  // On the relative scale the penalty is already below each prompt's worst high-quality reward.
  if (qualityScale(cfg) === 'relative') return Math.max(floor, margin);
  const full = { ...cfg, gamma: 0 };
  let worstPassing = Number.POSITIVE_INFINITY;
  for (const scores of scoreRows) {
    const r = rewards(scores, full);
    highQuality(scores, full).forEach((good, i) => {
      if (good) worstPassing = Math.min(worstPassing, r[i]);
    });
  }
  if (!Number.isFinite(worstPassing)) return floor;
  return Math.max(floor, margin - worstPassing);
}
