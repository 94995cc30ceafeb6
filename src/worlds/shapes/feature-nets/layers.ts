/** Parameter groups the feature networks are built from; onnx.ts reads them back by these names. */
import { dense, layerNorm, linear, ones, type Tensor, zeros } from '../../../engine/index.js';
import type { Rng } from '../../../util/random.js';

export type Norm = { scale: Tensor; bias: Tensor };
export type Dense = { w: Tensor; b: Tensor };

export const initNorm = (d: number): Norm => ({ scale: ones([d]), bias: zeros([d]) });
export const initDense = (rng: Rng, fanIn: number, fanOut: number): Dense => ({
  w: dense(rng, fanIn, fanOut),
  b: zeros([fanOut]),
});

export const norm = (x: Tensor, p: Norm) => layerNorm(x, p.scale, p.bias);
export const affine = (x: Tensor, p: Dense) => linear(x, p.w, p.b);
