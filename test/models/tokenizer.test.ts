import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFolderError } from '../../src/models/errors.js';
import { loadTokenizer } from '../../src/models/tokenizer.js';
import { SD21_SKELETON, WORD_SPECIALS, WORD_VOCAB, wordLevelTokenizerJson } from '../fixtures/tiny-sd.js';

const BOS = 49406;
const EOS = 49407;
const tmp = await mkdtemp(join(tmpdir(), 'adadiff-tokenizer-'));
after(() => rm(tmp, { recursive: true, force: true }));

/** A copy of the SD 2.1 tokenizer folder that a test may break. */
async function sd21Copy(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(join(SD21_SKELETON, 'tokenizer'), dir, { recursive: true });
  return dir;
}

async function wordLevelDir(name: string, tokenizerJson: unknown, config: unknown): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  if (config !== undefined) await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

const clip = {
  sd21: loadTokenizer(join(SD21_SKELETON, 'tokenizer')),
  sd15: loadTokenizer(join(SD21_SKELETON, 'onnx-sd15', 'tokenizer')),
};

test('SD 2.1 CLIP tokenizer: known ids, pads with "!" (id 0) to 77, mask covers BOS..EOS', async () => {
  const tok = await clip.sd21;
  assert.equal(tok.modelMaxLength, 77);
  // special_tokens_map.json's pad_token "!" overrides tokenizer_config.json's <|endoftext|>.
  assert.equal(tok.padTokenId, 0);
  const enc = tok.encode(['a photo of a cat', 'Hello   WORLD', '']);
  const content = [[320, 1125, 539, 320, 2368], [3306, 1002], []];
  content.forEach((ids, i) => {
    const real = [BOS, ...ids, EOS];
    assert.deepEqual(enc.inputIds[i], [...real, ...new Array(77 - real.length).fill(0)]);
    assert.deepEqual(enc.attentionMask[i], [...real.map(() => 1), ...new Array(77 - real.length).fill(0)]);
  });
  assert.deepEqual(enc.truncated, [false, false, false]);
});

test('SD 1.5 CLIP tokenizer pads with <|endoftext|> (49407)', async () => {
  const tok = await clip.sd15;
  assert.equal(tok.padTokenId, EOS);
  const enc = tok.encode(['a photo of a cat']);
  assert.deepEqual(enc.inputIds[0].slice(0, 9), [BOS, 320, 1125, 539, 320, 2368, EOS, EOS, EOS]);
  assert.equal(
    enc.attentionMask[0].reduce((a, b) => a + b),
    7,
  );
});

test('long prompts are truncated to BOS + 75 tokens + EOS and reported, never thrown', async () => {
  const tok = await clip.sd21;
  const long = Array.from({ length: 100 }, () => 'cat').join(' ');
  const exact = Array.from({ length: 75 }, () => 'cat').join(' ');
  const enc = tok.encode([long, exact]);
  assert.deepEqual(enc.truncated, [true, false]);
  const expected = [BOS, ...new Array(75).fill(2368), EOS];
  assert.deepEqual(enc.inputIds[0], expected);
  assert.deepEqual(enc.inputIds[1], expected);
  assert.ok(enc.attentionMask[0].every((m) => m === 1));
});

test('a word-level tokenizer.json (Lowercase, Whitespace, template) goes through the same wrapper', async () => {
  const dir = await wordLevelDir('word', wordLevelTokenizerJson(), {
    model_max_length: 6,
    pad_token: WORD_SPECIALS.pad,
  });
  const tok = await loadTokenizer(dir);
  const id = (w: string) => 4 + WORD_VOCAB.indexOf(w);
  assert.equal(tok.padTokenId, 0);
  const enc = tok.encode(['A Red  circle', 'a zebra', 'red green blue yellow circle']);
  assert.deepEqual(enc.inputIds, [
    [2, id('a'), id('red'), id('circle'), 3, 0],
    [2, id('a'), 1, 3, 0, 0],
    [2, id('red'), id('green'), id('blue'), id('yellow'), 3],
  ]);
  assert.deepEqual(enc.attentionMask[1], [1, 1, 1, 1, 0, 0]);
  assert.deepEqual(enc.truncated, [false, false, true]);
});

test('word-level tokenizer.json without specials: max length and pad from tokenizer.json itself', async () => {
  const json = wordLevelTokenizerJson();
  const dir = await wordLevelDir(
    'word-plain',
    { ...json, post_processor: null, truncation: { max_length: 3 }, padding: { pad_id: 0 } },
    undefined,
  );
  const tok = await loadTokenizer(dir);
  assert.equal(tok.modelMaxLength, 3);
  const enc = tok.encode(['cat dog red blue']);
  const id = (w: string) => 4 + WORD_VOCAB.indexOf(w);
  assert.deepEqual(enc.inputIds, [[id('cat'), id('dog'), id('red')]]);
  assert.deepEqual(enc.truncated, [true]);
});

async function rejects(promise: Promise<unknown>, file: string, pattern: RegExp) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ModelFolderError, String(e));
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('tokenizer errors name the file: missing vocab/merges, bad JSON, wrong type, unknown pad token', async () => {
  let dir = await sd21Copy('no-merges');
  await rm(join(dir, 'merges.txt'));
  await rejects(loadTokenizer(dir), join(dir, 'merges.txt'), /file is missing/);

  dir = await sd21Copy('no-vocab');
  await rm(join(dir, 'vocab.json'));
  await rejects(
    loadTokenizer(dir),
    join(dir, 'vocab.json'),
    /missing.*tokenizer\.json, or vocab\.json \+ merges\.txt/,
  );

  dir = await sd21Copy('bad-json');
  await writeFile(join(dir, 'special_tokens_map.json'), '{"pad_token": "!",');
  await rejects(loadTokenizer(dir), join(dir, 'special_tokens_map.json'), /invalid JSON/);

  dir = await sd21Copy('bad-type');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: '77' }));
  await rejects(
    loadTokenizer(dir),
    join(dir, 'tokenizer_config.json'),
    /field "model_max_length": expected a number, got text/,
  );

  dir = await sd21Copy('bad-pad');
  await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '<|pad|>' }));
  await rejects(loadTokenizer(dir), dir, /pad token "<\|pad\|>" is not in the vocabulary/);

  dir = await wordLevelDir('no-max', wordLevelTokenizerJson(), { pad_token: WORD_SPECIALS.pad });
  await rejects(loadTokenizer(dir), join(dir, 'tokenizer_config.json'), /no usable model_max_length/);
});
