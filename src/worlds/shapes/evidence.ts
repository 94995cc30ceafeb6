import type { PromptScores } from '../../collect/dataset.js';
import type { CollectedRecord } from '../../collect/store.js';
import { oracleIndex } from '../../policy/reward.js';
import { parsePrompt } from './parse.js';
import { sceneObjects } from './scene.js';

/** Steps the oracle chooses from (the paper's S), and its top-k. */
export interface OracleSpec {
  steps: readonly number[];
  topK: number;
}

export interface ObjectCountRow {
  objects: number;
  prompts: number;
  /** Mean judge score at each collected step count. */
  meanScore: Record<number, number>;
  /** Share of images judged fully correct at each collected step count. */
  successRate: Record<number, number>;
  /** Mean oracle step over these prompts. */
  oracleMean: number;
}

export interface WorldEvidence {
  prompts: number;
  stepCounts: number[];
  byObjects: ObjectCountRow[];
  /** How many prompts have each oracle step. */
  oracleHistogram: Record<number, number>;
  /** Share of prompts whose oracle step differs from the most common one. */
  oracleDiffersFromMode: number;
  /** Spearman rank correlation between object count and oracle step. */
  oracleObjectsSpearman: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rho: Pearson correlation of the (tie-averaged) ranks. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const [ra, rb] = [ranks(a), ranks(b)];
  const [ma, mb] = [mean(ra), mean(rb)];
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/**
 * Is the shapes world a testbed for AdaDiff? From a collect run over held-out prompts at several
 * step counts: quality and full success by number of objects, and each prompt's oracle step (the
 * fewest steps in S whose image ranks top-k among S's images).
 */
export function worldEvidence(
  records: readonly CollectedRecord[],
  prompts: readonly PromptScores[],
  collectedSteps: readonly number[],
  oracle: OracleSpec,
): WorldEvidence {
  const success = new Map(records.map((r) => [`${r.promptId}:${r.steps}`, r.parts.success ?? 0]));
  const idx = oracle.steps.map((s) => {
    const i = collectedSteps.indexOf(s);
    if (i < 0) throw new Error(`the oracle's step count ${s} was not collected (have ${collectedSteps})`);
    return i;
  });
  const rewardCfg = {
    kind: 'topk' as const,
    steps: oracle.steps,
    lambda: 0,
    topK: oracle.topK,
    gamma: 0,
    threshold: 0,
  };
  const items = prompts.map((p) => ({
    p,
    objects: sceneObjects(parsePrompt(p.prompt)).length,
    oracle:
      oracle.steps[
        oracleIndex(
          idx.map((i) => p.scores[i]),
          rewardCfg,
        )
      ],
  }));
  const counts = [...new Set(items.map((i) => i.objects))].sort((a, b) => a - b);
  const byObjects = counts.map((objects) => {
    const group = items.filter((i) => i.objects === objects);
    const per = (f: (s: number, i: (typeof group)[number]) => number) =>
      Object.fromEntries(collectedSteps.map((s, a) => [s, mean(group.map((i) => f(a, i)))]));
    return {
      objects,
      prompts: group.length,
      meanScore: per((a, i) => i.p.scores[a]),
      successRate: per((a, i) => success.get(`${i.p.promptId}:${collectedSteps[a]}`) ?? 0),
      oracleMean: mean(group.map((i) => i.oracle)),
    };
  });
  const histogram: Record<number, number> = Object.fromEntries(oracle.steps.map((s) => [s, 0]));
  for (const i of items) histogram[i.oracle]++;
  const mode = Math.max(...Object.values(histogram));
  return {
    prompts: items.length,
    stepCounts: [...collectedSteps],
    byObjects,
    oracleHistogram: histogram,
    oracleDiffersFromMode: 1 - mode / items.length,
    oracleObjectsSpearman: spearman(
      items.map((i) => i.objects),
      items.map((i) => i.oracle),
    ),
  };
}

/** The evidence as a Markdown report. */
export function evidenceMarkdown(e: WorldEvidence): string {
  const s = e.stepCounts;
  const table = (
    title: string,
    f: (r: ObjectCountRow) => Record<number, number>,
    fmt: (v: number) => string,
  ) => [
    `### ${title}`,
    '',
    `| objects | prompts | ${s.map((k) => `${k} steps`).join(' | ')} |`,
    `| ---: | ---: | ${s.map(() => '---:').join(' | ')} |`,
    ...e.byObjects.map((r) => `| ${r.objects} | ${r.prompts} | ${s.map((k) => fmt(f(r)[k])).join(' | ')} |`),
    '',
  ];
  return [
    `Held-out prompts: ${e.prompts}.`,
    '',
    ...table(
      'Mean judge score',
      (r) => r.meanScore,
      (v) => v.toFixed(3),
    ),
    ...table(
      'Full-success rate',
      (r) => r.successRate,
      (v) => `${(100 * v).toFixed(1)}%`,
    ),
    '### Oracle step (fewest steps in S ranking top-k)',
    '',
    `| oracle step | ${Object.keys(e.oracleHistogram).join(' | ')} |`,
    `| --- | ${Object.keys(e.oracleHistogram)
      .map(() => '---:')
      .join(' | ')} |`,
    `| prompts | ${Object.values(e.oracleHistogram).join(' | ')} |`,
    '',
    `| objects | ${e.byObjects.map((r) => r.objects).join(' | ')} |`,
    `| --- | ${e.byObjects.map(() => '---:').join(' | ')} |`,
    `| mean oracle step | ${e.byObjects.map((r) => r.oracleMean.toFixed(1)).join(' | ')} |`,
    '',
    `Oracle step differs from its most common value for ${(100 * e.oracleDiffersFromMode).toFixed(1)}% of prompts; ` +
      `Spearman correlation between object count and oracle step: ${e.oracleObjectsSpearman.toFixed(3)}.`,
    '',
  ].join('\n');
}
