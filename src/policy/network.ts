/**
 * The step-selection network f_s (Eq. 3): text features c [B, L, D] with their padding mask go
 * through an input projection, a learned positional embedding, pre-LN self-attention blocks that
 * ignore padded keys, masked mean pooling and an MLP head, giving one logit per step count in S.
 * Padded positions never reach the output: they are masked as attention keys and left out of the
 * pooling, so whatever the encoder put there cannot change the policy.
 */
import {
  type AttentionParams,
  attention,
  dense,
  gelu,
  initEngine,
  jit,
  layerNorm,
  linear,
  normal,
  np,
  ones,
  paddingBias,
  refTree,
  type Tensor,
  zeros,
} from '../engine/index.js';
import { Rng } from '../util/random.js';
import { PAPER_DEFAULTS } from './config.js';

/** The network's own hyperparameters, apart from the data's shape. */
export interface NetworkSize {
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
  /** Hidden size of each block's MLP as a multiple of width. */
  readonly mlpRatio: number;
}

export interface NetworkConfig extends NetworkSize {
  /** L: text positions (padded length). */
  readonly tokens: number;
  /** D: text feature size. */
  readonly featureDim: number;
  /** N = |S|. */
  readonly actions: number;
}

/** Lightweight next to the diffusion model (the paper's whole point); layers from the paper. */
export const NETWORK_DEFAULTS: NetworkSize = {
  width: 128,
  heads: 4,
  layers: PAPER_DEFAULTS.layers,
  mlpRatio: 4,
};

/** Std of the learned positional embedding at init (as in GPT-2/BERT). */
const POS_INIT_STD = 0.02;

export function networkConfig(
  tokens: number,
  featureDim: number,
  actions: number,
  overrides: Partial<NetworkSize> = {},
): NetworkConfig {
  const cfg = { tokens, featureDim, actions, ...NETWORK_DEFAULTS, ...overrides };
  if (cfg.width % cfg.heads !== 0)
    throw new Error(`width ${cfg.width} is not a multiple of heads ${cfg.heads}`);
  return cfg;
}

type Norm = { scale: Tensor; bias: Tensor };
type Mlp = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
type Block = { ln1: Norm; attn: AttentionParams; ln2: Norm; mlp: Mlp };
export type PolicyParams = {
  input: { w: Tensor; b: Tensor };
  pos: Tensor;
  blocks: Block[];
  lnOut: Norm;
  head: Mlp;
};

const norm = (d: number): Norm => ({ scale: ones([d]), bias: zeros([d]) });

/**
 * Seeded weights. The head's output layer starts at zero, so the initial policy is uniform over S
 * and REINFORCE explores every step count equally before it has learnt anything.
 */
export function initPolicy(cfg: NetworkConfig, seed: number): PolicyParams {
  const rng = new Rng(seed);
  const w = cfg.width;
  const hidden = w * cfg.mlpRatio;
  return {
    input: { w: dense(rng, cfg.featureDim, w), b: zeros([w]) },
    pos: normal(rng, [cfg.tokens, w], POS_INIT_STD),
    blocks: Array.from({ length: cfg.layers }, () => ({
      ln1: norm(w),
      attn: {
        q: dense(rng, w, w),
        k: dense(rng, w, w),
        v: dense(rng, w, w),
        o: dense(rng, w, w),
        oBias: zeros([w]),
      },
      ln2: norm(w),
      mlp: { w1: dense(rng, w, hidden), b1: zeros([hidden]), w2: dense(rng, hidden, w), b2: zeros([w]) },
    })),
    lnOut: norm(w),
    head: { w1: dense(rng, w, w), b1: zeros([w]), w2: zeros([w, cfg.actions]), b2: zeros([cfg.actions]) },
  };
}

const ln = (x: Tensor, n: Norm) => layerNorm(x, n.scale, n.bias);
const mlp = (x: Tensor, p: Mlp) => linear(gelu(linear(x, p.w1, p.b1)), p.w2, p.b2);

/**
 * Logits [B, N] for features [B, L, D] and mask [B, L] (float32, 1 = token, 0 = padding), L at most
 * the network's length: padded positions are masked out of attention and pooling, so trailing
 * padding can be cut off without changing the output.
 * Consumes its arguments, params included (pass `refTree(params)` to keep them).
 */
export function forward(cfg: NetworkConfig, p: PolicyParams, features: Tensor, mask: Tensor): Tensor {
  const [b, l, d] = features.shape;
  if (l > cfg.tokens || d !== cfg.featureDim) {
    throw new Error(
      `features are [${b}, ${l}, ${d}], the network wants [B, <= ${cfg.tokens}, ${cfg.featureDim}]`,
    );
  }
  const bias = paddingBias(mask.ref);
  const pos = l === cfg.tokens ? p.pos : p.pos.slice([0, l], []);
  let x = linear(features, p.input.w, p.input.b).add(pos.reshape([1, l, cfg.width]));
  for (const block of p.blocks) {
    const h = ln(x.ref, block.ln1);
    x = x.add(attention(h.ref, h, block.attn, cfg.heads, bias.ref));
    x = x.ref.add(mlp(ln(x, block.ln2), block.mlp));
  }
  bias.dispose();
  // Multiplying by the mask (not adding a bias) zeroes padded rows exactly; max(·, 1) keeps an
  // all-padding row finite.
  const keep = mask.reshape([b, l, 1]);
  const pooled = ln(x, p.lnOut)
    .mul(keep.ref)
    .sum(1)
    .div(np.maximum(keep.sum(1), 1));
  return mlp(pooled, p.head);
}

/** log π over the last axis, shifted by the max so exp never overflows. Consumes `logits`. */
export function logSoftmax(logits: Tensor): Tensor {
  const shifted = logits.ref.sub(logits.max(-1, { keepdims: true }));
  return shifted.ref.sub(np.log(np.exp(shifted).sum(-1, { keepdims: true })));
}

/** Host-side input batch: features [B, L, D] and mask [B, L]. */
export interface FeatureBatch {
  readonly features: Float32Array;
  readonly mask: Uint8Array;
  readonly batch: number;
}

/** Trimmed lengths are rounded up to this, so a jitted network sees a few shapes only. */
const LENGTH_BUCKET = 16;

/**
 * The batch as tensors, with the padding that no prompt of the batch uses cut off (to a multiple of
 * LENGTH_BUCKET): most prompts are far shorter than the text encoder's length, and attention over
 * padding is most of the network's work.
 */
export function featureTensors(cfg: NetworkConfig, x: FeatureBatch): { features: Tensor; mask: Tensor } {
  const { tokens: l, featureDim: d } = cfg;
  let longest = 1;
  for (let i = 0; i < x.batch; i++) {
    for (let t = l - 1; t >= longest; t--) {
      if (x.mask[i * l + t]) {
        longest = t + 1;
        break;
      }
    }
  }
  const kept = Math.min(l, Math.ceil(longest / LENGTH_BUCKET) * LENGTH_BUCKET);
  const features = new Float32Array(x.batch * kept * d);
  const mask = new Float32Array(x.batch * kept);
  for (let i = 0; i < x.batch; i++) {
    features.set(x.features.subarray(i * l * d, (i * l + kept) * d), i * kept * d);
    for (let t = 0; t < kept; t++) mask[i * kept + t] = x.mask[i * l + t];
  }
  return {
    features: np.array(features).reshape([x.batch, kept, d]),
    mask: np.array(mask).reshape([x.batch, kept]),
  };
}

const compiled = new Map<string, ReturnType<typeof compileProbabilities>>();

function compileProbabilities(cfg: NetworkConfig) {
  return jit((p: PolicyParams, features: Tensor, mask: Tensor) =>
    np.exp(logSoftmax(forward(cfg, p, features, mask))),
  );
}

/**
 * π(·|p) for each prompt as host probabilities [B·N], row-major. Jitted once per network config
 * (and batch size), since evaluation calls it every epoch. Does not consume `params`.
 */
export async function policyProbabilities(
  cfg: NetworkConfig,
  params: PolicyParams,
  x: FeatureBatch,
): Promise<Float32Array> {
  await initEngine();
  const key = JSON.stringify(cfg);
  let probs = compiled.get(key);
  if (!probs) {
    probs = compileProbabilities(cfg);
    compiled.set(key, probs);
  }
  const { features, mask } = featureTensors(cfg, x);
  return new Float32Array(await probs(refTree(params), features, mask).data());
}

/** Index of the most probable action in each row of probs [B·N] (ties toward fewer steps). */
export function greedyActions(probs: Float32Array, actions: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < probs.length; row += actions) {
    let best = 0;
    for (let a = 1; a < actions; a++) if (probs[row + a] > probs[row + best]) best = a;
    out.push(best);
  }
  return out;
}

/** Greedy step counts (the paper's inference rule): the most probable entry of S per prompt. */
export function selectSteps(probs: Float32Array, steps: readonly number[]): number[] {
  return greedyActions(probs, steps.length).map((a) => steps[a]);
}
