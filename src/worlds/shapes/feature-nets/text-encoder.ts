/**
 * The CLIP text encoder: word tokens (the world's word tokenizer, BOS ... EOS, padded to 64) with
 * learned positions, pre-LN blocks whose attention masks padding, a final LayerNorm and the mean
 * over the real tokens. Masking makes the embedding independent of how far a prompt is padded.
 */
import type { Graph, Tensor } from '../../../graph/graph.js';
import { layerNorm, paddingBias, table, transformerBlock } from '../../../graph/layers.js';
import { PAD_ID, WordTokenizer } from '../model-tokenizer.js';
import { normalizeWords, WORLD_VOCABULARY } from '../vocabulary.js';
import type { TextConfig } from './config.js';

const EMBEDDING = { kind: 'normal', std: 0.02 } as const;

/** int64 ids [B, maxTokens] -> pooled features [B, dim]. */
export function encodeText(g: Graph, prefix: string, cfg: TextConfig, ids: Tensor): Tensor {
  const keep = g.where(g.compare('Equal', ids, g.constant(BigInt64Array.of(BigInt(PAD_ID)), [])), 0, 1);
  const bias = paddingBias(keep);
  const tok = table(g, `${prefix}.tok`, cfg.vocabSize, cfg.dim, EMBEDDING);
  let h = g.gather(tok, ids).add(table(g, `${prefix}.pos`, cfg.maxTokens, cfg.dim, EMBEDDING));
  for (let i = 0; i < cfg.depth; i++) {
    h = transformerBlock(g, `${prefix}.blocks.${i}`, h, { heads: cfg.heads, mlpRatio: cfg.mlpRatio, bias });
  }
  const summed = layerNorm(g, `${prefix}.ln`, h)
    .mul(keep.unsqueeze([2]))
    .sum([1]);
  return summed.div(keep.sum([1], true));
}

/** The world's word tokenizer at the encoder's length (the exported tokenizer.json reproduces it). */
export const textTokenizer = (maxTokens: number) =>
  new WordTokenizer(WORLD_VOCABULARY, maxTokens, normalizeWords);
