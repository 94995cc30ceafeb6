import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  type ExecutionProvider,
  GraphBuilder,
  loadModelFolder,
  type ModelFolder,
  ModelFolderError,
} from '../../src/models/index.js';
import {
  buildTinySdFolder,
  TINY_SCALING_FACTOR,
  TINY_VAE_SCALE,
  type TinySdOptions,
  tinyUnet,
} from '../fixtures/tiny-sd.js';

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-folder-'));
after(() => rm(tmp, { recursive: true, force: true }));
let count = 0;

async function tinyFolder(opts: TinySdOptions = {}): Promise<string> {
  const dir = join(tmp, `sd${count++}`);
  await buildTinySdFolder(dir, opts);
  return dir;
}

function idsTensor(folder: ModelFolder, ids: number[][]): ort.Tensor {
  const flat = ids.flat();
  const dims = [ids.length, ids[0].length];
  return folder.textEncoder.inputIdsType === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(flat, BigInt), dims)
    : new ort.Tensor('int32', Int32Array.from(flat), dims);
}

function timestepTensor(folder: ModelFolder, t: number, batch: number): ort.Tensor {
  const type = folder.unet.timestepType;
  if (type === 'int64') return new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(t)), [batch]);
  if (type === 'int32') return new ort.Tensor('int32', new Int32Array(batch).fill(t), [batch]);
  return new ort.Tensor('float32', new Float32Array(batch).fill(t), [batch]);
}

/** One UNet call on a batch of [uncond, cond] as a pipeline with guidance makes it. */
async function denoiseOnce(folder: ModelFolder, t: number) {
  const { tokenizer, textEncoder, unet, vaeDecoder } = folder;
  const enc = tokenizer.encode(['', 'a red circle']);
  const hidden = (await textEncoder.run({ input_ids: idsTensor(folder, enc.inputIds) }))[
    textEncoder.hiddenOutput
  ];
  const n = unet.inChannels * unet.sampleSize ** 2;
  const latent = new Float32Array(n).map((_, i) => Math.sin(i));
  const dims = [1, unet.inChannels, unet.sampleSize, unet.sampleSize];
  const both = new Float32Array(2 * n);
  both.set(latent);
  both.set(latent, n);
  const out = await unet.run({
    [unet.sampleInput]: new ort.Tensor('float32', both, [2, ...dims.slice(1)]),
    [unet.timestepInput]: timestepTensor(folder, t, 2),
    [unet.contextInput]: hidden,
  });
  const eps = out[unet.outputName];
  const image = (await vaeDecoder.run({ [vaeDecoder.latentInput]: new ort.Tensor('float32', latent, dims) }))[
    vaeDecoder.outputName
  ];
  const data = eps.data as Float32Array;
  return { eps, uncond: data.slice(0, n), cond: data.slice(n), image, hidden };
}

const meanAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

test('tiny folder loads with real names, sizes and configs, and runs end to end', async () => {
  const folder = await loadModelFolder(await tinyFolder());
  try {
    assert.equal(folder.modelIndex._class_name, 'OnnxStableDiffusionPipeline');
    assert.equal(folder.schedulerConfig.prediction_type, 'epsilon');
    assert.equal(folder.schedulerConfig.beta_schedule, 'scaled_linear');
    assert.equal(folder.tokenizer.modelMaxLength, 77);
    assert.equal(folder.tokenizer.padTokenId, 0);
    assert.equal(folder.textEncoder.inputIdsType, 'int64');
    assert.equal(folder.textEncoder.hiddenOutput, 'last_hidden_state');
    assert.deepEqual(
      folder.textEncoder.outputs.map((s) => [s.name, s.dims]),
      [
        ['last_hidden_state', ['batch', 'sequence', 32]],
        ['pooler_output', ['batch', 32]],
      ],
    );
    const { unet, vaeDecoder } = folder;
    assert.deepEqual(
      [unet.sampleInput, unet.timestepInput, unet.contextInput, unet.outputName],
      ['sample', 'timestep', 'encoder_hidden_states', 'out_sample'],
    );
    assert.deepEqual([unet.timestepType, unet.timestepRank], ['int64', 1]);
    assert.deepEqual([unet.inChannels, unet.sampleSize, unet.crossAttentionDim], [4, 8, 32]);
    assert.deepEqual([vaeDecoder.latentInput, vaeDecoder.outputName], ['latent_sample', 'sample']);
    assert.deepEqual(
      [vaeDecoder.scalingFactor, vaeDecoder.scaleFactor],
      [TINY_SCALING_FACTOR, TINY_VAE_SCALE],
    );

    const { eps, uncond, cond, image, hidden } = await denoiseOnce(folder, 981);
    assert.deepEqual(hidden.dims, [2, 77, 32]);
    assert.deepEqual(eps.dims, [2, 4, 8, 8]);
    assert.deepEqual(image.dims, [1, 3, 8 * TINY_VAE_SCALE, 8 * TINY_VAE_SCALE]);
    assert.ok((image.data as Float32Array).every((v) => v >= -1 && v <= 1));
    // Same latents, different text: guidance has something to amplify.
    assert.ok(meanAbsDiff(uncond, cond) > 1e-3, 'UNet output depends on the text');
    const later = await denoiseOnce(folder, 21);
    assert.ok(meanAbsDiff(later.cond, cond) > 1e-3, 'UNet output depends on the timestep');
  } finally {
    await folder.release();
  }
});

test('dtype variants: timestep int32/float32, input_ids int32, word-level tokenizer.json', async () => {
  const variants: [TinySdOptions, number][] = [
    [{ timestepType: 'float32', inputIdsType: 'int32', tokenizer: 'tokenizer-json', maxLength: 12 }, 12],
    [
      {
        timestepType: 'int32',
        inputIdsType: 'int64',
        tokenizer: 'tokenizer-json',
        latentChannels: 3,
        hidden: 16,
      },
      77,
    ],
  ];
  for (const [opts, maxLength] of variants) {
    const folder = await loadModelFolder(await tinyFolder(opts));
    try {
      assert.equal(folder.unet.timestepType, opts.timestepType);
      assert.equal(folder.textEncoder.inputIdsType, opts.inputIdsType);
      assert.equal(folder.tokenizer.modelMaxLength, maxLength);
      assert.equal(folder.unet.inChannels, opts.latentChannels ?? 4);
      assert.equal(folder.unet.crossAttentionDim, opts.hidden ?? 32);
      const { uncond, cond, hidden } = await denoiseOnce(folder, 500);
      assert.deepEqual(hidden.dims, [2, maxLength, opts.hidden ?? 32]);
      assert.ok(meanAbsDiff(uncond, cond) > 1e-3);
    } finally {
      await folder.release();
    }
  }
});

test('without unet/config.json, sizes come from static dims of "sample"', async () => {
  const folder = await loadModelFolder(
    await tinyFolder({
      staticLatentDims: true,
      sampleSize: 6,
      tokenizer: 'tokenizer-json',
      omit: ['unet/config.json'],
    }),
  );
  assert.deepEqual(
    [folder.unet.inChannels, folder.unet.sampleSize, folder.unet.crossAttentionDim],
    [4, 6, 32],
  );
  await folder.release();
});

/** Asserts a load fails with a ModelFolderError about `rel` (a path inside the folder). */
async function failsOn(dir: string, rel: string, pattern: RegExp, provider?: ExecutionProvider) {
  const file = join(dir, rel);
  await assert.rejects(loadModelFolder(dir, { executionProvider: provider }), (e: unknown) => {
    assert.ok(e instanceof ModelFolderError, String(e));
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a missing file is named', async () => {
  for (const rel of [
    'model_index.json',
    'scheduler/scheduler_config.json',
    'text_encoder/model.onnx',
    'unet/model.onnx',
    'vae_decoder/model.onnx',
    'tokenizer/merges.txt',
  ]) {
    await failsOn(await tinyFolder({ omit: [rel] }), rel, /file is missing/);
  }
});

test('bad JSON and wrongly typed config fields name file and field', async () => {
  let dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  await writeFile(join(dir, 'scheduler/scheduler_config.json'), '{"beta_start": 0.00085,');
  await failsOn(dir, 'scheduler/scheduler_config.json', /invalid JSON/);

  dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  await writeFile(join(dir, 'model_index.json'), '[1, 2]');
  await failsOn(dir, 'model_index.json', /top level: expected a JSON object/);
  await writeFile(
    join(dir, 'model_index.json'),
    JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline', scheduler: ['diffusers', 'PNDMScheduler'] }),
  );
  await failsOn(
    dir,
    'model_index.json',
    /field "unet": expected the unet component as \[library, class\], found none/,
  );

  dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  const unetConfig = JSON.parse(await readFile(join(dir, 'unet/config.json'), 'utf8'));
  await writeFile(join(dir, 'unet/config.json'), JSON.stringify({ ...unetConfig, sample_size: '64' }));
  await failsOn(dir, 'unet/config.json', /field "sample_size": expected a number, got text/);

  dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  await writeFile(join(dir, 'vae_decoder/config.json'), JSON.stringify({ block_out_channels: 4 }));
  await failsOn(dir, 'vae_decoder/config.json', /field "block_out_channels": expected a list, got a number/);
});

/** A stand-in UNet with the given inputs; the output sums nothing useful, only the signature matters. */
function unetWithInputs(inputs: [string, 'float32' | 'int64', (number | string)[]][]): Uint8Array {
  const g = new GraphBuilder('odd_unet');
  for (const [name, type, dims] of inputs) g.input(name, type, dims);
  g.output('out_sample', 'float32', ['batch', 4, 8, 8], g.node('Identity', [inputs[0][0]]));
  return g.build();
}

test('a missing input, a wrong rank, a wrong dtype and an extra input name the ONNX file', async () => {
  const dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  const unetFile = join(dir, 'unet/model.onnx');
  const sample: [string, 'float32', (number | string)[]] = ['sample', 'float32', ['batch', 4, 8, 8]];
  const timestep: [string, 'int64', (number | string)[]] = ['timestep', 'int64', ['batch']];

  await writeFile(unetFile, unetWithInputs([sample, timestep, ['context', 'float32', ['batch', 77, 32]]]));
  await failsOn(dir, 'unet/model.onnx', /expected an input named "encoder_hidden_states"; .* "context"/);

  await writeFile(
    unetFile,
    unetWithInputs([sample, timestep, ['encoder_hidden_states', 'float32', ['batch', 32]]]),
  );
  await failsOn(
    dir,
    'unet/model.onnx',
    /input "encoder_hidden_states" has rank 2 \[batch, 32\], expected rank 3/,
  );

  await writeFile(
    unetFile,
    unetWithInputs([
      sample,
      timestep,
      ['encoder_hidden_states', 'float32', ['batch', 77, 32]],
      ['text_embeds', 'float32', [1]],
    ]),
  );
  await failsOn(
    dir,
    'unet/model.onnx',
    /takes SDXL's text_embeds and time_ids, but model_index\.json names no text_encoder_2/,
  );

  await writeFile(
    unetFile,
    tinyUnet({
      timestepType: 'int64',
      latentChannels: 4,
      hidden: 32,
      sampleSize: 8,
      staticLatentDims: false,
    }),
  );
  const textEncoder = (idsType: 'float32' | 'int64', idsDims: string[]) => {
    const g = new GraphBuilder('odd_text_encoder');
    g.output('last_hidden_state', idsType, idsDims, g.input('input_ids', idsType, idsDims));
    return g.build();
  };
  await writeFile(
    join(dir, 'text_encoder/model.onnx'),
    textEncoder('int64', ['batch', 'sequence', 'hidden']),
  );
  await failsOn(
    dir,
    'text_encoder/model.onnx',
    /input "input_ids" has rank 3 \[batch, sequence, hidden\], expected rank 2/,
  );
  await writeFile(join(dir, 'text_encoder/model.onnx'), textEncoder('float32', ['batch', 'sequence']));
  await failsOn(
    dir,
    'text_encoder/model.onnx',
    /input "input_ids" has dtype float32, expected int32 or int64/,
  );
});

test('sizes that disagree between files are caught at load', async () => {
  let dir = await tinyFolder({ tokenizer: 'tokenizer-json', omit: ['unet/config.json'] });
  await failsOn(
    dir,
    'unet/model.onnx',
    /cannot tell the latent sample size: .*dynamic and .*unet\/config\.json/,
  );

  dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  const config = JSON.parse(await readFile(join(dir, 'unet/config.json'), 'utf8'));
  await writeFile(join(dir, 'unet/config.json'), JSON.stringify({ ...config, in_channels: 9 }));
  await failsOn(
    dir,
    'unet/model.onnx',
    /input channel count is 4 in the model but 9 in .*unet\/config\.json/,
  );

  dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  await writeFile(
    join(dir, 'unet/model.onnx'),
    tinyUnet({
      timestepType: 'int64',
      latentChannels: 4,
      hidden: 16,
      sampleSize: 8,
      staticLatentDims: false,
    }),
  );
  await writeFile(join(dir, 'unet/config.json'), JSON.stringify({ ...config, cross_attention_dim: 16 }));
  await failsOn(
    dir,
    'unet/model.onnx',
    /cross-attention dim 16 does not match the text encoder's hidden size 32/,
  );
});

test('an execution provider this build lacks is refused with the list of available ones', async () => {
  const dir = await tinyFolder({ tokenizer: 'tokenizer-json' });
  await failsOn(
    dir,
    'text_encoder/model.onnx',
    /"tpu" is not in this onnxruntime-node build; available: cpu/,
    'tpu' as ExecutionProvider,
  );
  // CUDA is listed but its libraries ship only through onnxruntime-node's install script: either it
  // works on this machine or the failure says which provider and file.
  try {
    const folder = await loadModelFolder(dir, { executionProvider: 'cuda' });
    await folder.release();
  } catch (e) {
    assert.ok(e instanceof ModelFolderError);
    assert.match(
      e.message,
      /text_encoder\/model\.onnx: onnxruntime could not load it with execution provider "cuda"/,
    );
  }
});
