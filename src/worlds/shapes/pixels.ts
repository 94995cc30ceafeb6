/**
 * Per-pixel reading of an image against the palette, the first stage of the judge. Every clean
 * pixel of the world lies on a segment from the background to one palette colour (anti-aliasing,
 * shading and blur only mix an object's colour with the background), so each pixel is described
 * by the nearest segment (its colour), its position along it (alpha: how much of the colour) and
 * its distance from it (off-palette residual: noise, colour smear).
 */
import { BACKGROUND, PALETTE } from './palette.js';
import { COLOURS } from './scene.js';

/** Alpha above which a pixel counts as part of an object. */
export const OBJECT_ALPHA = 0.2;

export interface PixelMap {
  size: number;
  /** Nearest colour index into COLOURS, or -1 for background (alpha below OBJECT_ALPHA). */
  label: Int8Array;
  /** Alpha along the nearest colour's segment, in [0, 1]. */
  alpha: Float32Array;
  /** Distance from the nearest segment. */
  residual: Float32Array;
}

const DIRS = COLOURS.map((c) => PALETTE[c].map((v, k) => v - BACKGROUND[k]));
const NORM2 = DIRS.map((d) => d[0] ** 2 + d[1] ** 2 + d[2] ** 2);

/** Alpha and squared distance of pixel value (r, g, b) on colour c's segment. */
export function segmentFit(c: number, r: number, g: number, b: number): { alpha: number; dist2: number } {
  const d = DIRS[c];
  const x = r - BACKGROUND[0];
  const y = g - BACKGROUND[1];
  const z = b - BACKGROUND[2];
  const t = Math.min(1, Math.max(0, (x * d[0] + y * d[1] + z * d[2]) / NORM2[c]));
  return { alpha: t, dist2: (x - t * d[0]) ** 2 + (y - t * d[1]) ** 2 + (z - t * d[2]) ** 2 };
}

export function readPixels(image: Float32Array, size: number): PixelMap {
  const n = size * size;
  const label = new Int8Array(n);
  const alpha = new Float32Array(n);
  const residual = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const r = image[k];
    const g = image[n + k];
    const b = image[2 * n + k];
    let best = 0;
    let bestFit = segmentFit(0, r, g, b);
    for (let c = 1; c < COLOURS.length; c++) {
      const fit = segmentFit(c, r, g, b);
      // Near the background all segments meet; prefer the one that explains more of the pixel.
      if (fit.dist2 < bestFit.dist2 - 1e-9) {
        best = c;
        bestFit = fit;
      }
    }
    alpha[k] = bestFit.alpha;
    residual[k] = Math.sqrt(bestFit.dist2);
    label[k] = bestFit.alpha >= OBJECT_ALPHA ? best : -1;
  }
  return { size, label, alpha, residual };
}

/** Box-average an image down by an integer factor (CHW). */
export function downsample(image: Float32Array, size: number, factor: number): Float32Array {
  const out = size / factor;
  const result = new Float32Array(3 * out * out);
  const w = 1 / (factor * factor);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < out; y++) {
      for (let x = 0; x < out; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = c * size * size + (y * factor + dy) * size + x * factor;
          for (let dx = 0; dx < factor; dx++) sum += image[row + dx];
        }
        result[c * out * out + y * out + x] = sum * w;
      }
    }
  }
  return result;
}
