/**
 * Trains the step-selection network by policy gradient (Sec. 3.2, Eq. 6-8), CleanRL style: one
 * readable loop of epochs over shuffled mini-batches, one jitted step (forward, sample, loss,
 * gradient, Adam), a greedy evaluation on the validation prompts after every epoch.
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
import {
  type AdamConfig,
  type AdamState,
  adamw,
  blockUntilReady,
  initEngine,
  jit,
  np,
  refTree,
  type Tensor,
  tensor,
  tree,
  valueAndGrad,
  zerosLike,
} from '../engine/index.js';
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
  featureTensors,
  forward,
  initPolicy,
  logSoftmax,
  type NetworkConfig,
  type PolicyParams,
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
  /** Continue from here (consumed) instead of fresh weights; must come from the same run settings. */
  readonly resume?: TrainState;
  /** Called after every epoch; `state` is only borrowed for the call (e.g. to save a checkpoint). */
  readonly onEpoch?: (log: EpochLog, state: TrainState) => void | Promise<void>;
}

function freshState(cfg: NetworkConfig, seed: number): TrainState {
  const params = initPolicy(cfg, seed);
  return { params, opt: { m: zerosLike(params), v: zerosLike(params) }, step: 0, epoch: 0, history: [] };
}

/** Rng(seed, epoch); the +1 keeps epoch 0 of seed 0 off the weights' Rng(0). */
const epochRng = (seed: number, epoch: number) => new Rng((Math.imul(seed, 0x9e3779b1) ^ (epoch + 1)) >>> 0);

/**
 * One-hot [B, N] of u_i ~ π(·|p_i) by inverse CDF: the action is how many cumulative probabilities
 * lie below the uniform draw (clamped, as rounding can leave the last one just under 1). Comparisons
 * carry no gradient, so the sample is a constant to the loss.
 */
function sampleOneHot(probs: Tensor, uniforms: Tensor): Tensor {
  const [b, n] = probs.shape;
  const below = np
    .cumsum(probs, -1)
    .less(uniforms.reshape([b, 1]))
    .astype(np.float32)
    .sum(-1);
  const action = np.minimum(below, n - 1).reshape([b, 1]);
  return np.arange(n).astype(np.float32).reshape([1, n]).equal(action).astype(np.float32);
}

/**
 * The training loss for one batch (rewards [B, N] of every action, uniforms [B] in [0, 1) that
 * pick the sampled actions) and the mean reward of the sampled actions. Consumes everything.
 */
export function policyLoss(
  cfg: NetworkConfig,
  opts: TrainOptions,
  params: PolicyParams,
  features: Tensor,
  mask: Tensor,
  rewards: Tensor,
  uniforms: Tensor,
): [Tensor, Tensor] {
  const logp = logSoftmax(forward(cfg, params, features, mask));
  const probs = np.exp(logp.ref);
  const taken = sampleOneHot(probs.ref, uniforms);
  const sampled = taken.ref.mul(rewards.ref).sum(-1);
  let loss: Tensor;
  if (opts.gradient === 'exact') {
    loss = probs.mul(rewards).sum(-1).mean().neg();
    taken.dispose();
    logp.dispose();
  } else {
    const advantage = opts.baseline === 'mean' ? sampled.ref.sub(sampled.ref.mean()) : sampled.ref;
    loss = advantage.mul(taken.mul(logp).sum(-1)).mean().neg();
    probs.dispose();
    rewards.dispose();
  }
  return [loss, sampled.mean()];
}

type Learner = { params: PolicyParams; opt: AdamState };

/**
 * Rows per jitted gradient call. The WebAssembly backend allocates a jitted program's buffers
 * from one 4 GiB memory, which a batch of 256 prompts of 64 x 128 features overflows; larger
 * batches are split into micro-batches whose gradients are summed, weighted by their share of the
 * batch, before the one Adam step, which is the same gradient as the whole batch's. (With
 * REINFORCE's 'mean' baseline, the baseline is the micro-batch's mean.)
 */
export const MICRO_BATCH = 64;

/** acc + weight · ∇loss for one micro-batch, and the summed reward of its sampled actions. */
function makeGradient(cfg: NetworkConfig, opts: TrainOptions) {
  return jit(
    (
      params: PolicyParams,
      acc: PolicyParams,
      features: Tensor,
      mask: Tensor,
      rewards: Tensor,
      uniforms: Tensor,
      weight: Tensor,
    ) => {
      const [b] = uniforms.shape;
      const [[loss, reward], grads] = valueAndGrad(
        (p: PolicyParams) => policyLoss(cfg, opts, p, features, mask, rewards, uniforms),
        { hasAux: true },
      )(params);
      loss.dispose();
      const sum = tree.map((a: Tensor, g: Tensor) => a.add(g.mul(weight.ref)), acc, grads) as PolicyParams;
      weight.dispose();
      return { acc: sum, rewardSum: reward.mul(b) };
    },
  );
}

const makeApply = () =>
  jit((state: Learner, grads: PolicyParams, lr: Tensor, step: Tensor) => {
    const next = adamw(ADAM, state.params, grads, state.opt, lr, step);
    return { params: next.params as PolicyParams, opt: next.state };
  });

/** Runs epochs `resume.epoch + 1 ..= options.epochs`; the caller owns (and disposes) the returned state. */
export async function trainPolicy(run: TrainRun): Promise<TrainState> {
  await initEngine();
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
  const gradient = makeGradient(cfg, opts);
  const apply = makeApply();
  try {
    while (state.epoch < opts.epochs) {
      const started = performance.now();
      const rng = epochRng(opts.seed, state.epoch);
      const order = rng.shuffle([...split.train]);
      let learner: Learner = { params: state.params, opt: state.opt };
      let adamStep = state.step;
      let rewardSum = 0;
      for (let at = 0; at < order.length; at += opts.batchSize) {
        const rows = order.slice(at, at + opts.batchSize);
        let grads = zerosLike(learner.params) as PolicyParams;
        for (let m = 0; m < rows.length; m += MICRO_BATCH) {
          const micro = rows.slice(m, m + MICRO_BATCH);
          const { features, mask } = featureTensors(cfg, gatherBatch(data, micro));
          const uniforms = Float32Array.from(micro, () => rng.uniform());
          const out = gradient(
            refTree(learner.params),
            grads,
            features,
            mask,
            tensor(gatherRewards(table, n, micro), [micro.length, n]),
            np.array(uniforms),
            np.array(micro.length / rows.length),
          );
          grads = out.acc;
          rewardSum += (await out.rewardSum.data())[0];
        }
        adamStep++;
        learner = apply(learner, grads, np.array(opts.learningRate), np.array(adamStep));
      }
      const val = await evaluatePolicy(
        cfg,
        learner.params,
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
      // Settled, so onEpoch may read the weights synchronously (engine threads run kernels async).
      await blockUntilReady(learner);
      state = { ...learner, step: adamStep, epoch: log.epoch, history: [...state.history, log] };
      await run.onEpoch?.(log, state);
    }
  } finally {
    gradient.dispose();
    apply.dispose();
  }
  return state;
}
