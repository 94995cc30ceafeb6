import type { FigureFiles } from './plots.js';
import {
  type Column,
  columnHeader,
  DEFAULT_IN_DOMAIN_NOTE,
  fileUrl,
  formatCell,
  type Gallery,
  galleryGroups,
  isSection,
  numericColumns,
  type ReportData,
  type Table,
} from './report-data.js';

/** Text safe inside a Markdown table cell or link text. */
function md(s: string): string {
  return s.replace(/[\\`*_[\]|<>]/g, (c) => `\\${c}`).replace(/\s*\n\s*/g, ' ');
}

function tableRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function header(c: Column): string {
  return `${md(columnHeader(c))}${c.inDomain ? ' *(in-domain)*' : ''}`;
}

function markdownTable(t: Table, inDomainNote: string): string {
  const numeric = numericColumns(t);
  const lines = [
    `## ${md(t.title)}`,
    '',
    tableRow(t.columns.map(header)),
    tableRow(numeric.map((n) => (n ? '---:' : '---'))),
    ...t.rows.map((r) =>
      isSection(r)
        ? tableRow([`**${md(r.section)}**`, ...t.columns.slice(1).map(() => '')])
        : tableRow(r.map((v, i) => md(formatCell(t.columns[i], v)))),
    ),
  ];
  const notes = (t.notes ?? []).map(md);
  if (t.columns.some((c) => c.inDomain)) notes.push(`*in-domain*: ${md(inDomainNote)}`);
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function markdownGallery(g: Gallery): string {
  const lines = [`## ${md(g.caption)}`, '', "The policy's choice is marked **chosen**."];
  for (const { difficulty, rows } of galleryGroups(g)) {
    lines.push(
      '',
      `### ${difficulty[0].toUpperCase()}${difficulty.slice(1)}`,
      '',
      tableRow(['Prompt', ...g.steps.map((s) => `${s} steps`)]),
      tableRow(['---', ...g.steps.map(() => '---')]),
      ...rows.map((r) =>
        tableRow([
          md(r.prompt),
          ...g.steps.map((s) => {
            const img = `![${s} steps](${fileUrl(r.images[s])})`;
            return s === r.chosen ? `${img} **chosen**` : img;
          }),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

/**
 * The report's first table and first figure, for a README: headings one level down, links
 * prefixed with `reportDir` (the report folder relative to the README).
 */
export function readmeExcerpt(report: ReportData, figureFiles: FigureFiles[], reportDir: string): string {
  const [table] = report.tables;
  const [figure] = report.figures;
  const inDomainNote = report.inDomainNote ?? DEFAULT_IN_DOMAIN_NOTE;
  const parts: string[] = [];
  if (table) parts.push(`#${markdownTable(table, inDomainNote)}`);
  if (figure)
    parts.push(
      `### ${md(figure.caption)}\n\n![${md(figure.caption)}](${fileUrl(`${reportDir}/${figureFiles[0].svg}`)})`,
    );
  parts.push(`The whole report: [${reportDir}/report.md](${fileUrl(`${reportDir}/report.md`)}).`);
  return parts.join('\n\n');
}

/** The report as Markdown: tables as Markdown tables, figures and gallery images linked from the report folder. */
export function reportMarkdown(report: ReportData, figureFiles: FigureFiles[]): string {
  const inDomainNote = report.inDomainNote ?? DEFAULT_IN_DOMAIN_NOTE;
  const parts = [`# ${md(report.title)}`, ...(report.intro ?? []).map(md)];
  parts.push(...report.tables.map((t) => markdownTable(t, inDomainNote)));
  report.figures.forEach((f, i) => {
    const files = figureFiles[i];
    parts.push(
      `## ${md(f.caption)}\n\n![${md(f.caption)}](${fileUrl(files.svg)})\n\n` +
        `Data: [CSV](${fileUrl(files.csv)}), [JSON](${fileUrl(files.json)})`,
    );
  });
  if (report.gallery) parts.push(markdownGallery(report.gallery));
  return `${parts.join('\n\n')}\n`;
}
