import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { policyDataset } from '../collect/dataset.js';
import { compareMethods, comparisonMarkdown } from '../eval/compare.js';
import { readCollected } from '../eval/report-collected.js';
import { Text2ImagePipeline } from '../pipelines/text2img.js';
import { checkBudget } from '../policy/budget.js';
import { PAPER_DEFAULTS } from '../policy/config.js';
import { splitByPrompt } from '../policy/dataset.js';
import { oracleIndex } from '../policy/reward.js';
import { StepSelector } from '../policy/selector.js';
import { checkCheckpointOut, trainToCheckpoint } from '../policy/train-run.js';
import { loadScorer } from '../worlds/index.js';
import { batchFlag, intFlag, numberFlag, parseFlags, seedFlag, stepSetFlag, UsageError } from './errors.js';
import { loadingSaysWhat, modelOption, warnIfIncomplete } from './options.js';
import { checkFreshFolder } from './outputs.js';

const RewardFlags = {
  reward: z.enum(['topk', 'threshold', 'steps-only']),
  lambda: numberFlag,
  k: intFlag(1),
  gamma: z.union([z.literal('auto'), numberFlag], { error: 'expected "auto" or a number' }),
  threshold: numberFlag,
  quality: z.enum(['absolute', 'relative']),
};

const TrainFlags = z.object({
  db: z.string().min(1),
  out: z.string().min(1),
  model: z.string().min(1),
  epochs: intFlag(1, 100_000),
  batch: intFlag(1, 65_536),
  lr: numberFlag.pipe(z.number().positive('expected a positive learning rate')),
  gradient: z.enum(['reinforce', 'exact']),
  baseline: z.enum(['none', 'mean']),
  seed: seedFlag,
  resume: z.boolean(),
  force: z.boolean(),
  steps: stepSetFlag,
  budget: numberFlag.optional(),
  ...RewardFlags,
});

const EvaluateFlags = z.object({
  db: z.string().min(1),
  policy: z.string().min(1),
  model: z.string().min(1),
  scorer: z.string().min(1),
  randomRuns: intFlag(1, 100),
  batch: batchFlag,
  set: z.enum(['test', 'val', 'train', 'all']),
  out: z.string().min(1).optional(),
  force: z.boolean(),
});

export function registerPolicy(program: Command) {
  const policy = program.command('policy').description('train and evaluate the step-selection policy');
  policy
    .command('train')
    .description(
      'train the step-selection network with REINFORCE (or the exact gradient) on a collect database',
    )
    .requiredOption('--db <file.sqlite>', 'collect database')
    .requiredOption('--out <dir>', 'checkpoint folder (written after every epoch)')
    .addOption(modelOption('model whose text encoder gives the features (the one collect used)'))
    .option('--epochs <n>', 'epochs', String(PAPER_DEFAULTS.epochs))
    .option('--batch <n>', 'mini-batch size', String(PAPER_DEFAULTS.batchSize))
    .option('--lr <rate>', 'Adam learning rate', String(PAPER_DEFAULTS.learningRate))
    .option(
      '--gradient <kind>',
      'reinforce (sampled actions, as the paper) or exact (expectation over S)',
      'reinforce',
    )
    .option('--baseline <kind>', 'none (as the paper) or mean (subtract the batch mean reward)', 'none')
    .option('--reward <kind>', 'topk (Eq. 5), threshold, or steps-only', 'topk')
    .option('--lambda <x>', 'weight of the quality term', String(PAPER_DEFAULTS.lambda))
    .option('--k <n>', 'top-k for "high quality"', String(PAPER_DEFAULTS.topK))
    .option(
      '--gamma <x|auto>',
      'penalty for a low-quality choice; auto: the smallest (>= 1) below every high-quality reward of the training prompts',
      String(PAPER_DEFAULTS.gamma),
    )
    .option('--threshold <x>', 'score threshold for --reward threshold', '0')
    .option(
      '--quality <scale>',
      "Q's scale in the reward: relative (less the prompt's best score) or absolute (the paper's)",
      PAPER_DEFAULTS.quality,
    )
    .option('--seed <n>', 'seed of weights, shuffles and sampled actions', '0')
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--force', 'replace a checkpoint already in --out', false)
    .option(
      '--steps <list>',
      'the step set S (step counts the database holds)',
      PAPER_DEFAULTS.steps.join(','),
    )
    .option(
      '--budget <steps>',
      'a mean step count B: the best quality at that mean (reward Q less a step cost priced to meet B, calibrated on the validation prompts); replaces --reward',
    )
    .action(async (raw) => {
      const flags = parseFlags(TrainFlags, raw);
      if (flags.budget !== undefined) {
        if (flags.reward !== 'topk')
          throw new UsageError('--budget sets the reward itself; give it without --reward');
        try {
          checkBudget(flags.budget, flags.steps);
        } catch (err) {
          throw new UsageError(`--budget: ${(err as Error).message}`);
        }
      }
      checkCheckpointOut(flags.out, flags.resume, flags.force);
      const steps = flags.steps;
      const { prompts, settings, incomplete } = readCollected(flags.db, steps);
      warnIfIncomplete(flags.db, incomplete);
      const pipe = await Text2ImagePipeline.load(flags.model, loadingSaysWhat);
      const data = await policyDataset(pipe, prompts);
      await pipe.model.release();
      const split = splitByPrompt(data);
      console.log(
        `${data.dims.n} prompts (train ${split.train.length}, val ${split.val.length}, test ${split.test.length}) ` +
          `from ${flags.db} [scorer ${settings.scorer}, S = ${steps.join(',')}]`,
      );
      const { reward, validationMean } = await trainToCheckpoint({
        data,
        split,
        reward: {
          kind: flags.budget === undefined ? flags.reward : 'budget',
          budget: flags.budget,
          steps,
          lambda: flags.lambda,
          topK: flags.k,
          threshold: flags.threshold,
          quality: flags.quality,
          gamma: flags.gamma,
        },
        training: {
          epochs: flags.epochs,
          batchSize: flags.batch,
          learningRate: flags.lr,
          gradient: flags.gradient,
          baseline: flags.baseline,
          seed: flags.seed,
        },
        out: flags.out,
        resume: flags.resume,
        force: flags.force,
        commandLine: ['adadiff', ...process.argv.slice(2)],
        onEpoch: (log) =>
          console.log(
            `epoch ${log.epoch}: train reward ${log.trainReward.toFixed(4)}, val reward ${log.valReward.toFixed(4)}, ` +
              `entropy ${log.entropy.toFixed(3)}, mean steps ${log.meanSteps.toFixed(2)} (${log.seconds.toFixed(1)} s)`,
          ),
      });
      const b = reward.budget;
      console.log(
        b
          ? `${flags.out}: policy checkpoint for a mean of ${b.target} steps: ${validationMean?.toFixed(2)} on the ` +
              `validation prompts (step cost mu ${b.multiplier.toFixed(3)}, logit shift nu ${b.calibration.toFixed(3)})`
          : `${flags.out}: policy checkpoint (gamma ${reward.gamma.toFixed(3)})`,
      );
    });

  policy
    .command('evaluate')
    .description(
      "generate the database's test prompts with AdaDiff, fixed steps and a random policy, in one run",
    )
    .requiredOption('--db <file.sqlite>', 'collect database (prompts and seeds as collected)')
    .requiredOption('--policy <dir>', 'trained policy')
    .addOption(modelOption())
    .option('--scorer <name|dir>', '"world" or an ONNX reward-model folder', 'world')
    .option('--random-runs <n>', 'runs of the random policy', '5')
    .option('--batch <n>', 'prompts per batch', '16')
    .option('--set <name>', "which of the database's prompt sets: test, val, train or all", 'test')
    .option('--out <dir>', 'write comparison.json and comparison.md here')
    .option('--force', 'write over a comparison already in --out', false)
    .action(async (raw) => {
      const flags = parseFlags(EvaluateFlags, raw);
      if (flags.out) checkFreshFolder(flags.out, '--out', flags.force);
      const selector = await StepSelector.load(flags.policy);
      const steps = selector.stepSet;
      const { prompts, settings, incomplete } = readCollected(flags.db, steps);
      warnIfIncomplete(flags.db, incomplete);
      const pipe = await Text2ImagePipeline.load(flags.model, loadingSaysWhat);
      const data = await policyDataset(pipe, prompts);
      const split = splitByPrompt(data);
      const rows = flags.set === 'all' ? prompts.map((_, i) => i) : split[flags.set];
      const test = rows.map((row) => prompts[row]);
      if (test.length === 0)
        throw new Error(`${flags.db}: the ${flags.set} set is empty; collect more prompts`);
      const oracleSteps = test.map((p) => steps[oracleIndex(p.scores, selector.reward)]);
      const comparison = await compareMethods(
        pipe,
        await loadScorer(flags.scorer),
        selector,
        test.map((p) => p.prompt),
        test.map((p) => p.seed),
        {
          scheduler: settings.scheduler,
          guidanceScale: settings.guidance,
          batchSize: flags.batch,
          fixed: steps,
          randomRuns: flags.randomRuns,
          randomSeed: 1,
        },
      );
      const oracleMean = oracleSteps.reduce((a, b) => a + b, 0) / oracleSteps.length;
      const md = `${comparisonMarkdown(comparison)}\n\noracle (fewest steps reaching the top-${selector.reward.topK}): mean ${oracleMean.toFixed(2)} steps over ${test.length} ${flags.set} prompts\n`;
      console.log(md);
      if (flags.out) {
        mkdirSync(flags.out, { recursive: true });
        const { rows, ...rest } = comparison;
        writeFileSync(
          join(flags.out, 'comparison.json'),
          `${JSON.stringify({ prompts: test.length, oracleMeanSteps: oracleMean, ...rest, rows }, null, 2)}\n`,
        );
        writeFileSync(join(flags.out, 'comparison.md'), md);
      }
    });
}
