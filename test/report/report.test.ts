import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeReport } from '../../src/report/report.js';
import { sampleReport } from './sample-report.js';

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-report-test-'));
after(() => rm(tmp, { recursive: true, force: true }));

const dir = join(tmp, 'report');
const report = await sampleReport(dir);
const files = await writeReport(dir, report);
const md = await readFile(files.markdown, 'utf8');
const html = await readFile(files.html, 'utf8');

test('writes the data as JSON, and every figure as SVG, CSV and JSON', async () => {
  assert.deepEqual(JSON.parse(await readFile(files.json, 'utf8')), JSON.parse(JSON.stringify(report)));
  for (const name of ['fig3', 'fig5'])
    for (const ext of ['svg', 'csv', 'json'])
      assert.ok(existsSync(join(dir, `${name}.${ext}`)), `${name}.${ext}`);
});

test('Markdown: tables with arrows, units, sections, digits and the in-domain label', () => {
  assert.ok(md.includes('| Method | Step↓ | Time↓ (s) | Judge↑ *(in-domain)* | CLIP↑ |'));
  assert.ok(md.includes('| --- | ---: | ---: | ---: | ---: |'));
  assert.ok(md.includes('| **Shapes, terse** |  |  |  |  |'));
  assert.ok(md.includes('| Random | 30.03 | 1.41 | 0.354 | - |'));
  assert.ok(md.includes('| SD | 50.00 | 2.24 | 0.419 | 0.314 |'));
  assert.ok(md.includes('- *in-domain*: the world judge also scored the policy during training.'));
  // Only Table 1 has an in-domain column.
  assert.equal(md.split('*in-domain*:').length - 1, 1);
  assert.ok(md.includes('![Figure 3. Mean chosen steps by number of words and of objects](fig3.svg)'));
  assert.ok(md.includes('[CSV](fig5.csv)'));
  assert.ok(md.includes('a \\<small\\> yellow star'));
  assert.equal(md.split(') **chosen**').length - 1, report.gallery!.rows.length);
  assert.ok(md.includes('![30 steps](p1-30.png) **chosen**'));
});

test('HTML: figures as SVG images, the in-domain column labelled, the choice bordered', () => {
  assert.ok(html.includes('<img src="fig3.svg"'));
  assert.ok(html.includes('<img src="fig5.svg"'));
  assert.match(html, /<th class="in-domain">Judge↑<span class="badge"[^>]*>in-domain<\/span><\/th>/);
  // The column's 4 values and its header are tinted, not only the header.
  assert.equal(html.split('class="num in-domain"').length - 1, 4);
  // An empty cell of a numeric column aligns with its numbers.
  assert.ok(html.includes('<td class="num">-</td>'));
  assert.equal(html.split('<figure class="chosen">').length - 1, report.gallery!.rows.length);
  assert.ok(html.includes('<figure class="chosen"><img src="p2-50.png"'));
  assert.ok(html.includes('a &lt;small&gt; yellow star above three purple circles &amp; a red square'));
  for (const d of ['easy', 'medium', 'hard']) assert.ok(html.includes(`<th colspan="6">${d}</th>`), d);
});

test('refuses a report it cannot write right, writing nothing', async () => {
  const out = join(tmp, 'bad');
  const g = report.gallery!;
  const bad = {
    ...report,
    figures: [{ ...report.figures[0], name: 'fig 3' }],
    tables: [{ ...report.tables[1], rows: [['only one cell']] }],
    gallery: {
      ...g,
      rows: [{ ...g.rows[0], chosen: 15, images: { ...g.rows[0].images, 20: 'missing.png' } }],
    },
  };
  await assert.rejects(writeReport(out, bad), (e: Error) => {
    for (const what of ['"fig 3"', '1 cells for 3 columns', 'chosen 15', 'missing.png'])
      assert.ok(e.message.includes(what), what);
    return true;
  });
  assert.equal(existsSync(out), false);
});
