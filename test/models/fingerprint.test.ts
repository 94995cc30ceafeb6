import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { CollectStore } from '../../src/collect/store.js';
import { modelFingerprint } from '../../src/models/fingerprint.js';

test("a collect database keeps the weights' hashes: files are read again only when they change", async () => {
  const root = mkdtempSync(join(tmpdir(), 'adadiff-fingerprint-'));
  const model = join(root, 'model');
  for (const part of ['unet', 'text_encoder']) mkdirSync(join(model, part), { recursive: true });
  const weights = resolve(model, 'unet', 'model.onnx_data');
  writeFileSync(weights, 'weights-v1');
  writeFileSync(join(model, 'unet', 'model.onnx'), 'graph');
  writeFileSync(join(model, 'unet', 'config.json'), '{}');
  writeFileSync(join(model, 'text_encoder', 'model.onnx'), 'text');
  const store = CollectStore.open(join(root, 'collect.sqlite'));
  try {
    const first = await modelFingerprint(model, store.hashCache());
    assert.equal(first.hashed.length, 3, 'every weight file, no config');
    const again = await modelFingerprint(model, store.hashCache());
    assert.deepEqual(again.hashed, []);
    assert.equal(again.fingerprint, first.fingerprint);
    assert.equal(
      again.fingerprint,
      (await modelFingerprint(model)).fingerprint,
      'the cache does not change the value',
    );
    // Same size, new bytes, a later mtime: read again, and the fingerprint moves.
    writeFileSync(weights, 'weights-v2');
    utimesSync(weights, new Date(), new Date(Date.now() + 5000));
    const changed = await modelFingerprint(model, store.hashCache());
    assert.deepEqual(changed.hashed, [weights]);
    assert.notEqual(changed.fingerprint, first.fingerprint);
  } finally {
    store.close();
  }
});
