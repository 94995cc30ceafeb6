/**
 * The image trunk of both networks: a small CNN (3x3 'same' convolutions, ReLU, 2x2 max pooling
 * after all but the last), 32x32 in, a 4x4 map of `channels.at(-1)` out. Within an eight-minute
 * budget a ViT of the same cost, or this CNN with average pooling, barely learned shapes (objects
 * cover a few percent of the canvas, and averaging dilutes them with background); max pooling
 * keeps them. Convolutions are the engine's conv3x3 (im2col); onnx.ts writes them as ONNX Conv.
 */
import { conv3x3, np, type Tensor } from '../../../engine/index.js';
import type { Rng } from '../../../util/random.js';
import { type Dense, initDense } from './layers.js';

export interface CnnConfig {
  readonly imageSize: number;
  /** Output channels of each convolution. */
  readonly channels: readonly number[];
}

/** One Dense per convolution: w is [9·Cin, Cout], rows ordered (dy, dx, input channel). */
export type CnnParams = Dense[];

export function initCnn(cfg: CnnConfig, rng: Rng): CnnParams {
  return cfg.channels.map((out, i) => initDense(rng, 9 * (i === 0 ? 3 : cfg.channels[i - 1]), out));
}

/** Side of the output map. */
export const mapSize = (cfg: CnnConfig) => cfg.imageSize / 2 ** (cfg.channels.length - 1);

function maxPool2(x: Tensor): Tensor {
  const [b, h, w, c] = x.shape;
  return np.max(x.reshape([b, h / 2, 2, w / 2, 2, c]), [2, 4]);
}

/** Normalised pixels [B, 3, S, S] -> feature map [B, m, m, C] (NHWC). Consumes its arguments. */
export function cnnTrunk(p: CnnParams, x: Tensor): Tensor {
  let h = x.transpose([0, 2, 3, 1]);
  p.forEach((layer, i) => {
    h = np.maximum(conv3x3(h, layer.w, layer.b), 0);
    if (i < p.length - 1) h = maxPool2(h);
  });
  return h;
}
