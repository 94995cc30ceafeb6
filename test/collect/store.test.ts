import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import {
  type CollectedRecord,
  type CollectSettings,
  CollectStore,
  promptSeed,
  readCollectDb,
  type StoredPrompt,
} from '../../src/collect/store.js';

const dir = mkdtempSync(join(tmpdir(), 'adadiff-store-'));

const SETTINGS: CollectSettings = {
  model: join(dir, 'model'),
  modelWeights: '0123456789abcdef',
  scorer: 'shapes-judge',
  steps: [10, 20],
  scheduler: 'ddim',
  guidance: 7.5,
  seed: 0,
};

const rec = (p: StoredPrompt, steps: number, score = p.id + steps / 100): CollectedRecord => ({
  promptId: p.id,
  prompt: p.text,
  seed: p.seed,
  scheduler: 'ddim',
  steps,
  score,
  parts: { a: 1 },
  seconds: 0.5,
});

test('settings are recorded once and a resumed run must match them, wherever the checkout moved', () => {
  const file = join(dir, 'settings.sqlite');
  const store = CollectStore.open(file);
  store.bindSettings(SETTINGS);
  store.close();
  const again = CollectStore.open(file);
  again.bindSettings({ ...SETTINGS, model: '/elsewhere/model' });
  assert.throws(
    () => again.bindSettings({ ...SETTINGS, modelWeights: 'fedcba9876543210' }),
    /settings\.sqlite was collected with other settings \(modelWeights: database has "0123456789abcdef", asked "fedcba9876543210"\)/,
  );
  assert.deepEqual(
    again.settings(),
    { ...SETTINGS, model: 'model' },
    'the model folder relative to the database',
  );
  again.close();
});

test('prompts are known by their text: their ids and seeds survive a reordered, extended file', () => {
  const store = CollectStore.open(join(dir, 'prompts.sqlite'));
  const first = store.registerPrompts(['a red circle', 'a blue square'], 7);
  assert.deepEqual(
    first.map((p) => [p.id, p.text, p.seed]),
    [
      [1, 'a red circle', promptSeed(7, 'a red circle')],
      [2, 'a blue square', promptSeed(7, 'a blue square')],
    ],
  );
  const second = store.registerPrompts(['a green star', 'a blue square', 'a red circle', 'a green star'], 7);
  assert.deepEqual(
    second.map((p) => [p.id, p.text]),
    [
      [3, 'a green star'],
      [2, 'a blue square'],
      [1, 'a red circle'],
    ],
    'a repeated line is one prompt',
  );
  assert.notEqual(promptSeed(7, 'a red circle'), promptSeed(8, 'a red circle'));
  store.close();
});

test('complete prompts are those with a row at every step count; rewrites never duplicate', () => {
  const store = CollectStore.open(join(dir, 'rows.sqlite'));
  const [p1, p2] = store.registerPrompts(['one', 'two'], 0);
  store.write([rec(p1, 10), rec(p1, 20), rec(p2, 10)]);
  assert.deepEqual([...store.completePrompts([10, 20])], [1]);
  store.write([rec(p1, 10, 9), rec(p1, 20, 9)]);
  assert.equal(store.count(), 3);
  assert.deepEqual(
    store.records().map((r) => [r.promptId, r.prompt, r.steps, r.score]),
    [
      [1, 'one', 10, 9],
      [1, 'one', 20, 9],
      [2, 'two', 10, 2.1],
    ],
  );
  assert.deepEqual(store.records()[0].parts, { a: 1 });
  assert.throws(() => store.write([{ ...rec(p1, 10), prompt: 'three' }]), /prompt 1 is not "three"/);
  store.close();
});

test('a failing batch writes nothing', () => {
  const store = CollectStore.open(join(dir, 'atomic.sqlite'));
  const [p] = store.registerPrompts(['three'], 0);
  const bad = { ...rec(p, 20), score: null } as unknown as CollectedRecord;
  assert.throws(() => store.write([rec(p, 10), bad]));
  assert.equal(store.count(), 0);
  store.close();
});

test('claims: a prompt claimed by a live collector is not taken again; written or released it is free', () => {
  const file = join(dir, 'claims.sqlite');
  const store = CollectStore.open(file);
  const prompts = store.registerPrompts(['a', 'b', 'c'], 0);
  // Another live process on this host holds "a" (this test's parent: alive, and not us).
  const raw = new Database(file);
  raw
    .prepare('UPDATE prompts SET claimed_by = ?, claimed_at = ? WHERE id = 1')
    .run(`${hostname()}:${process.ppid}`, Date.now());
  assert.deepEqual(
    store.claim(prompts, [10], 2).map((p) => p.text),
    ['b', 'c'],
  );
  // A dead process's claim is void at once.
  raw.prepare('UPDATE prompts SET claimed_by = ? WHERE id = 1').run(`${hostname()}:999999999`);
  assert.deepEqual(
    store.claim(prompts, [10], 3).map((p) => p.text),
    ['a', 'b', 'c'],
    'our own claims and a dead one are ours to take',
  );
  store.write([rec(prompts[0], 10)]);
  store.releaseClaims();
  assert.equal(
    (raw.prepare('SELECT COUNT(*) AS n FROM prompts WHERE claimed_by IS NOT NULL').get() as { n: number }).n,
    0,
  );
  assert.deepEqual(
    store.claim(prompts, [10], 3).map((p) => p.text),
    ['b', 'c'],
    'a complete prompt is never claimed',
  );
  raw.close();
  store.close();
});

test('files that are not collect databases are refused, naming the file; schema-1 databases are read and upgraded', () => {
  const empty = join(dir, 'empty.sqlite');
  writeFileSync(empty, '');
  assert.throws(() => CollectStore.open(empty), /empty\.sqlite: an empty file, not a collect database/);
  const other = join(dir, 'other.sqlite');
  const o = new Database(other);
  o.exec('CREATE TABLE notes (body TEXT)');
  o.close();
  assert.throws(
    () => CollectStore.open(other),
    /other\.sqlite: an SQLite database that is not a collect database \(tables: notes\)/,
  );
  const app = join(dir, 'app.sqlite');
  const a = new Database(app);
  a.pragma('application_id = 1234');
  a.close();
  assert.throws(
    () => CollectStore.open(app),
    /app\.sqlite: an SQLite database of another application \(application id 0x4d2\)/,
  );
  assert.throws(
    () => readCollectDb(join(dir, 'missing.sqlite')),
    /missing\.sqlite: no such collect database/,
  );

  // Schema 1: the prompt's text and seed on every row, no application id.
  const v1 = join(dir, 'v1.sqlite');
  const d = new Database(v1);
  d.exec(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE records (prompt_id INTEGER NOT NULL, prompt TEXT NOT NULL, seed INTEGER NOT NULL,
      scheduler TEXT NOT NULL, steps INTEGER NOT NULL, score REAL NOT NULL, parts TEXT NOT NULL,
      seconds REAL NOT NULL, PRIMARY KEY (prompt_id, steps));`);
  for (const [k, v] of Object.entries({ ...SETTINGS, model: '/old/checkout/model' }))
    d.prepare('INSERT INTO settings VALUES (?, ?)').run(k, JSON.stringify(v));
  for (const steps of [10, 20])
    d.prepare('INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      0,
      'a red circle',
      5,
      'ddim',
      steps,
      1,
      '{}',
      0.1,
    );
  d.close();
  const read = readCollectDb(v1);
  assert.deepEqual(
    read.records.map((r) => [r.promptId, r.prompt, r.seed, r.steps]),
    [
      [0, 'a red circle', 5, 10],
      [0, 'a red circle', 5, 20],
    ],
  );
  const upgraded = CollectStore.open(v1);
  assert.deepEqual(upgraded.records(), read.records, 'the upgrade keeps ids, texts and seeds');
  assert.deepEqual(
    upgraded.registerPrompts(['a red circle'], 0).map((p) => [p.id, p.seed]),
    [[0, 5]],
  );
  upgraded.close();
});
