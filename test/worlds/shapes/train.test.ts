import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { initWeights } from '../../../src/graph/params.js';
import { Rng } from '../../../src/util/random.js';
import * as world from '../../../src/worlds/shapes/index.js';
import { encodeLatentCache, type LatentCache, loadLatentCache } from '../../../src/worlds/shapes/latents.js';
import { modelSpecs } from '../../../src/worlds/shapes/model.js';
import { loadCheckpoint, type TrainOptions, train as trainOn } from '../../../src/worlds/shapes/train.js';
import { trainAutoencoder } from '../../../src/worlds/shapes/train-autoencoder.js';
import { runCli } from '../../cli/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'adadiff-world-train-'));
after(() => rmSync(root, { recursive: true, force: true }));
const quiet = () => {};
const latentDir = join(root, 'latents');
let cache: LatentCache;
const train = (w: typeof world, opts: TrainOptions) => trainOn(w, cache, opts);

test('world training is seeded, and a resumed run continues exactly', { timeout: 300_000 }, async () => {
  // An untrained autoencoder encodes a small cache: the denoiser's training does not care.
  await trainAutoencoder({ out: join(root, 'ae'), seed: 1, minutes: 10, steps: 0, log: quiet });
  await encodeLatentCache({ autoencoder: join(root, 'ae'), count: 40, out: latentDir });
  cache = await loadLatentCache(latentDir);
  const whole = join(root, 'whole');
  const split = join(root, 'split');
  await train(world, { out: whole, seed: 3, minutes: 10, steps: 2, log: quiet });
  await train(world, { out: split, seed: 3, minutes: 10, steps: 1, log: quiet });
  await train(world, { out: split, seed: 3, minutes: 10, steps: 2, resume: true, log: quiet });
  const a = loadCheckpoint(whole);
  const b = loadCheckpoint(split);
  assert.equal(a.step, 2);
  assert.equal(b.step, 2);
  assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()]);
  for (const [name, t] of a.tensors) {
    assert.deepEqual(b.tensors.get(name)!.data, t.data, `${name} differs`);
  }
  // The command line trains the same weights (one ONNX Runtime thread: a different thread count
  // may split reductions differently).
  const single = join(root, 'single');
  await train(world, { out: single, seed: 3, minutes: 10, steps: 2, threads: 1, log: quiet });
  const args = [
    'world',
    'train',
    '--latents',
    latentDir,
    '--out',
    join(root, 'cli'),
    '--seed',
    '3',
    '--steps',
    '2',
    '--minutes',
    '10',
    '--threads',
    '1',
  ];
  const run = runCli(args, { timeout: 240_000 });
  assert.equal(run.code, 0, run.stderr);
  const fromCli = loadCheckpoint(join(root, 'cli')).tensors;
  for (const [name, t] of loadCheckpoint(single).tensors) {
    assert.deepEqual(fromCli.get(name)!.data, t.data, `${name} differs from the command line's`);
  }
  // Training moved the weights away from their initial values.
  const init = initWeights(modelSpecs(a.run.model), new Rng(3)).get('unet.convIn.w')!.data;
  assert.notDeepEqual(a.tensors.get('params.unet.convIn.w')!.data, init);
});
