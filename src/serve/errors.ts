import { z } from 'zod';

/** A request the server will not serve as asked: its status, and the body field at fault if any. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The reason a request's generation stops when its client disconnects: nginx's 499 "client closed
 * request", so that no one reads it as the server's failure (nobody is there to read it).
 */
export const clientGone = (): HttpError => new HttpError(499, null, 'the client closed the connection');

export const badRequest = (field: string, message: string): HttpError =>
  new HttpError(400, field, `${field}: ${message}`);

const KIND: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a JSON object',
};

const UNIT: Record<string, string> = { string: ' characters', array: ' items' };

/**
 * Words for the issues whose schema gives none (the schemas name their own expectations where a
 * field has several), so no validator wording reaches a client.
 */
function describeIssue(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${KIND[issue.expected] ?? issue.expected}`;
    case 'too_big':
      return `expected at most ${issue.maximum}${UNIT[issue.origin] ?? ''}`;
    case 'too_small':
      return `expected at least ${issue.minimum}${UNIT[issue.origin] ?? ''}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return 'not a field of this request';
    default:
      return 'not accepted here';
  }
}

/** Validates a request body once, at the edge; the first problem is a 400 naming its field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body, { error: describeIssue });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.code === 'unrecognized_keys' ? [issue.keys[0]] : issue.path;
  throw badRequest(path.length > 0 ? path.map(String).join('.') : 'body', issue.message);
}

/** A prompt-like text field; its length limit has words of its own (a schema's message covers its checks too). */
export const textField = (maxChars: number) =>
  z.string({ error: 'expected text' }).max(maxChars, { error: `expected at most ${maxChars} characters` });
