import type { Command } from 'commander';
import { z } from 'zod';
import { initialLatents } from '../pipelines/latents.js';
import { DEFAULT_GUIDANCE_SCALE, selectRows, Text2ImagePipeline } from '../pipelines/text2img.js';
import { loadSelector } from '../policy/selector.js';
import { parseFlags } from './errors.js';
import { loadingSaysWhat, modelOption } from './options.js';

const SelectFlags = z.object({
  model: z.string().min(1),
  policy: z.string().optional(),
  prompt: z.array(z.string()).min(1, 'give at least one --prompt'),
});

export function registerSelect(program: Command) {
  program
    .command('select')
    .description(
      "print the policy's step count and probabilities for prompts, and its cost next to a UNet step",
    )
    .addOption(modelOption('model folder whose text encoder gives the features'))
    .option('--policy <dir>', "trained policy (default: the model folder's policy/)")
    .option('--prompt <text>', 'prompt; repeat for several', (v: string, acc: string[]) => [...acc, v], [])
    .action(async (raw) => {
      const flags = parseFlags(SelectFlags, raw);
      const pipe = await Text2ImagePipeline.load(flags.model, loadingSaysWhat);
      const selector = await loadSelector(flags.policy, flags.model);
      const encoded = await pipe.encode(flags.prompt, '', DEFAULT_GUIDANCE_SCALE);
      // Warm up the policy's session, then time it as a user's next call would see it.
      await selector.select(encoded.cond);
      const sel = await selector.select(encoded.cond);
      const unet = await pipe.denoise(initialLatents([0], pipe.latentSize), selectRows(encoded, [0]), {
        steps: 1,
      });
      const header = selector.stepSet.map((s) => `p(${s})`.padStart(7)).join(' ');
      console.log(`steps ${header}  prompt`);
      flags.prompt.forEach((prompt, i) => {
        const probs = sel.probabilities[i].map((p) => p.toFixed(3).padStart(7)).join(' ');
        console.log(`${String(sel.steps[i]).padStart(5)} ${probs}  ${prompt}`);
      });
      console.log(
        `policy: ${(sel.ms / flags.prompt.length).toFixed(2)} ms per prompt; ` +
          `UNet: ${unet.stepMs[0].toFixed(2)} ms per step (with guidance)`,
      );
    });
}
