import { Argument, type Command } from 'commander';
import { z } from 'zod';
import {
  evaluateClassifier,
  evaluateClip,
  FEATURE_NET_KINDS,
  type FeatureNetKind,
  trainFeatureNet,
} from '../worlds/shapes/feature-nets/index.js';
import { intFlag, numberFlag, parseFlags, seedFlag, UsageError } from './errors.js';
import { checkFreshFolder } from './outputs.js';

const TrainFlags = z.object({
  out: z.string().min(1).optional(),
  minutes: numberFlag.pipe(z.number().positive('expected more than 0 minutes')),
  seed: seedFlag,
  steps: intFlag(1).optional(),
  imageInit: z.string().min(1).optional(),
  force: z.boolean(),
});

const EvaluateFlags = z.object({ dir: z.string().min(1).optional() });

const netArgument = () => new Argument('<net>', 'which network').choices(FEATURE_NET_KINDS);

const defaultDir = (net: FeatureNetKind) => `models/shapes-${net}`;

/**
 * `world feature-nets train|evaluate <classifier|clip>`: the in-domain networks behind the shapes
 * world's IS / FID (classifier) and CLIP score (clip).
 */
export function registerFeatureNetCommands(world: Command) {
  const nets = world
    .command('feature-nets')
    .description('in-domain networks for FID / IS (classifier) and CLIP score (clip) on the shapes world');
  nets
    .command('train')
    .description('train a network on renders made on the fly, export it for the metrics loaders, evaluate it')
    .addArgument(netArgument())
    .option('--out <dir>', 'model folder (default: models/shapes-<net>)')
    .option('--minutes <m>', 'training budget; the step count is planned from the measured speed', '8')
    .option('--steps <n>', 'fixed number of steps (the budget still caps it)')
    .option('--seed <n>', 'seed for initialisation and data', '0')
    .option('--image-init <dir>', 'clip: start the image tower from a trained classifier folder')
    .option('--force', 'replace a network already in --out', false)
    .action(async (net: FeatureNetKind, raw) => {
      const flags = parseFlags(TrainFlags, raw);
      if (flags.imageInit !== undefined && net !== 'clip') {
        throw new UsageError('--image-init applies to clip only');
      }
      const out = flags.out ?? defaultDir(net);
      checkFreshFolder(out, '--out', flags.force);
      const report = await trainFeatureNet(net, { ...flags, out });
      console.log(JSON.stringify(report, null, 2));
    });
  nets
    .command('evaluate')
    .description('held-out accuracy (classifier) or retrieval (clip) of an exported folder')
    .addArgument(netArgument())
    .option('--dir <dir>', 'model folder (default: models/shapes-<net>)')
    .action(async (net: FeatureNetKind, raw) => {
      const dir = parseFlags(EvaluateFlags, raw).dir ?? defaultDir(net);
      const metrics = net === 'classifier' ? await evaluateClassifier(dir) : await evaluateClip(dir);
      console.log(JSON.stringify(metrics, null, 2));
    });
}
