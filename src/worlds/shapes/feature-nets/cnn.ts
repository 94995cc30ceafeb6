/**
 * The image trunk of both networks: a small CNN (3x3 'same' convolutions, ReLU, 2x2 max pooling
 * after all but the last), 32x32 in, a 4x4 map of `channels.at(-1)` out. Within an eight-minute
 * budget a ViT of the same cost, or this CNN with average pooling, barely learned shapes (objects
 * cover a few percent of the canvas, and averaging dilutes them with background); max pooling
 * keeps them.
 */
import type { Graph, Tensor } from '../../../graph/graph.js';
import { conv3x3, maxPool2x2 } from '../../../graph/layers.js';

export interface CnnConfig {
  readonly imageSize: number;
  /** Output channels of each convolution. */
  readonly channels: readonly number[];
}

/** Side of the output map. */
export const mapSize = (cfg: CnnConfig) => cfg.imageSize / 2 ** (cfg.channels.length - 1);

/** Pixels [B, 3, S, S] (the loaders' NCHW) -> feature map [B, m, m, C] (NHWC); `${prefix}.${i}` per conv. */
export function cnnTrunk(g: Graph, prefix: string, cfg: CnnConfig, x: Tensor): Tensor {
  let h = x.transpose([0, 2, 3, 1]);
  cfg.channels.forEach((out, i) => {
    h = conv3x3(g, `${prefix}.${i}`, h, out).relu();
    if (i < cfg.channels.length - 1) h = maxPool2x2(h);
  });
  return h;
}
