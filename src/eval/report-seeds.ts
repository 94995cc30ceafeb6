/**
 * The given policy's training repeated with other seeds (same data, split, network, reward and
 * options), so Table 1 can show AdaDiff's spread over training runs, which one policy cannot.
 */
import { join } from 'node:path';
import type { Checkpoint } from '../policy/checkpoint.js';
import { StepSelector } from '../policy/selector.js';
import { rewardRequest, trainToCheckpoint } from '../policy/train-run.js';
import type { CollectDb } from './report-collected.js';

/** Trains one policy per seed into `dir`/seed-N (kept with the report) and loads each. */
export async function retrainWithSeeds(
  db: CollectDb,
  given: Pick<Checkpoint, 'network' | 'reward' | 'training'>,
  seeds: readonly number[],
  epochs: number,
  dir: string,
  commandLine: readonly string[],
  log: (line: string) => void,
): Promise<StepSelector[]> {
  const { network, reward } = given;
  const selectors: StepSelector[] = [];
  for (const seed of seeds) {
    log(`training the policy with seed ${seed}`);
    const training = { ...given.training, epochs, seed };
    const out = join(dir, `seed-${seed}`);
    // The report's own folder: a rerun of the report replaces its seeds' policies.
    await trainToCheckpoint({
      data: db.data,
      split: db.split,
      reward: rewardRequest(reward),
      network,
      training,
      out,
      force: true,
      commandLine,
    });
    selectors.push(await StepSelector.load(out));
  }
  return selectors;
}
