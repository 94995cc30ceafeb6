/** Reading a model folder's files; JSON is checked with a zod schema, and faults name file and field. */
import { access, readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { describeIssue } from '../util/issue-words.js';
import { ModelFolderError } from './errors.js';

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelFolderError(file, missing ? 'file is missing' : `cannot read: ${String(e)}`, { cause: e });
  }
}

/** A string literal, or one of the bare non-finite numbers Python's json module writes. */
const NON_FINITE = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;
const MARK = '@@adadiff-non-finite@@';

/**
 * JSON as Python's json module writes it: diffusers saves `Infinity`, `-Infinity` and `NaN` as
 * bare words (DPMSolverMultistepScheduler's lambda_min_clipped is -Infinity), which JSON.parse
 * refuses; they are read as those numbers. Plain JSON takes the fast path.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/Infinity|NaN/.test(text)) throw e;
    const marked = text.replace(NON_FINITE, (m) => (m.startsWith('"') ? m : `"${MARK}${m}"`));
    try {
      return JSON.parse(marked, (_key, v) =>
        typeof v === 'string' && v.startsWith(MARK) ? Number(v.slice(MARK.length)) : v,
      );
    } catch {
      throw e;
    }
  }
}

export async function readJson<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  const text = await readText(file);
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    throw new ModelFolderError(file, `invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = schema.safeParse(value, { error: describeIssue });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const field = i.path.length > 0 ? `field "${i.path.join('.')}"` : 'top level';
      return `${field}: ${i.message}`;
    });
    throw new ModelFolderError(file, issues.join('; '), { cause: parsed.error });
  }
  return parsed.data;
}
