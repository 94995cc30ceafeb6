import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Field } from 'vega-lite/types_unstable/channeldef.js';
import type { LayerSpec } from 'vega-lite/types_unstable/spec/layer.js';

/** One data point of a figure: what goes into its CSV and JSON, and into the spec's inline data. */
export type Row = Record<string, string | number | null>;

export interface Axis {
  field: string;
  title: string;
  type?: 'quantitative' | 'ordinal' | 'nominal';
}

export interface ChartOptions {
  mark: 'line' | 'bar';
  x: Axis;
  /** Always quantitative. */
  y: Axis;
  /** One colour (and one line, or one bar in each group) per value of this field. */
  series?: Omit<Axis, 'type'> & { domain: string[]; colors: string[] };
  /** Field holding the half-width of an error bar around y. */
  yError?: string;
  /** Field holding a text drawn next to each point; empty or null draws none. */
  label?: string;
  title?: string;
}

const WIDTH = 340;
const HEIGHT = 240;

/** A line or bar chart, optionally with error bars and point labels, as one Vega-Lite layer. */
export function chart(rows: Row[], o: ChartOptions): LayerSpec<Field> {
  const xType = o.x.type ?? (o.mark === 'bar' ? 'ordinal' : 'quantitative');
  // Categories keep the data's order. Only bars keep zero in scale, as their length is the value; the padding
  // keeps points at the domain's ends whole.
  const x = {
    field: o.x.field,
    type: xType,
    title: o.x.title,
    ...(xType === 'quantitative' ? { scale: { zero: false, padding: 12 } } : { sort: null }),
    ...(o.mark === 'bar' ? { axis: { labelAngle: 0 } } : {}),
  };
  const y = {
    field: o.y.field,
    type: 'quantitative' as const,
    title: o.y.title,
    scale: o.mark === 'bar' ? { zero: true } : { zero: false, padding: 12 },
  };
  const color = o.series && {
    field: o.series.field,
    type: 'nominal' as const,
    title: o.series.title,
    scale: { domain: o.series.domain, range: o.series.colors },
  };
  const xOffset =
    o.mark === 'bar' && o.series ? { xOffset: { field: o.series.field, sort: o.series.domain } } : {};
  const layer: LayerSpec<Field>['layer'] = [
    {
      mark: o.mark === 'line' ? { type: 'line', point: true } : { type: 'bar' },
      encoding: { x, y, ...(color ? { color } : {}), ...xOffset },
    },
  ];
  if (o.yError)
    layer.push({
      mark: { type: 'errorbar', color: '#222', ticks: { size: 8 } },
      encoding: { x, y, yError: { field: o.yError }, ...xOffset },
    });
  if (o.label)
    layer.push({
      transform: [
        { filter: `isValid(datum[${JSON.stringify(o.label)}]) && datum[${JSON.stringify(o.label)}] !== ''` },
      ],
      // Below right of the point: clear of the line where, as in a trade-off curve, it rises to the right.
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 12 },
      encoding: { x, y, text: { field: o.label }, ...(color ? { color } : {}) },
    });
  return {
    ...(o.title ? { title: o.title } : {}),
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer,
  };
}

/** Panels side by side under one title, sharing the colour legend and, if asked, the y scale. */
export function panels(title: string, charts: LayerSpec<Field>[], sharedY = false): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 16, offset: 14 },
    background: 'white',
    hconcat: charts,
    resolve: { scale: { color: 'shared', ...(sharedY ? { y: 'shared' } : {}) } },
    // Vega's default 10-11px text reads small beside the page's; the legend follows the axes.
    config: {
      font: 'sans-serif',
      title: { anchor: 'start', fontSize: 14 },
      axis: { labelFontSize: 12, titleFontSize: 13 },
      legend: { labelFontSize: 12, titleFontSize: 13 },
    },
  };
}

/** Figure 3: mean chosen steps of the prompts in one bin of a richness measure. */
export interface StepsByRichnessRow extends Row {
  measure: 'words' | 'objects';
  /** The bin's label, e.g. "1-5" words or "3" objects; bins are drawn in the rows' order. */
  bin: string;
  meanSteps: number;
  /** Standard deviation of the chosen steps in the bin: the error bar's half-width. */
  sd: number;
  prompts: number;
}

export function fig3Spec(rows: StepsByRichnessRow[]): TopLevelSpec {
  const panel = (measure: StepsByRichnessRow['measure'], title: string) =>
    chart(
      rows.filter((r) => r.measure === measure),
      {
        mark: 'bar',
        x: { field: 'bin', title },
        y: { field: 'meanSteps', title: 'Mean steps' },
        yError: 'sd',
      },
    );
  // One y scale, so the panels' bars compare directly.
  return panels(
    'Learned step usage vs prompt richness',
    [panel('words', 'Number of words'), panel('objects', 'Number of objects')],
    true,
  );
}

export const TRADEOFF_SERIES = ['AdaDiff', 'Random policy', 'Oracle', 'Fixed steps'] as const;
export type TradeoffSeries = (typeof TRADEOFF_SERIES)[number];
// AdaDiff in red as in the paper's figures; the baselines recede.
const TRADEOFF_COLORS = ['#d62728', '#7f7f7f', '#1f77b4', '#2ca02c'];

/** Figure 5: one policy's mean steps and mean quality under one setting of top-k, lambda or a step budget. */
export interface TradeoffRow extends Row {
  sweep: 'k' | 'lambda' | 'budget';
  series: TradeoffSeries;
  /** The swept value (k or lambda) the point was trained with; null for points not tied to one (unlabelled). */
  setting: number | null;
  meanSteps: number;
  quality: number;
}

export function fig5Spec(rows: TradeoffRow[], qualityTitle: string): TopLevelSpec {
  const panel = (sweep: TradeoffRow['sweep'], symbol: string, title: string) =>
    chart(
      rows
        .filter((r) => r.sweep === sweep)
        .map((r) => ({ ...r, label: r.setting === null ? null : `${symbol}=${r.setting}` })),
      {
        mark: 'line',
        title,
        x: { field: 'meanSteps', title: 'Mean steps' },
        y: { field: 'quality', title: qualityTitle },
        series: { field: 'series', title: 'Policy', domain: [...TRADEOFF_SERIES], colors: TRADEOFF_COLORS },
        label: 'label',
      },
    );
  const shown: [TradeoffRow['sweep'], string, string][] = [
    ['k', 'k', 'Varying top-k'],
    ['lambda', 'λ', 'Varying the image reward weight λ'],
    ['budget', 'B', 'A step budget B (policy train --budget)'],
  ];
  return panels(
    'Speed/quality trade-off',
    shown.filter(([sweep]) => rows.some((r) => r.sweep === sweep)).map((args) => panel(...args)),
  );
}

/** Renders a spec to standalone SVG text; Vega's headless 'none' renderer needs no canvas package. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Vega tags the data objects it ingests; a copy keeps the caller's spec and rows as they were.
  const view = new View(parse(compile(structuredClone(spec)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** CSV with a header of every field in order of first appearance; null is an empty field. */
export function toCsv(rows: Row[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return stringify(rows, { header: true, columns });
}

export interface FigureFiles {
  svg: string;
  csv: string;
  json: string;
}

/** Writes `name`.svg, .csv and .json into `dir`; returns the file names, relative to `dir`. */
export async function writeFigure(
  dir: string,
  name: string,
  spec: TopLevelSpec,
  rows: Row[],
): Promise<FigureFiles> {
  const files = { svg: `${name}.svg`, csv: `${name}.csv`, json: `${name}.json` };
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, files.svg), await renderSvg(spec)),
    writeFile(join(dir, files.csv), toCsv(rows)),
    writeFile(join(dir, files.json), `${JSON.stringify(rows, null, 2)}\n`),
  ]);
  return files;
}
