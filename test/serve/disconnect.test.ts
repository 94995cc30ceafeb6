import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metric, metricsText, postJson, queueState, SLOW_JOB, startServer, waitFor } from './server.js';

const QUICK_JOB = { prompt: 'a blue square', steps: 1, guidance: 1 };

test('a client that disconnects mid-generation stops its denoising and frees its slot', async (t) => {
  const { url } = await startServer({ concurrency: 1, queueLength: 4 });
  const leave = new AbortController();
  const slow = postJson(`${url}/v1/images`, SLOW_JOB, leave.signal).then(
    () => 'answered',
    () => 'left',
  );
  // A second request waits behind the slow one: it can only be served once the slot is free.
  await waitFor('the slow job to run', async () => (await queueState(url)).running === 1);
  const t0 = performance.now();
  const next = postJson(`${url}/v1/images`, QUICK_JOB);
  await waitFor('the quick job to wait', async () => (await queueState(url)).waiting === 1);
  leave.abort();
  const answered = await next;
  const servedMs = performance.now() - t0;
  assert.equal(await slow, 'left');
  assert.equal(answered.status, 200);
  // 999 guided steps take over 20 s here; stopped, the slot frees within a step or two.
  t.diagnostic(`request behind the disconnected one served in ${servedMs.toFixed(0)} ms`);
  assert.ok(servedMs < 5000, `${servedMs} ms`);

  const text = await metricsText(url);
  assert.equal(metric(text, 'adadiff_generations_total{outcome="aborted"}'), 1);
  assert.equal(metric(text, 'adadiff_generations_total{outcome="ok"}'), 1);
  // Counted as the client's leaving (nginx's 499), not as a failure of the server.
  const byStatus = (status: number) =>
    metric(text, `adadiff_http_requests_total{route="/v1/images",method="POST",status="${status}"}`);
  assert.deepEqual([byStatus(200), byStatus(499), byStatus(500)], [1, 1, 0]);
  // The stopped job's 999 steps were never counted as an image made.
  assert.equal(metric(text, 'adadiff_steps_count{mode="fixed"}'), 1);
  assert.deepEqual(await queueState(url), { running: 0, waiting: 0, capacity: 4 });
});

test('a client that disconnects while waiting leaves the queue', async () => {
  const { url } = await startServer({ concurrency: 1, queueLength: 4 });
  const leaveSlow = new AbortController();
  const leaveWaiting = new AbortController();
  const slow = postJson(`${url}/v1/images`, SLOW_JOB, leaveSlow.signal).catch(() => 'left');
  await waitFor('the slow job to run', async () => (await queueState(url)).running === 1);
  const waiting = postJson(`${url}/v1/images`, QUICK_JOB, leaveWaiting.signal).catch(() => 'left');
  await waitFor('the second job to wait', async () => (await queueState(url)).waiting === 1);
  leaveWaiting.abort();
  assert.equal(await waiting, 'left');
  await waitFor('the waiting job to leave the line', async () => (await queueState(url)).waiting === 0);
  assert.equal((await queueState(url)).running, 1);
  leaveSlow.abort();
  assert.equal(await slow, 'left');
  await waitFor('the slot to be free', async () => (await queueState(url)).running === 0);
  assert.equal(metric(await metricsText(url), 'adadiff_generations_total{outcome="aborted"}'), 2);
});
