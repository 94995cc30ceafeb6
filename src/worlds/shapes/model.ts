/**
 * The shapes world's text-to-image model, pixel-space latent diffusion in miniature:
 * - text encoder: a pre-LN transformer over word tokens; its final hidden states [B, 64, D] are
 *   the condition c (like CLIP's last_hidden_state). Self-attention masks padding.
 * - denoiser: a DiT over 4x4 patches of the 32x32 RGB image (64 tokens), timestep-conditioned by
 *   adaLN-Zero and text-conditioned by cross-attention to all 64 text positions. As in Stable
 *   Diffusion (CLIP's padded 77 tokens) the cross-attention has no padding mask: padded positions
 *   carry learned features, and the exported UNet needs nothing but `encoder_hidden_states`.
 * It outputs epsilon on the SD 2.1 schedule (see model-schedule.ts), as the DDIM pipeline wants,
 * but the network itself predicts v = √ᾱ·ε − √(1−ᾱ)·x0 and converts, ε = √ᾱ·v + √(1−ᾱ)·x_t: near
 * t = 1000 (ᾱ ≈ 0.005) a direct ε network must reproduce x_t to 1% to place the image, which a
 * small model trained briefly cannot; through v the identity part is exact.
 */
import {
  type AttentionParams,
  attention,
  dense,
  gelu,
  layerNorm,
  linear,
  normal,
  np,
  ones,
  paddingBias,
  silu,
  type Tensor,
  tensor,
  timestepEmbedding,
  zeros,
} from '../../engine/index.js';
import type { Rng } from '../../util/random.js';
import { alphasCumprod } from './model-schedule.js';
import { PAD_ID } from './model-tokenizer.js';

export interface ModelConfig {
  readonly vocabSize: number;
  readonly maxTokens: number;
  readonly textDim: number;
  readonly textLayers: number;
  readonly textHeads: number;
  readonly imageSize: number;
  readonly channels: number;
  readonly patch: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpRatio: number;
  readonly timeFreqDim: number;
}

type Norm = { scale: Tensor; bias: Tensor };
type Mlp = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
export type TextLayer = { ln1: Norm; attn: AttentionParams; ln2: Norm; mlp: Mlp };
export type TextParams = { tok: Tensor; pos: Tensor; layers: TextLayer[]; lnOut: Norm };
export type Block = {
  ada: { w: Tensor; b: Tensor };
  attn: AttentionParams;
  lnCross: Norm;
  cross: AttentionParams;
  mlp: Mlp;
};
export type DenoiserParams = {
  patch: { w: Tensor; b: Tensor };
  pos: Tensor;
  time: Mlp;
  blocks: Block[];
  final: { ada: { w: Tensor; b: Tensor }; w: Tensor; b: Tensor };
};
export type ModelParams = { text: TextParams; unet: DenoiserParams };

const norm = (d: number): Norm => ({ scale: ones([d]), bias: zeros([d]) });
const mlp = (rng: Rng, d: number, hidden: number): Mlp => ({
  w1: dense(rng, d, hidden),
  b1: zeros([hidden]),
  w2: dense(rng, hidden, d),
  b2: zeros([d]),
});
const attn = (rng: Rng, d: number, dc: number): AttentionParams => ({
  q: dense(rng, d, d),
  k: dense(rng, dc, d),
  v: dense(rng, dc, d),
  o: dense(rng, d, d),
  oBias: zeros([d]),
});

export function initParams(cfg: ModelConfig, rng: Rng): ModelParams {
  const { textDim: dt, dim: d } = cfg;
  const patchDim = cfg.channels * cfg.patch * cfg.patch;
  const text: TextParams = {
    tok: normal(rng, [cfg.vocabSize, dt], 0.02),
    pos: normal(rng, [cfg.maxTokens, dt], 0.02),
    layers: Array.from({ length: cfg.textLayers }, () => ({
      ln1: norm(dt),
      attn: attn(rng, dt, dt),
      ln2: norm(dt),
      mlp: mlp(rng, dt, dt * cfg.mlpRatio),
    })),
    lnOut: norm(dt),
  };
  // adaLN-Zero: modulation and output layers start at zero, so every block starts as the identity.
  const unet: DenoiserParams = {
    patch: { w: dense(rng, patchDim, d), b: zeros([d]) },
    pos: sincos2d(cfg.imageSize / cfg.patch, d),
    time: { w1: dense(rng, cfg.timeFreqDim, d), b1: zeros([d]), w2: dense(rng, d, d), b2: zeros([d]) },
    blocks: Array.from({ length: cfg.depth }, () => ({
      ada: { w: zeros([d, 6 * d]), b: zeros([6 * d]) },
      attn: attn(rng, d, d),
      lnCross: norm(d),
      cross: attn(rng, d, dt),
      mlp: mlp(rng, d, d * cfg.mlpRatio),
    })),
    final: {
      ada: { w: zeros([d, 2 * d]), b: zeros([2 * d]) },
      w: zeros([d, patchDim]),
      b: zeros([patchDim]),
    },
  };
  return { text, unet };
}

/**
 * DiT's fixed 2-D sine-cosine position table [grid², d] (half the channels code the row, half the
 * column), used to initialise the learned one: at a small init, position is lost against the patch
 * content and samples come out as scattered fragments instead of placed shapes.
 */
function sincos2d(grid: number, d: number): Tensor {
  const quarter = d / 4;
  const out = new Float32Array(grid * grid * d);
  for (let row = 0; row < grid; row++) {
    for (let col = 0; col < grid; col++) {
      const base = (row * grid + col) * d;
      for (let i = 0; i < quarter; i++) {
        const omega = 1 / 10000 ** (i / quarter);
        out[base + i] = Math.sin(row * omega);
        out[base + quarter + i] = Math.cos(row * omega);
        out[base + 2 * quarter + i] = Math.sin(col * omega);
        out[base + 3 * quarter + i] = Math.cos(col * omega);
      }
    }
  }
  return tensor(out, [grid * grid, d]);
}

const ln = (x: Tensor, n: Norm) => layerNorm(x, n.scale, n.bias);
const feedForward = (x: Tensor, p: Mlp) => linear(gelu(linear(x, p.w1, p.b1)), p.w2, p.b2);

/** ids [B, L] int32 -> last_hidden_state [B, L, textDim]. Consumes its arguments. */
export function encodeText(cfg: ModelConfig, p: TextParams, ids: Tensor): Tensor {
  const l = ids.shape[1];
  const bias = paddingBias(ids.ref.notEqual(PAD_ID).astype(np.float32));
  let x = np.take(p.tok, ids, 0).add(p.pos.reshape([1, l, cfg.textDim]));
  for (const layer of p.layers) {
    const h = ln(x.ref, layer.ln1);
    x = x.add(attention(h.ref, h, layer.attn, cfg.textHeads, bias.ref));
    x = x.ref.add(feedForward(ln(x, layer.ln2), layer.mlp));
  }
  bias.dispose();
  return ln(x, p.lnOut);
}

/** x·(1 + scale) + shift with [B, D] modulation broadcast over tokens. */
function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  const [b, d] = shift.shape;
  return x.mul(scale.reshape([b, 1, d]).add(1)).add(shift.reshape([b, 1, d]));
}

/** [B, C, H, W] -> [B, (H/p)·(W/p), p·p·C], patch-major then (row, col, channel). */
export function patchify(cfg: ModelConfig, x: Tensor): Tensor {
  const [b] = x.shape;
  const { channels: c, patch: p } = cfg;
  const g = cfg.imageSize / p;
  return x
    .reshape([b, c, g, p, g, p])
    .transpose([0, 2, 4, 3, 5, 1])
    .reshape([b, g * g, p * p * c]);
}

/** Inverse of patchify. */
export function unpatchify(cfg: ModelConfig, x: Tensor): Tensor {
  const [b] = x.shape;
  const { channels: c, patch: p } = cfg;
  const g = cfg.imageSize / p;
  return x
    .reshape([b, g, g, p, p, c])
    .transpose([0, 5, 1, 3, 2, 4])
    .reshape([b, c, cfg.imageSize, cfg.imageSize]);
}

/**
 * The network: predicts v for sample [B, C, S, S] at timesteps t [B] (float, whole numbers) given
 * text states c [B, L, textDim]. Consumes its arguments.
 */
export function predictVelocity(
  cfg: ModelConfig,
  p: DenoiserParams,
  sample: Tensor,
  t: Tensor,
  c: Tensor,
): Tensor {
  const d = cfg.dim;
  const tokens = (cfg.imageSize / cfg.patch) ** 2;
  let h = linear(patchify(cfg, sample), p.patch.w, p.patch.b).add(p.pos.reshape([1, tokens, d]));
  const temb = linear(
    silu(linear(timestepEmbedding(t, cfg.timeFreqDim), p.time.w1, p.time.b1)),
    p.time.w2,
    p.time.b2,
  );
  const cond = silu(temb);
  for (const block of p.blocks) {
    const [shift1, scale1, gate1, shift2, scale2, gate2] = np.split(
      linear(cond.ref, block.ada.w, block.ada.b),
      6,
      -1,
    );
    const [bsz] = gate1.shape;
    const a = modulate(layerNorm(h.ref), shift1, scale1);
    h = h.add(attention(a.ref, a, block.attn, cfg.heads).mul(gate1.reshape([bsz, 1, d])));
    h = h.ref.add(attention(ln(h, block.lnCross), c.ref, block.cross, cfg.heads));
    const m = modulate(layerNorm(h.ref), shift2, scale2);
    h = h.add(feedForward(m, block.mlp).mul(gate2.reshape([bsz, 1, d])));
  }
  c.dispose();
  const [shift, scale] = np.split(linear(cond, p.final.ada.w, p.final.ada.b), 2, -1);
  return unpatchify(cfg, linear(modulate(layerNorm(h), shift, scale), p.final.w, p.final.b));
}

/** √ᾱ_t and √(1−ᾱ_t) as [B, 1, 1, 1] for integer-valued timesteps t [B]. */
export function scheduleCoefficients(t: Tensor): [Tensor, Tensor] {
  const abar = alphasCumprod();
  const index = t.astype(np.int32);
  const [b] = index.shape;
  const signal = np.take(np.array(Float32Array.from(abar, Math.sqrt)), index.ref, 0).reshape([b, 1, 1, 1]);
  const noise = np
    .take(np.array(Float32Array.from(abar, (a) => Math.sqrt(1 - a))), index, 0)
    .reshape([b, 1, 1, 1]);
  return [signal, noise];
}

/** Predicts epsilon (the exported UNet's output) from the network's v. Consumes its arguments. */
export function denoise(cfg: ModelConfig, p: DenoiserParams, sample: Tensor, t: Tensor, c: Tensor): Tensor {
  const [signal, noise] = scheduleCoefficients(t.ref);
  const v = predictVelocity(cfg, p, sample.ref, t, c);
  return v.mul(signal).add(sample.mul(noise));
}
