/**
 * DDIM sampling (eta 0, "leading" timestep spacing with steps_offset 1, as the exported
 * scheduler_config.json says) with classifier-free guidance, run in the training engine. It lets
 * training look at its own samples; the product pipeline runs the ONNX export instead.
 */
import { jit, np, refTree, type Tensor, tree } from '../../engine/index.js';
import { Rng } from '../../util/random.js';
import { denoise, encodeText, type ModelConfig, type ModelParams } from './model.js';
import { alphasCumprod } from './model-schedule.js';
import type { WordTokenizer } from './model-tokenizer.js';

export interface SampleOptions {
  readonly steps: number;
  readonly guidance: number;
  readonly seed: number;
}

/** diffusers DDIMScheduler.set_timesteps with timestep_spacing "leading", steps_offset 1. */
export function ddimTimesteps(steps: number, trainSteps = 1000): number[] {
  const ratio = Math.floor(trainSteps / steps);
  return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + 1);
}

/** Images in [0, 1], CHW, one per prompt. Borrows `params`. */
export function sample(
  cfg: ModelConfig,
  params: ModelParams,
  tokenizer: WordTokenizer,
  prompts: string[],
  opts: SampleOptions,
): Float32Array[] {
  const n = prompts.length;
  const s = cfg.imageSize;
  const pixels = cfg.channels * s * s;
  const ids = new Int32Array(2 * n * cfg.maxTokens);
  prompts.forEach((p, i) => {
    ids.set(tokenizer.encode(p), i * cfg.maxTokens);
    ids.set(tokenizer.encode(''), (n + i) * cfg.maxTokens);
  });
  const context = encodeText(
    cfg,
    refTree(params.text),
    np.array(ids, { dtype: np.int32 }).reshape([2 * n, cfg.maxTokens]),
  );
  const eps = jit((p: ModelParams['unet'], x: Tensor, t: Tensor, c: Tensor) => {
    const out = denoise(cfg, refTree(p), x, t, c);
    tree.dispose(p);
    return out;
  });
  const abar = alphasCumprod();
  const rng = new Rng(opts.seed);
  let x = rng.normalArray(n * pixels);
  const schedule = ddimTimesteps(opts.steps);
  schedule.forEach((t, k) => {
    const both = new Float32Array(2 * n * pixels);
    both.set(x);
    both.set(x, n * pixels);
    const pred = eps(
      refTree(params.unet),
      np.array(both).reshape([2 * n, cfg.channels, s, s]),
      np.array(new Float32Array(2 * n).fill(t)),
      context.ref,
    ).dataSync() as Float32Array;
    const a = abar[t];
    const prev = k + 1 < schedule.length ? abar[schedule[k + 1]] : abar[0];
    const next = new Float32Array(n * pixels);
    for (let j = 0; j < n * pixels; j++) {
      const e = pred[n * pixels + j] + opts.guidance * (pred[j] - pred[n * pixels + j]);
      const x0 = (x[j] - Math.sqrt(1 - a) * e) / Math.sqrt(a);
      next[j] = Math.sqrt(prev) * x0 + Math.sqrt(1 - prev) * e;
    }
    x = next;
  });
  context.dispose();
  eps.dispose();
  return prompts.map((_, i) =>
    x.slice(i * pixels, (i + 1) * pixels).map((v) => Math.min(1, Math.max(0, (v + 1) / 2))),
  );
}
