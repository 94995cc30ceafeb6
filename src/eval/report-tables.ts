/** Tables 1, 3 and 4 as report tables: the paper's columns, with this run's numbers. */

import { NIQE_PATCH_SIZE } from '../quality/metrics/index.js';
import type { Cell, Column, Table } from '../report/report.js';
import { FID_MIN_IMAGES, type MetricNets } from './report-image-metrics.js';
import type { MethodResult } from './report-methods.js';

export interface MethodsTableSpec {
  title: string;
  /** What the quality score is, e.g. the scorer's name. */
  scoreName: string;
  nets: MetricNets;
  fidReference: string;
  notes?: string[];
}

/** A column and how each result fills it; a column no result fills is left out. */
interface ColumnSpec {
  column: Column;
  cell: (r: MethodResult) => Cell;
}

export function methodsTable(results: readonly MethodResult[], spec: MethodsTableSpec): Table {
  const { nets } = spec;
  const specs: ColumnSpec[] = [
    { column: { title: 'Method' }, cell: (r) => r.row.method },
    { column: { title: 'Runs' }, cell: (r) => r.row.runs },
    { column: { title: 'Steps', better: 'lower', digits: 2 }, cell: (r) => r.row.meanSteps },
    {
      column: { title: 'Time', unit: 's / image', better: 'lower', digits: 4, timing: true },
      cell: (r) => r.row.secondsPerImage,
    },
    { column: { title: spec.scoreName, better: 'higher', digits: 3 }, cell: (r) => r.row.meanScore },
    { column: { title: '± sd over runs', digits: 3 }, cell: (r) => r.row.scoreSpread },
    {
      column: { title: 'Full success', unit: '%', better: 'higher', digits: 1 },
      cell: (r) => (r.row.successRate === null ? null : 100 * r.row.successRate),
    },
    {
      column: { title: 'CLIP', better: 'higher', digits: 3, inDomain: nets.clipInDomain },
      cell: (r) => r.clip,
    },
    {
      column: { title: 'IS', better: 'higher', digits: 2, inDomain: nets.classifierInDomain },
      cell: (r) => r.is,
    },
    {
      column: { title: 'FID', better: 'lower', digits: 2, inDomain: nets.classifierInDomain },
      cell: (r) => r.fid,
    },
    // NIQE stays even when empty, so the note below says why.
    { column: { title: 'NIQE', better: 'lower', digits: 3 }, cell: (r) => r.niqe },
  ];
  const kept = specs.filter((s) => s.column.title === 'NIQE' || results.some((r) => s.cell(r) !== null));
  const notes = [...(spec.notes ?? [])];
  if (results.some((r) => r.row.runs > 1))
    notes.push(
      "Runs: the random policy's runs, or the seeds AdaDiff was retrained with; each row is their mean.",
    );
  if (results.every((r) => r.niqe === null))
    notes.push(
      `NIQE needs images of at least ${NIQE_PATCH_SIZE}x${NIQE_PATCH_SIZE} (one patch); these are smaller.`,
    );
  if (results.some((r) => r.fid !== null)) notes.push(`FID against ${spec.fidReference}.`);
  if (!nets.clip) notes.push('CLIP score: give --clip DIR.');
  if (!nets.classifier) notes.push('IS and FID: give --classifier DIR.');
  else if (results.every((r) => r.fid === null) && results[0].row.perPrompt.length < FID_MIN_IMAGES)
    notes.push(`FID needs at least ${FID_MIN_IMAGES} images per method.`);
  return {
    title: spec.title,
    columns: kept.map((s) => s.column),
    rows: results.map((r) => kept.map((s) => s.cell(r))),
    notes,
  };
}
