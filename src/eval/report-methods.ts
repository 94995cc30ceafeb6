/**
 * Tables 1, 3 and 4: fixed step counts, the random policy and AdaDiff generated on one prompt set in
 * this process (same seeds, so every method starts each prompt from the same noise), with measured
 * wall time, the scorer's quality and the image metrics.
 */
import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { StepSelector } from '../policy/selector.js';
import type { QualityScorer } from '../quality/scorer.js';
import { Rng } from '../util/random.js';
import { mean } from '../util/statistics.js';
import { type MethodRow, runAdaDiff, summarise } from './compare.js';
import type { PromptSet } from './report-collected.js';
import {
  fidAgainst,
  type MetricNets,
  measureRun,
  poolFeatures,
  type RunImageStats,
} from './report-image-metrics.js';
import { runWithSteps, type StepRun } from './run-steps.js';
import type { World } from './world.js';

/** AdaDiff rows: one selector (the given policy) or several (retrained with other seeds, averaged). */
export interface AdaDiffEntry {
  label: string;
  selectors: StepSelector[];
}

/** FID's reference: clean renders of the prompts by their world, or (null) the largest fixed step count's images. */
export type FidReference = World | null;

export interface MethodsOptions {
  randomRuns: number;
  randomSeed: number;
  reference: FidReference;
  /** Sees each fixed-step run before its images are dropped (the gallery keeps a few). */
  onFixedRun?: (steps: number, run: StepRun) => Promise<void>;
}

export interface MethodResult {
  /** Steps, seconds, score, success and their spread over runs; per-prompt data of the first run. */
  row: MethodRow;
  /** Image metrics, each the mean over runs (null when not computed). */
  clip: number | null;
  is: number | null;
  fid: number | null;
  niqe: number | null;
}

/** A method's runs, their images already reduced to `stats` and dropped. */
interface Group {
  label: string;
  runs: StepRun[];
  stats: RunImageStats[];
}

/** Mean over runs of a metric present in all of them. */
function meanOf(values: (number | null)[]): number | null {
  return values.every((v) => v !== null) ? mean(values as number[]) : null;
}

/** Rows in the paper's order: each fixed step count of S, the random policy, then each AdaDiff entry. */
export async function evaluateMethods(
  pipe: Text2ImagePipeline,
  scorer: QualityScorer,
  nets: MetricNets,
  set: PromptSet,
  stepSet: readonly number[],
  adadiff: readonly AdaDiffEntry[],
  opts: MethodsOptions,
): Promise<MethodResult[]> {
  const { prompts, seeds } = set;
  const groups: Group[] = [];
  let size = 0;
  const generate = (steps: number[]) => runWithSteps(pipe, scorer, prompts, seeds, steps, set.run);
  const add = async (group: Group, run: StepRun) => {
    size = run.images[0].width;
    group.stats.push(await measureRun(nets, prompts, run.images));
    group.runs.push({ ...run, images: [] });
  };
  const open = (label: string) => {
    const group: Group = { label, runs: [], stats: [] };
    groups.push(group);
    return group;
  };
  for (const steps of stepSet) {
    const run = await generate(prompts.map(() => steps));
    await opts.onFixedRun?.(steps, run);
    await add(open(`Fixed ${steps} steps`), run);
  }
  const random = open('Random policy');
  for (let r = 0; r < opts.randomRuns; r++) {
    const rng = new Rng(opts.randomSeed + r);
    await add(random, await generate(prompts.map(() => rng.pick(stepSet))));
  }
  for (const entry of adadiff) {
    const group = open(entry.label);
    for (const selector of entry.selectors)
      await add(group, (await runAdaDiff(pipe, scorer, selector, prompts, seeds, set.run)).run);
  }
  const reference =
    opts.reference !== null
      ? await poolFeatures(
          nets,
          prompts.map((p) => (opts.reference as World).render(p, size)),
        )
      : groups[stepSet.length - 1].stats[0].features;
  return groups.map((g) => ({
    row: summarise(g.label, g.runs, prompts.length),
    clip: meanOf(g.stats.map((s) => s.clip)),
    is: meanOf(g.stats.map((s) => s.is)),
    fid: meanOf(g.stats.map((s) => fidAgainst(s, reference))),
    niqe: meanOf(g.stats.map((s) => s.niqe)),
  }));
}
