import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_GUIDANCE_SCALE, Text2ImagePipeline } from '../pipelines/text2img.js';
import { generateAdaptive } from '../policy/adaptive.js';
import { loadSelector } from '../policy/selector.js';
import { type ResolvedSchedulerConfig, resolveSchedulerConfig } from '../schedulers/index.js';
import { encodePng, type RgbImage } from '../util/image.js';
import { batchFlag, guidanceFlag, intFlag, MAX_STEPS, numberFlag, parseFlags, seedFlag } from './errors.js';
import { checkStepsFlag, loadingSaysWhat, modelOption } from './options.js';
import { checkWritableFile } from './outputs.js';
import { Progress } from './progress.js';

const GenerateFlags = z.object({
  model: z.string().min(1),
  prompt: z.array(z.string()).min(1, 'give at least one --prompt'),
  negativePrompt: z.string(),
  steps: z.union([z.literal('auto'), intFlag(1, MAX_STEPS)], {
    error: `expected an integer from 1 to ${MAX_STEPS} or "auto"`,
  }),
  policy: z.string().optional(),
  scheduler: z.enum(['ddim', 'dpm']).optional(),
  guidance: guidanceFlag,
  eta: numberFlag.pipe(z.number().min(0).max(1)),
  seed: seedFlag,
  batch: batchFlag,
  out: z.string().refine((f) => extname(f).toLowerCase() === '.png', 'expected a .png file name'),
  provider: z.enum(['cpu', 'cuda', 'webgpu']),
  scale: intFlag(1, 16),
});

/** out.png for one image; out-1.png, out-2.png, ... for several. */
export function outputNames(out: string, n: number): string[] {
  if (n === 1) return [out];
  const stem = out.slice(0, -extname(out).length);
  return Array.from({ length: n }, (_, i) => `${stem}-${i + 1}.png`);
}

const SAMPLER_NAMES = { ddim: 'DDIM', dpm: 'DPM-Solver++' } as const;

/** Which of the model's own scheduler settings the chosen sampler took over, as diffusers' from_config does. */
export function describeScheduler(r: ResolvedSchedulerConfig): string {
  const list = (keys: string[]) => (keys.length > 0 ? keys.join(', ') : 'none');
  const source = r.sourceClass === null ? 'scheduler config (no _class_name)' : `${r.sourceClass} config`;
  return (
    `scheduler: ${SAMPLER_NAMES[r.kind]} configured from the model's ${source} ` +
    `(carried over: ${list(r.carried)}; ignored: ${list(r.ignored)})`
  );
}

export function registerGenerate(program: Command) {
  program
    .command('generate')
    .description('generate images from text with a diffusion model folder (diffusers/Optimum ONNX layout)')
    .addOption(modelOption())
    .option(
      '--prompt <text>',
      'prompt; repeat for a batch of prompts',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--negative-prompt <text>', 'negative prompt for classifier-free guidance', '')
    .option(
      '--steps <n|auto>',
      'number of denoising steps, or "auto" to let the policy choose per prompt',
      '50',
    )
    .option('--policy <dir>', "step-selection policy for --steps auto (default: the model folder's policy/)")
    .option(
      '--scheduler <name>',
      "ddim or dpm (DPM-Solver++); default: the one the model's scheduler config names",
    )
    .option(
      '--guidance <scale>',
      'classifier-free guidance scale (<= 1 turns it off)',
      String(DEFAULT_GUIDANCE_SCALE),
    )
    .option('--eta <eta>', 'DDIM eta (0 = deterministic)', '0')
    .option('--seed <n>', 'seed of the first image; image i uses seed + i', '0')
    .option('--batch <n>', 'images per prompt, generated in one batch', '1')
    .option('--out <file.png>', 'output PNG (numbered when several images)', 'out.png')
    .option('--provider <name>', 'execution provider: cpu, cuda or webgpu', 'cpu')
    .option('--scale <n>', 'enlarge the saved PNG n times (nearest neighbour)', '1')
    .action(async (raw) => {
      const flags = parseFlags(GenerateFlags, raw);
      checkWritableFile(flags.out, '--out');
      const pipeline = await Text2ImagePipeline.load(flags.model, {
        ...loadingSaysWhat,
        executionProvider: flags.provider,
      });
      // On stderr, so stdout keeps its one summary line; a config the sampler cannot take fails here.
      console.error(
        describeScheduler(
          resolveSchedulerConfig(
            flags.scheduler ?? pipeline.defaultScheduler,
            pipeline.model.schedulerConfig,
          ),
        ),
      );
      if (flags.steps !== 'auto') checkStepsFlag(pipeline, [flags.steps], flags.scheduler);
      const prompts = flags.prompt.flatMap((p) => Array<string>(flags.batch).fill(p));
      const common = {
        prompts,
        negativePrompt: flags.negativePrompt,
        scheduler: flags.scheduler,
        guidanceScale: flags.guidance,
        eta: flags.eta,
        seed: flags.seed,
      };
      let images: RgbImage[];
      let summary: string;
      let warnings: string[];
      if (flags.steps === 'auto') {
        const selector = await loadSelector(flags.policy, flags.model);
        const res = await generateAdaptive(pipeline, selector, common);
        images = res.images.map((r) => r.image);
        warnings = res.warnings;
        const perPrompt = res.images.map((r) => r.steps).join(', ');
        const seconds = res.images.reduce((a, r) => a + r.seconds, 0);
        summary =
          `policy chose ${perPrompt} steps; ${seconds.toFixed(2)} s in all ` +
          `(policy ${res.selection.ms.toFixed(1)} ms for ${prompts.length} prompt(s), UNet ${res.unetMsPerStep.toFixed(1)} ms/step)`;
      } else {
        const progress = new Progress('denoising', 'steps');
        progress.start(flags.steps);
        const res = await pipeline.generate({
          ...common,
          steps: flags.steps,
          onStep: (done) => progress.update(done),
        });
        progress.stop();
        images = res.images;
        warnings = res.warnings;
        const { textMs, stepMs, decodeMs, totalMs } = res.timings;
        const unetMs = stepMs.reduce((a, b) => a + b, 0);
        summary =
          `${res.steps} steps in ${(totalMs / 1000).toFixed(2)} s ` +
          `(text ${textMs.toFixed(0)} ms, denoising ${unetMs.toFixed(0)} ms = ${(unetMs / res.steps).toFixed(1)} ms/step, ` +
          `decode ${decodeMs.toFixed(0)} ms)`;
      }
      for (const w of warnings) console.warn(`warning: ${w}`);
      const names = outputNames(flags.out, images.length);
      await Promise.all(images.map(async (img, i) => writeFile(names[i], await encodePng(img, flags.scale))));
      console.log(`wrote ${names.join(', ')} (${images[0].width}x${images[0].height}): ${summary}`);
    });
}
