import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { policyDataset } from '../collect/dataset.js';
import { compareMethods, comparisonMarkdown } from '../eval/compare.js';
import { readCollected } from '../eval/report-collected.js';
import { Text2ImagePipeline } from '../pipelines/text2img.js';
import { loadCheckpoint, saveCheckpoint } from '../policy/checkpoint.js';
import { PAPER_DEFAULTS } from '../policy/config.js';
import { dataHash, scoreRows, splitByPrompt } from '../policy/dataset.js';
import { networkConfig } from '../policy/network.js';
import { autoGamma, oracleIndex, type RewardConfig } from '../policy/reward.js';
import { StepSelector } from '../policy/selector.js';
import { type TrainOptions, trainPolicy } from '../policy/train.js';
import { loadScorer } from '../worlds/index.js';
import { stepSetFlag } from './collect.js';
import { intFlag, numberFlag, parseFlags } from './errors.js';
import { modelOption } from './options.js';

const RewardFlags = {
  reward: z.enum(['topk', 'threshold', 'steps-only']),
  lambda: numberFlag,
  k: intFlag(1),
  gamma: z.union([z.literal('auto'), numberFlag], { error: 'expected "auto" or a number' }),
  threshold: numberFlag,
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
  seed: intFlag(0, 2 ** 31 - 1),
  resume: z.boolean(),
  steps: stepSetFlag,
  ...RewardFlags,
});

const EvaluateFlags = z.object({
  db: z.string().min(1),
  policy: z.string().min(1),
  model: z.string().min(1),
  scorer: z.string().min(1),
  randomRuns: intFlag(1, 100),
  batch: intFlag(1, 256),
  set: z.enum(['test', 'val', 'train', 'all']),
  out: z.string().optional(),
});

/** Settings that differ between a checkpoint and a resumed run's flags (the epoch count may grow). */
function resumeMismatches(
  wasT: TrainOptions,
  wasR: RewardConfig,
  nowT: TrainOptions,
  nowR: RewardConfig,
): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['batch', wasT.batchSize, nowT.batchSize],
    ['lr', wasT.learningRate, nowT.learningRate],
    ['gradient', wasT.gradient, nowT.gradient],
    ['baseline', wasT.baseline, nowT.baseline],
    ['seed', wasT.seed, nowT.seed],
    ['reward', wasR.kind, nowR.kind],
    ['lambda', wasR.lambda, nowR.lambda],
    ['k', wasR.topK, nowR.topK],
    ['gamma', wasR.gamma, nowR.gamma],
    ['threshold', wasR.threshold, nowR.threshold],
    ['steps', wasR.steps.join(','), nowR.steps.join(',')],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([name, a, b]) => `--${name} was ${a}, now ${b}`);
}

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
    .option('--seed <n>', 'seed of weights, shuffles and sampled actions', '0')
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option(
      '--steps <list>',
      'the step set S (step counts the database holds)',
      PAPER_DEFAULTS.steps.join(','),
    )
    .action(async (raw) => {
      const flags = parseFlags(TrainFlags, raw);
      const steps = flags.steps;
      const { prompts, settings } = readCollected(flags.db, steps);
      const pipe = await Text2ImagePipeline.load(flags.model);
      const data = await policyDataset(pipe, prompts);
      await pipe.model.release();
      const split = splitByPrompt(data);
      const criterion = {
        kind: flags.reward,
        steps,
        lambda: flags.lambda,
        topK: flags.k,
        threshold: flags.threshold,
      };
      const gamma = flags.gamma === 'auto' ? autoGamma(scoreRows(data, split.train), criterion) : flags.gamma;
      const reward: RewardConfig = { ...criterion, gamma };
      const options: TrainOptions = {
        epochs: flags.epochs,
        batchSize: flags.batch,
        learningRate: flags.lr,
        gradient: flags.gradient,
        baseline: flags.baseline,
        seed: flags.seed,
      };
      const hash = dataHash(data);
      const resume = flags.resume ? await loadCheckpoint(flags.out) : undefined;
      if (resume) {
        if (resume.dataHash !== hash) {
          throw new Error(`${flags.out} was trained on other data (hash ${resume.dataHash.slice(0, 12)}...)`);
        }
        // Only the epoch count may change on resume; anything else would silently mix two runs.
        const changed = resumeMismatches(resume.training, resume.reward, options, reward);
        if (changed.length) {
          throw new Error(
            `${flags.out} was trained with other flags (${changed.join('; ')}); resume with the same ones`,
          );
        }
      }
      const network = resume?.network ?? networkConfig(data.dims.l, data.dims.d, steps.length);
      console.log(
        `${data.dims.n} prompts (train ${split.train.length}, val ${split.val.length}, test ${split.test.length}) ` +
          `from ${flags.db} [scorer ${settings.scorer}, S = ${steps.join(',')}, gamma ${gamma.toFixed(3)}]`,
      );
      mkdirSync(flags.out, { recursive: true });
      const commandLine = ['adadiff', ...process.argv.slice(2)];
      await trainPolicy({
        data,
        split,
        reward,
        network,
        options,
        resume: resume?.state,
        onEpoch: (log, state) => {
          saveCheckpoint(flags.out, {
            network,
            reward,
            training: options,
            dataHash: hash,
            commandLine,
            state,
          });
          console.log(
            `epoch ${log.epoch}: train reward ${log.trainReward.toFixed(4)}, val reward ${log.valReward.toFixed(4)}, ` +
              `entropy ${log.entropy.toFixed(3)}, mean steps ${log.meanSteps.toFixed(2)} (${log.seconds.toFixed(1)} s)`,
          );
        },
      });
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
    .action(async (raw) => {
      const flags = parseFlags(EvaluateFlags, raw);
      const selector = await StepSelector.load(flags.policy);
      const steps = selector.stepSet;
      const { prompts, settings } = readCollected(flags.db, steps);
      const pipe = await Text2ImagePipeline.load(flags.model);
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
