import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatAttr, GraphBuilder, tensorAttr } from '../../src/models/onnx-graph.js';

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(bytes);
  return session.run(feeds);
}

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
