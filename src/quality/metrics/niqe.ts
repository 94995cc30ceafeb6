/**
 * NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan and Bovik, "Making a 'Completely
 * Blind' Image Quality Analyzer", IEEE SPL 2012); lower is better. It follows the LIVE release's
 * MATLAB code (computequality.m, computefeature.m, estimateaggdparam.m, estimatemodelparam.m):
 *
 * - gray image on [0, 255], as rgb2gray makes it from 8-bit RGB, cropped at the top left to whole
 *   96 x 96 patches (no overlap, the release's setting);
 * - at two scales, the second being imresize(gray, 0.5): MSCN coefficients (I - μ) / (σ + 1) with a
 *   7x7 Gaussian window (σ = 7/6, replicated borders), and per patch (96, then 48 pixels) 18 features:
 *   the AGGD fit of the coefficients (α, mean β) and of their products with the right, lower,
 *   lower-right and lower-left neighbours, wrapping inside the patch as circshift does
 *   (α, mean, β_l, β_r each);
 * - a Gaussian fitted to the image's patch features (nanmean; nancov over the patches without NaN,
 *   and MATLAB's all-zero covariance for a single patch), and the distance to the pristine model
 *   sqrt((μ_p - μ_d)ᵀ ((Σ_p + Σ_d)/2)⁺ (μ_p - μ_d)).
 *
 * A test image uses all its patches; only fitting a pristine model keeps just the sharp ones.
 */
import { z } from 'zod';
import { type RgbImage, toRgb8 } from '../../util/image.js';
import { fitAggd, gamma } from './aggd.js';
import { GaussianAccumulator } from './gaussian-stats.js';
import { pinvSymmetric } from './linalg.js';
import { type GrayImage, imresize } from './matlab-imresize.js';
import pristineJson from './niqe-params/niqe_pristine_params.json' with { type: 'json' };

export type { GrayImage } from './matlab-imresize.js';

export const NIQE_PATCH_SIZE = 96;
const SCALE_FEATURES = 18;
const FEATURES = 2 * SCALE_FEATURES;

/** A multivariate Gaussian over the 36 patch features. */
export interface NiqeModel {
  mean: Float64Array;
  /** 36 x 36, row-major. */
  cov: Float64Array;
}

const row36 = z.array(z.number()).length(FEATURES);
const pristineSchema = z.looseObject({ pop_mu: row36, pop_cov: z.array(row36).length(FEATURES) });

let pristine: NiqeModel | undefined;

/** The release's model of pristine patches (niqe-params/, LIVE's licence in its NOTICE.txt). */
export function niqePristineModel(): NiqeModel {
  if (pristine === undefined) {
    const parsed = pristineSchema.parse(pristineJson);
    pristine = { mean: Float64Array.from(parsed.pop_mu), cov: Float64Array.from(parsed.pop_cov.flat()) };
  }
  return pristine;
}

/** rgb2gray's weights: the luma row of the inverse NTSC (YIQ) matrix, ITU-R BT.601. */
const LUMA = [0.2989360212937754, 0.5870430744511212, 0.11402090425510325] as const;

/** MATLAB's rgb2gray of the image as 8-bit RGB: the result is rounded to 8 bits too. */
export function rgbToGray(image: RgbImage): GrayImage {
  const rgb = toRgb8(image);
  const data = new Float64Array(image.width * image.height);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.round(LUMA[0] * rgb[3 * i] + LUMA[1] * rgb[3 * i + 1] + LUMA[2] * rgb[3 * i + 2]);
  }
  return { width: image.width, height: image.height, data };
}

/** fspecial('gaussian', 7, 7/6) normalised; the 2-D window is this outer itself, so filtering separates. */
const WINDOW = (() => {
  const k = Float64Array.from({ length: 7 }, (_, i) => Math.exp(-((i - 3) ** 2) / (2 * (7 / 6) ** 2)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
})();

/** imfilter(x, window, 'replicate'). */
function gaussianFilter(src: Float64Array, width: number, height: number): Float64Array {
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  const tmp = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < 7; k++) s += WINDOW[k] * src[y * width + clamp(x + k - 3, width)];
      tmp[y * width + x] = s;
    }
  }
  const out = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < 7; k++) s += WINDOW[k] * tmp[clamp(y + k - 3, height) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}

export interface Mscn {
  /** Mean-subtracted contrast-normalised coefficients (I - μ) / (σ + 1). */
  mscn: Float64Array;
  /** The local standard deviation σ, NIQE's sharpness measure. */
  sigma: Float64Array;
}

export function mscn(image: GrayImage): Mscn {
  const { width, height, data } = image;
  const mu = gaussianFilter(data, width, height);
  const meanSq = gaussianFilter(
    data.map((v) => v * v),
    width,
    height,
  );
  // abs: E[I²] - μ² can come out slightly negative in flat regions.
  const sigma = mu.map((m, i) => Math.sqrt(Math.abs(meanSq[i] - m * m)));
  return { mscn: data.map((v, i) => (v - mu[i]) / (sigma[i] + 1)), sigma };
}

/** Neighbour offsets [dy, dx] of computefeature.m's circshift calls: right, lower, lower-right, lower-left. */
const SHIFTS = [
  [0, 1],
  [1, 0],
  [1, 1],
  [1, -1],
] as const;

/** computefeature.m on the size x size patch at (x0, y0), written to out[at .. at + 17]. */
function patchFeatures(
  coefs: Float64Array,
  width: number,
  x0: number,
  y0: number,
  size: number,
  out: Float64Array,
  at: number,
): void {
  const patch = new Float64Array(size * size);
  for (let y = 0; y < size; y++)
    patch.set(coefs.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + size), y * size);
  const fit = fitAggd(patch);
  out[at] = fit.alpha;
  out[at + 1] = (fit.betaLeft + fit.betaRight) / 2;
  const pair = new Float64Array(size * size);
  SHIFTS.forEach(([dy, dx], s) => {
    // circshift(A, [dy dx]) puts A(i - dy, j - dx) at (i, j).
    for (let y = 0; y < size; y++) {
      const from = ((y - dy + size) % size) * size;
      for (let x = 0; x < size; x++)
        pair[y * size + x] = patch[y * size + x] * patch[from + ((x - dx + size) % size)];
    }
    const { alpha, betaLeft, betaRight } = fitAggd(pair);
    const o = at + 2 + 4 * s;
    out[o] = alpha;
    out[o + 1] = (betaRight - betaLeft) * (gamma(2 / alpha) / gamma(1 / alpha));
    out[o + 2] = betaLeft;
    out[o + 3] = betaRight;
  });
}

export interface NiqePatches {
  /** 36 features per 96 x 96 patch: 18 at full scale, then 18 at half scale. */
  features: Float64Array[];
  /** Mean local σ of each patch at full scale. */
  sharpness: number[];
}

/** The patch features of a gray image on [0, 255], at least 96 x 96. */
export function niqePatchFeatures(image: GrayImage): NiqePatches {
  const across = Math.floor(image.width / NIQE_PATCH_SIZE);
  const down = Math.floor(image.height / NIQE_PATCH_SIZE);
  if (across === 0 || down === 0) {
    throw new Error(`NIQE needs an image of at least 96 x 96 pixels, got ${image.width} x ${image.height}`);
  }
  const width = across * NIQE_PATCH_SIZE;
  const height = down * NIQE_PATCH_SIZE;
  let scaled: GrayImage = { width, height, data: new Float64Array(width * height) };
  for (let y = 0; y < height; y++) {
    scaled.data.set(image.data.subarray(y * image.width, y * image.width + width), y * width);
  }
  const features = Array.from({ length: across * down }, () => new Float64Array(FEATURES));
  const sharpness: number[] = [];
  for (let scale = 1; scale <= 2; scale++) {
    const { mscn: coefs, sigma } = mscn(scaled);
    const size = NIQE_PATCH_SIZE / scale;
    for (let by = 0; by < down; by++) {
      for (let bx = 0; bx < across; bx++) {
        const [x0, y0] = [bx * size, by * size];
        patchFeatures(
          coefs,
          scaled.width,
          x0,
          y0,
          size,
          features[by * across + bx],
          (scale - 1) * SCALE_FEATURES,
        );
        if (scale === 1) {
          let sum = 0;
          for (let y = y0; y < y0 + size; y++)
            for (let x = x0; x < x0 + size; x++) sum += sigma[y * scaled.width + x];
          sharpness.push(sum / (size * size));
        }
      }
    }
    if (scale === 1) scaled = imresize(scaled, 0.5);
  }
  return { features, sharpness };
}

/** nanmean and nancov of MATLAB over feature rows. */
function fitFeatures(rows: Float64Array[]): NiqeModel {
  const mean = new Float64Array(FEATURES);
  for (let k = 0; k < FEATURES; k++) {
    let sum = 0;
    let count = 0;
    for (const r of rows) {
      if (!Number.isNaN(r[k])) {
        sum += r[k];
        count++;
      }
    }
    mean[k] = sum / count;
  }
  const complete = rows.filter((r) => !r.some(Number.isNaN));
  if (complete.length === 0) {
    throw new Error(
      'NIQE is undefined here: every patch has an undefined feature (a flat patch has no AGGD fit)',
    );
  }
  if (complete.length === 1) return { mean, cov: new Float64Array(FEATURES * FEATURES) };
  const acc = new GaussianAccumulator(FEATURES);
  for (const r of complete) acc.add(r);
  return { mean, cov: acc.stats().cov };
}

/** sqrt((μ_a - μ_b)ᵀ ((Σ_a + Σ_b)/2)⁺ (μ_a - μ_b)), computequality.m's last step. */
export function niqeDistance(a: NiqeModel, b: NiqeModel): number {
  for (const m of [a, b]) {
    if (m.mean.length !== FEATURES || m.cov.length !== FEATURES * FEATURES) {
      throw new Error(
        `a NIQE model has 36 means and 36 x 36 covariances, got ${m.mean.length} and ${m.cov.length}`,
      );
    }
  }
  const avg = a.cov.map((v, i) => (v + b.cov[i]) / 2);
  const inv = pinvSymmetric(avg, FEATURES);
  const d = a.mean.map((v, i) => v - b.mean[i]);
  let q = 0;
  for (let i = 0; i < FEATURES; i++)
    for (let j = 0; j < FEATURES; j++) q += d[i] * inv[i * FEATURES + j] * d[j];
  // A pseudo-inverse of a PSD matrix is PSD: a negative q is rounding.
  return Math.sqrt(Math.max(q, 0));
}

const toGray = (image: RgbImage | GrayImage): GrayImage => ('chw' in image ? rgbToGray(image) : image);

/** NIQE of an image (8-bit RGB semantics, or gray on [0, 255]) against `model`, by default the release's. */
export function niqe(image: RgbImage | GrayImage, model: NiqeModel = niqePristineModel()): number {
  return niqeDistance(model, fitFeatures(niqePatchFeatures(toGray(image)).features));
}

/**
 * A pristine model from one's own images, as estimatemodelparam.m: from each image only the patches
 * whose sharpness exceeds `sharpnessThreshold` (default 0.75) times the image's sharpest.
 */
export function fitNiqeModel(
  images: readonly (RgbImage | GrayImage)[],
  opts: { sharpnessThreshold?: number } = {},
): NiqeModel {
  const threshold = opts.sharpnessThreshold ?? 0.75;
  const rows = images.flatMap((image) => {
    const { features, sharpness } = niqePatchFeatures(toGray(image));
    const max = Math.max(...sharpness);
    return features.filter((_, i) => sharpness[i] > threshold * max);
  });
  if (rows.length === 0) throw new Error('fitNiqeModel: no patch passed the sharpness threshold');
  return fitFeatures(rows);
}
