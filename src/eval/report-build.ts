/**
 * `adadiff eval`: the paper's Sec. 4 on a collect database and a trained policy, written as one
 * report folder (report.json, report.md, index.html, figures as SVG + CSV + JSON, gallery PNGs) and
 * opened in headless Chromium before it counts as done.
 */
import { basename, join, relative, resolve } from 'node:path';
import { type CollectSettings, incompleteWarning, settingsModelDir } from '../collect/store.js';
import { Text2ImagePipeline } from '../pipelines/text2img.js';
import { loadCheckpointSettings } from '../policy/checkpoint.js';
import { qualityScaleWords, type RewardConfig } from '../policy/reward.js';
import { StepSelector } from '../policy/selector.js';
import type { TrainOptions } from '../policy/train.js';
import { loadOnnxRewardScorer, type QualityScorer } from '../quality/index.js';
import { type BrowserCheck, checkReportInBrowser, requireChromium } from '../report/browser-check.js';
import { type ReportData, type Table, updateReadme, writeReport } from '../report/report.js';
import { bootstrapMeanDifference } from '../util/statistics.js';
import { ablationTable } from './report-ablation.js';
import { collectedClipScores } from './report-clip-scores.js';
import { promptSet, readCollected, type SetName, setRows, withDataset } from './report-collected.js';
import { GalleryWriter } from './report-gallery.js';
import { loadMetricNets, type MetricNets, releaseMetricNets } from './report-image-metrics.js';
import { type AdaDiffEntry, evaluateMethods, type MethodsOptions } from './report-methods.js';
import { type OfflineData, oracleActions, outcomeOf, QuickPolicies } from './report-offline.js';
import { richnessFigure } from './report-richness.js';
import { retrainWithSeeds } from './report-seeds.js';
import { summaryTable } from './report-summary.js';
import { methodsTable } from './report-tables.js';
import { FIG5_BUDGETS, FIG5_LAMBDAS, tradeoffFigure } from './report-tradeoff.js';
import type { World } from './world.js';

export interface EvalReportOptions {
  db: string;
  policy: string;
  /** Default: the model the database was collected with. */
  model?: string;
  /** The prompt world of the databases: its judge, object counts and clean renders. */
  world: World;
  /** "world" or an ONNX reward-model folder; default: the database's own scorer when it is the world's. */
  scorer?: string;
  set: SetName;
  out: string;
  randomRuns: number;
  /** Seeds to retrain the policy with; more than one adds a mean ± sd row. */
  seeds?: number[];
  transferDb?: string;
  dpmDb?: string;
  dpmPolicy?: string;
  clip?: string;
  classifier?: string;
  /** Epochs of the policies trained for Table 5 and Figure 5. */
  epochs: number;
  /** Their learning rate; default the given policy's. */
  lr?: number;
  batch: number;
  quick: boolean;
  /** A README whose marked section gets Table 1 and Figure 3. */
  readme?: string;
  commandLine: string[];
  log: (line: string) => void;
  /** Chromium for the closing browser check, required before any work; default Debian's. */
  chromium?: string;
}

/** What a full run uses, and what --quick cuts it to. */
const SIZES = {
  full: { bootstrapResamples: 2000, galleryPerDifficulty: 2, lambdas: FIG5_LAMBDAS, budgets: FIG5_BUDGETS },
  quick: {
    bootstrapResamples: 200,
    galleryPerDifficulty: 1,
    lambdas: [Math.min(...FIG5_LAMBDAS), Math.max(...FIG5_LAMBDAS)],
    budgets: 'middle' as const,
  },
};
/** --quick also caps the random runs and the epochs of every policy trained here. */
const QUICK_RANDOM_RUNS = 2;
const QUICK_EPOCHS = 2;
const CI_LEVEL = 0.95;
const BOOTSTRAP_SEED = 0;
/** The random policy's runs use seeds RANDOM_SEED + r, as `policy evaluate` does. */
const RANDOM_SEED = 1;

/** The scorer asked for, or the database's own when that is the world's judge. */
async function scorerFor(o: EvalReportOptions, settings: CollectSettings): Promise<QualityScorer> {
  if (o.scorer !== undefined) return o.scorer === 'world' ? o.world.scorer : loadOnnxRewardScorer(o.scorer);
  if (settings.scorer === o.world.scorer.name) return o.world.scorer;
  throw new Error(
    `${o.db} was scored by "${settings.scorer}"; give its reward-model folder with --scorer DIR`,
  );
}

/** What the quick policies of Table 5 and Figure 5 are judged against: the given policy's criterion. */
const criterionOf = (r: RewardConfig) =>
  r.kind === 'threshold' ? `score > ${r.threshold}` : `the top-${r.topK}`;

/** A note when a database was collected with another model than the one generating here, or none. */
function otherModel(file: string, settings: CollectSettings, modelDir: string): string[] {
  const collectedWith = settingsModelDir(file, settings);
  return collectedWith === resolve(modelDir)
    ? []
    : [`${file} was collected with ${collectedWith}; the images here come from ${resolve(modelDir)}.`];
}

/** Everything one run of Tables 1, 3 and 4 shares. */
interface Context {
  o: EvalReportOptions;
  modelDir: string;
  pipe: Text2ImagePipeline;
  scorer: QualityScorer;
  scoreName: string;
  nets: MetricNets;
  fidReference: string;
  methods: MethodsOptions;
}

/** Table 3 or 4: fixed steps, random and AdaDiff on another database's prompts. */
async function otherDbTable(
  c: Context,
  file: string,
  selector: StepSelector,
  title: string,
  note: string,
): Promise<Table> {
  const collected = readCollected(file, selector.stepSet);
  const gaps = incompleteWarning(file, collected.incomplete);
  if (gaps) c.o.log(`warning: ${gaps}`);
  const db = await withDataset(file, collected, c.pipe);
  const set = promptSet(db, setRows(db, c.o.set), c.o.batch);
  c.o.log(`${title}: ${set.prompts.length} ${c.o.set} prompts of ${file}`);
  const adadiff = [{ label: 'AdaDiff', selectors: [selector] }];
  const results = await evaluateMethods(c.pipe, c.scorer, c.nets, set, selector.stepSet, adadiff, c.methods);
  return methodsTable(results, {
    title: `${title} (${db.collected.settings.scheduler}, ${basename(file)})`,
    scoreName: c.scoreName,
    nets: c.nets,
    fidReference: c.fidReference,
    notes: [note, ...otherModel(file, db.collected.settings, c.modelDir)],
  });
}

export async function buildEvalReport(o: EvalReportOptions): Promise<{ dir: string; check: BrowserCheck }> {
  requireChromium(o.chromium);
  const size = o.quick ? SIZES.quick : SIZES.full;
  const epochs = o.quick ? Math.min(o.epochs, QUICK_EPOCHS) : o.epochs;
  const given = await loadCheckpointSettings(o.policy);
  const { network, reward, training } = given;
  const steps = reward.steps;
  const selector = await StepSelector.load(o.policy);
  const collected = readCollected(o.db, steps);
  const gaps = incompleteWarning(o.db, collected.incomplete);
  if (gaps) o.log(`warning: ${gaps}`);
  const { settings } = collected;
  const modelDir = o.model ?? settingsModelDir(o.db, settings);
  const pipe = await Text2ImagePipeline.load(modelDir);
  const nets = await loadMetricNets(o.clip, o.classifier);
  try {
    const scorer = await scorerFor(o, settings);
    const world = scorer === o.world.scorer;
    const c: Context = {
      o,
      modelDir,
      pipe,
      scorer,
      scoreName: `Score (${scorer.name})`,
      nets,
      fidReference: world
        ? 'clean renders of the same prompts'
        : `the fixed ${Math.max(...steps)}-step images`,
      methods: {
        randomRuns: o.quick ? Math.min(o.randomRuns, QUICK_RANDOM_RUNS) : o.randomRuns,
        randomSeed: RANDOM_SEED,
        reference: world ? o.world : null,
      },
    };
    const { scoreName } = c;
    const main = await withDataset(o.db, collected, pipe);
    const rows = setRows(main, o.set);
    const set = promptSet(main, rows, o.batch);
    const intro = [
      `Collect database ${o.db}: ${collected.prompts.length} prompts scored by ${settings.scorer}, ` +
        `${settings.scheduler}, S = {${steps.join(', ')}}; model ${relative(process.cwd(), resolve(modelDir)) || '.'}.`,
      `Policy ${o.policy}: reward ${reward.kind} (k = ${reward.topK}, lambda ${reward.lambda}, gamma ${reward.gamma}, ` +
        `Q ${qualityScaleWords(reward)}), ` +
        `${training.epochs} epochs of ${training.gradient}, seed ${training.seed}.`,
      `Tables 1, 3 and 4 generate the ${o.set} prompts with every method in this one process, from the seeds collect ` +
        'used; times are measured wall time (text encoding, denoising, decoding, and for AdaDiff the policy).',
      `Command: ${o.commandLine.join(' ')}${o.quick ? ' (--quick: reduced sizes, for tests)' : ''}`,
    ];
    intro.push(...otherModel(o.db, settings, modelDir));
    if (scorer.name !== settings.scorer)
      intro.push(
        `Generated images are scored by ${scorer.name}, the collected ones (Table 5, Figure 5) by ${settings.scorer}.`,
      );

    const adadiff: AdaDiffEntry[] = [{ label: 'AdaDiff', selectors: [selector] }];
    const seeds = o.seeds ?? [training.seed];
    if (seeds.length > 1) {
      const seedEpochs = o.quick ? Math.min(training.epochs, epochs) : training.epochs;
      const dir = join(o.out, 'policies');
      const selectors = await retrainWithSeeds(main, given, seeds, seedEpochs, dir, o.commandLine, o.log);
      adadiff.push({ label: `AdaDiff, retrained (seeds ${seeds.join(', ')})`, selectors });
    }

    o.log(`Table 1: ${set.prompts.length} ${o.set} prompts`);
    const gallery = new GalleryWriter(o.out, set.prompts, size.galleryPerDifficulty, o.world);
    const table1 = await evaluateMethods(pipe, scorer, nets, set, steps, adadiff, {
      ...c.methods,
      onFixedRun: (s, run) => gallery.addRun(s, run),
    });
    const tables = [
      methodsTable(table1, {
        title: `Table 1. Fixed step counts, a random policy and AdaDiff (${settings.scheduler}, ${basename(o.db)})`,
        scoreName,
        nets,
        fidReference: c.fidReference,
      }),
    ];

    const ada = table1.find((r) => r.row.method === 'AdaDiff')!;
    const top = table1[steps.length - 1];
    const chosen = ada.row.perPrompt.map((p) => p.steps);
    const ci = bootstrapMeanDifference(
      ada.row.perPrompt.map((p) => p.score),
      top.row.perPrompt.map((p) => p.score),
      { resamples: size.bootstrapResamples, level: CI_LEVEL, seed: BOOTSTRAP_SEED },
    );
    const offline: OfflineData = { data: main.data, split: main.split, steps, success: collected.success };
    const oracle = outcomeOf(offline, rows, oracleActions(offline, rows, reward));
    const richness = richnessFigure(set.prompts, chosen, o.world);
    tables.push(
      summaryTable({
        ada,
        top,
        ci,
        oracle,
        criterion: criterionOf(reward),
        richness,
        prompts: set.prompts.length,
        scoreName,
      }),
    );

    if (o.dpmDb && o.dpmPolicy) {
      const note = `Policy ${o.dpmPolicy} on the ${o.set} prompts of ${o.dpmDb}.`;
      tables.push(
        await otherDbTable(c, o.dpmDb, await StepSelector.load(o.dpmPolicy), 'Table 3. DPM-Solver++', note),
      );
    } else
      intro.push(
        'Table 3 (DPM-Solver++) omitted: run `adadiff collect --scheduler dpm --db DPM.sqlite ...`, then ' +
          '`adadiff policy train --db DPM.sqlite --out DPM-POLICY ...`, and pass --dpm-db DPM.sqlite --dpm-policy DPM-POLICY.',
      );
    if (o.transferDb) {
      const note = `Zero-shot transfer: the policy trained on ${o.db}, unchanged, on the ${o.set} prompts of ${o.transferDb}.`;
      tables.push(await otherDbTable(c, o.transferDb, selector, 'Table 4. Zero-shot transfer', note));
    } else
      intro.push(
        'Table 4 (zero-shot transfer) omitted: pass --transfer-db OTHER.sqlite, e.g. the other dialect.',
      );

    const testRows = main.split.test;
    if (testRows.length === 0) throw new Error(`${o.db}: the test set is empty; collect more prompts`);
    o.log(
      `Table 5 and Figure 5: policies trained on ${main.split.train.length} prompts, ${epochs} epochs each`,
    );
    const options: TrainOptions = {
      ...training,
      gradient: 'exact',
      epochs,
      learningRate: o.lr ?? training.learningRate,
    };
    const policies = new QuickPolicies(offline, { network, options }, testRows);
    const clip = await collectedClipScores(pipe, nets, main, steps, o.batch);
    tables.push(
      await ablationTable(offline, policies, {
        base: reward,
        scoreName,
        clip,
        clipInDomain: nets.clipInDomain,
        rows: testRows,
        setName: 'test',
        training: options,
      }),
    );
    const fig5 = await tradeoffFigure(offline, policies, {
      base: reward,
      rows: testRows,
      scoreName,
      lambdas: size.lambdas,
      budgets: size.budgets,
    });

    const report: ReportData = {
      title: 'AdaDiff evaluation',
      intro,
      tables,
      figures: [richness.figure, fig5],
      gallery: gallery.picked.length > 0 ? gallery.gallery(steps, chosen) : undefined,
    };
    const files = await writeReport(o.out, report);
    if (o.readme) await updateReadme(o.readme, o.out, report, files);
    const check = await checkReportInBrowser(files.html, { executablePath: o.chromium });
    if (check.problems.length > 0)
      throw new Error(`the report at ${files.html} did not render:\n  ${check.problems.join('\n  ')}`);
    return { dir: o.out, check };
  } finally {
    await releaseMetricNets(nets);
    await pipe.model.release();
  }
}
