/**
 * Figure 4: easy, medium and hard prompts, each shown at every step count of S with the policy's
 * choice marked. The images are those of Table 1's fixed-step runs (same seeds), saved as PNGs as the
 * runs go by.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Difficulty, Gallery } from '../report/report.js';
import { encodePng } from '../util/image.js';
import type { StepRun } from './run-steps.js';
import type { World } from './world.js';

/** Gallery images are enlarged (nearest neighbour) to about this width, so 32px images stay legible. */
const DISPLAY_WIDTH = 128;

/** Object-count difficulty of the paper's easy/medium/hard split, for prompts of the world. */
function byObjects(objects: number): Difficulty {
  return objects <= 2 ? 'easy' : objects <= 4 ? 'medium' : 'hard';
}

/**
 * Each prompt's difficulty: by object count (1-2, 3-4, 5-6) when every prompt is of the world, else
 * by word count terciles of the set; and which of the two it was.
 */
export function difficulties(
  prompts: readonly string[],
  world: World,
): { levels: Difficulty[]; basis: string } {
  const objects = prompts.map((p) => world.objectCount(p));
  if (objects.every((o) => o !== null))
    return { levels: (objects as number[]).map(byObjects), basis: 'objects: easy 1-2, medium 3-4, hard 5-6' };
  const words = prompts.map((p) => world.wordCount(p));
  const sorted = [...words].sort((a, b) => a - b);
  const cut = (q: number) => sorted[Math.floor(q * (sorted.length - 1))];
  const [a, b] = [cut(1 / 3), cut(2 / 3)];
  return {
    levels: words.map((w) => (w <= a ? 'easy' : w <= b ? 'medium' : 'hard')),
    basis: `words: easy up to ${a}, medium up to ${b}, hard more`,
  };
}

export class GalleryWriter {
  /** Indices into the prompt set, in gallery order. */
  readonly picked: { index: number; difficulty: Difficulty }[];
  private readonly files = new Map<string, string>();
  private readonly basis: string;

  /** Picks the first `perDifficulty` prompts of each difficulty. */
  constructor(
    private readonly dir: string,
    private readonly prompts: readonly string[],
    perDifficulty: number,
    world: World,
  ) {
    const { levels, basis } = difficulties(prompts, world);
    this.basis = basis;
    const seen = new Map<Difficulty, number>();
    this.picked = [];
    levels.forEach((difficulty, index) => {
      const count = seen.get(difficulty) ?? 0;
      if (count < perDifficulty) this.picked.push({ index, difficulty });
      seen.set(difficulty, count + 1);
    });
  }

  /** Saves the picked prompts' images of a fixed-step run. */
  async addRun(steps: number, run: StepRun): Promise<void> {
    await mkdir(join(this.dir, 'gallery'), { recursive: true });
    for (const { index } of this.picked) {
      const image = run.images[index];
      const file = join('gallery', `prompt${index}-${steps}steps.png`);
      const scale = Math.max(1, Math.floor(DISPLAY_WIDTH / image.width));
      await writeFile(join(this.dir, file), await encodePng(image, scale));
      this.files.set(`${index}:${steps}`, file);
    }
  }

  /** The gallery, given the policy's choice for every prompt of the set. */
  gallery(steps: readonly number[], chosen: readonly number[]): Gallery {
    return {
      caption: `Figure 4. Prompts by difficulty (${this.basis}) at every step count; the policy's choice is marked.`,
      steps: [...steps],
      rows: this.picked.map(({ index, difficulty }) => ({
        prompt: this.prompts[index],
        difficulty,
        images: Object.fromEntries(steps.map((s) => [s, this.files.get(`${index}:${s}`)!])),
        chosen: chosen[index],
      })),
    };
  }
}
