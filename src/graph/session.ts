/**
 * Runs built graphs on ONNX Runtime: a plain forward session, and a gradient session whose one
 * run gives the loss and every parameter's gradient (the parameters are fed as inputs each step,
 * so the same session serves the whole training run).
 */
import * as ort from 'onnxruntime-node';
import { createSession, type ExecutionProvider } from '../models/onnx-model.js';
import { gradients } from './autodiff.js';
import { buildOnnx } from './build.js';
import type { Graph, Tensor } from './graph.js';
import type { HostTensor, Weights } from './params.js';

export interface SessionOptions {
  /** Intra-op threads (ONNX Runtime's default: one per core). */
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
}

export type Feed = ort.Tensor;

export function openSession(bytes: Uint8Array, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const threads = opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {};
  return createSession(
    bytes,
    opts.provider ?? 'cpu',
    { graphOptimizationLevel: 'all', ...threads },
    'open the graph',
    (reason, cause) => new Error(reason, { cause }),
  );
}

export const floatFeed = (data: Float32Array, shape: readonly number[]): Feed =>
  new ort.Tensor('float32', data, shape);
export const int64Feed = (data: ArrayLike<number>, shape: readonly number[]): Feed =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from(data as number[], (v) => BigInt(v)),
    shape,
  );

/** A value for every input of `session`: the batch's, else the parameter of that name. */
export function feedsFor(
  session: ort.InferenceSession,
  batch: Readonly<Record<string, Feed>>,
  params: ReadonlyMap<string, HostTensor> | undefined,
  what: string,
): Record<string, Feed> {
  const feeds: Record<string, Feed> = {};
  for (const name of session.inputNames) {
    const p = params?.get(name);
    if (batch[name]) feeds[name] = batch[name];
    else if (p) feeds[name] = floatFeed(p.data, p.shape);
    else throw new Error(`${what}: no value for input "${name}"`);
  }
  return feeds;
}

/** Runs the graph once, parameters as initializers from `weights`; outputs as host arrays. */
export async function runGraph(
  g: Graph,
  outputs: Readonly<Record<string, Tensor>>,
  feeds: Readonly<Record<string, Feed>>,
  weights: Weights,
  opts: SessionOptions = {},
): Promise<Record<string, HostTensor>> {
  const session = await openSession(buildOnnx(g, { outputs, weights }), opts);
  try {
    const wanted = Object.fromEntries(Object.entries(feeds).filter(([k]) => session.inputNames.includes(k)));
    const result = await session.run(wanted);
    return Object.fromEntries(
      Object.keys(outputs).map((k) => [
        k,
        { shape: [...result[k].dims], data: result[k].data as Float32Array },
      ]),
    );
  } finally {
    await session.release();
  }
}

const GRAD = 'grad.';
const GRAD_NORM_SQUARED = 'grad_norm_squared';

/** One ONNX session computing a scalar loss and d loss / d parameter for every parameter of `g`. */
export class GradientSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly paramNames: readonly string[],
    readonly extraNames: readonly string[],
  ) {}

  /** Appends the backward pass of `loss` to `g` and opens the training model. */
  static async create(
    g: Graph,
    loss: Tensor,
    opts: SessionOptions & { extra?: Readonly<Record<string, Tensor>> } = {},
  ): Promise<GradientSession> {
    if (loss.rank !== 0) throw new Error(`the loss must be a scalar, got [${loss.shape}]`);
    const params = [...g.params.values()].map((p) => p.tensor);
    const grads = gradients(loss, params);
    const outputs: Record<string, Tensor> = { loss, ...opts.extra };
    params.forEach((p, i) => {
      outputs[GRAD + p.name] = grads[i];
    });
    // The squared global norm, for clipping: cheaper here than a pass over the arrays in JS.
    const squares = grads.map((d) =>
      g.reduce(
        'ReduceSumSquare',
        d,
        d.shape.map((_, i) => i),
        false,
      ),
    );
    outputs[GRAD_NORM_SQUARED] = g.op('Sum', squares, {}, [[]], ['float32'])[0];
    const session = await openSession(buildOnnx(g, { outputs }), opts);
    return new GradientSession(
      session,
      params.map((p) => p.name),
      Object.keys(opts.extra ?? {}),
    );
  }

  /** Loss, extra outputs and gradients at `params` (by name) on one batch. */
  async run(
    params: ReadonlyMap<string, HostTensor>,
    batch: Readonly<Record<string, Feed>>,
  ): Promise<{
    loss: number;
    gradNorm: number;
    extra: Record<string, Float32Array>;
    grads: Map<string, Float32Array>;
  }> {
    const out = await this.session.run(feedsFor(this.session, batch, params, 'training graph'));
    const grads = new Map(this.paramNames.map((n) => [n, out[GRAD + n].data as Float32Array]));
    const extra = Object.fromEntries(this.extraNames.map((n) => [n, out[n].data as Float32Array]));
    const gradNorm = Math.sqrt((out[GRAD_NORM_SQUARED].data as Float32Array)[0]);
    return { loss: (out.loss.data as Float32Array)[0], gradNorm, extra, grads };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
