/**
 * The image preprocessing of CLIP / BLIP style reward models, as transformers' CLIPImageProcessor and
 * BLIP's torchvision transform do it on a PIL image: resize, optional centre crop, scale to [0, 1],
 * normalise per channel, CHW.
 *
 * The resize is PIL's Image.resize reproduced bit for bit (its filters, 8-bit fixed-point weights,
 * horizontal pass then vertical), not sharp's: libvips enlarges with a half-pixel shift, so small
 * images would score differently than under the model's own preprocessing. Images are quantised to
 * 8 bits first, as the processors' PIL inputs (and our saved PNGs) are.
 */
import { z } from 'zod';
import { type RgbImage, toRgb8 } from '../util/image.js';

export type ResizeKernel = 'bicubic' | 'bilinear' | 'nearest';
export type Rgb = readonly [number, number, number];

export interface ImagePreprocess {
  height: number;
  width: number;
  resize: ResizeKernel;
  /**
   * 'center': scale, keeping the aspect ratio, until the image covers height x width, then cut out the
   * middle (for a square size: the shorter side becomes the size). 'none': scale to exactly that size.
   */
  crop: 'center' | 'none';
  mean: Rgb;
  std: Rgb;
}

/** PIL's fixed-point precision for 8-bit images (32 - 8 - 2). */
const PRECISION_BITS = 22;

/** PIL's BICUBIC (a = -0.5) and BILINEAR filters. */
const FILTERS = {
  bicubic: {
    support: 2,
    at(x: number) {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      return x < 2 ? (((x - 5) * x + 8) * x - 4) * a : 0;
    },
  },
  bilinear: { support: 1, at: (x: number) => Math.max(0, 1 - Math.abs(x)) },
};

/** Output pixel i along an axis: sum of inputs start, start + 1, ... times fixed-point weights. */
interface Tap {
  start: number;
  weights: number[];
}

/** PIL's precompute_coeffs + normalize_coeffs_8bpc: the filter widens by the scale when shrinking. */
function filterTaps(inSize: number, outSize: number, kernel: 'bicubic' | 'bilinear'): Tap[] {
  const filter = FILTERS[kernel];
  const scale = inSize / outSize;
  const widen = Math.max(scale, 1);
  const support = filter.support * widen;
  const ss = 1 / widen;
  return Array.from({ length: outSize }, (_, i) => {
    const center = (i + 0.5) * scale;
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = Array.from({ length: end - start }, (_, k) => filter.at((k + start - center + 0.5) * ss));
    const total = w.reduce((a, b) => a + b, 0);
    const weights = w.map((v) => {
      const fixed = (total === 0 ? v : v / total) * 2 ** PRECISION_BITS;
      return Math.trunc(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
    });
    return { start, weights };
  });
}

/** PIL's NEAREST (ImagingScaleAffine): input floor((i + 0.5) * scale), the coordinate summed step by step as PIL does. */
function nearestTaps(inSize: number, outSize: number): Tap[] {
  const scale = inSize / outSize;
  let at = scale * 0.5;
  return Array.from({ length: outSize }, () => {
    const start = Math.min(Math.trunc(at), inSize - 1);
    at += scale;
    return { start, weights: [2 ** PRECISION_BITS] };
  });
}

/** Resamples 8-bit HWC RGB along x or y, producing only outputs first .. first + count - 1. */
function resampleAxis(
  src: Uint8Array,
  width: number,
  height: number,
  taps: Tap[],
  axis: 'x' | 'y',
  first: number,
  count: number,
): Uint8Array {
  const [ow, oh] = axis === 'x' ? [count, height] : [width, count];
  const step = axis === 'x' ? 3 : width * 3;
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const tap = taps[first + (axis === 'x' ? x : y)];
      const base = axis === 'x' ? (y * width + tap.start) * 3 : (tap.start * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        let sum = 1 << (PRECISION_BITS - 1);
        for (let k = 0; k < tap.weights.length; k++) sum += src[base + k * step + c] * tap.weights[k];
        out[(y * ow + x) * 3 + c] = Math.min(255, Math.max(0, sum >> PRECISION_BITS));
      }
    }
  }
  return out;
}

/**
 * Size after the resize. The non-binding side is floored from one exact division, as transformers'
 * get_resize_output_image_size and torchvision's Resize(int) compute int(size * long / short).
 */
function resizedSize(w: number, h: number, p: ImagePreprocess): [number, number] {
  if (p.crop === 'none') return [p.width, p.height];
  if (p.width * h >= p.height * w) return [p.width, Math.max(p.height, Math.floor((p.width * h) / w))];
  return [Math.max(p.width, Math.floor((p.height * w) / h)), p.height];
}

/** The model's input for one image: 3 x height x width floats, (x - mean) / std per channel. */
export function preprocessImage(image: RgbImage, p: ImagePreprocess): Float32Array {
  const [rw, rh] = resizedSize(image.width, image.height, p);
  const taps = (inSize: number, outSize: number) =>
    p.resize === 'nearest' ? nearestTaps(inSize, outSize) : filterTaps(inSize, outSize, p.resize);
  // Crop offsets floored, as transformers' center_crop; only the kept pixels are computed.
  const left = Math.floor((rw - p.width) / 2);
  const top = Math.floor((rh - p.height) / 2);
  const rows = resampleAxis(
    toRgb8(image),
    image.width,
    image.height,
    taps(image.width, rw),
    'x',
    left,
    p.width,
  );
  const hwc = resampleAxis(rows, p.width, image.height, taps(image.height, rh), 'y', top, p.height);

  const plane = p.width * p.height;
  const chw = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const [mean, std] = [p.mean[c], p.std[c]];
    for (let i = 0; i < plane; i++) chw[c * plane + i] = (hwc[i * 3 + c] / 255 - mean) / std;
  }
  return chw;
}

const positiveInt = z.number().int().positive();
/** Three per-channel numbers. */
export const rgbTuple = (item: z.ZodNumber) => z.tuple([item, item, item]);
/** An optional tensor name override in a folder's config.json. */
export const tensorName = z.string().min(1).optional();
/** OpenAI CLIP's normalisation, which CLIP, BLIP (ImageReward) and PickScore processors share. */
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** config.json fields every image-model folder (reward model, feature net, CLIP) shares, by name. */
export const imageConfigFields = {
  /** Shown in reports; default: the folder's name. */
  name: z.string().min(1).optional(),
  /** The model's input size: one number for square inputs. */
  image_size: z.union([positiveInt, z.strictObject({ height: positiveInt, width: positiveInt })], {
    error: (issue) =>
      `${issue.input === undefined ? 'missing; expected' : 'expected'} a positive integer or { "height", "width" }`,
  }),
  resize: z.enum(['bicubic', 'bilinear', 'nearest']).default('bicubic'),
  crop: z.enum(['center', 'none']).default('center'),
  image_input: tensorName,
};

/** The preprocessing a folder's config.json describes. */
export function preprocessFromConfig(config: {
  image_size: number | { height: number; width: number };
  resize: ResizeKernel;
  crop: ImagePreprocess['crop'];
  image_mean: Rgb;
  image_std: Rgb;
}): ImagePreprocess {
  const size =
    typeof config.image_size === 'number'
      ? { height: config.image_size, width: config.image_size }
      : config.image_size;
  return {
    ...size,
    resize: config.resize,
    crop: config.crop,
    mean: config.image_mean,
    std: config.image_std,
  };
}
