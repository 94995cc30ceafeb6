/**
 * Writes a traced Graph as an ONNX model. The same graph gives the inference model (parameters as
 * initializers holding trained weights: what a model folder ships) or the training model
 * (parameters as inputs, so one session serves every step). Only the nodes the outputs need are
 * written; optional outputs nothing reads (LayerNormalization's statistics at inference) are left
 * off.
 */
import onnx from 'onnx-proto';
import {
  attributeProto,
  type ElemType,
  encodeModel,
  floatAttr,
  type AttrValue as ProtoAttr,
  tensorProto,
  valueInfo,
} from '../models/onnx-graph.js';
import { type AttrValue, type Graph, type Node, sizeOf, type Tensor } from './graph.js';
import type { HostTensor, Weights } from './params.js';

export interface BuildOptions {
  /** Graph outputs by name. */
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Parameters as initializers with these values; without it, parameters are graph inputs. */
  readonly weights?: Weights;
}

function protoAttr(v: AttrValue): ProtoAttr {
  return typeof v === 'object' && !Array.isArray(v) ? floatAttr(v.float) : v;
}

function elemType(t: Tensor): ElemType {
  if (t.dtype === 'bool') throw new Error(`graph input/output ${t.name} is bool; cast it first`);
  return t.dtype;
}

/** The nodes that `targets` depend on, in recorded (topological) order. */
function needed(g: Graph, targets: readonly Tensor[]): Node[] {
  const producers = new Map<Tensor, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producers.set(o, n);
  const want = new Set<Node>();
  const stack = [...targets];
  while (stack.length > 0) {
    const node = producers.get(stack.pop() as Tensor);
    if (!node || want.has(node)) continue;
    want.add(node);
    for (const x of node.inputs) if (x) stack.push(x);
  }
  return g.nodes.filter((n) => want.has(n));
}

export function buildOnnx(g: Graph, opts: BuildOptions): Uint8Array {
  const outputs = Object.entries(opts.outputs);
  const nodes = needed(
    g,
    outputs.map(([, t]) => t),
  );
  const read = new Set<string>(outputs.map(([, t]) => t.name));
  for (const n of nodes) for (const x of n.inputs) if (x) read.add(x.name);

  const inputs: onnx.onnx.IValueInfoProto[] = [];
  const inits: onnx.onnx.ITensorProto[] = [];
  for (const t of g.inputs) if (read.has(t.name)) inputs.push(valueInfo(t.name, elemType(t), t.shape));
  for (const [name, { spec }] of g.params) {
    if (!read.has(name)) continue;
    if (!opts.weights) {
      inputs.push(valueInfo(name, 'float32', spec.shape));
      continue;
    }
    const w = opts.weights.get(name);
    if (!w) throw new Error(`graph ${g.name}: the weights have no tensor "${name}"`);
    if (w.shape.join(',') !== spec.shape.join(',') || w.data.length !== sizeOf(spec.shape)) {
      throw new Error(`graph ${g.name}: weight "${name}" is [${w.shape}], the network wants [${spec.shape}]`);
    }
    inits.push(tensorProto(name, w.data, spec.shape));
  }
  for (const [name, c] of g.constants) if (read.has(name)) inits.push(tensorProto(name, c.data, c.shape));

  const protoNodes: onnx.onnx.INodeProto[] = nodes.map((n, i) => {
    // Trailing optional outputs that nothing reads are dropped (LayerNormalization's statistics).
    let outs = n.outputs.map((o) => o.name);
    while (outs.length > 1 && !read.has(outs[outs.length - 1])) outs = outs.slice(0, -1);
    return {
      opType: n.op,
      input: n.inputs.map((x) => x?.name ?? ''),
      output: outs,
      name: `${n.op}_${i}`,
      attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, protoAttr(v))),
    };
  });
  const outputInfos = outputs.map(([name, t]) => {
    protoNodes.push({ opType: 'Identity', input: [t.name], output: [name], name: `output_${name}` });
    return valueInfo(name, elemType(t), t.shape);
  });
  return encodeModel({
    name: g.name,
    input: inputs,
    output: outputInfos,
    initializer: inits,
    node: protoNodes,
  });
}

/**
 * The float32 initializers of an ONNX model by name: the weights an exported network carries
 * (buildOnnx writes them as raw little-endian data), for tools that start from a model folder.
 */
export function onnxWeights(bytes: Uint8Array): Map<string, HostTensor> {
  const model = onnx.onnx.ModelProto.decode(bytes);
  const weights = new Map<string, HostTensor>();
  for (const init of model.graph?.initializer ?? []) {
    if (init.dataType !== onnx.onnx.TensorProto.DataType.FLOAT) continue;
    const shape = (init.dims ?? []).map(Number);
    const data =
      init.rawData && init.rawData.length > 0
        ? new Float32Array(Uint8Array.from(init.rawData).buffer)
        : Float32Array.from(init.floatData ?? []);
    weights.set(init.name ?? '', { shape, data });
  }
  return weights;
}
