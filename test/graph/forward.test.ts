/** Forward values of the layer library against direct JS computations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildOnnx } from '../../src/graph/build.js';
import { Graph } from '../../src/graph/graph.js';
import { attention, gelu, layerNorm, linear } from '../../src/graph/layers.js';
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

test('linear, layerNorm and gelu traced with a symbolic batch match a JS computation', async () => {
  const rng = new Rng(1);
  const [n, din, dout] = [3, 4, 5];
  const W = rng.normalArray(din * dout);
  const b = rng.normalArray(dout);
  const gamma = rng.normalArray(dout);
  const beta = rng.normalArray(dout);
  const g = new Graph('mlp');
  const x = g.input('x', 'float32', ['n', din]);
  const y = gelu(layerNorm(g, 'ln', linear(g, 'l', x, dout)));
  const weights = new Map([
    ['l.w', { shape: [din, dout], data: W }],
    ['l.b', { shape: [dout], data: b }],
    ['ln.scale', { shape: [dout], data: gamma }],
    ['ln.bias', { shape: [dout], data: beta }],
  ]);

  const xs = rng.normalArray(n * din);
  const session = await ort.InferenceSession.create(buildOnnx(g, { outputs: { y }, weights }));
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
  // The layer keeps the query width: Dq = dim = Dout.
  const [B, Lq, Lk, Dk, dim, heads] = [2, 3, 5, 4, 8, 2];
  const [Dq, Dout] = [dim, dim];
  const Wq = rng.normalArray(Dq * dim);
  const Wk = rng.normalArray(Dk * dim);
  const Wv = rng.normalArray(Dk * dim);
  const Wo = rng.normalArray(dim * Dout);
  const g = new Graph('attn');
  const x = g.input('x', 'float32', ['b', 'lq', Dq]);
  const ctx = g.input('ctx', 'float32', ['b', 'lk', Dk]);
  const y = attention(g, 'a', x, ctx, heads);
  const weights = new Map([
    ['a.q', { shape: [Dq, dim], data: Wq }],
    ['a.k', { shape: [Dk, dim], data: Wk }],
    ['a.v', { shape: [Dk, dim], data: Wv }],
    ['a.o', { shape: [dim, Dout], data: Wo }],
    ['a.oBias', { shape: [Dout], data: new Float32Array(Dout) }],
  ]);
  const xs = rng.normalArray(B * Lq * Dq);
  const cs = rng.normalArray(B * Lk * Dk);
  const out = await run(buildOnnx(g, { outputs: { y }, weights }), {
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
