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
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new PromptFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const text = decodeUtf8(file, bytes);
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
  for (const p of prompts) {
    const control = [...p.text].find((c) => {
      const code = c.charCodeAt(0);
      return (code < 0x20 && !'\t\n\r'.includes(c)) || code === 0x7f;
    });
    if (control)
      throw new PromptFileError(
        file,
        `${ext === '.csv' || ext === '.tsv' ? 'row' : 'line'} ${p.id + 1} holds the control character ` +
          `U+${control.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()} (a binary file?)`,
      );
  }
  if (prompts.length === 0) throw new PromptFileError(file, 'contains no prompts');
  return prompts;
}

/** UTF-8 text without its BOM; UTF-16 and invalid bytes are named, not turned into U+FFFD. */
function decodeUtf8(file: string, bytes: Buffer): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new PromptFileError(file, 'is UTF-16 text; save it as UTF-8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    const lines = bytes.toString('latin1').split('\n');
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const bad = lines.findIndex((line) => {
      try {
        fatal.decode(Buffer.from(line, 'latin1'));
        return false;
      } catch {
        return true;
      }
    });
    throw new PromptFileError(
      file,
      `line ${bad + 1} is not valid UTF-8 (Latin-1 or another encoding?); save the file as UTF-8`,
    );
  }
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

/** Where a prompt of `file` stands, for messages: "file:12" (its line), or "file, row 12" in a table. */
export function promptPlace(file: string, prompt: Prompt): string {
  const ext = extname(file).toLowerCase();
  return ext === '.csv' || ext === '.tsv' ? `${file}, row ${prompt.id + 1}` : `${file}:${prompt.id + 1}`;
}
