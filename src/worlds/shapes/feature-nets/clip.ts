/**
 * The CLIP-like pair behind CLIP score: a CNN image tower (cnn.ts; its whole 4x4 map is projected,
 * not its mean, so positions survive for prompts' regions and relations) and a word-token
 * transformer text tower, each projected linearly to a shared 64-d space, trained with CLIP's
 * symmetric InfoNCE loss and a learned temperature (logit scale exp(t), capped at 100).
 */
import { dense, np, type Tensor } from '../../../engine/index.js';
import type { Rng } from '../../../util/random.js';
import { type CnnConfig, type CnnParams, cnnTrunk, initCnn, mapSize } from './cnn.js';
import type { TextConfig } from './config.js';
import { softCrossEntropy } from './losses.js';
import { encodeText, initText, type TextParams } from './text-encoder.js';

export interface ClipConfig {
  readonly cnn: CnnConfig;
  readonly text: TextConfig;
  readonly embedDim: number;
  readonly initLogitScale: number;
  readonly maxLogitScale: number;
}

export type ClipParams = {
  image: { cnn: CnnParams; proj: Tensor };
  text: { encoder: TextParams; proj: Tensor };
  logitScale: Tensor;
};

/** Length of the flattened trunk map (row, column, channel). */
const imageFeatures = (cfg: ClipConfig) => mapSize(cfg.cnn) ** 2 * cfg.cnn.channels.at(-1)!;

export function initClip(cfg: ClipConfig, rng: Rng): ClipParams {
  return {
    image: { cnn: initCnn(cfg.cnn, rng), proj: dense(rng, imageFeatures(cfg), cfg.embedDim) },
    text: { encoder: initText(cfg.text, rng), proj: dense(rng, cfg.text.dim, cfg.embedDim) },
    logitScale: np.array([cfg.initLogitScale]),
  };
}

/** Normalised pixels [B, 3, S, S] -> image_embeds [B, embedDim] (not unit length, as HF's). */
export function embedImages(cfg: ClipConfig, p: ClipParams['image'], x: Tensor): Tensor {
  const [b] = x.shape;
  return np.matmul(cnnTrunk(p.cnn, x).reshape([b, imageFeatures(cfg)]), p.proj);
}

/** Token ids [B, L] -> text_embeds [B, embedDim]. */
export function embedTexts(cfg: ClipConfig, p: ClipParams['text'], ids: Tensor): Tensor {
  return np.matmul(encodeText(cfg.text, p.encoder, ids), p.proj);
}

const unit = (x: Tensor) => x.ref.div(np.sqrt(np.square(x).sum(-1, { keepdims: true }).add(1e-12)));

/** Symmetric InfoNCE over a batch of matching (image, prompt) pairs. Consumes its arguments. */
export function clipLoss(cfg: ClipConfig, p: ClipParams, x: Tensor, ids: Tensor): Tensor {
  const [b] = x.shape;
  const image = unit(embedImages(cfg, p.image, x));
  const text = unit(embedTexts(cfg, p.text, ids));
  const scale = np.minimum(np.exp(p.logitScale), cfg.maxLogitScale);
  const logits = np.matmul(image, text.transpose([1, 0])).mul(scale);
  const eye = np.eye(b);
  const perImage = softCrossEntropy(logits.ref, eye.ref);
  const perText = softCrossEntropy(logits.transpose([1, 0]), eye);
  return perImage.add(perText).mul(0.5);
}
