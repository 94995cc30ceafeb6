/**
 * The shapes world's autoencoder, Stable Diffusion's AutoencoderKL in miniature and written once:
 * the same functions trace the exported vae_encoder / vae_decoder graphs and the training graph.
 * - encoder: the 64x64 RGB image (in [-1, 1]) is folded 2x2 into channels first (no convolution
 *   runs at full resolution), then residual conv blocks with a downsampling between levels, down
 *   to the latent grid, where it outputs the mean and log-variance of a diagonal Gaussian.
 * - decoder: the mirror, and a last 2x2 unfold back to full resolution: each output pixel is read
 *   from a feature at half resolution, enough for stripes and dots a few pixels wide at a quarter
 *   of the cost of full-resolution convolutions.
 * The KL term is weak (as SD's): it only keeps the latents bounded and smooth; the latents' scale
 * is then set by `scaling_factor`, measured on encoded renders as SD's 0.18215 was.
 */
import { z } from 'zod';
import { type Dim, Graph, type Tensor } from '../../graph/graph.js';
import {
  conv3x3,
  layerNorm,
  linear,
  pixelShuffle,
  pixelUnshuffle,
  resBlock,
  silu,
} from '../../graph/layers.js';

const size = z.number().int().positive();

/** The autoencoder's shape, as its checkpoint and the exported configs record it. */
export const AUTOENCODER_CONFIG = z.object({
  imageSize: size,
  latentChannels: size,
  /** Widths at half resolution and at each further halving down to the latent grid. */
  widths: z.array(size).min(1).readonly(),
  /** Residual blocks at each level (as many entries as widths). */
  encoderBlocks: z.array(z.number().int().nonnegative()).readonly(),
  decoderBlocks: z.array(z.number().int().nonnegative()).readonly(),
});
export type AutoencoderConfig = Readonly<z.infer<typeof AUTOENCODER_CONFIG>>;

/** Image side over latent side: one 2x2 fold, then a halving between each pair of widths. */
export const downFactor = (cfg: AutoencoderConfig): number => 2 ** cfg.widths.length;

const nhwc = (x: Tensor) => x.transpose([0, 2, 3, 1]);
const nchw = (x: Tensor) => x.transpose([0, 3, 1, 2]);

/** image [B, 3, S, S] in [-1, 1] -> mean and log-variance [B, C, S/f, S/f]. */
export function encode(g: Graph, cfg: AutoencoderConfig, image: Tensor): { mean: Tensor; logvar: Tensor } {
  const { widths } = cfg;
  let h = conv3x3(g, 'encoder.convIn', pixelUnshuffle(nhwc(image)), widths[0]);
  widths.forEach((w, i) => {
    if (i > 0) h = linear(g, `encoder.down.${i}`, pixelUnshuffle(h), w);
    for (let j = 0; j < cfg.encoderBlocks[i]; j++) h = resBlock(g, `encoder.level.${i}.${j}`, h, null, w);
  });
  const moments = nchw(
    conv3x3(g, 'encoder.convOut', silu(layerNorm(g, 'encoder.lnOut', h)), 2 * cfg.latentChannels),
  );
  const c = cfg.latentChannels;
  return { mean: moments.slice(1, 0, c), logvar: moments.slice(1, c, 2 * c) };
}

/** latents [B, C, s, s] (unscaled) -> image [B, 3, s·f, s·f] in about [-1, 1]. */
export function decode(g: Graph, cfg: AutoencoderConfig, latents: Tensor): Tensor {
  const { widths } = cfg;
  const top = widths.length - 1;
  let h = conv3x3(g, 'decoder.convIn', nhwc(latents), widths[top]);
  for (let i = top; i >= 0; i--) {
    if (i < top) h = pixelShuffle(linear(g, `decoder.up.${i}`, h, 4 * widths[i]));
    for (let j = 0; j < cfg.decoderBlocks[i]; j++)
      h = resBlock(g, `decoder.level.${i}.${j}`, h, null, widths[i]);
  }
  return nchw(pixelShuffle(conv3x3(g, 'decoder.convOut', silu(layerNorm(g, 'decoder.lnOut', h)), 12)));
}

/** vae_encoder: sample [batch, 3, S, S] -> latent_sample, the posterior mean (deterministic). */
export function vaeEncoderGraph(
  cfg: AutoencoderConfig,
  batch: Dim = 'batch',
): { graph: Graph; output: Tensor } {
  const g = new Graph('vae_encoder');
  const image = g.input('sample', 'float32', [batch, 3, cfg.imageSize, cfg.imageSize]);
  return { graph: g, output: encode(g, cfg, image).mean };
}

/** vae_decoder: latent_sample [batch, C, s, s] -> sample [batch, 3, S, S]. */
export function vaeDecoderGraph(
  cfg: AutoencoderConfig,
  batch: Dim = 'batch',
): { graph: Graph; output: Tensor } {
  const g = new Graph('vae_decoder');
  const side = cfg.imageSize / downFactor(cfg);
  const latents = g.input('latent_sample', 'float32', [batch, cfg.latentChannels, side, side]);
  return { graph: g, output: decode(g, cfg, latents) };
}

/** The 5-point Laplacian: a pixel against its four neighbours, zero on flat colour. */
const LAPLACIAN = Float32Array.of(0, 1, 0, 1, -4, 1, 0, 1, 0);

/** Charbonnier error (an L1 that is smooth at 0: sharper edges than the MSE), averaged. */
const charbonnier = (t: Tensor) =>
  t
    .square()
    .add(1e-6)
    .sqrt()
    .mean(t.shape.map((_, i) => i));

/**
 * The training graph at a static batch: inputs the image and the posterior's unit noise; output
 * the Charbonnier reconstruction error, plus `detailWeight` times the Charbonnier error of the
 * error's Laplacian (small dots and stripes weigh little in the plain error, much in this one),
 * plus `klWeight` times the mean KL divergence from the unit Gaussian.
 */
export function autoencoderTrainingGraph(
  cfg: AutoencoderConfig,
  batch: number,
  weights: { readonly klWeight: number; readonly detailWeight: number },
): { graph: Graph; loss: Tensor } {
  const g = new Graph('shapes_autoencoder_train');
  const s = cfg.imageSize;
  const side = s / downFactor(cfg);
  const image = g.input('image', 'float32', [batch, 3, s, s]);
  const noise = g.input('noise', 'float32', [batch, cfg.latentChannels, side, side]);
  const { mean, logvar } = encode(g, cfg, image);
  const std = logvar.mul(0.5).exp();
  const error = decode(g, cfg, mean.add(std.mul(noise))).sub(image);
  const kl = mean.square().add(std.square()).sub(logvar).sub(1).mul(0.5).mean([0, 1, 2, 3]);
  let loss = charbonnier(error).add(kl.mul(weights.klWeight));
  if (weights.detailWeight > 0) {
    const planes = error.reshape([batch * 3, 1, s, s]);
    const edges = g.conv(planes, g.constant(LAPLACIAN, [1, 1, 3, 3]), null, { pads: [1, 1, 1, 1] });
    loss = loss.add(charbonnier(edges).mul(weights.detailWeight));
  }
  return { graph: g, loss };
}
