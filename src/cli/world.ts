import type { Command } from 'commander';
import { z } from 'zod';
import { exportCheckpoint } from '../worlds/shapes/export.js';
import * as shapes from '../worlds/shapes/index.js';
import { train } from '../worlds/shapes/train.js';
import { intFlag, numberFlag, parseFlags } from './errors.js';

const TrainFlags = z.object({
  out: z.string().min(1),
  minutes: numberFlag.pipe(z.number().positive('expected more than 0 minutes')),
  seed: intFlag(0, 2 ** 32 - 1),
  steps: intFlag(1).optional(),
  resume: z.boolean(),
  threads: intFlag(1, 256).optional(),
  provider: z.enum(['cpu', 'cuda', 'webgpu']),
});

const ExportFlags = z.object({ checkpoint: z.string().min(1), out: z.string().min(1) });

/** `world train` and `world export`: train the embedded shapes model and ship it as ONNX. */
export function registerWorldCommands(program: Command) {
  const world = program.command('world').description('the embedded shapes world and its text-to-image model');
  world
    .command('train')
    .description(
      'train the shapes text-to-image model on scenes rendered on the fly (checkpoints into --out)',
    )
    .requiredOption('--out <dir>', 'checkpoint directory')
    .option('--minutes <m>', 'wall-clock budget; the step count is planned from the measured speed', '60')
    .option('--steps <n>', 'fixed number of steps (reproduces a run exactly; the budget still caps it)')
    .option('--seed <n>', 'seed for initialisation and data', '0')
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--threads <n>', 'ONNX Runtime threads (default: one per core)')
    .option('--provider <name>', 'execution provider: cpu, cuda or webgpu', 'cpu')
    .action(async (raw) => {
      const flags = parseFlags(TrainFlags, raw);
      await train(shapes, flags);
    });
  world
    .command('export')
    .description('export a checkpoint (EMA weights) as a diffusers/Optimum ONNX model folder')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory written by `world train`')
    .option('--out <dir>', 'model folder', 'models/shapes')
    .action((raw) => {
      const flags = parseFlags(ExportFlags, raw);
      const step = exportCheckpoint(flags.checkpoint, flags.out);
      console.log(`exported step ${step} of ${flags.checkpoint} to ${flags.out}`);
    });
}
