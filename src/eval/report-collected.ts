import { type PromptScores, partLookup, policyDataset, scoresByPrompt } from '../collect/dataset.js';
import { type CollectSettings, readCollectDb } from '../collect/store.js';
import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import { type DataSplit, type PolicyDataset, splitByPrompt } from '../policy/dataset.js';
import type { RunOptions } from './run-steps.js';

export interface Collected {
  settings: CollectSettings;
  /** Prompts with a score at every step count asked for, in prompt-id order. */
  prompts: PromptScores[];
  /**
   * parts.success of each prompt's image at each step count (rows as `prompts`), or null when the
   * scorer does not report it (ONNX reward models).
   */
  success: number[][] | null;
  /** Prompts the database holds at only some of the step counts (left out of `prompts`). */
  incomplete: number;
}

/**
 * The prompts of a collect database with their scores over S, which may be a subset of the step
 * counts it was collected at (one collect at 5..50 serves both the world evidence and S = 10..50).
 */
export function readCollected(db: string, steps: readonly number[]): Collected {
  const { settings, records, incomplete } = readCollectDb(db, steps);
  const prompts = scoresByPrompt(records, steps);
  const part = partLookup(records);
  const success = prompts.map((p) => steps.map((s) => part(p.promptId, s, 'success')));
  const complete = success.every((row) => row.every((v) => v !== undefined));
  return { settings, prompts, success: complete ? (success as number[][]) : null, incomplete };
}

/** A collect database with the text features and split its policies use. */
export interface CollectDb {
  file: string;
  collected: Collected;
  data: PolicyDataset;
  split: DataSplit;
}

export async function withDataset(
  file: string,
  collected: Collected,
  pipe: Text2ImagePipeline,
): Promise<CollectDb> {
  const data = await policyDataset(pipe, collected.prompts);
  return { file, collected, data, split: splitByPrompt(data) };
}

export type SetName = keyof DataSplit | 'all';

/** Row indices of one of the database's prompt sets (the split `policy train` uses). */
export function setRows(db: CollectDb, set: SetName): number[] {
  const rows = set === 'all' ? db.collected.prompts.map((_, i) => i) : db.split[set];
  if (rows.length === 0) throw new Error(`${db.file}: the ${set} set is empty; collect more prompts`);
  return rows;
}

/** Prompts to generate again as collect did: each from its seed, with the database's scheduler and guidance. */
export interface PromptSet {
  prompts: string[];
  seeds: number[];
  run: RunOptions;
}

export function promptSet(db: CollectDb, rows: readonly number[], batchSize: number): PromptSet {
  const { settings, prompts } = db.collected;
  const picked = rows.map((r) => prompts[r]);
  return {
    prompts: picked.map((p) => p.prompt),
    seeds: picked.map((p) => p.seed),
    run: {
      scheduler: settings.scheduler,
      guidanceScale: settings.guidance,
      batchSize,
    },
  };
}
