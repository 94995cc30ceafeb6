/**
 * Defaults from the AdaDiff paper (Sec. 3.2, 4.1) in one place. Every command takes flags that
 * override these; nothing else in the code repeats them.
 */
export const PAPER_DEFAULTS = {
  /** The step set S. */
  steps: [10, 20, 30, 40, 50] as readonly number[],
  /** Weight lambda of the quality term Q in R = (1 - t/Smax) + lambda * Q. */
  lambda: 2,
  /** An image is "high quality" when its score ranks top-k among the prompt's |S| images. */
  topK: 3,
  /**
   * Penalty for a low-quality choice. The paper does not give it. 1 makes the cheapest failing
   * choice (reward -1) worse than any passing one (>= 0 + lambda * Q, with Q ~ N(0, 1) scores
   * mostly above -0.5), without dwarfing the step term the way a large penalty would.
   */
  gamma: 1,
  batchSize: 256,
  epochs: 200,
  learningRate: 1e-5,
  /** Attention layers of the step-selection network (Eq. 3). */
  layers: 3,
} as const;
