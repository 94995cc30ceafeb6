/**
 * Blobs of one colour (8-connected pixels with the same palette label): the candidate objects the
 * judge matches described objects against.
 */
import { type PixelMap, segmentFit } from './pixels.js';
import { COLOURS } from './scene.js';

export interface Blob {
  /** Colour index (COLOURS) of its pixels. */
  colour: number;
  /** Pixel indices (y * size + x). */
  pixels: number[];
  /** Sum of alpha over its pixels. */
  mass: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Alpha-weighted probability of each palette colour (sums to 1). */
  colourProbs: number[];
}

/** Residual scale of the soft colour assignment (a clean pixel sits on its segment). */
const COLOUR_SIGMA = 0.12;

export function findBlobs(map: PixelMap, image: Float32Array): Blob[] {
  const { size, label, alpha } = map;
  const seen = new Uint8Array(size * size);
  const blobs: Blob[] = [];
  const stack: number[] = [];
  for (let start = 0; start < size * size; start++) {
    if (seen[start] || label[start] < 0) continue;
    const colour = label[start];
    const blob: Blob = { colour, pixels: [], mass: 0, x0: size, x1: -1, y0: size, y1: -1, colourProbs: [] };
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const k = stack.pop()!;
      const x = k % size;
      const y = (k - x) / size;
      blob.pixels.push(k);
      blob.mass += alpha[k];
      blob.x0 = Math.min(blob.x0, x);
      blob.x1 = Math.max(blob.x1, x);
      blob.y0 = Math.min(blob.y0, y);
      blob.y1 = Math.max(blob.y1, y);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const q = ny * size + nx;
          if (!seen[q] && label[q] === colour) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    blob.colourProbs = colourProbabilities(blob, map, image);
    blobs.push(blob);
  }
  return blobs.sort((a, b) => b.mass - a.mass);
}

/** Soft colour of a blob: per pixel a softmax over palette segments by distance, alpha-weighted. */
function colourProbabilities(blob: Blob, map: PixelMap, image: Float32Array): number[] {
  const n = map.size * map.size;
  const probs = new Array<number>(COLOURS.length).fill(0);
  const logits = new Array<number>(COLOURS.length);
  let total = 0;
  for (const k of blob.pixels) {
    const w = map.alpha[k];
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < COLOURS.length; c++) {
      const fit = segmentFit(c, image[k], image[n + k], image[2 * n + k]);
      // Normalise the distance by alpha: a faint pixel cannot tell colours apart as well.
      logits[c] = -fit.dist2 / (2 * (COLOUR_SIGMA * Math.max(fit.alpha, 0.25)) ** 2);
      max = Math.max(max, logits[c]);
    }
    let z = 0;
    for (let c = 0; c < COLOURS.length; c++) z += Math.exp(logits[c] - max);
    for (let c = 0; c < COLOURS.length; c++) probs[c] += (w * Math.exp(logits[c] - max)) / z;
    total += w;
  }
  return probs.map((p) => p / total);
}
