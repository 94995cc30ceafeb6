/**
 * Figure 3: the learned policy's mean step count by prompt richness, in words and in objects, and
 * Spearman's rank correlation between each and the chosen steps (measured, whatever its sign).
 */
import { fig3Spec, type StepsByRichnessRow } from '../report/plots.js';
import type { Figure } from '../report/report.js';
import { mean, sd, spearman } from '../util/statistics.js';
import type { World } from './world.js';

/** Word bins of the figure: at most this many, of equal width. */
const WORD_BINS = 5;

export interface Richness {
  figure: Figure;
  /** Spearman's rho between object count and chosen steps; null when undefined (see `notes`). */
  objectsRho: number | null;
  wordsRho: number | null;
  /** Why a rho is null, or objects were not counted. */
  notes: string[];
}

function binRow(
  measure: StepsByRichnessRow['measure'],
  bin: string,
  steps: readonly number[],
): StepsByRichnessRow {
  return { measure, bin, meanSteps: mean(steps), sd: sd(steps), prompts: steps.length };
}

/** rho, or null with the reason when a side is constant (rank correlation is then 0/0). */
function rho(
  name: string,
  values: readonly number[],
  steps: readonly number[],
  notes: string[],
): number | null {
  const r = spearman(values, steps);
  if (Number.isFinite(r)) return r;
  const constant =
    new Set(steps).size === 1
      ? 'the policy chose one step count for every prompt'
      : `every prompt has the same ${name}`;
  notes.push(`Spearman's rho (${name}) is undefined: ${constant}.`);
  return null;
}

export function richnessFigure(prompts: readonly string[], steps: readonly number[], world: World): Richness {
  const words = prompts.map((p) => world.wordCount(p));
  const objects = prompts.map((p) => world.objectCount(p));
  const rows: StepsByRichnessRow[] = [];
  const lo = Math.min(...words);
  const width = Math.ceil((Math.max(...words) - lo + 1) / WORD_BINS);
  for (let start = lo; start <= Math.max(...words); start += width) {
    const end = start + width - 1;
    const inBin = steps.filter((_, i) => words[i] >= start && words[i] <= end);
    if (inBin.length) rows.push(binRow('words', width === 1 ? `${start}` : `${start}-${end}`, inBin));
  }
  const notes: string[] = [];
  const wordsRho = rho('word count', words, steps, notes);
  let objectsRho: number | null = null;
  if (objects.every((o) => o !== null)) {
    const counts = objects as number[];
    for (const c of [...new Set(counts)].sort((a, b) => a - b))
      rows.push(
        binRow(
          'objects',
          `${c}`,
          steps.filter((_, i) => counts[i] === c),
        ),
      );
    objectsRho = rho('object count', counts, steps, notes);
  } else notes.push('Objects are counted in shapes-world prompts only; some of these prompts are not.');
  const fmt = (r: number | null) => (r === null ? 'undefined' : r.toFixed(3));
  return {
    figure: {
      name: 'fig3-steps-by-richness',
      caption:
        `Figure 3. Mean steps the policy chose (± sd) on ${prompts.length} prompts by number of words (left) ` +
        `and objects (right). Spearman's rho: objects vs steps ${fmt(objectsRho)}, words vs steps ${fmt(wordsRho)}.`,
      spec: fig3Spec(rows),
      rows,
    },
    objectsRho,
    wordsRho,
    notes,
  };
}
