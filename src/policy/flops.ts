/**
 * Size and cost of the step-selection network, computed from its config (no weights needed), so
 * the overhead of choosing a step count can be set against the diffusion model's. FLOPs count the
 * matrix products only, a multiply-add as 2; norms, softmax, GELU and pooling add O(L·width) each,
 * well under 1% here.
 */
import type { NetworkConfig } from './network.js';

/** Parameters of `initPolicy(cfg)`, tensor by tensor. */
export function parameterCount(cfg: NetworkConfig): number {
  const { tokens: l, featureDim: d, width: w, actions: n } = cfg;
  const hidden = w * cfg.mlpRatio;
  const norm = 2 * w;
  const attention = 4 * w * w + w;
  const mlp = w * hidden + hidden + hidden * w + w;
  const block = norm + attention + norm + mlp;
  const head = w * w + w + w * n + n;
  return d * w + w + l * w + cfg.layers * block + norm + head;
}

export interface FlopsBreakdown {
  readonly input: number;
  /** Q, K, V and output projections, all blocks. */
  readonly projections: number;
  /** QKᵀ and attention-weighted V, all blocks. */
  readonly attention: number;
  readonly mlp: number;
  readonly head: number;
  readonly total: number;
}

/** FLOPs to choose the step count of one prompt (all L positions, padded or not, are computed). */
export function flopsPerPrompt(cfg: NetworkConfig): FlopsBreakdown {
  const { tokens: l, featureDim: d, width: w, actions: n, layers } = cfg;
  const input = 2 * l * d * w;
  const projections = layers * 4 * 2 * l * w * w;
  const attention = layers * 2 * 2 * l * l * w;
  const mlp = layers * 2 * 2 * l * w * (w * cfg.mlpRatio);
  const head = 2 * w * w + 2 * w * n;
  return { input, projections, attention, mlp, head, total: input + projections + attention + mlp + head };
}
