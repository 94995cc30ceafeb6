/**
 * Every hyper-parameter of the in-domain feature networks (the classifier behind IS and FID, the
 * CLIP-like pair behind CLIP score) in one place. Sized so that each trains in about eight minutes
 * on the CPU.
 */
import type { TrainerConfig } from '../../../graph/trainer.js';
import type { CnnConfig } from './cnn.js';

export interface TextConfig {
  readonly vocabSize: number;
  readonly maxTokens: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpRatio: number;
}

/** The same run for both networks; no clipping, EMA or mid-run checkpoints (a run takes minutes). */
const fit: TrainerConfig = {
  batchSize: 64,
  schedule: { lr: 2e-3, warmupSteps: 100, minLrFraction: 0.02 },
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05 },
  gradClip: Number.POSITIVE_INFINITY,
  emaDecay: null,
  logEvery: 50,
  checkpointMinutes: Number.POSITIVE_INFINITY,
  planningSteps: 12,
};

/** One trunk for both networks, so the CLIP image tower can start from the classifier's (--image-init). */
const cnn: CnnConfig = { imageSize: 32, channels: [32, 64, 96, 128] };

export const FEATURE_NETS = {
  /**
   * The loaders' preprocessing (config.json) and the trainer's agree: images are quantised to 8
   * bits, then scaled to [-1, 1].
   */
  pixels: { mean: 0.5, std: 0.5 },
  /** Generated images are often a little blurred or noisy; train on such renders too. */
  degrade: {
    blurProbability: 0.25,
    blurSigma: [0.4, 1.0],
    noiseProbability: 0.25,
    noiseSd: [0.01, 0.06],
  },
  classifier: {
    cnn,
    /** The penultimate vector FID compares. */
    featureDim: 128,
    /** Weight of the auxiliary targets (object count, detail shares) that enrich the features. */
    auxWeight: 0.5,
    fit,
  },
  clip: {
    cnn,
    text: { maxTokens: 64, dim: 64, depth: 2, heads: 4, mlpRatio: 4 } satisfies Omit<TextConfig, 'vocabSize'>,
    embedDim: 64,
    /** CLIP's initial temperature 0.07 and its cap on the logit scale. */
    initLogitScale: Math.log(1 / 0.07),
    maxLogitScale: 100,
    /**
     * Share of a batch made of hard negatives: each is a scene one attribute away from another
     * scene of the batch, so the encoders must read counts, sizes, details and positions, not
     * only which shapes and colours occur.
     */
    siblingShare: 0.5,
    fit,
  },
  evaluation: {
    /** Renders are made at the embedded model's size and resized by the loaders, as its images are. */
    imageSize: 64,
    /** Held-out images for the classifier's accuracy. */
    classifierImages: 2000,
    /** Retrieval is top-1 among this many pairs, as CLIP papers' in-batch numbers. */
    retrievalBatch: 32,
    retrievalBatches: 30,
  },
} as const;
