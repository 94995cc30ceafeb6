/**
 * The pre-LN transformer block the text encoder stacks: x + attn(LN(x)), then x + MLP(LN(x)), GELU
 * MLP.
 */
import { type AttentionParams, attention, dense, gelu, type Tensor, zeros } from '../../../engine/index.js';
import type { Rng } from '../../../util/random.js';
import { affine, type Dense, initDense, initNorm, type Norm, norm } from './layers.js';

export type Block = { ln1: Norm; attn: AttentionParams; ln2: Norm; fc1: Dense; fc2: Dense };

export function initBlock(rng: Rng, d: number, mlpRatio: number): Block {
  return {
    ln1: initNorm(d),
    attn: {
      q: dense(rng, d, d),
      k: dense(rng, d, d),
      v: dense(rng, d, d),
      o: dense(rng, d, d),
      oBias: zeros([d]),
    },
    ln2: initNorm(d),
    fc1: initDense(rng, d, d * mlpRatio),
    fc2: initDense(rng, d * mlpRatio, d),
  };
}

/** One block over x [B, L, D]; `bias` is an additive attention-logit bias (a key padding mask). */
export function block(x: Tensor, p: Block, heads: number, bias?: Tensor): Tensor {
  const h = norm(x.ref, p.ln1);
  x = x.add(attention(h.ref, h, p.attn, heads, bias));
  return x.ref.add(affine(gelu(affine(norm(x, p.ln2), p.fc1)), p.fc2));
}
