/**
 * The CLIP text encoder: word tokens (the world's word tokenizer, BOS ... EOS, padded to 64) with
 * learned positions, pre-LN blocks whose attention masks padding, a final LayerNorm and the mean
 * over the real tokens. Masking makes the embedding independent of how far a prompt is padded.
 */
import { normal, np, paddingBias, type Tensor } from '../../../engine/index.js';
import type { Rng } from '../../../util/random.js';
import { PAD_ID, WordTokenizer } from '../model-tokenizer.js';
import { normalizeWords, WORLD_VOCABULARY } from '../vocabulary.js';
import type { TextConfig } from './config.js';
import { initNorm, type Norm, norm } from './layers.js';
import { type Block, block, initBlock } from './transformer.js';

export type TextParams = { tok: Tensor; pos: Tensor; blocks: Block[]; ln: Norm };

export function initText(cfg: TextConfig, rng: Rng): TextParams {
  return {
    tok: normal(rng, [cfg.vocabSize, cfg.dim], 0.02),
    pos: normal(rng, [cfg.maxTokens, cfg.dim], 0.02),
    blocks: Array.from({ length: cfg.depth }, () => initBlock(rng, cfg.dim, cfg.mlpRatio)),
    ln: initNorm(cfg.dim),
  };
}

/** ids [B, L] int32 -> pooled features [B, dim]. Consumes its arguments. */
export function encodeText(cfg: TextConfig, p: TextParams, ids: Tensor): Tensor {
  const [b, l] = ids.shape;
  const keep = ids.ref.notEqual(PAD_ID).astype(np.float32);
  const bias = paddingBias(keep.ref);
  let h = np.take(p.tok, ids, 0).add(p.pos.reshape([1, l, cfg.dim]));
  for (const layer of p.blocks) h = block(h, layer, cfg.heads, bias.ref);
  bias.dispose();
  const summed = norm(h, p.ln)
    .mul(keep.ref.reshape([b, l, 1]))
    .sum(1);
  return summed.div(keep.sum(1).reshape([b, 1]));
}

/** The world's word tokenizer at the encoder's length (the exported tokenizer.json reproduces it). */
export const textTokenizer = (maxTokens: number) =>
  new WordTokenizer(WORLD_VOCABULARY, maxTokens, normalizeWords);
