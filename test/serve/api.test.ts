import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import {
  embeddedModel,
  getJson,
  metric,
  metricsText,
  postJson,
  queueState,
  SLOW_JOB,
  startServer,
  waitFor,
} from './server.js';

let url: string;
let stepSet: readonly number[];

before(async () => {
  stepSet = (await embeddedModel()).selector!.stepSet;
  url = (await startServer()).url;
});

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));

async function pngSize(base64: string): Promise<[number, number]> {
  const meta = await sharp(Buffer.from(base64, 'base64')).metadata();
  assert.equal(meta.format, 'png');
  return [meta.width, meta.height];
}

test('GET /health, the page, samplers and sd-models answer in their shapes', async () => {
  const health = await getJson(`${url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, {
    status: 'ok',
    model: 'shapes',
    policy: true,
    queue: { running: 0, waiting: 0, capacity: 16 },
  });

  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  assert.match(await page.text(), /<form id="form">/);

  const samplers = await getJson(`${url}/sdapi/v1/samplers`);
  assert.deepEqual(samplers.body, [
    { name: 'DDIM', aliases: ['ddim'], options: {} },
    { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: {} },
  ]);

  const models = await getJson(`${url}/sdapi/v1/sd-models`);
  assert.equal(models.body.length, 1);
  const [m] = models.body;
  assert.deepEqual(Object.keys(m).sort(), ['config', 'filename', 'hash', 'model_name', 'sha256', 'title']);
  assert.equal(m.model_name, 'shapes');
  assert.match(m.hash, /^[0-9a-f]{10}$/);
  assert.equal(m.title, `shapes [${m.hash}]`);

  const missing = await getJson(`${url}/sdapi/v1/nothing`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.detail, 'no route GET /sdapi/v1/nothing');
});

test('POST /v1/images with steps "auto": the policy chooses, and the answer says what it saved', async () => {
  const res = await postJson(`${url}/v1/images`, { prompt: 'a big red circle', seed: 5 });
  assert.equal(res.status, 200);
  const { body } = res;
  assert.equal(body.images.length, 1);
  assert.deepEqual(await pngSize(body.images[0].png), [64, 64]);
  assert.equal(body.images[0].seed, 5);
  assert.equal(body.stepsChosenBy, 'policy');
  assert.ok(stepSet.includes(body.steps), `${body.steps}`);
  assert.deepEqual(body.policy.stepSet, stepSet);
  const probs = Object.values(body.policy.probabilities) as number[];
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  assert.equal(body.referenceSteps, 50);
  assert.equal(body.stepsSaved, 50 - body.steps);
  const t = body.timings;
  assert.ok(t.msPerStep > 0 && t.generationMs > 0 && t.policyMs >= 0 && t.queueMs >= 0);
  assert.ok(Math.abs(t.savedMsEstimate - t.msPerStep * body.stepsSaved) < 1);

  const again = await postJson(`${url}/v1/images`, { prompt: 'a big red circle', seed: 5 });
  assert.equal(again.body.images[0].png, body.images[0].png, 'a seed reproduces its image');
});

test('POST /v1/images with fixed steps, a batch and DPM-Solver++', async () => {
  const res = await postJson(`${url}/v1/images`, {
    prompt: 'two small blue squares',
    negativePrompt: 'stripes',
    steps: 2,
    scheduler: 'dpm',
    guidance: 4,
    seed: 10,
    batch: 2,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body.images.map((i: { seed: number }) => i.seed),
    [10, 11],
  );
  assert.notEqual(res.body.images[0].png, res.body.images[1].png);
  assert.equal(res.body.steps, 2);
  assert.equal(res.body.stepsChosenBy, 'request');
  assert.equal(res.body.policy, null);
  assert.equal(res.body.timings.policyMs, null);
  assert.equal(res.body.stepsSaved, 48);
});

test('an unmodified webuiapi (A1111 Python client) txt2img payload gets a PNG', async () => {
  // The body `webuiapi.WebUIApi().txt2img(prompt=...)` sends with the client's defaults.
  const payload = fixture('webuiapi-txt2img.json');
  const res = await postJson(`${url}/sdapi/v1/txt2img`, payload);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['images', 'info', 'parameters']);
  assert.equal(res.body.images.length, 1);
  assert.deepEqual(await pngSize(res.body.images[0]), [512, 512]);
  // parameters: the request echoed, every field the client sent kept.
  for (const [k, v] of Object.entries(payload)) assert.deepEqual(res.body.parameters[k], v, k);
  const info = JSON.parse(res.body.info);
  assert.equal(info.prompt, 'a big red circle');
  assert.equal(info.steps, 20);
  assert.equal(info.sampler_name, 'DDIM');
  assert.equal(info.extra_generation_params['Sampler requested'], 'Euler a (not available here; ran DDIM)');
  assert.equal(info.extra_generation_params.Upscale, 'nearest x8 from 64x64');
  assert.equal(info.width, 512);
  assert.ok(Number.isInteger(info.seed) && info.seed >= 0, 'seed -1 draws a seed');
  assert.deepEqual(info.all_seeds, [info.seed]);
  assert.match(
    info.infotexts[0],
    /^a big red circle\nSteps: 20, Sampler: DDIM, CFG scale: 7, Seed: \d+, Size: 512x512/,
  );
  assert.equal(info.adadiff.steps_mode, 'fixed');
});

test("A1111's request model with every field at its default (sampler_index Euler, steps 50) gets a PNG", async () => {
  const res = await postJson(`${url}/sdapi/v1/txt2img`, fixture('a1111-defaults-txt2img.json'));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const info = JSON.parse(res.body.info);
  assert.equal(info.steps, 50);
  assert.equal(info.sampler_name, 'DDIM');
  assert.equal(info.adadiff.steps_saved, 0);
});

test('A1111 steps 0 asks for adaptive steps; the choice and the probabilities are in info', async () => {
  const res = await postJson(`${url}/sdapi/v1/txt2img`, {
    prompt: 'a big red circle',
    steps: 0,
    seed: 3,
    batch_size: 1,
    n_iter: 2,
    sampler_name: 'DPM++ 2M',
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.images.length, 2);
  assert.deepEqual(await pngSize(res.body.images[0]), [64, 64]);
  const info = JSON.parse(res.body.info);
  assert.deepEqual(info.all_seeds, [3, 4]);
  assert.equal(info.batch_size, 1);
  assert.equal(info.sampler_name, 'DPM++ 2M');
  assert.ok(stepSet.includes(info.steps));
  assert.equal(info.adadiff.steps_mode, 'auto');
  assert.equal(info.adadiff.steps, info.steps);
  assert.deepEqual(info.adadiff.step_set, stepSet);
  assert.equal(info.adadiff.probabilities.length, stepSet.length);
  assert.equal(info.adadiff.steps_saved, 50 - info.steps);
  assert.match(info.extra_generation_params.AdaDiff, /^chose \d+ of 10\/20\/30\/40\/50 steps$/);
  assert.equal(res.body.parameters.steps, 0);
});

test('A1111 samplers: DPM++ 2M by name, alias or pre-1.9 name runs DPM-Solver++; unknown names are refused', async () => {
  const run = (sampler: Record<string, unknown>) =>
    postJson(`${url}/sdapi/v1/txt2img`, { prompt: 'a red star', steps: 2, seed: 1, ...sampler });
  const dpm = await run({ sampler_name: 'DPM++ 2M' });
  const alias = await run({ sampler_index: 'k_dpmpp_2m' });
  const karras = await run({ sampler_name: 'DPM++ 2M Karras' });
  const ddim = await run({ sampler_name: 'ddim' });
  assert.equal(alias.body.images[0], dpm.body.images[0]);
  assert.equal(karras.body.images[0], dpm.body.images[0]);
  assert.notEqual(ddim.body.images[0], dpm.body.images[0]);
  assert.equal(
    JSON.parse(karras.body.info).extra_generation_params['Sampler requested'],
    "DPM++ 2M Karras (the model's own timestep spacing was used)",
  );
  const bad = await run({ sampler_name: 'string' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'sampler_name');
  assert.match(bad.body.detail, /^sampler_name: expected DDIM or DPM\+\+ 2M.*\(got "string"\)$/);
});

test('A1111 width and height are checked against the model; send_images false sends none', async () => {
  const run = (extra: Record<string, unknown>) =>
    postJson(`${url}/sdapi/v1/txt2img`, { prompt: 'a red star', steps: 1, ...extra });
  const odd = await run({ width: 500, height: 500 });
  assert.equal(odd.status, 400);
  assert.equal(odd.body.detail, "width: expected 64, the model's image size, or a multiple of it (got 500)");
  const unequal = await run({ width: 128, height: 64 });
  assert.equal(unequal.body.detail, 'height: expected 128, the same as width (got 64)');
  const widthOnly = await run({ width: 128 });
  assert.equal(widthOnly.body.detail, 'height: expected 128, the same as width (got none, which means 64)');
  const tooMany = await run({ batch_size: 4, n_iter: 3 });
  assert.equal(tooMany.body.field, 'n_iter');
  const unschedulable = await run({ steps: 1000 });
  assert.equal(unschedulable.status, 400);
  assert.match(
    unschedulable.body.detail,
    /^steps: this model's scheduler cannot take 1000 steps .*; ask for fewer$/,
  );
  const none = await run({ width: 128, height: 128, send_images: false });
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.images, []);
  assert.equal(JSON.parse(none.body.info).width, 128);
});

test('a server without a policy refuses adaptive steps with a 400 naming steps', async () => {
  const noPolicy = await startServer({}, { ...(await embeddedModel()), selector: null });
  for (const [route, body] of [
    ['/v1/images', { prompt: 'a red circle' }],
    ['/sdapi/v1/txt2img', { prompt: 'a red circle', steps: 0 }],
  ] as const) {
    const res = await postJson(`${noPolicy.url}${route}`, body);
    assert.equal(res.status, 400, route);
    assert.equal(res.body.field, 'steps');
    assert.match(res.body.detail, /no step-selection policy|has none/);
  }
  assert.equal((await getJson(`${noPolicy.url}/health`)).body.policy, false);
});

test('a full queue answers 429 with Retry-After; the time limit answers 503', async () => {
  const busy = await startServer({ queueLength: 0 });
  const leave = new AbortController();
  const slow = postJson(`${busy.url}/v1/images`, SLOW_JOB, leave.signal).catch(() => 'left');
  await waitFor('the slow job to run', async () => (await queueState(busy.url)).running === 1);
  const refused = await postJson(`${busy.url}/v1/images`, { prompt: 'x', steps: 1 });
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.match(refused.body.detail, /queue is full/);
  leave.abort();
  assert.equal(await slow, 'left');

  const hurried = await startServer({ timeLimitMs: 300 });
  const t0 = performance.now();
  const late = await postJson(`${hurried.url}/v1/images`, SLOW_JOB);
  assert.equal(late.status, 503);
  assert.match(late.body.detail, /time limit of 0.3 s/);
  assert.ok(performance.now() - t0 < 5000, 'stopped at the limit, not after 1000 steps');
  const text = await metricsText(hurried.url);
  assert.equal(metric(text, 'adadiff_generations_total{outcome="timeout"}'), 1);
  assert.equal(metric(text, 'adadiff_http_requests_total{route="/v1/images",method="POST",status="503"}'), 1);
});

test('GET /metrics: requests by route and status, queue, latency, steps chosen and steps saved', async () => {
  const text = await metricsText(url);
  assert.match(text, /^# TYPE adadiff_http_request_duration_seconds histogram$/m);
  assert.ok(metric(text, 'adadiff_http_requests_total{route="/v1/images",method="POST",status="200"}') >= 3);
  assert.ok(
    metric(text, 'adadiff_http_requests_total{route="/sdapi/v1/txt2img",method="POST",status="400"}') >= 3,
  );
  assert.equal(metric(text, 'adadiff_queue_waiting'), 0);
  assert.equal(metric(text, 'adadiff_queue_capacity'), 16);
  // The auto requests above: two /v1/images of 1 image, one txt2img of 2, all at the policy's step count.
  const auto = metric(text, 'adadiff_steps_count{mode="auto"}');
  assert.equal(auto, 4);
  const chosen = metric(text, 'adadiff_steps_sum{mode="auto"}') / auto;
  assert.equal(metric(text, 'adadiff_steps_saved_total'), (50 - chosen) * auto);
  assert.ok(metric(text, 'adadiff_steps_count{mode="fixed"}') >= 2);
  assert.ok(metric(text, 'adadiff_process_resident_memory_bytes') > 0);
});
