/**
 * What the world classifier predicts from an image. Its classes are the 42 object kinds (shape x
 * colour); an image's label is the share of the total object area each kind covers, a soft label
 * that is exactly determined by the image. A one-object scene is its kind; in a crowded one the
 * largest object leads, and ties between equal sizes (which a hard "largest object" label would
 * break arbitrarily) become equal shares instead of label noise. The auxiliary targets (object
 * count, detail shares) are trained but not exported: they make the features FID compares see
 * more of the scene than its kinds.
 */
import { shapeCoverage } from '../geometry.js';
import type { Placement } from '../layout.js';
import { COLOURS, DETAILS, MAX_OBJECTS, type SceneObject, SHAPES, type Shape } from '../scene.js';

/** "red circle", ...: shape-major, colour-minor, the order of the logits. */
export const KINDS: readonly string[] = SHAPES.flatMap((s) => COLOURS.map((c) => `${c} ${s}`));

export function kindIndex(object: Pick<SceneObject, 'shape' | 'colour'>): number {
  return SHAPES.indexOf(object.shape) * COLOURS.length + COLOURS.indexOf(object.colour);
}

/** Silhouette area of each shape in its unit frame, integrated on a fine grid once. */
const SHAPE_AREA = new Map<Shape, number>(
  SHAPES.map((shape) => {
    const n = 200;
    const cell = 1.2 / n;
    let area = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        area += shapeCoverage(shape, -0.6 + (i + 0.5) * cell, -0.6 + (j + 0.5) * cell, cell);
      }
    }
    return [shape, area * cell * cell];
  }),
);

export interface ClassifierTargets {
  /** Share of object area per kind (KINDS order); sums to 1. */
  readonly kinds: Float32Array;
  /** Objects in the image minus one (0 .. MAX_OBJECTS - 1). */
  readonly count: number;
  /** Share of object area per detail (DETAILS order). */
  readonly details: Float32Array;
}

export const AUX_CLASSES = MAX_OBJECTS + DETAILS.length;

export function classifierTargets(placements: readonly Placement[]): ClassifierTargets {
  const kinds = new Float32Array(KINDS.length);
  const details = new Float32Array(DETAILS.length);
  let total = 0;
  for (const p of placements) {
    const area = SHAPE_AREA.get(p.object.shape)! * p.s * p.s;
    kinds[kindIndex(p.object)] += area;
    details[DETAILS.indexOf(p.object.detail)] += area;
    total += area;
  }
  for (let k = 0; k < kinds.length; k++) kinds[k] /= total;
  for (let k = 0; k < details.length; k++) details[k] /= total;
  return { kinds, count: placements.length - 1, details };
}
