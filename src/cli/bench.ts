import type { Command } from 'commander';
import { z } from 'zod';
import { measureOverhead } from '../bench/overhead.js';
import { benchTrain } from '../bench/train.js';
import { Text2ImagePipeline } from '../pipelines/text2img.js';
import * as shapes from '../worlds/shapes/index.js';
import { intFlag, parseFlags } from './errors.js';
import { loadingSaysWhat, modelOption } from './options.js';

const BenchFlags = z.object({ model: z.string().min(1), steps: intFlag(1, 1000), repeats: intFlag(1, 1000) });
const TrainBenchFlags = z.object({
  model: z.string().min(1),
  steps: intFlag(1, 1000),
  threads: intFlag(1, 256).optional(),
  provider: z.enum(['cpu', 'cuda', 'webgpu']),
});

export function registerBench(program: Command) {
  const bench = program
    .command('bench')
    .enablePositionalOptions()
    .description("measure the pipeline's overhead over its raw ONNX Runtime calls")
    .addOption(modelOption())
    .option('--steps <n>', 'denoising steps per image', '50')
    .option('--repeats <n>', 'timed repetitions (median reported)', '5')
    .action(async (raw) => {
      const flags = parseFlags(BenchFlags, raw);
      const pipe = await Text2ImagePipeline.load(flags.model, loadingSaysWhat);
      const r = await measureOverhead(pipe, flags.steps, flags.repeats);
      await pipe.model.release();
      console.log(JSON.stringify({ model: flags.model, ...r }, null, 2));
      console.log(
        `pipeline ${r.pipelineMs.toFixed(1)} ms vs raw ONNX ${r.rawOnnxMs.toFixed(1)} ms for ${r.steps} steps: ` +
          `overhead ${(100 * r.overhead).toFixed(1)}%`,
      );
    });
  bench
    .command('train')
    .description(
      'time training steps of the embedded shapes model against its forward pass on the same batch',
    )
    .addOption(modelOption('shapes model folder whose weights start the steps'))
    .option('--steps <n>', 'timed steps (median reported)', '12')
    .option('--threads <n>', 'ONNX Runtime threads (default: one per core)')
    .option('--provider <name>', 'execution provider: cpu, cuda or webgpu', 'cpu')
    .action(async (raw) => {
      const flags = parseFlags(TrainBenchFlags, raw);
      const r = await benchTrain(shapes, flags.model, flags);
      console.log(JSON.stringify(r, null, 2));
      console.log(
        `train/forward = ${r.ratio.toFixed(2)} (${r.imagesPerSecond.toFixed(1)} images/s at batch ${r.batch})`,
      );
    });
}
