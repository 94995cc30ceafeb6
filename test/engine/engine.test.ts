import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  adamw,
  conv3x3,
  decodeSafetensors,
  encodeSafetensors,
  fromHost,
  gelu,
  initEngine,
  jit,
  np,
  type ParamTree,
  type Tensor,
  toHost,
  tree,
  valueAndGrad,
  zerosLike,
} from '../../src/engine/index.js';

test('safetensors round-trips names, shapes and values, with an 8-byte aligned header', () => {
  const tensors = new Map([
    ['a.w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['b', { shape: [1], data: Float32Array.of(-0.5) }],
  ]);
  const bytes = encodeSafetensors(tensors, { step: '7' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.equal(back.metadata.step, '7');
  assert.deepEqual([...back.tensors.keys()], ['a.w', 'b']);
  assert.deepEqual(back.tensors.get('a.w')?.shape, [2, 3]);
  assert.deepEqual([...(back.tensors.get('a.w')?.data ?? [])], [1, 2, 3, 4, 5, 6]);
});

test('parameter trees go to the host and back by dotted name', async () => {
  await initEngine();
  const params = { layers: [{ w: np.array([1, 2]) }], b: np.array([3]) };
  const host = toHost(params);
  assert.deepEqual([...host.keys()], ['layers.0.w', 'b']);
  const back = fromHost(params, host) as typeof params;
  assert.deepEqual([...(back.layers[0].w.dataSync() as Float32Array)], [1, 2]);
  assert.throws(() => fromHost({ c: np.array([1]) }, host), /no tensor "c"/);
});

test('jitted AdamW steps minimise a quadratic', async () => {
  await initEngine();
  const loss = (p: { x: Tensor }) => np.square(p.x.sub(3)).sum();
  const step = jit((p: ParamTree, m: ParamTree, v: ParamTree, lr: Tensor, k: Tensor) => {
    const [, g] = valueAndGrad(loss)(tree.ref(p) as { x: Tensor });
    const next = adamw({ beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 }, p, g, { m, v }, lr, k);
    return { p: next.params, m: next.state.m, v: next.state.v };
  });
  let state: { p: ParamTree; m: ParamTree; v: ParamTree } = { p: { x: np.zeros([4]) }, m: {}, v: {} };
  state = { ...state, m: zerosLike(state.p), v: zerosLike(state.p) };
  for (let k = 1; k <= 300; k++) state = step(state.p, state.m, state.v, np.array(0.05), np.array(k));
  const x = (state.p as { x: Tensor }).x.dataSync() as Float32Array;
  assert.ok(
    [...x].every((v) => Math.abs(v - 3) < 0.05),
    `x = ${[...x]}`,
  );
});

/** erf by its Maclaurin series (exact to double precision for |x| <= 3). */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

test('gelu is 0.5·x·(1 + erf(x/√2)) and its gradient is the analytic one', async () => {
  await initEngine();
  const xs = Float32Array.from({ length: 81 }, (_, i) => (i - 40) / 10);
  const values = (await gelu(np.array(xs)).data()) as Float32Array;
  const grads = (await valueAndGrad((x: Tensor) => gelu(x).sum())(np.array(xs))[1].data()) as Float32Array;
  xs.forEach((x, i) => {
    const phi = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const cdf = 0.5 * (1 + erfSeries(x / Math.SQRT2));
    assert.ok(Math.abs(values[i] - x * cdf) < 1e-6, `gelu(${x}) = ${values[i]}, expected ${x * cdf}`);
    assert.ok(Math.abs(grads[i] - (cdf + x * phi)) < 1e-5, `gelu'(${x}) = ${grads[i]}`);
  });
});

test('conv3x3 is a zero-padded 3x3 convolution of an NHWC map', async () => {
  await initEngine();
  const [b, h, w, cin, cout] = [2, 5, 4, 3, 2];
  const x = Float32Array.from({ length: b * h * w * cin }, (_, i) => Math.sin(i));
  const k = Float32Array.from({ length: 9 * cin * cout }, (_, i) => Math.cos(i));
  const y = (await conv3x3(
    np.array(x).reshape([b, h, w, cin]),
    np.array(k).reshape([9 * cin, cout]),
  ).data()) as Float32Array;
  for (let n = 0; n < b; n++)
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++)
        for (let o = 0; o < cout; o++) {
          let sum = 0;
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++) {
              const [rr, cc] = [r + dy - 1, c + dx - 1];
              if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
              for (let i = 0; i < cin; i++)
                sum += x[((n * h + rr) * w + cc) * cin + i] * k[((dy * 3 + dx) * cin + i) * cout + o];
            }
          const got = y[((n * h + r) * w + c) * cout + o];
          assert.ok(Math.abs(got - sum) < 1e-4, `y[${n},${r},${c},${o}] = ${got}, expected ${sum}`);
        }
});
