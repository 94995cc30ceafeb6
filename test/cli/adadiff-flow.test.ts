import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { worldPromptSet } from '../../src/worlds/shapes/prompt-sets.js';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';
import { runCli } from './run-cli.js';

// The whole AdaDiff workflow through the CLI on a tiny model: collect -> train -> select -> generate
// with adaptive steps -> evaluate. S = {1, 2, 3} keeps it to seconds.
const root = mkdtempSync(join(tmpdir(), 'adadiff-flow-'));
const model = join(root, 'model');
const prompts = join(root, 'prompts.jsonl');
const db = join(root, 'collect.sqlite');
const policy = join(root, 'policy');
const trainArgs = [
  'policy',
  'train',
  '--db',
  db,
  '--out',
  policy,
  '--model',
  model,
  '--batch',
  '16',
  '--steps',
  '1,2,3',
];
const common = ['--lr', '3e-3', '--gradient', 'exact'];

before(async () => {
  await buildTinySdFolder(model, { sampleSize: 4 });
  writeFileSync(
    prompts,
    worldPromptSet(40, 'terse')
      .map((p) => JSON.stringify({ prompt: p.text }))
      .join('\n'),
  );
  const res = runCli([
    'collect',
    '--prompts',
    prompts,
    '--db',
    db,
    '--model',
    model,
    '--steps',
    '1,2,3',
    '--batch',
    '8',
  ]);
  assert.equal(res.code, 0, res.stderr);
});

test('policy train writes a checkpoint every epoch and resumes only with the same flags', () => {
  const res = runCli([...trainArgs, ...common, '--epochs', '2']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /40 prompts \(train \d+, val \d+, test \d+\)/);
  assert.match(
    res.stdout,
    /epoch 2: train reward -?\d\.\d+, val reward -?\d\.\d+, entropy \d\.\d+, mean steps \d\.\d+/,
  );
  for (const f of ['policy.json', 'policy.safetensors', 'policy.onnx', 'optimizer.safetensors'])
    assert.ok(existsSync(join(policy, f)), f);
  const json = JSON.parse(readFileSync(join(policy, 'policy.json'), 'utf8'));
  assert.deepEqual(json.steps, [1, 2, 3]);
  assert.equal(json.epoch, 2);
  assert.deepEqual(json.features, { tokens: 77, dim: 32 });

  const more = runCli([...trainArgs, ...common, '--epochs', '3', '--resume']);
  assert.equal(more.code, 0, more.stderr);
  assert.doesNotMatch(more.stdout, /epoch 2:/);
  assert.match(more.stdout, /epoch 3:/);
  const other = runCli([...trainArgs, '--lr', '1e-2', '--gradient', 'exact', '--epochs', '4', '--resume']);
  assert.equal(other.code, 1);
  const again = runCli([...trainArgs, ...common, '--epochs', '1']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds a policy checkpoint; give --resume to continue it or --force/);
  const absent = runCli([...trainArgs, ...common, '--epochs', '1', '--steps', '1,2,5', '--force']);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /has no images at 5 steps \(collected: 1,2,3\)/);
  assert.match(other.stderr, /trained with other flags \(--lr was 0.003, now 0.01\)/);
});

test('select, generate --steps auto and evaluate use the trained policy', () => {
  const sel = runCli([
    'select',
    '--model',
    model,
    '--policy',
    policy,
    '--prompt',
    'a red circle',
    '--prompt',
    'two blue squares',
  ]);
  assert.equal(sel.code, 0, sel.stderr);
  assert.match(sel.stdout, /steps\s+p\(1\)\s+p\(2\)\s+p\(3\)/);
  assert.match(sel.stdout, /^\s+[123](\s+\d\.\d{3}){3}\s+a red circle$/m);
  assert.match(sel.stdout, /policy: \d+\.\d+ ms per prompt; UNet: \d+\.\d+ ms per step/);

  const out = join(root, 'auto.png');
  const gen = runCli([
    'generate',
    '--model',
    model,
    '--steps',
    'auto',
    '--policy',
    policy,
    '--prompt',
    'a red circle',
    '--out',
    out,
  ]);
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(gen.stdout, /policy chose [123] steps/);
  assert.ok(existsSync(out));
  const noPolicy = runCli(['generate', '--model', model, '--steps', 'auto', '--prompt', 'x']);
  assert.equal(noPolicy.code, 1);
  assert.match(noPolicy.stderr, /has no policy\/ folder; give a trained policy with --policy DIR/);

  const evalDir = join(root, 'eval');
  const ev = runCli([
    'policy',
    'evaluate',
    '--db',
    db,
    '--policy',
    policy,
    '--model',
    model,
    '--random-runs',
    '2',
    '--set',
    'all',
    '--out',
    evalDir,
  ]);
  assert.equal(ev.code, 0, ev.stderr);
  const cmp = JSON.parse(readFileSync(join(evalDir, 'comparison.json'), 'utf8'));
  assert.deepEqual(
    cmp.rows.map((r: { method: string }) => r.method),
    ['fixed 1', 'fixed 2', 'fixed 3', 'random', 'AdaDiff'],
  );
  assert.equal(cmp.rows[3].runs, 2);
  assert.ok(Number.isFinite(cmp.timeSaved) && Number.isFinite(cmp.oracleMeanSteps));
});

test('world evidence summarises a collect database by object count', () => {
  const res = runCli([
    'world',
    'evidence',
    '--db',
    db,
    '--oracle-steps',
    '1,2,3',
    '--retest-db',
    db,
    '--out',
    join(root, 'evidence'),
  ]);
  assert.equal(res.code, 0, res.stderr);
  const ev = JSON.parse(readFileSync(join(root, 'evidence', 'evidence.json'), 'utf8'));
  assert.equal(ev.prompts, 40);
  assert.equal(
    Object.values(ev.oracleHistogram).reduce((a: number, b) => a + (b as number), 0),
    40,
  );
  assert.match(res.stdout, /Mean judge score/);
  // The same database as its own retest: every oracle step repeats.
  assert.equal(ev.retest.agreement, 1);
  const missing = runCli(['world', 'evidence', '--db', db, '--retest-db', join(root, 'nope.sqlite')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.sqlite: no such collect database/);
});
