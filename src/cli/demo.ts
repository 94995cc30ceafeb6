import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { runAdaDiff } from '../eval/compare.js';
import { runWithSteps } from '../eval/run-steps.js';
import { DEFAULT_MODEL_DIR } from '../paths.js';
import { DEFAULT_GUIDANCE_SCALE, Text2ImagePipeline } from '../pipelines/text2img.js';
import { loadSelector } from '../policy/selector.js';
import { escapeHtml, htmlPage } from '../report/html.js';
import { encodePng } from '../util/image.js';
import { bootstrapMeanDifference, mean } from '../util/statistics.js';
import { worldJudgeScorer } from '../worlds/index.js';
import { HELD_OUT_SEED, type WorldPrompt, worldPromptSet } from '../worlds/shapes/prompt-sets.js';
import { intFlag, parseFlags, seedFlag } from './errors.js';

const DemoFlags = z.object({
  out: z.string().min(1),
  perCount: intFlag(1, 20),
  seed: seedFlag,
});

/** The demo's prompts: `perCount` held-out prompts for each object count 1..6, easy to hard. */
export function demoPrompts(perCount: number): WorldPrompt[] {
  const pool = worldPromptSet(2000, 'terse', HELD_OUT_SEED + 7);
  return [1, 2, 3, 4, 5, 6].flatMap((k) => pool.filter((p) => p.objects === k).slice(0, perCount));
}

export function registerDemo(program: Command) {
  program
    .command('demo')
    .description(
      'AdaDiff on the embedded model: adaptive steps vs 50 steps on held-out prompts, easy to hard',
    )
    .option('--out <dir>', 'folder for the images and index.html', 'adadiff-demo')
    .option('--per-count <n>', 'prompts per object count (1 to 6 objects)', '2')
    .option('--seed <n>', 'noise seed of the first prompt', '0')
    .action(async (raw) => {
      const flags = parseFlags(DemoFlags, raw);
      const pipe = await Text2ImagePipeline.load(DEFAULT_MODEL_DIR);
      const selector = await loadSelector(undefined, DEFAULT_MODEL_DIR);
      const prompts = demoPrompts(flags.perCount);
      const texts = prompts.map((p) => p.text);
      const seeds = texts.map((_, i) => flags.seed + i);
      const opts = { scheduler: 'ddim' as const, guidanceScale: DEFAULT_GUIDANCE_SCALE, batchSize: 16 };
      const smax = Math.max(...selector.stepSet);

      // Warm-up so neither method pays for the sessions' first runs.
      await runWithSteps(pipe, worldJudgeScorer, texts.slice(0, 1), seeds.slice(0, 1), [1], opts);
      const { run: ada, selection } = await runAdaDiff(pipe, worldJudgeScorer, selector, texts, seeds, opts);
      const full = await runWithSteps(
        pipe,
        worldJudgeScorer,
        texts,
        seeds,
        texts.map(() => smax),
        opts,
      );

      mkdirSync(flags.out, { recursive: true });
      const rows: string[] = [];
      console.log(`prompt${' '.repeat(64)} objects  steps  judge(ada)  judge(${smax})`);
      for (let i = 0; i < texts.length; i++) {
        const [a, b] = [`${i + 1}-adadiff.png`, `${i + 1}-fixed${smax}.png`];
        writeFileSync(join(flags.out, a), await encodePng(ada.images[i], 4));
        writeFileSync(join(flags.out, b), await encodePng(full.images[i], 4));
        const sa = ada.scores[i].total;
        const sf = full.scores[i].total;
        const short = texts[i].length > 68 ? `${texts[i].slice(0, 67)}…` : texts[i];
        console.log(
          `${short.padEnd(70)} ${String(prompts[i].objects).padStart(7)} ${String(selection.steps[i]).padStart(6)} ` +
            `${sa.toFixed(2).padStart(11)} ${sf.toFixed(2).padStart(12)}`,
        );
        rows.push(
          `<tr><td>${escapeHtml(texts[i])}</td><td class="num">${prompts[i].objects}</td>` +
            `<td class="num">${selection.steps[i]}</td>` +
            `<td><img src="${a}" alt="AdaDiff, ${selection.steps[i]} steps" width="128" height="128"></td><td class="num">${sa.toFixed(2)}</td>` +
            `<td><img src="${b}" alt="${smax} steps" width="128" height="128"></td><td class="num">${sf.toFixed(2)}</td></tr>`,
        );
      }
      const qa = ada.scores.map((s) => s.total);
      const qf = full.scores.map((s) => s.total);
      const diff = bootstrapMeanDifference(qa, qf);
      const saved = 1 - ada.seconds / full.seconds;
      const stepsFor = (objects: (k: number) => boolean) =>
        mean(selection.steps.filter((_, i) => objects(prompts[i].objects)));
      // "Kept" only when the interval allows it; otherwise the difference is stated with its interval.
      const interval = `${diff.estimate.toFixed(3)}, 95% CI ${diff.lower.toFixed(3)} to ${diff.upper.toFixed(3)}`;
      const verdict =
        diff.lower >= 0
          ? 'quality kept (the CI lies above 0)'
          : diff.upper >= 0
            ? 'quality kept (the CI includes 0)'
            : 'quality lower (the CI lies below 0)';
      const summary =
        `AdaDiff: mean ${mean(selection.steps).toFixed(1)} steps (1-2 objects ${stepsFor((k) => k <= 2).toFixed(1)}, ` +
        `5-6 objects ${stepsFor((k) => k >= 5).toFixed(1)}), ${ada.seconds.toFixed(2)} s, mean judge score ${mean(qa).toFixed(3)}\n` +
        `fixed ${smax}: ${smax} steps, ${full.seconds.toFixed(2)} s, mean judge score ${mean(qf).toFixed(3)}\n` +
        `time saved ${(100 * saved).toFixed(1)}%; judge score AdaDiff minus fixed ${smax}: ${interval} ` +
        `(paired bootstrap over these ${texts.length} prompts): ${verdict}\n` +
        `policy ${(selection.ms / texts.length).toFixed(2)} ms per prompt`;
      console.log(`\n${summary}`);
      writeFileSync(
        join(flags.out, 'index.html'),
        htmlPage(
          'adadiff demo',
          `<h1>AdaDiff on the embedded shapes model</h1>
<p>Held-out prompts, easy to hard. Each row: the step count the policy chose, its image and judge score,
and the ${smax}-step image from the same initial noise.</p>
<pre>${escapeHtml(summary)}</pre>
<table><thead><tr><th>prompt</th><th>objects</th><th>steps</th><th>AdaDiff</th><th>judge</th><th>${smax} steps</th><th>judge</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`,
        ),
      );
      console.log(`images and ${join(flags.out, 'index.html')} written`);
      await pipe.model.release();
    });
}
