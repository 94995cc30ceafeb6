/**
 * CLIP scores of every image a collect database scored, for Table 5's CLIP reward. Collect keeps
 * scores, not images, so the images are generated again from their seeds, but only when the
 * database's own timings say that is cheap.
 */
import type { Text2ImagePipeline } from '../pipelines/text2img.js';
import type { QualityScorer } from '../quality/index.js';
import { clipScore } from '../quality/metrics/index.js';
import { type CollectDb, promptSet } from './report-collected.js';
import type { MetricNets } from './report-image-metrics.js';
import type { ScoreSource } from './report-offline.js';
import { runWithSteps } from './run-steps.js';

/** The most generation time, by the collect timings, spent on them. */
export const CLIP_REGENERATION_BUDGET_S = 300;

/** The images need no quality score here. */
const unscored: QualityScorer = {
  name: 'none',
  score: async (prompts) => prompts.map(() => ({ total: 0, parts: {} })),
};

/** [n, |S|] CLIP scores (cosine, clamped at 0 per pair as Table 1's), or why they are left out. */
export async function collectedClipScores(
  pipe: Text2ImagePipeline,
  nets: MetricNets,
  db: CollectDb,
  steps: readonly number[],
  batchSize: number,
): Promise<ScoreSource | { omitted: string }> {
  const clip = nets.clip;
  if (!clip) return { omitted: 'no CLIP net (give --clip DIR).' };
  const { prompts } = db.collected;
  const estimate = prompts.reduce((sum, p) => sum + p.seconds.reduce((a, b) => a + b, 0), 0);
  if (estimate > CLIP_REGENERATION_BUDGET_S)
    return {
      omitted:
        `collect keeps no images, and generating the ${prompts.length * steps.length} again for their CLIP ` +
        `scores would take about ${(estimate / 60).toFixed(0)} min by the collect timings ` +
        `(more than ${CLIP_REGENERATION_BUDGET_S / 60} min).`,
    };
  const set = promptSet(
    db,
    prompts.map((_, i) => i),
    batchSize,
  );
  const scores = new Float32Array(prompts.length * steps.length);
  for (const [a, s] of steps.entries()) {
    const run = await runWithSteps(
      pipe,
      unscored,
      set.prompts,
      set.seeds,
      set.prompts.map(() => s),
      set.run,
    );
    const emb = await clip.embed(set.prompts, run.images);
    clipScore(emb.image, emb.text).perPair.forEach((v, i) => {
      scores[i * steps.length + a] = Math.max(v, 0) / 100;
    });
  }
  return { name: 'CLIP', scores };
}
