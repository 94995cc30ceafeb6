/**
 * A traced tensor graph over standard ONNX ops. A network is a plain function that calls these ops
 * on `Tensor` handles; the graph records every node with its static (or symbolic) shape, so that
 * autodiff.ts can append the backward pass and build.ts can write either the inference graph
 * (parameters as initializers) or the training graph (parameters as inputs, gradients as outputs).
 * Shapes are checked as ops are recorded, so a wrong network fails where it is written, not inside
 * ONNX Runtime.
 */

/** A static size, or a symbolic (dynamic) axis by name, e.g. 'batch'. */
export type Dim = number | string;
export type DType = 'float32' | 'int64' | 'int32' | 'bool';
export type Shape = readonly Dim[];
export type ConstData = Float32Array | BigInt64Array | Int32Array;

/** How a parameter starts; `dense` is a Xavier-scaled normal over [fanIn, fanOut]. */
export type Init =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'dense'; readonly fanIn: number; readonly fanOut: number }
  | { readonly kind: 'data'; readonly data: Float32Array };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

export type AttrValue = number | number[] | string | { readonly float: number };

export interface Node {
  readonly op: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface CustomGradient {
  readonly inputs: readonly Tensor[];
  readonly vjp: (dy: Tensor) => readonly Tensor[];
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const isStatic = (shape: Shape): shape is readonly number[] =>
  shape.every((d) => typeof d === 'number');

function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** numpy broadcasting of two shapes; a symbolic axis only meets itself or 1. */
export function broadcastShapes(a: Shape, b: Shape, what: string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new Error(`${what}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
  }
  return out;
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** A value of the graph. Methods record ops; numbers are scalar float constants. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** The static size of `axis` (negative counts from the end); throws on a symbolic axis. */
  dim(axis: number): number {
    const d = this.shape[normAxis(axis, this.rank)];
    if (typeof d !== 'number') throw new Error(`${this.name}: axis ${axis} is symbolic (${d})`);
    return d;
  }

  /** The shape as numbers; throws on a symbolic axis. */
  staticShape(): number[] {
    return this.shape.map((_, i) => this.dim(i));
  }

  add(y: Tensor | number): Tensor {
    return this.graph.binary('Add', this, y);
  }
  sub(y: Tensor | number): Tensor {
    return this.graph.binary('Sub', this, y);
  }
  mul(y: Tensor | number): Tensor {
    return this.graph.binary('Mul', this, y);
  }
  div(y: Tensor | number): Tensor {
    return this.graph.binary('Div', this, y);
  }
  max(y: Tensor | number): Tensor {
    return this.graph.binary('Max', this, y);
  }
  matmul(y: Tensor): Tensor {
    return this.graph.matmul(this, y);
  }
  neg(): Tensor {
    return this.graph.unary('Neg', this);
  }
  exp(): Tensor {
    return this.graph.unary('Exp', this);
  }
  log(): Tensor {
    return this.graph.unary('Log', this);
  }
  sqrt(): Tensor {
    return this.graph.unary('Sqrt', this);
  }
  erf(): Tensor {
    return this.graph.unary('Erf', this);
  }
  tanh(): Tensor {
    return this.graph.unary('Tanh', this);
  }
  sigmoid(): Tensor {
    return this.graph.unary('Sigmoid', this);
  }
  relu(): Tensor {
    return this.graph.unary('Relu', this);
  }
  sin(): Tensor {
    return this.graph.unary('Sin', this);
  }
  cos(): Tensor {
    return this.graph.unary('Cos', this);
  }
  square(): Tensor {
    return this.mul(this);
  }
  reshape(shape: Shape): Tensor {
    return this.graph.reshape(this, shape);
  }
  transpose(perm: readonly number[]): Tensor {
    return this.graph.transpose(this, perm);
  }
  sum(axes: readonly number[], keepdims = false): Tensor {
    return this.graph.reduce('ReduceSum', this, axes, keepdims);
  }
  mean(axes: readonly number[], keepdims = false): Tensor {
    return this.graph.reduce('ReduceMean', this, axes, keepdims);
  }
  reduceMax(axes: readonly number[], keepdims = false): Tensor {
    return this.graph.reduce('ReduceMax', this, axes, keepdims);
  }
  softmax(axis = -1): Tensor {
    return this.graph.softmax(this, axis);
  }
  cast(to: DType): Tensor {
    return this.graph.cast(this, to);
  }
  slice(axis: number, start: number, end: number): Tensor {
    return this.graph.slice(this, axis, start, end);
  }
  unsqueeze(axes: readonly number[]): Tensor {
    return this.graph.unsqueeze(this, axes);
  }
}

const CAST_CODES: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** Records nodes; see the module comment. */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params = new Map<string, { tensor: Tensor; spec: ParamSpec }>();
  readonly constants = new Map<string, { data: ConstData; shape: readonly number[] }>();
  /** Values that must not be differentiated through (autodiff treats them as constants). */
  readonly stopped = new Set<Tensor>();
  /** Hand-written gradients of composite values (see withGradient), by the node that marks them. */
  readonly customGradients = new Map<Node, CustomGradient>();
  private counter = 0;
  private readonly scalars = new Map<string, Tensor>();
  private readonly taken = new Set<string>();

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.taken.has(name)) throw new Error(`graph ${this.name}: the name "${name}" is used twice`);
    this.taken.add(name);
    return name;
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.taken.has(name));
    return this.claim(name);
  }

  /** A graph input (a batch of data); string dims are symbolic. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = new Tensor(this, this.claim(name), shape, dtype);
    this.inputs.push(t);
    return t;
  }

  /**
   * A named float parameter. Asking twice for one name gives the same tensor (so weights can be
   * shared); the shape must agree.
   */
  param(name: string, shape: readonly number[], init: Init): Tensor {
    const known = this.params.get(name);
    if (known) {
      if (known.spec.shape.join(',') !== shape.join(',')) {
        throw new Error(`parameter ${name}: asked for ${fmt(shape)}, declared as ${fmt(known.spec.shape)}`);
      }
      return known.tensor;
    }
    if (init.kind === 'data' && init.data.length !== sizeOf(shape)) {
      throw new Error(`parameter ${name}: ${init.data.length} initial values for shape ${fmt(shape)}`);
    }
    const tensor = new Tensor(this, this.claim(name), shape, 'float32');
    this.params.set(name, { tensor, spec: { name, shape, init } });
    return tensor;
  }

  /** A constant tensor (an initializer in every graph built from this one). */
  constant(data: ConstData, shape: readonly number[]): Tensor {
    if (data.length !== sizeOf(shape)) throw new Error(`constant: ${data.length} values for ${fmt(shape)}`);
    const name = this.fresh('const');
    this.constants.set(name, { data, shape });
    const dtype: DType =
      data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : 'int32';
    return new Tensor(this, name, shape, dtype);
  }

  /** A float32 scalar, shared between uses of the same value. */
  scalar(value: number): Tensor {
    const key = Object.is(value, -0) ? '-0' : String(value);
    let t = this.scalars.get(key);
    if (!t) {
      t = this.constant(Float32Array.of(value), []);
      this.scalars.set(key, t);
    }
    return t;
  }

  /** int64 vector constant (shapes, axes, pads). */
  ints(values: readonly number[]): Tensor {
    return this.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
    );
  }

  /** The same value, cut from the backward pass (autodiff treats it as a constant). */
  stopGradient(x: Tensor): Tensor {
    const y = this.op('Identity', [x], {}, [x.shape], [x.dtype])[0];
    this.stopped.add(y);
    return y;
  }

  /**
   * `y`, already computed from `inputs` by recorded ops, with a hand-written vector-Jacobian
   * product in place of the one autodiff would chain through those ops: fewer backward passes
   * over memory for elementwise composites (SiLU, GELU). The marker is an Identity, which ONNX
   * Runtime removes.
   */
  withGradient(y: Tensor, inputs: readonly Tensor[], vjp: (dy: Tensor) => readonly Tensor[]): Tensor {
    const [marked] = this.op('Identity', [y], {}, [y.shape], [y.dtype]);
    this.customGradients.set(this.nodes[this.nodes.length - 1], { inputs, vjp });
    return marked;
  }

  /** Records one node; `shapes` and `dtypes` give its outputs. */
  op(
    op: string,
    inputs: readonly (Tensor | null)[],
    attrs: Record<string, AttrValue>,
    shapes: readonly Shape[],
    dtypes: readonly DType[],
  ): Tensor[] {
    for (const x of inputs) {
      if (x && x.graph !== this) throw new Error(`${op}: input ${x.name} belongs to another graph`);
    }
    const outputs = shapes.map((s, i) => new Tensor(this, this.fresh(op), s, dtypes[i]));
    this.nodes.push({ op, inputs, outputs, attrs });
    return outputs;
  }

  private lift(x: Tensor | number): Tensor {
    return typeof x === 'number' ? this.scalar(x) : x;
  }

  binary(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Pow', a: Tensor | number, b: Tensor | number): Tensor {
    const x = this.lift(a);
    const y = this.lift(b);
    if (x.dtype !== y.dtype) throw new Error(`${op}: dtypes ${x.dtype} and ${y.dtype} differ`);
    return this.op(op, [x, y], {}, [broadcastShapes(x.shape, y.shape, op)], [x.dtype])[0];
  }

  /** A comparison; the result is bool. */
  compare(op: 'Equal' | 'Less' | 'Greater', a: Tensor | number, b: Tensor | number): Tensor {
    const x = this.lift(a);
    const y = this.lift(b);
    return this.op(op, [x, y], {}, [broadcastShapes(x.shape, y.shape, op)], ['bool'])[0];
  }

  unary(op: string, x: Tensor, attrs: Record<string, AttrValue> = {}): Tensor {
    return this.op(op, [x], attrs, [x.shape], [x.dtype])[0];
  }

  where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
    const x = this.lift(a);
    const y = this.lift(b);
    const shape = broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape, 'Where'), 'Where');
    return this.op('Where', [cond, x, y], {}, [shape], [x.dtype])[0];
  }

  cast(x: Tensor, to: DType): Tensor {
    if (x.dtype === to) return x;
    return this.op('Cast', [x], { to: CAST_CODES[to] }, [x.shape], [to])[0];
  }

  /** numpy matmul of rank >= 2 operands (batch axes broadcast). */
  matmul(a: Tensor, b: Tensor): Tensor {
    if (a.rank < 2 || b.rank < 2) throw new Error(`MatMul: ranks ${a.rank} and ${b.rank}; both must be >= 2`);
    const [n, k] = a.shape.slice(-2);
    const [k2, m] = b.shape.slice(-2);
    if (k !== k2) throw new Error(`MatMul: ${fmt(a.shape)} @ ${fmt(b.shape)}: inner sizes differ`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    return this.op('MatMul', [a, b], {}, [[...batch, n, m]], ['float32'])[0];
  }

  /** Gemm of 2-D operands, alpha = beta = 1, without a C term. */
  gemm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
    if (a.rank !== 2 || b.rank !== 2) throw new Error('Gemm: operands must be 2-D');
    const [n, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
    const [k2, m] = transB ? [b.shape[1], b.shape[0]] : b.shape;
    if (k !== k2) throw new Error(`Gemm: ${fmt(a.shape)} and ${fmt(b.shape)} do not match`);
    return this.op(
      'Gemm',
      [a, b],
      { transA: transA ? 1 : 0, transB: transB ? 1 : 0 },
      [[n, m]],
      ['float32'],
    )[0];
  }

  /**
   * Reshape to `shape`. A symbolic axis becomes 0 (copy) where the input has it at the same place,
   * otherwise -1 (inferred), so one graph serves every batch size.
   */
  reshape(x: Tensor, shape: Shape): Tensor {
    if (isStatic(shape) && isStatic(x.shape) && sizeOf(shape) !== sizeOf(x.shape)) {
      throw new Error(
        `Reshape: ${fmt(x.shape)} has ${sizeOf(x.shape)} values, ${fmt(shape)} wants ${sizeOf(shape)}`,
      );
    }
    if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return x;
    const spec = shape.map((d, i) => (typeof d === 'number' ? d : x.shape[i] === d ? 0 : -1));
    if (spec.filter((d) => d === -1).length > 1) {
      throw new Error(`Reshape: ${fmt(x.shape)} to ${fmt(shape)} has more than one inferred axis`);
    }
    return this.op('Reshape', [x, this.ints(spec)], {}, [shape], [x.dtype])[0];
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
      throw new Error(`Transpose: [${perm}] is not a permutation of ${x.rank} axes`);
    }
    return this.op('Transpose', [x], { perm: [...perm] }, [perm.map((p) => x.shape[p])], [x.dtype])[0];
  }

  unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
    const rank = x.rank + axes.length;
    const at = new Set(axes.map((a) => normAxis(a, rank)));
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(at.has(i) ? 1 : x.shape[j++]);
    return this.op('Unsqueeze', [x, this.ints([...at].sort())], {}, [shape], [x.dtype])[0];
  }

  reduce(
    op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceSumSquare',
    x: Tensor,
    axes: readonly number[],
    keepdims: boolean,
  ): Tensor {
    const set = new Set(axes.map((a) => normAxis(a, x.rank)));
    const shape = x.shape.flatMap((d, i) => (set.has(i) ? (keepdims ? [1] : []) : [d]));
    const sorted = [...set].sort((a, b) => a - b);
    // opset 17: ReduceSum takes its axes as an input, the others as an attribute.
    const inputs = op === 'ReduceSum' ? [x, this.ints(sorted)] : [x];
    const attrs: Record<string, AttrValue> = { keepdims: keepdims ? 1 : 0 };
    if (op !== 'ReduceSum') attrs.axes = sorted;
    return this.op(op, inputs, attrs, [shape], [x.dtype])[0];
  }

  softmax(x: Tensor, axis = -1): Tensor {
    return this.unary('Softmax', x, { axis: normAxis(axis, x.rank) });
  }

  /** LayerNormalization over the last axis; its Mean and InvStdDev outputs feed the backward pass. */
  layerNorm(x: Tensor, scale: Tensor, bias: Tensor, epsilon = 1e-5): Tensor {
    const d = x.shape[x.rank - 1];
    if (scale.shape.join() !== String(d) || bias.shape.join() !== String(d)) {
      throw new Error(
        `LayerNormalization: scale ${fmt(scale.shape)} / bias ${fmt(bias.shape)} for width ${d}`,
      );
    }
    const stats = [...x.shape.slice(0, -1), 1];
    return this.op(
      'LayerNormalization',
      [x, scale, bias],
      { axis: -1, epsilon: { float: epsilon } },
      [x.shape, stats, stats],
      ['float32', 'float32', 'float32'],
    )[0];
  }

  /** Rows of `table` [V, ...] picked by integer `ids` (an embedding lookup). */
  gather(table: Tensor, ids: Tensor): Tensor {
    if (ids.dtype === 'float32' || ids.dtype === 'bool') throw new Error('Gather: ids must be integers');
    return this.op(
      'Gather',
      [table, ids],
      { axis: 0 },
      [[...ids.shape, ...table.shape.slice(1)]],
      [table.dtype],
    )[0];
  }

  /** x[start:end] along one axis (static sizes). */
  slice(x: Tensor, axis: number, start: number, end: number): Tensor {
    const a = normAxis(axis, x.rank);
    const size = x.dim(a);
    if (!(0 <= start && start < end && end <= size)) {
      throw new Error(`Slice: [${start}, ${end}) is outside axis ${a} of ${fmt(x.shape)}`);
    }
    const shape = x.shape.map((d, i) => (i === a ? end - start : d));
    return this.op(
      'Slice',
      [x, this.ints([start]), this.ints([end]), this.ints([a])],
      {},
      [shape],
      [x.dtype],
    )[0];
  }

  /** `x` reversed along `axes` (a Slice with step -1; static sizes). */
  reverse(x: Tensor, axes: readonly number[]): Tensor {
    const n = axes.length;
    const ends = axes.map((a) => -(x.dim(a) + 1));
    const inputs = [
      x,
      this.ints(new Array(n).fill(-1)),
      this.ints(ends),
      this.ints(axes),
      this.ints(new Array(n).fill(-1)),
    ];
    return this.op('Slice', inputs, {}, [x.shape], [x.dtype])[0];
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    const a = normAxis(axis, xs[0].rank);
    const shape = xs[0].shape.map((d, i) => {
      if (i === a) return xs.reduce((n, x) => n + x.dim(a), 0);
      if (xs.some((x) => x.shape[i] !== d)) throw new Error(`Concat: shapes differ off axis ${a}`);
      return d;
    });
    return this.op('Concat', xs, { axis: a }, [shape], [xs[0].dtype])[0];
  }

  /** Zero padding; `pads` is ONNX's [begin_0, begin_1, ..., end_0, end_1, ...]. */
  pad(x: Tensor, pads: readonly number[]): Tensor {
    if (pads.length !== 2 * x.rank) throw new Error(`Pad: ${pads.length} pads for rank ${x.rank}`);
    if (pads.every((p) => p === 0)) return x;
    const shape = x.shape.map((d, i) => {
      if (pads[i] === 0 && pads[i + x.rank] === 0) return d;
      if (typeof d !== 'number') throw new Error(`Pad: axis ${i} is symbolic`);
      return d + pads[i] + pads[i + x.rank];
    });
    return this.op('Pad', [x, this.ints(pads)], { mode: 'constant' }, [shape], [x.dtype])[0];
  }

  /** 2-D convolution of NCHW `x` with OIHW `w` [O, C/group, kh, kw]. */
  conv(
    x: Tensor,
    w: Tensor,
    b: Tensor | null,
    opts: { pads?: readonly number[]; strides?: readonly number[]; group?: number } = {},
  ): Tensor {
    const pads = opts.pads ?? [0, 0, 0, 0];
    const strides = opts.strides ?? [1, 1];
    const group = opts.group ?? 1;
    if (x.rank !== 4 || w.rank !== 4) throw new Error('Conv: x and w must be 4-D (NCHW, OIHW)');
    if (x.dim(1) !== w.dim(1) * group) {
      throw new Error(
        `Conv: input has ${x.shape[1]} channels, the kernel ${fmt(w.shape)} (group ${group}) wants ${w.dim(1) * group}`,
      );
    }
    const out = (axis: 2 | 3): Dim => {
      const grow = pads[axis - 2] + pads[axis] - w.dim(axis) + 1;
      // A 'same' convolution keeps a symbolic side (the pipeline's latents of any size).
      if (typeof x.shape[axis] === 'string' && grow === 0 && strides[axis - 2] === 1) return x.shape[axis];
      return Math.floor((x.dim(axis) + grow - 1) / strides[axis - 2]) + 1;
    };
    const attrs = { kernel_shape: [w.dim(2), w.dim(3)], pads: [...pads], strides: [...strides], group };
    return this.op(
      'Conv',
      b ? [x, w, b] : [x, w],
      attrs,
      [[x.shape[0], w.shape[0], out(2), out(3)]],
      ['float32'],
    )[0];
  }

  /**
   * im2col as one depthwise Conv with one-hot kernels: [N, C, H, W] -> [N, C·kh·kw, H', W'], channel
   * c·kh·kw + ky·kw + kx holding x[c] shifted by (ky, kx) under the given padding.
   */
  im2col(x: Tensor, kh: number, kw: number, pads: readonly number[]): Tensor {
    const c = x.dim(1);
    const taps = kh * kw;
    const kernel = new Float32Array(c * taps * taps);
    for (let ch = 0; ch < c; ch++) for (let k = 0; k < taps; k++) kernel[(ch * taps + k) * taps + k] = 1;
    return this.conv(x, this.constant(kernel, [c * taps, 1, kh, kw]), null, { pads, group: c });
  }

  /** NCHW [N, C·b², H, W] -> [N, C, H·b, W·b] (DCR), and its inverse. */
  depthToSpace(x: Tensor, block: number): Tensor {
    const shape = [x.shape[0], x.dim(1) / block ** 2, x.dim(2) * block, x.dim(3) * block];
    if (!Number.isInteger(shape[1])) throw new Error(`DepthToSpace: ${x.shape[1]} channels, block ${block}`);
    return this.op('DepthToSpace', [x], { blocksize: block, mode: 'DCR' }, [shape], [x.dtype])[0];
  }

  spaceToDepth(x: Tensor, block: number): Tensor {
    const shape = [x.shape[0], x.dim(1) * block ** 2, x.dim(2) / block, x.dim(3) / block];
    if (!Number.isInteger(shape[2]) || !Number.isInteger(shape[3])) {
      throw new Error(`SpaceToDepth: ${fmt(x.shape)} is not divisible by block ${block}`);
    }
    return this.op('SpaceToDepth', [x], { blocksize: block }, [shape], [x.dtype])[0];
  }

  /** One-hot rows [..., depth] (float32) of integer `ids`. */
  oneHot(ids: Tensor, depth: number): Tensor {
    const values = this.constant(Float32Array.of(0, 1), [2]);
    const d = this.ints([depth]);
    return this.op('OneHot', [ids, d, values], { axis: -1 }, [[...ids.shape, depth]], ['float32'])[0];
  }

  /** The runtime shape of `x` (int64), for Expand on symbolic axes. */
  shapeOf(x: Tensor): Tensor {
    return this.op('Shape', [x], {}, [[x.rank]], ['int64'])[0];
  }

  /** `x` broadcast to the shape of `like`. */
  expandAs(x: Tensor, like: Tensor): Tensor {
    if (x.shape.length === like.rank && x.shape.every((d, i) => d === like.shape[i])) return x;
    broadcastShapes(x.shape, like.shape, 'Expand');
    return this.op('Expand', [x, this.shapeOf(like)], {}, [like.shape], [x.dtype])[0];
  }

  /** Parameter specs in declaration order. */
  paramSpecs(): ParamSpec[] {
    return [...this.params.values()].map((p) => p.spec);
  }
}
