/**
 * The shapes world's text-to-image model, pixel-space latent diffusion in miniature:
 * - text encoder: a pre-LN transformer over word tokens; its final hidden states [B, 64, D] are
 *   the condition c (like CLIP's last_hidden_state). Self-attention masks padding.
 * - denoiser: a small UNet on the 32x32 RGB image (NHWC inside): residual conv blocks at 32, 16
 *   and 8 px with skip connections, the timestep added in every block, and the text read by
 *   cross-attention at 16 and 8 px (transformer blocks with self-attention at 8 px). As in Stable
 *   Diffusion (CLIP's padded 77 tokens) the cross-attention has no padding mask: padded positions
 *   carry learned features, and the exported UNet needs nothing but `encoder_hidden_states`.
 *   A first model, a DiT over 4x4 patches trained for an hour, drew the right colours as blocky
 *   blobs: convolutions learn edges and small shapes from far fewer images.
 * It outputs epsilon on the SD 2.1 schedule (see model-schedule.ts), as the DDIM pipeline wants,
 * but the network itself predicts v = √ᾱ·ε − √(1−ᾱ)·x0 and converts, ε = √ᾱ·v + √(1−ᾱ)·x_t: near
 * t = 1000 (ᾱ ≈ 0.005) a direct ε network must reproduce x_t to 1% to place the image, which a
 * small model trained briefly cannot; through v the identity part is exact.
 */
import {
  type AttentionParams,
  attention,
  conv3x3,
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
  /** UNet channels at 32, 16 and 8 px (each level halves the side). */
  readonly widths: readonly number[];
  /** Transformer blocks (self-attention, cross-attention, MLP) at the lowest resolution. */
  readonly midBlocks: number;
  readonly heads: number;
  readonly mlpRatio: number;
  readonly timeFreqDim: number;
  readonly timeDim: number;
}

type Norm = { scale: Tensor; bias: Tensor };
type Dense = { w: Tensor; b: Tensor };
type Mlp = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
export type TextLayer = { ln1: Norm; attn: AttentionParams; ln2: Norm; mlp: Mlp };
export type TextParams = { tok: Tensor; pos: Tensor; layers: TextLayer[]; lnOut: Norm };
/** Residual block; `skip` (a 1x1 projection) only where the channel count changes. */
export type ResBlock = { ln1: Norm; conv1: Dense; time: Dense; ln2: Norm; conv2: Dense; skip?: Dense };
export type MidBlock = {
  ln1: Norm;
  attn: AttentionParams;
  ln2: Norm;
  cross: AttentionParams;
  ln3: Norm;
  mlp: Mlp;
};
export type DenoiserParams = {
  time: Mlp;
  convIn: Dense;
  /** One block per level, top (32 px) down. */
  down: ResBlock[];
  /** Pixel-unshuffle projections [4·C_i, C_{i+1}] between levels. */
  downsample: Dense[];
  pos: Tensor;
  mid: MidBlock[];
  /** Pixel-shuffle projections [C_{i+1}, 4·C_i], lowest level first. */
  upsample: Dense[];
  /** One block per level above the lowest, lowest first, over [upsampled, skip] channels. */
  up: ResBlock[];
  upCross: { ln: Norm; cross: AttentionParams };
  lnOut: Norm;
  convOut: Dense;
};
export type ModelParams = { text: TextParams; unet: DenoiserParams };

const norm = (d: number): Norm => ({ scale: ones([d]), bias: zeros([d]) });
const affine = (rng: Rng, fanIn: number, fanOut: number): Dense => ({
  w: dense(rng, fanIn, fanOut),
  b: zeros([fanOut]),
});
const zeroDense = (fanIn: number, fanOut: number): Dense => ({
  w: zeros([fanIn, fanOut]),
  b: zeros([fanOut]),
});
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

/** The second convolution starts at zero, so every residual block starts as the identity. */
function resBlock(rng: Rng, cin: number, cout: number, timeDim: number): ResBlock {
  return {
    ln1: norm(cin),
    conv1: affine(rng, 9 * cin, cout),
    time: affine(rng, timeDim, cout),
    ln2: norm(cout),
    conv2: zeroDense(9 * cout, cout),
    ...(cin === cout ? {} : { skip: affine(rng, cin, cout) }),
  };
}

export function initParams(cfg: ModelConfig, rng: Rng): ModelParams {
  const { textDim: dt, widths, timeDim } = cfg;
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
  const levels = widths.length;
  const low = widths[levels - 1];
  const lowSide = cfg.imageSize / 2 ** (levels - 1);
  const unet: DenoiserParams = {
    time: mlp(rng, cfg.timeFreqDim, timeDim),
    convIn: affine(rng, 9 * cfg.channels, widths[0]),
    down: widths.map((w) => resBlock(rng, w, w, timeDim)),
    downsample: widths.slice(1).map((w, i) => affine(rng, 4 * widths[i], w)),
    pos: sincos2d(lowSide, low),
    mid: Array.from({ length: cfg.midBlocks }, () => ({
      ln1: norm(low),
      attn: attn(rng, low, low),
      ln2: norm(low),
      cross: attn(rng, low, dt),
      ln3: norm(low),
      mlp: mlp(rng, low, low * cfg.mlpRatio),
    })),
    upsample: widths
      .slice(0, -1)
      .map((w, i) => affine(rng, widths[i + 1], 4 * w))
      .reverse(),
    up: widths
      .slice(0, -1)
      .map((w) => resBlock(rng, 2 * w, w, timeDim))
      .reverse(),
    upCross: { ln: norm(widths[levels - 2]), cross: attn(rng, widths[levels - 2], dt) },
    lnOut: norm(widths[0]),
    convOut: zeroDense(9 * widths[0], cfg.channels),
  };
  return { text, unet };
}

/**
 * DiT's fixed 2-D sine-cosine position table [side², d] (half the channels code the row, half the
 * column), used to initialise the learned one: prompts name regions, and the attention blocks
 * must know where each pixel is.
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

/** x [B, H, W, Cin], temb [B, T] (already through SiLU) -> [B, H, W, Cout]. Consumes its arguments. */
function residual(p: ResBlock, x: Tensor, temb: Tensor): Tensor {
  const [b] = x.shape;
  let h = conv3x3(silu(ln(x.ref, p.ln1)), p.conv1.w, p.conv1.b);
  const cout = h.shape[3];
  h = h.add(linear(temb, p.time.w, p.time.b).reshape([b, 1, 1, cout]));
  h = conv3x3(silu(ln(h, p.ln2)), p.conv2.w, p.conv2.b);
  return (p.skip ? linear(x, p.skip.w, p.skip.b) : x).add(h);
}

/** [B, H, W, C] -> [B, H/2, W/2, 4C], channels ordered (dy, dx, c) like ONNX SpaceToDepth. */
export function pixelUnshuffle(x: Tensor): Tensor {
  const [b, h, w, c] = x.shape;
  return x
    .reshape([b, h / 2, 2, w / 2, 2, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, h / 2, w / 2, 4 * c]);
}

/** [B, H, W, 4C] -> [B, 2H, 2W, C], the inverse of pixelUnshuffle (ONNX DepthToSpace, DCR). */
export function pixelShuffle(x: Tensor): Tensor {
  const [b, h, w, c4] = x.shape;
  const c = c4 / 4;
  return x
    .reshape([b, h, w, 2, 2, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, 2 * h, 2 * w, c]);
}

/** Cross-attention of an image map [B, H, W, C] to the text states, as a residual. */
function crossAttend(x: Tensor, n: Norm, p: AttentionParams, c: Tensor, heads: number): Tensor {
  const [b, h, w, ch] = x.shape;
  const tokens = x.reshape([b, h * w, ch]);
  return tokens.ref.add(attention(ln(tokens, n), c, p, heads)).reshape([b, h, w, ch]);
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
  const temb = silu(feedForward(timestepEmbedding(t, cfg.timeFreqDim), p.time));
  let h = conv3x3(sample.transpose([0, 2, 3, 1]), p.convIn.w, p.convIn.b);
  const skips: Tensor[] = [];
  p.down.forEach((block, i) => {
    h = residual(block, h, temb.ref);
    if (i < p.downsample.length) {
      skips.push(h.ref);
      h = linear(pixelUnshuffle(h), p.downsample[i].w, p.downsample[i].b);
    }
  });
  const [b, side, , low] = h.shape;
  let tokens = h.reshape([b, side * side, low]).add(p.pos.reshape([1, side * side, low]));
  for (const block of p.mid) {
    const a = ln(tokens.ref, block.ln1);
    tokens = tokens.add(attention(a.ref, a, block.attn, cfg.heads));
    tokens = tokens.ref.add(attention(ln(tokens, block.ln2), c.ref, block.cross, cfg.heads));
    tokens = tokens.ref.add(feedForward(ln(tokens, block.ln3), block.mlp));
  }
  h = tokens.reshape([b, side, side, low]);
  p.up.forEach((block, i) => {
    h = pixelShuffle(linear(h, p.upsample[i].w, p.upsample[i].b));
    h = residual(block, np.concatenate([h, skips.pop() as Tensor], -1), temb.ref);
    if (i === 0) h = crossAttend(h, p.upCross.ln, p.upCross.cross, c.ref, cfg.heads);
  });
  temb.dispose();
  c.dispose();
  const out = conv3x3(silu(ln(h, p.lnOut)), p.convOut.w, p.convOut.b);
  return out.transpose([0, 3, 1, 2]);
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
