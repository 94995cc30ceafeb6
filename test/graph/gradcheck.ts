/**
 * Central finite differences against the autodiff gradients, both run on ONNX Runtime. The loss is
 * sum(f(params) · R) with a fixed random R, so every output element weighs differently and a rule
 * that mixes up elements cannot pass.
 */
import assert from 'node:assert/strict';
import { buildOnnx } from '../../src/graph/build.js';
import { Graph, sizeOf, type Tensor } from '../../src/graph/graph.js';
import type { HostTensor } from '../../src/graph/params.js';
import { floatFeed, GradientSession, openSession } from '../../src/graph/session.js';
import { Rng } from '../../src/util/random.js';

export interface GradCheckOptions {
  /** Step of the central difference. */
  readonly eps?: number;
  /** Coordinates checked per parameter (all when the parameter is smaller). */
  readonly coords?: number;
  readonly tolerance?: number;
  /** Initial values by parameter name; otherwise standard normal. */
  readonly values?: Record<string, Float32Array>;
  readonly seed?: number;
  /** Std of the random parameter values (default 1). */
  readonly scale?: number;
}

/** `build` declares parameters with g.param and returns the output f(params). */
export async function gradCheck(
  label: string,
  build: (g: Graph) => Tensor,
  opts: GradCheckOptions = {},
): Promise<void> {
  const { eps = 1e-2, coords = 12, tolerance = 1e-2, seed = 1, scale = 1 } = opts;
  const rng = new Rng(seed);
  const g = new Graph(label);
  const y = build(g);
  const shape = y.staticShape();
  const weight = g.constant(rng.normalArray(sizeOf(shape)), shape);
  const loss = y.mul(weight).sum(
    shape.map((_, i) => i),
    false,
  );
  const params = new Map<string, HostTensor>(
    g.paramSpecs().map((s) => [
      s.name,
      {
        shape: s.shape,
        data: opts.values?.[s.name] ?? rng.normalArray(sizeOf(s.shape)).map((v) => v * scale),
      },
    ]),
  );
  const forward = await openSession(buildOnnx(g, { outputs: { loss } }), { threads: 1 });
  const lossAt = async (p: Map<string, HostTensor>) => {
    const feeds = Object.fromEntries(
      forward.inputNames.map((n) => [
        n,
        floatFeed((p.get(n) as HostTensor).data, (p.get(n) as HostTensor).shape),
      ]),
    );
    return ((await forward.run(feeds)).loss.data as Float32Array)[0];
  };
  const session = await GradientSession.create(g, loss, { threads: 1 });
  const { grads } = await session.run(params, {});
  for (const [name, p] of params) {
    const grad = grads.get(name) as Float32Array;
    const picks =
      p.data.length <= coords
        ? [...p.data.keys()]
        : Array.from({ length: coords }, () => rng.int(p.data.length));
    for (const i of picks) {
      const keep = p.data[i];
      p.data[i] = keep + eps;
      const up = await lossAt(params);
      p.data[i] = keep - eps;
      const down = await lossAt(params);
      p.data[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const scale = Math.max(1, Math.abs(numeric), Math.abs(grad[i]));
      assert.ok(
        Math.abs(numeric - grad[i]) <= tolerance * scale,
        `${label}: d/d${name}[${i}] autodiff ${grad[i]}, finite difference ${numeric}`,
      );
    }
  }
  await session.release();
  await forward.release();
}

/** Values bounded away from zero: |x| in [lo, lo + 1), random sign unless `positive`. */
export function awayFromZero(n: number, seed: number, lo = 0.5, positive = false): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => {
    const v = lo + rng.uniform();
    return positive || rng.uniform() < 0.5 ? v : -v;
  });
}
