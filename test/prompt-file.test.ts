import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPromptFile } from '../src/prompts/prompt-file.js';

const SHARED = join(import.meta.dirname, '..', '..', 'shared', 'data', 'prompts');
const dir = mkdtempSync(join(tmpdir(), 'adadiff-prompts-'));

test('reads the real public prompt sets in each format', () => {
  const parti = readPromptFile(join(SHARED, 'parti', 'PartiPrompts.tsv'));
  assert.equal(parti.length, 1632);
  const draw = readPromptFile(join(SHARED, 'drawbench', 'imagen.csv'));
  assert.equal(draw.length, 200);
  assert.ok(!draw[0].text.startsWith('\uFEFF'));
  const geneval = readPromptFile(join(SHARED, 'geneval', 'evaluation_metadata.jsonl'));
  assert.equal(geneval.length, 553);
  const coco = readPromptFile(join(SHARED, 'coco', 'coco-validation-2017-prompts.jsonl'));
  assert.equal(coco.length, 10000);
  assert.ok(coco.every((p) => !p.text.endsWith('\n')));
  const comp = readPromptFile(join(SHARED, 't2i-compbench', 'color_val.txt'));
  assert.equal(comp.length, 300);
  assert.ok(comp.every((p) => !p.text.includes('\r')));
});

test('names the file and the problem', () => {
  const csv = join(dir, 'p.csv');
  writeFileSync(csv, 'caption,x\nhello,1\n');
  assert.throws(() => readPromptFile(csv), /p\.csv: no column "prompt"; columns are: caption, x/);
  assert.deepEqual(
    readPromptFile(csv, 'caption').map((p) => p.text),
    ['hello'],
  );
  const bad = join(dir, 'p.jsonl');
  writeFileSync(bad, '"ok"\n{oops\n');
  assert.throws(() => readPromptFile(bad), /p\.jsonl: line 2 is not valid JSON/);
  assert.throws(() => readPromptFile(join(dir, 'p.yaml')), /cannot read|unknown prompt file type/);
  const empty = join(dir, 'e.txt');
  writeFileSync(empty, '\n\n');
  assert.throws(() => readPromptFile(empty), /contains no prompts/);
});
