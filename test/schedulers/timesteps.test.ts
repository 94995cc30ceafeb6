import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createScheduler,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  ddimTimesteps,
  dpmTimesteps,
  type SchedulerKind,
} from '../../src/schedulers/index.js';
import { npArange, npLinspace, roundHalfEven } from '../../src/schedulers/timesteps.js';

// Expected vectors are numpy's (diffusers' set_timesteps run through numpy 1.24 and 2.4).

test('DDIM leading spacing with steps_offset=1 (diffusers test_steps_offset)', () => {
  const s = DDIMScheduler.fromConfig({ steps_offset: 1 });
  s.setTimesteps(5);
  assert.deepEqual(s.timesteps, [801, 601, 401, 201, 1]);
});

test('DDIM spacings match numpy for the sampler sizes AdaDiff picks from', () => {
  assert.deepEqual(ddimTimesteps('leading', 1000, 10, 0), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  assert.deepEqual(ddimTimesteps('trailing', 1000, 10, 0), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  assert.deepEqual(ddimTimesteps('linspace', 1000, 10, 1), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
  const sd = ddimTimesteps('leading', 1000, 30, 1);
  assert.deepEqual([sd[0], sd[1], sd.at(-1)], [958, 925, 1]);
  // The vector from diffusers issue #9261 (trailing, 13 steps).
  assert.deepEqual(
    ddimTimesteps('trailing', 1000, 13, 0),
    [999, 922, 845, 768, 691, 614, 537, 461, 384, 307, 230, 153, 76],
  );
  // Half-way points round to even as numpy does: linspace(0, 999, 3) = [0, 499.5, 999].
  assert.deepEqual(ddimTimesteps('linspace', 1000, 3, 0), [999, 500, 0]);
  assert.deepEqual(ddimTimesteps('linspace', 1000, 7, 0), [999, 832, 666, 500, 333, 166, 0]);
});

test('DPM-Solver spacings match numpy', () => {
  assert.deepEqual(
    dpmTimesteps('linspace', 1000, 1000, 10, 0),
    [999, 899, 799, 699, 599, 500, 400, 300, 200, 100],
  );
  assert.deepEqual(
    dpmTimesteps('leading', 1000, 1000, 10, 1),
    [901, 811, 721, 631, 541, 451, 361, 271, 181, 91],
  );
  assert.deepEqual(dpmTimesteps('trailing', 1000, 1000, 7, 0), [999, 856, 713, 570, 428, 285, 142]);
  assert.deepEqual(dpmTimesteps('linspace', 1000, 1000, 1, 0), [999]);
  // lambda_min_clipped shortens the range the spacings cover.
  assert.deepEqual(dpmTimesteps('linspace', 1000, 990, 3, 0), [989, 659, 330]);
  assert.deepEqual(dpmTimesteps('trailing', 1000, 990, 4, 0), [989, 739, 489, 239]);
});

test('numpy emulation: half-to-even rounding, linspace endpoints, arange length from float division', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
  assert.deepEqual(npLinspace(0, 999, 1), [0]);
  assert.equal(npLinspace(0, 999, 11).at(-1), 999);
  assert.equal(npLinspace(0, 999, 11)[5], 499.5); // rounds to 500 (even), not 499
  assert.deepEqual(npArange(1000, 0, -1000 / 3), [1000, 666.6666666666667, 333.3333333333335]);
  // 1000 / (1000/61) is 61.000000000000004 in float64, so numpy makes 62 points, the last just above 0.
  assert.equal(npArange(1000, 0, -1000 / 61).length, 62);
});

test("trailing spacing drops diffusers' stray timestep -1 where numpy's arange overshoots", () => {
  // diffusers returns 62 timesteps ending in -1 here; torch reads alphas_cumprod[-1] as the last entry.
  const ts = ddimTimesteps('trailing', 1000, 61, 0);
  assert.equal(ts.length, 61);
  assert.deepEqual(ts.slice(0, 3), [999, 983, 966]);
  assert.equal(ts.at(-1), 15);
  assert.equal(dpmTimesteps('trailing', 1000, 1000, 61, 0).length, 61);
});

test('every N from 1 to 100 gives N strictly decreasing in-range timesteps, for every spacing', () => {
  const kinds: SchedulerKind[] = ['ddim', 'dpm'];
  for (const kind of kinds) {
    for (const spacing of ['leading', 'trailing', 'linspace']) {
      for (const steps_offset of [0, 1]) {
        const s = createScheduler(kind, { timestep_spacing: spacing, steps_offset });
        for (let n = 1; n <= 100; n++) {
          s.setTimesteps(n);
          const ts = s.timesteps;
          const where = `${kind} ${spacing} offset ${steps_offset} N=${n}`;
          assert.equal(ts.length, n, where);
          assert.equal(s.numInferenceSteps, n, where);
          for (let i = 0; i < n; i++) {
            assert.ok(Number.isInteger(ts[i]) && ts[i] >= 0 && ts[i] <= 999, `${where}: ${ts[i]}`);
            if (i > 0) assert.ok(ts[i] < ts[i - 1], `${where}: not decreasing at ${i}`);
          }
        }
      }
    }
  }
});

test('setTimesteps accepts 1..num_train_timesteps and rejects anything else clearly', () => {
  for (const kind of ['ddim', 'dpm'] as const) {
    const s = createScheduler(kind, { num_train_timesteps: 100 });
    s.setTimesteps(1);
    s.setTimesteps(100);
    assert.equal(s.timesteps.length, 100);
    for (const bad of [0, -3, 101, 2.5, Number.NaN]) {
      assert.throws(
        () => s.setTimesteps(bad),
        /numInferenceSteps must be an integer from 1 to num_train_timesteps \(100\)/,
      );
    }
  }
});

test('a schedule diffusers would index past the table is an error, not a silent wrap', () => {
  // leading + steps_offset=1 at N = num_train puts the first timestep at 1000.
  const s = DDIMScheduler.fromConfig({ steps_offset: 1 });
  assert.throws(() => s.setTimesteps(1000), /timestep 1000 falls outside 0..999/);
  // DPM leading at N=999 spaces 999..1; an offset of 5 would push it to 1004.
  const dpm = DPMSolverMultistepScheduler.fromConfig({ timestep_spacing: 'leading', steps_offset: 5 });
  assert.throws(() => dpm.setTimesteps(999), /timestep 1004 falls outside 0..999/);
});
