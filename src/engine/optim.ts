/**
 * AdamW and an exponential moving average of the weights, written as pure tree functions so the
 * trainer can fuse them with the gradient into one jitted step.
 */
import { numpy as np } from '@jax-js/jax';
import type { Tensor } from './nn.js';
import { isTensor, type ParamTree } from './params.js';

export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

export type AdamState = { m: ParamTree; v: ParamTree };

/** Maps `f` over the leaves of same-shaped trees; `f` returns k leaves, giving k trees. */
function zipMap(trees: ParamTree[], k: number, f: (...leaves: Tensor[]) => Tensor[]): ParamTree[] {
  const [first] = trees;
  if (isTensor(first)) return f(...(trees as Tensor[]));
  const keys = Object.keys(first);
  const at = (t: ParamTree, key: string) => (t as Record<string, ParamTree>)[key];
  const parts = keys.map((key) =>
    zipMap(
      trees.map((t) => at(t, key)),
      k,
      f,
    ),
  );
  return Array.from({ length: k }, (_, j) =>
    Array.isArray(first)
      ? parts.map((p) => p[j])
      : Object.fromEntries(keys.map((key, i) => [key, parts[i][j]])),
  );
}

/** Same-shaped tree of zeros. */
export function zerosLike(params: ParamTree): ParamTree {
  return zipMap([params], 1, (p) => [np.zeros(p.shape)])[0];
}

/**
 * One AdamW step (decoupled weight decay on matrices only; biases, norms and embedding tables of
 * rank 1 are left alone). `lr` and `step` (1-based) are scalar arrays so a jitted step does not
 * recompile as they change. Consumes everything; returns new params and state.
 */
export function adamw(
  cfg: AdamConfig,
  params: ParamTree,
  grads: ParamTree,
  state: AdamState,
  lr: Tensor,
  step: Tensor,
): { params: ParamTree; state: AdamState } {
  const bc1 = np.power(cfg.beta1, step.ref).mul(-1).add(1);
  const bc2 = np.power(cfg.beta2, step).mul(-1).add(1);
  const [p, m, v] = zipMap([params, grads, state.m, state.v], 3, (p, g, m, v) => {
    const m2 = m.mul(cfg.beta1).add(g.ref.mul(1 - cfg.beta1));
    const v2 = v.mul(cfg.beta2).add(np.square(g).mul(1 - cfg.beta2));
    const update = m2.ref.div(bc1.ref).div(np.sqrt(v2.ref.div(bc2.ref)).add(cfg.eps));
    const decayed = p.ndim >= 2 ? p.ref.sub(p.mul(lr.ref.mul(cfg.weightDecay))) : p;
    return [decayed.sub(update.mul(lr.ref)), m2, v2];
  });
  bc1.dispose();
  bc2.dispose();
  lr.dispose();
  return { params: p, state: { m, v } };
}

/** ema ← decay·ema + (1 − decay)·params; consumes all three. */
export function emaUpdate(ema: ParamTree, params: ParamTree, decay: Tensor): ParamTree {
  const [out] = zipMap([ema, params], 1, (e, p) => [e.mul(decay.ref).add(p.mul(decay.ref.mul(-1).add(1)))]);
  decay.dispose();
  return out;
}
