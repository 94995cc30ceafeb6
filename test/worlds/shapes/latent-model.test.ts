import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Graph } from '../../../src/graph/graph.js';
import { initWeights } from '../../../src/graph/params.js';
import { runGraph } from '../../../src/graph/session.js';
import { emaWeights, loadCheckpointDir } from '../../../src/graph/trainer.js';
import { Text2ImagePipeline } from '../../../src/pipelines/text2img.js';
import { Rng } from '../../../src/util/random.js';
import { autoencoderTrainingGraph, decode, encode } from '../../../src/worlds/shapes/autoencoder.js';
import { curvePrompts, measureCurve } from '../../../src/worlds/shapes/curve.js';
import { exportModel, runAutoencoder } from '../../../src/worlds/shapes/export.js';
import * as world from '../../../src/worlds/shapes/index.js';
import { render } from '../../../src/worlds/shapes/index.js';
import {
  cacheScene,
  encodeLatentCache,
  LATENTS_FILE,
  loadLatentCache,
  weightsHash,
} from '../../../src/worlds/shapes/latents.js';
import { type ModelConfig, modelSpecs } from '../../../src/worlds/shapes/model.js';
import { makeTokenizer, type RunConfig, TRAIN_CONFIG } from '../../../src/worlds/shapes/train.js';
import {
  AUTOENCODER_TRAIN_CONFIG,
  type AutoencoderRun,
  autoencoderBatch,
  measureReconstruction,
  openAutoencoder,
  toSigned,
  trainAutoencoder,
} from '../../../src/worlds/shapes/train-autoencoder.js';
import { perturbed } from '../../fixtures/parity.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-latent-model-'));
after(() => rmSync(root, { recursive: true, force: true }));
const quiet = () => {};
const aeDir = join(root, 'ae');
const cacheDir = join(root, 'latents');

before(async () => {
  await trainAutoencoder({ out: aeDir, seed: 2, minutes: 10, steps: 2, log: quiet });
});

test('autoencoder training resumes exactly and its halves map 64 px renders to 8x8x4 latents and back', {
  timeout: 120_000,
}, async () => {
  const split = join(root, 'ae-split');
  await trainAutoencoder({ out: split, seed: 2, minutes: 10, steps: 1, log: quiet });
  await trainAutoencoder({ out: split, seed: 2, minutes: 10, steps: 2, resume: true, log: quiet });
  const a = loadCheckpointDir(aeDir).tensors;
  const b = loadCheckpointDir(split).tensors;
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} differs`);

  const { run, tensors } = loadCheckpointDir<AutoencoderRun>(aeDir);
  const ae = await openAutoencoder(run.model, emaWeights(tensors));
  const images = new Float32Array(2 * 3 * 64 * 64);
  for (let i = 0; i < 2; i++)
    images.set(toSigned(render(cacheScene(i).scene, 64, cacheScene(i).rng)), i * 3 * 4096);
  const latents = await ae.encode(images, 2);
  assert.equal(latents.length, 2 * 4 * 8 * 8);
  const one = await ae.encode(images.slice(3 * 4096), 1);
  for (let j = 0; j < one.length; j++)
    assert.ok(Math.abs(one[j] - latents[256 + j]) < 1e-4, 'batch independent');
  assert.equal((await ae.decode(latents, 2)).length, images.length);
  await ae.release();
});

test("the detail term is the Charbonnier error of the error's 5-point Laplacian", {
  timeout: 60_000,
}, async () => {
  const cfg = AUTOENCODER_TRAIN_CONFIG.model;
  const train = (detailWeight: number) => autoencoderTrainingGraph(cfg, 2, { klWeight: 0, detailWeight });
  const weights = perturbed(initWeights(train(0).graph.paramSpecs(), new Rng(6)), new Rng(7));
  const feeds = autoencoderBatch(cfg, 0, 0, 2);
  const lossAt = async (detailWeight: number) => {
    const { graph, loss } = train(detailWeight);
    return (await runGraph(graph, { loss }, feeds, weights)).loss.data[0];
  };
  const term = (await lossAt(1)) - (await lossAt(0));
  // The same reconstruction, its error's Laplacian (zero padding) computed here.
  const g = new Graph('reconstruct');
  const image = g.input('image', 'float32', [2, 3, 64, 64]);
  const noise = g.input('noise', 'float32', [2, 4, 8, 8]);
  const { mean, logvar } = encode(g, cfg, image);
  const out = decode(g, cfg, mean.add(logvar.mul(0.5).exp().mul(noise)));
  const rec = (await runGraph(g, { out }, feeds, weights)).out.data;
  const x = feeds.image.data as Float32Array;
  const err = (p: number, i: number, j: number) =>
    i < 0 || j < 0 || i > 63 || j > 63 ? 0 : rec[p * 4096 + i * 64 + j] - x[p * 4096 + i * 64 + j];
  let sum = 0;
  for (let p = 0; p < 6; p++)
    for (let i = 0; i < 64; i++)
      for (let j = 0; j < 64; j++) {
        const lap =
          err(p, i - 1, j) + err(p, i + 1, j) + err(p, i, j - 1) + err(p, i, j + 1) - 4 * err(p, i, j);
        sum += Math.sqrt(lap * lap + 1e-6);
      }
  const expected = sum / (6 * 4096);
  assert.ok(Math.abs(term - expected) < 1e-4 * expected, `${term} against ${expected}`);
});

test("the reconstruction bound judges clean renders right and an untrained autoencoder's output wrong", {
  timeout: 120_000,
}, async () => {
  const { run, tensors } = loadCheckpointDir<AutoencoderRun>(aeDir);
  const report = await measureReconstruction(run.model, emaWeights(tensors), 12);
  assert.equal(report.images, 12);
  assert.equal(report.cleanSuccess, 1, 'every clean render passes the judge');
  assert.equal(report.success, 0, 'two training steps reconstruct nothing');
  assert.equal(
    Object.values(report.successByObjects).reduce((a, r) => a + r.n, 0),
    12,
  );
  assert.ok(report.latentStd > 0);
});

test('the latent cache holds the encoder means of the indexed scenes and refuses a cut file', {
  timeout: 120_000,
}, async () => {
  const meta = await encodeLatentCache({ autoencoder: aeDir, count: 70, out: cacheDir });
  const cache = await loadLatentCache(cacheDir);
  assert.deepEqual(cache.shape, [4, 8, 8]);
  assert.equal(cache.count, 70);
  assert.equal(meta.autoencoder.weights, weightsHash(emaWeights(loadCheckpointDir(aeDir).tensors)));
  let sum = 0;
  let sumSq = 0;
  for (const v of cache.data) {
    sum += v;
    sumSq += v * v;
  }
  const std = Math.sqrt(sumSq / cache.data.length - (sum / cache.data.length) ** 2);
  assert.ok(Math.abs(cache.scalingFactor * std - 1) < 1e-6, 'scaling factor is 1 / std');
  // Row 65 (past the first encoder chunk) is scene 65's render, encoded.
  const { run, tensors } = loadCheckpointDir<AutoencoderRun>(aeDir);
  const ae = await openAutoencoder(run.model, emaWeights(tensors));
  const { scene, rng } = cacheScene(65);
  const expected = await ae.encode(toSigned(render(scene, 64, rng)), 1);
  await ae.release();
  const row = cache.data.subarray(65 * 256, 66 * 256);
  for (let j = 0; j < 256; j++) assert.ok(Math.abs(row[j] - expected[j]) < 1e-4, `latent ${j}`);

  const cut = join(root, 'cut');
  await encodeLatentCache({ autoencoder: aeDir, count: 3, out: cut });
  truncateSync(join(cut, LATENTS_FILE), 100);
  await assert.rejects(
    loadLatentCache(cut),
    (e: Error) => e.message.includes(LATENTS_FILE) && /3 latents/.test(e.message),
  );
});

test('a latent model exports in the Optimum layout with both autoencoder halves, and the pipeline draws 64 px', {
  timeout: 180_000,
}, async () => {
  const meta = JSON.parse(readFileSync(join(cacheDir, 'latents.json'), 'utf8'));
  const tokenizer = makeTokenizer(world);
  const cfg: ModelConfig = { ...TRAIN_CONFIG.model, vocabSize: tokenizer.vocab.length };
  const run: RunConfig = {
    model: cfg,
    vocab: tokenizer.vocab,
    seed: 0,
    totalSteps: 1,
    train: TRAIN_CONFIG,
    autoencoder: { ...meta.autoencoder, scalingFactor: meta.scalingFactor },
  };
  const weights = perturbed(initWeights(modelSpecs(cfg), new Rng(4)), new Rng(5));
  const out = join(root, 'model');
  exportModel(run, weights, out);
  for (const f of [
    'vae_encoder/model.onnx',
    'vae_decoder/model.onnx',
    'unet/model.onnx',
    'text_encoder/model.onnx',
  ])
    assert.ok(existsSync(join(out, f)), f);
  const decoderConfig = JSON.parse(readFileSync(join(out, 'vae_decoder', 'config.json'), 'utf8'));
  assert.equal(decoderConfig.scaling_factor, meta.scalingFactor);
  assert.equal(decoderConfig.latent_channels, 4);
  const index = JSON.parse(readFileSync(join(out, 'model_index.json'), 'utf8'));
  assert.ok(index.vae_encoder && index.vae_decoder);

  const pipe = await Text2ImagePipeline.load(out);
  assert.equal(pipe.model.unet.sampleSize, 8);
  const result = await pipe.generate({ prompts: ['a big red circle'], steps: 2, seed: 1 });
  assert.equal(result.images[0].width, 64);
  assert.equal(result.images[0].height, 64);

  // The curve runs the same pipeline over its held-out prompts.
  const prompts = curvePrompts(1);
  assert.deepEqual(
    prompts.map((p) => p.bucket),
    ['1', '2-3', '4-6'],
  );
  assert.equal(prompts[0].objects, 1);
  assert.ok(prompts[2].objects >= 4);
  const at = await measureCurve(out, prompts);
  for (const steps of ['10', '50']) {
    assert.ok(at[steps].success >= 0 && at[steps].success <= 1);
    assert.ok(Number.isFinite(at[steps].meanScore));
  }

  // Weights that are not the ones the run was trained on are refused.
  await trainAutoencoder({ out: aeDir, seed: 2, minutes: 10, steps: 3, resume: true, log: quiet });
  assert.throws(() => runAutoencoder(run), /autoencoder weights [0-9a-f]+, the run was trained on/);
});
