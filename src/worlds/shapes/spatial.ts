/**
 * What the spatial words mean on the canvas, shared by the layout (which must satisfy them with a
 * clear margin) and the judge (which checks them leniently). Coordinates are canvas units: x to the
 * right, y down, both in [0, 1], so every meaning holds at any image size.
 */
import type { Region, Relation, Size } from './scene.js';

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Nominal object extent (canvas units): 8 px and ~13 px at 32 px. */
export const NOMINAL_SIZE: Readonly<Record<Size, number>> = { small: 0.25, large: 0.41 };

const LOW: readonly [number, number] = [0, 0.38];
const MID: readonly [number, number] = [0.3, 0.7];
const HIGH: readonly [number, number] = [0.62, 1];

/** Where an object's centre must lie for each region. The bands overlap a little on purpose. */
export function regionBox(region: Region): Box {
  const [y0, y1] = region.startsWith('top') ? LOW : region.startsWith('bottom') ? HIGH : MID;
  const [x0, x1] = region.endsWith('left') ? LOW : region.endsWith('right') ? HIGH : MID;
  return { x0, x1, y0, y1 };
}

/** Distance from a point to the region box (0 inside). */
export function regionDistance(region: Region, p: Point): number {
  const b = regionBox(region);
  const dx = Math.max(b.x0 - p.x, 0, p.x - b.x1);
  const dy = Math.max(b.y0 - p.y, 0, p.y - b.y1);
  return Math.hypot(dx, dy);
}

/**
 * How clearly `a relation b` holds: displacement along the relation's direction minus half the
 * sideways offset, so a point far off to the side is not "above". Positive means it holds.
 */
export function relationMargin(relation: Relation, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  switch (relation) {
    case 'left of':
      return dx - 0.5 * Math.abs(dy);
    case 'right of':
      return -dx - 0.5 * Math.abs(dy);
    case 'above':
      return dy - 0.5 * Math.abs(dx);
    case 'below':
      return -dy - 0.5 * Math.abs(dx);
  }
}
