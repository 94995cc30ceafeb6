import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { fromHost, initEngine, np, type Tensor, toHost } from '../../../src/engine/index.js';
import { PACKAGE_ROOT } from '../../../src/paths.js';
import { loadClipNet, loadImageFeatureNet } from '../../../src/quality/metrics/feature-net.js';
import type { RgbImage } from '../../../src/util/image.js';
import { Rng } from '../../../src/util/random.js';
import {
  type ClassifierConfig,
  classify,
  initClassifier,
} from '../../../src/worlds/shapes/feature-nets/classifier.js';
import {
  type ClipConfig,
  embedImages,
  embedTexts,
  initClip,
} from '../../../src/worlds/shapes/feature-nets/clip.js';
import { exportClassifier, exportClip } from '../../../src/worlds/shapes/feature-nets/export.js';
import { networkPixels } from '../../../src/worlds/shapes/feature-nets/images.js';
import { classifierTargets, KINDS, kindIndex } from '../../../src/worlds/shapes/feature-nets/labels.js';
import { classifierOnnx, clipImageOnnx, clipTextOnnx } from '../../../src/worlds/shapes/feature-nets/onnx.js';
import { siblingScene } from '../../../src/worlds/shapes/feature-nets/siblings.js';
import { textTokenizer } from '../../../src/worlds/shapes/feature-nets/text-encoder.js';
import * as world from '../../../src/worlds/shapes/index.js';
import { HELD_OUT_SEED } from '../../../src/worlds/shapes/prompt-sets.js';
import { perturbed, randomIds, relativeError } from '../../fixtures/parity.js';

const CNN = { imageSize: 32, channels: [4, 6, 8] };
const TINY_CLASSIFIER: ClassifierConfig = { cnn: CNN, featureDim: 24, auxWeight: 0.5 };
const TINY_CLIP: ClipConfig = {
  cnn: CNN,
  text: { vocabSize: 30, maxTokens: 64, dim: 16, depth: 2, heads: 2, mlpRatio: 2 },
  embedDim: 8,
  initLogitScale: Math.log(1 / 0.07),
  maxLogitScale: 100,
};

const BATCH = 3;
const images = (rng: Rng) => rng.normalArray(BATCH * 3 * 32 * 32);
const imageTensor = (x: Float32Array) => np.array(x).reshape([BATCH, 3, 32, 32]);

const data = (t: Tensor) => t.dataSync() as Float32Array;
const rgb = (chw: Float32Array): RgbImage => ({ width: 32, height: 32, chw });

test('ONNX export of a fresh classifier matches the engine', async () => {
  await initEngine();
  const rng = new Rng(1);
  const like = initClassifier(TINY_CLASSIFIER, rng);
  const weights = perturbed(toHost(like), rng);
  const x = images(rng);
  const out = classify(fromHost(like, weights), imageTensor(x));
  const session = await ort.InferenceSession.create(classifierOnnx(TINY_CLASSIFIER, weights, KINDS.length));
  const onnx = await session.run({ image: new ort.Tensor('float32', x, [BATCH, 3, 32, 32]) });
  assert.ok(relativeError(onnx.features.data as Float32Array, data(out.features)) < 1e-4, 'features differ');
  assert.ok(relativeError(onnx.logits.data as Float32Array, data(out.logits)) < 1e-4, 'logits differ');
  assert.deepEqual(onnx.logits.dims, [BATCH, KINDS.length]);
});

test('ONNX export of a fresh CLIP pair matches the engine', async () => {
  await initEngine();
  const rng = new Rng(2);
  const like = initClip(TINY_CLIP, rng);
  const weights = perturbed(toHost(like), rng);
  const params = fromHost(like, weights);
  const x = images(rng);
  const ids = randomIds(rng, BATCH, TINY_CLIP.text);
  const imageEmbeds = data(embedImages(TINY_CLIP, params.image, imageTensor(x)));
  const textEmbeds = data(
    embedTexts(TINY_CLIP, params.text, np.array(ids, { dtype: np.int32 }).reshape([BATCH, -1])),
  );
  const image = await ort.InferenceSession.create(clipImageOnnx(TINY_CLIP, weights));
  const text = await ort.InferenceSession.create(clipTextOnnx(TINY_CLIP, weights));
  const { image_embeds } = await image.run({
    pixel_values: new ort.Tensor('float32', x, [BATCH, 3, 32, 32]),
  });
  const { text_embeds } = await text.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [BATCH, TINY_CLIP.text.maxTokens]),
  });
  assert.ok(relativeError(image_embeds.data as Float32Array, imageEmbeds) < 1e-4, 'image embeddings differ');
  assert.ok(relativeError(text_embeds.data as Float32Array, textEmbeds) < 1e-4, 'text embeddings differ');
});

test('exported folders load with the metrics loaders and reproduce the engine', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'feature-nets-'));
  try {
    const rng = new Rng(5);
    const scenes = Array.from({ length: BATCH }, () => world.sampleScene(rng));
    const renders = scenes.map((s) => world.render(s, 32, rng));
    const pixels = new Float32Array(renders.flatMap((r) => [...networkPixels(r)]));

    const classifier = initClassifier(TINY_CLASSIFIER, rng);
    const classifierWeights = toHost(classifier);
    exportClassifier(join(dir, 'classifier'), TINY_CLASSIFIER, classifierWeights, { seed: 0, steps: 0 });
    const expected = data(classify(classifier, imageTensor(pixels)).features);
    const net = await loadImageFeatureNet(join(dir, 'classifier'));
    const { features } = await net.extract(renders.map(rgb), ['features']);
    await net.release();
    assert.ok(relativeError(new Float32Array(features.flatMap((f) => [...f])), expected) < 1e-4);

    const tokenizer = textTokenizer(64);
    const cfg = { ...TINY_CLIP, text: { ...TINY_CLIP.text, vocabSize: tokenizer.vocab.length } };
    const clip = initClip(cfg, rng);
    exportClip(join(dir, 'clip'), cfg, toHost(clip), tokenizer.vocab, { seed: 0, steps: 0 });
    const prompts = scenes.map((s) => world.describe(s, 'verbose', rng));
    const ids = new Int32Array(prompts.flatMap((p) => [...tokenizer.encode(p)]));
    const textEmbeds = data(
      embedTexts(cfg, clip.text, np.array(ids, { dtype: np.int32 }).reshape([BATCH, -1])),
    );
    const imageEmbeds = data(embedImages(cfg, clip.image, imageTensor(pixels)));
    const clipNet = await loadClipNet(join(dir, 'clip'));
    const embeds = await clipNet.embed(prompts, renders.map(rgb));
    await clipNet.release();
    const flat = (rows: Float32Array[]) => new Float32Array(rows.flatMap((r) => [...r]));
    assert.ok(relativeError(flat(embeds.text), textEmbeds) < 1e-4, 'text embeddings differ');
    assert.ok(relativeError(flat(embeds.image), imageEmbeds) < 1e-4, 'image embeddings differ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kind shares sum to 1 and a one-object scene is its own kind', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 50; i++) {
    const placements = world.layoutScene(world.sampleScene(rng), rng);
    const t = classifierTargets(placements);
    assert.ok(Math.abs(t.kinds.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(Math.abs(t.details.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(t.count, placements.length - 1);
    if (placements.length === 1) assert.ok(Math.abs(t.kinds[kindIndex(placements[0].object)] - 1) < 1e-6);
  }
  // Two objects of one size: the larger-area shape (a square) leads a cross.
  const [square, cross] = world.layoutScene(
    world.parsePrompt('a large red square and a large red cross'),
    rng,
  );
  const shares = classifierTargets([square, { ...cross, s: square.s }]).kinds;
  assert.ok(shares[kindIndex(square.object)] > shares[kindIndex(cross.object)]);
});

test('a sibling scene differs from its scene', () => {
  const rng = new Rng(4);
  for (let i = 0; i < 30; i++) {
    const scene = world.sampleScene(rng);
    const sibling = siblingScene(scene, rng);
    if (sibling === null) continue;
    assert.ok(!world.sameScene(scene, sibling), JSON.stringify(scene));
  }
});

const CLASSIFIER_DIR = join(PACKAGE_ROOT, 'models', 'shapes-classifier');
const CLIP_DIR = join(PACKAGE_ROOT, 'models', 'shapes-clip');

test('the shipped classifier classifies fresh one-object renders', {
  skip: !existsSync(CLASSIFIER_DIR),
}, async () => {
  const net = await loadImageFeatureNet(CLASSIFIER_DIR);
  try {
    const rng = new Rng(HELD_OUT_SEED + 100);
    const scenes = Array.from({ length: 42 }, () => world.sampleScene(rng, { maxObjects: 1 }));
    const out = await net.extract(
      scenes.map((s) => rgb(world.render(s, 32, rng))),
      ['features', 'logits'],
    );
    assert.equal(out.features[0].length, 128);
    const correct = scenes.filter((s, i) => {
      const logits = out.logits[i];
      return logits.indexOf(Math.max(...logits)) === kindIndex(s.groups[0]);
    }).length;
    // Chance is 1 in 42.
    assert.ok(correct >= 30, `${correct} of 42 correct`);
  } finally {
    await net.release();
  }
});

test('the shipped CLIP net scores matching pairs above mismatched ones', {
  skip: !existsSync(CLIP_DIR),
}, async () => {
  const net = await loadClipNet(CLIP_DIR);
  try {
    const rng = new Rng(HELD_OUT_SEED + 101);
    const scenes = Array.from({ length: 16 }, () => world.sampleScene(rng));
    const prompts = scenes.map((s, i) => world.describe(s, i % 2 ? 'terse' : 'verbose', rng));
    const { image, text } = await net.embed(
      prompts,
      scenes.map((s) => rgb(world.render(s, 32, rng))),
    );
    const cos = (a: Float32Array, b: Float32Array) => {
      const dot = (x: Float32Array, y: Float32Array) => x.reduce((acc, v, k) => acc + v * y[k], 0);
      return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    };
    let above = 0;
    for (let i = 0; i < scenes.length; i++) {
      const others = text.filter((_, j) => j !== i).map((t) => cos(image[i], t));
      if (cos(image[i], text[i]) > Math.max(...others)) above++;
    }
    assert.ok(above >= 12, `own prompt ranked first for ${above} of 16 renders`);
  } finally {
    await net.release();
  }
});
