import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reportMarkdown } from './markdown.js';
import { type FigureFiles, writeFigure } from './plots.js';
import { isSection, type ReportData } from './report-data.js';
import { reportHtml } from './report-page.js';

export type {
  Cell,
  Column,
  Difficulty,
  Figure,
  Gallery,
  GalleryRow,
  ReportData,
  SectionRow,
  Table,
} from './report-data.js';

export interface ReportFiles {
  json: string;
  markdown: string;
  html: string;
}

/** The caller's mistakes, found before anything is written, so a report is never half right. */
function problems(dir: string, report: ReportData): string[] {
  const found: string[] = [];
  const names = new Set<string>();
  for (const f of report.figures) {
    if (!/^[\w-]+$/.test(f.name)) found.push(`figure name "${f.name}" is not letters, digits, '-' and '_'`);
    if (names.has(f.name)) found.push(`figure name "${f.name}" is used twice`);
    names.add(f.name);
  }
  for (const t of report.tables)
    for (const r of t.rows)
      if (!isSection(r) && r.length !== t.columns.length)
        found.push(`table "${t.title}": a row has ${r.length} cells for ${t.columns.length} columns`);
  const g = report.gallery;
  for (const r of g?.rows ?? []) {
    if (!g!.steps.includes(r.chosen))
      found.push(`gallery "${r.prompt}": chosen ${r.chosen} is not a step count`);
    for (const s of g!.steps) {
      const file = r.images[s];
      if (file === undefined) found.push(`gallery "${r.prompt}": no image for ${s} steps`);
      else if (!existsSync(join(dir, file))) found.push(`gallery "${r.prompt}": ${file} is not in ${dir}`);
    }
  }
  return found;
}

/**
 * Writes report.json, report.md and index.html into `dir`, with every figure's SVG, CSV and JSON.
 * The gallery's PNGs must already be there.
 */
export async function writeReport(dir: string, report: ReportData): Promise<ReportFiles> {
  const found = problems(dir, report);
  if (found.length > 0) throw new Error(`report not written:\n  ${found.join('\n  ')}`);
  await mkdir(dir, { recursive: true });
  const figureFiles: FigureFiles[] = [];
  for (const f of report.figures) figureFiles.push(await writeFigure(dir, f.name, f.spec, f.rows));
  const files = {
    json: join(dir, 'report.json'),
    markdown: join(dir, 'report.md'),
    html: join(dir, 'index.html'),
  };
  await Promise.all([
    writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`),
    writeFile(files.markdown, reportMarkdown(report, figureFiles)),
    writeFile(files.html, reportHtml(report, figureFiles)),
  ]);
  return files;
}
