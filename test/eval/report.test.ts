import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerEval } from '../../src/cli/eval.js';
import { policyDataset } from '../../src/collect/dataset.js';
import { readCollected } from '../../src/eval/report-collected.js';
import { richnessFigure } from '../../src/eval/report-richness.js';
import { GraphBuilder } from '../../src/models/onnx-graph.js';
import { Text2ImagePipeline } from '../../src/pipelines/text2img.js';
import { saveCheckpoint } from '../../src/policy/checkpoint.js';
import { dataHash, splitByPrompt } from '../../src/policy/dataset.js';
import { networkConfig } from '../../src/policy/network.js';
import type { RewardConfig } from '../../src/policy/reward.js';
import { TRAIN_DEFAULTS, type TrainOptions, trainPolicy } from '../../src/policy/train.js';
import type { ReportData, Table } from '../../src/report/report.js';
import { Rng } from '../../src/util/random.js';
import { bootstrapMeanDifference } from '../../src/util/statistics.js';
import { worldPromptSet } from '../../src/worlds/shapes/prompt-sets.js';
import { shapesWorld } from '../../src/worlds/shapes/world.js';
import { runCli } from '../cli/run-cli.js';
import { buildTinySdFolder, SD21_SKELETON } from '../fixtures/tiny-sd.js';

const CI = { resamples: 500, level: 0.95, seed: 3 };

test('bootstrap: identical samples give a zero-width interval at 0', () => {
  const a = Array.from({ length: 30 }, (_, i) => Math.sin(i));
  const ci = bootstrapMeanDifference(a, [...a], CI);
  assert.deepEqual([ci.estimate, ci.lower, ci.upper], [0, 0, 0]);
});

test('bootstrap: a shifted sample gives an interval around the shift that excludes 0', () => {
  const rng = new Rng(7);
  const b = Array.from({ length: 40 }, () => rng.normal());
  const a = b.map((x) => x + 0.5 + 0.2 * rng.normal());
  const ci = bootstrapMeanDifference(a, b, CI);
  assert.ok(ci.lower > 0 && ci.lower < ci.estimate && ci.estimate < ci.upper, JSON.stringify(ci));
  assert.ok(Math.abs(ci.estimate - 0.5) < 0.15);
  assert.deepEqual(bootstrapMeanDifference(a, b, CI), ci, 'same seed, same interval');
  assert.throws(() => bootstrapMeanDifference(a, b.slice(1), CI), /40 values paired with 39/);
});

test('Figure 3: mean steps by words and by objects, and Spearman rho against the chosen steps', () => {
  const prompts = worldPromptSet(40, 'terse').map((p) => p.text);
  const objects = prompts.map((p) => shapesWorld.objectCount(p) as number);
  const r = richnessFigure(
    prompts,
    objects.map((o) => 10 * o),
    shapesWorld,
  );
  assert.ok(Math.abs(r.objectsRho! - 1) < 1e-12 && r.wordsRho! > 0, 'more objects, more steps');
  const byObjects = r.figure.rows.filter((row) => row.measure === 'objects');
  for (const row of byObjects) assert.deepEqual([row.meanSteps, row.sd], [10 * Number(row.bin), 0]);
  for (const measure of ['words', 'objects'])
    assert.equal(
      r.figure.rows
        .filter((row) => row.measure === measure)
        .reduce((n, row) => n + (row.prompts as number), 0),
      prompts.length,
    );
  const constant = richnessFigure(
    prompts,
    prompts.map(() => 20),
    shapesWorld,
  );
  assert.equal(constant.objectsRho, null);
  assert.match(constant.notes.join(' '), /undefined: the policy chose one step count for every prompt/);
});

// The whole evaluation on a tiny model (32x32 images) at S = {1, 2, 3}, in well under a minute.
const root = mkdtempSync(join(tmpdir(), 'adadiff-eval-'));
after(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'model');
const db = join(root, 'terse.sqlite');
const transferDb = join(root, 'verbose.sqlite');
const dpmDb = join(root, 'dpm.sqlite');
const policy = join(root, 'policy');
const classifier = join(root, 'classifier');
const clip = join(root, 'clip');
const out = join(root, 'report');
const readme = join(root, 'README.md');

function writePrompts(file: string, n: number, dialect: 'terse' | 'verbose') {
  writeFileSync(
    file,
    worldPromptSet(n, dialect)
      .map((p) => JSON.stringify({ prompt: p.text }))
      .join('\n'),
  );
}

function collect(prompts: string, file: string, scheduler = 'ddim') {
  const args = ['--model', model, '--steps', '1,2,3', '--batch', '16', '--scheduler', scheduler];
  const res = runCli(['collect', '--prompts', prompts, '--db', file, ...args]);
  assert.equal(res.code, 0, res.stderr);
}

/** A classifier folder: features = channel means of an 8x8 image, logits = features · W; marked as the world's own. */
function buildClassifier(dir: string) {
  const g = new GraphBuilder('tiny_classifier');
  const x = g.input('pixel_values', 'float32', ['batch', 3, 8, 8]);
  const pooled = g.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  g.output('features', 'float32', ['batch', 3], pooled);
  const w = Float32Array.of(3, -2, 0.5, 1, 0, 1, -1, 2, 0.25, 1, 1, -0.5);
  g.output('logits', 'float32', ['batch', 4], g.node('MatMul', [pooled, g.initializer('w', w, [3, 4])]));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), g.build());
  const preprocess = {
    image_size: 8,
    resize: 'nearest',
    crop: 'none',
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(preprocess));
  writeFileSync(join(dir, 'network.json'), JSON.stringify({ kind: 'shapes-classifier' }));
}

/** A CLIP folder: image embedding = channel means, text embedding = mean token id · (1, -1, 0.5). */
function buildClip(dir: string) {
  const image = new GraphBuilder('tiny_clip_image');
  const pixels = image.input('pixel_values', 'float32', ['batch', 3, 8, 8]);
  image.output(
    'image_embeds',
    'float32',
    ['batch', 3],
    image.node('ReduceMean', [pixels], { axes: [2, 3], keepdims: 0 }),
  );
  const text = new GraphBuilder('tiny_clip_text');
  const ids = text.node('Cast', [text.input('input_ids', 'int64', ['batch', 'sequence'])], { to: 1 });
  const meanId = text.node('ReduceMean', [ids], { axes: [1], keepdims: 1 });
  const direction = text.initializer('direction', Float32Array.of(1, -1, 0.5), [1, 3]);
  text.output('text_embeds', 'float32', ['batch', 3], text.node('MatMul', [meanId, direction]));
  mkdirSync(join(dir, 'tokenizer'), { recursive: true });
  writeFileSync(join(dir, 'image_model.onnx'), image.build());
  writeFileSync(join(dir, 'text_model.onnx'), text.build());
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ image_size: 8, resize: 'nearest', crop: 'none' }));
  writeFileSync(join(dir, 'network.json'), JSON.stringify({ kind: 'shapes-clip' }));
  for (const f of ['vocab.json', 'merges.txt', 'special_tokens_map.json', 'tokenizer_config.json'])
    copyFileSync(join(SD21_SKELETON, 'tokenizer', f), join(dir, 'tokenizer', f));
}

/**
 * A policy as `policy train` writes it, with a narrow one-layer network: eval retrains the given
 * policy's network a dozen times, which the default size would make take minutes here.
 */
async function trainTinyPolicy() {
  const steps = [1, 2, 3];
  const pipe = await Text2ImagePipeline.load(model);
  const data = await policyDataset(pipe, readCollected(db, steps).prompts);
  await pipe.model.release();
  const network = networkConfig(data.dims.l, data.dims.d, steps.length, {
    width: 16,
    heads: 2,
    layers: 1,
    mlpRatio: 2,
  });
  const reward: RewardConfig = { kind: 'topk', steps, lambda: 2, topK: 3, gamma: 2, threshold: 0 };
  const training: TrainOptions = {
    ...TRAIN_DEFAULTS,
    epochs: 3,
    batchSize: 16,
    learningRate: 3e-3,
    gradient: 'exact',
  };
  const state = await trainPolicy({ data, split: splitByPrompt(data), reward, network, options: training });
  saveCheckpoint(policy, {
    network,
    reward,
    training,
    dataHash: dataHash(data),
    commandLine: ['test'],
    state,
  });
}

/** `adadiff eval ARGS` in this process. */
async function adadiffEval(args: string[]) {
  const program = new Command('adadiff').exitOverride();
  registerEval(program);
  await program.parseAsync(['eval', ...args], { from: 'user' });
}

const table = (r: ReportData, title: RegExp) => r.tables.find((t) => title.test(t.title));
const column = (t: Table, title: string) => t.columns.findIndex((c) => c.title === title);
const rowsOf = (t: Table) => t.rows as (string | number | null)[][];

describe('adadiff eval --quick', () => {
  before(async () => {
    await buildTinySdFolder(model, { sampleSize: 4 });
    writePrompts(join(root, 'terse.jsonl'), 60, 'terse');
    writePrompts(join(root, 'verbose.jsonl'), 30, 'verbose');
    collect(join(root, 'terse.jsonl'), db);
    collect(join(root, 'verbose.jsonl'), transferDb);
    collect(join(root, 'verbose.jsonl'), dpmDb, 'dpm');
    await trainTinyPolicy();
    buildClassifier(classifier);
    buildClip(clip);
    // Tables 1, 3 and 4 on the val prompts (3 each here), Table 5 and Figure 5 on the test split. The
    // terse policy stands in for one trained on the DPM-Solver++ database: any policy over S will do.
    const flags = `--db ${db} --policy ${policy} --out ${out} --quick --seeds 0,1 --random-runs 2 --set val`;
    const extras = `--transfer-db ${transferDb} --dpm-db ${dpmDb} --dpm-policy ${policy}`;
    const nets = `--clip ${clip} --classifier ${classifier}`;
    writeFileSync(
      readme,
      '# Project\n\n<!-- adadiff eval: start -->\nold\n<!-- adadiff eval: end -->\n\nAfter.\n',
    );
    await adadiffEval(`${flags} ${extras} ${nets} --readme ${readme}`.split(' '));
  });

  test('eval --readme puts Table 1 and Figure 3 between the README markers', () => {
    const text = readFileSync(readme, 'utf8');
    assert.ok(text.startsWith('# Project\n\n<!-- adadiff eval: start -->\n'));
    assert.ok(text.endsWith('<!-- adadiff eval: end -->\n\nAfter.\n'));
    assert.ok(!text.includes('\nold\n'));
    assert.match(text, /### Table 1\. Fixed step counts/);
    assert.match(text, /\| AdaDiff \|/);
    assert.match(text, /!\[Figure 3\.[^\]]*\]\(report\/fig3-steps-by-richness\.svg\)/);
  });

  test('eval --quick writes Table 1 with every method and the image metrics', () => {
    const report: ReportData = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const t1 = table(report, /^Table 1\. /)!;
    assert.deepEqual(
      rowsOf(t1).map((r) => r[0]),
      [
        'Fixed 1 steps',
        'Fixed 2 steps',
        'Fixed 3 steps',
        'Random policy',
        'AdaDiff',
        'AdaDiff, retrained (seeds 0, 1)',
      ],
    );
    assert.deepEqual(
      rowsOf(t1).map((r) => r[column(t1, 'Runs')]),
      [1, 1, 1, 2, 1, 2],
    );
    const steps = rowsOf(t1).map((r) => r[column(t1, 'Steps')] as number);
    assert.deepEqual(steps.slice(0, 3), [1, 2, 3]);
    for (const s of steps.slice(3)) assert.ok(s >= 1 && s <= 3);
    for (const name of ['Time', 'Score (shapes-judge)', 'Full success', 'CLIP', 'IS', 'FID'])
      for (const r of rowsOf(t1)) assert.equal(typeof r[column(t1, name)], 'number', `${name} of ${r[0]}`);
    assert.ok(t1.columns[column(t1, 'CLIP')].inDomain && t1.columns[column(t1, 'FID')].inDomain);
    assert.ok(rowsOf(t1).every((r) => r[column(t1, 'NIQE')] === null));
    assert.ok(t1.notes!.some((n) => /NIQE needs images of at least 96x96/.test(n)));
    assert.ok(t1.notes!.some((n) => /FID against clean renders/.test(n)));
    for (const seed of [0, 1]) assert.ok(existsSync(join(out, 'policies', `seed-${seed}`, 'policy.json')));

    const summary = table(report, /^Summary/)!;
    const ci = rowsOf(summary).find((r) => /bootstrap CI/.test(String(r[0])))!;
    assert.ok((ci[2] as number) <= (ci[1] as number) && (ci[1] as number) <= (ci[3] as number));
    const oracle = rowsOf(summary).find((r) => /Oracle mean steps/.test(String(r[0])))!;
    assert.ok((oracle[1] as number) >= 1 && (oracle[1] as number) <= 3);

    assert.ok(table(report, /^Table 4\. Zero-shot transfer \(ddim, verbose.sqlite\)/));
    const t3 = table(report, /^Table 3\. DPM-Solver\+\+ \(dpm, dpm.sqlite\)/)!;
    assert.equal(t3.rows.length, 5, 'fixed 1, 2, 3, random, AdaDiff');
  });

  test('eval reports Figure 3 with Spearman rho, Table 5 and Figure 5 from the collected scores', () => {
    const report: ReportData = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const fig3 = report.figures.find((f) => f.name === 'fig3-steps-by-richness')!;
    const measures = new Set(fig3.rows.map((r) => r.measure));
    assert.deepEqual([...measures], ['words', 'objects']);
    for (const r of fig3.rows) assert.ok((r.meanSteps as number) >= 1 && (r.prompts as number) >= 1);
    const summary = rowsOf(table(report, /^Summary/)!);
    const rho = summary.find((r) => /objects vs chosen steps/.test(String(r[0])))![1];
    // Measured, whatever it is: a rank correlation, or undefined (with the reason) when the steps are constant.
    if (rho === null) assert.match(JSON.stringify(report), /Spearman's rho \(object count\) is undefined/);
    else assert.ok(Math.abs(rho as number) <= 1);
    assert.match(fig3.caption, /Spearman's rho: objects vs steps (-?\d\.\d{3}|undefined)/);

    const t5 = table(report, /^Table 5\./)!;
    assert.deepEqual(
      rowsOf(t5).map((r) => `${r[0]} / ${r[1]}`),
      [
        'Step only / -',
        'Step + Score (shapes-judge) / top-3 of 3',
        'Step + Score (shapes-judge) / score > 0',
        'Step + Score (shapes-judge), absolute, gamma 1 / top-3 of 3',
        'Step + CLIP / top-3 of 3',
      ],
    );
    for (const r of rowsOf(t5)) assert.ok(r.slice(2).every((v) => typeof v === 'number'));

    const fig5 = report.figures.find((f) => f.name === 'fig5-tradeoff')!;
    const settings = (sweep: string, series: string) =>
      fig5.rows.filter((r) => r.sweep === sweep && r.series === series).map((r) => r.setting);
    assert.deepEqual(settings('k', 'AdaDiff'), [1, 2, 3]);
    assert.deepEqual(settings('lambda', 'AdaDiff'), [0.5, 4]);
    assert.deepEqual(settings('k', 'Oracle'), [1, 2, 3]);
    assert.ok(settings('k', 'Random policy').length >= 3);
    // The budget panel: one policy for a mean halfway across S, beside each fixed count and the oracle.
    const budget = fig5.rows.filter((r) => r.sweep === 'budget');
    const middle = settings('budget', 'AdaDiff');
    assert.equal(middle.length, 1);
    assert.deepEqual(settings('budget', 'Oracle'), middle);
    assert.equal(settings('budget', 'Fixed steps').length, settings('k', 'AdaDiff').length);
    const adadiff = budget.find((r) => r.series === 'AdaDiff')!;
    assert.ok(
      Math.abs(Number(adadiff.meanSteps) - Number(middle[0])) < 0.5 * Number(middle[0]),
      `${adadiff.meanSteps}`,
    );
    for (const f of ['fig3-steps-by-richness', 'fig5-tradeoff'])
      for (const ext of ['svg', 'csv', 'json'])
        assert.ok(existsSync(join(out, `${f}.${ext}`)), `${f}.${ext}`);
  });

  test('eval writes the gallery PNGs and a page that renders', () => {
    const report: ReportData = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const g = report.gallery!;
    assert.deepEqual(g.steps, [1, 2, 3]);
    assert.ok(g.rows.length >= 1);
    for (const r of g.rows) {
      assert.ok(g.steps.includes(r.chosen));
      for (const s of g.steps) {
        const png = readFileSync(join(out, r.images[s]));
        assert.equal(png.subarray(1, 4).toString(), 'PNG');
        assert.equal(png.readUInt32BE(16), 128, 'a 32px image enlarged 4x');
      }
    }
    // eval itself fails when the headless browser finds a problem; its screenshot shows it ran.
    assert.ok(existsSync(join(out, 'screenshot.png')) && existsSync(join(out, 'index.html')));
  });

  test('the same flags give the same numbers, measured seconds aside', async () => {
    const again = join(root, 'again');
    await adadiffEval(
      `--db ${db} --policy ${policy} --out ${again} --quick --random-runs 2 --set val`.split(' '),
    );
    const [a, b] = [out, again].map(
      (dir): ReportData => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')),
    );
    const measured = (r: ReportData, title: RegExp, columns: string[], n: number) => {
      const t = table(r, title)!;
      return rowsOf(t)
        .slice(0, n)
        .map((row) => columns.map((c) => row[column(t, c)]));
    };
    const t1 = ['Method', 'Runs', 'Steps', 'Score (shapes-judge)', '± sd over runs', 'Full success'];
    assert.deepEqual(measured(b, /^Table 1\. /, t1, 5), measured(a, /^Table 1\. /, t1, 5));
    const t5 = ['Reward', 'High quality', 'Steps', 'Score (shapes-judge)', 'Full success'];
    assert.deepEqual(measured(b, /^Table 5\./, t5, 3), measured(a, /^Table 5\./, t5, 3));
    assert.deepEqual(
      b.figures.map((f) => f.rows),
      a.figures.map((f) => f.rows),
    );
  });
});
