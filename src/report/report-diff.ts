/**
 * Whether a regenerated report says what the committed one says: every table cell, figure data
 * point and gallery choice, except wall-clock measurements (columns and rows marked `timing`),
 * which no two runs share. Intro paragraphs are not compared (they name paths and dates).
 */
import { type Cell, isSection, type ReportData, type Table } from './report-data.js';

export interface ReportDiff {
  /** Values compared, timing excluded. */
  compared: number;
  /** Timing values skipped. */
  skipped: number;
  /** One line per difference, naming the table or figure, the row and the column. */
  differences: string[];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function rowLabel(t: Table, i: number): string {
  const r = t.rows[i];
  return isSection(r) ? `section "${r.section}"` : `row ${i + 1} ("${r[0]}")`;
}

function diffTable(a: Table, b: Table, out: ReportDiff): void {
  const where = `table "${a.title}"`;
  const titles = (t: Table) => t.columns.map((c) => [c.title, c.unit]);
  if (!same(titles(a), titles(b))) {
    out.differences.push(`${where}: columns differ`);
    return;
  }
  if (a.rows.length !== b.rows.length) {
    out.differences.push(`${where}: ${a.rows.length} rows against ${b.rows.length}`);
    return;
  }
  // Either report's marks count, so a report made before a column was marked still compares.
  const timingRows = new Set([...(a.timingRows ?? []), ...(b.timingRows ?? [])]);
  const timingColumn = a.columns.map((c, j) => Boolean(c.timing || b.columns[j].timing));
  a.rows.forEach((ra, i) => {
    const rb = b.rows[i];
    if (isSection(ra) || isSection(rb)) {
      out.compared++;
      if (!same(ra, rb)) out.differences.push(`${where}: ${rowLabel(a, i)} differs`);
      return;
    }
    ra.forEach((cell: Cell, j) => {
      if (timingRows.has(i) || timingColumn[j]) {
        out.skipped++;
        return;
      }
      out.compared++;
      if (!same(cell, rb[j]))
        out.differences.push(
          `${where}, ${rowLabel(a, i)}, column "${a.columns[j].title}": ${JSON.stringify(cell)} against ${JSON.stringify(rb[j])}`,
        );
    });
  });
}

/** Compares report `a` (e.g. the committed one) with `b` (e.g. a regeneration). */
export function diffReports(a: ReportData, b: ReportData): ReportDiff {
  const out: ReportDiff = { compared: 0, skipped: 0, differences: [] };
  const titles = (r: ReportData) => r.tables.map((t) => t.title);
  if (!same(titles(a), titles(b))) out.differences.push('the reports have different tables');
  else for (const [i, t] of a.tables.entries()) diffTable(t, b.tables[i], out);

  const figures = new Map(b.figures.map((f) => [f.name, f]));
  for (const f of a.figures) {
    const g = figures.get(f.name);
    if (!g) {
      out.differences.push(`figure ${f.name}: missing`);
      continue;
    }
    f.rows.forEach((row, i) => {
      out.compared++;
      if (!same(row, g.rows[i])) out.differences.push(`figure ${f.name}, row ${i + 1} differs`);
    });
    if (g.rows.length !== f.rows.length)
      out.differences.push(`figure ${f.name}: ${f.rows.length} rows against ${g.rows.length}`);
  }
  if (b.figures.length !== a.figures.length) out.differences.push('the reports have different figures');

  const gallery = (r: ReportData) => (r.gallery?.rows ?? []).map((g) => [g.prompt, g.difficulty, g.chosen]);
  out.compared += gallery(a).length;
  if (!same(gallery(a), gallery(b))) out.differences.push('the galleries show other prompts or choices');
  return out;
}
