import type { QualityScorer } from '../quality/scorer.js';
import type { RgbImage } from '../util/image.js';

/**
 * A prompt world as the evaluation sees it: handed in by the caller (the shapes world implements
 * it), so the evaluation knows no world of its own and a second one needs no change here.
 */
export interface World {
  readonly name: string;
  /** The world's exact judge, the scorer its collect databases name. */
  readonly scorer: QualityScorer;
  /** Objects a prompt asks for, or null for a prompt outside the world's language. */
  objectCount(prompt: string): number | null;
  /** Words of a prompt as the world reads them. */
  wordCount(prompt: string): number;
  /** A clean render of what a prompt describes: FID's reference images. */
  render(prompt: string, size: number): RgbImage;
}
