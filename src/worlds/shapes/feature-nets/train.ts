/**
 * Trains one feature network for a wall-clock budget, exports its folder (export.ts), measures it
 * on held-out renders through the metrics loaders (evaluate.ts), and records how it was made in
 * TRAINING.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph, Tensor } from '../../../graph/graph.js';
import { checkWeights, countWeights, type HostTensor, initWeights } from '../../../graph/params.js';
import { loadSafetensors } from '../../../graph/safetensors.js';
import { type Feed, floatFeed, GradientSession, int64Feed } from '../../../graph/session.js';
import { freshState, runTraining, type TrainerConfig } from '../../../graph/trainer.js';
import { Rng } from '../../../util/random.js';
import { batchRng, classifierBatch, clipBatch, contrastiveScenes, IMAGE_SIZE } from './batches.js';
import { classifierLoss } from './classifier.js';
import { clipLoss } from './clip.js';
import { type CnnConfig, mapSize } from './cnn.js';
import { FEATURE_NETS } from './config.js';
import { evaluateClassifier, evaluateClip, METRIC_NOTES } from './evaluate.js';
import { exportClassifier, exportClip } from './export.js';
import { AUX_CLASSES, KINDS } from './labels.js';
import { textTokenizer } from './text-encoder.js';

export const FEATURE_NET_KINDS = ['classifier', 'clip'] as const;
export type FeatureNetKind = (typeof FEATURE_NET_KINDS)[number];

export interface FeatureNetTrainOptions {
  readonly out: string;
  readonly seed: number;
  /** Training budget; export and evaluation come after it. */
  readonly minutes: number;
  readonly steps?: number;
  /**
   * CLIP only: a trained classifier folder whose CNN trunk (model.safetensors) starts the image
   * tower, so the contrastive budget goes to the text tower and the alignment.
   */
  readonly imageInit?: string;
  readonly log?: (line: string) => void;
}

export interface FeatureNetReport {
  readonly params: number;
  readonly steps: number;
  readonly minutes: number;
  /** Training loss of the last step. */
  readonly loss: number;
  readonly metrics: Record<string, number>;
}

const cnnSummary = (cfg: CnnConfig) =>
  `CNN on ${cfg.imageSize}x${cfg.imageSize} RGB: 3x3 convolutions of ${cfg.channels.join('-')} channels, ` +
  `ReLU, 2x2 max pooling between them (to a ${mapSize(cfg)}x${mapSize(cfg)} map)`;

const pixelsFeed = (pixels: Float32Array, batch: number) =>
  floatFeed(pixels, [batch, 3, IMAGE_SIZE, IMAGE_SIZE]);

/** TRAINING.md: the command, the run and the held-out numbers. */
function trainingMarkdown(
  kind: FeatureNetKind,
  opts: FeatureNetTrainOptions,
  architecture: string,
  fitCfg: TrainerConfig,
  report: FeatureNetReport,
): string {
  const steps = opts.steps === undefined ? '' : ` --steps ${opts.steps}`;
  const init = opts.imageInit === undefined ? '' : ` --image-init ${opts.imageInit}`;
  return [
    `# shapes-${kind}: training record`,
    '',
    'An in-domain network for the shapes world, trained here because no pretrained Inception or CLIP',
    'can be used on it; metrics computed with it are labelled "in-domain".',
    '',
    '```',
    `adadiff world feature-nets train ${kind} --out ${opts.out} --minutes ${opts.minutes} --seed ${opts.seed}${steps}${init}`,
    '```',
    '',
    `- architecture: ${architecture}`,
    `- parameters: ${report.params.toLocaleString('en-US')}`,
    `- seed ${opts.seed}; ${report.steps} steps of batch ${fitCfg.batchSize} in ${report.minutes.toFixed(1)} min on ONNX Runtime (CPU); final training loss ${report.loss.toFixed(4)}`,
    `- hyper-parameters: \`FEATURE_NETS.${kind}\` in src/worlds/shapes/feature-nets/config.ts`,
    `- trained ${new Date().toISOString().slice(0, 10)}`,
    '',
    '## Held-out results',
    '',
    'Scenes from seeds at and above HELD_OUT_SEED (never drawn in training), scored through the',
    'metrics loaders on this folder:',
    '',
    '| metric | value | meaning |',
    '| --- | --- | --- |',
    ...Object.entries(report.metrics).map(
      ([k, v]) => `| ${k} | ${Number.isInteger(v) ? v : v.toFixed(4)} | ${METRIC_NOTES[k] ?? ''} |`,
    ),
    '',
  ].join('\n');
}

/** Trains the network's training graph from `params` (updated in place) with the shared loop. */
async function trainWeights(
  opts: FeatureNetTrainOptions,
  fitCfg: TrainerConfig,
  net: { g: Graph; loss: Tensor },
  params: Map<string, HostTensor>,
  batch: (step: number) => Record<string, Feed>,
) {
  const log = opts.log ?? ((line: string) => console.log(line));
  const count = countWeights(params);
  log(`${count.toLocaleString('en-US')} parameters`);
  const started = Date.now();
  const session = await GradientSession.create(net.g, net.loss);
  try {
    const state = freshState(fitCfg, params, opts.steps ?? null);
    // No checkpoints: export.ts writes the folder when the run ends.
    const run = await runTraining({
      config: fitCfg,
      session,
      state,
      batch,
      minutes: opts.minutes,
      save: () => {},
      log,
    });
    return {
      weights: params,
      count,
      steps: run.steps,
      minutes: (Date.now() - started) / 60_000,
      loss: run.loss,
      log,
    };
  } finally {
    await session.release();
  }
}

/** The world classifier (classifier.ts) into opts.out, for loadImageFeatureNet. */
export async function trainClassifier(opts: FeatureNetTrainOptions): Promise<FeatureNetReport> {
  const { fit: fitCfg, ...cfg } = FEATURE_NETS.classifier;
  const b = fitCfg.batchSize;
  const net = classifierLoss(cfg, b);
  const trained = await trainWeights(
    opts,
    fitCfg,
    net,
    initWeights(net.g.paramSpecs(), new Rng(opts.seed)),
    (step) => {
      const batch = classifierBatch(batchRng(opts.seed, step), b);
      return {
        image: pixelsFeed(batch.pixels, b),
        kinds: floatFeed(batch.kinds, [b, KINDS.length]),
        aux: floatFeed(batch.aux, [b, AUX_CLASSES]),
      };
    },
  );
  exportClassifier(opts.out, cfg, trained.weights, { seed: opts.seed, steps: trained.steps });
  trained.log(`exported to ${opts.out}; evaluating on held-out renders`);
  const report: FeatureNetReport = {
    params: trained.count,
    steps: trained.steps,
    minutes: trained.minutes,
    loss: trained.loss,
    metrics: { ...(await evaluateClassifier(opts.out)) },
  };
  const architecture =
    `${cnnSummary(cfg.cnn)}, maximum and mean over the map -> GELU ${cfg.featureDim}-d \`features\` -> ` +
    `\`logits\` over ${KINDS.length} kinds (shape x colour; soft label: share of object area); ` +
    'training-only auxiliary head: object count, detail shares';
  writeFileSync(
    join(opts.out, 'TRAINING.md'),
    trainingMarkdown('classifier', opts, architecture, fitCfg, report),
  );
  return report;
}

/** The CLIP-like pair (clip.ts) into opts.out, for loadClipNet. */
export async function trainClip(opts: FeatureNetTrainOptions): Promise<FeatureNetReport> {
  const { fit: fitCfg, siblingShare, text, ...rest } = FEATURE_NETS.clip;
  const tokenizer = textTokenizer(text.maxTokens);
  const cfg = { ...rest, text: { ...text, vocabSize: tokenizer.vocab.length } };
  const b = fitCfg.batchSize;
  const net = clipLoss(cfg, b);
  const params = initWeights(net.g.paramSpecs(), new Rng(opts.seed));
  if (opts.imageInit !== undefined) {
    const path = join(opts.imageInit, 'model.safetensors');
    const { tensors } = loadSafetensors(path);
    // The classifier's `cnn.*` is the image tower's `image.cnn.*`.
    const classifier = new Map([...tensors].map(([k, v]) => [`image.${k}`, v]));
    const trunk = net.g.paramSpecs().filter((s) => s.name.startsWith('image.cnn.'));
    checkWeights(trunk, classifier, path);
    for (const s of trunk) params.set(s.name, classifier.get(s.name)!);
  }
  const trained = await trainWeights(opts, fitCfg, net, params, (step) => {
    const rng = batchRng(opts.seed, step);
    const batch = clipBatch(rng, contrastiveScenes(rng, b, siblingShare), tokenizer);
    return {
      pixel_values: pixelsFeed(batch.pixels, b),
      input_ids: int64Feed(batch.ids, [b, text.maxTokens]),
    };
  });
  exportClip(opts.out, cfg, trained.weights, tokenizer.vocab, { seed: opts.seed, steps: trained.steps });
  trained.log(`exported to ${opts.out}; evaluating on held-out pairs`);
  const scale = Math.min(Math.exp(trained.weights.get('logitScale')!.data[0]), cfg.maxLogitScale);
  const report: FeatureNetReport = {
    params: trained.count,
    steps: trained.steps,
    minutes: trained.minutes,
    loss: trained.loss,
    metrics: { ...(await evaluateClip(opts.out)), logitScale: scale },
  };
  const architecture =
    `image: ${cnnSummary(cfg.cnn)}, the whole map flattened` +
    (opts.imageInit === undefined ? '' : ` (trunk initialised from ${opts.imageInit})`) +
    `; text: ${text.depth}-block transformer over ${text.maxTokens} word ` +
    `tokens (dim ${text.dim}, padding masked), mean over real tokens; linear projections to ${cfg.embedDim}-d; ` +
    `symmetric InfoNCE with a learned temperature; ${siblingShare * 100}% of each batch are one-edit ` +
    'sibling scenes (hard negatives)';
  writeFileSync(join(opts.out, 'TRAINING.md'), trainingMarkdown('clip', opts, architecture, fitCfg, report));
  return report;
}

/** Trains the named network. */
export const trainFeatureNet = (kind: FeatureNetKind, opts: FeatureNetTrainOptions) =>
  kind === 'classifier' ? trainClassifier(opts) : trainClip(opts);
