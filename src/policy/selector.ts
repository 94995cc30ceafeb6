import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { disposeTree } from '../engine/index.js';
import type { TextFeatures } from '../pipelines/text2img.js';
import { loadCheckpoint } from './checkpoint.js';
import { greedyActions, type NetworkConfig, type PolicyParams, policyProbabilities } from './network.js';
import type { RewardConfig } from './reward.js';

export interface StepSelection {
  /** Greedy step count per prompt (the paper's inference rule). */
  steps: number[];
  /** pi(. | p) per prompt, in the order of `stepSet`. */
  probabilities: number[][];
  /** Wall time of the policy for the whole batch. */
  ms: number;
}

/** A trained step-selection policy, ready for inference. */
export class StepSelector {
  private constructor(
    readonly dir: string,
    readonly network: NetworkConfig,
    /** What the policy was trained for; its `steps` is S. */
    readonly reward: RewardConfig,
    private readonly params: PolicyParams,
  ) {}

  get stepSet(): readonly number[] {
    return this.reward.steps;
  }

  static async load(dir: string): Promise<StepSelector> {
    const ckpt = await loadCheckpoint(dir);
    disposeTree(ckpt.state.opt.m);
    disposeTree(ckpt.state.opt.v);
    return new StepSelector(dir, ckpt.network, ckpt.reward, ckpt.state.params);
  }

  async select(features: TextFeatures): Promise<StepSelection> {
    const [batch, tokens, dim] = features.dims;
    const { tokens: wantTokens, featureDim } = this.network;
    if (tokens !== wantTokens || dim !== featureDim) {
      throw new Error(
        `${this.dir}: the policy reads text features of shape [${wantTokens}, ${featureDim}] ` +
          `but the model's text encoder gives [${tokens}, ${dim}]; train a policy for this model`,
      );
    }
    const t0 = performance.now();
    const probs = await policyProbabilities(this.network, this.params, {
      features: features.data,
      mask: features.mask,
      batch,
    });
    const n = this.stepSet.length;
    return {
      steps: greedyActions(probs, n).map((a) => this.stepSet[a]),
      probabilities: Array.from({ length: batch }, (_, i) => Array.from(probs.subarray(i * n, (i + 1) * n))),
      ms: performance.now() - t0,
    };
  }
}

/** A model folder may carry the policy trained for it in policy/. */
export const POLICY_SUBDIR = 'policy';

/** The policy in `dir`, or else the one shipped in the model folder. */
export async function loadSelector(dir: string | undefined, modelDir: string): Promise<StepSelector> {
  const chosen = dir ?? join(modelDir, POLICY_SUBDIR);
  if (dir === undefined && !existsSync(chosen)) {
    throw new Error(`${modelDir} has no ${POLICY_SUBDIR}/ folder; give a trained policy with --policy DIR`);
  }
  return StepSelector.load(chosen);
}
