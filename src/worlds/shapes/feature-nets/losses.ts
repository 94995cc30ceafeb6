/** The softmax loss the two networks share. */
import type { Tensor } from '../../../graph/graph.js';
import { logSoftmax } from '../../../graph/layers.js';

/** Cross-entropy of logits [B, K] against target distributions [B, K], averaged over the batch. */
export function softCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  return logSoftmax(logits.graph, logits).mul(targets).sum([-1]).mean([0]).neg();
}
