/**
 * The policy's training data, as the collect phase leaves it: per prompt the text encoder's
 * features with their padding mask and the quality score of its image at every step count in S.
 * Splits go by prompt id so no prompt is in two sets, and a hash ties a checkpoint to its data.
 */
import { createHash } from 'node:crypto';
import type { FeatureBatch } from './network.js';
import { type RewardConfig, rewards } from './reward.js';

export interface PolicyDataset {
  /** [n, l, d] text features (last_hidden_state). */
  readonly features: Float32Array;
  /** [n, l], 1 = token, 0 = padding. */
  readonly mask: Uint8Array;
  /** [n, actions], scores[i, a] = quality of prompt i's image at steps S[a]. */
  readonly scores: Float32Array;
  readonly promptIds: readonly number[];
  readonly dims: { readonly n: number; readonly l: number; readonly d: number; readonly actions: number };
}

/** Throws unless every array has the size its dims say and the mask holds only 0 and 1. */
export function checkDataset(ds: PolicyDataset): void {
  const { n, l, d, actions } = ds.dims;
  const sizes: [string, number, number][] = [
    ['features', ds.features.length, n * l * d],
    ['mask', ds.mask.length, n * l],
    ['scores', ds.scores.length, n * actions],
    ['promptIds', ds.promptIds.length, n],
  ];
  for (const [name, got, want] of sizes) {
    if (got !== want)
      throw new Error(
        `dataset: ${name} has ${got} values, dims [n=${n}, l=${l}, d=${d}, actions=${actions}] need ${want}`,
      );
  }
  if (ds.mask.some((m) => m > 1)) throw new Error('dataset: mask values must be 0 or 1');
}

/** Row indices of each set. */
export interface DataSplit {
  readonly train: number[];
  readonly val: number[];
  readonly test: number[];
}

export interface SplitOptions {
  /** Fractions of prompts held out for validation and test. */
  readonly val: number;
  readonly test: number;
  readonly seed: number;
}

export const SPLIT_DEFAULTS: SplitOptions = { val: 0.1, test: 0.1, seed: 0 };

/**
 * Assigns each prompt id to a set by a seeded hash of the id, not by its row: a prompt stays in the
 * same set when the data grow or are reordered, and rows sharing an id always land together.
 * Set sizes are the fractions up to sampling noise.
 */
export function splitByPrompt(ds: PolicyDataset, opts: Partial<SplitOptions> = {}): DataSplit {
  const { val, test, seed } = { ...SPLIT_DEFAULTS, ...opts };
  const split: DataSplit = { train: [], val: [], test: [] };
  ds.promptIds.forEach((id, row) => {
    const u = createHash('sha256').update(`${seed}:${id}`).digest().readUInt32LE(0) / 2 ** 32;
    (u < test ? split.test : u < test + val ? split.val : split.train).push(row);
  });
  return split;
}

/** The quality scores of the given rows, one array per prompt in S's order. */
export function scoreRows(ds: PolicyDataset, rows: readonly number[]): number[][] {
  const { actions } = ds.dims;
  return rows.map((row) => [...ds.scores.subarray(row * actions, (row + 1) * actions)]);
}

/** sha256 over dims, prompt ids, features, mask and scores: what a checkpoint was trained on. */
export function dataHash(ds: PolicyDataset): string {
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return createHash('sha256')
    .update(JSON.stringify(ds.dims))
    .update(bytes(Float64Array.from(ds.promptIds)))
    .update(bytes(ds.features))
    .update(bytes(ds.mask))
    .update(bytes(ds.scores))
    .digest('hex');
}

/** The features and mask of the given rows, in that order. */
export function gatherBatch(ds: PolicyDataset, rows: readonly number[]): FeatureBatch {
  const { l, d } = ds.dims;
  const features = new Float32Array(rows.length * l * d);
  const mask = new Uint8Array(rows.length * l);
  rows.forEach((row, i) => {
    features.set(ds.features.subarray(row * l * d, (row + 1) * l * d), i * l * d);
    mask.set(ds.mask.subarray(row * l, (row + 1) * l), i * l);
  });
  return { features, mask, batch: rows.length };
}

/** Reward of every action for every prompt, [n, actions]: collect scored them all. */
export function rewardTable(ds: PolicyDataset, cfg: RewardConfig): Float32Array {
  const { n, actions } = ds.dims;
  if (actions !== cfg.steps.length)
    throw new Error(`dataset has ${actions} scores per prompt, S has ${cfg.steps.length} step counts`);
  const table = new Float32Array(n * actions);
  const all = Array.from({ length: n }, (_, i) => i);
  for (const [i, scores] of scoreRows(ds, all).entries()) table.set(rewards(scores, cfg), i * actions);
  return table;
}

/** The given rows of a [n, actions] table, in that order. */
export function gatherRewards(table: Float32Array, actions: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * actions);
  rows.forEach((row, i) => {
    out.set(table.subarray(row * actions, (row + 1) * actions), i * actions);
  });
  return out;
}
