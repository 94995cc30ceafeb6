import { type PromptScores, partLookup } from '../../collect/dataset.js';
import type { CollectedRecord } from '../../collect/store.js';
import { oracleIndex } from '../../policy/reward.js';
import { type BootstrapInterval, bootstrapInterval, mean, spearman } from '../../util/statistics.js';
import { parsePrompt } from './parse.js';
import { DETAILS, OBJECT_BUCKETS, sceneObjects } from './scene.js';

/** Steps the oracle chooses from (the paper's S), and its top-k. */
export interface OracleSpec {
  steps: readonly number[];
  topK: number;
}

/** Quality of a group of prompts at each collected step count. */
interface StepQuality {
  prompts: number;
  /** Mean judge score at each collected step count. */
  meanScore: Record<number, number>;
  /** Share of images judged fully correct at each collected step count. */
  successRate: Record<number, number>;
}

export interface ObjectCountRow extends StepQuality {
  objects: number;
  /** Mean oracle step over these prompts. */
  oracleMean: number;
}

/** A bucket of prompts by object count (1, 2-3, 4-6). */
export interface BucketRow extends StepQuality {
  bucket: string;
  /**
   * Mean over prompts of the score at the most collected steps minus that at fewer, keyed by the
   * fewer: the fewest collected and the fewest of the oracle's S (the issue's 50 minus 10).
   */
  stepGains: Record<number, BootstrapInterval>;
}

/** Prompts holding an object with a given detail (or only plain objects). */
export interface DetailRow {
  detail: string;
  prompts: number;
  meanScore: Record<number, number>;
  /** Mean of the judge's `detail` part: do stripes, dots and outlines appear with more steps? */
  detailPart: Record<number, number>;
}

/** Is a prompt's oracle step a property of the prompt, or of its initial noise? */
export interface OracleRetest {
  /** Prompts collected under both seeds. */
  prompts: number;
  /** Share of prompts whose oracle step is the same under both seeds. */
  agreement: number;
  /** The agreement two independent draws from the oracle histograms would reach. */
  chanceAgreement: number;
  /** Spearman correlation of the oracle steps under the two seeds. */
  spearman: number;
  /** Agreement minus chance agreement, both recomputed on every resample of the prompts. */
  excessAgreement: BootstrapInterval;
}

export interface WorldEvidence {
  prompts: number;
  stepCounts: number[];
  byObjects: ObjectCountRow[];
  byBucket: BucketRow[];
  byDetail: DetailRow[];
  /** How many prompts have each oracle step. */
  oracleHistogram: Record<number, number>;
  /** Share of prompts whose oracle step differs from the most common one. */
  oracleDiffersFromMode: number;
  /** Spearman rank correlation between object count and oracle step, with its interval. */
  oracleObjectsSpearman: BootstrapInterval;
  /** Present when a second collect of the same prompts under another seed is given. */
  retest?: OracleRetest;
}

/**
 * Is the shapes world a testbed for AdaDiff? From a collect run over held-out prompts at several
 * step counts: quality and full success by number of objects, and each prompt's oracle step (the
 * fewest steps in S whose image ranks top-k among S's images). `retestPrompts`, scored at the same
 * `collectedSteps` from other initial noise, tells whether a prompt keeps its oracle step.
 */
export function worldEvidence(
  records: readonly CollectedRecord[],
  prompts: readonly PromptScores[],
  collectedSteps: readonly number[],
  oracle: OracleSpec,
  retestPrompts?: readonly PromptScores[],
): WorldEvidence {
  const lookup = partLookup(records);
  const part = (name: string) => (promptId: number, a: number) =>
    lookup(promptId, collectedSteps[a], name) ?? 0;
  const success = part('success');
  const detailPart = part('detail');
  const oracleOf = oracleSteps(collectedSteps, oracle);
  const items = prompts.map((p) => {
    const objects = sceneObjects(parsePrompt(p.prompt));
    return {
      p,
      objects: objects.length,
      details: new Set(objects.map((o) => o.detail)),
      oracle: oracleOf(p),
    };
  });
  type Item = (typeof items)[number];
  const per = (group: readonly Item[], f: (a: number, i: Item) => number) =>
    Object.fromEntries(collectedSteps.map((s, a) => [s, mean(group.map((i) => f(a, i)))]));
  const counts = [...new Set(items.map((i) => i.objects))].sort((a, b) => a - b);
  const byObjects = counts.map((objects) => {
    const group = items.filter((i) => i.objects === objects);
    return {
      objects,
      prompts: group.length,
      meanScore: per(group, (a, i) => i.p.scores[a]),
      successRate: per(group, (a, i) => success(i.p.promptId, a)),
      oracleMean: mean(group.map((i) => i.oracle)),
    };
  });
  const last = collectedSteps.length - 1;
  const gainFrom = [...new Set([collectedSteps[0], Math.min(...oracle.steps)])]
    .filter((s) => collectedSteps.includes(s) && s < collectedSteps[last])
    .sort((a, b) => a - b);
  const byBucket = OBJECT_BUCKETS.map((b) => ({
    b,
    group: items.filter((i) => i.objects >= b.min && i.objects <= b.max),
  }))
    .filter(({ group }) => group.length > 0)
    .map(({ b, group }) => {
      const gainOver = (from: number) => {
        const a = collectedSteps.indexOf(from);
        const gains = group.map((i) => i.p.scores[last] - i.p.scores[a]);
        return bootstrapInterval(gains.length, (idx) => mean(idx.map((k) => gains[k])));
      };
      return {
        bucket: b.name,
        prompts: group.length,
        meanScore: per(group, (a, i) => i.p.scores[a]),
        successRate: per(group, (a, i) => success(i.p.promptId, a)),
        stepGains: Object.fromEntries(gainFrom.map((from) => [from, gainOver(from)])),
      };
    });
  const detailGroups: [string, Item[]][] = [
    ['plain only', items.filter((i) => i.details.size === 1 && i.details.has('plain'))],
    ...DETAILS.filter((d) => d !== 'plain').map((d): [string, Item[]] => [
      d,
      items.filter((i) => i.details.has(d)),
    ]),
  ];
  const byDetail = detailGroups
    .filter(([, group]) => group.length > 0)
    .map(([detail, group]) => ({
      detail,
      prompts: group.length,
      meanScore: per(group, (a, i) => i.p.scores[a]),
      detailPart: per(group, (a, i) => detailPart(i.p.promptId, a)),
    }));
  const histogram = oracleHistogram(
    oracle.steps,
    items.map((i) => i.oracle),
  );
  const mode = Math.max(...Object.values(histogram));
  return {
    prompts: items.length,
    stepCounts: [...collectedSteps],
    byObjects,
    byBucket,
    byDetail,
    oracleHistogram: histogram,
    oracleDiffersFromMode: 1 - mode / items.length,
    oracleObjectsSpearman: bootstrapInterval(items.length, (idx) =>
      spearman(
        idx.map((k) => items[k].objects),
        idx.map((k) => items[k].oracle),
      ),
    ),
    ...(retestPrompts ? { retest: oracleRetest(items, retestPrompts, oracle, oracleOf) } : {}),
  };
}

/** Each prompt's oracle step: the fewest steps in S whose score ranks top-k among S's scores. */
function oracleSteps(collectedSteps: readonly number[], oracle: OracleSpec): (p: PromptScores) => number {
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
  return (p) =>
    oracle.steps[
      oracleIndex(
        idx.map((i) => p.scores[i]),
        rewardCfg,
      )
    ];
}

function oracleHistogram(steps: readonly number[], oracles: readonly number[]): Record<number, number> {
  const histogram: Record<number, number> = Object.fromEntries(steps.map((s) => [s, 0]));
  for (const o of oracles) histogram[o]++;
  return histogram;
}

/** Compares each prompt's oracle step with the one from the same prompt under another seed. */
function oracleRetest(
  items: readonly { p: PromptScores; oracle: number }[],
  retestPrompts: readonly PromptScores[],
  oracle: OracleSpec,
  oracleOf: (p: PromptScores) => number,
): OracleRetest {
  const other = new Map(retestPrompts.map((p) => [p.prompt, oracleOf(p)]));
  const pairs = items
    .filter((i) => other.has(i.p.prompt))
    .map((i) => [i.oracle, other.get(i.p.prompt) as number]);
  if (pairs.length < 2)
    throw new Error(`the retest collect shares ${pairs.length} prompts with the main one`);
  const agreement = (idx: readonly number[]) => {
    const first = oracleHistogram(
      oracle.steps,
      idx.map((k) => pairs[k][0]),
    );
    const second = oracleHistogram(
      oracle.steps,
      idx.map((k) => pairs[k][1]),
    );
    const n = idx.length;
    return {
      observed: idx.filter((k) => pairs[k][0] === pairs[k][1]).length / n,
      chance: oracle.steps.reduce((acc, s) => acc + (first[s] / n) * (second[s] / n), 0),
    };
  };
  const all = agreement(pairs.map((_, k) => k));
  return {
    prompts: pairs.length,
    agreement: all.observed,
    chanceAgreement: all.chance,
    spearman: spearman(
      pairs.map(([a]) => a),
      pairs.map(([, b]) => b),
    ),
    excessAgreement: bootstrapInterval(pairs.length, (idx) => {
      const a = agreement(idx);
      return a.observed - a.chance;
    }),
  };
}

/** The evidence as a Markdown report. */
export function evidenceMarkdown(e: WorldEvidence): string {
  const s = e.stepCounts;
  const table = <R extends { prompts: number }>(
    title: string,
    label: [string, (r: R) => string | number],
    rows: readonly R[],
    f: (r: R) => Record<number, number>,
    fmt: (v: number) => string,
  ) => [
    `### ${title}`,
    '',
    `| ${label[0]} | prompts | ${s.map((k) => `${k} steps`).join(' | ')} |`,
    `| ---: | ---: | ${s.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${label[1](r)} | ${r.prompts} | ${s.map((k) => fmt(f(r)[k])).join(' | ')} |`),
    '',
  ];
  const objects: [string, (r: ObjectCountRow) => number] = ['objects', (r) => r.objects];
  const details: [string, (r: DetailRow) => string] = ['detail in prompt', (r) => r.detail];
  const score = (v: number) => v.toFixed(3);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const ci = (i: BootstrapInterval, f: (v: number) => string) =>
    `${f(i.estimate)} (${100 * i.level}% CI ${f(i.lower)} to ${f(i.upper)})`;
  const [fewest, most] = [s[0], s[s.length - 1]];
  const from = Object.keys(e.byBucket[0]?.stepGains ?? {}).map(Number);
  const buckets = [
    '### By object count bucket',
    '',
    `| objects | prompts | full success at ${fewest} steps | at ${most} steps | ${from.map((f) => `mean score ${most} minus ${f} steps`).join(' | ')} |`,
    `| ---: | ---: | ---: | ---: | ${from.map(() => '---').join(' | ')} |`,
    ...e.byBucket.map(
      (r) =>
        `| ${r.bucket} | ${r.prompts} | ${pct(r.successRate[fewest])} | ${pct(r.successRate[most])} | ${from.map((f) => ci(r.stepGains[f], score)).join(' | ')} |`,
    ),
    '',
  ];
  const retest = e.retest
    ? [
        `Under a second seed (same ${e.retest.prompts} prompts, other initial noise) the oracle step is the same for ` +
          `${(100 * e.retest.agreement).toFixed(1)}% of prompts, against ${(100 * e.retest.chanceAgreement).toFixed(1)}% ` +
          `for two independent draws from the two histograms; Spearman correlation of the two oracle steps: ` +
          `${e.retest.spearman.toFixed(3)}. Agreement minus chance: ${ci(e.retest.excessAgreement, pct)}.`,
        '',
      ]
    : [];
  return [
    `Held-out prompts: ${e.prompts}.`,
    '',
    ...buckets,
    ...table('Mean judge score', objects, e.byObjects, (r) => r.meanScore, score),
    ...table('Full-success rate', objects, e.byObjects, (r) => r.successRate, pct),
    ...table('Mean judge score by detail', details, e.byDetail, (r) => r.meanScore, score),
    ...table("Judge's detail part (0..1) by detail", details, e.byDetail, (r) => r.detailPart, score),
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
      `Spearman correlation between object count and oracle step: ${ci(e.oracleObjectsSpearman, score)}.`,
    '',
    ...retest,
  ].join('\n');
}
