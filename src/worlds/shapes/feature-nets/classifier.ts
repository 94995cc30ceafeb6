/**
 * The world classifier behind IS and FID: CNN trunk -> maximum and mean over the 4x4 map (which
 * kinds occur, and how much of the canvas each covers) -> a 128-d GELU layer (`features`, the
 * vector FID compares) -> `logits` over the 42 object kinds (labels.ts). An auxiliary head on the
 * same features predicts the object count and detail shares during training only.
 */
import { gelu, np, type Tensor } from '../../../engine/index.js';
import type { Rng } from '../../../util/random.js';
import { MAX_OBJECTS } from '../scene.js';
import { type CnnConfig, type CnnParams, cnnTrunk, initCnn } from './cnn.js';
import { AUX_CLASSES, KINDS } from './labels.js';
import { affine, type Dense, initDense } from './layers.js';
import { softCrossEntropy } from './losses.js';

export interface ClassifierConfig {
  readonly cnn: CnnConfig;
  readonly featureDim: number;
  readonly auxWeight: number;
}

export type ClassifierParams = { cnn: CnnParams; features: Dense; logits: Dense; aux: Dense };

export function initClassifier(cfg: ClassifierConfig, rng: Rng): ClassifierParams {
  return {
    cnn: initCnn(cfg.cnn, rng),
    features: initDense(rng, 2 * cfg.cnn.channels.at(-1)!, cfg.featureDim),
    logits: initDense(rng, cfg.featureDim, KINDS.length),
    aux: initDense(rng, cfg.featureDim, AUX_CLASSES),
  };
}

/** Normalised pixels [B, 3, S, S] -> the exported outputs. Consumes its arguments (not `aux`). */
export function classify(
  p: Pick<ClassifierParams, 'cnn' | 'features' | 'logits'>,
  x: Tensor,
): { features: Tensor; logits: Tensor } {
  const map = cnnTrunk(p.cnn, x);
  const pooled = np.concatenate([np.max(map.ref, [1, 2]), map.mean([1, 2])], -1);
  const features = gelu(affine(pooled, p.features));
  return { features: features.ref, logits: affine(features, p.logits) };
}

/**
 * Kind-share cross-entropy plus auxWeight x (count + detail-share cross-entropies). `kinds` [B, 42],
 * `aux` [B, AUX_CLASSES] (one-hot count, then detail shares). Consumes its arguments.
 */
export function classifierLoss(
  cfg: ClassifierConfig,
  p: ClassifierParams,
  x: Tensor,
  kinds: Tensor,
  aux: Tensor,
): Tensor {
  const { features, logits } = classify(p, x);
  const [countLogits, detailLogits] = np.split(affine(features, p.aux), [MAX_OBJECTS], -1);
  const [count, details] = np.split(aux, [MAX_OBJECTS], -1);
  const auxLoss = softCrossEntropy(countLogits, count).add(softCrossEntropy(detailLogits, details));
  return softCrossEntropy(logits, kinds).add(auxLoss.mul(cfg.auxWeight));
}
