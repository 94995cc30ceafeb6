import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_MODEL_DIR } from '../../src/paths.js';
import { buildServer } from '../../src/serve/app.js';
import { SERVE_DEFAULTS, type ServeConfig } from '../../src/serve/config.js';
import { type LoadedModel, loadModel } from '../../src/serve/generation.js';

let embedded: Promise<LoadedModel> | undefined;
const servers: FastifyInstance[] = [];

// Registered here, at the top level of the test file that imports this, so it runs once at the end
// (an `after` inside a hook or test would run when that hook or test ends).
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (embedded) await (await embedded).pipeline.model.release();
});

/** The embedded model and its policy, loaded once per test file (node --test runs each file in its own process). */
export function embeddedModel(): Promise<LoadedModel> {
  embedded ??= loadModel(DEFAULT_MODEL_DIR, undefined, 'cpu');
  return embedded;
}

export interface RunningServer {
  url: string;
  close: () => Promise<void>;
}

/** A server on a free loopback port, closed when the test file ends. */
export async function startServer(
  overrides: Partial<ServeConfig> = {},
  model?: LoadedModel,
): Promise<RunningServer> {
  const app = buildServer(model ?? (await embeddedModel()), { ...SERVE_DEFAULTS, ...overrides });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  servers.push(app);
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface JsonAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field by the tests
  body: any;
}

export async function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export async function getJson(url: string): Promise<JsonAnswer> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Polls until `check` holds; fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The queue as /health reports it. */
export async function queueState(
  url: string,
): Promise<{ running: number; waiting: number; capacity: number }> {
  return (await getJson(`${url}/health`)).body.queue;
}

/** One sample of a Prometheus text exposition, e.g. `metric(text, 'adadiff_generations_total{outcome="ok"}')`. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export const metricsText = async (url: string) => (await fetch(`${url}/metrics`)).text();

/** A generation that runs for many seconds unless stopped: 999 steps with guidance. */
export const SLOW_JOB = { prompt: 'a red circle', steps: 999 };
