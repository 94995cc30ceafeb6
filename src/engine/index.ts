/**
 * The training engine: everything the trainer and model use from the array library goes through
 * here (arrays, autodiff, jit, layers, optimiser, weight files), so the library can be swapped.
 */
import { init } from '@jax-js/jax';

export { jit, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
export * from './nn.js';
export * from './optim.js';
export * from './params.js';
export * from './safetensors.js';

let ready: Promise<unknown> | undefined;

/** Starts the CPU (WebAssembly) backend once. */
export function initEngine(): Promise<unknown> {
  ready ??= init('wasm');
  return ready;
}
