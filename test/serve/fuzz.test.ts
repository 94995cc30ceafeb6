import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/util/random.js';
import { getJson, metric, metricsText, postJson, startServer } from './server.js';

/** Values of every JSON kind and then some: wrong types, edges, huge, odd text. */
const NASTY: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0,
  1.5,
  2 ** 53,
  -(2 ** 31),
  1e300,
  '',
  'auto',
  '7',
  '\u0000',
  '\ud800',
  '<script>alert(1)</script>',
  'x'.repeat(5000),
  [],
  [1, 2],
  ['a red circle'],
  {},
  { $ne: 1 },
  { nested: { deeper: [null] } },
];

/** Cheap when valid (one step, no guidance) so that a body which gets through costs little. */
const BASES = {
  '/v1/images': { prompt: 'a red circle', steps: 1, guidance: 1 },
  '/sdapi/v1/txt2img': { prompt: 'a red circle', steps: 1, cfg_scale: 1 },
} as const;

const FIELDS = {
  '/v1/images': ['prompt', 'negativePrompt', 'steps', 'scheduler', 'guidance', 'seed', 'batch', 'extra'],
  '/sdapi/v1/txt2img': [
    'prompt',
    'negative_prompt',
    'steps',
    'cfg_scale',
    'seed',
    'batch_size',
    'n_iter',
    'sampler_name',
    'sampler_index',
    'width',
    'height',
    'send_images',
    'override_settings',
  ],
} as const;

/** A body with one to three fields set to nasty values or removed; steps kept small or invalid. */
function mutatedBody(rng: Rng, route: keyof typeof BASES): Record<string, unknown> {
  const body: Record<string, unknown> = { ...BASES[route] };
  const fields = FIELDS[route];
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const field = fields[rng.int(fields.length)];
    if (rng.uniform() < 0.15) delete body[field];
    else body[field] = NASTY[rng.int(NASTY.length)];
  }
  // A missing or null step count means 50 (or the policy's choice): valid but slow, so not here.
  if (body.steps == null || body.steps === 'auto' || body.steps === 0) body.steps = 1;
  return body;
}

/** Raw bodies the JSON parser has to refuse: cut JSON, random bytes, deep nesting, wrong types. */
function rawBodies(rng: Rng): { body: string | Uint8Array; type: string }[] {
  const json = JSON.stringify(BASES['/v1/images']);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(256));
  return [
    { body: '', type: 'application/json' },
    { body: json.slice(0, 20), type: 'application/json' },
    { body: `${json}}`, type: 'application/json' },
    { body: '{"prompt": "a", "prompt": 3}', type: 'application/json' },
    { body: '{"__proto__": {"x": 1}, "prompt": "a"}', type: 'application/json' },
    { body: '{"constructor": {"prototype": {"x": 1}}}', type: 'application/json' },
    { body: `${'['.repeat(50_000)}${']'.repeat(50_000)}`, type: 'application/json' },
    { body: 'NaN', type: 'application/json' },
    { body: '"just a string"', type: 'application/json' },
    { body: json, type: 'text/plain' },
    { body: json, type: 'application/x-www-form-urlencoded' },
    { body: 'x'.repeat(2 * 1024 * 1024), type: 'application/json' },
    ...Array.from({ length: 20 }, (_, i) => ({
      body: bytes(1 + rng.int(4096)),
      type: i % 2 ? 'application/json' : 'application/octet-stream',
    })),
  ];
}

test('fuzzed bodies on both POST routes get 4xx answers naming the field, never a 500; the server keeps answering', async (t) => {
  const { url } = await startServer({ timeLimitMs: 20_000 });
  const rng = new Rng(16);
  const statuses = new Map<number, number>();
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);

  for (let i = 0; i < 240; i++) {
    const route = i % 2 ? '/sdapi/v1/txt2img' : '/v1/images';
    const body = mutatedBody(rng, route);
    const res = await postJson(`${url}${route}`, body);
    count(res.status);
    assert.ok(res.status === 200 || res.status === 400, `${route} ${JSON.stringify(body)}: ${res.status}`);
    if (res.status === 400) {
      assert.equal(typeof res.body.field, 'string', JSON.stringify(res.body));
      assert.ok(res.body.detail.startsWith(`${res.body.field}: `), res.body.detail);
      // The project's words, not the validator's ("Invalid input: expected string, received number").
      assert.doesNotMatch(res.body.detail, /Invalid input|received|Too (big|small)/, res.body.detail);
    }
  }
  for (const route of ['/v1/images', '/sdapi/v1/txt2img']) {
    for (const { body, type } of rawBodies(rng)) {
      const res = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': type }, body });
      count(res.status);
      const shown = `${route} ${type} ${String(body.slice(0, 40))}`;
      assert.ok([400, 413, 415].includes(res.status), `${shown}: ${res.status}`);
      const answer = (await res.json()) as { field: string; detail: string };
      assert.ok(answer.detail.startsWith(`${answer.field}: `), `${shown}: ${answer.detail}`);
    }
  }
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  assert.ok((statuses.get(200) ?? 0) > 0, 'some mutated bodies are still valid and are served');

  assert.equal((await getJson(`${url}/health`)).status, 200);
  const after = await postJson(`${url}/v1/images`, BASES['/v1/images']);
  assert.equal(after.status, 200);
  assert.equal(metric(await metricsText(url), 'adadiff_generations_total{outcome="failed"}'), 0);
});
