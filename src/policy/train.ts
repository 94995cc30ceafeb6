/**
 * Trains the step-selection network by policy gradient (Sec. 3.2, Eq. 6-8), CleanRL style: one
 * readable loop of epochs over shuffled mini-batches, each one run of the training graph on ONNX
 * Runtime (forward, sample, loss, every gradient) and one Adam step over the host arrays, a greedy
 * evaluation on the validation prompts after every epoch.
 *
 * Two gradient estimators:
 * - 'reinforce' (the paper): sample u_i ~ π(·|p_i), loss = -mean(R_i(u_i) · log π(u_i|p_i)),
 *   optionally with the batch's mean sampled reward as a baseline.
 * - 'exact': collect recorded the reward of every action, so the expectation of Eq. 6 can be taken
 *   in closed form, loss = -mean_i Σ_a π(a|p_i) R_i(a): the same objective with no sampling noise.
 *
 * Every epoch draws its shuffle and samples from its own Rng(seed, epoch), so a run resumed at an
 * epoch boundary sees exactly what an uninterrupted one would.
 */
import { Graph, type Tensor } from '../graph/graph.js';
import { logSoftmax } from '../graph/layers.js';
import { type AdamConfig, type AdamState, adamState, adamwStep } from '../graph/optim.js';
import { floatFeed, GradientSession } from '../graph/session.js';
import { Rng } from '../util/random.js';
import { PAPER_DEFAULTS } from './config.js';
import {
  checkDataset,
  type DataSplit,
  gatherBatch,
  gatherRewards,
  type PolicyDataset,
  rewardTable,
} from './dataset.js';
import { evaluatePolicy } from './evaluate.js';
import {
  type FeatureBatch,
  initPolicy,
  longestPrompt,
  type NetworkConfig,
  type PolicyParams,
  PolicyRunner,
  packBatch,
  policyLogits,
} from './network.js';
import type { RewardConfig } from './reward.js';

export type GradientEstimator = 'reinforce' | 'exact';
/** Baseline subtracted from REINFORCE's sampled rewards (the exact gradient needs none). */
export type Baseline = 'none' | 'mean';

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly gradient: GradientEstimator;
  readonly baseline: Baseline;
  /** Seeds the weights, the shuffles and the sampled actions. */
  readonly seed: number;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  epochs: PAPER_DEFAULTS.epochs,
  batchSize: PAPER_DEFAULTS.batchSize,
  learningRate: PAPER_DEFAULTS.learningRate,
  gradient: 'reinforce',
  baseline: 'none',
  seed: 0,
};

/** The paper names Adam without its settings; these are PyTorch's defaults (no weight decay). */
export const ADAM: AdamConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export interface EpochLog {
  /** Epochs completed, 1-based. */
  readonly epoch: number;
  /** Mean reward of the actions sampled in the epoch's steps ('exact' samples too, for this log). */
  readonly trainReward: number;
  /** Mean reward of the greedy actions on the validation prompts after the epoch. */
  readonly valReward: number;
  /** Mean entropy of π on the validation prompts (nats; ln |S| is uniform). */
  readonly entropy: number;
  /** Mean greedy step count on the validation prompts. */
  readonly meanSteps: number;
  readonly seconds: number;
}

/** Everything that changes during training; resuming from it continues the run exactly. */
export interface TrainState {
  readonly params: PolicyParams;
  readonly opt: AdamState;
  /** Adam steps taken. */
  readonly step: number;
  /** Epochs completed. */
  readonly epoch: number;
  readonly history: EpochLog[];
}

export interface TrainRun {
  readonly data: PolicyDataset;
  readonly split: DataSplit;
  readonly reward: RewardConfig;
  readonly network: NetworkConfig;
  readonly options: TrainOptions;
  /** Continue from here (updated in place) instead of fresh weights; must come from the same run settings. */
  readonly resume?: TrainState;
  /** Called after every epoch; `state` is only borrowed for the call (e.g. to save a checkpoint). */
  readonly onEpoch?: (log: EpochLog, state: TrainState) => void | Promise<void>;
}

function freshState(cfg: NetworkConfig, seed: number): TrainState {
  const params = initPolicy(cfg, seed);
  return { params, opt: adamState(params), step: 0, epoch: 0, history: [] };
}

/** Rng(seed, epoch); the +1 keeps epoch 0 of seed 0 off the weights' Rng(0). */
const epochRng = (seed: number, epoch: number) => new Rng((Math.imul(seed, 0x9e3779b1) ^ (epoch + 1)) >>> 0);

/**
 * One-hot [B, N] of u_i ~ π(·|p_i) by inverse CDF: the action is how many cumulative probabilities
 * (a matmul with a triangle of ones) lie below the uniform draw, clamped, as rounding can leave the
 * last one just under 1. Comparisons carry no gradient, so the sample is a constant to the loss.
 */
function sampleOneHot(g: Graph, probs: Tensor, uniforms: Tensor): Tensor {
  const n = probs.dim(-1);
  const upper = Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) <= k % n ? 1 : 0));
  const cdf = g.stopGradient(probs).matmul(g.constant(upper, [n, n]));
  const below = g.compare('Less', cdf, uniforms).cast('float32').sum([1], true);
  const action = g.op('Min', [below, g.scalar(n - 1)], {}, [below.shape], ['float32'])[0];
  const indices = g.constant(
    Float32Array.from({ length: n }, (_, a) => a),
    [1, n],
  );
  return g.compare('Equal', indices, action).cast('float32');
}

/** One training batch as graph inputs; `rowWeights` [B] is 1/rows for real rows, 0 for padding rows. */
export interface LossInputs {
  readonly features: Tensor;
  readonly mask: Tensor;
  /** [B, N]: the reward of every action. */
  readonly rewards: Tensor;
  /** [B, 1] in [0, 1): picks the sampled actions. */
  readonly uniforms: Tensor;
  readonly rowWeights: Tensor;
}

/** The training loss (a scalar) and each row's sampled reward [B]. */
export function policyLoss(
  g: Graph,
  cfg: NetworkConfig,
  opts: Pick<TrainOptions, 'gradient' | 'baseline'>,
  x: LossInputs,
): { loss: Tensor; sampled: Tensor } {
  const logp = logSoftmax(g, policyLogits(g, cfg, x.features, x.mask));
  const probs = logp.exp();
  const taken = sampleOneHot(g, probs, x.uniforms);
  const sampled = taken.mul(x.rewards).sum([1]);
  const mean = (t: Tensor) => t.mul(x.rowWeights).sum([0]);
  if (opts.gradient === 'exact') return { loss: mean(probs.mul(x.rewards).sum([1])).neg(), sampled };
  const advantage = opts.baseline === 'mean' ? sampled.sub(mean(sampled)) : sampled;
  return { loss: mean(advantage.mul(taken.mul(logp).sum([1]))).neg(), sampled };
}

/**
 * The training graph on ONNX Runtime at a static shape, `batch` prompts of `length` positions: one
 * run gives the sampled rewards and every parameter's gradient. A smaller batch is filled up with
 * all-padding rows of weight 0 and prompts are cut to `length` positions, only padding, so the
 * masks make both exact.
 */
export class PolicyGradient {
  private constructor(
    private readonly session: GradientSession,
    readonly network: NetworkConfig,
    readonly batch: number,
    readonly length: number,
  ) {}

  static async create(
    cfg: NetworkConfig,
    opts: Pick<TrainOptions, 'gradient' | 'baseline'>,
    batch: number,
    length: number,
  ): Promise<PolicyGradient> {
    const g = new Graph('policy-train');
    const input = (name: string, shape: number[]) => g.input(name, 'float32', shape);
    const { loss, sampled } = policyLoss(g, cfg, opts, {
      features: input('features', [batch, length, cfg.featureDim]),
      mask: input('mask', [batch, length]),
      rewards: input('rewards', [batch, cfg.actions]),
      uniforms: input('uniforms', [batch, 1]),
      rowWeights: input('rowWeights', [batch]),
    });
    const session = await GradientSession.create(g, loss, { extra: { sampled } });
    return new PolicyGradient(session, cfg, batch, length);
  }

  /** Gradients at `params` for `x` with its rewards [rows, N] and uniforms [rows]; the summed sampled reward. */
  async run(
    params: PolicyParams,
    x: FeatureBatch,
    rewards: Float32Array,
    uniforms: Float32Array,
  ): Promise<{ grads: Map<string, Float32Array>; rewardSum: number }> {
    const { batch: b, length: l } = this;
    const n = this.network.actions;
    if (longestPrompt(this.network, x) > l)
      throw new Error(`a prompt of the batch is longer than ${l} positions`);
    const { features, mask } = packBatch(this.network, x, l, b);
    const padded = (data: Float32Array, size: number) => {
      const out = new Float32Array(size);
      out.set(data);
      return out;
    };
    const out = await this.session.run(params, {
      features: floatFeed(features, [b, l, this.network.featureDim]),
      mask: floatFeed(mask, [b, l]),
      rewards: floatFeed(padded(rewards, b * n), [b, n]),
      uniforms: floatFeed(padded(uniforms, b), [b, 1]),
      rowWeights: floatFeed(new Float32Array(b).fill(1 / x.batch, 0, x.batch), [b]),
    });
    const rewardSum = out.extra.sampled.subarray(0, x.batch).reduce((a, v) => a + v, 0);
    return { grads: out.grads, rewardSum };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * Runs epochs `resume.epoch + 1 ..= options.epochs`, updating the weights in place. Each mini-batch,
 * the paper's 256 included, is one run of the training graph and one Adam step.
 */
export async function trainPolicy(run: TrainRun): Promise<TrainState> {
  const { data, split, reward, network: cfg, options: opts } = run;
  checkDataset(data);
  if (data.dims.l !== cfg.tokens || data.dims.d !== cfg.featureDim || data.dims.actions !== cfg.actions) {
    throw new Error(
      `dataset dims ${JSON.stringify(data.dims)} do not fit the network (L ${cfg.tokens}, D ${cfg.featureDim}, N ${cfg.actions})`,
    );
  }
  if (split.train.length === 0 || split.val.length === 0)
    throw new Error('train: the training and validation sets must not be empty');
  const table = rewardTable(data, reward);
  const n = cfg.actions;
  let state = run.resume ?? freshState(cfg, opts.seed);
  const { params, opt } = state;
  // No prompt of the data reaches past `length`, so the training graph stops there.
  const length = longestPrompt(cfg, { ...data, batch: data.dims.n });
  const gradient = await PolicyGradient.create(
    cfg,
    opts,
    Math.min(opts.batchSize, split.train.length),
    length,
  );
  const evaluator = await PolicyRunner.withWeightInputs(cfg);
  try {
    while (state.epoch < opts.epochs) {
      const started = performance.now();
      const rng = epochRng(opts.seed, state.epoch);
      const order = rng.shuffle([...split.train]);
      let step = state.step;
      let rewardSum = 0;
      for (let at = 0; at < order.length; at += opts.batchSize) {
        const rows = order.slice(at, at + opts.batchSize);
        const uniforms = Float32Array.from(rows, () => rng.uniform());
        const out = await gradient.run(
          params,
          gatherBatch(data, rows),
          gatherRewards(table, n, rows),
          uniforms,
        );
        rewardSum += out.rewardSum;
        adamwStep(ADAM, params, out.grads, opt, opts.learningRate, ++step);
      }
      const val = await evaluatePolicy(
        evaluator,
        params,
        data,
        split.val,
        table,
        reward.steps,
        opts.batchSize,
      );
      const log: EpochLog = {
        epoch: state.epoch + 1,
        trainReward: rewardSum / order.length,
        valReward: val.reward,
        entropy: val.entropy,
        meanSteps: val.meanSteps,
        seconds: (performance.now() - started) / 1000,
      };
      state = { params, opt, step, epoch: log.epoch, history: [...state.history, log] };
      await run.onEpoch?.(log, state);
    }
  } finally {
    await gradient.release();
    await evaluator.release();
  }
  return state;
}
