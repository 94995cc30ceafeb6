import { Option } from 'commander';
import { incompleteWarning } from '../collect/store.js';
import { DEFAULT_MODEL_DIR } from '../paths.js';
import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { SchedulerKind } from '../schedulers/index.js';
import { UsageError } from './errors.js';

/** `--model DIR`, defaulting to the embedded model; help names it once, in words, not as a path. */
export const modelOption = (description = 'model folder'): Option =>
  new Option('--model <dir>', description).default(DEFAULT_MODEL_DIR, 'the embedded shapes model');

/** Load options that say, on stderr, which network file is loading and how big it is. */
export const loadingSaysWhat = {
  onLoad: (file: string, bytes: number) => console.error(`loading ${file} (${(bytes / 1e6).toFixed(1)} MB)`),
};

/** `--steps` checked against the model's scheduler config once it is loaded, before any denoising. */
export function checkStepsFlag(
  pipeline: Text2ImagePipeline,
  steps: readonly number[],
  kind: SchedulerKind | undefined,
): void {
  try {
    pipeline.checkSteps(steps, kind);
  } catch (err) {
    throw new UsageError(`--steps: ${(err as Error).message}`);
  }
}

/** Prompts a database holds only in part are left out of what reads it; the user hears how many. */
export function warnIfIncomplete(db: string, incomplete: number): void {
  const warning = incompleteWarning(db, incomplete);
  if (warning) console.warn(`warning: ${warning}`);
}
