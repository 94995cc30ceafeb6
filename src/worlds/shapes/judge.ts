/**
 * The shapes world's image quality judge, the counterpart of ImageReward in AdaDiff: a continuous
 * score of text-image alignment and fidelity, normalised to mean 0 and sd 1 over a reference set.
 *
 * Pipeline: read pixels against the palette (pixels.ts), find colour blobs (components.ts), fit
 * every blob by synthesis with the renderer's own shapes and details (fit.ts), match described
 * objects to blobs at minimum cost (assignment.ts), then score each described attribute softly.
 */
import { assign } from './assignment.js';
import { type Blob, findBlobs } from './components.js';
import { type BlobFit, fitBlob } from './fit.js';
import { parsePrompt } from './parse.js';
import { downsample, readPixels } from './pixels.js';
import { COLOURS, DETAILS, type Scene, type SceneObject, SHAPES, sceneObjects } from './scene.js';
import { NOMINAL_SIZE, regionDistance, relationMargin } from './spatial.js';

export interface JudgeScore {
  /** Normalised score: (raw - JUDGE_MEAN) / JUDGE_SD. */
  total: number;
  /** Weighted sum of alignment and fidelity, in [0, 1]. */
  raw: number;
  /** Each in [0, 1], 1 best. */
  parts: Record<string, number>;
  /** Every described object found with every attribute right, nothing extra. */
  success: boolean;
}

/**
 * Normalisation constants: mean and sd of `raw` over the 2000-item reference set of
 * judge-calibration.ts (held-out prompts at 32 and 64 px, rendered clean and degraded: blur, noise,
 * a missing object, a wrong colour, shape or detail, another prompt's image), computed once with
 * `node --import tsx src/worlds/shapes/judge-calibration.ts 2000`. Rerun it and update these when
 * the scoring changes.
 */
export const JUDGE_MEAN = 0.8331;
export const JUDGE_SD = 0.1458;

/** Weights of the alignment parts, and of alignment against fidelity in `raw`. */
const ALIGNMENT_WEIGHTS: Readonly<Record<string, number>> = {
  count: 0.2,
  colour: 0.15,
  shape: 0.2,
  size: 0.1,
  detail: 0.15,
  position: 0.1,
  extra: 0.1,
};
const ALIGNMENT_SHARE = 0.7;

/** Blob alpha mass (32 px pixel units) below which a blob is specks, not an object. */
const MIN_OBJECT_MASS = 6;
/** Mass of a typical small object, the unit of "how much is extra". */
const OBJECT_MASS = 30;
/** Blobs fitted at most (the largest); the rest only count as extra or stray. */
const MAX_FITTED = 12;
/** Larger images are analysed box-downsampled to at most this size. */
const MAX_ANALYSIS_SIZE = 64;

/** Fidelity scales: off-palette residual (mean squared), template misfit (relative), specks (px). */
const RESIDUAL_SCALE = 0.004;
const MISFIT_SCALE = 0.1;
const SPECK_SCALE = 10;

/** Soft position tests: distance outside a region and relation margin (canvas units). */
const REGION_SOFTNESS = 0.06;
const REGION_PASS = 0.04;
const RELATION_SOFTNESS = 0.03;
const RELATION_PASS = 0.02;
/** Log-ratio softness of the small/large decision. */
const SIZE_SOFTNESS = 0.06;

interface Candidate {
  blob: Blob;
  fit: BlobFit;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function analysisImage(image: Float32Array, size: number): { image: Float32Array; size: number } {
  if (size > MAX_ANALYSIS_SIZE) {
    for (let f = 2; size / f >= 32; f++) {
      if (size % f === 0 && size / f <= MAX_ANALYSIS_SIZE)
        return { image: downsample(image, size, f), size: size / f };
    }
  }
  return { image, size };
}

function probLarge(fit: BlobFit): number {
  const mid = Math.sqrt(NOMINAL_SIZE.small * NOMINAL_SIZE.large);
  return sigmoid(Math.log(fit.s / mid) / SIZE_SOFTNESS);
}

/** Unary belief that a blob is a described object, ignoring relations (which need the matching). */
function attributeScores(o: SceneObject, c: Candidate) {
  const colour = c.blob.colourProbs[COLOURS.indexOf(o.colour)];
  const shape = c.fit.shapeProbs[SHAPES.indexOf(o.shape)];
  const pl = probLarge(c.fit);
  const size = o.size === null ? 1 : o.size === 'large' ? pl : 1 - pl;
  const detail = c.fit.detailProbs[DETAILS.indexOf(o.detail)];
  const d = o.region ? regionDistance(o.region, { x: c.fit.cx, y: c.fit.cy }) : 0;
  const region = Math.exp(-((d / REGION_SOFTNESS) ** 2));
  return { colour, shape, size, detail, region, regionPass: d <= REGION_PASS };
}

function evaluate(scene: Scene, image: Float32Array, size: number): Omit<JudgeScore, 'total'> {
  const analysed = analysisImage(image, size);
  const map = readPixels(analysed.image, analysed.size);
  const unit = (32 / analysed.size) ** 2;
  const blobs = findBlobs(map, analysed.image);
  const significant = blobs.filter((b) => b.mass * unit >= MIN_OBJECT_MASS);
  const candidates: Candidate[] = significant
    .slice(0, MAX_FITTED)
    .map((blob) => ({ blob, fit: fitBlob(blob, map) }));
  const objects = sceneObjects(scene);

  // Match described objects to blobs; a dummy column per object stands for "not found".
  const scores = objects.map((o) => candidates.map((c) => attributeScores(o, c)));
  const cost = objects.map((_, i) => [
    ...scores[i].map(
      (s) => 1 - (0.3 * s.colour + 0.3 * s.shape + 0.1 * s.size + 0.15 * s.detail + 0.15 * s.region),
    ),
    ...objects.map(() => 1),
  ]);
  const match = assign(cost).map((j) => (j < candidates.length ? j : -1));

  const per = objects.map((o, i) => {
    const j = match[i];
    if (j < 0) return { colour: 0, shape: 0, size: 0, detail: 0, position: 0, ok: false };
    const s = scores[i][j];
    const fit = candidates[j].fit;
    const positions: number[] = o.region ? [s.region] : [];
    let positionOk = !o.region || s.regionPass;
    for (const r of scene.relations) {
      const mine = r.subject === o.group ? r.object : r.object === o.group ? r.subject : -1;
      if (mine < 0) continue;
      objects.forEach((other, k) => {
        if (other.group !== mine || match[k] < 0) return;
        const of = candidates[match[k]].fit;
        const [a, b] = r.subject === o.group ? [fit, of] : [of, fit];
        const m = relationMargin(r.relation, { x: a.cx, y: a.cy }, { x: b.cx, y: b.cy });
        positions.push(sigmoid(m / RELATION_SOFTNESS));
        positionOk &&= m > RELATION_PASS;
      });
    }
    const position = positions.length ? positions.reduce((a, b) => a + b, 0) / positions.length : 1;
    const ok =
      fit.shape === o.shape &&
      candidates[j].blob.colour === COLOURS.indexOf(o.colour) &&
      fit.detail === o.detail &&
      (o.size === null || (o.size === 'large') === probLarge(fit) > 0.5) &&
      positionOk;
    return { colour: s.colour, shape: s.shape, size: s.size, detail: s.detail, position, ok };
  });

  const matched = new Set(match.filter((j) => j >= 0));
  const unmatched = significant.filter((_, j) => !matched.has(j));
  // Count: per group, objects found versus asked, where unmatched blobs of the group's kind add.
  const count = mean(
    scene.groups.map((g, gi) => {
      const found =
        objects.filter((o, i) => o.group === gi && match[i] >= 0).length +
        candidates.filter(
          (c, j) => !matched.has(j) && c.fit.shape === g.shape && c.blob.colour === COLOURS.indexOf(g.colour),
        ).length;
      return Math.min(found, g.count) / Math.max(found, g.count);
    }),
  );
  const extraMass = unmatched.reduce((a, b) => a + Math.min(1, (b.mass * unit) / OBJECT_MASS), 0);
  const extra = Math.exp(-0.7 * extraMass);

  // Fidelity: clean flat palette colours, templates that fit (sharp edges, crisp details), no specks.
  const residual = mean(Array.from(map.residual, (r) => r * r));
  const fitted = candidates.map((c) => c.fit);
  const misfit =
    fitted.reduce((a, f) => a + f.error, 0) /
    Math.max(
      1,
      fitted.reduce((a, f) => a + f.templateMass, 0),
    );
  const specks = blobs.filter((b) => b.mass * unit < MIN_OBJECT_MASS).reduce((a, b) => a + b.mass * unit, 0);
  const clean = Math.exp(-residual / RESIDUAL_SCALE);
  const sharp = Math.exp(-misfit / MISFIT_SCALE);
  const fidelity = clean * sharp * Math.exp(-specks / SPECK_SCALE);

  const parts: Record<string, number> = {
    count,
    colour: mean(per.map((p) => p.colour)),
    shape: mean(per.map((p) => p.shape)),
    size: mean(per.map((p) => p.size)),
    detail: mean(per.map((p) => p.detail)),
    position: mean(per.map((p) => p.position)),
    extra,
  };
  const alignment = Object.entries(ALIGNMENT_WEIGHTS).reduce((a, [k, w]) => a + w * parts[k], 0);
  Object.assign(parts, { alignment, fidelity, clean, sharp });
  const raw = ALIGNMENT_SHARE * alignment + (1 - ALIGNMENT_SHARE) * fidelity;
  const success = per.every((p) => p.ok) && unmatched.length === 0;
  return { raw, parts, success };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Score an image (RGB CHW in [0, 1], size x size, size >= 32) against a prompt. */
export function judge(prompt: string, image: Float32Array, size: number): JudgeScore {
  if (size < 32) throw new Error(`judge: image size ${size} is below 32`);
  if (image.length !== 3 * size * size)
    throw new Error(`judge: expected ${3 * size * size} values, got ${image.length}`);
  const r = evaluate(parsePrompt(prompt), image, size);
  return { total: (r.raw - JUDGE_MEAN) / JUDGE_SD, ...r };
}

/** Whether every described object is in the image with every attribute right and nothing extra. */
export function fullSuccess(prompt: string, image: Float32Array, size: number): boolean {
  return judge(prompt, image, size).success;
}
