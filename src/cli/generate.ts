import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_MODEL_DIR } from '../paths.js';
import { DEFAULT_GUIDANCE_SCALE, Text2ImagePipeline } from '../pipelines/text2img.js';
import { encodePng } from '../util/image.js';
import { intFlag, numberFlag, parseFlags } from './errors.js';
import { Progress } from './progress.js';

const GenerateFlags = z.object({
  model: z.string().min(1),
  prompt: z.array(z.string()).min(1, 'give at least one --prompt'),
  negativePrompt: z.string(),
  steps: intFlag(1, 1000),
  scheduler: z.enum(['ddim', 'dpm']),
  guidance: numberFlag.pipe(z.number().min(0, 'expected at least 0')),
  eta: numberFlag.pipe(z.number().min(0).max(1)),
  seed: intFlag(0, 2 ** 32 - 1),
  batch: intFlag(1, 64),
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

export function registerGenerate(program: Command) {
  program
    .command('generate')
    .description('generate images from text with a diffusion model folder (diffusers/Optimum ONNX layout)')
    .option('--model <dir>', 'model folder (default: the embedded shapes model)', DEFAULT_MODEL_DIR)
    .option(
      '--prompt <text>',
      'prompt; repeat for a batch of prompts',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--negative-prompt <text>', 'negative prompt for classifier-free guidance', '')
    .option('--steps <n>', 'number of denoising steps', '50')
    .option('--scheduler <name>', 'ddim or dpm (DPM-Solver++)', 'ddim')
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
      const pipeline = await Text2ImagePipeline.load(flags.model, { executionProvider: flags.provider });
      const prompts = flags.prompt.flatMap((p) => Array<string>(flags.batch).fill(p));
      const progress = new Progress('denoising', 'steps');
      progress.start(flags.steps);
      const result = await pipeline.generate({
        prompts,
        negativePrompt: flags.negativePrompt,
        steps: flags.steps,
        scheduler: flags.scheduler,
        guidanceScale: flags.guidance,
        eta: flags.eta,
        seed: flags.seed,
        onStep: (done) => progress.update(done),
      });
      progress.stop();
      for (const w of result.warnings) console.warn(`warning: ${w}`);
      const names = outputNames(flags.out, result.images.length);
      await Promise.all(
        result.images.map(async (img, i) => writeFile(names[i], await encodePng(img, flags.scale))),
      );
      const { textMs, stepMs, decodeMs, totalMs } = result.timings;
      const unetMs = stepMs.reduce((a, b) => a + b, 0);
      console.log(
        `wrote ${names.join(', ')} (${result.images[0].width}x${result.images[0].height}): ` +
          `${result.steps} steps in ${(totalMs / 1000).toFixed(2)} s ` +
          `(text ${textMs.toFixed(0)} ms, denoising ${unetMs.toFixed(0)} ms = ${(unetMs / result.steps).toFixed(1)} ms/step, ` +
          `decode ${decodeMs.toFixed(0)} ms)`,
      );
    });
}
