import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import {
  chart,
  fig3Spec,
  fig5Spec,
  panels,
  renderSvg,
  type StepsByRichnessRow,
  type TradeoffRow,
  toCsv,
  writeFigure,
} from '../../src/report/plots.js';

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-figures-test-'));
after(() => rm(tmp, { recursive: true, force: true }));

/** How many marks of one kind the SVG draws; Vega labels each drawn mark with its role. */
function marks(svg: string, role: string): number {
  return svg.split(`aria-roledescription="${role}"`).length - 1;
}

const fig3Rows: StepsByRichnessRow[] = [
  { measure: 'words', bin: '1-5', meanSteps: 18, sd: 4, prompts: 12 },
  { measure: 'words', bin: '6-10', meanSteps: 26, sd: 6, prompts: 20 },
  { measure: 'words', bin: '11+', meanSteps: 37, sd: 5, prompts: 9 },
  { measure: 'objects', bin: '1', meanSteps: 15, sd: 3, prompts: 10 },
  { measure: 'objects', bin: '2', meanSteps: 30, sd: 7, prompts: 11 },
];

const fig5Rows: TradeoffRow[] = [
  ...[1, 2, 3, 4, 5].map(
    (k): TradeoffRow => ({
      sweep: 'k',
      series: 'AdaDiff',
      setting: k,
      meanSteps: 40 - 4 * k,
      quality: 0.45 - 0.02 * k,
    }),
  ),
  { sweep: 'k', series: 'Random policy', setting: null, meanSteps: 20, quality: 0.3 },
  { sweep: 'k', series: 'Random policy', setting: null, meanSteps: 30, quality: 0.35 },
  { sweep: 'k', series: 'Oracle', setting: null, meanSteps: 22, quality: 0.47 },
  { sweep: 'lambda', series: 'AdaDiff', setting: 1, meanSteps: 24, quality: 0.39 },
  { sweep: 'lambda', series: 'AdaDiff', setting: 2, meanSteps: 28, quality: 0.41 },
  { sweep: 'lambda', series: 'Random policy', setting: null, meanSteps: 30, quality: 0.35 },
];

test('Figure 3: one bar and one error bar per bin, both panels titled', async () => {
  const svg = await renderSvg(fig3Spec(fig3Rows));
  assert.ok(svg.startsWith('<svg'));
  for (const title of ['Number of words', 'Number of objects', 'Mean steps'])
    assert.ok(svg.includes(title), title);
  assert.equal(marks(svg, 'bar'), fig3Rows.length);
  assert.equal(marks(svg, 'errorbar'), fig3Rows.length);
  // Bins in the rows' order, not sorted as text ("11+" would come first).
  assert.ok(svg.indexOf('>1-5<') < svg.indexOf('>6-10<') && svg.indexOf('>6-10<') < svg.indexOf('>11+<'));
});

test('Figure 5: a line per policy and panel, a point per row, a label per setting', async () => {
  const svg = await renderSvg(fig5Spec(fig5Rows, 'Mean judge score'));
  for (const title of [
    'Mean steps',
    'Mean judge score',
    'Varying top-k',
    'Varying the image reward weight λ',
  ])
    assert.ok(svg.includes(title), title);
  assert.equal(marks(svg, 'line mark'), 5); // k: AdaDiff, random, oracle; lambda: AdaDiff, random
  assert.equal(marks(svg, 'point'), fig5Rows.length);
  assert.equal(marks(svg, 'text mark'), fig5Rows.filter((r) => r.setting !== null).length);
  for (const label of ['k=1', 'k=5', 'λ=1', 'λ=2']) assert.ok(svg.includes(`>${label}<`), label);
  for (const series of ['AdaDiff', 'Random policy', 'Oracle']) assert.ok(svg.includes(`>${series}<`), series);
});

test('grouped bars: one bar per row, offset by series', async () => {
  const rows = ['a', 'b'].flatMap((x) => ['s', 't', 'u'].map((s, i) => ({ x, s, v: i + 1 })));
  const svg = await renderSvg(
    panels('Grouped', [
      chart(rows, {
        mark: 'bar',
        x: { field: 'x', title: 'Group' },
        y: { field: 'v', title: 'Value' },
        series: { field: 's', title: 'Series', domain: ['s', 't', 'u'], colors: ['#111', '#555', '#999'] },
      }),
    ]),
  );
  assert.equal(marks(svg, 'bar'), rows.length);
  assert.ok(svg.includes('>Group<') && svg.includes('>Value<'));
});

test('CSV round-trips awkward text and empty values', () => {
  const rows = [
    { name: 'plain', text: 'a, b', n: 1.5, maybe: null },
    { name: 'quoted "x"', text: 'line 1\nline 2', n: -2, maybe: 'there' },
  ];
  const back = parse(toCsv(rows), { columns: true, cast: true });
  assert.deepEqual(
    back,
    rows.map((r) => ({ ...r, maybe: r.maybe ?? '' })),
  );
});

test('writeFigure writes the SVG with the data as CSV and JSON beside it', async () => {
  const files = await writeFigure(tmp, 'fig3', fig3Spec(fig3Rows), fig3Rows);
  assert.deepEqual(files, { svg: 'fig3.svg', csv: 'fig3.csv', json: 'fig3.json' });
  assert.ok((await readFile(join(tmp, files.svg), 'utf8')).includes('Number of objects'));
  assert.deepEqual(JSON.parse(await readFile(join(tmp, files.json), 'utf8')), fig3Rows);
  const asText = fig3Rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));
  assert.deepEqual(parse(await readFile(join(tmp, files.csv)), { columns: true }), asText);
});
