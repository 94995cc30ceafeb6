/**
 * The CLIP-like pair behind CLIP score: a CNN image tower (cnn.ts; its whole 4x4 map is projected,
 * not its mean, so positions survive for prompts' regions and relations) and a word-token
 * transformer text tower, each projected linearly to a shared 64-d space, trained with CLIP's
 * symmetric InfoNCE loss and a learned temperature (logit scale exp(t), capped at 100).
 */
import { type Dim, Graph, type Tensor } from '../../../graph/graph.js';
import { type CnnConfig, cnnTrunk, mapSize } from './cnn.js';
import type { TextConfig } from './config.js';
import { softCrossEntropy } from './losses.js';
import { encodeText } from './text-encoder.js';

export interface ClipConfig {
  readonly cnn: CnnConfig;
  readonly text: TextConfig;
  readonly embedDim: number;
  readonly initLogitScale: number;
  readonly maxLogitScale: number;
}

/** Length of the flattened trunk map (row, column, channel). */
const imageFeatures = (cfg: ClipConfig) => mapSize(cfg.cnn) ** 2 * cfg.cnn.channels.at(-1)!;

/** A bias-free projection [fanIn, fanOut] by name. */
const projection = (g: Graph, name: string, fanIn: number, fanOut: number) =>
  g.param(name, [fanIn, fanOut], { kind: 'dense', fanIn, fanOut });

/** Normalised pixels [B, 3, S, S] -> image_embeds [B, embedDim] (not unit length, as HF's). */
export function embedImages(g: Graph, cfg: ClipConfig, pixels: Tensor): Tensor {
  const flat = cnnTrunk(g, 'image.cnn', cfg.cnn, pixels).reshape([pixels.shape[0], imageFeatures(cfg)]);
  return flat.matmul(projection(g, 'image.proj', imageFeatures(cfg), cfg.embedDim));
}

/** int64 token ids [B, maxTokens] -> text_embeds [B, embedDim]. */
export function embedTexts(g: Graph, cfg: ClipConfig, ids: Tensor): Tensor {
  const pooled = encodeText(g, 'text.encoder', cfg.text, ids);
  return pooled.matmul(projection(g, 'text.proj', cfg.text.dim, cfg.embedDim));
}

const pixelsInput = (g: Graph, cfg: ClipConfig, batch: Dim) =>
  g.input('pixel_values', 'float32', [batch, 3, cfg.cnn.imageSize, cfg.cnn.imageSize]);
const idsInput = (g: Graph, cfg: ClipConfig, batch: Dim) =>
  g.input('input_ids', 'int64', [batch, cfg.text.maxTokens]);

/** The image tower alone on a symbolic batch (image_model.onnx). */
export function clipImageGraph(cfg: ClipConfig) {
  const g = new Graph('shapes_clip_image');
  return { g, imageEmbeds: embedImages(g, cfg, pixelsInput(g, cfg, 'batch')) };
}

/** The text tower alone on a symbolic batch (text_model.onnx; padding read from the ids). */
export function clipTextGraph(cfg: ClipConfig) {
  const g = new Graph('shapes_clip_text');
  return { g, textEmbeds: embedTexts(g, cfg, idsInput(g, cfg, 'batch')) };
}

const unit = (x: Tensor) => x.div(x.square().sum([-1], true).add(1e-12).sqrt());

/**
 * The training graph at a static batch of matching (pixel_values, input_ids) pairs: symmetric
 * InfoNCE with the learned logit scale.
 */
export function clipLoss(cfg: ClipConfig, batch: number): { g: Graph; loss: Tensor } {
  const g = new Graph('shapes_clip');
  const image = unit(embedImages(g, cfg, pixelsInput(g, cfg, batch)));
  const text = unit(embedTexts(g, cfg, idsInput(g, cfg, batch)));
  const logScale = g.param('logitScale', [1], { kind: 'data', data: Float32Array.of(cfg.initLogitScale) });
  const scale = logScale.exp();
  const capped = g.where(g.compare('Less', scale, cfg.maxLogitScale), scale, cfg.maxLogitScale);
  const logits = image.matmul(text.transpose([1, 0])).mul(capped);
  const eye = new Float32Array(batch * batch);
  for (let i = 0; i < batch; i++) eye[i * batch + i] = 1;
  const targets = g.constant(eye, [batch, batch]);
  const perImage = softCrossEntropy(logits, targets);
  const perText = softCrossEntropy(logits.transpose([1, 0]), targets);
  return { g, loss: perImage.add(perText).mul(0.5) };
}
