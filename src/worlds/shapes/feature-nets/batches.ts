/**
 * Training batches, rendered on the fly. Every batch comes from its own Rng(seed, step), as in the
 * text-to-image trainer, so a run is reproducible from its seed; held-out sets (evaluate.ts) use
 * Rng(HELD_OUT_SEED + k), which seed 0's batch streams, Rng(step), never reach.
 */
import { Rng } from '../../../util/random.js';
import { describe } from '../describe.js';
import { sampleScene } from '../generate.js';
import { layoutScene } from '../layout.js';
import type { WordTokenizer } from '../model-tokenizer.js';
import type { Scene } from '../scene.js';
import { FEATURE_NETS } from './config.js';
import { networkPixels, trainingRender } from './images.js';
import { AUX_CLASSES, classifierTargets, KINDS } from './labels.js';
import { siblingScene } from './siblings.js';

export const IMAGE_SIZE = FEATURE_NETS.classifier.cnn.imageSize;
const PIXELS = 3 * IMAGE_SIZE * IMAGE_SIZE;

export const batchRng = (seed: number, step: number) => new Rng((Math.imul(seed, 0x9e3779b1) ^ step) >>> 0);

export interface ClassifierBatch {
  /** [B, 3, S, S] network input. */
  readonly pixels: Float32Array;
  /** [B, KINDS] kind shares. */
  readonly kinds: Float32Array;
  /** [B, AUX_CLASSES] one-hot object count, then detail shares. */
  readonly aux: Float32Array;
}

export function classifierBatch(rng: Rng, size: number): ClassifierBatch {
  const pixels = new Float32Array(size * PIXELS);
  const kinds = new Float32Array(size * KINDS.length);
  const aux = new Float32Array(size * AUX_CLASSES);
  for (let i = 0; i < size; i++) {
    const placements = layoutScene(sampleScene(rng), rng);
    pixels.set(networkPixels(trainingRender(placements, IMAGE_SIZE, rng)), i * PIXELS);
    const t = classifierTargets(placements);
    kinds.set(t.kinds, i * KINDS.length);
    aux[i * AUX_CLASSES + t.count] = 1;
    aux.set(t.details, i * AUX_CLASSES + (AUX_CLASSES - t.details.length));
  }
  return { pixels, kinds, aux };
}

/**
 * Scenes for a contrastive batch: pairs of a random scene and its sibling (siblings.ts) for
 * `siblingShare` of the batch, independent random scenes for the rest.
 */
export function contrastiveScenes(rng: Rng, size: number, siblingShare: number): Scene[] {
  const scenes: Scene[] = [];
  const pairs = Math.floor((size * siblingShare) / 2);
  for (let i = 0; i < pairs; i++) {
    const scene = sampleScene(rng);
    scenes.push(scene, siblingScene(scene, rng) ?? sampleScene(rng));
  }
  while (scenes.length < size) scenes.push(sampleScene(rng));
  return scenes;
}

export interface ClipBatch {
  readonly pixels: Float32Array;
  /** [B, maxTokens] token ids. */
  readonly ids: Int32Array;
}

/** Renders and prompts (a random dialect each) of the scenes. */
export function clipBatch(rng: Rng, scenes: readonly Scene[], tokenizer: WordTokenizer): ClipBatch {
  const pixels = new Float32Array(scenes.length * PIXELS);
  const ids = new Int32Array(scenes.length * tokenizer.maxLength);
  scenes.forEach((scene, i) => {
    const prompt = describe(scene, rng.uniform() < 0.5 ? 'terse' : 'verbose', rng);
    ids.set(tokenizer.encode(prompt), i * tokenizer.maxLength);
    pixels.set(networkPixels(trainingRender(layoutScene(scene, rng), IMAGE_SIZE, rng)), i * PIXELS);
  });
  return { pixels, ids };
}
