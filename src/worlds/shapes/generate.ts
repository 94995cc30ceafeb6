/**
 * Seeded random scenes whose richness varies like real prompts: most mention one to three
 * objects, a tail mentions up to six, some use counts, sizes, details, regions or relations.
 */
import { Rng } from '../../util/random.js';
import { largeShare, tryLayout } from './layout.js';
import {
  COLOURS,
  type Detail,
  type GroupRelation,
  MAX_GROUP_COUNT,
  MAX_OBJECTS,
  type ObjectGroup,
  REGIONS,
  RELATIONS,
  type Scene,
  SHAPES,
  type Size,
} from './scene.js';

export interface SampleOptions {
  minObjects?: number;
  maxObjects?: number;
}

/** Relative frequency of scenes with 1..6 objects. */
const OBJECT_COUNT_WEIGHTS = [0.22, 0.26, 0.2, 0.14, 0.1, 0.08];
/** Relative frequency of a group holding 1..4 objects. */
const GROUP_COUNT_WEIGHTS = [0.66, 0.2, 0.1, 0.04];
const DETAIL_WEIGHTS: [Detail, number][] = [
  ['plain', 0.46],
  ['striped', 0.18],
  ['dotted', 0.18],
  ['hollow', 0.18],
];
const P_SIZE_UNSAID = 0.3;
const P_RELATION = 0.35;
const P_REGION = 0.35;
/** Layouts a scene must admit (each from a fresh rng) to be accepted as feasible. */
const FEASIBILITY_CHECKS = 6;

function weighted<T>(rng: Rng, items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.uniform() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i];
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}

function sampleSize(rng: Rng, objects: number): Size | null {
  if (rng.uniform() < P_SIZE_UNSAID) return null;
  return rng.uniform() < largeShare(objects) ? 'large' : 'small';
}

function sampleCandidate(rng: Rng, n: number): Scene {
  const groups: ObjectGroup[] = [];
  const used = new Set<string>();
  for (let left = n; left > 0; ) {
    const options = [1, 2, 3, 4].filter((k) => k <= Math.min(left, MAX_GROUP_COUNT));
    const count = weighted(rng, options, GROUP_COUNT_WEIGHTS);
    let shape = rng.pick(SHAPES);
    let colour = rng.pick(COLOURS);
    // Groups differ in shape or colour so a prompt never names the same kind of thing twice.
    while (used.has(`${shape} ${colour}`)) {
      shape = rng.pick(SHAPES);
      colour = rng.pick(COLOURS);
    }
    used.add(`${shape} ${colour}`);
    const detail = weighted(
      rng,
      DETAIL_WEIGHTS.map((d) => d[0]),
      DETAIL_WEIGHTS.map((d) => d[1]),
    );
    groups.push({ count, shape, colour, size: sampleSize(rng, n), detail, region: null });
    left -= count;
  }
  const relations: GroupRelation[] = [];
  for (let i = 0; i < groups.length; i++) {
    if (i + 1 < groups.length && rng.uniform() < P_RELATION) {
      relations.push({ subject: i, relation: rng.pick(RELATIONS), object: i + 1 });
      i++;
    } else if (rng.uniform() < P_REGION / groups[i].count) {
      groups[i].region = rng.pick(REGIONS);
    }
  }
  return { groups, relations };
}

/** A random scene that can be laid out (objects fit without overlap and constraints hold). */
export function sampleScene(rng: Rng, opts: SampleOptions = {}): Scene {
  const minObjects = Math.max(1, opts.minObjects ?? 1);
  const maxObjects = Math.min(MAX_OBJECTS, opts.maxObjects ?? MAX_OBJECTS);
  if (minObjects > maxObjects)
    throw new Error(`sampleScene: minObjects ${minObjects} > maxObjects ${maxObjects}`);
  const counts = Array.from({ length: maxObjects - minObjects + 1 }, (_, i) => minObjects + i);
  // The object count is drawn once, so rejecting crowded layouts does not thin out rich scenes.
  const n = weighted(
    rng,
    counts,
    counts.map((k) => OBJECT_COUNT_WEIGHTS[k - 1]),
  );
  for (;;) {
    const scene = sampleCandidate(rng, n);
    const seed = rng.nextU32();
    let feasible = true;
    for (let k = 0; k < FEASIBILITY_CHECKS && feasible; k++)
      feasible = tryLayout(scene, new Rng(seed + k)) !== null;
    if (feasible) return scene;
  }
}
