export * as metrics from './metrics/index.js';
export { loadOnnxRewardScorer } from './onnx-reward.js';
export type { QualityScore, QualityScorer } from './scorer.js';
