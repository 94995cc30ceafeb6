import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metric, metricsText, postJson, startServer } from './server.js';

const REQUESTS = 200;
const CLIENTS = 8;

/** The q-quantile of sorted values, nearest rank. */
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

test(`load: ${REQUESTS} requests from ${CLIENTS} clients at once, on both APIs, all served`, async (t) => {
  // The queue holds every client, so nothing is refused; a full queue's 429 has its own test.
  const { url } = await startServer({ queueLength: CLIENTS });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const client = async () => {
    while (next < REQUESTS) {
      const i = next++;
      // One step without guidance: the embedded model's cheapest image, so the test measures the server.
      const [route, body] =
        i % 2
          ? ['/sdapi/v1/txt2img', { prompt: `a red circle ${i}`, steps: 1, cfg_scale: 1, seed: i }]
          : ['/v1/images', { prompt: `a blue square ${i}`, steps: 1, guidance: 1, seed: i }];
      const t0 = performance.now();
      const res = await postJson(`${url}${route}`, body);
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) assert.equal((res.body.images as unknown[]).length, 1);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - t0) / 1000;

  latencies.sort((a, b) => a - b);
  const summary =
    `${REQUESTS} requests, ${CLIENTS} at a time: p50 ${quantile(latencies, 0.5).toFixed(0)} ms, ` +
    `p99 ${quantile(latencies, 0.99).toFixed(0)} ms, ${(REQUESTS / seconds).toFixed(1)} requests/s ` +
    `(statuses ${JSON.stringify(Object.fromEntries(statuses))})`;
  t.diagnostic(summary);
  console.log(summary);
  assert.deepEqual([...statuses.keys()], [200]);

  const text = await metricsText(url);
  const served = (route: string) =>
    metric(text, `adadiff_http_requests_total{route="${route}",method="POST",status="200"}`);
  assert.equal(served('/v1/images') + served('/sdapi/v1/txt2img'), REQUESTS);
  assert.equal(metric(text, 'adadiff_http_request_duration_seconds_count{route="/v1/images"}'), REQUESTS / 2);
  assert.equal(metric(text, 'adadiff_queue_running'), 0);
  assert.equal(metric(text, 'adadiff_queue_waiting'), 0);
});
