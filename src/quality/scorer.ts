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
}
