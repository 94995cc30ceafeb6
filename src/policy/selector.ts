import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TextFeatures } from '../pipelines/text2img.js';
import { loadPolicyOnnx } from './checkpoint.js';
import { greedyActions, type NetworkConfig, PolicyRunner } from './network.js';
import type { RewardConfig } from './reward.js';

export interface StepSelection {
  /** Greedy step count per prompt (the paper's inference rule). */
  steps: number[];
  /** pi(. | p) per prompt, in the order of `stepSet`. */
  probabilities: number[][];
  /** Wall time of the policy for the whole batch. */
  ms: number;
}

/** A trained step-selection policy, ready for inference: its policy.onnx on ONNX Runtime. */
export class StepSelector {
  private constructor(
    readonly dir: string,
    readonly network: NetworkConfig,
    /** What the policy was trained for; its `steps` is S. */
    readonly reward: RewardConfig,
    private readonly runner: PolicyRunner,
  ) {}

  get stepSet(): readonly number[] {
    return this.reward.steps;
  }

  static async load(dir: string): Promise<StepSelector> {
    const { network, reward, onnx } = await loadPolicyOnnx(dir);
    return new StepSelector(dir, network, reward, await PolicyRunner.fromOnnx(network, onnx));
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
    const probs = await this.runner.probabilities({ features: features.data, mask: features.mask, batch });
    if (!probs.every(Number.isFinite))
      throw new Error(`${this.dir}: the policy's output is not finite (NaN weights?); retrain it`);
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
