import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DPMSolverMultistepScheduler } from '../../src/schedulers/index.js';
import { Rng } from '../../src/util/random.js';
import { absSumMean, dummyModel, dummySampleDeter, fullLoop } from './diffusers-fixtures.js';

/** diffusers' DPMSolverMultistepSchedulerTest.get_scheduler_config (note final_sigmas_type sigma_min). */
const testConfig = (extra: object = {}) => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  euler_at_final: false,
  variance_type: null,
  final_sigmas_type: 'sigma_min',
  ...extra,
});

const meanAbs = (x: Float32Array) => absSumMean(x).mean;

// Full loops of diffusers' tests/schedulers/test_scheduler_dpm_multi.py: 10 steps, tolerance 1e-3 on means.
test('test_full_loop_no_noise: mean 0.3301', () => {
  const mean = meanAbs(fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig()), 10));
  assert.ok(Math.abs(mean - 0.3301) < 1e-3, `${mean}`);
});

test('test_full_loop_with_noise (add_noise at the 5th timestep): 318.4111 / 0.4146', () => {
  const { sum, mean } = absSumMean(fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig()), 10, 5));
  assert.ok(Math.abs(sum - 318.4111) < 1e-2, `${sum}`);
  assert.ok(Math.abs(mean - 0.4146) < 1e-3, `${mean}`);
});

test('test_full_loop_with_v_prediction: mean 0.2251', () => {
  const s = DPMSolverMultistepScheduler.fromConfig(testConfig({ prediction_type: 'v_prediction' }));
  const mean = meanAbs(fullLoop(s, 10));
  assert.ok(Math.abs(mean - 0.2251) < 1e-3, `${mean}`);
});

test('test_full_loop_with_karras_and_v_prediction: mean 0.2096', () => {
  // Current diffusers steps with the Karras sigmas themselves and lands on 0.20920; the published 0.2096 dates
  // from when it used the training sigmas at the rounded timesteps, and still passes its 1e-3 tolerance.
  const s = DPMSolverMultistepScheduler.fromConfig(
    testConfig({ prediction_type: 'v_prediction', use_karras_sigmas: true }),
  );
  const mean = meanAbs(fullLoop(s, 10));
  assert.ok(Math.abs(mean - 0.2096) < 1e-3, `${mean}`);
  assert.deepEqual(s.timesteps, [999, 937, 864, 775, 663, 511, 301, 102, 18, 0]);
});

test('test_switch: a config round-tripped through DEIS/UniPC (deis, logrho) samples the same, mean 0.3301', () => {
  const direct = fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig()), 10);
  const switched = DPMSolverMultistepScheduler.fromConfig(
    testConfig({ algorithm_type: 'deis', solver_type: 'logrho' }),
  );
  const sample = fullLoop(switched, 10);
  assert.deepEqual(sample, direct);
  assert.ok(Math.abs(meanAbs(sample) - 0.3301) < 1e-3);
});

test('first order with final sigma zero: each step is DDIM (eta 0) between the scheduled timesteps', () => {
  const s = DPMSolverMultistepScheduler.fromConfig({
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    beta_end: 0.012,
    solver_order: 1,
  });
  s.setTimesteps(8);
  const rng = new Rng(5);
  let x = rng.normalArray(128);
  const ts = s.timesteps;
  for (let k = 0; k < ts.length; k++) {
    const eps = rng.normalArray(128);
    const a = s.alphasCumprod[ts[k]];
    const aPrev = k + 1 < ts.length ? s.alphasCumprod[ts[k + 1]] : 1;
    const { prevSample, predOriginalSample } = s.step(eps, ts[k], x);
    for (let i = 0; i < x.length; i++) {
      const x0 = (x[i] - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a);
      const expected = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps[i];
      assert.ok(Math.abs(predOriginalSample[i] - x0) <= 1e-5 * Math.max(1, Math.abs(x0)), `x0 t=${ts[k]}`);
      assert.ok(
        Math.abs(prevSample[i] - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
        `t=${ts[k]} i=${i}`,
      );
    }
    x = prevSample;
  }
});

test('property: with the exact noise of a known x0, DPM-Solver++(2) ends on x0', () => {
  const rng = new Rng(8);
  const x0 = rng.normalArray(128);
  const noise = rng.normalArray(128);
  for (const solver_type of ['midpoint', 'heun']) {
    const s = DPMSolverMultistepScheduler.fromConfig({
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      beta_end: 0.012,
      solver_type,
    });
    s.setTimesteps(20);
    let x = s.addNoise(x0, noise, s.timesteps[0]);
    for (const t of s.timesteps) {
      const a = s.alphasCumprod[t];
      const eps = x.map((v, i) => (v - Math.sqrt(a) * x0[i]) / Math.sqrt(1 - a));
      x = s.step(eps, t, x).prevSample;
    }
    for (let i = 0; i < x0.length; i++) assert.ok(Math.abs(x[i] - x0[i]) < 1e-3, `${solver_type} i=${i}`);
  }
});

test('setTimesteps resets the multistep history, so a rerun reproduces the first run', () => {
  const s = DPMSolverMultistepScheduler.fromConfig(testConfig());
  const first = fullLoop(s, 10);
  // Leave the scheduler mid-run, then start over.
  s.setTimesteps(10);
  const x = dummySampleDeter();
  s.step(dummyModel(x, s.timesteps[0]), s.timesteps[0], x);
  assert.deepEqual(fullLoop(s, 10), first);
});

test('solver settings change the result as they should', () => {
  const base = meanAbs(fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig()), 10));
  for (const extra of [
    { solver_type: 'heun' },
    { solver_order: 1 },
    { final_sigmas_type: 'zero' },
    { euler_at_final: true },
  ]) {
    const mean = meanAbs(fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig(extra)), 10));
    assert.ok(Number.isFinite(mean) && mean !== base, JSON.stringify(extra));
  }
  // lower_order_final only acts on short schedules (< 15 steps), and here only on the final step.
  const lower = fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig({ lower_order_final: true })), 10);
  const euler = fullLoop(DPMSolverMultistepScheduler.fromConfig(testConfig({ euler_at_final: true })), 10);
  assert.deepEqual(lower, euler);
});

test('lambda_min_clipped trims the noisiest timesteps of a cosine schedule', () => {
  const s = DPMSolverMultistepScheduler.fromConfig({
    beta_schedule: 'squaredcos_cap_v2',
    lambda_min_clipped: -5.1,
  });
  s.setTimesteps(10);
  assert.ok(s.timesteps[0] < 999, `${s.timesteps[0]}`);
  const unclipped = DPMSolverMultistepScheduler.fromConfig({ beta_schedule: 'squaredcos_cap_v2' });
  unclipped.setTimesteps(10);
  assert.equal(unclipped.timesteps[0], 999);
});

test('step, addNoise and the schedule reject misuse clearly', () => {
  const s = DPMSolverMultistepScheduler.fromConfig(testConfig());
  const x = new Float32Array(4);
  assert.throws(
    () => s.step(x, 999, x),
    /timestep 999 is not in the current schedule \(call setTimesteps first\)/,
  );
  s.setTimesteps(3);
  assert.deepEqual(s.timesteps, [999, 666, 333]);
  assert.throws(() => s.step(x, 998, x), /timestep 998 is not in the current schedule/);
  assert.throws(() => s.step(x, 999, x, { eta: 0.5 }), /eta is a DDIM option/);
  assert.throws(() => s.step(new Float32Array(2), 999, x), /modelOutput has 2 values/);
  s.step(x, 999, x);
  assert.throws(() => s.step(x, 333, x), /expected timestep 666 \(step 1\), got 333/);
  s.step(x, 666, x);
  s.step(x, 333, x);
  assert.throws(() => s.step(x, 333, x), /the schedule is finished/);
  assert.throws(() => s.addNoise(x, x, 5), /timestep 5 is not in the current schedule/);
  assert.equal(s.initNoiseSigma, 1);
  assert.equal(s.scaleModelInput(x, 999), x);
});
