import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { parseJson, readJson } from '../../src/models/json-file.js';
import { Text2ImagePipeline } from '../../src/pipelines/text2img.js';
import { parseDPMSolverConfig } from '../../src/schedulers/config.js';
import { buildTinySdFolder } from '../fixtures/tiny-sd.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-json-'));

/** DPMSolverMultistepScheduler's config as diffusers 0.30 saves it (Python's json: bare -Infinity). */
const DIFFUSERS_DPM_CONFIG = `{
  "_class_name": "DPMSolverMultistepScheduler",
  "_diffusers_version": "0.30.0",
  "algorithm_type": "dpmsolver++",
  "beta_end": 0.012,
  "beta_schedule": "scaled_linear",
  "beta_start": 0.00085,
  "dynamic_thresholding_ratio": 0.995,
  "euler_at_final": false,
  "final_sigmas_type": "zero",
  "lambda_min_clipped": -Infinity,
  "lower_order_final": true,
  "num_train_timesteps": 1000,
  "prediction_type": "epsilon",
  "rescale_betas_zero_snr": false,
  "sample_max_value": 1.0,
  "solver_order": 2,
  "solver_type": "midpoint",
  "steps_offset": 1,
  "thresholding": false,
  "timestep_spacing": "leading",
  "trained_betas": null,
  "use_karras_sigmas": false,
  "use_lu_lambdas": false,
  "variance_type": null
}
`;

test("Python's bare Infinity, -Infinity and NaN read as numbers; strings and malformed JSON are left alone", () => {
  const value = parseJson(
    '{"a": -Infinity, "b": [Infinity, NaN, 2.5], "s": "NaN or \\"-Infinity\\"", "n": null}',
  );
  assert.deepEqual(value, { a: -Infinity, b: [Infinity, Number.NaN, 2.5], s: 'NaN or "-Infinity"', n: null });
  assert.throws(() => parseJson('{"a": -Infinity,}'), SyntaxError);
  assert.throws(() => parseJson('{"a": Infinit}'), SyntaxError);
});

test('readJson names the file of malformed JSON, and reads diffusers-written configs', async () => {
  const bad = join(root, 'bad.json');
  writeFileSync(bad, '{"lambda_min_clipped": -Inf}');
  await assert.rejects(
    readJson(bad, z.object({})),
    (e: Error) => e.message.includes(bad) && /invalid JSON/.test(e.message),
  );
  const good = join(root, 'scheduler_config.json');
  writeFileSync(good, DIFFUSERS_DPM_CONFIG);
  const config = await readJson(good, z.record(z.string(), z.unknown()));
  assert.equal(config.lambda_min_clipped, Number.NEGATIVE_INFINITY);
  assert.equal(parseDPMSolverConfig(config).lambda_min_clipped, Number.NEGATIVE_INFINITY);
});

test("a model folder with diffusers' own DPM-Solver++ config generates with both schedulers", async () => {
  const dir = join(root, 'model');
  await buildTinySdFolder(dir);
  writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), DIFFUSERS_DPM_CONFIG);
  const pipe = await Text2ImagePipeline.load(dir);
  try {
    for (const scheduler of ['dpm', 'ddim'] as const) {
      const { images } = await pipe.generate({ prompts: ['a photo of a cat'], steps: 4, seed: 1, scheduler });
      assert.equal(images.length, 1);
      assert.ok(images[0].chw.every(Number.isFinite), `${scheduler}: finite pixels`);
    }
  } finally {
    await pipe.model.release();
  }
});
