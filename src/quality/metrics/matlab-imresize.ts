/**
 * MATLAB's imresize(I, scale) for a double grayscale image with its defaults: the bicubic kernel
 * (Keys, a = -0.5), widened by 1/scale when shrinking (antialiasing), weights normalised per output
 * pixel, symmetric (mirror) padding, output size ceil(scale · input). NIQE's second scale is
 * imresize(I, 0.5) of the grayscale image, and its pristine model was fitted on exactly that, so the
 * kernel matters (BasicSR's NIQE substitutes OpenCV's bilinear resize and drifts from MATLAB's values).
 */

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major, one float64 per pixel; NIQE expects the 8-bit range [0, 255]. */
  data: Float64Array;
}

/** Written as imresize.m writes it, so the weights round alike. */
function cubic(x: number): number {
  const a = Math.abs(x);
  const a2 = a ** 2;
  const a3 = a ** 3;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

interface Contribution {
  /** 0-based input indices, mirrored into range. */
  indices: number[];
  weights: number[];
}

/** imresize's contributions(): which inputs feed each output pixel along one axis, and how much. */
function contributions(inLength: number, outLength: number, scale: number): Contribution[] {
  const antialias = scale < 1;
  const kernel = antialias ? (x: number) => scale * cubic(scale * x) : cubic;
  const width = antialias ? 4 / scale : 4;
  const taps = Math.ceil(width) + 2;
  return Array.from({ length: outLength }, (_, i) => {
    // 1-based coordinates, as MATLAB's.
    const u = (i + 1) / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - width / 2);
    const raw = Array.from({ length: taps }, (_, k) => kernel(u - (left + k)));
    const sum = raw.reduce((a, b) => a + b, 0);
    const out: Contribution = { indices: [], weights: [] };
    raw.forEach((w, k) => {
      // Zero-weight taps are dropped by MATLAB too; they would add nothing.
      if (w === 0) return;
      const m = (((left + k - 1) % (2 * inLength)) + 2 * inLength) % (2 * inLength);
      out.indices.push(m < inLength ? m : 2 * inLength - 1 - m);
      out.weights.push(w / sum);
    });
    return out;
  });
}

/** imresize(image, scale); rows are resized first, as MATLAB orders equal scales. */
export function imresize(image: GrayImage, scale: number): GrayImage {
  if (!(scale > 0)) throw new Error(`imresize: scale must be positive, got ${scale}`);
  const { width, height, data } = image;
  const outH = Math.ceil(height * scale);
  const outW = Math.ceil(width * scale);
  const rows = contributions(height, outH, scale);
  const tall = new Float64Array(outH * width);
  rows.forEach(({ indices, weights }, y) => {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < indices.length; k++) sum += weights[k] * data[indices[k] * width + x];
      tall[y * width + x] = sum;
    }
  });
  const cols = contributions(width, outW, scale);
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    cols.forEach(({ indices, weights }, x) => {
      let sum = 0;
      for (let k = 0; k < indices.length; k++) sum += weights[k] * tall[y * width + indices[k]];
      out[y * outW + x] = sum;
    });
  }
  return { width: outW, height: outH, data: out };
}
