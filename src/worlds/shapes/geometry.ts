/**
 * Shapes and detail patterns as signed distance functions in an object's unit frame (the object's
 * nominal extent is 1, centred on 0, y down). Coverage of a pixel comes analytically from the
 * distance, so rendering is anti-aliased at any resolution without supersampling, and the judge
 * can synthesise exactly the same templates to compare against.
 */
import type { Detail, Shape } from './scene.js';

/** Alpha of the dark parts of stripes and dots, as a fraction of the object colour. */
export const SHADE = 0.3;
/** Full-colour rim kept around striped and dotted fills so the outline stays crisp. */
const PATTERN_RIM = 0.08;
/** Outline width of hollow objects. */
const HOLLOW_RIM = 0.14;
/** Stripes per unit of object height (a ~3.8 px period on a large object at 32 px). */
const STRIPES_PER_UNIT = 3.5;
/**
 * Dot grid period and dot radius: a coarse grid of large dots, because a 3x3 grid of dots of radius
 * 1.6 px on a small object at 64 px came back from the autoencoder as stripes.
 */
const DOT_PERIOD = 0.4;
const DOT_RADIUS = 0.12;
/**
 * Where the grid sits, per shape: between the centre lines (four dots) on compact shapes, on them
 * (a centre dot and one on each arm) where the shape's mass lies along its axes.
 */
const DOT_OFFSET: Readonly<Record<Shape, number>> = {
  square: DOT_PERIOD / 2,
  circle: DOT_PERIOD / 2,
  triangle: DOT_PERIOD / 2,
  cross: 0,
  star: 0,
  diamond: 0,
};

const SQUARE_HALF = 0.43;
const CROSS_HALF_WIDTH = 0.19;

/** Half extents of each shape's bounding box in the unit frame (boxes are centred on 0). */
export interface Extent {
  hx: number;
  hy: number;
}

type Polygon = Float64Array;

function polygon(points: [number, number][]): Polygon {
  // Centre the bounding box on the origin so a placement's centre is its box centre.
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const ox = (Math.min(...xs) + Math.max(...xs)) / 2;
  const oy = (Math.min(...ys) + Math.max(...ys)) / 2;
  return Float64Array.from(points.flatMap(([x, y]) => [x - ox, y - oy]));
}

function star(points: number, outer: number, inner: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < 2 * points; i++) {
    const r = i % 2 === 0 ? outer : inner;
    const a = -Math.PI / 2 + (i * Math.PI) / points;
    out.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return out;
}

const w = CROSS_HALF_WIDTH;
const POLYGONS: Partial<Record<Shape, Polygon>> = {
  triangle: polygon([
    [0, -0.45],
    [0.5, 0.45],
    [-0.5, 0.45],
  ]),
  diamond: polygon([
    [0, -0.5],
    [0.5, 0],
    [0, 0.5],
    [-0.5, 0],
  ]),
  star: polygon(star(5, 0.52, 0.24)),
  cross: polygon([
    [-w, -0.5],
    [w, -0.5],
    [w, -w],
    [0.5, -w],
    [0.5, w],
    [w, w],
    [w, 0.5],
    [-w, 0.5],
    [-w, w],
    [-0.5, w],
    [-0.5, -w],
    [-w, -w],
  ]),
};

function polygonExtent(p: Polygon): Extent {
  let hx = 0;
  let hy = 0;
  for (let i = 0; i < p.length; i += 2) {
    hx = Math.max(hx, Math.abs(p[i]));
    hy = Math.max(hy, Math.abs(p[i + 1]));
  }
  return { hx, hy };
}

export const SHAPE_EXTENT: Readonly<Record<Shape, Extent>> = {
  circle: { hx: 0.5, hy: 0.5 },
  square: { hx: SQUARE_HALF, hy: SQUARE_HALF },
  triangle: polygonExtent(POLYGONS.triangle!),
  diamond: polygonExtent(POLYGONS.diamond!),
  star: polygonExtent(POLYGONS.star!),
  cross: polygonExtent(POLYGONS.cross!),
};

/** Signed distance to a polygon's boundary, negative inside (winding by crossings). */
function polygonDistance(v: Polygon, px: number, py: number): number {
  const n = v.length / 2;
  let d = (px - v[0]) ** 2 + (py - v[1]) ** 2;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    const xi = v[2 * i];
    const yi = v[2 * i + 1];
    const ex = v[2 * j] - xi;
    const ey = v[2 * j + 1] - yi;
    const wx = px - xi;
    const wy = py - yi;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const bx = wx - ex * t;
    const by = wy - ey * t;
    d = Math.min(d, bx * bx + by * by);
    const c1 = py >= yi;
    const c2 = py < v[2 * j + 1];
    const c3 = ex * wy > ey * wx;
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) inside = !inside;
  }
  return inside ? -Math.sqrt(d) : Math.sqrt(d);
}

/** Signed distance from (u, v) to the shape's boundary in the unit frame, negative inside. */
export function shapeDistance(shape: Shape, u: number, v: number): number {
  if (shape === 'circle') return Math.hypot(u, v) - 0.5;
  if (shape === 'square') {
    const qx = Math.abs(u) - SQUARE_HALF;
    const qy = Math.abs(v) - SQUARE_HALF;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
  }
  return polygonDistance(POLYGONS[shape]!, u, v);
}

/** Box-filtered coverage of a half-plane at signed distance d (pixel width p, same units). */
function coverage(d: number, p: number): number {
  const c = 0.5 - d / p;
  return c <= 0 ? 0 : Math.min(c, 1);
}

/** Offset of a detail pattern inside the object, in unit-frame coordinates. */
export interface PatternPhase {
  du: number;
  dv: number;
}

export const NO_PHASE: PatternPhase = { du: 0, dv: 0 };

/** Coverage of the dark part of a pattern at (u, v). */
function patternDark(shape: Shape, detail: 'striped' | 'dotted', u: number, v: number, p: number): number {
  if (detail === 'striped') {
    // Bands centred so that the object's middle row is a light band.
    const t = v * STRIPES_PER_UNIT + 0.25;
    const frac = t - Math.floor(t);
    const inside = (0.25 - Math.abs(frac - 0.75)) / STRIPES_PER_UNIT;
    return coverage(-inside, p);
  }
  const o = DOT_OFFSET[shape];
  const gu = u - o - DOT_PERIOD * Math.round((u - o) / DOT_PERIOD);
  const gv = v - o - DOT_PERIOD * Math.round((v - o) / DOT_PERIOD);
  return coverage(Math.hypot(gu, gv) - DOT_RADIUS, p);
}

/** Coverage of the filled silhouette at (u, v) with pixel width p (unit frame). */
export function shapeCoverage(shape: Shape, u: number, v: number, p: number): number {
  return coverage(shapeDistance(shape, u, v), p);
}

/**
 * Alpha of the object colour over the background at (u, v): 1 where the colour is full, SHADE in
 * the dark part of a pattern, 0 outside and inside a hollow outline.
 */
export function objectAlpha(
  shape: Shape,
  detail: Detail,
  u: number,
  v: number,
  p: number,
  phase: PatternPhase = NO_PHASE,
): number {
  const d = shapeDistance(shape, u, v);
  const cov = coverage(d, p);
  if (cov === 0 || detail === 'plain') return cov;
  if (detail === 'hollow') return cov * (1 - coverage(d + HOLLOW_RIM, p));
  const inner = coverage(d + PATTERN_RIM, p);
  if (inner === 0) return cov;
  return cov * (1 - inner * (1 - SHADE) * patternDark(shape, detail, u + phase.du, v + phase.dv, p));
}

/** Pattern phases worth trying when matching a detail whose exact offset is unknown. */
export function patternPhases(detail: Detail): PatternPhase[] {
  if (detail === 'striped') {
    const q = 1 / (4 * STRIPES_PER_UNIT);
    return [-q, 0, q, 2 * q].map((dv) => ({ du: 0, dv }));
  }
  if (detail === 'dotted') {
    const q = DOT_PERIOD / 3;
    return [-q, 0, q].flatMap((du) => [-q, 0, q].map((dv) => ({ du, dv })));
  }
  return [NO_PHASE];
}
