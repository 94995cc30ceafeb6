/**
 * The worlds adadiff ships: synthetic domains with their own exact quality judge, where AdaDiff can
 * be measured without a downloaded reward model. The shapes world is the embedded default's.
 */
import { loadOnnxRewardScorer, type QualityScorer } from '../quality/index.js';
import { worldJudgeScorer } from './shapes/scorer.js';

export { worldJudgeScorer };

/** "world" is the embedded world's judge; anything else is an ONNX reward-model folder. */
export async function loadScorer(spec: string): Promise<QualityScorer> {
  return spec === 'world' ? worldJudgeScorer : loadOnnxRewardScorer(spec);
}
