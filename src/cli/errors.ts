import { z } from 'zod';
import { describeIssue } from '../util/issue-words.js';

/** A problem with how the command was called: exit code 2 with usage, like commander's own errors. */
export class UsageError extends Error {}

/** Parse CLI options with a zod schema, turning failures into a UsageError naming the flag. */
export function parseFlags<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw, { error: describeIssue });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue.path[0];
  if (key === undefined) throw new UsageError(issue.message);
  const flag = `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const given = (raw as Record<PropertyKey, unknown>)[key];
  const text = typeof given === 'string' && given.length > 80 ? `${given.slice(0, 80)}...` : given;
  const shown = typeof text === 'string' ? ` (got "${text}")` : '';
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

/** "10,20,30" -> [10, 20, 30]: comma-separated decimal integers in [min, max], each checked as intFlag. */
export const intListFlag = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string({ error: `expected comma-separated ${what}` }).transform((s, ctx) => {
    const parts = s.split(',').map((v) => v.trim());
    const bad = parts.find((v) => !INTEGER.test(v) || +v < min || +v > max);
    if (bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected comma-separated ${what} from ${min} to ${max} ("${bad}" is not one)`,
      });
      return z.NEVER;
    }
    return parts.map(Number);
  });

/** The most denoising steps any flag accepts (a model's scheduler may allow fewer: checked on load). */
export const MAX_STEPS = 1000;

/** A step set S: increasing step counts, as --steps of collect, policy train and world evidence take it. */
export const stepSetFlag = intListFlag('step counts', 1, MAX_STEPS).refine(
  (xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]),
  'expected increasing step counts',
);

/** The largest classifier-free guidance scale a flag takes (the server's A1111 API takes 50 too). */
export const MAX_GUIDANCE = 50;

/** --guidance: a scale from 0 to MAX_GUIDANCE, the same in every command (<= 1 turns guidance off). */
export const guidanceFlag = numberFlag.pipe(
  z.number().min(0, 'expected at least 0').max(MAX_GUIDANCE, `expected at most ${MAX_GUIDANCE}`),
);

/** --seed in every command: what SQLite and the samplers store exactly (a 31-bit integer). */
export const MAX_SEED = 2 ** 31 - 1;
export const seedFlag = intFlag(0, MAX_SEED);

/** --batch of the commands that generate (prompts or images per batch), the same everywhere. */
export const batchFlag = intFlag(1, 256);
