/** Softmax losses the two networks share (the engine exports no nn namespace). */
import { np, type Tensor } from '../../../engine/index.js';

/** log softmax over the last axis, shifted by the row maximum so exp cannot overflow. */
export function logSoftmax(x: Tensor): Tensor {
  const shifted = x.ref.sub(np.max(x, -1, { keepdims: true }));
  return shifted.ref.sub(np.log(np.exp(shifted).sum(-1, { keepdims: true })));
}

/** Cross-entropy of logits [B, K] against target distributions [B, K], averaged over the batch. */
export function softCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  return logSoftmax(logits).mul(targets).sum(-1).mean().mul(-1);
}
