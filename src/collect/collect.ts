import { runWithSteps } from '../eval/run-steps.js';
import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { Prompt } from '../prompts/prompt-file.js';
import type { QualityScorer } from '../quality/scorer.js';
import type { SchedulerKind } from '../schedulers/index.js';
import type { CollectedRecord, CollectStore } from './store.js';

export interface CollectOptions {
  steps: readonly number[];
  scheduler: SchedulerKind;
  guidanceScale: number;
  /** Prompt i is generated from seed + id at every step count: the same initial noise for all. */
  seed: number;
  batchSize: number;
  onBatch?: (done: number, total: number, newlyDone: number) => void;
}

/**
 * The collect phase: every pending prompt at every step count of S from the same initial noise,
 * each image scored, one transaction per batch of prompts. Prompts already complete in the store
 * are skipped, which is what makes a killed run resumable.
 */
export async function collect(
  pipeline: Text2ImagePipeline,
  scorer: QualityScorer,
  prompts: readonly Prompt[],
  store: CollectStore,
  opts: CollectOptions,
): Promise<{ collected: number; skipped: number }> {
  const complete = store.completePrompts(opts.steps);
  const pending = prompts.filter((p) => !complete.has(p.id));
  const skipped = prompts.length - pending.length;
  let done = 0;
  opts.onBatch?.(skipped, prompts.length, 0);
  for (let start = 0; start < pending.length; start += opts.batchSize) {
    const batch = pending.slice(start, start + opts.batchSize);
    const texts = batch.map((p) => p.text);
    const seeds = batch.map((p) => opts.seed + p.id);
    const records: CollectedRecord[] = [];
    for (const steps of opts.steps) {
      const run = await runWithSteps(
        pipeline,
        scorer,
        texts,
        seeds,
        texts.map(() => steps),
        {
          scheduler: opts.scheduler,
          guidanceScale: opts.guidanceScale,
          batchSize: batch.length,
        },
      );
      batch.forEach((p, i) => {
        records.push({
          promptId: p.id,
          prompt: p.text,
          seed: seeds[i],
          scheduler: opts.scheduler,
          steps,
          score: run.scores[i].total,
          parts: run.scores[i].parts,
          seconds: run.seconds / batch.length,
        });
      });
    }
    store.write(records);
    done += batch.length;
    opts.onBatch?.(skipped + done, prompts.length, done);
  }
  return { collected: done, skipped };
}
