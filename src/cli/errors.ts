import { z } from 'zod';

/** A problem with how the command was called: exit code 2 with usage, like commander's own errors. */
export class UsageError extends Error {}

/** Parse CLI options with a zod schema, turning failures into a UsageError naming the flag. */
export function parseFlags<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue.path[0];
  if (key === undefined) throw new UsageError(issue.message);
  const flag = `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const given = (raw as Record<PropertyKey, unknown>)[key];
  const shown = typeof given === 'string' ? ` (got "${given}")` : '';
  throw new UsageError(`${flag}: ${issue.message}${shown}`);
}

/** A number flag given as text. */
export const numberFlag = z.coerce
  .number<string>({ error: 'expected a number' })
  .refine(Number.isFinite, 'expected a number');
export const intFlag = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number<string>({ error: 'expected an integer' })
    .int('expected an integer')
    .min(min, `expected at least ${min}`)
    .max(max, `expected at most ${max}`);
