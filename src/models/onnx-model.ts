/**
 * One ONNX file of a model folder: an onnxruntime session plus its input/output signature read
 * from the session's metadata, with the checks a folder loader needs (named input present, rank,
 * dtype) failing as ModelFolderError.
 */
import { access } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ModelFolderError } from './errors.js';
import { fromHalf, toHalf } from './float16.js';

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32';

/** Float dtypes a network's inputs and outputs may have; float16 is converted at the session's edge. */
export const FLOAT_TYPES = ['float32', 'float16'] as const;
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface TensorSpec {
  name: string;
  type: TensorType;
  /** Static sizes as numbers, symbolic (dynamic) axes by their name. */
  dims: (number | string)[];
}

export interface OnnxModel {
  file: string;
  session: ort.InferenceSession;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
}

/** Integer dtypes exports use for token ids and masks. */
export const INT_TYPES = ['int64', 'int32'] as const;
export type IntType = (typeof INT_TYPES)[number];

/** A static size of `spec` at `axis`, or undefined for a symbolic (dynamic) axis. */
export const staticDim = (spec: TensorSpec, axis: number): number | undefined =>
  typeof spec.dims[axis] === 'number' ? spec.dims[axis] : undefined;

/** Rows of token ids (or mask bits) as a [rows, length] tensor of the dtype the model declares. */
export function intTensor(type: IntType, rows: number[][]): ort.Tensor {
  const dims = [rows.length, rows[0]?.length ?? 0];
  const flat = rows.flat();
  return type === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(flat, (v) => BigInt(v)),
        dims,
      )
    : new ort.Tensor('int32', Int32Array.from(flat), dims);
}

const TENSOR_TYPES: readonly string[] = ['float32', 'float16', 'int64', 'int32'] satisfies TensorType[];

/** Backends this onnxruntime-node build knows, and whether each ships in the npm package. */
export function availableExecutionProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

function describeProviders(): string {
  return availableExecutionProviders()
    .map((b) => (b.bundled ? b.name : `${b.name} (not bundled: needs onnxruntime-node's install script)`))
    .join(', ');
}

function specsOf(
  file: string,
  kind: 'input' | 'output',
  meta: readonly ort.InferenceSession.ValueMetadata[],
) {
  return meta.map((m): TensorSpec => {
    if (!m.isTensor) throw new ModelFolderError(file, `${kind} "${m.name}" is not a tensor`);
    if (!TENSOR_TYPES.includes(m.type)) {
      throw new ModelFolderError(
        file,
        `${kind} "${m.name}" has unsupported dtype ${m.type} (expected one of ${TENSOR_TYPES.join(', ')})`,
      );
    }
    return { name: m.name, type: m.type as TensorType, dims: [...m.shape] };
  });
}

/**
 * An onnxruntime session on `provider`, the provider checked first. Failures (the provider absent
 * from this build, missing CUDA libraries, no WebGPU adapter, a corrupt file) come from `fail`,
 * naming the provider and the ones this build has.
 */
export async function createSession(
  source: string | Uint8Array,
  provider: ExecutionProvider,
  options: ort.InferenceSession.SessionOptions,
  action: string,
  fail: (reason: string, cause?: unknown) => Error,
): Promise<ort.InferenceSession> {
  if (!availableExecutionProviders().some((b) => b.name === provider)) {
    throw fail(
      `execution provider "${provider}" is not in this onnxruntime-node build; available: ${describeProviders()}`,
    );
  }
  try {
    const opts = { ...options, executionProviders: [provider] };
    // Two calls: create's path and bytes overloads do not take the union.
    return await (typeof source === 'string'
      ? ort.InferenceSession.create(source, opts)
      : ort.InferenceSession.create(source, opts));
  } catch (e) {
    throw fail(
      `onnxruntime could not ${action} with execution provider "${provider}": ${String(e)} ` +
        `(execution providers of this onnxruntime-node build: ${describeProviders()})`,
      e,
    );
  }
}

export async function loadOnnxModel(file: string, provider: ExecutionProvider = 'cpu'): Promise<OnnxModel> {
  try {
    await access(file);
  } catch (e) {
    throw new ModelFolderError(file, 'file is missing', { cause: e });
  }
  // A path (not bytes) lets onnxruntime find external weight files next to model.onnx.
  const session = await createSession(
    file,
    provider,
    {},
    'load it',
    (reason, cause) => new ModelFolderError(file, reason, { cause }),
  );
  const inputs = specsOf(file, 'input', session.inputMetadata);
  const outputs = specsOf(file, 'output', session.outputMetadata);
  return { file, session, inputs, outputs, run: halfAtTheBoundary(session, inputs) };
}

/**
 * The session's run with float16 handled at its edge: float32 feeds of float16 inputs are
 * converted (timesteps included), float16 outputs come back as float32, so a float16 export runs
 * through the same float32 pipeline as any other.
 */
function halfAtTheBoundary(session: ort.InferenceSession, inputs: readonly TensorSpec[]): OnnxModel['run'] {
  const half = new Set(inputs.filter((s) => s.type === 'float16').map((s) => s.name));
  return async (feeds) => {
    const converted: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      converted[name] =
        half.has(name) && t.type === 'float32'
          ? new ort.Tensor('float16', toHalf(t.data as Float32Array), t.dims)
          : t;
    }
    const out = (await session.run(converted)) as Record<string, ort.Tensor>;
    for (const [name, t] of Object.entries(out)) {
      if (t.type === 'float16')
        out[name] = new ort.Tensor('float32', fromHalf(t.data as Uint16Array), t.dims);
    }
    return out;
  };
}

/** Finds a named input or output and checks its rank and dtype. */
export function requireTensor<T extends TensorType>(
  model: OnnxModel,
  kind: 'input' | 'output',
  name: string,
  rank: number | readonly number[],
  types: readonly T[],
): TensorSpec & { type: T } {
  const list = kind === 'input' ? model.inputs : model.outputs;
  const spec = list.find((s) => s.name === name);
  if (spec === undefined) {
    throw new ModelFolderError(
      model.file,
      `expected an ${kind} named "${name}"; the model's ${kind}s are ${list.map((s) => `"${s.name}"`).join(', ') || 'none'}`,
    );
  }
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(spec.dims.length)) {
    throw new ModelFolderError(
      model.file,
      `${kind} "${name}" has rank ${spec.dims.length} [${spec.dims.join(', ')}], expected rank ${ranks.join(' or ')}`,
    );
  }
  if (!(types as readonly string[]).includes(spec.type)) {
    throw new ModelFolderError(
      model.file,
      `${kind} "${name}" has dtype ${spec.type}, expected ${types.join(' or ')}`,
    );
  }
  return spec as TensorSpec & { type: T };
}

/** Rejects inputs the caller will not feed: onnxruntime would otherwise fail at the first run. */
export function requireOnlyInputs(model: OnnxModel, known: readonly string[]): void {
  const extra = model.inputs.filter((s) => !known.includes(s.name));
  if (extra.length > 0) {
    throw new ModelFolderError(
      model.file,
      `unexpected input(s) ${extra.map((s) => `"${s.name}"`).join(', ')}; expected only ${known.map((n) => `"${n}"`).join(', ')}`,
    );
  }
}
