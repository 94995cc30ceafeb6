import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CollectStore } from '../../src/collect/store.js';
import { Rng } from '../../src/util/random.js';
import { describe, sampleScene } from '../../src/worlds/shapes/index.js';
import { runCli, runCliAsync } from '../cli/run-cli.js';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-resume-'));
const model = join(root, 'model');
const prompts = join(root, 'prompts.txt');
const N = 60;
const STEPS = '1,2,3';

before(async () => {
  // 4x4 latents decode to 32x32 images, the smallest the shapes judge reads.
  await buildTinySdFolder(model, { sampleSize: 4 });
  const rng = new Rng(5);
  writeFileSync(
    prompts,
    Array.from({ length: N }, () => describe(sampleScene(rng), 'terse', rng)).join('\n'),
  );
});

const args = (db: string) => [
  'collect',
  '--prompts',
  prompts,
  '--db',
  db,
  '--model',
  model,
  '--scorer',
  'world',
  '--steps',
  STEPS,
  '--batch',
  '2',
];

function rows(db: string) {
  const store = CollectStore.read(db);
  const out = store.records().map(({ seconds, ...r }) => r);
  store.close();
  return out;
}

test('collect killed with SIGKILL resumes with no lost and no duplicate row', async () => {
  const whole = join(root, 'whole.sqlite');
  const first = runCli(args(whole));
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`${N} prompts collected, 0 already there`));
  const expected = rows(whole);
  assert.equal(expected.length, N * 3);

  const killed = join(root, 'killed.sqlite');
  const child = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      join(import.meta.dirname, '..', '..', 'src', 'cli', 'bin.ts'),
      ...args(killed),
    ],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Kill as soon as some, but not all, prompts are in.
  let seen = 0;
  for (let i = 0; i < 600 && seen === 0; i++) {
    await sleep(50);
    try {
      const db = new Database(killed, { readonly: true, fileMustExist: true });
      seen = (db.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n;
      db.close();
    } catch {
      // The child has not created its tables yet.
    }
  }
  child.kill('SIGKILL');
  await exited;
  const partial = rows(killed);
  assert.ok(partial.length > 0 && partial.length < N * 3, `killed after ${partial.length} of ${N * 3} rows`);
  assert.equal(partial.length % 3, 0, 'a prompt is stored with all its step counts or not at all');

  const resumed = runCli(args(killed));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stdout,
    new RegExp(`${N - partial.length / 3} prompts collected, ${partial.length / 3} already there`),
  );
  assert.deepEqual(rows(killed), expected);

  const changed = runCli([...args(killed).slice(0, -4), '--steps', '1,2', '--batch', '2']);
  assert.equal(changed.code, 1);
  assert.match(
    changed.stderr,
    /collected with other settings \(steps: database has \[1,2,3\], asked \[1,2\]\)/,
  );
  // The same folder holding another model (one retrained and exported over it) is not resumed.
  await buildTinySdFolder(model, { sampleSize: 4, timestepType: 'int32' });
  const retrained = runCli(args(killed));
  assert.equal(retrained.code, 1);
  assert.match(retrained.stderr, /modelWeights: database has "[0-9a-f]{16}", asked "[0-9a-f]{16}"/);
});

test('an edited prompt file resumes by prompt: a line inserted at the top is the only one collected', () => {
  const file = join(root, 'edited.txt');
  const db = join(root, 'edited.sqlite');
  const lines = readFileSync(prompts, 'utf8').split('\n').slice(0, 4);
  writeFileSync(file, lines.join('\n'));
  const run = () => runCli(['collect', '--prompts', file, ...args(db).slice(3)]);
  assert.match(run().stdout, /4 prompts collected, 0 already there/);
  const before = rows(db);
  writeFileSync(file, ['a big red circle', ...lines.reverse()].join('\n'));
  const again = run();
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /1 prompts collected, 4 already there/);
  const after = rows(db);
  assert.equal(after.length, 5 * 3);
  assert.deepEqual(
    new Set(after.map((r) => r.prompt)),
    new Set(readFileSync(file, 'utf8').split('\n')),
    'the database holds what the file says',
  );
  assert.deepEqual(
    after.filter((r) => r.prompt !== 'a big red circle'),
    before,
    'the rows already there are untouched',
  );
});

test('two collectors on one database share the work, and together store what one run stores', async () => {
  const db = join(root, 'shared.sqlite');
  const [a, b] = await Promise.all([runCliAsync(args(db)), runCliAsync(args(db))]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const collected = [a, b].map((r) => Number(/(\d+) prompts collected/.exec(r.stdout)?.[1]));
  assert.equal(collected[0] + collected[1], N, `${a.stdout} / ${b.stdout}`);
  assert.deepEqual(
    rows(db),
    rows(join(root, 'whole.sqlite')),
    'the same rows, bit for bit, as one uninterrupted run',
  );
});
