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

/** Decimal notation only: no empty value (which Number() reads as 0), no hex, no "Infinity". */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** A flag's text checked against `pattern` before it becomes a number (commander defaults are text too). */
const numeric = (pattern: RegExp, error: string) =>
  z
    .string({ error })
    .trim()
    .regex(pattern, error)
    .transform(Number)
    .pipe(z.number().refine(Number.isFinite, error));

/** A number flag given as text, in decimal (exponents allowed: `--lr 3e-3`). */
export const numberFlag = numeric(DECIMAL, 'expected a number');

/** An integer flag given as text: digits only, so "", "0x10", "1e3" and "2.5" are refused. */
export const intFlag = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  numeric(INTEGER, 'expected an integer').pipe(
    z.number().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`),
  );
