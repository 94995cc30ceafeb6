import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ort from 'onnxruntime-node';
import { initialLatents } from '../../src/pipelines/latents.js';
import { Text2ImagePipeline } from '../../src/pipelines/text2img.js';
import { createScheduler } from '../../src/schedulers/index.js';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-pipeline-'));
let pipe: Text2ImagePipeline;

before(async () => {
  await buildTinySdFolder(join(root, 'int64'));
  pipe = await Text2ImagePipeline.load(join(root, 'int64'));
});
after(() => pipe.model.release());

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('generates a batch: image shapes, kept text features, per-phase timings', async () => {
  const res = await pipe.generate({ prompts: ['a red circle', 'two blue squares'], steps: 4, seed: 3 });
  assert.equal(res.images.length, 2);
  for (const img of res.images) {
    assert.equal(img.width, 64);
    assert.equal(img.height, 64);
    assert.equal(img.chw.length, 3 * 64 * 64);
    assert.ok(img.chw.every((v) => v >= 0 && v <= 1));
  }
  assert.deepEqual(res.features.dims, [2, 77, 32]);
  // "a red circle" is BOS + 3 tokens + EOS.
  assert.equal(
    res.features.mask.subarray(0, 77).reduce((a, b) => a + b, 0),
    5,
  );
  assert.equal(res.steps, 4);
  assert.equal(res.timings.stepMs.length, 4);
  assert.ok(res.timings.textMs > 0 && res.timings.decodeMs > 0);
  assert.ok(res.timings.totalMs >= res.timings.stepMs.reduce((a, b) => a + b, 0));
  assert.deepEqual(res.seeds, [3, 4]);
  assert.deepEqual(res.warnings, []);
});

test('a seed reproduces an image exactly, whatever shares its batch', async () => {
  const a = await pipe.generate({ prompts: ['a red circle'], steps: 3, seed: 11 });
  const b = await pipe.generate({ prompts: ['a red circle'], steps: 3, seed: 11 });
  const c = await pipe.generate({ prompts: ['a red circle'], steps: 3, seed: 12 });
  const batched = await pipe.generate({
    prompts: ['a green star', 'a red circle'],
    seeds: [5, 11],
    steps: 3,
  });
  assert.deepEqual(a.images[0].chw, b.images[0].chw);
  assert.ok(maxAbsDiff(a.images[0].chw, c.images[0].chw) > 1e-3);
  assert.ok(maxAbsDiff(a.images[0].chw, batched.images[1].chw) < 1e-5);
});

test('classifier-free guidance matches a direct computation from separate UNet calls', async () => {
  const guidance = 5;
  const prompts = ['a red circle above a square'];
  const encoded = await pipe.encode(prompts, 'blurry', guidance);
  const latents = initialLatents([21], pipe.latentSize);
  const { latents: viaPipeline } = await pipe.denoise(latents, encoded, {
    steps: 1,
    guidanceScale: guidance,
  });

  const { unet, schedulerConfig } = pipe.model;
  const scheduler = createScheduler('ddim', schedulerConfig);
  scheduler.setTimesteps(1);
  const t = scheduler.timesteps[0];
  const s = unet.sampleSize;
  const callUnet = async (ctx: Float32Array) => {
    const out = await unet.run({
      sample: new ort.Tensor('float32', latents, [1, unet.inChannels, s, s]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', ctx, [1, 77, 32]),
    });
    return out.out_sample.data as Float32Array;
  };
  const cond = await callUnet(encoded.cond.data);
  const uncond = await callUnet(encoded.uncond!.data);
  const eps = cond.map((c, i) => uncond[i] + guidance * (c - uncond[i]));
  assert.ok(maxAbsDiff(cond, uncond) > 1e-4, 'the text must change the UNet output');
  const expected = scheduler.step(eps, t, latents).prevSample;
  assert.ok(maxAbsDiff(viaPipeline, expected) < 1e-5);

  const noGuidance = await pipe.encode(prompts, '', 1);
  assert.equal(noGuidance.uncond, null);
  const { latents: condOnly } = await pipe.denoise(latents, noGuidance, { steps: 1, guidanceScale: 1 });
  assert.ok(maxAbsDiff(condOnly, scheduler.step(cond, t, latents).prevSample) < 1e-5);
});

test('int64, int32 and float32 timestep exports and int32 input ids give the same image', async () => {
  const reference = (await pipe.generate({ prompts: ['a red circle'], steps: 3, seed: 1 })).images[0].chw;
  for (const [name, opts] of [
    ['f32', { timestepType: 'float32' }],
    ['i32', { timestepType: 'int32', inputIdsType: 'int32' }],
  ] as const) {
    await buildTinySdFolder(join(root, name), opts);
    const other = await Text2ImagePipeline.load(join(root, name));
    const img = (await other.generate({ prompts: ['a red circle'], steps: 3, seed: 1 })).images[0].chw;
    await other.model.release();
    assert.ok(maxAbsDiff(reference, img) < 1e-5, name);
  }
});

test('DPM-Solver++ and DDIM with eta > 0 run, and eta noise is seeded', async () => {
  const dpm = await pipe.generate({ prompts: ['a red circle'], steps: 5, scheduler: 'dpm', seed: 2 });
  const ddim = await pipe.generate({ prompts: ['a red circle'], steps: 5, scheduler: 'ddim', seed: 2 });
  assert.ok(maxAbsDiff(dpm.images[0].chw, ddim.images[0].chw) > 0);
  const e1 = await pipe.generate({ prompts: ['a red circle'], steps: 5, eta: 1, seed: 2 });
  const e2 = await pipe.generate({ prompts: ['a red circle'], steps: 5, eta: 1, seed: 2 });
  assert.deepEqual(e1.images[0].chw, e2.images[0].chw);
  assert.ok(maxAbsDiff(e1.images[0].chw, ddim.images[0].chw) > 0);
});

test('an abort signal stops the denoising loop before its next step', async () => {
  const controller = new AbortController();
  const done: number[] = [];
  const run = pipe.generate({
    prompts: ['a red circle'],
    steps: 10,
    signal: controller.signal,
    onStep: (n) => {
      done.push(n);
      if (n === 2) controller.abort(new Error('client left'));
    },
  });
  await assert.rejects(run, /client left/);
  assert.deepEqual(done, [1, 2]);
  const already = AbortSignal.abort(new Error('gone before it started'));
  await assert.rejects(pipe.generate({ prompts: ['x'], steps: 3, signal: already }), /gone before/);
});

test('over-long prompts are truncated with a warning, not an error', async () => {
  const long = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
  const res = await pipe.generate({ prompts: ['short', long], steps: 1 });
  assert.equal(res.images.length, 2);
  assert.equal(res.warnings.length, 1);
  assert.match(res.warnings[0], /prompt 2 .*77 tokens.*truncated/);
});

test('bad requests fail with clear errors', async () => {
  await assert.rejects(pipe.generate({ prompts: [], steps: 1 }), /at least one prompt/);
  await assert.rejects(pipe.generate({ prompts: ['x'], steps: 0 }), /positive integer/);
  await assert.rejects(pipe.generate({ prompts: ['x', 'y'], seeds: [1], steps: 1 }), /1 seeds for 2 prompts/);
  await assert.rejects(
    pipe.generate({ prompts: ['x'], negativePrompt: ['a', 'b'], steps: 1 }),
    /2 negative prompts/,
  );
});
