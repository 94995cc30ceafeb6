/**
 * The layer library every network of the project is built from. A layer declares its parameters
 * under a dotted prefix with one naming (a dense layer `w` [in, out] and `b`; a norm `scale` and
 * `bias`; attention `q`, `k`, `v`, `o`, `oBias`; an MLP `w1`, `b1`, `w2`, `b2`; a block's norms
 * `ln1`, `ln2`, ...), so a checkpoint is a flat map of those names.
 */
import { convWeightGradTaps, turned, unbroadcast } from './autodiff.js';
import type { Graph, Init, Tensor } from './graph.js';

const dense = (fanIn: number, fanOut: number): Init => ({ kind: 'dense', fanIn, fanOut });
const ZEROS: Init = { kind: 'zeros' };

/** x @ w + b over the last axis; `zeroInit` starts the layer at zero (residual branches, heads). */
export function linear(
  g: Graph,
  prefix: string,
  x: Tensor,
  out: number,
  opts: { zeroInit?: boolean } = {},
): Tensor {
  const fanIn = x.dim(-1);
  const w = g.param(`${prefix}.w`, [fanIn, out], opts.zeroInit ? ZEROS : dense(fanIn, out));
  return x.matmul(w).add(g.param(`${prefix}.b`, [out], ZEROS));
}

/** LayerNorm over the last axis, eps 1e-5. */
export function layerNorm(g: Graph, prefix: string, x: Tensor): Tensor {
  const d = x.dim(-1);
  return g.layerNorm(
    x,
    g.param(`${prefix}.scale`, [d], { kind: 'ones' }),
    g.param(`${prefix}.bias`, [d], ZEROS),
  );
}

/**
 * GroupNorm of an NCHW map: statistics over each group of channels and all pixels, then a
 * per-channel scale and bias, written as one LayerNormalization over the flattened group.
 */
export function groupNorm(g: Graph, prefix: string, x: Tensor, groups: number): Tensor {
  const [n, c, h, w] = [x.shape[0], x.dim(1), x.dim(2), x.dim(3)];
  const per = (c / groups) * h * w;
  const flat = x.reshape([n, groups, per]);
  const unit = g.layerNorm(
    flat,
    g.constant(new Float32Array(per).fill(1), [per]),
    g.constant(new Float32Array(per), [per]),
  );
  const scale = g.param(`${prefix}.scale`, [c], { kind: 'ones' }).reshape([c, 1, 1]);
  const bias = g.param(`${prefix}.bias`, [c], ZEROS).reshape([c, 1, 1]);
  return unit.reshape([n, c, h, w]).mul(scale).add(bias);
}

/**
 * Exact GELU, 0.5·x·(1 + erf(x/√2)), as PyTorch's default (opset 17 has no Gelu op); its
 * gradient Φ(x) + x·φ(x) written out, fewer passes than chaining through Erf.
 */
export function gelu(x: Tensor): Tensor {
  const onePlusErf = x.mul(Math.SQRT1_2).erf().add(1);
  const y = x.mul(onePlusErf).mul(0.5);
  return x.graph.withGradient(y, [x], (dy) => {
    const density = x
      .mul(x)
      .mul(-0.5)
      .exp()
      .mul(x)
      .mul(1 / Math.sqrt(2 * Math.PI));
    return [dy.mul(onePlusErf.mul(0.5).add(density))];
  });
}

/** SiLU, x·sigmoid(x); its gradient σ + y·(1 − σ) written out from the forward values. */
export function silu(x: Tensor): Tensor {
  const sig = x.sigmoid();
  const y = x.mul(sig);
  return x.graph.withGradient(y, [x], (dy) => [dy.mul(sig.add(y).sub(y.mul(sig)))]);
}

/** Two dense layers with GELU between; the output width defaults to the input's. */
export function mlp(
  g: Graph,
  prefix: string,
  x: Tensor,
  hidden: number,
  opts: { out?: number; zeroOut?: boolean } = {},
): Tensor {
  const d = x.dim(-1);
  const out = opts.out ?? d;
  const w1 = g.param(`${prefix}.w1`, [d, hidden], dense(d, hidden));
  const h = gelu(x.matmul(w1).add(g.param(`${prefix}.b1`, [hidden], ZEROS)));
  const w2 = g.param(`${prefix}.w2`, [hidden, out], opts.zeroOut ? ZEROS : dense(hidden, out));
  return h.matmul(w2).add(g.param(`${prefix}.b2`, [out], ZEROS));
}

/** [B, L, H·d] -> [B, H, L, d] */
function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, l, dim] = [x.shape[0], x.shape[1], x.dim(2)];
  return x.reshape([b, l, heads, dim / heads]).transpose([0, 2, 1, 3]);
}

/**
 * Multi-head attention of `x` [B, Lq, D] over `context` [B, Lk, Dc] (pass `x` for self-attention).
 * `bias` is added to the logits, broadcast to [B, H, Lq, Lk] (a key padding mask as 0 / -1e9).
 */
export function attention(
  g: Graph,
  prefix: string,
  x: Tensor,
  context: Tensor,
  heads: number,
  bias?: Tensor,
): Tensor {
  const dim = x.dim(-1);
  const dc = context.dim(-1);
  if (dim % heads !== 0) throw new Error(`${prefix}: width ${dim} is not divisible by ${heads} heads`);
  const proj = (name: string, t: Tensor, fanIn: number) =>
    t.matmul(g.param(`${prefix}.${name}`, [fanIn, dim], dense(fanIn, dim)));
  const q = splitHeads(proj('q', x, dim), heads);
  const k = splitHeads(proj('k', context, dc), heads);
  const v = splitHeads(proj('v', context, dc), heads);
  let scores = q.matmul(k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(dim / heads));
  if (bias) scores = scores.add(bias);
  const merged = scores.softmax(-1).matmul(v).transpose([0, 2, 1, 3]).reshape([x.shape[0], x.shape[1], dim]);
  const o = g.param(`${prefix}.o`, [dim, dim], dense(dim, dim));
  return merged.matmul(o).add(g.param(`${prefix}.oBias`, [dim], ZEROS));
}

/** Key padding mask [B, L] (1 = token, 0 = pad, float) as an additive logit bias [B, 1, 1, L]. */
export const paddingBias = (keep: Tensor): Tensor => keep.sub(1).mul(1e9).unsqueeze([1, 2]);

export interface BlockOptions {
  readonly heads: number;
  readonly mlpRatio: number;
  /** Self-attention logit bias (padding mask). */
  readonly bias?: Tensor;
  /** Text states for a cross-attention sub-layer between self-attention and the MLP. */
  readonly context?: Tensor;
}

/**
 * Pre-LN transformer block: self-attention, optional cross-attention, MLP, each a residual.
 * Norms are numbered in order (ln1 attn, [ln2 cross,] ln2|ln3 mlp).
 */
export function transformerBlock(g: Graph, prefix: string, x: Tensor, opts: BlockOptions): Tensor {
  const a = layerNorm(g, `${prefix}.ln1`, x);
  let h = x.add(attention(g, `${prefix}.attn`, a, a, opts.heads, opts.bias));
  let norm = 2;
  if (opts.context) {
    h = h.add(
      attention(g, `${prefix}.cross`, layerNorm(g, `${prefix}.ln${norm++}`, h), opts.context, opts.heads),
    );
  }
  const d = h.dim(-1);
  return h.add(mlp(g, `${prefix}.mlp`, layerNorm(g, `${prefix}.ln${norm}`, h), d * opts.mlpRatio));
}

/** Learned table [rows, dim] by name (token or position embedding). */
export function table(g: Graph, name: string, rows: number, dim: number, init: Init): Tensor {
  return g.param(name, [rows, dim], init);
}

/**
 * 3x3 'same' convolution of an NHWC map. The kernel is kept as a [9·Cin, Cout] matrix with rows
 * ordered (dy, dx, input channel) (the checkpoints' layout) and turned into ONNX's OIHW kernel in
 * the graph, which ONNX Runtime folds away at inference. Its gradient is written for that layout,
 * so no kernel-sized transposes run backwards.
 */
export function conv3x3(
  g: Graph,
  prefix: string,
  x: Tensor,
  out: number,
  opts: { zeroInit?: boolean } = {},
): Tensor {
  const cin = x.dim(3);
  const w = g.param(`${prefix}.w`, [9 * cin, out], opts.zeroInit ? ZEROS : dense(9 * cin, out));
  const b = g.param(`${prefix}.b`, [out], ZEROS);
  const pads = [1, 1, 1, 1];
  // Transposes that each move one axis: ONNX Runtime's fast paths.
  const kernel = w.transpose([1, 0]).reshape([out, 9, cin]).transpose([0, 2, 1]).reshape([out, cin, 3, 3]);
  const xc = x.transpose([0, 3, 1, 2]);
  const y = g.conv(xc, kernel, b, { pads }).transpose([0, 2, 3, 1]);
  return g.withGradient(y, [x, w, b], (dy) => {
    const dyc = dy.transpose([0, 3, 1, 2]);
    // The turned kernel [Cin, Cout, 3, 3] is w's taps reversed.
    const turnedKernel = g
      .reverse(w.reshape([9, cin, out]), [0])
      .transpose([1, 2, 0])
      .reshape([cin, out, 3, 3]);
    const dx = g.conv(dyc, turnedKernel, null, { pads: turned(pads, [3, 3]) }).transpose([0, 2, 3, 1]);
    return [dx, convWeightGradTaps(g, xc, dyc, pads, [3, 3]), unbroadcast(g, dy, [out])];
  });
}

/**
 * Residual conv block on an NHWC map: two norm-SiLU-conv steps, a timestep embedding `temb`
 * [B, T] (after SiLU) added between them when given (null in the autoencoder); a 1x1 `skip` where
 * the width changes. The second conv starts at zero, so the block starts as the identity.
 */
export function resBlock(g: Graph, prefix: string, x: Tensor, temb: Tensor | null, out: number): Tensor {
  let h = conv3x3(g, `${prefix}.conv1`, silu(layerNorm(g, `${prefix}.ln1`, x)), out);
  if (temb) h = h.add(linear(g, `${prefix}.time`, temb, out).unsqueeze([1, 2]));
  h = conv3x3(g, `${prefix}.conv2`, silu(layerNorm(g, `${prefix}.ln2`, h)), out, { zeroInit: true });
  return (x.dim(3) === out ? x : linear(g, `${prefix}.skip`, x, out)).add(h);
}

/**
 * Sinusoidal embedding of timesteps t [B] (int or float) as diffusers' `get_timestep_embedding`
 * with flip_sin_to_cos=true, downscale_freq_shift=0: [cos(t·f), sin(t·f)], f_i = 10000^(-i/half).
 */
export function timestepEmbedding(g: Graph, t: Tensor, dim: number): Tensor {
  const half = dim / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = t
    .cast('float32')
    .unsqueeze([1])
    .mul(g.constant(freqs, [1, half]));
  return g.concat([args.cos(), args.sin()], -1);
}

/** [B, H, W, C] -> [B, H/2, W/2, 4C], channels ordered (dy, dx, c) as ONNX SpaceToDepth. */
export function pixelUnshuffle(x: Tensor): Tensor {
  const [b, h, w, c] = [x.shape[0], x.dim(1), x.dim(2), x.dim(3)];
  return x
    .reshape([b, h / 2, 2, w / 2, 2, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, h / 2, w / 2, 4 * c]);
}

/** [B, H, W, 4C] -> [B, 2H, 2W, C], the inverse of pixelUnshuffle (ONNX DepthToSpace, DCR). */
export function pixelShuffle(x: Tensor): Tensor {
  const [b, h, w, c] = [x.shape[0], x.dim(1), x.dim(2), x.dim(3) / 4];
  return x
    .reshape([b, h, w, 2, 2, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, 2 * h, 2 * w, c]);
}

/** 2x2 max pooling, stride 2, of an NHWC map (a ReduceMax over each window). */
export function maxPool2x2(x: Tensor): Tensor {
  const [b, h, w, c] = [x.shape[0], x.dim(1), x.dim(2), x.dim(3)];
  return x.reshape([b, h / 2, 2, w / 2, 2, c]).reduceMax([2, 4]);
}

/**
 * The first `like.shape[axis]` rows of `t` (a learned position table read by a shorter sequence).
 * A symbolic length slices by the runtime shape: inference graphs only, as it has no gradient.
 */
export function firstRows(g: Graph, t: Tensor, like: Tensor, axis: number): Tensor {
  const at = axis < 0 ? axis + like.rank : axis;
  const n = like.shape[at];
  if (typeof n === 'number') return n === t.dim(0) ? t : t.slice(0, 0, n);
  const len = g.op(
    'Slice',
    [g.shapeOf(like), g.ints([at]), g.ints([at + 1]), g.ints([0])],
    {},
    [[1]],
    ['int64'],
  )[0];
  return g.op('Slice', [t, g.ints([0]), len, g.ints([0])], {}, [[n, ...t.shape.slice(1)]], [t.dtype])[0];
}

/** log softmax over the last axis; the max it subtracts for stability is cut from the backward pass. */
export function logSoftmax(g: Graph, x: Tensor): Tensor {
  const shifted = x.sub(g.stopGradient(x.reduceMax([-1], true)));
  return shifted.sub(shifted.exp().sum([-1], true).log());
}
