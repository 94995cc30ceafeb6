/**
 * In-domain feature networks for the shapes world's FID, IS and CLIP score: a classifier (IS
 * logits, FID features) and a CLIP-like text-image pair, trained here and exported for the
 * metrics loaders.
 */
export { type ClassifierMetrics, type ClipMetrics, evaluateClassifier, evaluateClip } from './evaluate.js';
export { KINDS } from './labels.js';
export {
  FEATURE_NET_KINDS,
  type FeatureNetKind,
  type FeatureNetReport,
  type FeatureNetTrainOptions,
  trainClassifier,
  trainClip,
  trainFeatureNet,
} from './train.js';
