import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alphasCumprod, DDIMScheduler, makeBetas, parseDDIMConfig } from '../../src/schedulers/index.js';
import { Rng } from '../../src/util/random.js';
import { absSumMean, dummyModel, dummySampleDeter, fullLoop } from './diffusers-fixtures.js';

/** diffusers' DDIMSchedulerTest.get_scheduler_config. */
const testConfig = (extra: object = {}) => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  clip_sample: true,
  ...extra,
});

/** Asserts a published diffusers result with the tolerances its tests use (1e-2 on sums, 1e-3 on means). */
function assertPublished(sample: Float32Array, sum: number, mean: number): void {
  const got = absSumMean(sample);
  assert.ok(Math.abs(got.sum - sum) < 1e-2, `sum ${got.sum}, diffusers ${sum}`);
  assert.ok(Math.abs(got.mean - mean) < 1e-3, `mean ${got.mean}, diffusers ${mean}`);
}

// Full loops of diffusers' tests/schedulers/test_scheduler_ddim.py: 10 steps, eta 0.
test('test_full_loop_no_noise: 172.0067 / 0.223967', () => {
  assertPublished(fullLoop(DDIMScheduler.fromConfig(testConfig()), 10), 172.0067, 0.223967);
});

test('test_full_loop_with_v_prediction: 52.5302 / 0.0684', () => {
  const s = DDIMScheduler.fromConfig(testConfig({ prediction_type: 'v_prediction' }));
  assertPublished(fullLoop(s, 10), 52.5302, 0.0684);
});

test('test_full_loop_with_set_alpha_to_one: 149.8295 / 0.1951', () => {
  const s = DDIMScheduler.fromConfig(testConfig({ set_alpha_to_one: true, beta_start: 0.01 }));
  assertPublished(fullLoop(s, 10), 149.8295, 0.1951);
});

test('test_full_loop_with_no_set_alpha_to_one: 149.0784 / 0.1941', () => {
  const s = DDIMScheduler.fromConfig(testConfig({ set_alpha_to_one: false, beta_start: 0.01 }));
  assertPublished(fullLoop(s, 10), 149.0784, 0.1941);
});

test('test_full_loop_with_noise (add_noise of dummy_noise_deter at the 8th timestep): 354.5418 / 0.4616', () => {
  assertPublished(fullLoop(DDIMScheduler.fromConfig(testConfig()), 10, 8), 354.5418, 0.4616);
});

test('test_variance: _get_variance at diffusers published points', () => {
  const s = DDIMScheduler.fromConfig(testConfig());
  const cases: [number, number, number][] = [
    [0, 0, 0],
    [420, 400, 0.14771],
    [980, 960, 0.3246],
    [487, 486, 0.00979],
    [999, 998, 0.02],
  ];
  for (const [t, prev, expected] of cases) {
    assert.ok(
      Math.abs(s.variance(t, prev) - expected) < 1e-5,
      `variance(${t}, ${prev}) = ${s.variance(t, prev)}`,
    );
  }
});

test('betas and alphas_cumprod are float32 bit-identical to torch (values from torch 1.13 CPU)', () => {
  const sd = parseDDIMConfig({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 });
  const sdBetas = makeBetas(sd);
  assert.deepEqual(
    [0, 1, 17, 500, 998, 999].map((i) => sdBetas[i]),
    [
      0.0008499999530613422, 0.0008546985918655992, 0.000931638409383595, 0.004814954474568367,
      0.01198237482458353, 0.011999999172985554,
    ],
  );
  const sdCumprod = alphasCumprod(sdBetas);
  assert.deepEqual(
    [0, 1, 500, 999].map((i) => sdCumprod[i]),
    [0.9991499781608582, 0.9982960224151611, 0.2763324975967407, 0.0046600960195064545],
  );
  const linear = makeBetas(parseDDIMConfig({}));
  assert.deepEqual(
    [0, 1, 17, 500, 998, 999].map((i) => linear[i]),
    [
      9.999999747378752e-5, 0.00011991991777904332, 0.0004386386426631361, 0.010059960186481476,
      0.01998008042573929, 0.019999999552965164,
    ],
  );
  assert.equal(alphasCumprod(linear)[999], 4.0358307160204276e-5);
});

/** One DDIM step written out from Eq. 2 of the paper in float64. */
function eq2Step(a: number, aPrev: number, x: number, eps: number, eta: number, z: number): number {
  const x0 = (x - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
  const sigma2 = eta ** 2 * ((1 - aPrev) / (1 - a)) * (1 - a / aPrev);
  return Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev - sigma2) * eps + Math.sqrt(sigma2) * z;
}

test('one step agrees with Eq. 2 written out by hand, for eta 0 and eta > 0', () => {
  const s = DDIMScheduler.fromConfig({
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    beta_end: 0.012,
    clip_sample: false,
    set_alpha_to_one: false,
    steps_offset: 1,
  });
  s.setTimesteps(20);
  const rng = new Rng(3);
  const x = rng.normalArray(64);
  const eps = rng.normalArray(64);
  const z = rng.normalArray(64);
  for (const t of [s.timesteps[0], s.timesteps[10], s.timesteps[19]]) {
    const a = s.alphasCumprod[t];
    const aPrev = t - 50 >= 0 ? s.alphasCumprod[t - 50] : s.alphasCumprod[0];
    for (const eta of [0, 0.5, 1]) {
      const out = s.step(eps, t, x, { eta, varianceNoise: z }).prevSample;
      for (let i = 0; i < x.length; i++) {
        const expected = eq2Step(a, aPrev, x[i], eps[i], eta, z[i]);
        assert.ok(
          Math.abs(out[i] - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
          `t=${t} eta=${eta} i=${i}`,
        );
      }
    }
  }
});

test('property: with eta 0 and the exact noise of a known x0, DDIM recovers x0 at every step and at the end', () => {
  const s = DDIMScheduler.fromConfig({
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    beta_end: 0.012,
    clip_sample: false,
    steps_offset: 1,
  });
  const rng = new Rng(11);
  const x0 = rng.normalArray(256);
  const noise = rng.normalArray(256);
  for (const steps of [1, 7, 10, 50]) {
    s.setTimesteps(steps);
    let x = s.addNoise(x0, noise, s.timesteps[0]);
    for (const t of s.timesteps) {
      const a = s.alphasCumprod[t];
      // The ideal epsilon-predictor for this x0.
      const eps = x.map((v, i) => (v - Math.sqrt(a) * x0[i]) / Math.sqrt(1 - a));
      const { prevSample, predOriginalSample } = s.step(eps, t, x);
      for (let i = 0; i < x0.length; i++) assert.ok(Math.abs(predOriginalSample[i] - x0[i]) < 1e-3, `t=${t}`);
      x = prevSample;
    }
    // set_alpha_to_one: the last step lands on alpha = 1, i.e. exactly on the prediction.
    for (let i = 0; i < x0.length; i++)
      assert.ok(Math.abs(x[i] - x0[i]) < 1e-3, `N=${steps} i=${i}: ${x[i]}`);
  }
});

test('eta > 0 noise: a seeded generator equals passing the same normals explicitly', () => {
  const make = () => {
    const s = DDIMScheduler.fromConfig(testConfig({ clip_sample: false }));
    s.setTimesteps(10);
    return s;
  };
  const viaGenerator = make();
  const viaNoise = make();
  const generator = new Rng(42);
  const normals = new Rng(42);
  let a = dummySampleDeter();
  let b = dummySampleDeter();
  for (const t of viaGenerator.timesteps) {
    a = viaGenerator.step(dummyModel(a, t), t, a, { eta: 1, generator }).prevSample;
    b = viaNoise.step(dummyModel(b, t), t, b, {
      eta: 1,
      varianceNoise: normals.normalArray(b.length),
    }).prevSample;
  }
  assert.deepEqual(a, b);
  const deterministic = fullLoop(make(), 10);
  assert.notDeepEqual(a, deterministic);
});

test('sample prediction and clipping of the predicted x0', () => {
  const s = DDIMScheduler.fromConfig({
    prediction_type: 'sample',
    clip_sample: true,
    clip_sample_range: 0.5,
  });
  s.setTimesteps(10);
  const x = Float32Array.from([0.3, -2, 2, 0]);
  const { predOriginalSample } = s.step(Float32Array.from([0.1, -0.9, 3, -0.2]), 500, x);
  assert.deepEqual(Array.from(predOriginalSample), [0.1, -0.5, 0.5, -0.2].map(Math.fround));
});

test('addNoise is q(x_t | x_0) of Eq. 1', () => {
  const s = DDIMScheduler.fromConfig({});
  const a = s.alphasCumprod[250];
  const out = s.addNoise(Float32Array.from([1, -2]), Float32Array.from([0.5, 0.25]), 250);
  assert.ok(Math.abs(out[0] - (Math.sqrt(a) + 0.5 * Math.sqrt(1 - a))) < 1e-6);
  assert.ok(Math.abs(out[1] - (-2 * Math.sqrt(a) + 0.25 * Math.sqrt(1 - a))) < 1e-6);
});

test('step and addNoise reject bad arguments clearly', () => {
  const s = DDIMScheduler.fromConfig({});
  const x = new Float32Array(4);
  assert.throws(() => s.step(x, 10, x), /call setTimesteps before step/);
  s.setTimesteps(10);
  assert.throws(() => s.step(x, 1000, x), /timestep must be an integer from 0 to 999, got 1000/);
  assert.throws(() => s.step(x, 2.5, x), /timestep must be an integer/);
  assert.throws(() => s.step(new Float32Array(3), 900, x), /modelOutput has 3 values but the sample has 4/);
  assert.throws(() => s.step(x, 900, x, { eta: -1 }), /eta must be a finite number >= 0/);
  assert.throws(() => s.step(x, 900, x, { eta: 1 }), /eta > 0 needs noise/);
  assert.throws(
    () => s.step(x, 900, x, { eta: 1, generator: new Rng(1), varianceNoise: x }),
    /either opts.generator or opts.varianceNoise, not both/,
  );
  assert.throws(
    () => s.step(x, 900, x, { eta: 1, varianceNoise: new Float32Array(2) }),
    /varianceNoise has 2/,
  );
  assert.throws(() => s.addNoise(x, new Float32Array(5), 10), /noise has 5 values/);
  assert.equal(s.scaleModelInput(x, 900), x);
  assert.equal(s.initNoiseSigma, 1);
});
