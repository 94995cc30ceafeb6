import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { halfBits, halfValue } from '../../src/models/float16.js';
import { loadModelFolder } from '../../src/models/model-folder.js';
import { Text2ImagePipeline } from '../../src/pipelines/text2img.js';
import { loadOnnxRewardScorer } from '../../src/quality/onnx-reward.js';
import type { RgbImage } from '../../src/util/image.js';
import { halveFolder } from '../fixtures/half.js';
import { buildTinyRewardFolder } from '../fixtures/tiny-reward.js';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-half-'));
after(() => rm(tmp, { recursive: true, force: true }));

test('half precision: exact values, rounding to nearest even, subnormals, overflow, NaN', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // the largest half
    [65520, 0x7c00], // rounds up past it: infinity
    [1e6, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [2 ** -14, 0x0400], // the smallest normal
    [2 ** -24, 0x0001], // the smallest subnormal
    [2 ** -25, 0x0000], // a tie between 0 and it: to even, 0
    [1.5 * 2 ** -25, 0x0001],
    [1 + 2 ** -11, 0x3c00], // a tie: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // a tie: to even (1 + 2^-9)
    [0.1, 0x2e66],
  ];
  for (const [value, bits] of cases) assert.equal(halfBits(value), bits, `${value}`);
  assert.equal(halfBits(Number.NaN) & 0x7c00, 0x7c00);
  assert.ok(Number.isNaN(halfValue(0x7e00)));
  for (let bits = 0; bits < 0x7c00; bits += 7)
    assert.equal(halfBits(halfValue(bits)), bits, `round trip ${bits}`);
});

test('a float16 model folder generates as its float32 original does, within half precision', async () => {
  const [f32, f16] = [join(tmp, 'sd32'), join(tmp, 'sd16')];
  await buildTinySdFolder(f32, { timestepType: 'float32' });
  await buildTinySdFolder(f16, { timestepType: 'float32' });
  await halveFolder(f16);
  const folder = await loadModelFolder(f16);
  assert.deepEqual(
    [folder.unet.inputs, folder.textEncoder.outputs, folder.vaeDecoder.inputs].map((specs) =>
      specs.map((s) => s.type),
    ),
    [['float16', 'float16', 'float16'], ['float16', 'float16'], ['float16']],
  );
  await folder.release();
  // Guidance off: its 7.5x of the cond - uncond difference multiplies the rounding too (max 0.038 then).
  for (const scheduler of ['ddim', 'dpm'] as const) {
    const request = {
      prompts: ['a red circle', 'a blue square'],
      steps: 4,
      seed: 3,
      guidanceScale: 1,
      scheduler,
    };
    const [a, b] = await Promise.all(
      [f32, f16].map(async (dir) => {
        const pipe = await Text2ImagePipeline.load(dir);
        try {
          return await pipe.generate(request);
        } finally {
          await pipe.model.release();
        }
      }),
    );
    checkClose(a.images, b.images, scheduler);
  }
});

function checkClose(a: RgbImage[], b: RgbImage[], scheduler: string) {
  let [maxDiff, sum, count] = [0, 0, 0];
  a.forEach((img, i) => {
    img.chw.forEach((v, j) => {
      const d = Math.abs(v - b[i].chw[j]);
      maxDiff = Math.max(maxDiff, d);
      sum += d;
      count += 1;
    });
  });
  const mean = (sum / count).toExponential(2);
  console.log(
    `${scheduler}, float16 against float32: mean pixel difference ${mean}, max ${maxDiff.toExponential(2)}`,
  );
  assert.ok(maxDiff > 0, `${scheduler}: the float16 interface rounds: not bit-identical`);
  // Measured: mean 9e-5 for both samplers, max 0.0095 (DDIM) and 0.063 (DPM-Solver++, whose
  // multistep update amplifies a rounding at one pixel): pixel values lie in [0, 1].
  assert.ok(sum / count < 1e-3, `${scheduler}: mean pixel difference ${mean}`);
  assert.ok(maxDiff < 0.1, `${scheduler}: max pixel difference ${maxDiff}`);
}

test('a float16 reward model scores as its float32 original does', async () => {
  const [f32, f16] = [join(tmp, 'reward32'), join(tmp, 'reward16')];
  await buildTinyRewardFolder(f32);
  await buildTinyRewardFolder(f16);
  await halveFolder(f16);
  const image = {
    width: 32,
    height: 32,
    chw: Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => (i % 97) / 97),
  };
  const [a, b] = await Promise.all(
    [f32, f16].map(async (dir) => (await loadOnnxRewardScorer(dir)).score(['a red circle'], [image])),
  );
  assert.ok(
    Math.abs(a[0].total - b[0].total) < 0.01 * Math.max(1, Math.abs(a[0].total)),
    `${a[0].total} vs ${b[0].total}`,
  );
});
