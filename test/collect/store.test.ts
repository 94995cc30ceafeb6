import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CollectedRecord, CollectStore } from '../../src/collect/store.js';

const dir = mkdtempSync(join(tmpdir(), 'adadiff-store-'));

const rec = (promptId: number, steps: number, score = promptId + steps / 100): CollectedRecord => ({
  promptId,
  prompt: `prompt ${promptId}`,
  seed: promptId,
  scheduler: 'ddim',
  steps,
  score,
  parts: { a: 1 },
  seconds: 0.5,
});

test('settings are recorded once and a resumed run must match them', () => {
  const file = join(dir, 'settings.sqlite');
  const store = new CollectStore(file);
  store.bindSettings({ model: '/m', steps: [10, 20] });
  store.close();
  const again = new CollectStore(file);
  again.bindSettings({ model: '/m', steps: [10, 20] });
  assert.throws(
    () => again.bindSettings({ model: '/other', steps: [10, 20] }),
    /settings\.sqlite was collected with other settings \(model: database has "\/m", asked "\/other"\)/,
  );
  assert.deepEqual(again.settings(), { model: '/m', steps: [10, 20] });
  again.close();
});

test('complete prompts are those with a row at every step count; rewrites never duplicate', () => {
  const store = new CollectStore(join(dir, 'rows.sqlite'));
  store.write([rec(1, 10), rec(1, 20), rec(2, 10)]);
  assert.deepEqual([...store.completePrompts([10, 20])], [1]);
  store.write([rec(1, 10, 9), rec(1, 20, 9)]);
  assert.equal(store.count(), 3);
  assert.deepEqual(
    store.records().map((r) => [r.promptId, r.steps, r.score]),
    [
      [1, 10, 9],
      [1, 20, 9],
      [2, 10, 2.1],
    ],
  );
  assert.deepEqual(store.records()[0].parts, { a: 1 });
  store.close();
});

test('a failing batch writes nothing', () => {
  const store = new CollectStore(join(dir, 'atomic.sqlite'));
  const bad = { ...rec(3, 20), score: null } as unknown as CollectedRecord;
  assert.throws(() => store.write([rec(3, 10), bad]));
  assert.equal(store.count(), 0);
  store.close();
});
