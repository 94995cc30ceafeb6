import { test } from 'node:test';
import type { Graph } from '../../src/graph/graph.js';
import {
  attention,
  conv3x3,
  gelu,
  groupNorm,
  paddingBias,
  resBlock,
  silu,
  transformerBlock,
} from '../../src/graph/layers.js';
import { encodeText, type ModelConfig, predictVelocity } from '../../src/worlds/shapes/model.js';
import { gradCheck } from './gradcheck.js';

const input = (g: Graph, name: string, shape: number[]) => g.param(name, shape, { kind: 'zeros' });

test('GELU and SiLU (hand-written gradients) match finite differences', async () => {
  await gradCheck('gelu', (g) => gelu(input(g, 'x', [3, 7]).mul(2)));
  await gradCheck('silu', (g) => silu(input(g, 'x', [3, 7]).mul(2)));
});

test('conv3x3 on NHWC (hand-written gradient, both dW forms) matches finite differences', async () => {
  await gradCheck('conv3x3 widening', (g) => conv3x3(g, 'c', input(g, 'x', [2, 5, 4, 3]), 4), { scale: 0.5 });
  await gradCheck('conv3x3 narrowing', (g) => conv3x3(g, 'c', input(g, 'x', [2, 4, 5, 6]), 2), {
    scale: 0.5,
  });
});

test('group norm, masked attention and a transformer block with cross-attention match finite differences', async () => {
  await gradCheck('groupNorm', (g) => groupNorm(g, 'gn', input(g, 'x', [2, 4, 3, 3]), 2));
  await gradCheck(
    'attention',
    (g) => {
      const keep = g.constant(Float32Array.of(1, 1, 1, 0, 1, 1, 0, 0), [2, 4]);
      const x = input(g, 'x', [2, 4, 8]);
      return attention(g, 'a', x, x, 2, paddingBias(keep));
    },
    { scale: 0.5 },
  );
  await gradCheck(
    'transformerBlock',
    (g) =>
      transformerBlock(g, 'b', input(g, 'x', [2, 3, 8]), {
        heads: 2,
        mlpRatio: 2,
        context: input(g, 'c', [2, 5, 6]),
      }),
    { scale: 0.5 },
  );
});

test('a residual conv block with a timestep embedding matches finite differences', async () => {
  await gradCheck(
    'resBlock',
    (g) => resBlock(g, 'r', input(g, 'x', [2, 4, 4, 3]), input(g, 't', [2, 5]), 4),
    {
      scale: 0.5,
    },
  );
});

test('the gradient of a whole small text encoder + UNet matches finite differences', async () => {
  const cfg: ModelConfig = {
    vocabSize: 9,
    maxTokens: 6,
    textDim: 8,
    textLayers: 1,
    textHeads: 2,
    imageSize: 8,
    channels: 3,
    widths: [4, 8, 8],
    midBlocks: 1,
    heads: 2,
    mlpRatio: 2,
    timeFreqDim: 8,
    timeDim: 8,
  };
  await gradCheck(
    'unet',
    (g) => {
      const ids = g.constant(BigInt64Array.of(1n, 5n, 7n, 2n, 0n, 0n, 1n, 4n, 2n, 0n, 0n, 0n), [2, 6]);
      const sample = g.constant(
        Float32Array.from({ length: 2 * 3 * 64 }, (_, i) => Math.sin(i)),
        [2, 3, 8, 8],
      );
      const t = g.constant(BigInt64Array.of(10n, 700n), [2]);
      return predictVelocity(g, cfg, sample, t, encodeText(g, cfg, ids));
    },
    { scale: 0.3, coords: 3, eps: 3e-3, tolerance: 2e-2 },
  );
});
