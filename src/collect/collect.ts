import { generateAtSteps } from '../pipelines/per-prompt-steps.js';
import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { Prompt } from '../prompts/prompt-file.js';
import type { QualityScorer } from '../quality/scorer.js';
import type { SchedulerKind } from '../schedulers/index.js';
import type { CollectedRecord, CollectStore, StoredPrompt } from './store.js';

export interface CollectOptions {
  steps: readonly number[];
  scheduler: SchedulerKind;
  guidanceScale: number;
  /** A prompt's seed is this plus a hash of its text (`promptSeed`), the same at every step count. */
  seed: number;
  batchSize: number;
  /** `done` counts complete prompts of the file; `doneHere` those this run generated. */
  onBatch?: (done: number, total: number, doneHere: number) => void;
}

export interface CollectOutcome {
  /** Prompts this run generated. */
  collected: number;
  /** Prompts already complete when it started. */
  skipped: number;
  /** Prompts finished meanwhile by other collectors on the same database. */
  byOthers: number;
  /** Distinct prompts of the file (a repeated line is one prompt). */
  prompts: number;
  /** Prompts the database holds that the file does not (kept, never deleted). */
  notInFile: number;
}

/**
 * The collect phase: every pending prompt at every step count of S from the same initial noise,
 * each image scored, one transaction per batch of prompts. Prompts are known by their text: those
 * already complete in the store are skipped (a killed run resumes, an edited file adds only its new
 * prompts), and each batch is claimed first, so collectors sharing a database split the work.
 */
export async function collect(
  pipeline: Text2ImagePipeline,
  scorer: QualityScorer,
  prompts: readonly Prompt[],
  store: CollectStore,
  opts: CollectOptions,
): Promise<CollectOutcome> {
  const stored = store.registerPrompts(
    prompts.map((p) => p.text),
    opts.seed,
  );
  const ids = new Set(stored.map((p) => p.id));
  const inFile = (complete: Set<number>) => [...complete].filter((id) => ids.has(id)).length;
  const completeHere = () => inFile(store.completePrompts(opts.steps));
  const atStart = store.completePrompts(opts.steps);
  const skipped = inFile(atStart);
  const notInFile = atStart.size - skipped;
  let collected = 0;
  opts.onBatch?.(skipped, stored.length, 0);
  try {
    for (;;) {
      const batch = store.claim(stored, opts.steps, opts.batchSize);
      if (batch.length === 0) break;
      store.write(await generateBatch(pipeline, scorer, batch, opts));
      collected += batch.length;
      opts.onBatch?.(completeHere(), stored.length, collected);
    }
  } finally {
    store.releaseClaims();
  }
  return {
    collected,
    skipped,
    byOthers: completeHere() - skipped - collected,
    prompts: stored.length,
    notInFile,
  };
}

async function generateBatch(
  pipeline: Text2ImagePipeline,
  scorer: QualityScorer,
  batch: readonly StoredPrompt[],
  opts: CollectOptions,
): Promise<CollectedRecord[]> {
  const texts = batch.map((p) => p.text);
  const seeds = batch.map((p) => p.seed);
  const records: CollectedRecord[] = [];
  for (const steps of opts.steps) {
    const run = await generateAtSteps(pipeline, {
      prompts: texts,
      seeds,
      steps: texts.map(() => steps),
      scheduler: opts.scheduler,
      guidanceScale: opts.guidanceScale,
    });
    const scores = await scorer.score(texts, run.images);
    batch.forEach((p, i) => {
      records.push({
        promptId: p.id,
        prompt: p.text,
        seed: p.seed,
        scheduler: opts.scheduler,
        steps,
        score: scores[i].total,
        parts: scores[i].parts,
        seconds: run.seconds[i],
      });
    });
  }
  return records;
}
