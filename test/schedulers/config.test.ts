import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseJson } from '../../src/models/json-file.js';
import {
  createScheduler,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  parseDDIMConfig,
  parseDPMSolverConfig,
  resolveSchedulerConfig,
  SchedulerConfigError,
  type SchedulerKind,
} from '../../src/schedulers/index.js';

const skeleton = new URL('../../../shared/data/sd21-base-skeleton/', import.meta.url);
const readConfig = (relative: string): Record<string, unknown> =>
  parseJson(readFileSync(new URL(relative, skeleton), 'utf8')) as Record<string, unknown>;
/** A config as diffusers' save_config writes it: every __init__ parameter at its default, SD betas. */
const readFixture = (name: string): Record<string, unknown> =>
  parseJson(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

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
    [{ beta_start: '0.001' }, /beta_start = "0.001": expected a number, got text/],
    [{ num_train_timesteps: 999.5 }, /num_train_timesteps = 999.5: expected an integer/],
    [{ clip_sample: 'no' }, /clip_sample = "no": expected true or false, got text/],
    [
      { beta_schedule: 'cosine' },
      /beta_schedule = "cosine": expected one of "linear", "scaled_linear", "squaredcos_cap_v2"/,
    ],
    [{ prediction_type: 'v-prediction' }, /prediction_type = "v-prediction": /],
    [{ timestep_spacing: 'uniform' }, /timestep_spacing = "uniform": /],
    [{ trained_betas: [0.1, 'x'] }, /trained_betas\.1 = "x": expected a number, got text/],
    [{ steps_offset: -1 }, /steps_offset = -1: /],
    [null, /expected a JSON object, got null/],
    [[1, 2], /expected a JSON object, got a list/],
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

test('options that would change the math and are not implemented are rejected by name and value', () => {
  const ddimCases: [unknown, RegExp][] = [
    [{ thresholding: true }, /thresholding = true: not supported/],
    [{ rescale_betas_zero_snr: true }, /rescale_betas_zero_snr = true: not supported/],
    [
      { num_train_timesteps: 3, trained_betas: [0.1, 0.2] },
      /trained_betas: has 2 values but num_train_timesteps is 3/,
    ],
  ];
  for (const [raw, message] of ddimCases) assert.throws(() => DDIMScheduler.fromConfig(raw), message);

  const dpmCases: [unknown, RegExp][] = [
    [
      { algorithm_type: 'sde-dpmsolver++' },
      /algorithm_type = "sde-dpmsolver\+\+": only 'dpmsolver\+\+' is implemented/,
    ],
    [{ algorithm_type: 'dpmsolver' }, /algorithm_type = "dpmsolver": /],
    [{ solver_order: 3 }, /solver_order = 3: only solver orders 1 and 2/],
    [{ solver_type: 'euler' }, /solver_type = "euler": expected 'midpoint' or 'heun'/],
    [{ final_sigmas_type: 'denoise_to_zero' }, /final_sigmas_type = "denoise_to_zero": /],
    [{ use_lu_lambdas: true }, /use_lu_lambdas = true: not supported/],
    [{ use_exponential_sigmas: true }, /use_exponential_sigmas = true: /],
    [{ use_beta_sigmas: true }, /use_beta_sigmas = true: /],
    [{ use_flow_sigmas: true }, /use_flow_sigmas = true: /],
    [
      { variance_type: 'learned_range' },
      /variance_type = "learned_range": learned variance outputs are not supported/,
    ],
    [{ variance_type: 'learned' }, /variance_type = "learned": /],
    [{ thresholding: true }, /thresholding = true: /],
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

/** The keys every diffusers scheduler's __init__ shares with both of ours, carried whatever the class. */
const BASE_KEYS = [
  'beta_end',
  'beta_schedule',
  'beta_start',
  'num_train_timesteps',
  'prediction_type',
  'steps_offset',
  'timestep_spacing',
  'trained_betas',
];
const withBase = (...extra: string[]) => [...BASE_KEYS, ...extra].sort();

interface KeptIgnored {
  carried: string[];
  ignored: string[];
}

/**
 * What diffusers' `DDIMScheduler.from_config` / `DPMSolverMultistepScheduler.from_config` keep of each
 * fixture: the keys in the target's `__init__` signature (diffusers 0.40.0.dev0), the rest ignored.
 */
const FROM_CONFIG: Record<string, { sourceClass: string; ddim: KeptIgnored; dpm: KeptIgnored }> = {
  pndm: {
    sourceClass: 'PNDMScheduler',
    ddim: {
      carried: withBase('set_alpha_to_one'),
      ignored: ['skip_prk_steps'],
    },
    dpm: {
      carried: withBase(),
      ignored: ['set_alpha_to_one', 'skip_prk_steps'],
    },
  },
  euler: {
    sourceClass: 'EulerDiscreteScheduler',
    ddim: {
      carried: withBase('rescale_betas_zero_snr'),
      ignored: [
        'final_sigmas_type',
        'interpolation_type',
        'sigma_max',
        'sigma_min',
        'timestep_type',
        'use_beta_sigmas',
        'use_exponential_sigmas',
        'use_karras_sigmas',
      ],
    },
    dpm: {
      carried: withBase(
        'final_sigmas_type',
        'rescale_betas_zero_snr',
        'use_beta_sigmas',
        'use_exponential_sigmas',
        'use_karras_sigmas',
      ),
      ignored: ['interpolation_type', 'sigma_max', 'sigma_min', 'timestep_type'],
    },
  },
  'euler-ancestral': {
    sourceClass: 'EulerAncestralDiscreteScheduler',
    ddim: {
      carried: withBase('rescale_betas_zero_snr'),
      ignored: [],
    },
    dpm: {
      carried: withBase('rescale_betas_zero_snr'),
      ignored: [],
    },
  },
  lms: {
    sourceClass: 'LMSDiscreteScheduler',
    ddim: {
      carried: withBase(),
      ignored: ['use_beta_sigmas', 'use_exponential_sigmas', 'use_karras_sigmas'],
    },
    dpm: {
      carried: withBase('use_beta_sigmas', 'use_exponential_sigmas', 'use_karras_sigmas'),
      ignored: [],
    },
  },
  unipc: {
    sourceClass: 'UniPCMultistepScheduler',
    ddim: {
      carried: withBase(
        'dynamic_thresholding_ratio',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'thresholding',
      ),
      ignored: [
        'disable_corrector',
        'final_sigmas_type',
        'flow_shift',
        'lower_order_final',
        'predict_x0',
        'shift_terminal',
        'sigma_max',
        'sigma_min',
        'solver_order',
        'solver_p',
        'solver_type',
        'time_shift_type',
        'use_beta_sigmas',
        'use_dynamic_shifting',
        'use_exponential_sigmas',
        'use_flow_sigmas',
        'use_karras_sigmas',
      ],
    },
    dpm: {
      carried: withBase(
        'dynamic_thresholding_ratio',
        'final_sigmas_type',
        'flow_shift',
        'lower_order_final',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'solver_order',
        'solver_type',
        'thresholding',
        'time_shift_type',
        'use_beta_sigmas',
        'use_dynamic_shifting',
        'use_exponential_sigmas',
        'use_flow_sigmas',
        'use_karras_sigmas',
      ),
      ignored: ['disable_corrector', 'predict_x0', 'shift_terminal', 'sigma_max', 'sigma_min', 'solver_p'],
    },
  },
  ddpm: {
    sourceClass: 'DDPMScheduler',
    ddim: {
      carried: withBase(
        'clip_sample',
        'clip_sample_range',
        'dynamic_thresholding_ratio',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'thresholding',
      ),
      ignored: ['variance_type'],
    },
    dpm: {
      carried: withBase(
        'dynamic_thresholding_ratio',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'thresholding',
        'variance_type',
      ),
      ignored: ['clip_sample', 'clip_sample_range'],
    },
  },
  deis: {
    sourceClass: 'DEISMultistepScheduler',
    ddim: {
      carried: withBase('dynamic_thresholding_ratio', 'sample_max_value', 'thresholding'),
      ignored: [
        'algorithm_type',
        'flow_shift',
        'lower_order_final',
        'solver_order',
        'solver_type',
        'time_shift_type',
        'use_beta_sigmas',
        'use_dynamic_shifting',
        'use_exponential_sigmas',
        'use_flow_sigmas',
        'use_karras_sigmas',
      ],
    },
    dpm: {
      carried: withBase(
        'algorithm_type',
        'dynamic_thresholding_ratio',
        'flow_shift',
        'lower_order_final',
        'sample_max_value',
        'solver_order',
        'solver_type',
        'thresholding',
        'time_shift_type',
        'use_beta_sigmas',
        'use_dynamic_shifting',
        'use_exponential_sigmas',
        'use_flow_sigmas',
        'use_karras_sigmas',
      ),
      ignored: [],
    },
  },
  heun: {
    sourceClass: 'HeunDiscreteScheduler',
    ddim: {
      carried: withBase('clip_sample', 'clip_sample_range'),
      ignored: ['use_beta_sigmas', 'use_exponential_sigmas', 'use_karras_sigmas'],
    },
    dpm: {
      carried: withBase('use_beta_sigmas', 'use_exponential_sigmas', 'use_karras_sigmas'),
      ignored: ['clip_sample', 'clip_sample_range'],
    },
  },
  ddim: {
    sourceClass: 'DDIMScheduler',
    ddim: {
      carried: withBase(
        'clip_sample',
        'clip_sample_range',
        'dynamic_thresholding_ratio',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'set_alpha_to_one',
        'thresholding',
      ),
      ignored: [],
    },
    dpm: {
      carried: withBase(
        'dynamic_thresholding_ratio',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'thresholding',
      ),
      ignored: ['clip_sample', 'clip_sample_range', 'set_alpha_to_one'],
    },
  },
  dpm: {
    sourceClass: 'DPMSolverMultistepScheduler',
    ddim: {
      carried: withBase(
        'dynamic_thresholding_ratio',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'thresholding',
      ),
      ignored: [
        'algorithm_type',
        'euler_at_final',
        'final_sigmas_type',
        'flow_shift',
        'lambda_min_clipped',
        'lower_order_final',
        'solver_order',
        'solver_type',
        'time_shift_type',
        'use_beta_sigmas',
        'use_dynamic_shifting',
        'use_exponential_sigmas',
        'use_flow_sigmas',
        'use_karras_sigmas',
        'use_lu_lambdas',
        'variance_type',
      ],
    },
    dpm: {
      carried: withBase(
        'algorithm_type',
        'dynamic_thresholding_ratio',
        'euler_at_final',
        'final_sigmas_type',
        'flow_shift',
        'lambda_min_clipped',
        'lower_order_final',
        'rescale_betas_zero_snr',
        'sample_max_value',
        'solver_order',
        'solver_type',
        'thresholding',
        'time_shift_type',
        'use_beta_sigmas',
        'use_dynamic_shifting',
        'use_exponential_sigmas',
        'use_flow_sigmas',
        'use_karras_sigmas',
        'use_lu_lambdas',
        'variance_type',
      ),
      ignored: [],
    },
  },
};

/** The keys that decide the timestep schedule: the noise schedule, its spacing, and DPM's sigma options. */
const TIMESTEP_KEYS = new Set([
  'num_train_timesteps',
  'beta_start',
  'beta_end',
  'beta_schedule',
  'trained_betas',
  'timestep_spacing',
  'steps_offset',
  'use_karras_sigmas',
  'lambda_min_clipped',
]);

const pick = (raw: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(keys.filter((k) => TIMESTEP_KEYS.has(k)).map((k) => [k, raw[k]]));

for (const [name, expected] of Object.entries(FROM_CONFIG)) {
  test(`a ${expected.sourceClass} config configures DDIM and DPM-Solver++ as diffusers' from_config`, () => {
    const raw = readFixture(name);
    for (const kind of ['ddim', 'dpm'] as const) {
      const resolved = resolveSchedulerConfig(kind, raw);
      assert.equal(resolved.kind, kind);
      assert.equal(resolved.sourceClass, expected.sourceClass);
      assert.deepEqual(
        { carried: resolved.carried, ignored: resolved.ignored },
        expected[kind],
        `${name} -> ${kind}`,
      );
      const scheduler = createScheduler(kind, raw);
      const reference = createScheduler(kind, pick(raw, expected[kind].carried));
      for (const steps of [10, 50]) {
        scheduler.setTimesteps(steps);
        reference.setTimesteps(steps);
        assert.deepEqual(scheduler.timesteps, reference.timesteps, `${name} -> ${kind}, ${steps} steps`);
      }
    }
  });
}

test('carried values that change the math are honoured, mapped as diffusers maps them', () => {
  // DDPM's clip_sample: true is a real carry-over into DDIM; its variance_type "fixed_small" does nothing in DPM.
  assert.equal(parseDDIMConfig(readFixture('ddpm')).clip_sample, true);
  assert.equal(parseDDIMConfig(readFixture('heun')).clip_sample, false);
  assert.equal(parseDPMSolverConfig(readFixture('ddpm')).variance_type, 'fixed_small');
  assert.equal(parseDPMSolverConfig(readFixture('ddpm')).timestep_spacing, 'leading');
  const unipc = parseDPMSolverConfig(readFixture('unipc'));
  assert.deepEqual(
    [unipc.solver_order, unipc.solver_type, unipc.lower_order_final, unipc.final_sigmas_type],
    [2, 'midpoint', true, 'zero'],
  );
  const deis = parseDPMSolverConfig(readFixture('deis'));
  assert.deepEqual([deis.algorithm_type, deis.solver_type], ['dpmsolver++', 'midpoint']);
  // PNDM and Euler write their own timestep_spacing; it is carried, not DPM's default.
  assert.equal(parseDPMSolverConfig(readFixture('pndm')).timestep_spacing, 'leading');
  assert.equal(parseDDIMConfig(readFixture('euler')).timestep_spacing, 'linspace');
});

const REAL_CONFIGS: [string, Record<SchedulerKind, KeptIgnored>][] = [
  [
    'scheduler/scheduler_config.json',
    {
      ddim: {
        carried: [
          'beta_end',
          'beta_schedule',
          'beta_start',
          'clip_sample',
          'num_train_timesteps',
          'prediction_type',
          'set_alpha_to_one',
          'steps_offset',
          'trained_betas',
        ],
        ignored: ['skip_prk_steps'],
      },
      dpm: {
        carried: [
          'beta_end',
          'beta_schedule',
          'beta_start',
          'num_train_timesteps',
          'prediction_type',
          'steps_offset',
          'trained_betas',
        ],
        ignored: ['clip_sample', 'set_alpha_to_one', 'skip_prk_steps'],
      },
    },
  ],
  [
    'onnx-sd15/scheduler/scheduler_config.json',
    {
      ddim: {
        carried: [
          'beta_end',
          'beta_schedule',
          'beta_start',
          'num_train_timesteps',
          'set_alpha_to_one',
          'steps_offset',
          'trained_betas',
        ],
        ignored: ['skip_prk_steps'],
      },
      dpm: {
        carried: [
          'beta_end',
          'beta_schedule',
          'beta_start',
          'num_train_timesteps',
          'steps_offset',
          'trained_betas',
        ],
        ignored: ['set_alpha_to_one', 'skip_prk_steps'],
      },
    },
  ],
];

for (const [file, expected] of REAL_CONFIGS) {
  test(`the real PNDMScheduler config ${file} configures both schedulers`, () => {
    const raw = readConfig(file);
    for (const kind of ['ddim', 'dpm'] as const) {
      const resolved = resolveSchedulerConfig(kind, raw);
      assert.equal(resolved.sourceClass, 'PNDMScheduler');
      assert.deepEqual({ carried: resolved.carried, ignored: resolved.ignored }, expected[kind], kind);
    }
    const ddim = createScheduler('ddim', raw);
    ddim.setTimesteps(10);
    assert.deepEqual(ddim.timesteps, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    // steps_offset is carried, but DPM's own default spacing (linspace) does not use it.
    const dpm = createScheduler('dpm', raw);
    dpm.setTimesteps(10);
    assert.deepEqual(dpm.timesteps, [999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
  });
}

test('a carried value DPM-Solver++ does not implement is refused naming key, value and source class', () => {
  const raw = { ...readFixture('unipc'), solver_order: 3 };
  assert.throws(
    () => createScheduler('dpm', raw),
    (e: Error) => {
      assert.ok(e instanceof SchedulerConfigError, `${e}`);
      assert.match(
        e.message,
        /^Invalid DPMSolverMultistep scheduler config \(from the model's UniPCMultistepScheduler config\): /,
      );
      assert.match(e.message, /solver_order = 3: only solver orders 1 and 2 are implemented/);
      return true;
    },
  );
  // DDIM does not take solver_order, so the same config builds it.
  assert.ok(createScheduler('ddim', raw) instanceof DDIMScheduler);
});

test('unimplemented options are refused only when carried and asking for the unimplemented thing', () => {
  const dpm = readFixture('dpm');
  // DDIM does not take these keys, so diffusers (and adadiff) ignore them.
  const ddim = resolveSchedulerConfig('ddim', {
    ...dpm,
    use_lu_lambdas: true,
    variance_type: 'learned_range',
  });
  assert.ok(ddim.ignored.includes('use_lu_lambdas') && ddim.ignored.includes('variance_type'));
  assert.throws(() => createScheduler('dpm', { ...dpm, use_lu_lambdas: true }), /use_lu_lambdas = true: /);
  for (const variance_type of ['fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', null]) {
    assert.equal(parseDPMSolverConfig({ variance_type }).variance_type, variance_type);
  }
});

test('keys a config lists in _use_default_values take the target default, as in extract_init_dict', () => {
  const raw = {
    _class_name: 'PNDMScheduler',
    timestep_spacing: 'leading',
    _use_default_values: ['timestep_spacing'],
  };
  const resolved = resolveSchedulerConfig('dpm', raw);
  assert.equal(resolved.config.timestep_spacing, 'linspace');
  assert.deepEqual([resolved.carried, resolved.ignored], [[], ['timestep_spacing']]);
});

test('a config without _class_name has no source class; errors then name none', () => {
  const resolved = resolveSchedulerConfig('ddim', { beta_schedule: 'scaled_linear', skip_prk_steps: true });
  assert.equal(resolved.sourceClass, null);
  assert.deepEqual([resolved.carried, resolved.ignored], [['beta_schedule'], ['skip_prk_steps']]);
  assert.throws(
    () => parseDDIMConfig({ clip_sample: 'no' }),
    /^SchedulerConfigError: Invalid DDIM scheduler config: /,
  );
});
