/** Reading a model folder's files; JSON is checked with a zod schema, and faults name file and field. */
import { access, readFile } from 'node:fs/promises';
import type { z } from 'zod';
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

export async function readJson<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  const text = await readText(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelFolderError(file, `invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const field = i.path.length > 0 ? `field "${i.path.join('.')}"` : 'top level';
      return `${field}: ${i.message}`;
    });
    throw new ModelFolderError(file, issues.join('; '), { cause: parsed.error });
  }
  return parsed.data;
}
