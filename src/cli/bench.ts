import type { Command } from 'commander';
import { z } from 'zod';
import { measureOverhead } from '../bench/overhead.js';
import { DEFAULT_MODEL_DIR } from '../paths.js';
import { Text2ImagePipeline } from '../pipelines/text2img.js';
import { intFlag, parseFlags } from './errors.js';

const BenchFlags = z.object({ model: z.string().min(1), steps: intFlag(1, 1000), repeats: intFlag(1, 1000) });

export function registerBench(program: Command) {
  program
    .command('bench')
    .description("measure the pipeline's overhead over its raw ONNX Runtime calls")
    .option('--model <dir>', 'model folder (default: the embedded shapes model)', DEFAULT_MODEL_DIR)
    .option('--steps <n>', 'denoising steps per image', '50')
    .option('--repeats <n>', 'timed repetitions (median reported)', '5')
    .action(async (raw) => {
      const flags = parseFlags(BenchFlags, raw);
      const pipe = await Text2ImagePipeline.load(flags.model);
      const r = await measureOverhead(pipe, flags.steps, flags.repeats);
      await pipe.model.release();
      console.log(JSON.stringify({ model: flags.model, ...r }, null, 2));
      console.log(
        `pipeline ${r.pipelineMs.toFixed(1)} ms vs raw ONNX ${r.rawOnnxMs.toFixed(1)} ms for ${r.steps} steps: ` +
          `overhead ${(100 * r.overhead).toFixed(1)}%`,
      );
    });
}
