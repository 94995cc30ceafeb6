/**
 * The shipped folders, in the layouts the metrics loaders read (src/quality/metrics/feature-net.ts):
 * - classifier: model.onnx (image -> features, logits) + config.json, for loadImageFeatureNet;
 * - CLIP: image_model.onnx + text_model.onnx + tokenizer/ + config.json, for loadClipNet.
 * Beside them: model.safetensors (all trained weights, auxiliary head included) and network.json
 * (architecture, classes or vocabulary, seed, steps), enough to rebuild the network. Each ONNX file
 * is the network's one definition (classifier.ts, clip.ts) built with the weights as initializers;
 * batch axes are dynamic.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnnx } from '../../../graph/build.js';
import type { Weights } from '../../../graph/params.js';
import { saveSafetensors } from '../../../graph/safetensors.js';
import { tokenizerConfigJson, tokenizerJson } from '../export.js';
import { type ClassifierConfig, classifierGraph } from './classifier.js';
import { type ClipConfig, clipImageGraph, clipTextGraph } from './clip.js';
import { FEATURE_NETS } from './config.js';
import { KINDS } from './labels.js';

/** model.onnx: image -> features, logits. */
export function classifierOnnx(cfg: ClassifierConfig, weights: Weights): Uint8Array {
  const { g, features, logits } = classifierGraph(cfg);
  return buildOnnx(g, { outputs: { features, logits }, weights });
}

/** image_model.onnx: pixel_values -> image_embeds. */
export function clipImageOnnx(cfg: ClipConfig, weights: Weights): Uint8Array {
  const { g, imageEmbeds } = clipImageGraph(cfg);
  return buildOnnx(g, { outputs: { image_embeds: imageEmbeds }, weights });
}

/** text_model.onnx: input_ids -> text_embeds. */
export function clipTextOnnx(cfg: ClipConfig, weights: Weights): Uint8Array {
  const { g, textEmbeds } = clipTextGraph(cfg);
  return buildOnnx(g, { outputs: { text_embeds: textEmbeds }, weights });
}

export interface RunInfo {
  readonly seed: number;
  readonly steps: number;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * config.json fields both loaders share: the network's size in, no crop, pixels scaled to [-1, 1].
 * Larger images (the embedded model's 64 px) are resized with PIL's antialiased bilinear filter,
 * which averages where nearest-neighbour would alias stripes and dots away.
 */
function preprocessConfig(name: string, imageSize: number): object {
  const { mean, std } = FEATURE_NETS.pixels;
  return {
    name,
    image_size: imageSize,
    resize: 'bilinear',
    crop: 'none',
    image_mean: [mean, mean, mean],
    image_std: [std, std, std],
  };
}

export function exportClassifier(out: string, cfg: ClassifierConfig, weights: Weights, run: RunInfo): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'model.onnx'), classifierOnnx(cfg, weights));
  writeJson(join(out, 'config.json'), preprocessConfig('shapes-classifier (in-domain)', cfg.cnn.imageSize));
  saveSafetensors(join(out, 'model.safetensors'), weights, {
    seed: String(run.seed),
    steps: String(run.steps),
  });
  writeJson(join(out, 'network.json'), { kind: 'shapes-classifier', config: cfg, classes: KINDS, ...run });
}

export function exportClip(
  out: string,
  cfg: ClipConfig,
  weights: Weights,
  vocab: readonly string[],
  run: RunInfo,
): void {
  mkdirSync(join(out, 'tokenizer'), { recursive: true });
  writeFileSync(join(out, 'image_model.onnx'), clipImageOnnx(cfg, weights));
  writeFileSync(join(out, 'text_model.onnx'), clipTextOnnx(cfg, weights));
  writeJson(join(out, 'tokenizer', 'tokenizer.json'), tokenizerJson(vocab, cfg.text.maxTokens));
  writeJson(join(out, 'tokenizer', 'tokenizer_config.json'), tokenizerConfigJson(cfg.text.maxTokens));
  writeJson(join(out, 'config.json'), preprocessConfig('shapes-clip (in-domain)', cfg.cnn.imageSize));
  saveSafetensors(join(out, 'model.safetensors'), weights, {
    seed: String(run.seed),
    steps: String(run.steps),
  });
  writeJson(join(out, 'network.json'), { kind: 'shapes-clip', config: cfg, vocab, ...run });
}
