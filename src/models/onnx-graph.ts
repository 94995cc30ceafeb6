/**
 * A small typed builder for raw ONNX graphs over `onnx-proto`, and the protobuf helpers that
 * src/graph's writer shares. Tests use it for hand-written stand-ins of foreign exports; the
 * project's own networks are traced by src/graph. Values are named by string; `node` makes a unique
 * output name per call, so callers only name graph inputs, outputs and initializers.
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
