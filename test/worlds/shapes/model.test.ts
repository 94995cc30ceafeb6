import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { initWeights } from '../../../src/graph/params.js';
import { DEFAULT_MODEL_DIR } from '../../../src/paths.js';
import { Rng } from '../../../src/util/random.js';
import {
  exportCheckpoint,
  textEncoderOnnx,
  tokenizerConfigJson,
  tokenizerJson,
  unetOnnx,
} from '../../../src/worlds/shapes/export.js';
import * as world from '../../../src/worlds/shapes/index.js';
import { type ModelConfig, modelSpecs } from '../../../src/worlds/shapes/model.js';
import { PAD_ID } from '../../../src/worlds/shapes/model-tokenizer.js';
import { makeTokenizer } from '../../../src/worlds/shapes/train.js';
import { perturbed, randomIds } from '../../fixtures/parity.js';

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

const root = mkdtempSync(join(tmpdir(), 'adadiff-shapes-model-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ids64 = (ids: Int32Array, rows: number) =>
  new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [rows, ids.length / rows]);

test('the exported graphs give each prompt the same result at any batch size', async () => {
  const weights = perturbed(initWeights(modelSpecs(TINY), new Rng(1)), new Rng(2));
  const text = await ort.InferenceSession.create(textEncoderOnnx(TINY, weights));
  const unet = await ort.InferenceSession.create(unetOnnx(TINY, weights));
  const rng = new Rng(3);
  const ids = randomIds(rng, 3, TINY);
  const states = (await text.run({ input_ids: ids64(ids, 3) })).last_hidden_state;
  const one = (await text.run({ input_ids: ids64(ids.slice(64, 128), 1) })).last_hidden_state;
  assert.deepEqual(one.data, (states.data as Float32Array).slice(64 * 32, 128 * 32));
  const sample = rng.normalArray(3 * 3 * 32 * 32);
  const feeds = (n: number, from: number) => ({
    sample: new ort.Tensor('float32', sample.slice(from * 3072, (from + n) * 3072), [n, 3, 32, 32]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([10n, 500n, 990n].slice(from, from + n)), [n]),
    encoder_hidden_states: new ort.Tensor(
      'float32',
      (states.data as Float32Array).slice(from * 2048, (from + n) * 2048),
      [n, 64, 32],
    ),
  });
  const all = (await unet.run(feeds(3, 0))).out_sample.data as Float32Array;
  const second = (await unet.run(feeds(1, 1))).out_sample.data as Float32Array;
  const expected = all.slice(3072, 6144);
  for (let i = 0; i < second.length; i++) assert.ok(Math.abs(second[i] - expected[i]) < 1e-4, `out ${i}`);
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

test('the shipped model folder is the export of the shipped checkpoints, byte for byte', async () => {
  const out = join(root, 'export');
  exportCheckpoint('checkpoints/shapes-v2', out);
  for (const part of ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder']) {
    const file = join(part, 'model.onnx');
    assert.ok(
      readFileSync(join(out, file)).equals(readFileSync(join(DEFAULT_MODEL_DIR, file))),
      `${file} differs`,
    );
  }
});
