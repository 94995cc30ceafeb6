import assert from 'node:assert/strict';
import test from 'node:test';
import type { PromptScores } from '../../../src/collect/dataset.js';
import type { CollectedRecord } from '../../../src/collect/store.js';
import { evidenceMarkdown, worldEvidence } from '../../../src/worlds/shapes/evidence.js';

const STEPS = [10, 20, 30];
const ORACLE = { steps: STEPS, topK: 1 };
const PROMPTS = ['a red circle', 'a striped blue square', 'a hollow green star left of a red circle'];

/** Scores whose single best (top-1) image is at `best` steps. */
function scores(promptId: number, best: number): PromptScores {
  return {
    promptId,
    prompt: PROMPTS[promptId],
    seed: promptId,
    scores: STEPS.map((s) => (s === best ? 1 : -promptId)),
    seconds: STEPS.map((s) => s / 100),
  };
}

function records(rows: readonly PromptScores[], detail: (promptId: number, steps: number) => number) {
  return rows.flatMap((p) =>
    STEPS.map(
      (steps, a): CollectedRecord => ({
        promptId: p.promptId,
        prompt: p.prompt,
        seed: p.promptId,
        scheduler: 'ddim',
        steps,
        score: p.scores[a],
        parts: { detail: detail(p.promptId, steps), success: 0 },
        seconds: p.seconds[a],
      }),
    ),
  );
}

test("evidence groups prompts by detail and averages the judge's detail part per step count", () => {
  const rows = [scores(0, 10), scores(1, 20), scores(2, 30)];
  const e = worldEvidence(
    records(rows, (id, steps) => (id === 0 ? 1 : steps / 100)),
    rows,
    STEPS,
    ORACLE,
  );
  assert.deepEqual(
    e.byDetail.map((r) => [r.detail, r.prompts]),
    [
      ['plain only', 1],
      ['striped', 1],
      ['hollow', 1],
    ],
  );
  assert.deepEqual(e.byDetail[0].detailPart, { 10: 1, 20: 1, 30: 1 });
  assert.deepEqual(e.byDetail[1].detailPart, { 10: 0.1, 20: 0.2, 30: 0.3 });
  assert.deepEqual(e.byDetail[2].meanScore, { 10: -2, 20: -2, 30: 1 });
  assert.equal(e.retest, undefined);
  assert.match(evidenceMarkdown(e), /\| striped \| 1 \| 0\.100 \| 0\.200 \| 0\.300 \|/);
});

test('the retest compares each prompt’s oracle step with its oracle step under another seed', () => {
  const rows = [scores(0, 10), scores(1, 20), scores(2, 30)];
  const recs = records(rows, () => 0);
  const same = worldEvidence(recs, rows, STEPS, ORACLE, [scores(2, 30), scores(1, 20), scores(0, 10)]);
  const { excessAgreement, ...retest } = same.retest ?? { excessAgreement: undefined };
  assert.deepEqual(retest, { prompts: 3, agreement: 1, chanceAgreement: 1 / 3, spearman: 1 });
  assert.ok(Math.abs((excessAgreement?.estimate ?? 0) - 2 / 3) < 1e-12);
  const moved = worldEvidence(recs, rows, STEPS, ORACLE, [scores(0, 20), scores(1, 30), scores(2, 10)]);
  assert.equal(moved.retest?.agreement, 0);
  assert.match(evidenceMarkdown(moved), /the same for 0\.0% of prompts, against 33\.3%/);
  assert.throws(
    () => worldEvidence(recs, rows, STEPS, ORACLE, [{ ...scores(0, 10), prompt: 'a blue cross' }]),
    /shares 0 prompts/,
  );
});

test('buckets by object count carry the score gain from the fewest to the most steps, with an interval', () => {
  const rows = [scores(0, 10), scores(1, 20), scores(2, 30)];
  const e = worldEvidence(
    records(rows, () => 0),
    rows,
    STEPS,
    ORACLE,
  );
  // Gains (30 minus 10 steps): prompt 0 -1, prompt 1 0 (one object each), prompt 2 +3 (two objects).
  assert.deepEqual(
    e.byBucket.map((r) => [r.bucket, r.prompts, r.stepGains[10].estimate]),
    [
      ['1', 2, -0.5],
      ['2-3', 1, 3],
    ],
  );
  const one = e.byBucket[0].stepGains[10];
  assert.deepEqual(
    Object.keys(e.byBucket[0].stepGains),
    ['10'],
    "the fewest collected is also the oracle's fewest",
  );
  assert.ok(one.lower >= -1 && one.upper <= 0 && one.lower < one.upper, JSON.stringify(one));
  // Objects [1, 1, 2] against oracle steps [10, 20, 30]: ranks [1.5, 1.5, 3] and [1, 2, 3].
  assert.ok(Math.abs(e.oracleObjectsSpearman.estimate - Math.sqrt(3) / 2) < 1e-12);
  assert.match(evidenceMarkdown(e), /\| 2-3 \| 1 \| 0\.0% \| 0\.0% \| 3\.000 \(95% CI 3\.000 to 3\.000\) \|/);
  // An oracle over fewer step counts than collected adds the gain from its own fewest (20 here).
  const narrow = worldEvidence(
    records(rows, () => 0),
    rows,
    STEPS,
    { steps: [20, 30], topK: 1 },
  );
  // 30 minus 20 steps: prompt 0 0, prompt 1 -2 (one object each); prompt 2 +3.
  assert.deepEqual(
    narrow.byBucket.map((r) => [r.stepGains[10].estimate, r.stepGains[20].estimate]),
    [
      [-0.5, -1],
      [3, 3],
    ],
  );
  assert.match(evidenceMarkdown(narrow), /mean score 30 minus 10 steps \| mean score 30 minus 20 steps \|/);
});
