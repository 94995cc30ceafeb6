import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readmeExcerpt, reportMarkdown } from './markdown.js';
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
  figures: FigureFiles[];
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
    figures: figureFiles,
  };
  await Promise.all([
    writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`),
    writeFile(files.markdown, reportMarkdown(report, figureFiles)),
    writeFile(files.html, reportHtml(report, figureFiles)),
  ]);
  return files;
}

const README_START = '<!-- adadiff eval: start -->';
const README_END = '<!-- adadiff eval: end -->';

/**
 * Replaces what lies between the README's `<!-- adadiff eval: start -->` and `<!-- adadiff eval: end -->`
 * lines with the report's Table 1 and Figure 3, so the README shows the numbers of the committed report.
 */
export async function updateReadme(
  readme: string,
  dir: string,
  report: ReportData,
  files: ReportFiles,
): Promise<void> {
  const text = await readFile(readme, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start)
    throw new Error(`${readme}: expected a "${README_START}" line followed by a "${README_END}" line`);
  const rel =
    relative(dirname(resolve(readme)), resolve(dir))
      .split(sep)
      .join('/') || '.';
  const excerpt = readmeExcerpt(report, files.figures, rel);
  await writeFile(
    readme,
    `${text.slice(0, start + README_START.length)}\n\n${excerpt}\n\n${text.slice(end)}`,
  );
}
