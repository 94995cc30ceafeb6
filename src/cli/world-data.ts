import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { scoresByPrompt } from '../collect/dataset.js';
import { readCollectDb } from '../collect/store.js';
import { PAPER_DEFAULTS } from '../policy/config.js';
import { evidenceMarkdown, worldEvidence } from '../worlds/shapes/evidence.js';
import { HELD_OUT_SEED, worldPromptSet } from '../worlds/shapes/prompt-sets.js';
import { intFlag, MAX_SEED, parseFlags, stepSetFlag } from './errors.js';
import { warnIfIncomplete } from './options.js';
import { checkFreshFile, checkFreshFolder } from './outputs.js';

const EvidenceFlags = z.object({
  db: z.string().min(1),
  oracleSteps: stepSetFlag,
  k: intFlag(1),
  retestDb: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  force: z.boolean(),
});

const PromptFlags = z.object({
  n: intFlag(1, 1_000_000),
  dialect: z.enum(['terse', 'verbose']),
  seed: intFlag(HELD_OUT_SEED, MAX_SEED),
  out: z.string().min(1),
  force: z.boolean(),
});

/** `world prompts` and `world evidence`: held-out prompt sets and what collect found on them. */
export function registerWorldData(world: Command) {
  world
    .command('prompts')
    .description('write seeded held-out prompts of the shapes world (.jsonl: prompt, objects, dialect)')
    .option('--n <count>', 'number of prompts', '1000')
    .option('--dialect <name>', 'terse or verbose', 'terse')
    .option(
      '--seed <n>',
      `seed (>= ${HELD_OUT_SEED}, apart from the model's training scenes)`,
      String(HELD_OUT_SEED),
    )
    .requiredOption('--out <file.jsonl>', 'output file')
    .option('--force', 'replace the file if it exists', false)
    .action((raw) => {
      const flags = parseFlags(PromptFlags, raw);
      checkFreshFile(flags.out, '--out', flags.force);
      const set = worldPromptSet(flags.n, flags.dialect, flags.seed);
      writeFileSync(
        flags.out,
        `${set.map((p) => JSON.stringify({ prompt: p.text, objects: p.objects, dialect: p.dialect })).join('\n')}\n`,
      );
      console.log(`wrote ${set.length} ${flags.dialect} prompts to ${flags.out}`);
    });

  world
    .command('evidence')
    .description(
      'quality, full success and oracle steps by object count, from a collect database of held-out prompts',
    )
    .requiredOption('--db <file.sqlite>', 'collect database (e.g. collected at 5,10,20,30,40,50 steps)')
    .option('--oracle-steps <list>', 'the step set S the oracle chooses from', PAPER_DEFAULTS.steps.join(','))
    .option('--k <n>', 'top-k of the oracle', String(PAPER_DEFAULTS.topK))
    .option(
      '--retest-db <file.sqlite>',
      'a collect of the same prompts under another --seed: does the oracle step repeat?',
    )
    .option('--out <dir>', 'write evidence.json and evidence.md here')
    .option('--force', 'write over evidence already in --out', false)
    .action((raw) => {
      const flags = parseFlags(EvidenceFlags, raw);
      if (flags.out) checkFreshFolder(flags.out, '--out', flags.force);
      const { records, steps, incomplete } = readCollectDb(flags.db);
      const again = flags.retestDb ? readCollectDb(flags.retestDb, steps) : undefined;
      warnIfIncomplete(flags.db, incomplete);
      if (flags.retestDb && again) warnIfIncomplete(flags.retestDb, again.incomplete);
      const retest = again?.records;
      const evidence = worldEvidence(
        records,
        scoresByPrompt(records, steps),
        steps,
        { steps: flags.oracleSteps, topK: flags.k },
        retest && scoresByPrompt(retest, steps),
      );
      const md = evidenceMarkdown(evidence);
      console.log(md);
      if (flags.out) {
        mkdirSync(flags.out, { recursive: true });
        writeFileSync(join(flags.out, 'evidence.json'), `${JSON.stringify(evidence, null, 2)}\n`);
        writeFileSync(join(flags.out, 'evidence.md'), md);
      }
    });
}
