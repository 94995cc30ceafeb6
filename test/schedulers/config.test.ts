import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  createScheduler,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  parseDDIMConfig,
  parseDPMSolverConfig,
  SchedulerConfigError,
} from '../../src/schedulers/index.js';

const skeleton = new URL('../../../shared/data/sd21-base-skeleton/', import.meta.url);
const readConfig = (relative: string): unknown =>
  JSON.parse(readFileSync(new URL(relative, skeleton), 'utf8'));

test('the real SD 2.1-base scheduler config parses for both schedulers, extra keys ignored', () => {
  const raw = readConfig('scheduler/scheduler_config.json');
  const ddim = parseDDIMConfig(raw);
  assert.equal(ddim.beta_schedule, 'scaled_linear');
  assert.equal(ddim.beta_start, 0.00085);
  assert.equal(ddim.beta_end, 0.012);
  assert.equal(ddim.clip_sample, false);
  assert.equal(ddim.set_alpha_to_one, false);
  assert.equal(ddim.steps_offset, 1);
  assert.equal(ddim.trained_betas, null);
  assert.equal(ddim.timestep_spacing, 'leading');
  assert.ok(!('skip_prk_steps' in ddim) && !('_class_name' in ddim));

  const dpm = parseDPMSolverConfig(raw);
  assert.equal(dpm.timestep_spacing, 'linspace');
  assert.equal(dpm.solver_order, 2);
  assert.equal(dpm.algorithm_type, 'dpmsolver++');
  assert.equal(dpm.final_sigmas_type, 'zero');

  const scheduler = createScheduler('ddim', raw);
  scheduler.setTimesteps(50);
  assert.equal(scheduler.timesteps[0], 981);
  assert.equal(scheduler.timesteps.at(-1), 1);
});

test('the SD 1.5 ONNX config parses; without clip_sample DDIM takes diffusers default (true)', () => {
  const raw = readConfig('onnx-sd15/scheduler/scheduler_config.json');
  const ddim = parseDDIMConfig(raw);
  assert.equal(ddim.beta_schedule, 'scaled_linear');
  assert.equal(ddim.clip_sample, true);
  assert.equal(ddim.prediction_type, 'epsilon');
  assert.ok(createScheduler('dpm', raw) instanceof DPMSolverMultistepScheduler);
});

test('defaults follow diffusers per class', () => {
  const ddim = parseDDIMConfig({});
  assert.deepEqual(
    [ddim.num_train_timesteps, ddim.beta_start, ddim.beta_end, ddim.beta_schedule, ddim.prediction_type],
    [1000, 0.0001, 0.02, 'linear', 'epsilon'],
  );
  assert.deepEqual([ddim.clip_sample, ddim.clip_sample_range, ddim.set_alpha_to_one], [true, 1, true]);
  assert.deepEqual([ddim.steps_offset, ddim.timestep_spacing], [0, 'leading']);

  const dpm = parseDPMSolverConfig({ variance_type: null, use_karras_sigmas: null });
  assert.deepEqual(
    [dpm.solver_order, dpm.solver_type, dpm.lower_order_final, dpm.euler_at_final, dpm.use_karras_sigmas],
    [2, 'midpoint', true, false, false],
  );
  assert.equal(dpm.lambda_min_clipped, Number.NEGATIVE_INFINITY);
});

test('wrong types are rejected with an error naming the key and the expected type', () => {
  const cases: [unknown, RegExp][] = [
    [{ beta_start: '0.001' }, /beta_start: .*expected number, received string/],
    [{ num_train_timesteps: 999.5 }, /num_train_timesteps: .*expected int/],
    [{ clip_sample: 'no' }, /clip_sample: .*expected boolean/],
    [{ beta_schedule: 'cosine' }, /beta_schedule: .*"linear"\|"scaled_linear"\|"squaredcos_cap_v2"/],
    [{ prediction_type: 'v-prediction' }, /prediction_type: /],
    [{ timestep_spacing: 'uniform' }, /timestep_spacing: /],
    [{ trained_betas: [0.1, 'x'] }, /trained_betas\.1: .*expected number/],
    [{ steps_offset: -1 }, /steps_offset: /],
    [null, /expected object, received null/],
    [[1, 2], /expected object, received array/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(
      () => DDIMScheduler.fromConfig(raw),
      (e: Error) => {
        assert.ok(e instanceof SchedulerConfigError, `${e}`);
        assert.match(e.message, /^Invalid DDIM scheduler config: /);
        assert.match(e.message, message);
        return true;
      },
    );
  }
});

test('options that would change the math and are not implemented are rejected by name', () => {
  const ddimCases: [unknown, RegExp][] = [
    [{ thresholding: true }, /thresholding: true is not supported/],
    [{ rescale_betas_zero_snr: true }, /rescale_betas_zero_snr: true is not supported/],
    [
      { num_train_timesteps: 3, trained_betas: [0.1, 0.2] },
      /trained_betas: has 2 values but num_train_timesteps is 3/,
    ],
  ];
  for (const [raw, message] of ddimCases) assert.throws(() => DDIMScheduler.fromConfig(raw), message);

  const dpmCases: [unknown, RegExp][] = [
    [{ algorithm_type: 'sde-dpmsolver++' }, /algorithm_type: only 'dpmsolver\+\+' is implemented/],
    [{ algorithm_type: 'dpmsolver' }, /algorithm_type: /],
    [{ solver_order: 3 }, /solver_order: only solver orders 1 and 2/],
    [{ solver_type: 'euler' }, /solver_type: expected 'midpoint' or 'heun'/],
    [{ final_sigmas_type: 'denoise_to_zero' }, /final_sigmas_type: /],
    [{ use_lu_lambdas: true }, /use_lu_lambdas: true is not supported/],
    [{ use_exponential_sigmas: true }, /use_exponential_sigmas: /],
    [{ use_beta_sigmas: true }, /use_beta_sigmas: /],
    [{ use_flow_sigmas: true }, /use_flow_sigmas: /],
    [{ variance_type: 'learned_range' }, /variance_type: learned variance outputs are not supported/],
    [{ thresholding: true }, /thresholding: /],
  ];
  for (const [raw, message] of dpmCases) {
    assert.throws(() => DPMSolverMultistepScheduler.fromConfig(raw), message);
  }
});

test('DEIS / UniPC names map onto DPM-Solver++ midpoint as diffusers does when switching schedulers', () => {
  for (const solver_type of ['logrho', 'bh1', 'bh2']) {
    const cfg = parseDPMSolverConfig({ algorithm_type: 'deis', solver_type });
    assert.equal(cfg.algorithm_type, 'dpmsolver++');
    assert.equal(cfg.solver_type, 'midpoint');
  }
  assert.equal(parseDPMSolverConfig({ solver_type: 'heun' }).solver_type, 'heun');
});

test('trained_betas replaces the named schedule', () => {
  const s = DDIMScheduler.fromConfig({ num_train_timesteps: 4, trained_betas: [0.1, 0.2, 0.3, 0.4] });
  assert.deepEqual(Array.from(s.betas), [0.1, 0.2, 0.3, 0.4].map(Math.fround));
});

test('createScheduler builds either kind and rejects unknown kinds', () => {
  assert.ok(createScheduler('ddim', {}) instanceof DDIMScheduler);
  assert.ok(createScheduler('dpm', {}) instanceof DPMSolverMultistepScheduler);
  assert.throws(() => createScheduler('pndm' as 'ddim', {}), /unknown scheduler kind "pndm"/);
});
