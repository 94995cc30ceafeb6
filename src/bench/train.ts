/**
 * `adadiff bench train`: what one training step of the shipped shapes model costs next to its
 * forward pass, both on ONNX Runtime in the same process, on the same batch. The step is the
 * trainer's own (trainStep: gradient session, clipping, AdamW, EMA), the forward the exported text
 * encoder and UNet as the pipeline runs them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { buildOnnx, onnxWeights } from '../graph/build.js';
import type { ParamSpec } from '../graph/graph.js';
import { sizeOf } from '../graph/graph.js';
import { checkWeights, type HostTensor } from '../graph/params.js';
import { GradientSession, openSession, type SessionOptions } from '../graph/session.js';
import { freshState, trainStep } from '../graph/trainer.js';
import { readJson } from '../models/json-file.js';
import { Rng } from '../util/random.js';
import { MODEL_CONFIG, textEncoderGraph, trainingGraph, unetGraph } from '../worlds/shapes/model.js';
import {
  batchFeeds,
  makeBatch,
  makeTokenizer,
  TRAIN_CONFIG,
  type WorldSource,
} from '../worlds/shapes/train.js';
import { median } from './overhead.js';

export interface TrainBenchReport {
  readonly batch: number;
  readonly steps: number;
  /** Median ms of one training step. */
  readonly trainMs: number;
  /** Median ms of the forward pass (text encoder + UNet) on the same batch. */
  readonly forwardMs: number;
  readonly ratio: number;
  readonly imagesPerSecond: number;
}

async function timeOnce(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** The model folder's weights: the initializers of its text encoder and UNet, under the trainer's names. */
function folderWeights(dir: string, specs: readonly ParamSpec[]): Map<string, HostTensor> {
  const all = new Map([
    ...onnxWeights(readFileSync(join(dir, 'text_encoder', 'model.onnx'))),
    ...onnxWeights(readFileSync(join(dir, 'unet', 'model.onnx'))),
  ]);
  checkWeights(specs, all, dir);
  return new Map(specs.map((s) => [s.name, all.get(s.name) as HostTensor]));
}

export async function benchTrain(
  world: WorldSource,
  modelDir: string,
  opts: { steps: number } & SessionOptions,
): Promise<TrainBenchReport> {
  const { model: cfg } = await readJson(join(modelDir, 'config.json'), z.object({ model: MODEL_CONFIG }));
  const b = TRAIN_CONFIG.batchSize;
  const { graph, loss } = trainingGraph(cfg, b);
  const params = folderWeights(modelDir, graph.paramSpecs());
  // The step's cost does not depend on the latents' values: random ones stand in for the cache.
  const shape = [cfg.channels, cfg.imageSize, cfg.imageSize] as const;
  const latents = { count: b, shape, scalingFactor: 1, data: new Rng(0).normalArray(b * sizeOf(shape)) };
  const feeds = batchFeeds(cfg, makeBatch(world, makeTokenizer(world), latents, 0, 0));
  const sessionOpts: SessionOptions = { threads: opts.threads, provider: opts.provider };

  const text = textEncoderGraph(cfg);
  const unet = unetGraph(cfg);
  const textSession = await openSession(
    buildOnnx(text.graph, { outputs: { last_hidden_state: text.output }, weights: params }),
    sessionOpts,
  );
  const unetSession = await openSession(
    buildOnnx(unet.graph, { outputs: { out_sample: unet.output }, weights: params }),
    sessionOpts,
  );
  const forward = async () => {
    const { last_hidden_state } = await textSession.run({ input_ids: feeds.input_ids });
    await unetSession.run({
      sample: feeds.noisy,
      timestep: feeds.timestep,
      encoder_hidden_states: last_hidden_state,
    });
  };

  const session = await GradientSession.create(graph, loss, sessionOpts);
  const state = freshState(TRAIN_CONFIG, params, null);
  const step = () => trainStep(TRAIN_CONFIG, session, state, feeds);
  // Interleaved, so both see the same machine: a shared host's speed drifts over seconds.
  const forwardTimes: number[] = [];
  const trainTimes: number[] = [];
  for (let i = -2; i < opts.steps; i++) {
    const f = await timeOnce(forward);
    const t = await timeOnce(step);
    if (i >= 0) {
      forwardTimes.push(f);
      trainTimes.push(t);
    }
  }
  const [forwardMs, trainMs] = [median(forwardTimes), median(trainTimes)];
  await Promise.all([textSession.release(), unetSession.release(), session.release()]);
  return {
    batch: b,
    steps: opts.steps,
    trainMs,
    forwardMs,
    ratio: trainMs / forwardMs,
    imagesPerSecond: (1000 * b) / trainMs,
  };
}
