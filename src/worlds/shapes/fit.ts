/**
 * Analysis by synthesis of one blob: fit each shape's silhouette (position and scale) to the blob,
 * then each detail pattern to the fitted silhouette, with templates drawn by the renderer's own
 * geometry. The residual errors give soft beliefs over shape and detail, and the best fit gives
 * the object's size, centre and how cleanly it was drawn.
 */
import type { Blob } from './components.js';
import { objectAlpha, patternPhases, SHAPE_EXTENT, shapeCoverage } from './geometry.js';
import type { PixelMap } from './pixels.js';
import { DETAILS, type Detail, SHAPES, type Shape } from './scene.js';

/** Error scale (in pixels of a 32 px image) of the soft shape and detail beliefs. */
const SHAPE_TEMPERATURE = 0.6;
const DETAIL_TEMPERATURE = 0.35;
/** Window margin around the blob, pixels. */
const MARGIN = 2;

export interface BlobFit {
  /** Belief over SHAPES and DETAILS (each sums to 1). */
  shapeProbs: number[];
  detailProbs: number[];
  shape: Shape;
  detail: Detail;
  /** Centre and extent, canvas units. */
  cx: number;
  cy: number;
  s: number;
  /** Squared error of the best template against the blob's alpha, 32 px pixel units. */
  error: number;
  /** Alpha mass of the best template, 32 px pixel units. */
  templateMass: number;
}

interface Window {
  x0: number;
  y0: number;
  w: number;
  h: number;
  /** Alpha of the blob's colour (0 for pixels of other blobs). */
  alpha: Float32Array;
  /** Silhouette: alpha on the outer edge, 1 inside (holes and pattern shadows filled). */
  support: Float32Array;
}

interface Pose {
  cx: number;
  cy: number;
  s: number;
}

function makeWindow(blob: Blob, map: PixelMap): Window {
  const { size } = map;
  const x0 = Math.max(0, blob.x0 - MARGIN);
  const y0 = Math.max(0, blob.y0 - MARGIN);
  const w = Math.min(size - 1, blob.x1 + MARGIN) - x0 + 1;
  const h = Math.min(size - 1, blob.y1 + MARGIN) - y0 + 1;
  const inBlob = new Uint8Array(w * h);
  for (const k of blob.pixels) inBlob[(Math.floor(k / size) - y0) * w + (k % size) - x0] = 1;
  const alpha = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const k = (y0 + j) * size + x0 + i;
      // Faint background-labelled pixels are this blob's anti-aliased fringe; others belong elsewhere.
      if (inBlob[j * w + i] || map.label[k] < 0) alpha[j * w + i] = map.alpha[k];
    }
  }
  // Outside = reachable from the window border without crossing the blob.
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if ((i === 0 || j === 0 || i === w - 1 || j === h - 1) && !inBlob[j * w + i]) {
        outside[j * w + i] = 1;
        stack.push(j * w + i);
      }
    }
  }
  while (stack.length > 0) {
    const q = stack.pop()!;
    const i = q % w;
    const j = (q - i) / w;
    for (const [di, dj] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ]) {
      const ni = i + di;
      const nj = j + dj;
      if (ni < 0 || nj < 0 || ni >= w || nj >= h) continue;
      const r = nj * w + ni;
      if (!outside[r] && !inBlob[r]) {
        outside[r] = 1;
        stack.push(r);
      }
    }
  }
  const support = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const q = j * w + i;
      const edge =
        outside[q] ||
        (i > 0 && outside[q - 1]) ||
        (i < w - 1 && outside[q + 1]) ||
        (j > 0 && outside[q - w]) ||
        (j < h - 1 && outside[q + w]);
      support[q] = edge ? alpha[q] : 1;
    }
  }
  return { x0, y0, w, h, alpha, support };
}

/** Squared error between a map over the window and a template drawn at a pose. */
function templateError(
  win: Window,
  target: Float32Array,
  pose: Pose,
  draw: (u: number, v: number, pixel: number) => number,
): number {
  const pixel = 1 / pose.s;
  let err = 0;
  for (let j = 0; j < win.h; j++) {
    const v = (win.y0 + j + 0.5 - pose.cy) / pose.s;
    for (let i = 0; i < win.w; i++) {
      const u = (win.x0 + i + 0.5 - pose.cx) / pose.s;
      const d = target[j * win.w + i] - draw(u, v, pixel);
      err += d * d;
    }
  }
  return err;
}

/** Edges of a profile: first/last index where it rises, refined by the edge pixel's coverage. */
function span(profile: Float32Array, offset: number): [number, number] {
  let a = 0;
  while (a < profile.length - 1 && profile[a] < 0.05) a++;
  let b = profile.length - 1;
  while (b > 0 && profile[b] < 0.05) b--;
  return [offset + a + 1 - Math.min(1, profile[a]), offset + b + Math.min(1, profile[b])];
}

function initialPose(win: Window, shape: Shape): Pose {
  const cols = new Float32Array(win.w);
  const rows = new Float32Array(win.h);
  for (let j = 0; j < win.h; j++) {
    for (let i = 0; i < win.w; i++) {
      const a = win.support[j * win.w + i];
      cols[i] = Math.max(cols[i], a);
      rows[j] = Math.max(rows[j], a);
    }
  }
  const [l, r] = span(cols, win.x0);
  const [t, b] = span(rows, win.y0);
  const e = SHAPE_EXTENT[shape];
  const s = ((r - l) / (2 * e.hx) + (b - t) / (2 * e.hy)) / 2;
  return { cx: (l + r) / 2, cy: (t + b) / 2, s: Math.max(s, 1) };
}

/** Pattern search over centre and scale, from a pose, minimising a template's error. */
function refinePose(
  win: Window,
  target: Float32Array,
  start: Pose,
  draw: (u: number, v: number, pixel: number) => number,
  firstStep: number,
): { pose: Pose; error: number } {
  let pose = start;
  let error = templateError(win, target, pose, draw);
  for (let step = firstStep; step >= 0.12; step /= 2) {
    for (let improved = true, rounds = 0; improved && rounds < 4; rounds++) {
      improved = false;
      for (const [dx, dy, ds] of [
        [step, 0, 0],
        [-step, 0, 0],
        [0, step, 0],
        [0, -step, 0],
        [0, 0, step],
        [0, 0, -step],
      ]) {
        const cand = { cx: pose.cx + dx, cy: pose.cy + dy, s: Math.max(1, pose.s + ds) };
        const e = templateError(win, target, cand, draw);
        if (e < error) {
          pose = cand;
          error = e;
          improved = true;
        }
      }
    }
  }
  return { pose, error };
}

function softmin(errors: number[], temperature: number): number[] {
  const min = Math.min(...errors);
  const w = errors.map((e) => Math.exp(-(e - min) / temperature));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / z);
}

export function fitBlob(blob: Blob, map: PixelMap): BlobFit {
  const win = makeWindow(blob, map);
  // Errors are compared in pixels of a 32 px image so temperatures hold at any size.
  const unit = (32 / map.size) ** 2;
  const fits = SHAPES.map((shape) =>
    refinePose(win, win.support, initialPose(win, shape), (u, v, p) => shapeCoverage(shape, u, v, p), 0.5),
  );
  const shapeProbs = softmin(
    fits.map((f) => f.error * unit),
    SHAPE_TEMPERATURE,
  );
  const shape = SHAPES[shapeProbs.indexOf(Math.max(...shapeProbs))];
  const silhouette = fits[SHAPES.indexOf(shape)].pose;
  // Each detail from the silhouette's pose at its best pattern phase, then the pose refined on
  // the alpha itself: pattern shadows on the edge make the silhouette a little off.
  const details = DETAILS.map((detail) => {
    const draws = patternPhases(detail).map(
      (phase) => (u: number, v: number, p: number) => objectAlpha(shape, detail, u, v, p, phase),
    );
    const errors = draws.map((draw) => templateError(win, win.alpha, silhouette, draw));
    const draw = draws[errors.indexOf(Math.min(...errors))];
    return { ...refinePose(win, win.alpha, silhouette, draw, 0.25), draw };
  });
  const detailProbs = softmin(
    details.map((d) => d.error * unit),
    DETAIL_TEMPERATURE,
  );
  const d = detailProbs.indexOf(Math.max(...detailProbs));
  const { pose, draw } = details[d];
  let templateMass = 0;
  for (let j = 0; j < win.h; j++) {
    for (let i = 0; i < win.w; i++) {
      const u = (win.x0 + i + 0.5 - pose.cx) / pose.s;
      const v = (win.y0 + j + 0.5 - pose.cy) / pose.s;
      templateMass += draw(u, v, 1 / pose.s);
    }
  }
  return {
    shapeProbs,
    detailProbs,
    shape,
    detail: DETAILS[d],
    cx: pose.cx / map.size,
    cy: pose.cy / map.size,
    s: pose.s / map.size,
    error: details[d].error * unit,
    templateMass: templateMass * unit,
  };
}
