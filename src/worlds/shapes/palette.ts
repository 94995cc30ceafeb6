/**
 * The RGB values of the colour words and the background. Colours sit near the corners of the RGB
 * cube (pairwise distance >= 0.7, blue to cyan the closest) so that even a shaded or blurred pixel is attributable.
 */
import type { Colour } from './scene.js';

export type Rgb = readonly [number, number, number];

/** Plain dark background. */
export const BACKGROUND: Rgb = [0.06, 0.06, 0.08];

export const PALETTE: Readonly<Record<Colour, Rgb>> = {
  red: [0.92, 0.12, 0.1],
  green: [0.12, 0.85, 0.14],
  blue: [0.12, 0.22, 0.98],
  yellow: [0.95, 0.9, 0.12],
  magenta: [0.92, 0.14, 0.9],
  cyan: [0.12, 0.9, 0.92],
  white: [0.94, 0.94, 0.94],
};
