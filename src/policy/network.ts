/**
 * The step-selection network f_s (Eq. 3): text features c [B, L, D] with their padding mask go
 * through an input projection, a learned positional embedding, pre-LN self-attention blocks that
 * ignore padded keys, masked mean pooling and an MLP head, giving one logit per step count in S.
 * Padded positions never reach the output: they are masked as attention keys and left out of the
 * pooling, so whatever the encoder put there cannot change the policy.
 *
 * Written once on the graph builder: train.ts differentiates it at a static batch shape, and the
 * inference graph (symbolic batch and length) is what a policy folder ships as policy.onnx.
 */
import type * as ort from 'onnxruntime-node';
import { buildOnnx } from '../graph/build.js';
import { Graph, type ParamSpec, type Tensor } from '../graph/graph.js';
import { firstRows, layerNorm, linear, mlp, paddingBias, table, transformerBlock } from '../graph/layers.js';
import { type HostTensor, initWeights } from '../graph/params.js';
import { feedsFor, floatFeed, openSession } from '../graph/session.js';
import { Rng } from '../util/random.js';
import { PAPER_DEFAULTS } from './config.js';

/** The network's own hyperparameters, apart from the data's shape. */
export interface NetworkSize {
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
  /** Hidden size of each block's MLP as a multiple of width. */
  readonly mlpRatio: number;
}

export interface NetworkConfig extends NetworkSize {
  /** L: text positions (padded length). */
  readonly tokens: number;
  /** D: text feature size. */
  readonly featureDim: number;
  /** N = |S|. */
  readonly actions: number;
}

/** Lightweight next to the diffusion model (the paper's whole point); layers from the paper. */
export const NETWORK_DEFAULTS: NetworkSize = {
  width: 128,
  heads: 4,
  layers: PAPER_DEFAULTS.layers,
  mlpRatio: 4,
};

/** Std of the learned positional embedding at init (as in GPT-2/BERT). */
const POS_INIT_STD = 0.02;

export function networkConfig(
  tokens: number,
  featureDim: number,
  actions: number,
  overrides: Partial<NetworkSize> = {},
): NetworkConfig {
  const cfg = { tokens, featureDim, actions, ...NETWORK_DEFAULTS, ...overrides };
  if (cfg.width % cfg.heads !== 0)
    throw new Error(`width ${cfg.width} is not a multiple of heads ${cfg.heads}`);
  return cfg;
}

const HEAD = 'head';
/** The bias of the logits, one per step count (what a step budget's calibration shifts). */
export const OUTPUT_BIAS = `${HEAD}.b2`;

/** Weights by dotted name (input.w, pos, blocks.0.attn.q, ..., head.w2). */
export type PolicyParams = Map<string, HostTensor>;

/**
 * Logits [B, N] for features [B, L, D] and mask [B, L] (float32, 1 = token, 0 = padding), L at most
 * the network's length: padded positions are masked out of attention and pooling, so trailing
 * padding can be cut off without changing the output. The head's output layer starts at zero, so
 * the initial policy is uniform over S and REINFORCE explores every step count equally at first.
 */
export function policyLogits(g: Graph, cfg: NetworkConfig, features: Tensor, mask: Tensor): Tensor {
  const l = features.shape[1];
  if (features.dim(2) !== cfg.featureDim || (typeof l === 'number' && l > cfg.tokens)) {
    throw new Error(
      `features are [${features.shape}], the network wants [B, <= ${cfg.tokens}, ${cfg.featureDim}]`,
    );
  }
  const projected = linear(g, 'input', features, cfg.width);
  const pos = table(g, 'pos', cfg.tokens, cfg.width, { kind: 'normal', std: POS_INIT_STD });
  let x = projected.add(firstRows(g, pos, features, 1));
  const bias = paddingBias(mask);
  for (let i = 0; i < cfg.layers; i++) {
    x = transformerBlock(g, `blocks.${i}`, x, { heads: cfg.heads, mlpRatio: cfg.mlpRatio, bias });
  }
  // Multiplying by the mask (not adding a bias) zeroes padded rows exactly; max(·, 1) keeps an
  // all-padding row finite.
  const pooled = layerNorm(g, 'lnOut', x)
    .mul(mask.unsqueeze([2]))
    .sum([1])
    .div(mask.sum([1], true).max(1));
  return mlp(g, HEAD, pooled, cfg.width, { out: cfg.actions, zeroOut: true });
}

/** The inference graph: inputs features [batch, L, D] and mask [batch, L], output probabilities [batch, N]. */
export function inferenceGraph(cfg: NetworkConfig): { graph: Graph; probabilities: Tensor } {
  const g = new Graph('policy');
  const features = g.input('features', 'float32', ['batch', 'L', cfg.featureDim]);
  const mask = g.input('mask', 'float32', ['batch', 'L']);
  return { graph: g, probabilities: policyLogits(g, cfg, features, mask).softmax(-1) };
}

export const policySpecs = (cfg: NetworkConfig): ParamSpec[] => inferenceGraph(cfg).graph.paramSpecs();

/** Seeded weights, drawn in declaration order. */
export const initPolicy = (cfg: NetworkConfig, seed: number): PolicyParams =>
  initWeights(policySpecs(cfg), new Rng(seed));

/** The inference graph with `params` as initializers: what policy.onnx holds. */
export function policyOnnx(cfg: NetworkConfig, params: PolicyParams): Uint8Array {
  const { graph, probabilities } = inferenceGraph(cfg);
  return buildOnnx(graph, { outputs: { probabilities }, weights: params });
}

/** Host-side input batch: features [B, L, D] and mask [B, L]. */
export interface FeatureBatch {
  readonly features: Float32Array;
  readonly mask: Uint8Array;
  readonly batch: number;
}

/** The most real positions any prompt of the batch has (at least 1). */
export function longestPrompt(cfg: NetworkConfig, x: FeatureBatch): number {
  const l = cfg.tokens;
  let longest = 1;
  for (let i = 0; i < x.batch; i++) {
    for (let t = l - 1; t >= longest; t--) {
      if (x.mask[i * l + t]) {
        longest = t + 1;
        break;
      }
    }
  }
  return longest;
}

/**
 * Float arrays [rows, length, D] and [rows, length] for a graph: the batch's first `length`
 * positions, then all-padding rows up to `rows`. Most prompts are far shorter than the text
 * encoder's length, and attention over padding is most of the network's work.
 */
export function packBatch(
  cfg: NetworkConfig,
  x: FeatureBatch,
  length: number,
  rows = x.batch,
): { features: Float32Array; mask: Float32Array } {
  const { tokens: l, featureDim: d } = cfg;
  if (x.batch > rows) throw new Error(`a batch of ${x.batch} prompts does not fit ${rows} rows`);
  const features = new Float32Array(rows * length * d);
  const mask = new Float32Array(rows * length);
  for (let i = 0; i < x.batch; i++) {
    features.set(x.features.subarray(i * l * d, (i * l + length) * d), i * length * d);
    for (let t = 0; t < length; t++) mask[i * length + t] = x.mask[i * l + t];
  }
  return { features, mask };
}

/**
 * The inference graph on ONNX Runtime: a shipped policy.onnx (weights inside), or the graph with
 * the weights as inputs, fed on every call, so one session follows a training run.
 */
export class PolicyRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly network: NetworkConfig,
  ) {}

  static async fromOnnx(network: NetworkConfig, bytes: Uint8Array): Promise<PolicyRunner> {
    return new PolicyRunner(await openSession(bytes), network);
  }

  static async withWeightInputs(network: NetworkConfig): Promise<PolicyRunner> {
    const { graph, probabilities } = inferenceGraph(network);
    return new PolicyRunner(await openSession(buildOnnx(graph, { outputs: { probabilities } })), network);
  }

  /** π(·|p) for each prompt as host probabilities [B·N], row-major; `params` for a weight-input graph. */
  async probabilities(x: FeatureBatch, params?: PolicyParams): Promise<Float32Array> {
    const length = longestPrompt(this.network, x);
    const { features, mask } = packBatch(this.network, x, length);
    const batch = {
      features: floatFeed(features, [x.batch, length, this.network.featureDim]),
      mask: floatFeed(mask, [x.batch, length]),
    };
    const out = await this.session.run(feedsFor(this.session, batch, params, 'policy graph'));
    return out.probabilities.data as Float32Array;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Index of the most probable action in each row of probs [B·N] (ties toward fewer steps). */
export function greedyActions(probs: Float32Array, actions: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < probs.length; row += actions) {
    let best = 0;
    for (let a = 1; a < actions; a++) if (probs[row + a] > probs[row + best]) best = a;
    out.push(best);
  }
  return out;
}

/** Greedy step counts (the paper's inference rule): the most probable entry of S per prompt. */
export function selectSteps(probs: Float32Array, steps: readonly number[]): number[] {
  return greedyActions(probs, steps.length).map((a) => steps[a]);
}
