import type { TopLevelSpec } from 'vega-lite';
import type { Row } from './plots.js';

/** What `adadiff eval` reports: the paper's tables, figures and qualitative gallery, with this run's numbers. */
export interface ReportData {
  title: string;
  /** Paragraphs under the title: what was run, on what, when. */
  intro?: string[];
  tables: Table[];
  figures: Figure[];
  gallery?: Gallery;
  /** What "in-domain" means for this report's columns marked so; shown, after the label, under every table with one. */
  inDomainNote?: string;
}

export type Cell = string | number | null;

export interface Column {
  title: string;
  unit?: string;
  /** Which way is better, drawn as the paper's ↑ / ↓. */
  better?: 'higher' | 'lower';
  /** The metric comes from the domain the policy was trained in, so it is labelled as such wherever shown. */
  inDomain?: boolean;
  /** Decimals for numbers; without it a number is written as it is. */
  digits?: number;
  /** Wall-clock measurements: they differ between runs of the same seeds, so comparisons skip them. */
  timing?: boolean;
}

/** A heading row spanning the table, such as the paper's "COCO 2017" within Table 1. */
export interface SectionRow {
  section: string;
}

export interface Table {
  title: string;
  columns: Column[];
  /** Cells in the columns' order. */
  rows: (Cell[] | SectionRow)[];
  /** Indices of rows that are wall-clock measurements (see Column.timing). */
  timingRows?: number[];
  notes?: string[];
}

export interface Figure {
  /** Base name of the figure's files (`name`.svg, .csv, .json): letters, digits, '-' and '_'. */
  name: string;
  caption: string;
  spec: TopLevelSpec;
  /** The figure's data, as written to its CSV and JSON. */
  rows: Row[];
}

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export interface GalleryRow {
  prompt: string;
  difficulty: Difficulty;
  /** PNG file (relative to the report folder) for every step count of the gallery. */
  images: Record<number, string>;
  /** The step count the policy chose. */
  chosen: number;
}

/** Figure 4: every prompt generated at every step count, the policy's choice marked. */
export interface Gallery {
  caption: string;
  steps: number[];
  rows: GalleryRow[];
}

export const DEFAULT_IN_DOMAIN_NOTE =
  'computed with small feature networks trained here on the shapes world (no pretrained Inception or ' +
  'CLIP can be had offline), so they are not comparable with published FID, IS or CLIP scores.';

export function isSection(row: Cell[] | SectionRow): row is SectionRow {
  return !Array.isArray(row);
}

/** Which columns hold numbers, to be right-aligned, their empty cells too. */
export function numericColumns(t: Table): boolean[] {
  return t.columns.map((_, i) => t.rows.some((r) => !isSection(r) && typeof r[i] === 'number'));
}

export function columnHeader(c: Column): string {
  const arrow = c.better === 'higher' ? '↑' : c.better === 'lower' ? '↓' : '';
  return `${c.title}${arrow}${c.unit ? ` (${c.unit})` : ''}`;
}

/** A cell as text; null is the paper's "-" for not applicable. */
export function formatCell(c: Column, v: Cell): string {
  if (v === null) return '-';
  if (typeof v === 'number' && c.digits !== undefined) return v.toFixed(c.digits);
  return String(v);
}

/** A relative file path as a URL path, so names with spaces or '#' still resolve. */
export function fileUrl(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

/** The gallery's rows, easy to hard, each difficulty keeping its rows' order. */
export function galleryGroups(g: Gallery): { difficulty: Difficulty; rows: GalleryRow[] }[] {
  return DIFFICULTIES.map((difficulty) => ({
    difficulty,
    rows: g.rows.filter((r) => r.difficulty === difficulty),
  })).filter((group) => group.rows.length > 0);
}
