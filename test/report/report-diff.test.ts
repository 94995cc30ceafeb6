import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ReportData } from '../../src/report/report.js';
import { diffReports } from '../../src/report/report-diff.js';
import { runCli } from '../cli/run-cli.js';
import { sampleReport } from './sample-report.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-report-diff-'));
after(() => rmSync(root, { recursive: true, force: true }));

function copy(r: ReportData): ReportData {
  return JSON.parse(JSON.stringify(r));
}

test('a report compared with itself, or with other measured times, has no differences', async () => {
  const a = await sampleReport(join(root, 'a'));
  a.tables[0].columns[2].timing = true;
  const b = copy(a);
  (b.tables[0].rows[1] as number[])[2] = 9.99;
  const d = diffReports(a, b);
  assert.deepEqual(d.differences, []);
  // 4 data rows of 5 cells, a section, 2x3 cells, 7 + 15 figure rows, 3 gallery rows.
  assert.equal(d.skipped, 4);
  assert.equal(d.compared, 16 + 1 + 6 + 7 + 15 + 3);
});

test('every changed cell, figure point or gallery choice is named', async () => {
  const a = await sampleReport(join(root, 'b'));
  const b = copy(a);
  (b.tables[0].rows[4] as number[])[3] = 0.5;
  b.tables[1].rows.push(['step + clip', '✓', 20]);
  (b.figures[1].rows[0] as { quality: number }).quality += 1e-9;
  b.gallery!.rows[2].chosen = 40;
  const d = diffReports(a, b);
  assert.deepEqual(d.differences, [
    'table "Table 1. AdaDiff against fixed steps and a random policy", row 5 ("AdaDiff"), column "Judge": 0.412 against 0.5',
    'table "Table 5. Reward functions": 2 rows against 3',
    'figure fig5, row 1 differs',
    'the galleries show other prompts or choices',
  ]);
  // A timing row of either report is skipped.
  b.tables[0].timingRows = [4];
  assert.equal(diffReports(a, b).differences.length, 3);
});

test('adadiff diff-reports exits 1 on differences, 2 on a malformed report', async () => {
  const a = await sampleReport(join(root, 'c'));
  const b = copy(a);
  (b.tables[1].rows[0] as (string | number)[])[2] = 18.2;
  writeFileSync(join(root, 'a.json'), JSON.stringify(a));
  writeFileSync(join(root, 'b.json'), JSON.stringify(b));
  writeFileSync(join(root, 'bad.json'), JSON.stringify({ tables: [{ title: 1 }], figures: [] }));
  const same = runCli(['diff-reports', join(root, 'a.json'), join(root, 'a.json')]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /^0 differences in 52 values compared/m);
  const differ = runCli(['diff-reports', join(root, 'a.json'), join(root, 'b.json')]);
  assert.equal(differ.code, 1);
  assert.match(differ.stdout, /column "Step": 18\.12 against 18\.2/);
  const bad = runCli(['diff-reports', join(root, 'a.json'), join(root, 'bad.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad\.json: tables\.0\.title: /);
});
