import { z } from 'zod';
import { describeIssue } from '../util/issue-words.js';

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
