/**
 * A small typed builder for ONNX graphs over `onnx-proto`. Tests use it to make tiny stand-ins for
 * the Stable Diffusion models, and the trainer uses it to export its own small networks. Values are
 * named by string; `node` makes a unique output name per call, so callers only name graph inputs,
 * outputs and initializers.
 */
import onnx from 'onnx-proto';

const proto = onnx.onnx;
const DataType = proto.TensorProto.DataType;
const AttrType = proto.AttributeProto.AttributeType;

export type ElemType = 'float32' | 'int64' | 'int32';
export type TensorData = Float32Array | BigInt64Array | Int32Array;

/** A float attribute. Plain numbers are ambiguous: integers become INT, everything else FLOAT. */
export interface FloatAttr {
  readonly kind: 'float';
  readonly value: number;
}
/** A tensor attribute, e.g. Constant's `value`. */
export interface TensorAttr {
  readonly kind: 'tensor';
  readonly data: TensorData;
  readonly dims: readonly number[];
}
export type AttrValue = number | number[] | string | string[] | Float32Array | FloatAttr | TensorAttr;
export type Attrs = Record<string, AttrValue>;

export const floatAttr = (value: number): FloatAttr => ({ kind: 'float', value });
export const tensorAttr = (data: TensorData, dims: readonly number[]): TensorAttr => ({
  kind: 'tensor',
  data,
  dims,
});

const ELEM_CODES: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
};

function elemTypeOf(data: TensorData): ElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'int32';
}

export function tensorProto(name: string, data: TensorData, dims: readonly number[]): onnx.onnx.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new Error(`tensor ${name}: dims [${dims.join(', ')}] hold ${size} values, data has ${data.length}`);
  }
  // raw_data is little-endian; copy so a view into a larger buffer serializes only its own bytes.
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims: [...dims], dataType: ELEM_CODES[elemTypeOf(data)], rawData: raw };
}

export function attributeProto(name: string, v: AttrValue): onnx.onnx.IAttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: AttrType.INT, i: v } : { name, type: AttrType.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (v instanceof Float32Array) return { name, type: AttrType.FLOATS, floats: [...v] };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) {
      return { name, type: AttrType.STRINGS, strings: v.map((s) => new TextEncoder().encode(s)) };
    }
    if (!v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
      throw new Error(`attribute ${name}: number[] must hold integers; use a Float32Array for floats`);
    }
    return { name, type: AttrType.INTS, ints: v as number[] };
  }
  if (v.kind === 'float') return { name, type: AttrType.FLOAT, f: v.value };
  return { name, type: AttrType.TENSOR, t: tensorProto(name, v.data, v.dims) };
}

export function valueInfo(
  name: string,
  type: ElemType,
  dims: readonly (number | string)[],
): onnx.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_CODES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface AttentionWeights {
  /** Projections as [in, out] matrices (x @ W), already added as initializers. */
  q: string;
  k: string;
  v: string;
  o: string;
  /** Optional bias of the output projection. */
  oBias?: string;
}

export class GraphBuilder {
  private readonly inputs: onnx.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.onnx.IValueInfoProto[] = [];
  private readonly inits: onnx.onnx.ITensorProto[] = [];
  private readonly nodes: onnx.onnx.INodeProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: value name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return this.claim(name);
  }

  /** Declares a graph input; string dims are symbolic (dynamic) axes. */
  input(name: string, type: ElemType, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /**
   * Declares a graph output. With `from`, an Identity node copies that value to `name`, so the
   * computation can be built first and named at the end.
   */
  output(name: string, type: ElemType, dims: (number | string)[], from?: string): string {
    if (from !== undefined) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', input: [from], output: [name], name: `Identity_${name}` });
    }
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  initializer(name: string, data: TensorData, dims: number[]): string {
    this.inits.push(tensorProto(this.claim(name), data, dims));
    return name;
  }

  /** An initializer with a generated name, for shapes, axes and scalars. */
  constant(data: TensorData, dims: number[]): string {
    const name = this.fresh('const');
    this.inits.push(tensorProto(name, data, dims));
    return name;
  }

  /** int64 1-D constant, the type ONNX wants for shapes, axes, pads. */
  ints(values: number[]): string {
    return this.constant(BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** float32 scalar constant. */
  scalar(value: number): string {
    return this.constant(Float32Array.of(value), []);
  }

  /** Adds a node; an empty string in `inputs` skips an optional input. */
  node(opType: string, inputs: string[], attrs?: Attrs): string;
  node(opType: string, inputs: string[], attrs: Attrs | undefined, nOutputs: number): string[];
  node(opType: string, inputs: string[], attrs: Attrs = {}, nOutputs?: number): string | string[] {
    const outs = Array.from({ length: nOutputs ?? 1 }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: `${opType}_node_${this.nodes.length}`,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return nOutputs === undefined ? outs[0] : outs;
  }

  /** x @ W (+ b); W is [in, out]. */
  linear(x: string, w: string, b?: string): string {
    const y = this.node('MatMul', [x, w]);
    return b === undefined ? y : this.node('Add', [y, b]);
  }

  /**
   * 3x3 'same' convolution of an NCHW map. The kernel comes in the training engine's im2col layout,
   * a [9·Cin, Cout] matmul weight with rows ordered (dy, dx, input channel), and is stored as the
   * ONNX kernel [Cout, Cin, 3, 3] under `name`.
   */
  conv3x3(
    x: string,
    name: string,
    kernel: { data: Float32Array; shape: readonly number[] },
    b?: string,
  ): string {
    const [rows, cout] = kernel.shape;
    const cin = rows / 9;
    const oihw = new Float32Array(rows * cout);
    for (let o = 0; o < cout; o++) {
      for (let c = 0; c < cin; c++) {
        for (let k = 0; k < 9; k++) oihw[(o * cin + c) * 9 + k] = kernel.data[(k * cin + c) * cout + o];
      }
    }
    const w = this.initializer(name, oihw, [cout, cin, 3, 3]);
    return this.node('Conv', b === undefined ? [x, w] : [x, w, b], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
    });
  }

  /** LayerNormalization over the last axis (opset >= 17). */
  layerNorm(x: string, scale: string, bias: string, epsilon = 1e-5): string {
    return this.node('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: floatAttr(epsilon) });
  }

  /** Exact GELU, 0.5·x·(1 + erf(x/√2)), as PyTorch's default; opset 17 has no Gelu op. */
  gelu(x: string): string {
    const erf = this.node('Erf', [this.node('Mul', [x, this.scalar(Math.SQRT1_2)])]);
    const onePlus = this.node('Add', [erf, this.scalar(1)]);
    return this.node('Mul', [this.node('Mul', [x, onePlus]), this.scalar(0.5)]);
  }

  /** SiLU, x·sigmoid(x): the UNet's activation. */
  silu(x: string): string {
    return this.node('Mul', [x, this.node('Sigmoid', [x])]);
  }

  /**
   * Multi-head softmax attention. `x` is [B, Lq, Dq], `context` is [B, Lk, Dk] (pass `x` for
   * self-attention); W.q is [Dq, dim], W.k and W.v are [Dk, dim], W.o is [dim, Dout]. Returns
   * [B, Lq, Dout]. Batch and sequence lengths stay dynamic. `bias`, broadcast to [B, H, Lq, Lk], is
   * added to the logits before Softmax (a key padding mask as 0 / -1e9).
   */
  attention(
    x: string,
    context: string,
    w: AttentionWeights,
    heads: number,
    dim: number,
    bias?: string,
  ): string {
    if (dim % heads !== 0) throw new Error(`attention: dim ${dim} is not divisible by ${heads} heads`);
    const headDim = dim / heads;
    // Reshape's 0 copies the input's dim, so [0, 0, H, d] splits heads for any B and L.
    const split = (t: string) =>
      this.node('Transpose', [this.node('Reshape', [t, this.ints([0, 0, heads, headDim])])], {
        perm: [0, 2, 1, 3],
      });
    const q = split(this.linear(x, w.q));
    const k = split(this.linear(context, w.k));
    const v = split(this.linear(context, w.v));
    const kT = this.node('Transpose', [k], { perm: [0, 1, 3, 2] });
    const scores = this.node('Mul', [this.node('MatMul', [q, kT]), this.scalar(1 / Math.sqrt(headDim))]);
    const probs = this.node('Softmax', [bias === undefined ? scores : this.node('Add', [scores, bias])], {
      axis: -1,
    });
    const merged = this.node('Transpose', [this.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
    const flat = this.node('Reshape', [merged, this.ints([0, 0, dim])]);
    return this.linear(flat, w.o, w.oBias);
  }

  /** Serialized ModelProto: IR version 8 with the default (ai.onnx) opset domain. */
  build(opset = 17): Uint8Array {
    return encodeModel(
      {
        name: this.name,
        input: this.inputs,
        output: this.outputs,
        initializer: this.inits,
        node: this.nodes,
      },
      opset,
    );
  }
}

/** A graph as a serialized ModelProto: IR version 8, the default (ai.onnx) opset domain. */
export function encodeModel(graph: onnx.onnx.IGraphProto, opset = 17): Uint8Array {
  const model: onnx.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'adadiff',
    // The empty domain is ai.onnx; it is what exporters write and what nodes with no domain use.
    opsetImport: [{ domain: '', version: opset }],
    graph,
  };
  return proto.ModelProto.encode(proto.ModelProto.create(model)).finish();
}
