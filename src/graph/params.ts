/**
 * Parameter values on the host: Float32Arrays by dotted name ("unet.down.0.conv1.w"), drawn from
 * the project's seeded Rng in declaration order, so weights are reproducible on any machine.
 */
import type { Rng } from '../util/random.js';
import { type Init, type ParamSpec, sizeOf } from './graph.js';

export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Weights = ReadonlyMap<string, HostTensor>;

function initial(rng: Rng, shape: readonly number[], init: Init): Float32Array {
  const n = sizeOf(shape);
  switch (init.kind) {
    case 'zeros':
      return new Float32Array(n);
    case 'ones':
      return new Float32Array(n).fill(1);
    case 'data':
      return new Float32Array(init.data);
    case 'normal':
    case 'dense': {
      const std = init.kind === 'normal' ? init.std : Math.sqrt(2 / (init.fanIn + init.fanOut));
      const data = rng.normalArray(n);
      for (let i = 0; i < n; i++) data[i] *= std;
      return data;
    }
  }
}

/** Fresh weights for every spec, in order. */
export function initWeights(specs: readonly ParamSpec[], rng: Rng): Map<string, HostTensor> {
  return new Map(specs.map((s) => [s.name, { shape: s.shape, data: initial(rng, s.shape, s.init) }]));
}

/** Checks that `weights` hold every spec with its shape (names the first that does not). */
export function checkWeights(specs: readonly ParamSpec[], weights: Weights, what: string): void {
  for (const s of specs) {
    const w = weights.get(s.name);
    if (!w) throw new Error(`${what}: no tensor "${s.name}"`);
    if (w.shape.join(',') !== s.shape.join(',')) {
      throw new Error(`${what}: tensor "${s.name}" is [${w.shape}], the network wants [${s.shape}]`);
    }
    // A diverged run's NaN weights would otherwise load and give NaN (or one constant) output.
    const bad = w.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${what}: tensor "${s.name}" holds ${w.data[bad]} at element ${bad}`);
  }
}

export const countWeights = (weights: Weights): number =>
  [...weights.values()].reduce((n, t) => n + t.data.length, 0);

/** A deep copy (optimiser state, EMA). */
export function cloneWeights(weights: Weights): Map<string, HostTensor> {
  return new Map([...weights].map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(t.data) }]));
}

export function zerosLike(weights: Weights): Map<string, HostTensor> {
  return new Map(
    [...weights].map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(t.data.length) }]),
  );
}
