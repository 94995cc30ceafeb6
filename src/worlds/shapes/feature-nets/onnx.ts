/**
 * ONNX graphs of the feature networks, restating cnn.ts, text-encoder.ts, classifier.ts and clip.ts
 * op by op over their parameter names (test/worlds/shapes/feature-nets.test.ts holds them equal).
 * Inputs and outputs are the ones the metrics loaders look for: the classifier maps `image` to
 * `features` and `logits`; the CLIP towers map `pixel_values` to `image_embeds` and `input_ids` to
 * `text_embeds`. Batch axes are dynamic.
 */
import type { HostTensor } from '../../../engine/index.js';
import { WeightsGraph } from '../../../models/weights-graph.js';
import { PAD_ID } from '../model-tokenizer.js';
import type { ClassifierConfig } from './classifier.js';
import type { ClipConfig } from './clip.js';
import { type CnnConfig, mapSize } from './cnn.js';
import type { TextConfig } from './config.js';

/** Weights by dotted name ("cnn.0.w", "text.encoder.blocks.0.attn.q"), as `toHost` of a network's params. */
export type Weights = Map<string, HostTensor>;

class NetGraph extends WeightsGraph {
  /** transformer.ts `block`; `bias` [B, 1, 1, L] is added to the attention logits. */
  block(x: string, prefix: string, heads: number, dim: number, bias?: string): string {
    const h = this.norm(x, `${prefix}.ln1`);
    x = this.node('Add', [x, this.selfAttention(h, `${prefix}.attn`, heads, dim, bias)]);
    const m = this.affine(
      this.gelu(this.affine(this.norm(x, `${prefix}.ln2`), `${prefix}.fc1`)),
      `${prefix}.fc2`,
    );
    return this.node('Add', [x, m]);
  }

  /** Self-attention from the named weights, with the optional logit bias. */
  private selfAttention(x: string, prefix: string, heads: number, dim: number, bias?: string): string {
    const [q, k, v, o, oBias] = ['q', 'k', 'v', 'o', 'oBias'].map((n) => this.w(`${prefix}.${n}`));
    return this.attention(x, x, { q, k, v, o, oBias }, heads, dim, bias);
  }

  /** cnn.ts `cnnTrunk`, in ONNX's NCHW: [B, 3, S, S] -> [B, C, m, m]. */
  cnn(x: string, prefix: string, cfg: CnnConfig): string {
    cfg.channels.forEach((_, i) => {
      x = this.node('Relu', [this.conv(x, `${prefix}.${i}`)]);
      if (i < cfg.channels.length - 1) {
        x = this.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
      }
    });
    return x;
  }

  /** text-encoder.ts `encodeText`: int64 ids [B, L] -> [B, dim]. */
  text(ids: string, prefix: string, cfg: TextConfig): string {
    const isPad = this.node('Equal', [ids, this.constant(BigInt64Array.of(BigInt(PAD_ID)), [])]);
    const keep = this.node('Cast', [this.node('Not', [isPad])], { to: 1 });
    const bias = this.node('Unsqueeze', [
      this.node('Mul', [this.node('Sub', [keep, this.scalar(1)]), this.scalar(1e9)]),
      this.ints([1, 2]),
    ]);
    let h = this.node('Add', [
      this.node('Gather', [this.w(`${prefix}.tok`), ids], { axis: 0 }),
      this.w(`${prefix}.pos`),
    ]);
    for (let i = 0; i < cfg.depth; i++) h = this.block(h, `${prefix}.blocks.${i}`, cfg.heads, cfg.dim, bias);
    const masked = this.node('Mul', [
      this.norm(h, `${prefix}.ln`),
      this.node('Unsqueeze', [keep, this.ints([2])]),
    ]);
    const summed = this.node('ReduceSum', [masked, this.ints([1])], { keepdims: 0 });
    return this.node('Div', [summed, this.node('ReduceSum', [keep, this.ints([1])], { keepdims: 1 })]);
  }
}

const imageDims = (cfg: CnnConfig) => ['batch', 3, cfg.imageSize, cfg.imageSize];

/** classifier.ts `classify`: image -> features, logits. */
export function classifierOnnx(cfg: ClassifierConfig, weights: Weights, classes: number): Uint8Array {
  const g = new NetGraph('shapes_classifier', weights);
  const image = g.input('image', 'float32', imageDims(cfg.cnn));
  const map = g.cnn(image, 'cnn', cfg.cnn);
  const pooled = g.node(
    'Concat',
    [
      g.node('ReduceMax', [map], { axes: [2, 3], keepdims: 0 }),
      g.node('ReduceMean', [map], { axes: [2, 3], keepdims: 0 }),
    ],
    { axis: 1 },
  );
  const features = g.gelu(g.affine(pooled, 'features'));
  g.output('features', 'float32', ['batch', cfg.featureDim], features);
  g.output('logits', 'float32', ['batch', classes], g.affine(features, 'logits'));
  return g.build();
}

/** clip.ts `embedImages`: pixel_values -> image_embeds. */
export function clipImageOnnx(cfg: ClipConfig, weights: Weights): Uint8Array {
  const g = new NetGraph('shapes_clip_image', weights);
  const pixels = g.input('pixel_values', 'float32', imageDims(cfg.cnn));
  // Flattened in the engine's NHWC order (row, column, channel).
  const map = g.node('Transpose', [g.cnn(pixels, 'image.cnn', cfg.cnn)], { perm: [0, 2, 3, 1] });
  const flat = g.node('Reshape', [map, g.ints([-1, mapSize(cfg.cnn) ** 2 * cfg.cnn.channels.at(-1)!])]);
  const embeds = g.linear(flat, g.w('image.proj'));
  g.output('image_embeds', 'float32', ['batch', cfg.embedDim], embeds);
  return g.build();
}

/** clip.ts `embedTexts`: input_ids -> text_embeds (padding read from the ids). */
export function clipTextOnnx(cfg: ClipConfig, weights: Weights): Uint8Array {
  const g = new NetGraph('shapes_clip_text', weights);
  const ids = g.input('input_ids', 'int64', ['batch', cfg.text.maxTokens]);
  const embeds = g.linear(g.text(ids, 'text.encoder', cfg.text), g.w('text.proj'));
  g.output('text_embeds', 'float32', ['batch', cfg.embedDim], embeds);
  return g.build();
}
