import type { Command } from 'commander';
import { z } from 'zod';
import { collect } from '../collect/collect.js';
import { CollectStore } from '../collect/store.js';
import { modelFingerprint } from '../models/fingerprint.js';
import { DEFAULT_GUIDANCE_SCALE, Text2ImagePipeline } from '../pipelines/text2img.js';
import { PAPER_DEFAULTS } from '../policy/config.js';
import { type Prompt, promptPlace, readPromptFile } from '../prompts/prompt-file.js';
import type { QualityScorer } from '../quality/index.js';
import { loadScorer } from '../worlds/index.js';
import { batchFlag, guidanceFlag, intFlag, parseFlags, seedFlag, stepSetFlag } from './errors.js';
import { checkStepsFlag, loadingSaysWhat, modelOption } from './options.js';
import { Progress } from './progress.js';

const CollectFlags = z.object({
  prompts: z.string().min(1),
  column: z.string().optional(),
  limit: intFlag(1).optional(),
  db: z.string().min(1),
  model: z.string().min(1),
  scorer: z.string().min(1),
  steps: stepSetFlag,
  scheduler: z.enum(['ddim', 'dpm']).optional(),
  guidance: guidanceFlag,
  seed: seedFlag,
  batch: batchFlag,
});

/** Every prompt readable by the scorer, or an error naming the first few that are not, by file:line. */
function checkScorable(file: string, prompts: readonly Prompt[], scorer: QualityScorer): void {
  const check = scorer.checkPrompt?.bind(scorer);
  if (!check) return;
  const bad = prompts.flatMap((p) => {
    const why = check(p.text);
    return why === null ? [] : [`${promptPlace(file, p)}: ${why}`];
  });
  if (bad.length === 0) return;
  const shown = bad.slice(0, 5).join('\n  ') + (bad.length > 5 ? `\n  ... and ${bad.length - 5} more` : '');
  throw new Error(
    `${file}: ${bad.length} of ${prompts.length} prompts cannot be scored by ${scorer.name}:\n  ${shown}`,
  );
}

export function registerCollect(program: Command) {
  program
    .command('collect')
    .description(
      'generate every prompt at every step count of S from the same noise and score each image (resumable)',
    )
    .requiredOption('--prompts <file>', 'prompt file: .txt, .jsonl, .csv or .tsv')
    .option('--column <name>', 'prompt column/field in a .csv/.tsv/.jsonl file')
    .option('--limit <n>', 'use only the first n prompts')
    .requiredOption('--db <file.sqlite>', 'SQLite database to write (and resume from)')
    .addOption(modelOption())
    .option('--scorer <name|dir>', '"world" (the shapes judge) or an ONNX reward-model folder', 'world')
    .option('--steps <list>', 'the step set S', PAPER_DEFAULTS.steps.join(','))
    .option('--scheduler <name>', "ddim or dpm; default: the one the model's scheduler config names")
    .option('--guidance <scale>', 'classifier-free guidance scale', String(DEFAULT_GUIDANCE_SCALE))
    .option('--seed <n>', "a prompt's noise seed is this plus a hash of its text, at every step count", '0')
    .option('--batch <n>', 'prompts per batch', '16')
    .action(async (raw) => {
      const flags = parseFlags(CollectFlags, raw);
      const prompts = readPromptFile(flags.prompts, flags.column).slice(0, flags.limit);
      const scorer = await loadScorer(flags.scorer);
      checkScorable(flags.prompts, prompts, scorer);
      const pipeline = await Text2ImagePipeline.load(flags.model, loadingSaysWhat);
      const scheduler = flags.scheduler ?? pipeline.defaultScheduler;
      // Everything the run needs is checked before the database is created or changed.
      checkStepsFlag(pipeline, flags.steps, scheduler);
      const store = CollectStore.open(flags.db);
      try {
        store.bindSettings({
          model: flags.model,
          modelWeights: (await modelFingerprint(flags.model, store.hashCache())).fingerprint,
          scorer: scorer.name,
          steps: flags.steps,
          scheduler,
          guidance: flags.guidance,
          seed: flags.seed,
        });
        const progress = new Progress('collect', 'prompts');
        let started = false;
        const outcome = await collect(pipeline, scorer, prompts, store, {
          steps: flags.steps,
          scheduler,
          guidanceScale: flags.guidance,
          seed: flags.seed,
          batchSize: flags.batch,
          onBatch: (done, total, fresh) => {
            if (!started) {
              progress.start(total, done);
              started = true;
            } else progress.update(done, fresh);
          },
        });
        progress.stop();
        const { collected, skipped, byOthers, notInFile } = outcome;
        console.log(
          `${flags.db}: ${collected} prompts collected, ${skipped} already there` +
            `${byOthers ? `, ${byOthers} by other collectors` : ''}; ` +
            `${store.count()} images x scores over ${flags.steps.length} step counts` +
            `${notInFile ? ` (${notInFile} prompts of the database are not in ${flags.prompts}: kept)` : ''}`,
        );
      } finally {
        store.close();
        await pipeline.model.release();
      }
    });
}
