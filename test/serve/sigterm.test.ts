import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { postJson, queueState, waitFor } from './server.js';

const BIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'bin.ts');
const ACCEPTED = 6;

test('SIGTERM under load: every accepted request is answered, new ones are refused, then the process exits', {
  timeout: 120_000,
}, async (t) => {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), BIN, 'serve', '--port', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = once(child, 'exit');
  const logs: { msg: string; [k: string]: unknown }[] = [];
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const entry = JSON.parse(line);
      logs.push(entry);
      const m = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(entry.msg);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });
  const url = await listening;

  // Requests of ~10 steps each, one slot: most of them are waiting in the queue when SIGTERM comes.
  const answers = Array.from({ length: ACCEPTED }, (_, i) =>
    postJson(`${url}/v1/images`, { prompt: `a green star ${i}`, steps: 10, seed: i }),
  );
  await waitFor(
    'every request to be accepted',
    async () => {
      const q = await queueState(url);
      return q.running + q.waiting === ACCEPTED;
    },
    30_000,
  );
  child.kill('SIGTERM');
  await waitFor('the shutdown to begin', async () => logs.some((l) => l.msg.startsWith('shutting down')));

  // A new request, on a new connection or one left open, is refused rather than served or left hanging.
  const late = await fetch(`${url}/health`).then(
    (r) => `status ${r.status}`,
    (e: Error) => `no connection (${(e.cause as { code?: string })?.code ?? e.message})`,
  );
  t.diagnostic(`request after SIGTERM: ${late}`);
  assert.match(late, /^(status 503|no connection \((ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)\))$/);

  const results = await Promise.all(answers);
  assert.deepEqual(
    results.map((r) => r.status),
    Array(ACCEPTED).fill(200),
  );
  for (const r of results) assert.equal(r.body.images.length, 1);
  const [code] = await exited;
  assert.equal(code, 0);
  assert.equal(logs.filter((l) => l.msg === 'generated').length, ACCEPTED);
  assert.equal(logs.at(-1)?.msg, 'stopped');
});
