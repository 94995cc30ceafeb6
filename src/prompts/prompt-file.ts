import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';

/** A prompt as adadiff handles it: its text and a stable id (the line/row number in its file). */
export interface Prompt {
  id: number;
  text: string;
}

export class PromptFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/**
 * Reads prompts from .txt (one per line), .jsonl (a JSON string per line, or an object with the
 * `column` field, default "prompt"), or .csv/.tsv (a header row; `column` names the prompt column,
 * default "prompt" or "Prompt"). Blank lines are skipped; CRLF and a UTF-8 BOM are tolerated.
 */
export function readPromptFile(file: string, column?: string): Prompt[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new PromptFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const ext = extname(file).toLowerCase();
  let texts: string[];
  if (ext === '.txt') {
    texts = text.split(/\r?\n|\r/);
  } else if (ext === '.jsonl') {
    texts = text.split(/\r?\n/).map((line, i) => (line.trim() ? jsonlPrompt(file, line, i + 1, column) : ''));
  } else if (ext === '.csv' || ext === '.tsv') {
    texts = tablePrompts(file, text, ext === '.tsv' ? '\t' : ',', column);
  } else {
    throw new PromptFileError(file, `unknown prompt file type "${ext}"; expected .txt, .jsonl, .csv or .tsv`);
  }
  const prompts = texts.map((t, i) => ({ id: i, text: t.trim() })).filter((p) => p.text.length > 0);
  if (prompts.length === 0) throw new PromptFileError(file, 'contains no prompts');
  return prompts;
}

function jsonlPrompt(file: string, line: string, lineNo: number, column = 'prompt'): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new PromptFileError(file, `line ${lineNo} is not valid JSON`);
  }
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Record<string, unknown>)[column] === 'string') {
    return (value as Record<string, string>)[column];
  }
  throw new PromptFileError(
    file,
    `line ${lineNo}: expected a JSON string or an object with a string "${column}"`,
  );
}

function tablePrompts(file: string, text: string, delimiter: string, column?: string): string[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, delimiter, skip_empty_lines: true, relax_quotes: true });
  } catch (err) {
    throw new PromptFileError(file, `cannot parse: ${(err as Error).message}`);
  }
  const header = rows.length ? Object.keys(rows[0]) : [];
  const name = column ?? header.find((h) => h.toLowerCase() === 'prompt');
  if (!name || !header.includes(name)) {
    throw new PromptFileError(
      file,
      `no column "${column ?? 'prompt'}"; columns are: ${header.join(', ') || '(none)'} (choose one with --column)`,
    );
  }
  return rows.map((r) => r[name] ?? '');
}
