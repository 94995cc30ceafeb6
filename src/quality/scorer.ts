import type { RgbImage } from '../util/image.js';

/** A quality score for one image: the total the reward uses, and the parts it is made of. */
export interface QualityScore {
  total: number;
  parts: Record<string, number>;
}

/**
 * The quality model f_q of the paper (IQS / ImageReward there): scores a batch of (prompt, image)
 * pairs. Implementations: the embedded world's judge and ONNX reward-model folders.
 */
export interface QualityScorer {
  readonly name: string;
  score(prompts: readonly string[], images: readonly RgbImage[]): Promise<QualityScore[]>;
  /**
   * Why this scorer cannot score a prompt (a judge that reads only its world's language), or null;
   * absent when every prompt can be scored. Lets a command refuse a prompt file before any work.
   */
  checkPrompt?(prompt: string): string | null;
}
