import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { StepSelection, StepSelector } from '../policy/selector.js';
import type { QualityScorer } from '../quality/scorer.js';
import { Rng } from '../util/random.js';
import { type RunOptions, runWithSteps, type StepRun } from './run-steps.js';

export interface MethodRow {
  method: string;
  /** Runs averaged (the random policy's several seeds); 1 otherwise. */
  runs: number;
  meanSteps: number;
  secondsPerImage: number;
  meanScore: number;
  /** Share of images the scorer calls fully correct, when it reports parts.success. */
  successRate: number | null;
  /** Standard deviation across runs of meanScore, for runs > 1. */
  scoreSpread: number | null;
  /** Per-prompt steps and scores of the (first) run. */
  perPrompt: { steps: number; score: number }[];
}

export interface Comparison {
  rows: MethodRow[];
  /** 1 - time(AdaDiff) / time(fixed max S). */
  timeSaved: number;
  /** (Q_adadiff - Q_random) / (Q_max - Q_random). */
  qualityRecovered: number;
  /** AdaDiff's policy time per prompt, ms, and the UNet's time per step at batch size 1, ms. */
  policyMsPerPrompt: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

/** One method's row from its runs (several for the random policy), each over the same n prompts. */
export function summarise(method: string, runs: StepRun[], n: number): MethodRow {
  const scoreOf = (r: StepRun) => mean(r.scores.map((s) => s.total));
  const success = runs[0].scores.every((s) => 'success' in s.parts)
    ? mean(runs.flatMap((r) => r.scores.map((s) => s.parts.success)))
    : null;
  return {
    method,
    runs: runs.length,
    meanSteps: mean(runs.map((r) => mean(r.steps))),
    secondsPerImage: mean(runs.map((r) => r.seconds / n)),
    meanScore: mean(runs.map(scoreOf)),
    successRate: success,
    scoreSpread: runs.length > 1 ? sd(runs.map(scoreOf)) : null,
    perPrompt: runs[0].steps.map((steps, i) => ({ steps, score: runs[0].scores[i].total })),
  };
}

/**
 * AdaDiff against fixed step counts and a uniformly random policy over S, all generated in this
 * one process from the same seeds (so every method sees the same initial noise per prompt).
 */
export async function compareMethods(
  pipe: Text2ImagePipeline,
  scorer: QualityScorer,
  selector: StepSelector,
  prompts: readonly string[],
  seeds: readonly number[],
  opts: RunOptions & { fixed: readonly number[]; randomRuns: number; randomSeed: number },
): Promise<Comparison> {
  const n = prompts.length;
  const stepSet = selector.stepSet;
  const smax = Math.max(...stepSet);
  const rows: MethodRow[] = [];
  for (const k of opts.fixed) {
    rows.push(
      summarise(
        `fixed ${k}`,
        [
          await runWithSteps(
            pipe,
            scorer,
            prompts,
            seeds,
            prompts.map(() => k),
            opts,
          ),
        ],
        n,
      ),
    );
  }
  const random: StepRun[] = [];
  for (let r = 0; r < opts.randomRuns; r++) {
    const rng = new Rng(opts.randomSeed + r);
    random.push(
      await runWithSteps(
        pipe,
        scorer,
        prompts,
        seeds,
        prompts.map(() => rng.pick(stepSet)),
        opts,
      ),
    );
  }
  rows.push(summarise('random', random, n));

  const { run: ada, selection } = await runAdaDiff(pipe, scorer, selector, prompts, seeds, opts);
  rows.push(summarise('AdaDiff', [ada], n));

  const byName = (m: string) => rows.find((r) => r.method === m);
  const top = byName(`fixed ${smax}`);
  const rnd = byName('random')!;
  const adaRow = byName('AdaDiff')!;
  return {
    rows,
    timeSaved: top ? 1 - adaRow.secondsPerImage / top.secondsPerImage : Number.NaN,
    qualityRecovered: top ? (adaRow.meanScore - rnd.meanScore) / (top.meanScore - rnd.meanScore) : Number.NaN,
    policyMsPerPrompt: selection.ms / n,
  };
}

/**
 * AdaDiff's run: the policy picks each prompt's step count from its text features, then every
 * prompt is generated with it from those same features. Encoding and the policy are part of
 * AdaDiff's time; the policy's one-time compilation (per input shape, like loading an ONNX
 * session) is not: it runs once untimed on the same features, then again timed.
 */
export async function runAdaDiff(
  pipe: Text2ImagePipeline,
  scorer: QualityScorer,
  selector: StepSelector,
  prompts: readonly string[],
  seeds: readonly number[],
  opts: RunOptions,
): Promise<{ run: StepRun; selection: StepSelection }> {
  const t0 = performance.now();
  const encoded = await pipe.encode(prompts as string[], '', opts.guidanceScale);
  const encodeMs = performance.now() - t0;
  await selector.select(encoded.cond);
  const selection = await selector.select(encoded.cond);
  const run = await runWithSteps(pipe, scorer, prompts, seeds, selection.steps, opts, encoded);
  run.seconds += (encodeMs + selection.ms) / 1000;
  return { run, selection };
}

/** The comparison as a Markdown table. */
export function comparisonMarkdown(c: Comparison): string {
  const lines = [
    '| method | runs | mean steps | s / image | mean judge score | full success |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...c.rows.map(
      (r) =>
        `| ${r.method} | ${r.runs} | ${r.meanSteps.toFixed(2)} | ${r.secondsPerImage.toFixed(4)} | ` +
        `${r.meanScore.toFixed(3)}${r.scoreSpread !== null ? ` ± ${r.scoreSpread.toFixed(3)}` : ''} | ` +
        `${r.successRate === null ? '-' : `${(100 * r.successRate).toFixed(1)}%`} |`,
    ),
  ];
  lines.push(
    '',
    `time saved vs the largest fixed step count: ${(100 * c.timeSaved).toFixed(1)}%; ` +
      `quality recovered (Q_ada - Q_random) / (Q_max - Q_random): ${c.qualityRecovered.toFixed(3)}; ` +
      `policy ${c.policyMsPerPrompt.toFixed(2)} ms per prompt`,
  );
  return lines.join('\n');
}
