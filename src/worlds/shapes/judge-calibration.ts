/**
 * The judge's reference set and its normalisation constants. ImageReward reports scores
 * standardised over a reference set of generated images; here the reference set is held-out
 * prompts (seeds no test or trainer uses) rendered clean and degraded the ways an under-stepped or
 * weak diffusion model fails. Run this module to print JUDGE_MEAN and JUDGE_SD:
 *   node --import tsx src/worlds/shapes/judge-calibration.ts
 */
import { pathToFileURL } from 'node:url';
import { Rng } from '../../util/random.js';
import { addNoise, alterObject, blur, withoutObject } from './degrade.js';
import { type Dialect, describe } from './describe.js';
import { sampleScene } from './generate.js';
import { judge } from './judge.js';
import { layoutScene } from './layout.js';
import { renderPlacements } from './render.js';
import { COLOURS, DETAILS, SHAPES } from './scene.js';

/** Seeds of the reference prompts, far from the small seeds tests and examples use. */
export const REFERENCE_SEED = 0x5eed_0000;

export const REFERENCE_KINDS = [
  'clean',
  'blur-0.5px',
  'blur-1px',
  'noise-0.03',
  'noise-0.08',
  'missing-object',
  'wrong-colour',
  'wrong-shape',
  'wrong-detail',
  'other-prompt',
] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

export interface ReferenceItem {
  prompt: string;
  image: Float32Array;
  size: number;
  kind: ReferenceKind;
}

/** Reference item i: prompt i of the held-out set, degraded by kind i mod 10, at 32 or 64 px. */
export function referenceItem(i: number): ReferenceItem {
  const rng = new Rng(REFERENCE_SEED + i);
  const scene = sampleScene(rng);
  const dialect: Dialect = i % 2 === 0 ? 'terse' : 'verbose';
  const prompt = describe(scene, dialect, rng);
  const size = i % 4 === 3 ? 64 : 32;
  const placed = layoutScene(scene, rng);
  const kind = REFERENCE_KINDS[i % REFERENCE_KINDS.length];
  const k = rng.int(placed.length);
  const other = <T>(list: readonly T[], v: T) => list.filter((x) => x !== v)[rng.int(list.length - 1)];
  const o = placed[k].object;
  const px = size / 32;
  const clean = renderPlacements(placed, size);
  const image = {
    clean: () => clean,
    'blur-0.5px': () => blur(clean, size, 0.5 * px),
    'blur-1px': () => blur(clean, size, px),
    'noise-0.03': () => addNoise(clean, 0.03, rng),
    'noise-0.08': () => addNoise(clean, 0.08, rng),
    'missing-object': () => renderPlacements(withoutObject(placed, k), size),
    'wrong-colour': () =>
      renderPlacements(alterObject(placed, k, { colour: other(COLOURS, o.colour) }), size),
    'wrong-shape': () => renderPlacements(alterObject(placed, k, { shape: other(SHAPES, o.shape) }), size),
    'wrong-detail': () =>
      renderPlacements(alterObject(placed, k, { detail: other(DETAILS, o.detail) }), size),
    'other-prompt': () => renderPlacements(layoutScene(sampleScene(rng), rng), size),
  }[kind]();
  return { prompt, image, size, kind };
}

/** Mean and sd of the judge's raw score over the first n reference items. */
export function referenceStatistics(n: number, start = 0): { mean: number; sd: number } {
  const raws = Array.from({ length: n }, (_, i) => {
    const item = referenceItem(start + i);
    return judge(item.prompt, item.image, item.size).raw;
  });
  const mean = raws.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(raws.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, sd };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 2000);
  const { mean, sd } = referenceStatistics(n);
  console.log(`reference set of ${n}: JUDGE_MEAN = ${mean.toFixed(4)}, JUDGE_SD = ${sd.toFixed(4)}`);
}
