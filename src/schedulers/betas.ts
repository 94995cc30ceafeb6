/**
 * The training noise schedule (betas and cumulative alphas) exactly as diffusers builds it with torch on the
 * CPU: float32 tensors, so every value here is a float32 held in a Float32Array or passed through Math.fround.
 */
import type { NoiseScheduleConfig } from './config.js';

const f32 = Math.fround;

/**
 * Float32 fused multiply-add a*b+c: a*b of two float32s is exact in a double, so only the sum is rounded
 * (via double, which differs from a true single rounding only on rare ties).
 */
function fmaF32(a: number, b: number, c: number): number {
  return f32(a * b + c);
}

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` bit for bit. torch's CPU kernel fills the first
 * half counting up from `start` and the second half counting down from `end`, and writes 8-lane vectors,
 * two per iteration: each vector's first lane comes from the fused `start + step*idx` (or `end - step*k`),
 * the other lanes from adding `lane*step` to it, and a scalar tail finishes the array. This layout matches
 * torch's AVX2 kernel output exactly (checked against torch 1.13 on x86-64); a torch build that dispatches
 * to 16-lane AVX-512 kernels can differ by one ulp in some betas.
 */
function torchLinspaceF32(startValue: number, endValue: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = startValue;
    return out;
  }
  const start = f32(startValue);
  const end = f32(endValue);
  const step = f32(f32(end - start) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalarAt = (idx: number) =>
    idx < halfway ? fmaF32(step, idx, start) : fmaF32(-step, steps - idx - 1, end);
  const lanes = 8;
  const fillVector = (at: number) => {
    const base = scalarAt(at);
    out[at] = base;
    for (let k = 1; k < lanes; k++) out[at + k] = f32(base + f32(k * step));
  };
  let i = 0;
  for (; i <= steps - 2 * lanes; i += 2 * lanes) {
    fillVector(i);
    fillVector(i + lanes);
  }
  for (; i < steps; i++) out[i] = scalarAt(i);
  return out;
}

/** GLIDE's cosine schedule, computed in float64 as diffusers' Python loop does, then stored as float32. */
function cosineBetas(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
  const betas = new Float32Array(n);
  for (let i = 0; i < n; i++) betas[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  return betas;
}

export function makeBetas(config: NoiseScheduleConfig): Float32Array {
  const n = config.num_train_timesteps;
  if (config.trained_betas !== null) return Float32Array.from(config.trained_betas);
  switch (config.beta_schedule) {
    case 'linear':
      return torchLinspaceF32(config.beta_start, config.beta_end, n);
    case 'scaled_linear': {
      // Latent diffusion's schedule: linear in sqrt(beta), squared in float32.
      const roots = torchLinspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n);
      return roots.map((r) => r * r);
    }
    case 'squaredcos_cap_v2':
      return cosineBetas(n);
  }
}

/**
 * `torch.cumprod(1 - betas)` in float32. torch's CPU cumprod carries the running product in double and
 * rounds each output to float32; a running float32 product would drift by several ulps over 1000 steps.
 */
export function alphasCumprod(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let product = 1;
  for (let i = 0; i < betas.length; i++) {
    product *= f32(1 - betas[i]);
    out[i] = product;
  }
  return out;
}

/**
 * The same schedule in float64, for trainers: the pipeline's float32 values (above) differ from it
 * by under 1e-6 relative. Betas of the listed kinds are computed in closed form, the product in
 * float64.
 */
export function alphasCumprod64(config: NoiseScheduleConfig): Float64Array {
  const n = config.num_train_timesteps;
  const at = (i: number, start: number, end: number) => start + ((end - start) * i) / (n - 1);
  const beta = (i: number): number => {
    if (config.trained_betas !== null) return config.trained_betas[i];
    switch (config.beta_schedule) {
      case 'linear':
        return at(i, config.beta_start, config.beta_end);
      case 'scaled_linear':
        return at(i, Math.sqrt(config.beta_start), Math.sqrt(config.beta_end)) ** 2;
      case 'squaredcos_cap_v2':
        return cosineBetas(n)[i];
    }
  };
  const out = new Float64Array(n);
  let product = 1;
  for (let i = 0; i < n; i++) {
    product *= 1 - beta(i);
    out[i] = product;
  }
  return out;
}
