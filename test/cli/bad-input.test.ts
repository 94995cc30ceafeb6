/**
 * Bad and unusual inputs, as a new user gives them: each gets a clear error in the project's own
 * words before any work (exit 2 for a flag, 1 for a file or folder), or does the right thing; and a
 * failed command leaves no database, checkpoint, image or report behind. A seeded fuzz of the flag
 * parser and of prompt files closes it.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CollectStore } from '../../src/collect/store.js';
import { loadSafetensors, saveSafetensors } from '../../src/graph/safetensors.js';
import { DEFAULT_MODEL_DIR } from '../../src/paths.js';
import { CHECKPOINT_FILES } from '../../src/policy/checkpoint.js';
import { Rng } from '../../src/util/random.js';
import { runMain } from './run-main.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-bad-'));
const PROMPTS = join(root, 'prompts.txt');
writeFileSync(PROMPTS, 'a red circle\na green star\n');

/** Validator wording that must never reach a user (the project words its own messages). */
const VALIDATOR_WORDS = /Too small|Too big|Invalid input|Invalid option|received/;

/** Runs `args`; checks the exit code, the message, and that the error is a message, not a stack. */
async function fails(args: string[], code: 1 | 2, message: RegExp) {
  const res = await runMain(args);
  const shown = `adadiff ${args.join(' ')}\n${res.stderr}`;
  assert.equal(res.code, code, shown);
  assert.match(res.stderr, /^error: /m, shown);
  assert.match(res.stderr, message, shown);
  assert.doesNotMatch(res.stderr, /^\s+at /m, `a stack trace: ${shown}`);
  assert.doesNotMatch(res.stderr, VALIDATOR_WORDS, shown);
  return res;
}

/** The embedded model with its own networks and another scheduler config. */
function modelWithScheduler(name: string, change: Record<string, unknown>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'scheduler'), { recursive: true });
  for (const entry of readdirSync(DEFAULT_MODEL_DIR)) {
    if (entry === 'scheduler' || entry === 'policy') continue;
    symlinkSync(join(DEFAULT_MODEL_DIR, entry), join(dir, entry));
  }
  const config = JSON.parse(
    readFileSync(join(DEFAULT_MODEL_DIR, 'scheduler', 'scheduler_config.json'), 'utf8'),
  );
  writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ ...config, ...change }));
  return dir;
}

test('flag values: empty, hex, exponent and fractional integers, out of range: exit 2 naming the flag', async () => {
  const png = join(root, 'flags.png');
  const gen = ['generate', '--prompt', 'a red circle', '--out', png];
  const col = ['collect', '--prompts', PROMPTS, '--db', join(root, 'flags.sqlite')];
  const cases: [string[], RegExp][] = [
    [[...gen, '--guidance', ''], /--guidance: expected a number \(got ""\)/],
    [[...gen, '--seed', '0x10'], /--seed: expected an integer \(got "0x10"\)/],
    [[...gen, '--batch', '1e3'], /--batch: expected an integer/],
    [[...gen, '--steps', '2.5'], /--steps: expected an integer from 1 to 1000 or "auto"/],
    [[...gen, '--steps', ''], /--steps: expected an integer from 1 to 1000 or "auto"/],
    [[...gen, '--scale', '-1'], /--scale: expected at least 1/],
    [[...gen, '--model', ''], /--model: expected a non-empty value/],
    [[...col, '--steps', '10,5000'], /--steps: expected comma-separated step counts from 1 to 1000 \("5000"/],
    [[...col, '--steps', '0x10'], /--steps: expected comma-separated step counts/],
    [[...col, '--steps', '20,10'], /--steps: expected increasing step counts/],
    [[...col, '--batch', ''], /--batch: expected an integer/],
    [[...col, '--db', ''], /--db: expected a non-empty value/],
    [['eval', '--db', 'x.sqlite', '--policy', 'p', '--seeds', '0,0'], /--seeds: expected distinct seeds/],
    [
      ['eval', '--db', 'x.sqlite', '--policy', 'p', '--seeds', '1e1'],
      /--seeds: expected comma-separated seeds/,
    ],
    [
      ['policy', 'train', '--db', 'x.sqlite', '--out', join(root, 'p'), '--epochs', '1e3'],
      /--epochs: expected an integer/,
    ],
    [['world', 'prompts', '--n', '0x10', '--out', join(root, 'n.jsonl')], /--n: expected an integer/],
    [
      ['policy', 'train', '--db', 'x.sqlite', '--out', join(root, 'p'), '--budget', '5'],
      /--budget: a step budget of 5 lies outside S/,
    ],
    [
      [
        'policy',
        'train',
        '--db',
        'x.sqlite',
        '--out',
        join(root, 'p'),
        '--budget',
        '25',
        '--reward',
        'threshold',
      ],
      /--budget sets the reward itself/,
    ],
    [
      ['generate', '--prompt', 'a', '--provider', 'tpu'],
      /--provider: expected one of "cpu", "cuda", "webgpu"/,
    ],
  ];
  for (const [args, message] of cases) await fails(args, 2, message);
  assert.ok(!existsSync(png) && !existsSync(join(root, 'flags.sqlite')), 'nothing written');
});

test('the same flag has the same range in every command', async () => {
  const gen = ['generate', '--prompt', 'a red circle', '--out', join(root, 'range.png')];
  const col = ['collect', '--prompts', PROMPTS, '--db', join(root, 'range.sqlite')];
  await fails([...gen, '--steps', '1001'], 2, /--steps: expected at most 1000/);
  await fails([...col, '--steps', '10,1001'], 2, /--steps: expected .* from 1 to 1000/);
  await fails([...gen, '--guidance', '1e30'], 2, /--guidance: expected at most 50/);
  await fails([...col, '--guidance', '51'], 2, /--guidance: expected at most 50/);
  await fails([...col, '--guidance', '-1'], 2, /--guidance: expected at least 0/);
});

test('outputs are checked before any work: a missing folder, a step count the scheduler cannot run', async () => {
  const missing = join(root, 'no-such-folder', 'x.png');
  const res = await fails(
    ['generate', '--prompt', 'a red circle', '--out', missing],
    1,
    /--out .*x\.png: the folder .*no-such-folder does not exist/,
  );
  assert.doesNotMatch(res.stderr, /loading/, 'failed before loading the model');

  const png = join(root, 'steps.png');
  await fails(
    ['generate', '--prompt', 'a red circle', '--steps', '1000', '--out', png],
    2,
    /--steps: 1000 steps cannot run with .*scheduler_config\.json: timestep 1000 falls outside 0\.\.999/,
  );
  assert.ok(!existsSync(png));

  // 1000 passes the flag; the embedded model's schedule (leading, offset 1) cannot run it.
  const db = join(root, 'steps.sqlite');
  await fails(['collect', '--prompts', PROMPTS, '--db', db, '--steps', '10,1000'], 2, /--steps: 1000 steps/);
  assert.ok(!existsSync(db), 'no database created');
});

test('prompts the scorer cannot read are named by file and line before a database exists', async () => {
  const file = join(root, 'outside.txt');
  writeFileSync(
    file,
    'a red circle\n\na photo of a cat\na blue square\nfour red circles and four green stars\n',
  );
  const db = join(root, 'outside.sqlite');
  const res = await fails(
    ['collect', '--prompts', file, '--db', db],
    1,
    /outside\.txt: 2 of 4 prompts cannot be scored by shapes-judge/,
  );
  assert.match(res.stderr, /outside\.txt:3: unknown word 'photo'/);
  assert.match(res.stderr, /outside\.txt:5: 8 objects, the shapes world holds at most 6/);
  assert.ok(!existsSync(db), 'no database created');
});

test('eval: Chromium missing and an existing report folder are refused before any work', async () => {
  const out = join(root, 'report');
  const args = ['eval', '--db', join(root, 'none.sqlite'), '--policy', 'p', '--out', out];
  await fails([...args, '--chromium', join(root, 'no-chromium')], 1, /Chromium is not at .*no-chromium/);
  assert.ok(!existsSync(out));
  mkdirSync(out);
  writeFileSync(join(out, 'index.html'), 'an earlier report');
  await fails(args, 1, /--out .*report already holds files \(index\.html\); give --force to replace them/);
  assert.equal(readFileSync(join(out, 'index.html'), 'utf8'), 'an earlier report');
});

test('writing commands refuse what is there unless told --resume or --force', async () => {
  const prompts = join(root, 'held-out.jsonl');
  writeFileSync(prompts, 'mine\n');
  await fails(
    ['world', 'prompts', '--n', '3', '--out', prompts],
    1,
    /already exists; give --force to replace it/,
  );
  assert.equal(readFileSync(prompts, 'utf8'), 'mine\n');
  const ok = await runMain(['world', 'prompts', '--n', '3', '--out', prompts, '--force']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(prompts, 'utf8').trim().split('\n').length, 3);

  const model = join(root, 'exported');
  mkdirSync(model);
  writeFileSync(join(model, 'model_index.json'), '{}');
  await fails(['world', 'export', '--checkpoint', 'checkpoints/none', '--out', model], 1, /give --force/);

  const run = join(root, 'run');
  mkdirSync(run);
  writeFileSync(join(run, 'checkpoint.safetensors'), 'weights');
  for (const cmd of [
    ['world', 'train', '--latents', join(root, 'no-cache')],
    ['world', 'train-autoencoder'],
  ])
    await fails(
      [...cmd, '--out', run],
      1,
      /already holds a training checkpoint; give --resume to continue it or --force to replace it/,
    );
  assert.equal(readFileSync(join(run, 'checkpoint.safetensors'), 'utf8'), 'weights');
});

test('numeric health: a NaN stops the run with the step where it appeared, and no image is written', async () => {
  const model = modelWithScheduler('beta-end-2', { beta_end: 2 });
  const png = join(root, 'nan.png');
  const res = await fails(
    ['generate', '--prompt', 'a red circle', '--model', model, '--steps', '3', '--out', png],
    1,
    /(NaN|an infinity) in the latents after step 1 of 3 \(timestep \d+\)/,
  );
  assert.ok(!existsSync(png));
  // Not a terminal: the progress line and the networks loaded are in the log.
  assert.match(res.stderr, /loading .*unet[/\\]model\.onnx \(\d+\.\d MB\)/);
  assert.match(res.stderr, /denoising: 0\/3 steps/);
});

test('policy checkpoints: truncated or NaN weights are refused naming the file', async () => {
  const policy = join(root, 'policy');
  cpSync(join(DEFAULT_MODEL_DIR, 'policy'), policy, { recursive: true });
  const weights = join(policy, CHECKPOINT_FILES.weights);
  const { tensors, metadata } = loadSafetensors(weights);
  const [name, first] = [...tensors][0];
  first.data[0] = Number.NaN;
  saveSafetensors(weights, tensors, metadata);
  const gen = ['generate', '--prompt', 'a red circle', '--steps', 'auto', '--policy', policy];
  const png = join(root, 'policy.png');
  await fails(
    [...gen, '--out', png],
    1,
    new RegExp(`policy\\.safetensors: policy network: tensor "${name}" holds NaN`),
  );
  truncateSync(weights, statSync(weights).size - 100);
  await fails(
    [...gen, '--out', png],
    1,
    /policy\.safetensors: tensor ".*" ends at byte \d+ of \d+ \(truncated\?\)/,
  );
  truncateSync(weights, 3);
  await fails([...gen, '--out', png], 1, /policy\.safetensors: 3 bytes, too short for a safetensors file/);
  assert.ok(!existsSync(png));
});

test('databases: other files are refused untouched; holes are named', async () => {
  const empty = join(root, 'empty.sqlite');
  writeFileSync(empty, '');
  const other = join(root, 'other.sqlite');
  const db = new Database(other);
  db.exec('CREATE TABLE notes (text TEXT)');
  db.close();
  const before = readFileSync(other);
  for (const file of [empty, other]) {
    await fails(['collect', '--prompts', PROMPTS, '--db', file], 1, new RegExp(file.replace(/[.]/g, '\\.')));
    await fails(['world', 'evidence', '--db', file], 1, new RegExp(file.replace(/[.]/g, '\\.')));
  }
  assert.equal(statSync(empty).size, 0);
  assert.ok(readFileSync(other).equals(before), "the other application's database is unchanged");

  // Two prompts of three complete, the third at one step count of two: evidence says so.
  const holes = join(root, 'holes.sqlite');
  const store = CollectStore.open(holes);
  store.bindSettings({
    model: DEFAULT_MODEL_DIR,
    modelWeights: '0123456789abcdef',
    scorer: 'shapes-judge',
    steps: [5, 10],
    scheduler: 'ddim',
    guidance: 7.5,
    seed: 0,
  });
  const texts = ['a red circle', 'two blue squares', 'a green star'];
  const stored = store.registerPrompts(texts, 0);
  const record = (i: number, steps: number) => ({
    promptId: stored[i].id,
    prompt: stored[i].text,
    seed: stored[i].seed,
    scheduler: 'ddim',
    steps,
    score: i - steps / 10,
    parts: { success: 1 },
    seconds: 0.1,
  });
  store.write([record(0, 5), record(0, 10), record(1, 5), record(1, 10), record(2, 5)]);
  store.close();
  const res = await runMain(['world', 'evidence', '--db', holes, '--oracle-steps', '5,10']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /warning: .*holes\.sqlite: 1 prompts lack images at some step counts/);
});

/** Values a user (or a script gone wrong) might pass; the first ones are valid somewhere. */
const VALUES = [
  '10',
  '0',
  '1',
  'auto',
  'ddim',
  'a red circle',
  '',
  ' ',
  '-1',
  '0x10',
  '1e3',
  '2.5',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '10,',
  ',10',
  '10,,20',
  '--',
  '-',
  '\u0000',
  'é\u0301',
  '\uFFFD\uFFFD',
  '😀',
  'x'.repeat(5000),
  '../../etc/passwd',
  'C:\\nul',
];
/** Each command with the inputs it needs (files that do not exist, or prompts no scorer reads, so a
 * case that got past its flags still fails, and must say why) and the flags the fuzz draws from. */
const COMMANDS: Record<string, { base: (i: number) => string[]; flags: string[] }> = {
  generate: {
    base: (i) => ['--prompt', 'a red circle', '--out', join(root, `fuzz-${i}`, 'x.png')],
    flags: [
      '--steps',
      '--seed',
      '--batch',
      '--guidance',
      '--eta',
      '--scale',
      '--provider',
      '--scheduler',
      '--prompt',
    ],
  },
  collect: {
    base: (i) => ['--prompts', UNREADABLE, '--db', join(root, `fuzz-${i}.sqlite`)],
    flags: ['--steps', '--seed', '--batch', '--guidance', '--limit', '--scheduler', '--column'],
  },
  'policy train': {
    base: (i) => ['--db', join(root, 'fuzz-none.sqlite'), '--out', join(root, `fuzz-${i}`)],
    flags: ['--epochs', '--batch', '--lr', '--steps', '--seed', '--lambda', '--k', '--gradient', '--reward'],
  },
  eval: {
    base: (i) => [
      '--db',
      join(root, 'fuzz-none.sqlite'),
      '--policy',
      join(root, 'fuzz-none'),
      '--out',
      join(root, `fuzz-${i}`),
    ],
    flags: ['--seeds', '--epochs', '--batch', '--random-runs', '--set', '--lr'],
  },
  'world prompts': {
    base: (i) => ['--out', join(root, `fuzz-${i}`, 'x.jsonl')],
    flags: ['--n', '--seed', '--dialect'],
  },
  'world evidence': {
    base: () => ['--db', join(root, 'fuzz-none.sqlite')],
    flags: ['--oracle-steps', '--k', '--retest-db'],
  },
};
const UNREADABLE = join(root, 'unreadable.txt');
writeFileSync(UNREADABLE, 'a photo of a cat\n');

test('fuzz: random flag values always end in exit 1 or 2 with a message, never a stack', async () => {
  const rng = new Rng(2026);
  const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)];
  const names = Object.keys(COMMANDS);
  const codes = { 1: 0, 2: 0 };
  for (let i = 0; i < 150; i++) {
    const command = pick(names);
    const { base, flags } = COMMANDS[command];
    const args = [...command.split(' '), ...base(i)];
    const n = rng.int(4);
    for (let j = 0; j < n; j++) args.push(pick(flags), pick(VALUES));
    const res = await runMain(args);
    const shown = `adadiff ${JSON.stringify(args)}\n${res.stderr}`;
    assert.ok(res.code === 1 || res.code === 2, shown);
    codes[res.code] += 1;
    assert.match(res.stderr, /error: \S/, shown);
    assert.doesNotMatch(res.stderr, /^\s+at /m, shown);
    assert.doesNotMatch(res.stderr, VALIDATOR_WORDS, shown);
  }
  // Both kinds occur: flags refused (2) and inputs refused once the flags passed (1).
  assert.ok(codes[1] > 10 && codes[2] > 10, JSON.stringify(codes));
  assert.ok(!readdirSync(root).some((f) => /^fuzz-/.test(f)), 'nothing created');
});

test('fuzz: prompt files of random bytes, huge lines and mixed encodings are refused with a message', async () => {
  const rng = new Rng(7);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));
  const files: [string, Buffer][] = [
    ['random.txt', bytes(4096)],
    ['random.jsonl', bytes(4096)],
    ['random.csv', bytes(4096)],
    ['huge-line.txt', Buffer.from(`a red circle ${'and a blue square '.repeat(60_000)}\n`)],
    ['latin1.txt', Buffer.from('a red circle\na caf\xe9 square\n', 'latin1')],
    ['utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a red circle\n', 'utf16le')])],
    ['nul.txt', Buffer.from('a red\u0000circle\n')],
    ['cr-only.txt', Buffer.from('a red circle\ra blue square\rseven stars\r')],
    ['empty.txt', Buffer.alloc(0)],
    ['blank.txt', Buffer.from('\n\n   \n')],
    ['bad.jsonl', Buffer.from('{"prompt": "a red circle"}\n{"prompt": 3}\n')],
    ['no-column.csv', Buffer.from('text,n\na red circle,1\n')],
    ['unknown.xlsx', Buffer.from('PK\u0003\u0004')],
  ];
  for (const [name, content] of files) {
    const file = join(root, name);
    writeFileSync(file, content);
    const db = join(root, `${name}.sqlite`);
    const res = await runMain(['collect', '--prompts', file, '--db', db]);
    const shown = `${name}: ${res.stderr.slice(0, 2000)}`;
    assert.ok(res.code === 1 || res.code === 2, shown);
    assert.match(res.stderr, new RegExp(`^error: .*${name.replace('.', '\\.')}`, 'm'), shown);
    assert.doesNotMatch(res.stderr, /^\s+at /m, shown);
    assert.ok(res.stderr.length < 4000, `${name}: a message of ${res.stderr.length} characters`);
    assert.ok(!existsSync(db), `${name}: no database created`);
  }
});
