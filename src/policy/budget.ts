/**
 * A step budget (beyond the paper): the policy whose mean step count is B with the best quality
 * for it. Maximising E[Q] subject to E[steps] = B is, with a Lagrange multiplier mu on the step
 * cost, maximising E[Q - mu * t/Smax]; collect recorded Q at every step count, so
 *
 * 1. mu is found on the training prompts: the value at which choosing, per prompt, the step count
 *    that maximises Q - mu * t/Smax gives a mean of B (the oracle under that trade-off);
 * 2. the policy is trained on that reward (either gradient estimator);
 * 3. its greedy mean on the validation prompts is brought to B by a shift of its logits,
 *    -nu * t/Smax, found by bisection and baked into the output layer's bias, so that `select` and
 *    `--steps auto` run the folder as any other policy.
 */
import type { PolicyParams } from './network.js';

const BISECTIONS = 60;

/** Per row, the index of the largest `value(row, a)`; ties toward fewer steps (the lower index). */
function argmaxes(rows: number, actions: number, value: (row: number, a: number) => number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let a = 1; a < actions; a++) if (value(r, a) > value(r, best)) best = a;
    return best;
  });
}

const meanSteps = (choice: readonly number[], steps: readonly number[]) =>
  choice.reduce((s, a) => s + steps[a], 0) / choice.length;

/**
 * The smallest shift x of a trade-off whose mean step count falls to `target` or below: the mean
 * is a non-increasing step function of x, so bisection over a bracket grown until it holds B.
 */
function solveShift(mean: (x: number) => number, target: number): number {
  let [lo, hi] = [-1, 1];
  while (mean(lo) < target && lo > -1e6) lo *= 2;
  while (mean(hi) > target && hi < 1e6) hi *= 2;
  for (let i = 0; i < BISECTIONS; i++) {
    const mid = (lo + hi) / 2;
    if (mean(mid) > target) lo = mid;
    else hi = mid;
  }
  // hi meets the budget from below, lo overshoots it: keep whichever lands nearer B.
  return Math.abs(mean(lo) - target) < Math.abs(mean(hi) - target) ? lo : hi;
}

/** The budget must lie within S: no policy over S can average fewer or more steps. */
export function checkBudget(target: number, steps: readonly number[]): void {
  const [min, max] = [Math.min(...steps), Math.max(...steps)];
  if (!(target >= min && target <= max))
    throw new Error(
      `a step budget of ${target} lies outside S = {${steps.join(', ')}}: expected ${min} to ${max}`,
    );
}

/** mu for `target` from the training prompts' scores (rows of |S| scores, in the order of S). */
export function budgetMultiplier(
  scoreRows: readonly (readonly number[])[],
  steps: readonly number[],
  target: number,
): number {
  checkBudget(target, steps);
  const smax = Math.max(...steps);
  const choose = (mu: number) =>
    argmaxes(scoreRows.length, steps.length, (r, a) => scoreRows[r][a] - (mu * steps[a]) / smax);
  return solveShift((mu) => meanSteps(choose(mu), steps), target);
}

/**
 * Shifts the trained policy's logits by -nu * t/Smax so that its greedy mean on the prompts whose
 * probabilities are given (row-major [rows, |S|]) is as near `target` as the prompts allow; the
 * shift goes into the output layer's bias `biasName` (changed in place). Returns nu and the mean.
 */
export function calibrateToBudget(
  params: PolicyParams,
  biasName: string,
  probabilities: Float32Array,
  steps: readonly number[],
  target: number,
): { nu: number; meanSteps: number } {
  const n = steps.length;
  const rows = probabilities.length / n;
  const smax = Math.max(...steps);
  const logp = Float64Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-30)));
  const choose = (nu: number) => argmaxes(rows, n, (r, a) => logp[r * n + a] - (nu * steps[a]) / smax);
  const nu = solveShift((x) => meanSteps(choose(x), steps), target);
  const bias = params.get(biasName);
  if (!bias || bias.data.length !== n)
    throw new Error(`policy network: no output bias "${biasName}" of ${n} values`);
  steps.forEach((t, a) => {
    bias.data[a] -= (nu * t) / smax;
  });
  return { nu, meanSteps: meanSteps(choose(nu), steps) };
}
