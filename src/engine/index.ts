/**
 * The training engine: everything the trainer and model use from the array library goes through
 * here (arrays, autodiff, jit, layers, optimiser, weight files), so the library can be swapped.
 */
// First: it installs the worker threads that jax-js looks for when it loads.
import './threads.js';
import { init } from '@jax-js/jax';

export { blockUntilReady, jit, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
export * from './nn.js';
export * from './optim.js';
export * from './params.js';
export * from './safetensors.js';
export { ENGINE_THREADS } from './threads.js';

let ready: Promise<unknown> | undefined;

/** Starts the CPU (WebAssembly) backend once (its threads: see threads.ts). */
export function initEngine(): Promise<unknown> {
  ready ??= init('wasm');
  return ready;
}
