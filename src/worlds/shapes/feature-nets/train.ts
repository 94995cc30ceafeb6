/**
 * Trains one feature network for a wall-clock budget, exports its folder (export.ts), measures it
 * on held-out renders through the metrics loaders (evaluate.ts), and records how it was made in
 * TRAINING.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blockUntilReady,
  countParams,
  fromHost,
  initEngine,
  loadSafetensors,
  np,
  type ParamTree,
  type Tensor,
  toHost,
  tree,
} from '../../../engine/index.js';
import { Rng } from '../../../util/random.js';
import { batchRng, classifierBatch, clipBatch, contrastiveScenes, IMAGE_SIZE } from './batches.js';
import { classifierLoss, initClassifier } from './classifier.js';
import { clipLoss, initClip } from './clip.js';
import { type CnnConfig, mapSize } from './cnn.js';
import { FEATURE_NETS, type FitConfig } from './config.js';
import { evaluateClassifier, evaluateClip, METRIC_NOTES } from './evaluate.js';
import { exportClassifier, exportClip } from './export.js';
import { type FitResult, fit } from './fit.js';
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
  /** Mean training loss over the last logged steps. */
  readonly loss: number;
  readonly metrics: Record<string, number>;
}

const cnnSummary = (cfg: CnnConfig) =>
  `CNN on ${cfg.imageSize}x${cfg.imageSize} RGB: 3x3 convolutions of ${cfg.channels.join('-')} channels, ` +
  `ReLU, 2x2 max pooling between them (to a ${mapSize(cfg)}x${mapSize(cfg)} map)`;

const pixelsTensor = (pixels: Float32Array) => np.array(pixels).reshape([-1, 3, IMAGE_SIZE, IMAGE_SIZE]);

/** TRAINING.md: the command, the run and the held-out numbers. */
function trainingMarkdown(
  kind: FeatureNetKind,
  opts: FeatureNetTrainOptions,
  architecture: string,
  fitCfg: FitConfig,
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
    `- seed ${opts.seed}; ${report.steps} steps of batch ${fitCfg.batchSize} in ${report.minutes.toFixed(1)} min on the CPU (WebAssembly) engine; final training loss ${report.loss.toFixed(4)}`,
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

/** Trains, then frees the engine arrays, returning host weights. */
async function trainWeights<P extends ParamTree>(
  opts: FeatureNetTrainOptions,
  fitCfg: FitConfig,
  params: P,
  loss: (p: P, inputs: Tensor[]) => Tensor,
  batch: (step: number) => Tensor[],
) {
  const log = opts.log ?? ((line: string) => console.log(line));
  const count = countParams(params);
  log(`${count.toLocaleString('en-US')} parameters`);
  const fitted: FitResult<P> = await fit({
    cfg: fitCfg,
    params,
    loss,
    batch,
    minutes: opts.minutes,
    steps: opts.steps,
    log,
  });
  const weights = toHost(await blockUntilReady(fitted.params));
  tree.dispose(fitted.params);
  return { weights, count, steps: fitted.steps, minutes: fitted.seconds / 60, loss: fitted.loss, log };
}

/** The world classifier (classifier.ts) into opts.out, for loadImageFeatureNet. */
export async function trainClassifier(opts: FeatureNetTrainOptions): Promise<FeatureNetReport> {
  await initEngine();
  const { fit: fitCfg, ...cfg } = FEATURE_NETS.classifier;
  const b = fitCfg.batchSize;
  const trained = await trainWeights(
    opts,
    fitCfg,
    initClassifier(cfg, new Rng(opts.seed)),
    (p, [x, kinds, aux]) => classifierLoss(cfg, p, x, kinds, aux),
    (step) => {
      const batch = classifierBatch(batchRng(opts.seed, step), b);
      return [
        pixelsTensor(batch.pixels),
        np.array(batch.kinds).reshape([b, KINDS.length]),
        np.array(batch.aux).reshape([b, AUX_CLASSES]),
      ];
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
  await initEngine();
  const { fit: fitCfg, siblingShare, text, ...rest } = FEATURE_NETS.clip;
  const tokenizer = textTokenizer(text.maxTokens);
  const cfg = { ...rest, text: { ...text, vocabSize: tokenizer.vocab.length } };
  const b = fitCfg.batchSize;
  const params = initClip(cfg, new Rng(opts.seed));
  if (opts.imageInit !== undefined) {
    const { tensors } = loadSafetensors(join(opts.imageInit, 'model.safetensors'));
    const trunk = new Map(
      [...tensors].filter(([k]) => k.startsWith('cnn.')).map(([k, v]) => [k.slice(4), v]),
    );
    const cnn = fromHost(params.image.cnn, trunk);
    tree.dispose(params.image.cnn);
    params.image.cnn = cnn;
  }
  const trained = await trainWeights(
    opts,
    fitCfg,
    params,
    (p, [x, ids]) => clipLoss(cfg, p, x, ids),
    (step) => {
      const rng = batchRng(opts.seed, step);
      const batch = clipBatch(rng, contrastiveScenes(rng, b, siblingShare), tokenizer);
      return [
        pixelsTensor(batch.pixels),
        np.array(batch.ids, { dtype: np.int32 }).reshape([b, text.maxTokens]),
      ];
    },
  );
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
