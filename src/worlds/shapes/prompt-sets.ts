import { Rng } from '../../util/random.js';
import { type Dialect, describe } from './describe.js';
import { sampleScene } from './generate.js';
import { sceneObjects } from './scene.js';

/**
 * Held-out prompt sets start at this seed. The diffusion model's training batches draw from
 * Rng(seed * golden ^ step) with small step numbers, so seeds from here on never repeat its scenes'
 * random streams.
 */
export const HELD_OUT_SEED = 1_000_000;

export interface WorldPrompt {
  text: string;
  objects: number;
  dialect: Dialect;
}

/** n seeded prompts of the shapes world in one dialect, with their object counts. */
export function worldPromptSet(n: number, dialect: Dialect, seed = HELD_OUT_SEED): WorldPrompt[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const scene = sampleScene(rng);
    return { text: describe(scene, dialect, rng), objects: sceneObjects(scene).length, dialect };
  });
}
