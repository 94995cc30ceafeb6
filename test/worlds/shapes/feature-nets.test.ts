import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Graph, Tensor } from '../../../src/graph/graph.js';
import { type HostTensor, initWeights, type Weights } from '../../../src/graph/params.js';
import { loadSafetensors } from '../../../src/graph/safetensors.js';
import { type Feed, floatFeed, GradientSession, int64Feed, runGraph } from '../../../src/graph/session.js';
import { freshState, runTraining } from '../../../src/graph/trainer.js';
import { PACKAGE_ROOT } from '../../../src/paths.js';
import { loadClipNet, loadImageFeatureNet } from '../../../src/quality/metrics/feature-net.js';
import type { RgbImage } from '../../../src/util/image.js';
import { Rng } from '../../../src/util/random.js';
import { batchRng, classifierBatch } from '../../../src/worlds/shapes/feature-nets/batches.js';
import {
  type ClassifierConfig,
  classifierGraph,
  classifierLoss,
} from '../../../src/worlds/shapes/feature-nets/classifier.js';
import {
  type ClipConfig,
  clipImageGraph,
  clipLoss,
  clipTextGraph,
} from '../../../src/worlds/shapes/feature-nets/clip.js';
import { FEATURE_NETS } from '../../../src/worlds/shapes/feature-nets/config.js';
import { exportClassifier, exportClip } from '../../../src/worlds/shapes/feature-nets/export.js';
import { networkPixels } from '../../../src/worlds/shapes/feature-nets/images.js';
import {
  AUX_CLASSES,
  classifierTargets,
  KINDS,
  kindIndex,
} from '../../../src/worlds/shapes/feature-nets/labels.js';
import { siblingScene } from '../../../src/worlds/shapes/feature-nets/siblings.js';
import { textTokenizer } from '../../../src/worlds/shapes/feature-nets/text-encoder.js';
import * as world from '../../../src/worlds/shapes/index.js';
import { HELD_OUT_SEED } from '../../../src/worlds/shapes/prompt-sets.js';

const CNN = { imageSize: 32, channels: [4, 6, 8] };
const TINY_CLASSIFIER: ClassifierConfig = { cnn: CNN, featureDim: 24, auxWeight: 0.5 };
const tokenizer = textTokenizer(64);
const TINY_CLIP: ClipConfig = {
  cnn: CNN,
  text: { vocabSize: tokenizer.vocab.length, maxTokens: 64, dim: 16, depth: 2, heads: 2, mlpRatio: 2 },
  embedDim: 8,
  initLogitScale: Math.log(1 / 0.07),
  maxLogitScale: 100,
};

const BATCH = 3;
const rgb = (chw: Float32Array): RgbImage => ({ width: 32, height: 32, chw });
const flat = (rows: Float32Array[]) => new Float32Array(rows.flatMap((r) => [...r]));

/** Largest absolute difference relative to the largest expected magnitude. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let [diff, scale] = [0, 0];
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** Seeded weights of `g`, every tensor nudged so zero-initialised biases and unit norms count too. */
function randomWeights(g: Graph, rng: Rng): Map<string, HostTensor> {
  const weights = initWeights(g.paramSpecs(), rng);
  for (const t of weights.values()) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.05 * rng.normal();
  return weights;
}

/** A batch of renders (as the loaders get them) and prompts (as token ids), from seeded scenes. */
function sceneBatch(rng: Rng) {
  const scenes = Array.from({ length: BATCH }, () => world.sampleScene(rng));
  const renders = scenes.map((s) => world.render(s, 32, rng));
  const prompts = scenes.map((s) => world.describe(s, 'verbose', rng));
  return {
    renders,
    prompts,
    pixels: floatFeed(flat(renders.map(networkPixels)), [BATCH, 3, 32, 32]),
    ids: int64Feed(
      prompts.flatMap((p) => [...tokenizer.encode(p)]),
      [BATCH, 64],
    ),
  };
}

const output = async (g: Graph, t: Tensor, feeds: Record<string, Feed>, weights: Weights) =>
  (await runGraph(g, { out: t }, feeds, weights, { threads: 1 })).out.data;

test("exported folders load with the metrics loaders and give the network's outputs", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'feature-nets-'));
  try {
    const rng = new Rng(5);
    const batch = sceneBatch(rng);

    const classifier = classifierGraph(TINY_CLASSIFIER);
    const classifierWeights = randomWeights(classifierLoss(TINY_CLASSIFIER, BATCH).g, rng);
    exportClassifier(join(dir, 'classifier'), TINY_CLASSIFIER, classifierWeights, { seed: 0, steps: 0 });
    const net = await loadImageFeatureNet(join(dir, 'classifier'));
    const out = await net.extract(batch.renders.map(rgb), ['features', 'logits']);
    await net.release();
    const feeds = { image: batch.pixels };
    const { features, logits } = classifier;
    const expected = await runGraph(classifier.g, { features, logits }, feeds, classifierWeights, {
      threads: 1,
    });
    assert.ok(relativeError(flat(out.features), expected.features.data) < 1e-5, 'features differ');
    assert.ok(relativeError(flat(out.logits), expected.logits.data) < 1e-5, 'logits differ');
    assert.equal(out.logits[0].length, KINDS.length);

    const clipWeights = randomWeights(clipLoss(TINY_CLIP, BATCH).g, rng);
    exportClip(join(dir, 'clip'), TINY_CLIP, clipWeights, tokenizer.vocab, { seed: 0, steps: 0 });
    const clipNet = await loadClipNet(join(dir, 'clip'));
    const embeds = await clipNet.embed(batch.prompts, batch.renders.map(rgb));
    await clipNet.release();
    const image = clipImageGraph(TINY_CLIP);
    const text = clipTextGraph(TINY_CLIP);
    const imageEmbeds = await output(image.g, image.imageEmbeds, { pixel_values: batch.pixels }, clipWeights);
    const textEmbeds = await output(text.g, text.textEmbeds, { input_ids: batch.ids }, clipWeights);
    assert.ok(relativeError(flat(embeds.image), imageEmbeds) < 1e-5, 'image embeddings differ');
    assert.ok(relativeError(flat(embeds.text), textEmbeds) < 1e-5, 'text embeddings differ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the text embedding does not depend on how far a prompt is padded', async () => {
  const rng = new Rng(6);
  const at = (maxTokens: number) => ({ ...TINY_CLIP, text: { ...TINY_CLIP.text, maxTokens } });
  const weights = randomWeights(clipLoss(at(20), 2).g, rng);
  const pos = weights.get('text.encoder.pos')!;
  const embed = async (maxTokens: number, weights: Weights) => {
    const ids = new Array(maxTokens).fill(0);
    ids.splice(0, 4, 1, 4, 5, 2);
    const text = clipTextGraph(at(maxTokens));
    return output(text.g, text.textEmbeds, { input_ids: int64Feed(ids, [1, maxTokens]) }, weights);
  };
  const short = new Map(weights).set('text.encoder.pos', {
    shape: [12, 16],
    data: pos.data.slice(0, 12 * 16),
  });
  assert.ok(relativeError(await embed(12, short), await embed(20, weights)) < 1e-5);
});

/** `steps` of the shared training loop on one repeated batch; the loss before and after. */
async function overfit(
  net: { g: Graph; loss: Tensor },
  params: Map<string, HostTensor>,
  feeds: Record<string, Feed>,
  steps: number,
) {
  const cfg = { ...FEATURE_NETS.classifier.fit, schedule: { lr: 1e-2, warmupSteps: 2, minLrFraction: 0.1 } };
  const lossAt = async () => (await output(net.g, net.loss, feeds, params))[0];
  const before = await lossAt();
  const session = await GradientSession.create(net.g, net.loss, { threads: 1 });
  const state = freshState(cfg, params, steps);
  await runTraining({
    config: cfg,
    session,
    state,
    batch: () => feeds,
    minutes: 1,
    save: () => {},
    log: () => {},
  });
  await session.release();
  return { before, after: await lossAt() };
}

test('training fits a repeated classifier batch, and a seed gives the same weights', async () => {
  const b = 8;
  const batch = classifierBatch(batchRng(0, 0), b);
  const feeds = {
    image: floatFeed(batch.pixels, [b, 3, 32, 32]),
    kinds: floatFeed(batch.kinds, [b, KINDS.length]),
    aux: floatFeed(batch.aux, [b, AUX_CLASSES]),
  };
  const train = async () => {
    const net = classifierLoss(TINY_CLASSIFIER, b);
    const params = initWeights(net.g.paramSpecs(), new Rng(1));
    return { params, ...(await overfit(net, params, feeds, 30)) };
  };
  const first = await train();
  assert.ok(first.after < 0.5 * first.before, `loss ${first.before} -> ${first.after}`);
  const again = await train();
  for (const [name, t] of first.params) assert.deepEqual(again.params.get(name)!.data, t.data, name);
});

test('training aligns a repeated batch of CLIP pairs', async () => {
  const b = 6;
  const rng = new Rng(8);
  const scenes = Array.from({ length: b }, () => world.sampleScene(rng));
  const pixels = flat(scenes.map((s) => networkPixels(world.render(s, 32, rng))));
  const ids = scenes.flatMap((s) => [...tokenizer.encode(world.describe(s, 'terse', rng))]);
  const feeds = { pixel_values: floatFeed(pixels, [b, 3, 32, 32]), input_ids: int64Feed(ids, [b, 64]) };
  const net = clipLoss(TINY_CLIP, b);
  const { before, after } = await overfit(net, initWeights(net.g.paramSpecs(), new Rng(2)), feeds, 20);
  assert.ok(after < 0.5 * before, `loss ${before} -> ${after}`);
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

/** The folder's network config and weights (model.safetensors). */
function shipped(dir: string) {
  const network = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
  return { config: network.config, weights: loadSafetensors(join(dir, 'model.safetensors')).tensors };
}

test("the shipped folders' ONNX files are their network with their weights", {
  skip: !existsSync(CLASSIFIER_DIR) || !existsSync(CLIP_DIR),
}, async () => {
  const batch = sceneBatch(new Rng(HELD_OUT_SEED + 102));
  const classifier = shipped(CLASSIFIER_DIR);
  const net = await loadImageFeatureNet(CLASSIFIER_DIR);
  const { features } = await net.extract(batch.renders.map(rgb), ['features']);
  await net.release();
  const g = classifierGraph(classifier.config);
  const expected = await output(g.g, g.features, { image: batch.pixels }, classifier.weights);
  assert.ok(relativeError(flat(features), expected) < 1e-5, 'classifier features differ');

  const clip = shipped(CLIP_DIR);
  const clipNet = await loadClipNet(CLIP_DIR);
  const embeds = await clipNet.embed(batch.prompts, batch.renders.map(rgb));
  await clipNet.release();
  const image = clipImageGraph(clip.config);
  const text = clipTextGraph(clip.config);
  const imageEmbeds = await output(image.g, image.imageEmbeds, { pixel_values: batch.pixels }, clip.weights);
  const textEmbeds = await output(text.g, text.textEmbeds, { input_ids: batch.ids }, clip.weights);
  assert.ok(relativeError(flat(embeds.image), imageEmbeds) < 1e-5, 'CLIP image embeddings differ');
  assert.ok(relativeError(flat(embeds.text), textEmbeds) < 1e-5, 'CLIP text embeddings differ');
});

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
