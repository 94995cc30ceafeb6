import type { z } from 'zod';

const KIND: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a JSON object',
};

const UNIT: Record<string, string> = { string: ' characters', array: ' items' };

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return KIND[typeof value] ?? typeof value;
}

/**
 * The project's words for validation issues whose schema gives none (schemas name their own
 * expectations where a value has several), passed as `safeParse(x, { error: describeIssue })` by
 * every reader of outside input (flags, files, request bodies), so no validator wording reaches a user.
 */
export function describeIssue(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = KIND[issue.expected] ?? issue.expected;
      return issue.input === undefined
        ? `missing (expected ${expected})`
        : `expected ${expected}, got ${kindOf(issue.input)}`;
    }
    case 'too_big':
      return `expected at most ${issue.maximum}${UNIT[issue.origin] ?? ''}`;
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1
        ? 'expected a non-empty value'
        : `expected at least ${issue.minimum}${UNIT[issue.origin] ?? ''}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return 'not accepted here';
  }
}
