/**
 * Defaults from the AdaDiff paper (Sec. 3.2, 4.1) in one place. Every command takes flags that
 * override these; nothing else in the code repeats them.
 */
import type { QualityScale } from './reward.js';

export const PAPER_DEFAULTS = {
  /** The step set S. */
  steps: [10, 20, 30, 40, 50] as readonly number[],
  /** Weight lambda of the quality term Q in R = (1 - t/Smax) + lambda * Q. */
  lambda: 2,
  /** An image is "high quality" when its score ranks top-k among the prompt's |S| images. */
  topK: 3,
  /**
   * Penalty for a low-quality choice; the paper does not give it. 'auto' (reward.ts `autoGamma`)
   * takes the smallest penalty, at least 1, that makes every low-quality choice worse than every
   * high-quality one on the training prompts, so the policy never gains by failing; a number fixes it.
   */
  gamma: 'auto' as number | 'auto',
  /**
   * Q's scale in the reward (reward.ts `QualityScale`). The paper's is absolute; relative (Q less
   * the prompt's best score) keeps the reward's scale the same for hard and easy prompts.
   */
  quality: 'relative' as QualityScale,
  batchSize: 256,
  epochs: 200,
  learningRate: 1e-5,
  /** Attention layers of the step-selection network (Eq. 3). */
  layers: 3,
} as const;
