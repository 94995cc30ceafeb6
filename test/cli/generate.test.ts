import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';
import { runCli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-cli-'));
const model = join(root, 'model');
before(() => buildTinySdFolder(model));

test('generate writes a PNG and reports steps and seconds', async () => {
  const out = join(root, 'cat.png');
  const res = runCli([
    'generate',
    '--model',
    model,
    '--prompt',
    'a photo of a cat',
    '--steps',
    '3',
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 64);
  assert.equal(meta.height, 64);
  assert.match(res.stdout, /3 steps in \d+\.\d+ s/);
  assert.match(res.stdout, /ms\/step/);
  // SD 2.1's own PNDM config drives DDIM, and the user is told what was taken over.
  assert.match(
    res.stderr,
    /scheduler: DDIM configured from the model's PNDMScheduler config \(carried over: beta_end, beta_schedule, beta_start, clip_sample, [a-z_, ]+; ignored: skip_prk_steps\)/,
  );
});

test('--batch and repeated --prompt write numbered files', () => {
  const out = join(root, 'b.png');
  const res = runCli([
    'generate',
    '--model',
    model,
    '--prompt',
    'a',
    '--prompt',
    'b',
    '--batch',
    '2',
    '--steps',
    '1',
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  for (let i = 1; i <= 4; i++) assert.ok(existsSync(join(root, `b-${i}.png`)), `b-${i}.png`);
});

test('bad flags exit 2 with a usage hint naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--steps', 'abc'], /--steps: expected an integer from 1 to 1000 or "auto" \(got "abc"\)/],
    [['--steps', '0'], /--steps: expected at least 1 \(got "0"\)/],
    [['--scheduler', 'euler'], /--scheduler/],
    [['--out', 'x.jpg'], /--out: expected a \.png/],
    [['--no-such-flag'], /unknown option/],
    // Number() would read these as 0, 16, 1000 and 30: refused instead.
    [['--guidance', ''], /--guidance: expected a number \(got ""\)/],
    [['--seed', '0x10'], /--seed: expected an integer \(got "0x10"\)/],
    [['--seed', '1e3'], /--seed: expected an integer \(got "1e3"\)/],
    [['--batch', '2.5'], /--batch: expected an integer \(got "2.5"\)/],
  ];
  for (const [flags, message] of cases) {
    const res = runCli(['generate', '--model', model, '--prompt', 'x', ...flags]);
    assert.equal(res.code, 2, `${flags.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, message);
    assert.match(res.stderr, /--help/);
  }
  const noPrompt = runCli(['generate', '--model', model]);
  assert.equal(noPrompt.code, 2);
  assert.match(noPrompt.stderr, /--prompt: give at least one --prompt/);
  assert.equal(runCli(['no-such-command']).code, 2);
});

test('--version prints the package version; --help names the default model once', () => {
  const version = runCli(['--version']);
  assert.equal(version.code, 0);
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
  assert.equal(version.stdout.trim(), pkg.version);
  const help = runCli(['generate', '--help']).stdout;
  assert.match(help, /--model <dir> +model folder \(default: the embedded shapes model\)/);
  assert.doesNotMatch(help, /models[/\\]shapes/);
});

test('a bad model folder exits 1 with the reason', async () => {
  const broken = join(root, 'broken');
  await buildTinySdFolder(broken, { omit: ['unet/model.onnx'] });
  const res = runCli(['generate', '--model', broken, '--prompt', 'x', '--out', join(root, 'x.png')]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /unet[/\\]model\.onnx/);
  const missing = runCli(['generate', '--model', join(root, 'nowhere'), '--prompt', 'x']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nowhere/);
});
