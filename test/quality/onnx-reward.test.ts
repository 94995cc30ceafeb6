import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFolderError } from '../../src/models/errors.js';
import { loadTokenizer } from '../../src/models/tokenizer.js';
import { preprocessImage } from '../../src/quality/image-preprocess.js';
import { loadOnnxRewardScorer } from '../../src/quality/onnx-reward.js';
import type { RgbImage } from '../../src/util/image.js';
import {
  buildTinyRewardFolder,
  makeTinyRewardFolder,
  type TinyRewardOptions,
  tinyRewardReference,
} from '../fixtures/tiny-reward.js';
import { SD21_SKELETON } from '../fixtures/tiny-sd.js';

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-reward-test-'));
after(() => rm(tmp, { recursive: true, force: true }));
let count = 0;

async function folder(opts: TinyRewardOptions = {}): Promise<string> {
  const dir = join(tmp, `reward${count++}`);
  await buildTinyRewardFolder(dir, opts);
  return dir;
}

/** Detail everywhere, different per channel; values are multiples of 1/255, so 8-bit quantising keeps them. */
function pattern(width: number, height: number, seed = 0): RgbImage {
  const plane = width * height;
  const chw = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        chw[c * plane + y * width + x] = ((x * 37 + y * 91 + c * 53 + x * y * 13 + seed * 71) % 256) / 255;
  return { width, height, chw };
}

/**
 * The model input for an image whose shorter side already is the size, so the resize is the identity
 * and only the centre crop (offset worked out by hand) and the normalisation remain.
 */
function cropped(
  image: RgbImage,
  left: number,
  top: number,
  mean: readonly number[],
  std: readonly number[],
) {
  const size = 8;
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const v = image.chw[c * image.width * image.height + (y + top) * image.width + x + left];
        out[c * size * size + y * size + x] = (v - mean[c]) / std[c];
      }
  return out;
}

/** The tokenizer every tiny folder copies, loaded on its own for the expected ids. */
const clip = loadTokenizer(join(SD21_SKELETON, 'tokenizer'));

/** The tiny model's raw scores. */
async function expectedRaw(prompts: string[], pixels: Float32Array[], withMask: boolean): Promise<number[]> {
  const enc = (await clip).encode(prompts);
  return pixels.map((p, i) =>
    tinyRewardReference(p, enc.inputIds[i], withMask ? enc.attentionMask[i] : undefined),
  );
}

/** Loading must fail with a ModelFolderError naming `file` (relative to the folder) and matching `message`. */
async function rejectsNaming(opts: TinyRewardOptions, file: string, message: RegExp): Promise<void> {
  const dir = await folder(opts);
  await assert.rejects(loadOnnxRewardScorer(dir), (e: unknown) => {
    assert.ok(e instanceof ModelFolderError, String(e));
    assert.equal(e.file, join(dir, file));
    assert.ok(e.message.startsWith(join(dir, file)), e.message);
    assert.match(e.message, message);
    return true;
  });
}

const near = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-4, `${what}: ${actual} vs ${expected}`);

test('scores equal a direct computation on independently cropped images, normalised', async () => {
  const [mean, std] = [
    [0.5, 0.4, 0.3],
    [0.25, 0.5, 1],
  ];
  const dir = await folder({ config: { image_mean: mean, image_std: std, score_mean: 0.25, score_std: 2 } });
  const scorer = await loadOnnxRewardScorer(dir);
  try {
    // Portrait 8x13 keeps rows 2..9, landscape 14x8 keeps columns 3..10, square 8x8 stays whole.
    const images = [pattern(8, 13), pattern(14, 8, 1), pattern(8, 8, 2)];
    const prompts = ['a photo of a cat', 'a red circle on the left', ''];
    const scores = await scorer.score(prompts, images);
    const pixels = [
      cropped(images[0], 0, 2, mean, std),
      cropped(images[1], 3, 0, mean, std),
      cropped(images[2], 0, 0, mean, std),
    ];
    const raw = await expectedRaw(prompts, pixels, false);
    assert.equal(scores.length, 3);
    scores.forEach((s, i) => {
      near(s.parts.raw, raw[i], `raw ${i}`);
      near(s.total, (raw[i] - 0.25) / 2, `total ${i}`);
    });
  } finally {
    await scorer.release();
  }
});

test('resize and crop from config.json reach the preprocessing; CLIP normalisation by default', async () => {
  for (const [resize, crop] of [
    ['bicubic', 'center'],
    ['bilinear', 'none'],
    ['nearest', 'center'],
  ] as const) {
    const dir = await folder({ config: { resize, crop } });
    const scorer = await loadOnnxRewardScorer(dir);
    try {
      const image = pattern(23, 13, 3);
      const [score] = await scorer.score(['a dog'], [image]);
      const pixels = preprocessImage(image, {
        width: 8,
        height: 8,
        resize,
        crop,
        mean: CLIP_MEAN,
        std: CLIP_STD,
      });
      const [raw] = await expectedRaw(['a dog'], [pixels], false);
      near(score.total, raw, `${resize} ${crop}`);
    } finally {
      await scorer.release();
    }
  }
});

test('both the text and the image change the score', async () => {
  const scorer = await loadOnnxRewardScorer(await folder());
  try {
    const [a, b, c] = await scorer.score(
      ['a photo of a cat', 'a blue square at the bottom', 'a photo of a cat'],
      [pattern(16, 16), pattern(16, 16), pattern(16, 16, 3)],
    );
    assert.ok(Math.abs(a.total - b.total) > 1e-3, `text: ${a.total} vs ${b.total}`);
    assert.ok(Math.abs(a.total - c.total) > 1e-3, `image: ${a.total} vs ${c.total}`);
  } finally {
    await scorer.release();
  }
});

test('int32 and int64 ids, with and without attention_mask; the mask is fed when the model has it', async () => {
  const prompts = ['a photo of a cat', 'green'];
  const images = [pattern(14, 8), pattern(8, 11, 4)];
  const pixels = [
    cropped(images[0], 3, 0, CLIP_MEAN, CLIP_STD),
    cropped(images[1], 0, 1, CLIP_MEAN, CLIP_STD),
  ];
  for (const opts of [
    { idsType: 'int32', withMask: true, scoreRank: 1 },
    { idsType: 'int64', withMask: false, scoreRank: 2 },
  ] as const) {
    const scorer = await loadOnnxRewardScorer(await folder(opts));
    try {
      const scores = await scorer.score(prompts, images);
      const raw = await expectedRaw(prompts, pixels, opts.withMask);
      for (const [i, s] of scores.entries()) near(s.total, raw[i], `${JSON.stringify(opts)} ${i}`);
      if (opts.withMask) {
        // Averaging over the padding too would give a clearly different score.
        const unmasked = await expectedRaw(prompts, pixels, false);
        assert.ok(Math.abs(scores[0].total - unmasked[0]) > 1e-3);
      }
    } finally {
      await scorer.release();
    }
  }
});

test('exports with static batch 1 and sequence length: one image per call, lengths checked', async () => {
  const prompts = ['a cat', 'a dog', 'a red square'];
  const images = [pattern(8, 8), pattern(8, 8, 1), pattern(8, 8, 2)];
  const fixed = await loadOnnxRewardScorer(await folder({ staticShapes: true, withMask: true }));
  const dynamic = await loadOnnxRewardScorer(await folder({ withMask: true }));
  try {
    const expected = await dynamic.score(prompts, images);
    for (const [i, s] of (await fixed.score(prompts, images)).entries())
      near(s.total, expected[i].total, `${i}`);
  } finally {
    await Promise.all([fixed.release(), dynamic.release()]);
  }
  await rejectsNaming(
    { staticShapes: true, config: { max_length: 20 } },
    'model.onnx',
    /input "input_ids" has static length 77, but texts are encoded to 20 tokens/,
  );
});

test("max_length below the tokenizer's truncates as the tokenizer would, keeping the end token", async () => {
  const long = 'a very long prompt about a small red circle and a large blue square on a green background';
  const prompts = [long, 'a cat'];
  const images = [pattern(10, 10), pattern(10, 10, 5)];
  const viaConfig = await loadOnnxRewardScorer(await folder({ withMask: true, config: { max_length: 8 } }));
  const viaTokenizer = await loadOnnxRewardScorer(await folder({ withMask: true, maxLength: 8 }));
  const full = await loadOnnxRewardScorer(await folder({ withMask: true }));
  try {
    const a = await viaConfig.score(prompts, images);
    const b = await viaTokenizer.score(prompts, images);
    const c = await full.score(prompts, images);
    for (const [i, s] of a.entries()) near(s.total, b[i].total, `prompt ${i}`);
    assert.ok(Math.abs(a[0].total - c[0].total) > 1e-3, 'the long prompt was cut');
    near(a[1].total, c[1].total, 'the short prompt is unchanged');
  } finally {
    await Promise.all([viaConfig.release(), viaTokenizer.release(), full.release()]);
  }
});

test('more images than one chunk: same scores as one by one', async () => {
  const scorer = await loadOnnxRewardScorer(await folder());
  try {
    const n = 35;
    const prompts = Array.from({ length: n }, (_, i) => (i % 2 ? 'a cat' : 'a blue dog'));
    const images = Array.from({ length: n }, (_, i) => pattern(9 + (i % 4), 9, i));
    const batched = await scorer.score(prompts, images);
    assert.equal(batched.length, n);
    for (const i of [0, 31, 32, 34]) {
      const [single] = await scorer.score([prompts[i]], [images[i]]);
      near(batched[i].total, single.total, `image ${i}`);
    }
    assert.deepEqual(await scorer.score([], []), []);
    await assert.rejects(scorer.score(['a', 'b'], [images[0]]), /2 prompts for 1 images/);
  } finally {
    await scorer.release();
  }
});

test("name: config.json's, else the folder's", async () => {
  const named = await loadOnnxRewardScorer(await folder({ config: { name: 'ImageReward-v1.0' } }));
  const dir = await folder({ config: { name: undefined } });
  const unnamed = await loadOnnxRewardScorer(dir);
  assert.equal(named.name, 'ImageReward-v1.0');
  assert.equal(unnamed.name, basename(dir));
  await Promise.all([named.release(), unnamed.release()]);
});

test('makeTinyRewardFolder makes a folder the scorer loads', async () => {
  const { dir, remove } = await makeTinyRewardFolder();
  try {
    const scorer = await loadOnnxRewardScorer(dir);
    assert.equal(scorer.name, 'tiny-reward');
    await scorer.release();
  } finally {
    await remove();
  }
});

test('errors name the file and what was expected', async () => {
  await rejectsNaming({ omit: ['model.onnx'] }, 'model.onnx', /file is missing/);
  await rejectsNaming({ omit: ['config.json'] }, 'config.json', /file is missing/);
  await rejectsNaming({ omit: ['tokenizer'] }, 'tokenizer/vocab.json', /file is missing/);
  await rejectsNaming({ config: { image_size: undefined } }, 'config.json', /field "image_size": missing/);
  await rejectsNaming({ config: { image_size: 'large' } }, 'config.json', /field "image_size"/);
  await rejectsNaming({ config: { score_std: '1.03' } }, 'config.json', /field "score_std".*number/);
  await rejectsNaming({ config: { image_mean: [0.5, 0.5] } }, 'config.json', /field "image_mean"/);
  await rejectsNaming({ config: { resize: 'lanczos' } }, 'config.json', /field "resize"/);
  await rejectsNaming({ config: { score_sdt: 1 } }, 'config.json', /score_sdt/);
  await rejectsNaming({ config: { max_length: 100 } }, 'config.json', /max_length.*model_max_length 77/);
  await rejectsNaming(
    { config: { image_input: 'pixels' } },
    'model.onnx',
    /input named "pixels".*"pixel_values"/,
  );
  await rejectsNaming(
    { config: { mask_input: 'attention_mask' } },
    'model.onnx',
    /input named "attention_mask"/,
  );
  await rejectsNaming({ config: { score_output: 'logits' } }, 'model.onnx', /output named "logits".*"score"/);
  await rejectsNaming(
    { config: { image_input: 'input_ids', ids_input: 'pixel_values' } },
    'model.onnx',
    /input "input_ids" has rank 2 \[batch, sequence\], expected rank 4/,
  );
  await rejectsNaming(
    { config: { image_size: 16 } },
    'model.onnx',
    /\[batch, 3, 8, 8\].*\[batch, 3, 16, 16\]/,
  );
  await rejectsNaming(
    { withMask: true, config: { ids_input: 'attention_mask' } },
    'model.onnx',
    /unexpected input.*"input_ids"/,
  );
});
