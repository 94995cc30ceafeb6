import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatAttr, GraphBuilder, tensorAttr } from '../../src/models/onnx-graph.js';
import { Rng } from '../../src/util/random.js';

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `index ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
};

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(bytes);
  return session.run(feeds);
}

/** [n, k] @ [k, m], row-major. */
function matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * m + j];
      out[i * m + j] = s;
    }
  return out;
}

test('linear, layerNorm and gelu match a JS computation; metadata keeps symbolic dims', async () => {
  const rng = new Rng(1);
  const [n, din, dout] = [3, 4, 5];
  const W = rng.normalArray(din * dout);
  const b = rng.normalArray(dout);
  const gamma = rng.normalArray(dout);
  const beta = rng.normalArray(dout);
  const g = new GraphBuilder('mlp');
  const x = g.input('x', 'float32', ['n', din]);
  const h = g.linear(x, g.initializer('W', W, [din, dout]), g.initializer('b', b, [dout]));
  const y = g.gelu(
    g.layerNorm(h, g.initializer('gamma', gamma, [dout]), g.initializer('beta', beta, [dout])),
  );
  g.output('y', 'float32', ['n', dout], y);

  const xs = rng.normalArray(n * din);
  const session = await ort.InferenceSession.create(g.build());
  assert.deepEqual(session.inputMetadata[0], {
    name: 'x',
    isTensor: true,
    type: 'float32',
    shape: ['n', din],
  });
  const out = await session.run({ x: new ort.Tensor('float32', xs, [n, din]) });
  assert.deepEqual(out.y.dims, [n, dout]);

  const lin = matmul(xs, W, n, din, dout);
  const expected = new Float32Array(n * dout);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: dout }, (_, j) => lin[i * dout + j] + b[j]);
    const mean = row.reduce((s, v) => s + v, 0) / dout;
    const varc = row.reduce((s, v) => s + (v - mean) ** 2, 0) / dout;
    for (let j = 0; j < dout; j++) {
      const z = ((row[j] - mean) / Math.sqrt(varc + 1e-5)) * gamma[j] + beta[j];
      expected[i * dout + j] = 0.5 * z * (1 + erf(z / Math.SQRT2));
    }
  }
  close(out.y.data as Float32Array, expected, 1e-4);
});

test('attention matches a JS multi-head softmax attention with dynamic batch and lengths', async () => {
  const rng = new Rng(2);
  const [B, Lq, Lk, Dq, Dk, dim, heads, Dout] = [2, 3, 5, 6, 4, 8, 2, 6];
  const Wq = rng.normalArray(Dq * dim);
  const Wk = rng.normalArray(Dk * dim);
  const Wv = rng.normalArray(Dk * dim);
  const Wo = rng.normalArray(dim * Dout);
  const g = new GraphBuilder('attn');
  const x = g.input('x', 'float32', ['b', 'lq', Dq]);
  const ctx = g.input('ctx', 'float32', ['b', 'lk', Dk]);
  const y = g.attention(
    x,
    ctx,
    {
      q: g.initializer('Wq', Wq, [Dq, dim]),
      k: g.initializer('Wk', Wk, [Dk, dim]),
      v: g.initializer('Wv', Wv, [Dk, dim]),
      o: g.initializer('Wo', Wo, [dim, Dout]),
    },
    heads,
    dim,
  );
  g.output('y', 'float32', ['b', 'lq', Dout], y);
  const xs = rng.normalArray(B * Lq * Dq);
  const cs = rng.normalArray(B * Lk * Dk);
  const out = await run(g.build(), {
    x: new ort.Tensor('float32', xs, [B, Lq, Dq]),
    ctx: new ort.Tensor('float32', cs, [B, Lk, Dk]),
  });

  const hd = dim / heads;
  const expected = new Float32Array(B * Lq * Dout);
  for (let bi = 0; bi < B; bi++) {
    const q = matmul(xs.subarray(bi * Lq * Dq, (bi + 1) * Lq * Dq), Wq, Lq, Dq, dim);
    const k = matmul(cs.subarray(bi * Lk * Dk, (bi + 1) * Lk * Dk), Wk, Lk, Dk, dim);
    const v = matmul(cs.subarray(bi * Lk * Dk, (bi + 1) * Lk * Dk), Wv, Lk, Dk, dim);
    const merged = new Float32Array(Lq * dim);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < Lq; i++) {
        const s = Array.from({ length: Lk }, (_, j) => {
          let dot = 0;
          for (let t = 0; t < hd; t++) dot += q[i * dim + h * hd + t] * k[j * dim + h * hd + t];
          return dot / Math.sqrt(hd);
        });
        const mx = Math.max(...s);
        const e = s.map((v) => Math.exp(v - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t < hd; t++) {
          let acc = 0;
          for (let j = 0; j < Lk; j++) acc += (e[j] / z) * v[j * dim + h * hd + t];
          merged[i * dim + h * hd + t] = acc;
        }
      }
    expected.set(matmul(merged, Wo, Lq, dim, Dout), bi * Lq * Dout);
  }
  assert.deepEqual(out.y.dims, [B, Lq, Dout]);
  close(out.y.data as Float32Array, expected, 1e-4);
});

test('int inputs, Gather, multi-output nodes, float and tensor attributes', async () => {
  const g = new GraphBuilder('misc');
  const ids = g.input('ids', 'int64', ['n']);
  const table = g.initializer('table', Float32Array.from([10, 20, 30, 40]), [4]);
  const picked = g.node('Gather', [table, ids]);
  const [lo, hi] = g.node('Split', [picked, g.ints([1, 1])], { axis: 0 }, 2);
  const scaled = g.node('Mul', [hi, g.node('Constant', [], { value: tensorAttr(Float32Array.of(3), []) })]);
  const act = g.node('LeakyRelu', [g.node('Sub', [lo, scaled])], { alpha: floatAttr(1) });
  g.output('out', 'float32', [1], act);
  const i32 = g.input('i', 'int32', [2]);
  g.output('i2', 'int32', [2], g.node('Add', [i32, g.constant(Int32Array.of(1, 2), [2])]));
  const out = await run(g.build(), {
    ids: new ort.Tensor('int64', BigInt64Array.of(3n, 1n), [2]),
    i: new ort.Tensor('int32', Int32Array.of(5, 6), [2]),
  });
  // LeakyRelu with alpha 1 (a FLOAT attribute even though integral) is the identity.
  assert.deepEqual([...(out.out.data as Float32Array)], [40 - 3 * 20]);
  assert.deepEqual([...(out.i2.data as Int32Array)], [6, 8]);
});

test('builder rejects reused names and mismatched initializer sizes', () => {
  const g = new GraphBuilder('bad');
  g.input('x', 'float32', [1]);
  assert.throws(() => g.initializer('x', Float32Array.of(1), [1]), /"x" is already used/);
  assert.throws(() => g.initializer('w', Float32Array.of(1, 2), [3]), /hold 3 values, data has 2/);
});

/** erf by its Maclaurin series: JS has no Math.erf, and the series is exact enough for |x| <= 5. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a > 5) return s;
  let term = a;
  let sum = a;
  for (let n = 1; n < 200; n++) {
    term *= (-a * a) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-16) break;
  }
  return (s * 2 * sum) / Math.sqrt(Math.PI);
}
