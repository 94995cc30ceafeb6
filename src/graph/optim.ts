/**
 * The optimiser on host arrays: AdamW (decoupled weight decay on matrices only) with clipping by a
 * given scale and the EMA of the weights in the same pass, and the warm-up + cosine learning rate.
 * In JS over Float32Arrays in place: 29 ms a step for the shapes model's 1.68 M parameters,
 * against 58 ms for the same update as a second ONNX graph with its outputs copied back.
 */
import { type HostTensor, zerosLike } from './params.js';

export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

export interface ScheduleConfig {
  readonly lr: number;
  readonly warmupSteps: number;
  /** The cosine ends at this fraction of lr. */
  readonly minLrFraction: number;
}

/** Linear warm-up, then cosine decay to minLrFraction·lr at totalSteps. */
export function learningRate(cfg: ScheduleConfig, step: number, totalSteps: number): number {
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  const progress = Math.min(1, (step - cfg.warmupSteps) / Math.max(1, totalSteps - cfg.warmupSteps));
  return cfg.lr * (cfg.minLrFraction + (1 - cfg.minLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export interface AdamState {
  readonly m: Map<string, HostTensor>;
  readonly v: Map<string, HostTensor>;
}

export function adamState(params: ReadonlyMap<string, HostTensor>): AdamState {
  return { m: zerosLike(params), v: zerosLike(params) };
}

/**
 * One AdamW step in place. `step` is 1-based; `gradScale` multiplies every gradient first (global
 * norm clipping). Rank-1 tensors (biases, norms) get no weight decay. With `ema`, the moving
 * average ema ← decay·ema + (1 − decay)·w of the new weights is taken in the same pass.
 */
export function adamwStep(
  cfg: AdamConfig,
  params: ReadonlyMap<string, HostTensor>,
  grads: ReadonlyMap<string, Float32Array>,
  state: AdamState,
  lr: number,
  step: number,
  gradScale = 1,
  ema?: { readonly weights: ReadonlyMap<string, HostTensor>; readonly decay: number },
): void {
  const { beta1, beta2, eps } = cfg;
  const [c1, c2] = [1 - beta1, 1 - beta2];
  const stepSize = lr / (1 - beta1 ** step);
  const invBc2 = 1 / (1 - beta2 ** step);
  for (const [name, p] of params) {
    const g = grads.get(name);
    if (!g) throw new Error(`adamw: no gradient for "${name}"`);
    const m = (state.m.get(name) as HostTensor).data;
    const v = (state.v.get(name) as HostTensor).data;
    const w = p.data;
    const decay = p.shape.length >= 2 ? 1 - lr * cfg.weightDecay : 1;
    const e = ema?.weights.get(name)?.data;
    const [keep, take] = ema ? [ema.decay, 1 - ema.decay] : [0, 0];
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] * gradScale;
      const mi = beta1 * m[i] + c1 * gi;
      const vi = beta2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      const wi = w[i] * decay - (stepSize * mi) / (Math.sqrt(vi * invBc2) + eps);
      w[i] = wi;
      if (e) e[i] = keep * e[i] + take * wi;
    }
  }
}
