/**
 * Parameter trees: nested plain objects / lists of arrays, addressed by dotted names
 * ("blocks.0.attn.q"). Initialisation draws from the project's seeded Rng on the host, so weights
 * are reproducible whatever engine or device runs them.
 */
import { numpy as np, tree } from '@jax-js/jax';
import type { Rng } from '../util/random.js';
import type { Tensor } from './nn.js';

export type ParamTree = Tensor | ParamTree[] | { [key: string]: ParamTree };

export interface HostTensor {
  readonly shape: number[];
  readonly data: Float32Array;
}

export function tensor(data: Float32Array, shape: number[]): Tensor {
  return np.array(data).reshape(shape);
}

/** N(0, std²) weights. */
export function normal(rng: Rng, shape: number[], std: number): Tensor {
  const data = rng.normalArray(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] *= std;
  return tensor(data, shape);
}

/** Xavier-uniform-scaled normal for a [in, out] matrix. */
export function dense(rng: Rng, fanIn: number, fanOut: number, gain = 1): Tensor {
  return normal(rng, [fanIn, fanOut], gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export function zeros(shape: number[]): Tensor {
  return np.zeros(shape);
}

export function ones(shape: number[]): Tensor {
  return np.ones(shape);
}

/** A leaf is anything but a list or plain object (under jit, leaves are tracers, not np.Array). */
export function isTensor(x: ParamTree): x is Tensor {
  return !Array.isArray(x) && Object.getPrototypeOf(x) !== Object.prototype;
}

/** Dotted name -> array, in a stable order (object key order, then list index). */
export function named(params: ParamTree, prefix = ''): [string, Tensor][] {
  if (isTensor(params)) return [[prefix, params]];
  const entries: [string, ParamTree][] = Array.isArray(params)
    ? params.map((p, i) => [String(i), p])
    : Object.entries(params);
  return entries.flatMap(([k, v]) => named(v, prefix ? `${prefix}.${k}` : k));
}

/** Copies every array to the host (does not consume the tree). */
export function toHost(params: ParamTree): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of named(params)) {
    out.set(name, { shape: [...t.shape], data: new Float32Array(t.ref.dataSync() as Float32Array) });
  }
  return out;
}

/** Rebuilds a tree shaped like `like` from host tensors (checks every name and shape). */
export function fromHost<T extends ParamTree>(like: T, host: Map<string, HostTensor>, prefix = ''): T {
  if (isTensor(like)) {
    const h = host.get(prefix);
    if (!h) throw new Error(`weights have no tensor "${prefix}"`);
    if (h.shape.join(',') !== like.shape.join(',')) {
      throw new Error(`tensor "${prefix}" has shape [${h.shape}], the model wants [${like.shape}]`);
    }
    return tensor(h.data, h.shape) as T;
  }
  const child = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (Array.isArray(like)) return like.map((p, i) => fromHost(p, host, child(String(i)))) as T;
  return Object.fromEntries(Object.entries(like).map(([k, v]) => [k, fromHost(v, host, child(k))])) as T;
}

export function countParams(params: ParamTree): number {
  return named(params).reduce((n, [, t]) => n + t.size, 0);
}

export const refTree = <T extends ParamTree>(params: T): T => tree.ref(params);
export const disposeTree = (params: ParamTree): void => tree.dispose(params);
