import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIFFERENTIABLE_OPS, gradients } from '../../src/graph/autodiff.js';
import { Graph } from '../../src/graph/graph.js';
import { awayFromZero, gradCheck } from './gradcheck.js';

const p = (g: Graph, name: string, shape: number[]) => g.param(name, shape, { kind: 'zeros' });
const covered = new Set<string>();
const check = (
  ops: string[],
  label: string,
  build: Parameters<typeof gradCheck>[1],
  opts?: Parameters<typeof gradCheck>[2],
) =>
  test(`gradient of ${label} matches finite differences`, async () => {
    await gradCheck(label, build, opts);
    for (const op of ops) covered.add(op);
  });

check(['Add'], 'Add with broadcasting', (g) => p(g, 'a', [2, 3, 4]).add(p(g, 'b', [3, 1])));
check(['Sub'], 'Sub with broadcasting', (g) => p(g, 'a', [4]).sub(p(g, 'b', [2, 3, 4])));
check(['Mul'], 'Mul with broadcasting', (g) => p(g, 'a', [2, 1, 4]).mul(p(g, 'b', [3, 1])));
check(['Div'], 'Div with broadcasting', (g) => p(g, 'a', [2, 3]).div(p(g, 'b', [3])), {
  values: { b: awayFromZero(3, 2) },
});
check(['Max'], 'Max (elementwise)', (g) => p(g, 'a', [3, 4]).max(p(g, 'b', [4])));
check(['Neg', 'Exp'], 'Neg and Exp', (g) => p(g, 'x', [2, 5]).neg().exp());
check(
  ['Log', 'Sqrt'],
  'Log and Sqrt',
  (g) =>
    p(g, 'x', [2, 5])
      .log()
      .add(p(g, 'y', [5]).sqrt()),
  {
    values: { x: awayFromZero(10, 3, 0.5, true), y: awayFromZero(5, 4, 0.5, true) },
  },
);
check(['Erf', 'Tanh', 'Sigmoid'], 'Erf, Tanh and Sigmoid', (g) => {
  const x = p(g, 'x', [3, 4]);
  return x.erf().add(x.tanh()).mul(x.sigmoid());
});
check(['Relu'], 'Relu', (g) => p(g, 'x', [3, 4]).relu(), { values: { x: awayFromZero(12, 5) } });
check(['Where'], 'Where (a mask)', (g) => {
  const x = p(g, 'x', [2, 4]);
  const mask = g.compare('Greater', g.constant(Float32Array.of(1, -1, 1, -1), [4]), 0);
  return g.where(mask, x, p(g, 'y', [2, 1]).mul(3));
});
check(['MatMul'], 'MatMul, batched and broadcast', (g) =>
  p(g, 'a', [2, 3, 4])
    .matmul(p(g, 'b', [4, 5]))
    .add(p(g, 'c', [2, 1, 3, 4]).matmul(p(g, 'd', [2, 4, 5]))),
);
check(['Gemm'], 'Gemm with transposes', (g) =>
  g.gemm(p(g, 'a', [4, 3]), p(g, 'b', [5, 4]), true, true).add(g.gemm(p(g, 'c', [3, 2]), p(g, 'd', [2, 5]))),
);
check(['Softmax'], 'Softmax on two axes', (g) => {
  const x = p(g, 'x', [2, 3, 4]);
  return x.softmax(-1).add(x.softmax(1));
});
check(['LayerNormalization'], 'LayerNormalization', (g) => {
  const x = p(g, 'x', [2, 3, 6]);
  return g.layerNorm(x, p(g, 'scale', [6]), p(g, 'bias', [6]));
});
check(['Conv'], 'Conv 3x3 (pads 1) widening and narrowing, and 1x1, with bias', (g) => {
  const x = p(g, 'x', [2, 3, 5, 5]);
  const wide = g.conv(x, p(g, 'w', [4, 3, 3, 3]), p(g, 'b', [4]), { pads: [1, 1, 1, 1] });
  const narrow = g.conv(wide, p(g, 'w2', [2, 4, 3, 3]), null, { pads: [1, 1, 1, 1] });
  return g.conv(narrow, p(g, 'w1', [2, 2, 1, 1]), null);
});
check(['DepthToSpace', 'SpaceToDepth'], 'pixel shuffle and unshuffle', (g) => {
  const shuffled = g.depthToSpace(p(g, 'x', [1, 8, 2, 2]), 2);
  return g.spaceToDepth(shuffled.mul(p(g, 'y', [1, 2, 4, 4])), 2);
});
check(['Gather'], 'Gather (an embedding, repeated ids)', (g) => {
  const ids = g.constant(BigInt64Array.of(0n, 2n, 2n, 4n, 1n, 0n), [2, 3]);
  return g.gather(p(g, 'table', [5, 3]), ids);
});
check(['Reshape', 'Transpose', 'Unsqueeze'], 'Reshape, Transpose and Unsqueeze', (g) =>
  p(g, 'x', [2, 3, 4])
    .reshape([6, 4])
    .transpose([1, 0])
    .unsqueeze([0])
    .mul(p(g, 'y', [3, 4, 1])),
);
check(['Slice', 'Concat', 'Pad'], 'Slice, Concat and Pad', (g) => {
  const x = p(g, 'x', [2, 5, 3]);
  const joined = g.concat([x.slice(1, 1, 4), p(g, 'y', [2, 2, 3]), x.slice(1, 0, 1)], 1);
  return g.pad(joined, [0, 1, 2, 1, 0, 1]);
});
check(['ReduceSum', 'ReduceMean', 'ReduceMax', 'Expand'], 'ReduceSum, ReduceMean and ReduceMax', (g) => {
  const x = p(g, 'x', [2, 3, 4]);
  const s = x.sum([1], true).mul(x.mean([0, 2], false).reshape([1, 3, 1]));
  return g.expandAs(s, x).add(x.reduceMax([2], false).reshape([2, 3, 1]));
});
check(['Identity', 'Cast'], 'Identity and a float Cast', (g) => {
  const x = p(g, 'x', [3]);
  return g.op('Identity', [x], {}, [x.shape], ['float32'])[0].cast('float32').mul(x);
});

test('a stopped gradient does not flow, and a loss that ignores a parameter gives it zeros', () => {
  const g = new Graph('stop');
  const x = p(g, 'x', [3]);
  const unused = p(g, 'u', [2]);
  const loss = g.stopGradient(x.mul(2)).mul(x).sum([0]);
  const [dx, du] = gradients(loss, [x, unused]);
  assert.equal(
    g.nodes.find((n) => n.outputs.includes(dx))?.op,
    'Mul',
    'd/dx is the stopped factor times the seed, not 2x + 2x',
  );
  assert.equal(g.constants.has(du.name), true);
});

test('every op with a gradient rule is covered by a finite-difference check above', () => {
  const missing = DIFFERENTIABLE_OPS.filter((op) => !covered.has(op));
  assert.deepEqual(missing, []);
});
