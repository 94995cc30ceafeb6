import { loadOnnxRewardScorer } from './onnx-reward.js';
import type { QualityScorer } from './scorer.js';
import { worldJudgeScorer } from './world-judge.js';

export type { QualityScore, QualityScorer } from './scorer.js';
export { loadOnnxRewardScorer, worldJudgeScorer };

/** "world" is the embedded shapes judge; anything else is an ONNX reward-model folder. */
export async function loadScorer(spec: string): Promise<QualityScorer> {
  return spec === 'world' ? worldJudgeScorer : loadOnnxRewardScorer(spec);
}
export * as metrics from './metrics/index.js';
