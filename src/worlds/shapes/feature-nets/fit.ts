/**
 * The training loop both feature networks use: a jitted step (loss, gradient, AdamW) on batches the
 * caller renders, linear warmup then cosine decay, and a wall-clock budget turned into a step
 * count from the speed of the first steps.
 */
import {
  type AdamState,
  adamw,
  disposeTree,
  jit,
  np,
  type ParamTree,
  refTree,
  type Tensor,
  valueAndGrad,
  zerosLike,
} from '../../../engine/index.js';
import type { FitConfig } from './config.js';

export interface FitOptions<P extends ParamTree> {
  readonly cfg: FitConfig;
  readonly params: P;
  /** The batch loss; consumes the params and inputs it is given. */
  readonly loss: (params: P, inputs: Tensor[]) => Tensor;
  /** The inputs of step `step`, as engine arrays. */
  readonly batch: (step: number) => Tensor[];
  readonly minutes: number;
  /** A fixed step count (the budget still caps it). */
  readonly steps?: number;
  readonly log: (line: string) => void;
}

export interface FitResult<P> {
  readonly params: P;
  readonly steps: number;
  /** Mean loss over the last logging window. */
  readonly loss: number;
  readonly seconds: number;
}

/** Linear warmup, then cosine decay to minLrFraction·lr at totalSteps. */
export function learningRate(cfg: FitConfig, step: number, totalSteps: number): number {
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  const progress = Math.min(1, (step - cfg.warmupSteps) / Math.max(1, totalSteps - cfg.warmupSteps));
  return cfg.lr * (cfg.minLrFraction + (1 - cfg.minLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

type State = { params: ParamTree; opt: AdamState };

export async function fit<P extends ParamTree>(opts: FitOptions<P>): Promise<FitResult<P>> {
  const { cfg, log } = opts;
  const started = Date.now();
  const deadline = started + opts.minutes * 60_000;
  // Typed over plain trees: jit's mapped tree types do not resolve for a generic P.
  const trainStep = jit((state: State, inputs: Tensor[], lr: Tensor, step: Tensor) => {
    const [loss, grads] = valueAndGrad((p: ParamTree) => opts.loss(p as P, inputs))(refTree(state.params));
    const next = adamw(cfg.adam, state.params, grads as ParamTree, state.opt, lr, step);
    return { state: { params: next.params, opt: next.state }, loss };
  });
  let state: State = {
    params: opts.params,
    opt: { m: zerosLike(opts.params), v: zerosLike(opts.params) },
  };
  let totalSteps = opts.steps ?? null;
  let step = 0;
  let window = { start: Date.now(), loss: 0, steps: 0 };
  let lastLoss = Number.NaN;
  const stepMs: number[] = [];
  while (totalSteps === null || step < totalSteps) {
    if (Date.now() >= deadline) {
      log(`time budget of ${opts.minutes} min reached at step ${step}`);
      break;
    }
    const t0 = Date.now();
    const lr = learningRate(cfg, step, totalSteps ?? Number.POSITIVE_INFINITY);
    const out = trainStep(state, opts.batch(step), np.array(lr), np.array(step + 1));
    state = out.state;
    const loss = (await out.loss.data())[0];
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${step}`);
    step++;
    window.loss += loss;
    window.steps++;
    stepMs.push(Date.now() - t0);
    if (totalSteps === null && stepMs.length === cfg.planningSteps) {
      // The first steps include compilation; plan from the rest.
      const recent = stepMs.slice(2);
      const ms = recent.reduce((a, b) => a + b, 0) / recent.length;
      totalSteps = step + Math.floor((0.98 * (deadline - Date.now())) / ms);
      log(`planned ${totalSteps} steps at ${ms.toFixed(0)} ms/step`);
    }
    if (step % cfg.logEvery === 0 || step === totalSteps) {
      const ms = (Date.now() - window.start) / window.steps;
      lastLoss = window.loss / window.steps;
      log(
        `step ${step}/${totalSteps ?? '?'} loss ${lastLoss.toFixed(4)} lr ${lr.toExponential(2)} ` +
          `${ms.toFixed(0)} ms/step elapsed ${((Date.now() - started) / 60_000).toFixed(1)} min`,
      );
      window = { start: Date.now(), loss: 0, steps: 0 };
    }
  }
  if (window.steps > 0) lastLoss = window.loss / window.steps;
  trainStep.dispose();
  disposeTree(state.opt);
  return { params: state.params as P, steps: step, loss: lastLoss, seconds: (Date.now() - started) / 1000 };
}
