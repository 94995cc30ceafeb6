import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collect } from '../../src/collect/collect.js';
import { CollectStore } from '../../src/collect/store.js';
import { runWithSteps } from '../../src/eval/run-steps.js';
import { generateAtSteps } from '../../src/pipelines/per-prompt-steps.js';
import { Text2ImagePipeline } from '../../src/pipelines/text2img.js';
import { generateAdaptive } from '../../src/policy/adaptive.js';
import type { QualityScorer } from '../../src/quality/scorer.js';
import type { RgbImage } from '../../src/util/image.js';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-one-path-'));
let pipe: Text2ImagePipeline;
before(async () => {
  await buildTinySdFolder(join(root, 'model'));
  pipe = await Text2ImagePipeline.load(join(root, 'model'));
});
after(() => pipe.model.release());

const PROMPTS = ['a red circle', 'two blue squares', 'a green star left of a red circle'];
const STEPS = [3, 1, 3];
const SEEDS = [11, 12, 13];
const GUIDANCE = 7.5;

/** A scorer that reports every image's bytes as its score parts, so equal scores mean equal images. */
const bytesScorer: QualityScorer = {
  name: 'bytes',
  async score(_prompts, images) {
    return images.map((img) => ({ total: img.chw.reduce((a, v) => a + v, 0), parts: { first: img.chw[0] } }));
  },
};

const same = (a: RgbImage, b: RgbImage) =>
  a.chw.length === b.chw.length && a.chw.every((v, i) => v === b.chw[i]);

test('one path: generate --steps auto, the report and collect draw the same image for a prompt, seed and step count', async () => {
  const core = await generateAtSteps(pipe, {
    prompts: PROMPTS,
    seeds: SEEDS,
    steps: STEPS,
    guidanceScale: GUIDANCE,
  });
  assert.ok(!same(core.images[0], core.images[2]), 'other prompts and seeds draw other images');
  // The fixed-step pipeline, one prompt at a time.
  for (let i = 0; i < PROMPTS.length; i++) {
    const alone = await pipe.generate({ prompts: [PROMPTS[i]], seeds: [SEEDS[i]], steps: STEPS[i] });
    assert.ok(same(alone.images[0], core.images[i]), `prompt ${i}: generate --steps ${STEPS[i]}`);
  }
  // AdaDiff inference with a policy that picks STEPS.
  const adaptive = await generateAdaptive(
    pipe,
    { select: async () => ({ steps: STEPS, probabilities: STEPS.map(() => []), ms: 0 }) },
    { prompts: PROMPTS, seeds: SEEDS, guidanceScale: GUIDANCE },
  );
  adaptive.images.forEach((r, i) => {
    assert.equal(r.steps, STEPS[i]);
    assert.ok(same(r.image, core.images[i]), `prompt ${i}: generate --steps auto`);
  });
  // The report's timed runs, one prompt per batch.
  const report = await runWithSteps(pipe, bytesScorer, PROMPTS, SEEDS, STEPS, {
    scheduler: 'ddim',
    guidanceScale: GUIDANCE,
    batchSize: 1,
  });
  report.images.forEach((img, i) => {
    assert.ok(same(img, core.images[i]), `prompt ${i}: the report`);
  });
  // Collect: its stored scores are those of the same images.
  const store = CollectStore.open(join(root, 'collect.sqlite'));
  const stored = store.registerPrompts(PROMPTS, 0);
  const seeds = stored.map((p) => p.seed);
  await collect(
    pipe,
    bytesScorer,
    PROMPTS.map((text, id) => ({ id, text })),
    store,
    {
      steps: [1, 3],
      scheduler: 'ddim',
      guidanceScale: GUIDANCE,
      seed: 0,
      batchSize: 2,
    },
  );
  const expected = await generateAtSteps(pipe, {
    prompts: PROMPTS,
    seeds,
    steps: STEPS,
    guidanceScale: GUIDANCE,
  });
  const rows = store.records();
  store.close();
  PROMPTS.forEach((text, i) => {
    const row = rows.find((r) => r.prompt === text && r.steps === STEPS[i]);
    assert.equal(
      row?.score,
      expected.images[i].chw.reduce((a, v) => a + v, 0),
      `prompt ${i}: collect`,
    );
  });
});

test("the sampler defaults to the one the folder's scheduler names", async () => {
  assert.equal(pipe.defaultScheduler, 'ddim', 'SD 2.1-base ships a PNDMScheduler config: DDIM runs it');
  const dir = join(root, 'dpm-model');
  await buildTinySdFolder(dir);
  const file = join(dir, 'scheduler', 'scheduler_config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...config, _class_name: 'DPMSolverMultistepScheduler' }));
  const dpmPipe = await Text2ImagePipeline.load(dir);
  try {
    assert.equal(dpmPipe.defaultScheduler, 'dpm');
    const req = { prompts: ['a red circle'], seed: 4, steps: 3 };
    const byDefault = await dpmPipe.generate(req);
    assert.ok(same(byDefault.images[0], (await dpmPipe.generate({ ...req, scheduler: 'dpm' })).images[0]));
    assert.ok(!same(byDefault.images[0], (await dpmPipe.generate({ ...req, scheduler: 'ddim' })).images[0]));
  } finally {
    await dpmPipe.model.release();
  }
});
