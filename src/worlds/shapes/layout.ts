/**
 * Where each object of a scene lands on the canvas. Positions are drawn at random (the positional
 * jitter of a render) under the scene's constraints: inside the canvas, in the asked region, the
 * asked relations holding with a clear margin, and no two objects' boxes closer than a gap (so
 * every object stays a separate blob the judge can find).
 */
import type { Rng } from '../../util/random.js';
import { SHAPE_EXTENT } from './geometry.js';
import { type Scene, type SceneObject, sceneObjects } from './scene.js';
import { NOMINAL_SIZE, regionBox, relationMargin } from './spatial.js';

export interface Placement {
  object: SceneObject;
  /** Centre of the bounding box, canvas units. */
  cx: number;
  cy: number;
  /** Nominal extent (unit frame scale), canvas units. */
  s: number;
}

/** Size jitter around the nominal extent (relative). */
const SIZE_JITTER = 0.06;
/** Gap between object boxes, and the smaller one a crowded scene may fall back to. */
const GAP = 0.04;
const TIGHT_GAP = 0.015;
/** Margin from the canvas edge. */
const EDGE = 0.03;
/** Relations must hold by this margin in a layout; the judge accepts much less. */
const RELATION_MARGIN = 0.1;
const TRIES_PER_OBJECT = 60;
const CANDIDATES = 6;
const RESTARTS = 30;

/** Share of large objects among those of unsaid size: crowded scenes must be mostly small. */
export function largeShare(objects: number): number {
  return objects <= 2 ? 0.5 : objects <= 4 ? 0.3 : 0.15;
}

function halfExtents(p: Placement): { hx: number; hy: number } {
  const e = SHAPE_EXTENT[p.object.shape];
  return { hx: e.hx * p.s, hy: e.hy * p.s };
}

/** How far apart two objects' boxes are beyond the required gap (negative: too close). */
function clearance(a: Placement, b: Placement, gap: number): number {
  const ea = halfExtents(a);
  const eb = halfExtents(b);
  return Math.max(Math.abs(a.cx - b.cx) - ea.hx - eb.hx, Math.abs(a.cy - b.cy) - ea.hy - eb.hy) - gap;
}

function relationsHold(scene: Scene, p: Placement, placed: Placement[], margin: number): boolean {
  for (const r of scene.relations) {
    for (const q of placed) {
      const pt = { x: p.cx, y: p.cy };
      const qt = { x: q.cx, y: q.cy };
      if (r.subject === p.object.group && r.object === q.object.group) {
        if (relationMargin(r.relation, pt, qt) < margin) return false;
      }
      if (r.object === p.object.group && r.subject === q.object.group) {
        if (relationMargin(r.relation, qt, pt) < margin) return false;
      }
    }
  }
  return true;
}

function place(
  scene: Scene,
  objects: SceneObject[],
  rng: Rng,
  strict: boolean,
  gap = GAP,
): Placement[] | null {
  const placed: Placement[] = [];
  for (const object of objects) {
    const size = object.size ?? (rng.uniform() < largeShare(objects.length) ? 'large' : 'small');
    const s = NOMINAL_SIZE[size] * (1 + SIZE_JITTER * (2 * rng.uniform() - 1));
    const e = SHAPE_EXTENT[object.shape];
    let x0 = e.hx * s + EDGE;
    let x1 = 1 - x0;
    let y0 = e.hy * s + EDGE;
    let y1 = 1 - y0;
    if (object.region) {
      const b = regionBox(object.region);
      x0 = Math.max(x0, b.x0);
      x1 = Math.min(x1, b.x1);
      y0 = Math.max(y0, b.y0);
      y1 = Math.min(y1, b.y1);
    }
    if (x0 > x1 || y0 > y1) {
      if (strict) return null;
      // Region unreachable for this size: clamp to the nearest feasible point.
      x0 = x1 = Math.min(Math.max((x0 + x1) / 2, e.hx * s), 1 - e.hx * s);
      y0 = y1 = Math.min(Math.max((y0 + y1) / 2, e.hy * s), 1 - e.hy * s);
    }
    // Best of a few random candidates (the most clearance from placed objects) packs crowded
    // scenes far more reliably than taking the first that fits, and stays random.
    let best: Placement | null = null;
    let bestClearance = Number.NEGATIVE_INFINITY;
    const tries = strict ? TRIES_PER_OBJECT : 1;
    for (let t = 0; t < tries && (best === null || t < CANDIDATES); t++) {
      const p = { object, s, cx: x0 + (x1 - x0) * rng.uniform(), cy: y0 + (y1 - y0) * rng.uniform() };
      const free = Math.min(1, ...placed.map((q) => clearance(p, q, gap)));
      if (
        !strict ||
        (free >= 0 && free > bestClearance && relationsHold(scene, p, placed, RELATION_MARGIN))
      ) {
        best = p;
        bestClearance = free;
      }
    }
    if (best === null) return null;
    placed.push(best);
  }
  return placed;
}

/** A layout satisfying every constraint, or null when random search found none. */
export function tryLayout(scene: Scene, rng: Rng, gap = GAP): Placement[] | null {
  // Most constrained first: objects with a region, then related ones, large before small.
  const related = new Set(scene.relations.flatMap((r) => [r.subject, r.object]));
  const rank = (o: SceneObject) =>
    (o.region ? 0 : 4) + (related.has(o.group) ? 0 : 2) + (o.size === 'large' ? 0 : 1);
  const order = sceneObjects(scene).sort((a, b) => rank(a) - rank(b));
  for (let i = 0; i < RESTARTS; i++) {
    const placed = place(scene, order, rng, true, gap);
    if (placed) return placed;
  }
  return null;
}

/**
 * A layout for any scene: the constrained one when it can be found, with a tighter gap for
 * crowded scenes, else (for over-full parsed prompts) positions that keep regions but may overlap.
 */
export function layoutScene(scene: Scene, rng: Rng): Placement[] {
  return (
    tryLayout(scene, rng) ??
    tryLayout(scene, rng, TIGHT_GAP) ??
    place(scene, sceneObjects(scene), rng, false)!
  );
}
