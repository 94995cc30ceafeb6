import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFolderError } from '../../../src/models/errors.js';
import { GraphBuilder } from '../../../src/models/onnx-graph.js';
import { loadTokenizer } from '../../../src/models/tokenizer.js';
import { type ImagePreprocess, preprocessImage } from '../../../src/quality/image-preprocess.js';
import { clipScore } from '../../../src/quality/metrics/clip-score.js';
import { loadClipNet, loadImageFeatureNet } from '../../../src/quality/metrics/feature-net.js';
import type { RgbImage } from '../../../src/util/image.js';
import { SD21_SKELETON } from '../../fixtures/tiny-sd.js';

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-feature-net-test-'));
after(() => rm(tmp, { recursive: true, force: true }));
let count = 0;

/** Detail everywhere, different per channel and per seed. */
function pattern(width: number, height: number, seed = 0): RgbImage {
  const plane = width * height;
  const chw = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        chw[c * plane + y * width + x] = ((x * 37 + y * 91 + c * 53 + x * y * 13 + seed * 71) % 256) / 255;
  return { width, height, chw };
}

const W_LOGITS = Float32Array.of(1, -2, 0.5, 3, 0, 1, -1, 2, 0.25, 1, 1, -0.5);

interface FeatureModel {
  size?: number;
  batch?: number | 'batch';
  input?: string;
  /** Output names; undefined leaves the output out. */
  features?: string;
  logits?: string;
  /** A second input, to make the image input ambiguous. */
  extraInput?: boolean;
}

/** features = per-channel mean of the input ([batch, 3]); logits = features · W_LOGITS ([batch, 4]). */
function featureModel(o: FeatureModel): Uint8Array {
  const g = new GraphBuilder('tiny_inception');
  const batch = o.batch ?? 'batch';
  const size = o.size ?? 8;
  const x = g.input(o.input ?? 'pixel_values', 'float32', [batch, 3, size, size]);
  let pooled = g.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  if (o.extraInput) pooled = g.node('Add', [pooled, g.input('offset', 'float32', [batch, 3])]);
  if (o.features) g.output(o.features, 'float32', [batch, 3], pooled);
  if (o.logits) {
    g.output(
      o.logits,
      'float32',
      [batch, 4],
      g.node('MatMul', [pooled, g.initializer('w', W_LOGITS, [3, 4])]),
    );
  }
  return g.build();
}

async function folder(files: Record<string, Uint8Array | object>, tokenizer = false): Promise<string> {
  const dir = join(tmp, `net${count++}`);
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, name), content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  if (tokenizer) {
    await mkdir(join(dir, 'tokenizer'));
    for (const f of ['vocab.json', 'merges.txt', 'special_tokens_map.json', 'tokenizer_config.json']) {
      await copyFile(join(SD21_SKELETON, 'tokenizer', f), join(dir, 'tokenizer', f));
    }
  }
  return dir;
}

const INCEPTION_CONFIG = {
  image_size: 8,
  resize: 'bilinear',
  crop: 'none',
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.25, 1],
};
const PREPROCESS: ImagePreprocess = {
  width: 8,
  height: 8,
  resize: 'bilinear',
  crop: 'none',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.25, 1],
};

function channelMeans(pixels: Float32Array): number[] {
  const plane = pixels.length / 3;
  return [0, 1, 2].map((c) => pixels.subarray(c * plane, (c + 1) * plane).reduce((a, b) => a + b, 0) / plane);
}

/** float32 outputs against float64 expectations. */
const near = (actual: ArrayLike<number>, expected: readonly number[], what: string) => {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const tol = 1e-5 * Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
};

/** Loading must fail with a ModelFolderError naming `file` and matching `message`. */
async function rejectsNaming(load: Promise<unknown>, file: string, message: RegExp): Promise<void> {
  await assert.rejects(load, (e: unknown) => {
    assert.ok(e instanceof ModelFolderError, String(e));
    assert.equal(e.file, file);
    assert.match(e.message, message);
    return true;
  });
}

test('image features and logits per image, preprocessed as config.json says, across chunks of 32', async () => {
  const dir = await folder({
    'model.onnx': featureModel({ features: 'features', logits: 'logits' }),
    'config.json': { name: 'tiny-inception', ...INCEPTION_CONFIG },
  });
  const net = await loadImageFeatureNet(dir);
  try {
    assert.equal(net.name, 'tiny-inception');
    assert.deepEqual(net.kinds, ['features', 'logits']);
    const images = Array.from({ length: 37 }, (_, i) => pattern(8 + (i % 5), 8 + (i % 3) * 4, i));
    const out = await net.extract(images, ['features', 'logits']);
    assert.equal(out.features.length, 37);
    images.forEach((img, i) => {
      const f = channelMeans(preprocessImage(img, PREPROCESS));
      near(out.features[i], f, `features ${i}`);
      const logits = [0, 1, 2, 3].map((k) => f.reduce((s, fc, c) => s + fc * W_LOGITS[c * 4 + k], 0));
      near(out.logits[i], logits, `logits ${i}`);
    });
    const only = await net.extract(images.slice(0, 2), ['features']);
    assert.deepEqual(Object.keys(only), ['features']);
  } finally {
    await net.release();
  }
});

test('static batch-1 exports, renamed tensors, one output only', async () => {
  const dir = await folder({
    'model.onnx': featureModel({ batch: 1, input: 'x', features: 'pool3' }),
    'config.json': { ...INCEPTION_CONFIG, features_output: 'pool3' },
  });
  const net = await loadImageFeatureNet(dir);
  try {
    assert.deepEqual(net.kinds, ['features']);
    const images = [pattern(9, 9, 1), pattern(12, 8, 2), pattern(8, 8, 3)];
    const out = await net.extract(images, ['features']);
    images.forEach((img, i) => {
      near(out.features[i], channelMeans(preprocessImage(img, PREPROCESS)), `features ${i}`);
    });
    await assert.rejects(net.extract(images, ['logits']), /no "logits" output/);
  } finally {
    await net.release();
  }
});

test('inputs besides the image are refused', async () => {
  const dir = await folder({
    'model.onnx': featureModel({ features: 'features', extraInput: true }),
    'config.json': INCEPTION_CONFIG,
  });
  await rejectsNaming(loadImageFeatureNet(dir), join(dir, 'model.onnx'), /unexpected input\(s\) "offset"/);
});

test('feature-net folders that do not fit fail at load, naming file and field', async () => {
  const good = featureModel({ features: 'features', logits: 'logits' });
  const cases: [Record<string, Uint8Array | object>, string, RegExp][] = [
    [{ 'model.onnx': good, 'config.json': { image_size: 8 } }, 'config.json', /field "image_mean"/],
    [{ 'model.onnx': good, 'config.json': { ...INCEPTION_CONFIG, scale: 2 } }, 'config.json', /scale/],
    [
      { 'model.onnx': good, 'config.json': { ...INCEPTION_CONFIG, crop: 'middle' } },
      'config.json',
      /field "crop"/,
    ],
    [{ 'config.json': INCEPTION_CONFIG }, 'model.onnx', /file is missing/],
    [
      { 'model.onnx': good, 'config.json': { ...INCEPTION_CONFIG, image_size: 16 } },
      'model.onnx',
      /image_size makes/,
    ],
    [
      { 'model.onnx': good, 'config.json': { ...INCEPTION_CONFIG, logits_output: 'pre_softmax' } },
      'model.onnx',
      /expected an output named "pre_softmax"/,
    ],
    [
      { 'model.onnx': featureModel({ features: 'pool', logits: 'fc' }), 'config.json': INCEPTION_CONFIG },
      'model.onnx',
      /expected an output "features" .* or "logits"/,
    ],
    [
      { 'model.onnx': featureModel({ batch: 4, features: 'features' }), 'config.json': INCEPTION_CONFIG },
      'model.onnx',
      /static batch size of 4/,
    ],
  ];
  for (const [files, file, message] of cases) {
    const dir = await folder(files);
    await rejectsNaming(loadImageFeatureNet(dir), join(dir, file), message);
  }
});

const TEXT_DIRECTION = Float32Array.of(1, -1, 0.5);

interface ClipModel {
  image?: boolean;
  text?: boolean;
  mask?: boolean;
  batch?: number | 'batch';
  textDim?: number;
}

/**
 * image_embeds = per-channel means of pixel_values; text_embeds = (mean of the real tokens' ids) ·
 * (1, -1, 0.5), the mean over attention_mask = 1 when the model has the mask, else over all 77.
 */
function clipModel(o: ClipModel): Uint8Array {
  const g = new GraphBuilder('tiny_clip');
  const batch = o.batch ?? 'batch';
  if (o.image) {
    const pixels = g.input('pixel_values', 'float32', [batch, 3, 8, 8]);
    g.output(
      'image_embeds',
      'float32',
      [batch, 3],
      g.node('ReduceMean', [pixels], { axes: [2, 3], keepdims: 0 }),
    );
  }
  if (o.text) {
    const ids = g.node('Cast', [g.input('input_ids', 'int64', [batch, 'sequence'])], { to: 1 });
    let mean: string;
    if (o.mask) {
      const mask = g.node('Cast', [g.input('attention_mask', 'int64', [batch, 'sequence'])], { to: 1 });
      const sum = (x: string) => g.node('ReduceSum', [x, g.ints([1])], { keepdims: 1 });
      mean = g.node('Div', [sum(g.node('Mul', [ids, mask])), sum(mask)]);
    } else {
      mean = g.node('ReduceMean', [ids], { axes: [1], keepdims: 1 });
    }
    const dim = o.textDim ?? 3;
    const direction = g.initializer('direction', TEXT_DIRECTION.subarray(0, dim), [1, dim]);
    g.output('text_embeds', 'float32', [batch, dim], g.node('MatMul', [mean, direction]));
  }
  return g.build();
}

const CLIP_CONFIG = { image_size: 8, resize: 'bicubic', crop: 'center' };
const CLIP_PREPROCESS: ImagePreprocess = {
  width: 8,
  height: 8,
  resize: 'bicubic',
  crop: 'center',
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};
const clipTokenizer = loadTokenizer(join(SD21_SKELETON, 'tokenizer'));

async function expectedText(prompts: string[], withMask: boolean): Promise<number[][]> {
  const enc = (await clipTokenizer).encode(prompts);
  return enc.inputIds.map((ids, i) => {
    const mask = withMask ? enc.attentionMask[i] : ids.map(() => 1);
    const mean = ids.reduce((s, id, k) => s + id * mask[k], 0) / mask.reduce((a, b) => a + b, 0);
    return [...TEXT_DIRECTION].map((d) => mean * d);
  });
}

test('CLIP as two towers: image and text embeddings of each pair, and their CLIP score', async () => {
  const dir = await folder(
    {
      'image_model.onnx': clipModel({ image: true }),
      'text_model.onnx': clipModel({ text: true }),
      'config.json': CLIP_CONFIG,
    },
    true,
  );
  const net = await loadClipNet(dir);
  try {
    const prompts = Array.from({ length: 35 }, (_, i) => (i % 2 ? `a photo of ${i} cats` : 'a red circle'));
    const images = prompts.map((_, i) => pattern(8 + (i % 4), 10, i));
    const emb = await net.embed(prompts, images);
    const text = await expectedText(prompts, false);
    const image = images.map((img) => channelMeans(preprocessImage(img, CLIP_PREPROCESS)));
    images.forEach((_, i) => {
      near(emb.image[i], image[i], `image ${i}`);
      near(emb.text[i], text[i], `text ${i}`);
    });
    near([clipScore(emb.image, emb.text).score], [clipScore(image, text).score], 'CLIP score');
    await assert.rejects(net.embed(['one'], []), /1 prompts for 0 images/);
  } finally {
    await net.release();
  }
});

test('CLIP as one model with both towers and an attention mask, static batch 1', async () => {
  const dir = await folder(
    {
      'model.onnx': clipModel({ image: true, text: true, mask: true, batch: 1 }),
      'config.json': CLIP_CONFIG,
    },
    true,
  );
  const net = await loadClipNet(dir);
  try {
    const prompts = ['a blue square at the bottom', 'two cats'];
    const images = [pattern(8, 8, 1), pattern(16, 8, 2)];
    const emb = await net.embed(prompts, images);
    const text = await expectedText(prompts, true);
    images.forEach((img, i) => {
      near(emb.image[i], channelMeans(preprocessImage(img, CLIP_PREPROCESS)), `image ${i}`);
      near(emb.text[i], text[i], `text ${i}`);
    });
  } finally {
    await net.release();
  }
});

test('CLIP folders that do not fit fail at load, naming the file', async () => {
  const image = clipModel({ image: true });
  const text = clipModel({ text: true });
  const both = await folder(
    {
      'model.onnx': clipModel({ image: true, text: true }),
      'image_model.onnx': image,
      'config.json': CLIP_CONFIG,
    },
    true,
  );
  await rejectsNaming(loadClipNet(both), both, /keep one layout/);
  const none = await folder({ 'config.json': CLIP_CONFIG }, true);
  await rejectsNaming(loadClipNet(none), none, /expected image_model.onnx \+ text_model.onnx/);
  const half = await folder({ 'image_model.onnx': image, 'config.json': CLIP_CONFIG }, true);
  await rejectsNaming(loadClipNet(half), join(half, 'text_model.onnx'), /file is missing/);
  const dims = await folder(
    {
      'image_model.onnx': image,
      'text_model.onnx': clipModel({ text: true, textDim: 2 }),
      'config.json': CLIP_CONFIG,
    },
    true,
  );
  await rejectsNaming(
    loadClipNet(dims),
    join(dims, 'text_model.onnx'),
    /has 2 values, but the image embedding/,
  );
  const swapped = await folder(
    { 'image_model.onnx': text, 'text_model.onnx': image, 'config.json': CLIP_CONFIG },
    true,
  );
  await rejectsNaming(
    loadClipNet(swapped),
    join(swapped, 'image_model.onnx'),
    /expected an input named "pixel_values"/,
  );
  const noTokenizer = await folder({
    'image_model.onnx': image,
    'text_model.onnx': text,
    'config.json': CLIP_CONFIG,
  });
  await rejectsNaming(
    loadClipNet(noTokenizer),
    join(noTokenizer, 'tokenizer', 'vocab.json'),
    /file is missing/,
  );
});
