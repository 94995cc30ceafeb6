import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { PolicyDataset } from '../policy/dataset.js';
import type { CollectedRecord } from './store.js';

/** One prompt's collected scores, one per step count of S. */
export interface PromptScores {
  promptId: number;
  prompt: string;
  /** The seed of its initial noise, the same at every step count. */
  seed: number;
  scores: number[];
  seconds: number[];
}

/**
 * Groups collected rows by prompt into score vectors over S (prompts missing a step count are
 * left out: a run still in progress), in prompt-id order.
 */
export function scoresByPrompt(
  records: readonly CollectedRecord[],
  steps: readonly number[],
): PromptScores[] {
  const byPrompt = new Map<number, PromptScores>();
  for (const r of records) {
    const a = steps.indexOf(r.steps);
    if (a < 0) continue;
    let entry = byPrompt.get(r.promptId);
    if (!entry) {
      entry = {
        promptId: r.promptId,
        prompt: r.prompt,
        seed: r.seed,
        scores: steps.map(() => Number.NaN),
        seconds: steps.map(() => Number.NaN),
      };
      byPrompt.set(r.promptId, entry);
    }
    entry.scores[a] = r.score;
    entry.seconds[a] = r.seconds;
  }
  return [...byPrompt.values()]
    .filter((p) => p.scores.every(Number.isFinite))
    .sort((a, b) => a.promptId - b.promptId);
}

/** Looks up a named part of a collected score (e.g. the judge's `success`) by prompt and step count. */
export function partLookup(
  records: readonly CollectedRecord[],
): (promptId: number, steps: number, part: string) => number | undefined {
  const parts = new Map(records.map((r) => [`${r.promptId}:${r.steps}`, r.parts]));
  return (promptId, steps, part) => parts.get(`${promptId}:${steps}`)?.[part];
}

/**
 * The policy's training set: each prompt's text features, recomputed with the model's text encoder
 * (deterministic, so identical to what collect saw; storing 64x128 or 77x1024 floats per prompt
 * would dwarf the database), and its scores over S.
 */
export async function policyDataset(
  pipe: Text2ImagePipeline,
  prompts: readonly PromptScores[],
  batchSize = 64,
): Promise<PolicyDataset> {
  if (prompts.length === 0) throw new Error('no prompt has a score at every step count');
  const actions = prompts[0].scores.length;
  const chunks: { data: Float32Array; mask: Uint8Array; l: number; d: number }[] = [];
  for (let i = 0; i < prompts.length; i += batchSize) {
    const { features } = await pipe.encodeText(prompts.slice(i, i + batchSize).map((p) => p.prompt));
    chunks.push({ data: features.data, mask: features.mask, l: features.dims[1], d: features.dims[2] });
  }
  const { l, d } = chunks[0];
  const n = prompts.length;
  const features = new Float32Array(n * l * d);
  const mask = new Uint8Array(n * l);
  let row = 0;
  for (const c of chunks) {
    features.set(c.data, row * l * d);
    mask.set(c.mask, row * l);
    row += c.mask.length / l;
  }
  return {
    features,
    mask,
    scores: Float32Array.from(prompts.flatMap((p) => p.scores)),
    promptIds: prompts.map((p) => p.promptId),
    dims: { n, l, d, actions },
  };
}
