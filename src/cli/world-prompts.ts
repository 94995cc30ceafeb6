import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { HELD_OUT_SEED, worldPromptSet } from '../worlds/shapes/prompt-sets.js';
import { intFlag, parseFlags } from './errors.js';

const PromptFlags = z.object({
  n: intFlag(1, 1_000_000),
  dialect: z.enum(['terse', 'verbose']),
  seed: intFlag(HELD_OUT_SEED, 2 ** 32 - 1),
  out: z.string().min(1),
});

/** `world prompts`: write a held-out prompt set of the shapes world as JSON lines. */
export function registerWorldPrompts(world: Command) {
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
    .action((raw) => {
      const flags = parseFlags(PromptFlags, raw);
      const set = worldPromptSet(flags.n, flags.dialect, flags.seed);
      writeFileSync(
        flags.out,
        `${set.map((p) => JSON.stringify({ prompt: p.text, objects: p.objects, dialect: p.dialect })).join('\n')}\n`,
      );
      console.log(`wrote ${set.length} ${flags.dialect} prompts to ${flags.out}`);
    });
}
