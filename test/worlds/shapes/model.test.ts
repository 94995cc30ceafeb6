import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { fromHost, initEngine, loadSafetensors, np, toHost } from '../../../src/engine/index.js';
import { DEFAULT_MODEL_DIR } from '../../../src/paths.js';
import { Rng } from '../../../src/util/random.js';
import {
  textEncoderOnnx,
  tokenizerConfigJson,
  tokenizerJson,
  unetOnnx,
  type Weights,
} from '../../../src/worlds/shapes/export.js';
import * as world from '../../../src/worlds/shapes/index.js';
import {
  denoise,
  encodeText,
  initParams,
  type ModelConfig,
  type ModelParams,
} from '../../../src/worlds/shapes/model.js';
import { PAD_ID } from '../../../src/worlds/shapes/model-tokenizer.js';
import { makeTokenizer } from '../../../src/worlds/shapes/train.js';
import { perturbed, randomIds, relativeError } from '../../fixtures/parity.js';

const MODEL_DIR = DEFAULT_MODEL_DIR;

const TINY: ModelConfig = {
  vocabSize: 20,
  maxTokens: 64,
  textDim: 32,
  textLayers: 1,
  textHeads: 2,
  imageSize: 32,
  channels: 3,
  widths: [8, 16, 32],
  midBlocks: 1,
  heads: 2,
  mlpRatio: 2,
  timeFreqDim: 16,
  timeDim: 16,
};

/** Runs both engines on the same random inputs and checks they agree. */
async function checkParity(
  cfg: ModelConfig,
  weights: Weights,
  textOnnx: Uint8Array,
  unetOnnxBytes: Uint8Array,
) {
  await initEngine();
  const rng = new Rng(5);
  const batch = 2;
  const like = initParams(cfg, new Rng(0));
  const params = fromHost(like, weights) as ModelParams;
  const ids = randomIds(rng, batch, cfg);
  const sample = rng.normalArray(batch * cfg.channels * cfg.imageSize ** 2);
  const timesteps = [rng.int(1000), rng.int(1000)];

  const context = encodeText(
    cfg,
    params.text,
    np.array(ids, { dtype: np.int32 }).reshape([batch, cfg.maxTokens]),
  );
  const hidden = context.ref.dataSync() as Float32Array;
  const eps = denoise(
    cfg,
    params.unet,
    np.array(sample).reshape([batch, cfg.channels, cfg.imageSize, cfg.imageSize]),
    np.array(Float32Array.from(timesteps)),
    context,
  ).dataSync() as Float32Array;

  const text = await ort.InferenceSession.create(textOnnx);
  const { last_hidden_state } = await text.run({
    input_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (v) => BigInt(v)),
      [batch, cfg.maxTokens],
    ),
  });
  const unet = await ort.InferenceSession.create(unetOnnxBytes);
  const { out_sample } = await unet.run({
    sample: new ort.Tensor('float32', sample, [batch, cfg.channels, cfg.imageSize, cfg.imageSize]),
    timestep: new ort.Tensor(
      'int64',
      BigInt64Array.from(timesteps, (v) => BigInt(v)),
      [batch],
    ),
    // Feed the engine's text states so the UNet is compared on identical inputs.
    encoder_hidden_states: new ort.Tensor('float32', hidden, [batch, cfg.maxTokens, cfg.textDim]),
  });
  assert.ok(relativeError(last_hidden_state.data as Float32Array, hidden) < 1e-4, 'text encoder differs');
  assert.ok(relativeError(out_sample.data as Float32Array, eps) < 1e-4, 'unet differs');
}

test('ONNX export of a random tiny model matches the engine', async () => {
  await initEngine();
  const weights = perturbed(toHost(initParams(TINY, new Rng(1))), new Rng(2));
  await checkParity(TINY, weights, textEncoderOnnx(TINY, weights), unetOnnx(TINY, weights));
});

test('the exported tokenizer gives the training tokenizer ids', () => {
  const ours = makeTokenizer(world);
  const hf = new Tokenizer(
    tokenizerJson(ours.vocab, TINY.maxTokens) as never,
    tokenizerConfigJson(TINY.maxTokens) as never,
  );
  const rng = new Rng(3);
  const prompts = ['', 'A Red circle.', 'zebra, red; CIRCLE!'];
  for (let i = 0; i < 200; i++) {
    prompts.push(world.describe(world.sampleScene(rng), i % 2 ? 'terse' : 'verbose', rng));
  }
  for (const prompt of prompts) {
    const expected = [...ours.encode(prompt)].filter((id) => id !== PAD_ID);
    assert.deepEqual(hf.encode(prompt).ids, expected, prompt);
  }
});

test('the shipped model in models/shapes matches its ONNX export', {
  skip: !existsSync(MODEL_DIR),
}, async () => {
  const { model: cfg } = JSON.parse(readFileSync(join(MODEL_DIR, 'config.json'), 'utf8')) as {
    model: ModelConfig;
  };
  const weights: Weights = new Map([
    ...[...loadSafetensors(join(MODEL_DIR, 'text_encoder', 'model.safetensors')).tensors].map(
      ([k, v]) => [`text.${k}`, v] as const,
    ),
    ...[...loadSafetensors(join(MODEL_DIR, 'unet', 'model.safetensors')).tensors].map(
      ([k, v]) => [`unet.${k}`, v] as const,
    ),
  ]);
  await checkParity(
    cfg,
    weights,
    readFileSync(join(MODEL_DIR, 'text_encoder', 'model.onnx')),
    readFileSync(join(MODEL_DIR, 'unet', 'model.onnx')),
  );
});
