/**
 * The world classifier behind IS and FID: CNN trunk -> maximum and mean over the 4x4 map (which
 * kinds occur, and how much of the canvas each covers) -> a 128-d GELU layer (`features`, the
 * vector FID compares) -> `logits` over the 42 object kinds (labels.ts). An auxiliary head on the
 * same features predicts the object count and detail shares during training only.
 */
import { type Dim, Graph, type Tensor } from '../../../graph/graph.js';
import { gelu, linear } from '../../../graph/layers.js';
import { MAX_OBJECTS } from '../scene.js';
import { type CnnConfig, cnnTrunk } from './cnn.js';
import { AUX_CLASSES, KINDS } from './labels.js';
import { softCrossEntropy } from './losses.js';

export interface ClassifierConfig {
  readonly cnn: CnnConfig;
  readonly featureDim: number;
  readonly auxWeight: number;
}

/** Normalised pixels [B, 3, S, S] -> the exported outputs. */
export function classify(
  g: Graph,
  cfg: ClassifierConfig,
  image: Tensor,
): { features: Tensor; logits: Tensor } {
  const map = cnnTrunk(g, 'cnn', cfg.cnn, image);
  const pooled = g.concat([map.reduceMax([1, 2]), map.mean([1, 2])], -1);
  const features = gelu(linear(g, 'features', pooled, cfg.featureDim));
  return { features, logits: linear(g, 'logits', features, KINDS.length) };
}

/** The network on a graph input `image` [batch, 3, S, S] (symbolic batch: the exported model). */
export function classifierGraph(cfg: ClassifierConfig, batch: Dim = 'batch') {
  const g = new Graph('shapes_classifier');
  const image = g.input('image', 'float32', [batch, 3, cfg.cnn.imageSize, cfg.cnn.imageSize]);
  return { g, ...classify(g, cfg, image) };
}

/**
 * The training graph at a static batch: inputs `image`, `kinds` [B, 42] and `aux` [B, AUX_CLASSES]
 * (one-hot count, then detail shares); loss = kind-share cross-entropy plus auxWeight x (count +
 * detail-share cross-entropies).
 */
export function classifierLoss(cfg: ClassifierConfig, batch: number): { g: Graph; loss: Tensor } {
  const { g, features, logits } = classifierGraph(cfg, batch);
  const kinds = g.input('kinds', 'float32', [batch, KINDS.length]);
  const aux = g.input('aux', 'float32', [batch, AUX_CLASSES]);
  const auxLogits = linear(g, 'aux', features, AUX_CLASSES);
  const [count, details] = [
    [0, MAX_OBJECTS],
    [MAX_OBJECTS, AUX_CLASSES],
  ].map(([lo, hi]) => softCrossEntropy(auxLogits.slice(-1, lo, hi), aux.slice(-1, lo, hi)));
  return { g, loss: softCrossEntropy(logits, kinds).add(count.add(details).mul(cfg.auxWeight)) };
}
