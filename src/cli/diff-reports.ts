import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { ReportData } from '../report/report.js';
import { diffReports } from '../report/report-diff.js';
import { describeIssue } from '../util/issue-words.js';
import { UsageError } from './errors.js';

const CellSchema = z.union([z.string(), z.number(), z.null()]);
/** The parts of report.json that a comparison reads; the rest passes through unchecked. */
const ReportSchema = z.looseObject({
  tables: z.array(
    z.looseObject({
      title: z.string(),
      columns: z.array(z.looseObject({ title: z.string(), timing: z.boolean().optional() })),
      rows: z.array(z.union([z.array(CellSchema), z.object({ section: z.string() })])),
      timingRows: z.array(z.number().int()).optional(),
    }),
  ),
  figures: z.array(z.looseObject({ name: z.string(), rows: z.array(z.record(z.string(), z.unknown())) })),
  gallery: z
    .looseObject({
      rows: z.array(z.looseObject({ prompt: z.string(), difficulty: z.string(), chosen: z.number() })),
    })
    .optional(),
});

/** A report folder or its report.json, read and checked. */
function readReport(path: string): ReportData {
  const file = path.endsWith('.json') ? path : join(path, 'report.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  const parsed = ReportSchema.safeParse(json, { error: describeIssue });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file}: ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return parsed.data as unknown as ReportData;
}

export function registerDiffReports(program: Command) {
  program
    .command('diff-reports')
    .description(
      'compare two `adadiff eval` reports (e.g. committed and regenerated): every table cell, figure point and gallery choice except measured times',
    )
    .argument('<a>', 'report folder or report.json')
    .argument('<b>', 'report folder or report.json')
    .action((a: string, b: string) => {
      const diff = diffReports(readReport(a), readReport(b));
      for (const line of diff.differences) console.log(line);
      const summary = `${diff.differences.length} differences in ${diff.compared} values compared (${diff.skipped} measured times skipped)`;
      if (diff.differences.length > 0) throw new Error(summary);
      console.log(summary);
    });
}
