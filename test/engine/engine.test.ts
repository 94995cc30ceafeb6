import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  adamw,
  decodeSafetensors,
  encodeSafetensors,
  fromHost,
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
