/**
 * Reverse-mode autodiff over a traced Graph: `gradients(loss, wrt)` walks the recorded nodes
 * backwards and appends, for each, the nodes of its vector-Jacobian product, written in standard
 * ONNX ops only (onnxruntime-node is an inference build: it has none of ORT's training ops). Each
 * rule gets the node and the gradients of its outputs and returns one gradient per input; a
 * broadcast operand's gradient is summed back to its own shape.
 */
import { type Graph, type Node, type Shape, sizeOf, type Tensor } from './graph.js';

type Rule = (g: Graph, node: Node, dy: Tensor) => (Tensor | undefined)[];

/** Sums `dy` over the axes that broadcasting added or stretched, giving `shape`. */
export function unbroadcast(g: Graph, dy: Tensor, shape: Shape): Tensor {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.rank - shape.length;
  const kept = (i: number) => i >= lead && shape[i - lead] !== 1;
  const split = dy.shape.findIndex((_, i) => kept(i));
  if (split > 0 && dy.shape.every((d, i) => (i < split ? !kept(i) : kept(i) && d === shape[i - lead]))) {
    // A bias or norm weight under a batch of rows: ones[1, N] @ dy[N, C] is 3x faster than
    // ONNX Runtime's ReduceSum over the leading axes (0.2 against 0.6 ms for 16x32x32 rows of 32).
    const dims = dy.staticShape();
    const [rows, width] = [sizeOf(dims.slice(0, split)), sizeOf(dims.slice(split))];
    const ones = g.constant(new Float32Array(rows).fill(1), [1, rows]);
    return g.reshape(ones.matmul(g.reshape(dy, [rows, width])), shape);
  }
  let out = lead > 0 ? dy.sum(Array.from({ length: lead }, (_, i) => i)) : dy;
  const stretched = shape.flatMap((d, i) => (d === 1 && out.shape[i] !== 1 ? [i] : []));
  if (stretched.length > 0) out = out.sum(stretched, true);
  return g.reshape(out, shape);
}

/** The int64 values of a constant input (axes, pads, starts). */
function constInts(g: Graph, t: Tensor | null): number[] {
  const c = t && g.constants.get(t.name);
  if (!c || !(c.data instanceof BigInt64Array))
    throw new Error(`autodiff: ${t?.name} is not an int64 constant`);
  return Array.from(c.data, Number);
}

const swapLast = (t: Tensor) => {
  const perm = Array.from({ length: t.rank }, (_, i) => i);
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return t.transpose(perm);
};

/** [..., k] -> [prod(...), k] (static shapes). */
function flatRows(g: Graph, t: Tensor): Tensor {
  const dims = t.staticShape();
  return g.reshape(t, [sizeOf(dims.slice(0, -1)), t.dim(-1)]);
}

const ins = (n: Node) => n.inputs as Tensor[];
const out = (n: Node) => n.outputs[0];

const RULES: Record<string, Rule> = {
  Identity: (_g, _n, dy) => [dy],
  Cast: (_g, n, dy) => [ins(n)[0].dtype === 'float32' ? dy : undefined],
  Add: (g, n, dy) => [unbroadcast(g, dy, ins(n)[0].shape), unbroadcast(g, dy, ins(n)[1].shape)],
  Sub: (g, n, dy) => [unbroadcast(g, dy, ins(n)[0].shape), unbroadcast(g, dy, ins(n)[1].shape).neg()],
  Mul: (g, n, dy) => {
    const [a, b] = ins(n);
    return [unbroadcast(g, dy.mul(b), a.shape), unbroadcast(g, dy.mul(a), b.shape)];
  },
  Div: (g, n, dy) => {
    const [a, b] = ins(n);
    const da = dy.div(b);
    return [unbroadcast(g, da, a.shape), unbroadcast(g, da.mul(out(n)), b.shape).neg()];
  },
  Max: (g, n, dy) => {
    const [a, b] = ins(n);
    const aLess = g.compare('Less', a, b);
    return [unbroadcast(g, g.where(aLess, 0, dy), a.shape), unbroadcast(g, g.where(aLess, dy, 0), b.shape)];
  },
  Neg: (_g, _n, dy) => [dy.neg()],
  Exp: (_g, n, dy) => [dy.mul(out(n))],
  Log: (_g, n, dy) => [dy.div(ins(n)[0])],
  Sqrt: (_g, n, dy) => [dy.mul(0.5).div(out(n))],
  Erf: (_g, n, dy) => {
    const x = ins(n)[0];
    return [dy.mul(x.mul(x).neg().exp()).mul(2 / Math.sqrt(Math.PI))];
  },
  Tanh: (g, n, dy) => [dy.mul(g.binary('Sub', 1, out(n).mul(out(n))))],
  Sigmoid: (g, n, dy) => [dy.mul(out(n)).mul(g.binary('Sub', 1, out(n)))],
  Relu: (g, n, dy) => [g.where(g.compare('Greater', ins(n)[0], 0), dy, 0)],
  Where: (g, n, dy) => {
    const [c, a, b] = ins(n);
    return [
      undefined,
      unbroadcast(g, g.where(c, dy, 0), a.shape),
      unbroadcast(g, g.where(c, 0, dy), b.shape),
    ];
  },
  MatMul: (g, n, dy) => {
    const [a, b] = ins(n);
    const da = unbroadcast(g, dy.matmul(swapLast(b)), a.shape);
    // A weight [k, m] under a batch of rows: one Gemm over all rows, not a batched MatMul + sum.
    const db =
      b.rank === 2 && a.rank > 2
        ? g.gemm(flatRows(g, a), flatRows(g, dy), true, false)
        : unbroadcast(g, swapLast(a).matmul(dy), b.shape);
    return [da, db];
  },
  Gemm: (g, n, dy) => {
    const [a, b] = ins(n);
    const transA = n.attrs.transA === 1;
    const transB = n.attrs.transB === 1;
    const da = transA ? g.gemm(b, dy, transB, true) : g.gemm(dy, b, false, !transB);
    const db = transB ? g.gemm(dy, a, true, transA) : g.gemm(a, dy, !transA, false);
    return [da, db];
  },
  Reshape: (g, n, dy) => [g.reshape(dy, ins(n)[0].shape)],
  Unsqueeze: (g, n, dy) => [g.reshape(dy, ins(n)[0].shape)],
  Expand: (g, n, dy) => [unbroadcast(g, dy, ins(n)[0].shape)],
  Transpose: (_g, n, dy) => {
    const perm = n.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [dy.transpose(inverse)];
  },
  Slice: (g, n, dy) => {
    const x = ins(n)[0];
    if (n.inputs.length > 4) throw new Error('autodiff: Slice is differentiated for step 1 only');
    const [start] = constInts(g, n.inputs[1]);
    const [end] = constInts(g, n.inputs[2]);
    const [axis] = constInts(g, n.inputs[3]);
    const pads = new Array(2 * x.rank).fill(0);
    pads[axis] = start;
    pads[axis + x.rank] = x.dim(axis) - end;
    return [g.pad(dy, pads)];
  },
  Concat: (g, n, dy) => {
    const axis = n.attrs.axis as number;
    let at = 0;
    return ins(n).map((x) => {
      const piece = g.slice(dy, axis, at, at + x.dim(axis));
      at += x.dim(axis);
      return piece;
    });
  },
  Pad: (g, n, dy) => {
    const x = ins(n)[0];
    const pads = constInts(g, n.inputs[1]);
    let dx = dy;
    for (let axis = 0; axis < x.rank; axis++) {
      if (pads[axis] !== 0 || pads[axis + x.rank] !== 0) {
        dx = g.slice(dx, axis, pads[axis], pads[axis] + x.dim(axis));
      }
    }
    return [dx];
  },
  Gather: (g, n, dy) => {
    const [table, ids] = ins(n);
    if (table.rank !== 2) throw new Error('autodiff: Gather is differentiated for 2-D tables only');
    const count = sizeOf(ids.staticShape());
    const hot = g.oneHot(g.reshape(ids, [count]), table.dim(0));
    return [g.gemm(hot, g.reshape(dy, [count, table.dim(1)]), true, false)];
  },
  ReduceSum: (g, n, dy) => {
    const x = ins(n)[0];
    return [g.expandAs(keptDims(g, n, dy, constInts(g, n.inputs[1])), x)];
  },
  ReduceMean: (g, n, dy) => {
    const x = ins(n)[0];
    const axes = n.attrs.axes as number[];
    const count = axes.reduce((k, a) => k * x.dim(a), 1);
    return [g.expandAs(keptDims(g, n, dy, axes).mul(1 / count), x)];
  },
  ReduceMax: (g, n, dy) => {
    // The gradient goes to the maxima, split evenly between ties.
    const x = ins(n)[0];
    const axes = n.attrs.axes as number[];
    const hit = g.compare('Equal', x, keptDims(g, n, out(n), axes)).cast('float32');
    const share = keptDims(g, n, dy, axes).div(hit.sum(axes, true));
    return [hit.mul(share)];
  },
  Softmax: (_g, n, dy) => {
    const y = out(n);
    const axis = n.attrs.axis as number;
    return [y.mul(dy.sub(dy.mul(y).sum([axis], true)))];
  },
  LayerNormalization: (g, n, dy) => {
    const [x, scale, bias] = ins(n);
    const [, mean, invStd] = n.outputs;
    const xhat = x.sub(mean).mul(invStd);
    const dxhat = dy.mul(scale);
    const dx = invStd.mul(dxhat.sub(dxhat.mean([-1], true)).sub(xhat.mul(dxhat.mul(xhat).mean([-1], true))));
    return [dx, unbroadcast(g, dy.mul(xhat), scale.shape), unbroadcast(g, dy, bias.shape)];
  },
  Conv: (g, n, dy) => {
    const [x, w, b] = ins(n);
    const strides = n.attrs.strides as number[];
    if (strides.some((s) => s !== 1) || n.attrs.group !== 1) {
      throw new Error('autodiff: Conv is differentiated for stride 1, group 1 only');
    }
    const pads = n.attrs.pads as number[];
    const [o, c, kh, kw] = [w.dim(0), w.dim(1), w.dim(2), w.dim(3)];
    // dx is the 'full' correlation of dy with the kernel turned round: a plain Conv, faster
    // on ONNX Runtime's CPU than ConvTranspose (5 against 9 ms for 32 channels at 32x32).
    const dx = g.conv(dy, g.reverse(w.transpose([1, 0, 2, 3]), [2, 3]), null, {
      pads: turned(pads, [kh, kw]),
    });
    const dw = convWeightGradTaps(g, x, dy, pads, [kh, kw]).reshape([kh, kw, c, o]).transpose([3, 2, 0, 1]);
    return [dx, dw, b ? dy.sum([0, 2, 3]) : undefined];
  },
  DepthToSpace: (g, n, dy) => [g.spaceToDepth(dy, n.attrs.blocksize as number)],
  SpaceToDepth: (g, n, dy) => [g.depthToSpace(dy, n.attrs.blocksize as number)],
};

/** [B, C, H, W] -> [B, C, H·W] */
const pixelsLast = (g: Graph, t: Tensor) => g.reshape(t, [t.dim(0), t.dim(1), t.dim(2) * t.dim(3)]);

/**
 * dW of a stride-1 Conv as [kh·kw·C, O], taps major (layers.conv3x3 keeps its weights so): the
 * im2col of whichever of x and dy has fewer channels, one batched MatMul with the other, summed
 * over the batch. Measured here (batch 16): 6 ms for 32 -> 32 channels at 32x32 and 0.5-7 ms for
 * the uneven layers, against 2-6x that for the Conv with the batch as channels or a 9-slice
 * im2col.
 */
export function convWeightGradTaps(
  g: Graph,
  x: Tensor,
  dy: Tensor,
  pads: readonly number[],
  [kh, kw]: readonly number[],
): Tensor {
  const [c, o, taps] = [x.dim(1), dy.dim(1), kh * kw];
  const flat = (t: Tensor) => pixelsLast(g, t).transpose([0, 2, 1]);
  if (taps === 1 && pads.every((p) => p === 0)) return pixelsLast(g, x).matmul(flat(dy)).sum([0]);
  if (c <= o) {
    const rows = pixelsLast(g, g.im2col(x, kh, kw, pads))
      .matmul(flat(dy))
      .sum([0]);
    return rows
      .reshape([c, taps, o])
      .transpose([1, 0, 2])
      .reshape([taps * c, o]);
  }
  // dy's im2col under the turned padding holds the taps in reverse order.
  const rows = pixelsLast(g, g.im2col(dy, kh, kw, turned(pads, [kh, kw])))
    .matmul(flat(x))
    .sum([0]);
  return g
    .reverse(rows.reshape([o, taps, c]), [1])
    .transpose([1, 2, 0])
    .reshape([taps * c, o]);
}

/** The padding under which dy meets the turned kernel (the 'full' correlation of a stride-1 Conv). */
export const turned = (pads: readonly number[], [kh, kw]: readonly number[]): number[] => [
  kh - 1 - pads[0],
  kw - 1 - pads[1],
  kh - 1 - pads[2],
  kw - 1 - pads[3],
];

/** `dy` of a reduction with its reduced axes put back as size 1. */
function keptDims(g: Graph, n: Node, dy: Tensor, axes: readonly number[]): Tensor {
  return n.attrs.keepdims === 1 ? dy : g.unsqueeze(dy, axes);
}

/** Ops with a gradient rule (the rest fail when a gradient would have to pass through them). */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.keys(RULES);

/**
 * d loss / d t for each t of `wrt` (loss must be a float scalar or a tensor whose elements are
 * summed). Appends the backward nodes to the loss's graph. A tensor that the loss does not depend
 * on gets a zero gradient.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  const g = loss.graph;
  const forward = [...g.nodes];
  const live = new Set<Tensor>(wrt);
  const gradInputs = (node: Node) => g.customGradients.get(node)?.inputs ?? node.inputs;
  for (const node of forward) {
    if (gradInputs(node).some((x) => x && live.has(x))) {
      for (const o of node.outputs) if (o.dtype === 'float32' && !g.stopped.has(o)) live.add(o);
    }
  }
  if (!live.has(loss)) return wrt.map((w) => filledLike(g, w, 0));
  const grads = new Map<Tensor, Tensor>([[loss, filledLike(g, loss, 1)]]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const dy = grads.get(node.outputs[0]);
    const inputs = gradInputs(node);
    if (!dy || !inputs.some((x) => x && live.has(x))) continue;
    const custom = g.customGradients.get(node);
    const rule = RULES[node.op];
    if (!custom && !rule)
      throw new Error(`autodiff: no gradient rule for ${node.op} (output ${node.outputs[0].name})`);
    const dxs = custom ? custom.vjp(dy) : rule(g, node, dy);
    inputs.forEach((x, j) => {
      const dx = dxs[j];
      if (!x || !dx || !live.has(x)) return;
      const known = grads.get(x);
      grads.set(x, known ? known.add(dx) : dx);
    });
  }
  return wrt.map((w) => grads.get(w) ?? filledLike(g, w, 0));
}

/** A constant of `t`'s (static) shape holding `value` everywhere. */
function filledLike(g: Graph, t: Tensor, value: number): Tensor {
  const shape = t.staticShape();
  return g.constant(new Float32Array(sizeOf(shape)).fill(value), shape);
}
