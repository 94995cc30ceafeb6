/**
 * The shapes world's text-to-image model, Stable Diffusion in miniature, written once: the same
 * functions trace the exported ONNX graphs (symbolic batch, trained weights as initializers) and
 * the training graph (static batch, parameters as inputs, autodiff gradients).
 * - text encoder: a pre-LN transformer over word tokens; its final hidden states [B, 64, D] are
 *   the condition c (like CLIP's last_hidden_state). Self-attention masks padding.
 * - denoiser: a small UNet over the sample (NHWC inside): the autoencoder's 8x8x4 latents
 *   (autoencoder.ts), or the 32x32 RGB image of the first, pixel-space model. Residual conv blocks
 *   at each level with skip connections, the timestep added in every block, transformer blocks
 *   (self-attention, cross-attention to c, MLP) at the lowest level and cross-attention once more
 *   on the way up. One level only makes it a transformer over the sample's pixels after one conv
 *   block. As in Stable Diffusion (CLIP's padded 77 tokens) the cross-attention has no padding mask.
 * The network predicts v = √ᾱ·ε − √(1−ᾱ)·x0; the exported UNet outputs ε = √ᾱ·v + √(1−ᾱ)·x_t on the
 * SD 2.1 schedule (model-schedule.ts): near t = 1000 a direct ε network must reproduce x_t to 1%
 * to place the sample, which a small model trained briefly cannot; through v the identity part is
 * exact.
 */
import { z } from 'zod';
import { type Dim, Graph, type ParamSpec, type Tensor } from '../../graph/graph.js';
import {
  attention,
  conv3x3,
  layerNorm,
  linear,
  mlp,
  paddingBias,
  pixelShuffle,
  pixelUnshuffle,
  resBlock,
  silu,
  table,
  timestepEmbedding,
  transformerBlock,
} from '../../graph/layers.js';
import { alphasCumprod } from './model-schedule.js';
import { PAD_ID } from './model-tokenizer.js';

const size = z.number().int().positive();

/** The model's shape, as a model folder's config.json and a checkpoint's config record it. */
export const MODEL_CONFIG = z.object({
  vocabSize: size,
  maxTokens: size,
  textDim: size,
  textLayers: size,
  textHeads: size,
  imageSize: size,
  channels: size,
  /** UNet channels at each level (each level halves the side). */
  widths: z.array(size).min(2).readonly(),
  /** Transformer blocks (self-attention, cross-attention, MLP) at the lowest resolution. */
  midBlocks: size,
  heads: size,
  mlpRatio: size,
  timeFreqDim: size,
  timeDim: size,
});
export type ModelConfig = Readonly<z.infer<typeof MODEL_CONFIG>>;

/**
 * DiT's fixed 2-D sine-cosine position table [side², d] (half the channels code the row, half the
 * column), the learned table's initial value: prompts name regions, and the attention blocks must
 * know where each pixel is.
 */
function sincos2d(grid: number, d: number): Float32Array {
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
  return out;
}

/** ids [B, L] int64 -> last_hidden_state [B, L, textDim]. */
export function encodeText(g: Graph, cfg: ModelConfig, ids: Tensor): Tensor {
  const isPad = g.compare('Equal', ids, g.constant(BigInt64Array.of(BigInt(PAD_ID)), [])).cast('float32');
  const bias = paddingBias(isPad.neg().add(1));
  const tok = table(g, 'text.tok', cfg.vocabSize, cfg.textDim, { kind: 'normal', std: 0.02 });
  const pos = table(g, 'text.pos', cfg.maxTokens, cfg.textDim, { kind: 'normal', std: 0.02 });
  let x = g.gather(tok, ids).add(pos);
  for (let i = 0; i < cfg.textLayers; i++) {
    x = transformerBlock(g, `text.layers.${i}`, x, { heads: cfg.textHeads, mlpRatio: cfg.mlpRatio, bias });
  }
  return layerNorm(g, 'text.lnOut', x);
}

/** The network: v for sample [B, C, S, S] at integer timesteps t [B] given text states c. */
export function predictVelocity(g: Graph, cfg: ModelConfig, sample: Tensor, t: Tensor, c: Tensor): Tensor {
  const { widths, heads, mlpRatio } = cfg;
  const b = sample.shape[0];
  const temb = silu(mlp(g, 'unet.time', timestepEmbedding(g, t, cfg.timeFreqDim), cfg.timeDim));
  let h = conv3x3(g, 'unet.convIn', sample.transpose([0, 2, 3, 1]), widths[0]);
  const skips: Tensor[] = [];
  widths.forEach((w, i) => {
    h = resBlock(g, `unet.down.${i}`, h, temb, w);
    if (i < widths.length - 1) {
      skips.push(h);
      h = linear(g, `unet.downsample.${i}`, pixelUnshuffle(h), widths[i + 1]);
    }
  });
  const low = widths[widths.length - 1];
  const side = cfg.imageSize >> (widths.length - 1);
  const pos = table(g, 'unet.pos', side * side, low, { kind: 'data', data: sincos2d(side, low) });
  let tokens = h.reshape([b, side * side, low]).add(pos);
  for (let i = 0; i < cfg.midBlocks; i++) {
    tokens = transformerBlock(g, `unet.mid.${i}`, tokens, { heads, mlpRatio, context: c });
  }
  h = tokens.reshape([b, side, side, low]);
  for (let i = 0; i < widths.length - 1; i++) {
    const level = widths.length - 2 - i;
    const w = widths[level];
    h = pixelShuffle(linear(g, `unet.upsample.${i}`, h, 4 * w));
    h = resBlock(g, `unet.up.${i}`, g.concat([h, skips.pop() as Tensor], -1), temb, w);
    if (i === 0) {
      const s = h.dim(1);
      const flat = h.reshape([b, s * s, w]);
      const crossed = attention(g, 'unet.upCross.cross', layerNorm(g, 'unet.upCross.ln', flat), c, heads);
      h = flat.add(crossed).reshape([b, s, s, w]);
    }
  }
  const out = conv3x3(g, 'unet.convOut', silu(layerNorm(g, 'unet.lnOut', h)), cfg.channels, {
    zeroInit: true,
  });
  return out.transpose([0, 3, 1, 2]);
}

/** √ᾱ_t or √(1−ᾱ_t) gathered by timestep t [B], as [B, 1, 1, 1]. */
function scheduleCoefficient(g: Graph, t: Tensor, f: (abar: number) => number): Tensor {
  const abar = alphasCumprod();
  const values = g.constant(Float32Array.from(abar, f), [abar.length]);
  return g.gather(values, t).reshape([t.shape[0], 1, 1, 1]);
}

/** The exported graphs, batch symbolic: what `models/shapes` ships. */
export function textEncoderGraph(cfg: ModelConfig, batch: Dim = 'batch'): { graph: Graph; output: Tensor } {
  const g = new Graph('text_encoder');
  const ids = g.input('input_ids', 'int64', [batch, cfg.maxTokens]);
  return { graph: g, output: encodeText(g, cfg, ids) };
}

export function unetGraph(cfg: ModelConfig, batch: Dim = 'batch'): { graph: Graph; output: Tensor } {
  const { channels: ch, imageSize: s } = cfg;
  const g = new Graph('unet');
  const sample = g.input('sample', 'float32', [batch, ch, s, s]);
  const t = g.input('timestep', 'int64', [batch]);
  const c = g.input('encoder_hidden_states', 'float32', [batch, cfg.maxTokens, cfg.textDim]);
  const v = predictVelocity(g, cfg, sample, t, c);
  const eps = v
    .mul(scheduleCoefficient(g, t, Math.sqrt))
    .add(sample.mul(scheduleCoefficient(g, t, (a) => Math.sqrt(1 - a))));
  return { graph: g, output: eps };
}

/**
 * The training graph at a static batch: inputs input_ids, noisy, timestep and the v target;
 * output the v-prediction MSE.
 */
export function trainingGraph(cfg: ModelConfig, batch: number): { graph: Graph; loss: Tensor } {
  const { channels: ch, imageSize: s } = cfg;
  const g = new Graph('shapes_train');
  const ids = g.input('input_ids', 'int64', [batch, cfg.maxTokens]);
  const noisy = g.input('noisy', 'float32', [batch, ch, s, s]);
  const t = g.input('timestep', 'int64', [batch]);
  const target = g.input('velocity', 'float32', [batch, ch, s, s]);
  const error = predictVelocity(g, cfg, noisy, t, encodeText(g, cfg, ids)).sub(target);
  return { graph: g, loss: error.mul(error).mean([0, 1, 2, 3]) };
}

/** Every parameter of the model (text.* then unet.*), in declaration order. */
export function modelSpecs(cfg: ModelConfig): ParamSpec[] {
  return trainingGraph(cfg, 1).graph.paramSpecs();
}
