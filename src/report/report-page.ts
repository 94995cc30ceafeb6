import { escapeHtml, htmlPage } from './html.js';
import type { FigureFiles } from './plots.js';
import {
  type Column,
  columnHeader,
  DEFAULT_IN_DOMAIN_NOTE,
  type Figure,
  fileUrl,
  formatCell,
  type Gallery,
  galleryGroups,
  isSection,
  numericColumns,
  type ReportData,
  type Table,
} from './report-data.js';

// AdaDiff's red, as in the paper's figures and in the plots.
const CHOSEN = '#d62728';

const CSS = `  h2 { margin-top: 2.5rem; }
  .badge { display: inline-block; margin-left: 0.3em; padding: 0 0.35em; border: 1px solid #d9a400; border-radius: 0.25em;
    background: #fff3c4; color: #6b5000; font-size: 0.72em; font-weight: 600; white-space: nowrap; }
  .in-domain { background: #fffbea; }
  tr.section th { background: #f3f3f3; }
  .notes { font-size: 0.9em; color: #555; }
  figure { margin: 1.5rem 0; }
  figcaption { margin-top: 0.4rem; }
  .gallery td { vertical-align: top; }
  .gallery figure { margin: 0; text-align: center; }
  .gallery img { width: 128px; height: auto; border: 4px solid transparent; }
  .gallery .chosen img { border-color: ${CHOSEN}; }
  .gallery figcaption { font-size: 0.85em; color: #555; }
  .gallery .chosen figcaption, .chosen-mark { color: ${CHOSEN}; font-weight: 600; }
`;

const badge = (note: string) => `<span class="badge" title="${escapeHtml(note)}">in-domain</span>`;

function headerCell(c: Column, note: string): string {
  return c.inDomain
    ? `<th class="in-domain">${escapeHtml(columnHeader(c))}${badge(note)}</th>`
    : `<th>${escapeHtml(columnHeader(c))}</th>`;
}

function tableHtml(t: Table, note: string): string {
  const numeric = numericColumns(t);
  const rows = t.rows.map((r) => {
    if (isSection(r))
      return `<tr class="section"><th colspan="${t.columns.length}">${escapeHtml(r.section)}</th></tr>`;
    const cells = r.map((v, i) => {
      const c = t.columns[i];
      const cls = [numeric[i] ? 'num' : '', c.inDomain ? 'in-domain' : ''].filter(Boolean).join(' ');
      return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(formatCell(c, v))}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  const notes = (t.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`);
  if (t.columns.some((c) => c.inDomain)) notes.push(`<li>${badge(note)} ${escapeHtml(note)}</li>`);
  return `<section>
<h2>${escapeHtml(t.title)}</h2>
<table>
<thead><tr>${t.columns.map((c) => headerCell(c, note)).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${notes.length > 0 ? `<ul class="notes">${notes.join('')}</ul>` : ''}
</section>`;
}

function figureHtml(f: Figure, files: FigureFiles): string {
  return `<figure>
<img src="${escapeHtml(fileUrl(files.svg))}" alt="${escapeHtml(f.caption)}">
<figcaption>${escapeHtml(f.caption)} <span class="muted">Data: <a href="${escapeHtml(fileUrl(files.csv))}">CSV</a>,
<a href="${escapeHtml(fileUrl(files.json))}">JSON</a></span></figcaption>
</figure>`;
}

function galleryHtml(g: Gallery): string {
  const shot = (prompt: string, steps: number, file: string, chosen: boolean) => {
    const alt = `${prompt}: ${steps} steps${chosen ? ", the policy's choice" : ''}`;
    return `<td><figure${chosen ? ' class="chosen"' : ''}><img src="${escapeHtml(fileUrl(file))}" alt="${escapeHtml(alt)}">
<figcaption>${steps}${chosen ? ' ✔ chosen' : ''}</figcaption></figure></td>`;
  };
  const body = galleryGroups(g).flatMap(({ difficulty, rows }) => [
    `<tr class="section"><th colspan="${g.steps.length + 1}">${escapeHtml(difficulty)}</th></tr>`,
    ...rows.map(
      (r) =>
        `<tr><td>${escapeHtml(r.prompt)}</td>${g.steps.map((s) => shot(r.prompt, s, r.images[s], s === r.chosen)).join('')}</tr>`,
    ),
  ]);
  return `<section>
<h2>${escapeHtml(g.caption)}</h2>
<p>Each prompt at every step count; the <span class="chosen-mark">red border</span> marks the policy's choice.</p>
<table class="gallery">
<thead><tr><th>Prompt</th>${g.steps.map((s) => `<th>${s} steps</th>`).join('')}</tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>
</section>`;
}

/** The report as one page that opens from disk: HTML tables, the figures' SVGs, and the gallery's PNGs. */
export function reportHtml(report: ReportData, figureFiles: FigureFiles[]): string {
  const note = report.inDomainNote ?? DEFAULT_IN_DOMAIN_NOTE;
  const parts = [
    `<h1>${escapeHtml(report.title)}</h1>`,
    ...(report.intro ?? []).map((p) => `<p>${escapeHtml(p)}</p>`),
    ...report.tables.map((t) => tableHtml(t, note)),
  ];
  if (report.figures.length > 0)
    parts.push(
      `<section>\n<h2>Figures</h2>\n${report.figures.map((f, i) => figureHtml(f, figureFiles[i])).join('\n')}\n</section>`,
    );
  if (report.gallery) parts.push(galleryHtml(report.gallery));
  return htmlPage(report.title, parts.join('\n'), CSS);
}
