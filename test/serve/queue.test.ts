import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GenerationQueue, QueueFullError } from '../../src/serve/queue.js';

/** A job that runs until `finish` is called or its signal aborts. */
function controllable() {
  let finish!: () => void;
  const job = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      finish = () => resolve('a');
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  return { job, finish: () => finish() };
}

const tick = () => new Promise((r) => setImmediate(r));

test('runs at most `concurrency` jobs, keeps the rest in line in order, refuses past capacity', async () => {
  const q = new GenerationQueue(1, 2);
  const never = new AbortController().signal;
  const a = controllable();
  const order: string[] = [];
  const pa = q.run(async (signal) => order.push(await a.job(signal)), never);
  const pb = q.run(async () => order.push('b'), never);
  const pc = q.run(async () => order.push('c'), never);
  await tick();
  assert.deepEqual([q.running, q.waiting], [1, 2]);
  await assert.rejects(
    q.run(async () => 'd', never),
    (e) => e instanceof QueueFullError && e.retryAfterSeconds >= 1,
  );
  a.finish();
  await Promise.all([pa, pb, pc]);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.deepEqual([q.running, q.waiting], [0, 0]);
});

test('an abort while waiting leaves the line; an abort while running frees the slot for the next', async () => {
  const q = new GenerationQueue(1, 4);
  const a = controllable();
  const leaveA = new AbortController();
  const leaveB = new AbortController();
  const pa = q.run(a.job, leaveA.signal);
  const pb = q.run(async () => 'b', leaveB.signal);
  const pc = q.run(async () => 'c', new AbortController().signal);
  await tick();
  assert.equal(q.waiting, 2);
  leaveB.abort(new Error('b left'));
  await assert.rejects(pb, /b left/);
  assert.equal(q.waiting, 1);
  leaveA.abort(new Error('a left'));
  await assert.rejects(pa, /a left/);
  assert.equal(await pc, 'c');
  assert.deepEqual([q.running, q.waiting], [0, 0]);
});

test('a job whose signal is already aborted never starts; a failing job frees its slot', async () => {
  const q = new GenerationQueue(1, 1);
  let started = false;
  await assert.rejects(
    q.run(
      async () => {
        started = true;
      },
      AbortSignal.abort(new Error('gone')),
    ),
    /gone/,
  );
  assert.equal(started, false);
  await assert.rejects(
    q.run(async () => {
      throw new Error('boom');
    }, new AbortController().signal),
    /boom/,
  );
  assert.equal(await q.run(async () => 'next', new AbortController().signal), 'next');
  assert.equal(q.running, 0);
});
