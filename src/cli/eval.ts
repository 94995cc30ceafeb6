import type { Command } from 'commander';
import { z } from 'zod';
import { buildEvalReport } from '../eval/report-build.js';
import { CHROMIUM_PATH } from '../report/browser-check.js';
import { shapesWorld } from '../worlds/shapes/world.js';
import { batchFlag, intFlag, intListFlag, MAX_SEED, numberFlag, parseFlags } from './errors.js';
import { checkFreshFolder, checkWritableFile } from './outputs.js';

/** "0,1,2" -> [0, 1, 2], distinct. */
const seedsFlag = intListFlag('seeds', 0, MAX_SEED).refine(
  (xs) => new Set(xs).size === xs.length,
  'expected distinct seeds',
);

const EvalFlags = z
  .object({
    db: z.string().min(1),
    policy: z.string().min(1),
    model: z.string().min(1).optional(),
    scorer: z.string().min(1).optional(),
    set: z.enum(['test', 'val', 'train', 'all']),
    out: z.string().min(1),
    randomRuns: intFlag(1, 100),
    seeds: seedsFlag.optional(),
    transferDb: z.string().min(1).optional(),
    dpmDb: z.string().min(1).optional(),
    dpmPolicy: z.string().min(1).optional(),
    clip: z.string().min(1).optional(),
    classifier: z.string().min(1).optional(),
    epochs: intFlag(1, 100_000),
    lr: numberFlag.pipe(z.number().positive('expected a positive learning rate')).optional(),
    batch: batchFlag,
    quick: z.boolean(),
    readme: z.string().min(1).optional(),
    chromium: z.string().min(1),
    force: z.boolean(),
  })
  .refine((f) => (f.dpmDb === undefined) === (f.dpmPolicy === undefined), {
    error: 'give --dpm-db and --dpm-policy together',
    path: ['dpmPolicy'],
  });

export function registerEval(program: Command) {
  program
    .command('eval')
    .description(
      "the paper's evaluation (Tables 1, 3, 4, 5; Figures 3, 4, 5) as a report folder, checked in a headless browser",
    )
    .requiredOption('--db <file.sqlite>', 'collect database the policy was trained on')
    .requiredOption('--policy <dir>', 'trained policy')
    .option('--model <dir>', 'model folder (default: the one the database was collected with)')
    .option(
      '--scorer <name|dir>',
      '"world" or an ONNX reward-model folder (default: the database\'s, if "world")',
    )
    .option(
      '--set <name>',
      "which of the database's prompt sets Tables 1, 3 and 4 generate: test, val, train or all",
      'test',
    )
    .option('--out <dir>', 'report folder', 'report')
    .option('--random-runs <n>', 'runs of the random policy', '5')
    .option('--seeds <list>', 'retrain the policy with these seeds too and report mean ± sd (e.g. 0,1,2)')
    .option(
      '--transfer-db <file.sqlite>',
      "Table 4: another database's prompts (e.g. the other dialect), zero-shot",
    )
    .option('--dpm-db <file.sqlite>', 'Table 3: a database collected with --scheduler dpm')
    .option('--dpm-policy <dir>', 'Table 3: the policy trained on --dpm-db')
    .option('--clip <dir>', "CLIP folder for the CLIP score (and Table 5's CLIP reward)")
    .option('--classifier <dir>', 'image feature network folder for IS and FID')
    .option('--epochs <n>', 'epochs of each policy trained for Table 5 and Figure 5 (exact gradient)', '20')
    .option('--lr <rate>', "their learning rate (default: the given policy's)")
    .option('--batch <n>', 'prompts per generation batch', '16')
    .option('--quick', 'reduced sizes everywhere, for tests', false)
    .option('--chromium <path>', 'Chromium for the closing check of the page', CHROMIUM_PATH)
    .option('--force', 'write over a report already in --out', false)
    .option(
      '--readme <file>',
      'also write Table 1 and Figure 3 between the file\'s "<!-- adadiff eval: start -->" and "<!-- adadiff eval: end -->" lines',
    )
    .action(async (raw) => {
      const flags = parseFlags(EvalFlags, raw);
      checkFreshFolder(flags.out, '--out', flags.force);
      if (flags.readme) checkWritableFile(flags.readme, '--readme');
      const { dir, check } = await buildEvalReport({
        ...flags,
        world: shapesWorld,
        commandLine: ['adadiff', ...process.argv.slice(2)],
        log: (line) => console.error(line),
      });
      console.log(
        `report written to ${dir} (index.html, report.md, report.json); headless Chromium: ` +
          `${check.images.length} images and ${check.plots} plots loaded, no problems`,
      );
    });
}
