/**
 * Lets the WebAssembly backend use every core under Node. jax-js splits each kernel across a pool
 * of browser Web Workers sharing one WebAssembly.Memory, but only where a global `Worker` exists,
 * which Node 20 lacks. This installs a minimal Web Worker built on worker_threads: enough for the
 * pool (a script from a Blob URL, `onmessage`, `onerror`, `postMessage`). Each kernel's output is
 * split by element, so results are bit-identical to one thread.
 */

import { resolveObjectURL } from 'node:buffer';
import { Worker as ThreadWorker } from 'node:worker_threads';

/** Makes the worker script see the Web Worker globals it expects. */
const PRELUDE = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on('message', (data) => self.onmessage({ data }));
`;

type Listener = ((event: { data: unknown }) => void) | null;

class NodeWebWorker {
  onmessage: Listener = null;
  onerror: ((error: Error) => void) | null = null;
  #thread: ThreadWorker | undefined;
  #queued: unknown[] = [];
  /** Replies awaited; the thread keeps Node alive only while some are, so idle pools never block exit. */
  #awaiting = 0;

  constructor(url: string | URL) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`Worker: ${url} is not a Blob URL`);
    blob.text().then(
      (source) => {
        const thread = new ThreadWorker(PRELUDE + source, { eval: true });
        thread.on('message', (data) => {
          if (--this.#awaiting === 0) thread.unref();
          this.onmessage?.({ data });
        });
        thread.on('error', (error) => this.onerror?.(error));
        if (this.#awaiting === 0) thread.unref();
        this.#thread = thread;
        for (const data of this.#queued) thread.postMessage(data);
        this.#queued = [];
      },
      (error: Error) => this.onerror?.(error),
    );
  }

  postMessage(data: unknown): void {
    // Every message the pool sends is answered by exactly one reply.
    if (this.#awaiting++ === 0) this.#thread?.ref();
    if (this.#thread) this.#thread.postMessage(data);
    else this.#queued.push(data);
  }
}

function threadsFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`ADADIFF_THREADS: expected a whole number >= 1, got "${value}"`);
  return n;
}

/**
 * Engine threads, from ADADIFF_THREADS (default 1). jax-js creates its backend when first imported,
 * so the engine imports this module before it. With more than one thread, results must be awaited
 * (`data()`, `blockUntilReady`) before any synchronous read (`dataSync`, `toHost`).
 */
export const ENGINE_THREADS = threadsFromEnv(process.env.ADADIFF_THREADS);

if (ENGINE_THREADS > 1) {
  const g = globalThis as Record<string, unknown>;
  g.Worker ??= NodeWebWorker;
  // Sizes jax-js's pool; Node 20 has no navigator of its own.
  g.navigator ??= { hardwareConcurrency: ENGINE_THREADS };
}
