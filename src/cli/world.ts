import type { Command } from 'commander';
import { z } from 'zod';
import { checkRunOut, emaWeights, loadCheckpointDir } from '../graph/trainer.js';
import { curveEvaluation } from '../worlds/shapes/curve.js';
import { exportCheckpoint } from '../worlds/shapes/export.js';
import * as shapes from '../worlds/shapes/index.js';
import { encodeLatentCache, loadLatentCache } from '../worlds/shapes/latents.js';
import { ARCHITECTURES, type Architecture, train } from '../worlds/shapes/train.js';
import {
  type AutoencoderRun,
  measureReconstruction,
  trainAutoencoder,
} from '../worlds/shapes/train-autoencoder.js';
import { intFlag, numberFlag, parseFlags, seedFlag } from './errors.js';
import { checkFreshFolder } from './outputs.js';

const TrainFlags = z.object({
  out: z.string().min(1),
  minutes: numberFlag.pipe(z.number().positive('expected more than 0 minutes')),
  seed: seedFlag,
  steps: intFlag(1).optional(),
  resume: z.boolean(),
  force: z.boolean(),
  threads: intFlag(1, 256).optional(),
  provider: z.enum(['cpu', 'cuda', 'webgpu']),
});

const LatentTrainFlags = TrainFlags.extend({
  latents: z.string().min(1),
  architecture: z.enum(Object.keys(ARCHITECTURES) as [Architecture, ...Architecture[]]),
  curveEvery: intFlag(1).optional(),
  curvePrompts: intFlag(1),
});

const AutoencoderFlags = TrainFlags.extend({ detailWeight: numberFlag.pipe(z.number().min(0)) });

const EncodeFlags = z.object({
  autoencoder: z.string().min(1),
  count: intFlag(1),
  out: z.string().min(1),
  threads: intFlag(1, 256).optional(),
  force: z.boolean(),
});

const MeasureFlags = z.object({
  checkpoint: z.string().min(1),
  images: intFlag(1),
  threads: intFlag(1, 256).optional(),
});

const ExportFlags = z.object({ checkpoint: z.string().min(1), out: z.string().min(1), force: z.boolean() });

/** A checkpointed training command with the flags every run has (RunOptions). */
function runCommand(parent: Command, name: string): Command {
  return parent
    .command(name)
    .requiredOption('--out <dir>', 'checkpoint directory')
    .option('--minutes <m>', 'wall-clock budget; the step count is planned from the measured speed', '60')
    .option('--steps <n>', 'fixed number of steps (reproduces a run exactly; the budget still caps it)')
    .option('--seed <n>', 'seed for initialisation and data', '0')
    .option('--resume', 'continue from the checkpoint in --out (or start one there)', false)
    .option('--force', 'replace a checkpoint already in --out', false)
    .option('--threads <n>', 'ONNX Runtime threads (default: one per core)')
    .option('--provider <name>', 'execution provider: cpu, cuda or webgpu', 'cpu');
}

/** `world train`, `train-autoencoder`, `encode-latents`, `measure-autoencoder` and `export`: train the embedded shapes model and ship it as ONNX. */
export function registerWorldCommands(program: Command) {
  const world = program.command('world').description('the embedded shapes world and its text-to-image model');
  runCommand(world, 'train')
    .description(
      'train the shapes text encoder and latent denoiser on a latent cache (checkpoints into --out)',
    )
    .requiredOption('--latents <dir>', 'latent cache written by `world encode-latents`')
    .option('--architecture <name>', `denoiser layout: ${Object.keys(ARCHITECTURES).join(' or ')}`, 'unet')
    .option(
      '--curve-every <steps>',
      'add a training-curve point (judge at 10 and 50 steps) every so many steps',
    )
    .option('--curve-prompts <n>', 'held-out prompts per object-count bucket on the curve', '30')
    .action(async (raw) => {
      const flags = parseFlags(LatentTrainFlags, raw);
      checkRunOut(flags.out, flags.resume, flags.force);
      const log = (line: string) => console.log(line);
      const every = flags.curveEvery;
      await train(shapes, await loadLatentCache(flags.latents), {
        ...flags,
        log,
        evaluate: every
          ? (run) =>
              curveEvaluation(run, flags.out, { everySteps: every, perBucket: flags.curvePrompts, log })
          : undefined,
      });
    });
  world
    .command('encode-latents')
    .description('render the training scenes once and encode them with a trained autoencoder')
    .requiredOption('--autoencoder <dir>', 'checkpoint directory written by `world train-autoencoder`')
    .requiredOption('--count <n>', 'number of scenes')
    .requiredOption('--out <dir>', 'cache directory (latents.bin, latents.json)')
    .option('--threads <n>', 'ONNX Runtime threads (default: one per core)')
    .option('--force', 'replace a cache already in --out', false)
    .action(async (raw) => {
      const flags = parseFlags(EncodeFlags, raw);
      checkFreshFolder(flags.out, '--out', flags.force);
      await encodeLatentCache({ ...flags, log: (line) => console.log(line) });
    });
  world
    .command('measure-autoencoder')
    .description("the judge's full success on reconstructions of held-out clean renders")
    .requiredOption('--checkpoint <dir>', 'checkpoint directory written by `world train-autoencoder`')
    .option('--images <n>', 'held-out renders', '500')
    .option('--threads <n>', 'ONNX Runtime threads (default: one per core)')
    .action(async (raw) => {
      const flags = parseFlags(MeasureFlags, raw);
      const { run, step, tensors } = loadCheckpointDir<AutoencoderRun>(flags.checkpoint);
      const report = await measureReconstruction(run.model, emaWeights(tensors), flags.images, flags.threads);
      console.log(JSON.stringify({ checkpoint: flags.checkpoint, step, ...report }, null, 2));
    });
  runCommand(world, 'train-autoencoder')
    .description('train the shapes autoencoder on reconstruction of scenes rendered on the fly')
    .option('--detail-weight <w>', "weight of the error's Laplacian in the loss (fine patterns)", '0')
    .action(async (raw) => {
      const flags = parseFlags(AutoencoderFlags, raw);
      checkRunOut(flags.out, flags.resume, flags.force);
      await trainAutoencoder(flags);
    });
  world
    .command('export')
    .description('export a checkpoint (EMA weights) as a diffusers/Optimum ONNX model folder')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory written by `world train`')
    .option('--out <dir>', 'model folder', 'models/shapes')
    .option('--force', 'write over a model folder already in --out', false)
    .action((raw) => {
      const flags = parseFlags(ExportFlags, raw);
      checkFreshFolder(flags.out, '--out', flags.force);
      const step = exportCheckpoint(flags.checkpoint, flags.out);
      console.log(`exported step ${step} of ${flags.checkpoint} to ${flags.out}`);
    });
}
