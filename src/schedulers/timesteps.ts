/**
 * Inference timesteps as diffusers computes them: numpy float64 `linspace`/`arange`, `round()` (half to
 * even), then a cast to int64. The numpy helpers reproduce numpy's own arithmetic so the integer results
 * agree for every step count, including the ones where float rounding decides.
 */

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** `np.rint` / `ndarray.round()`: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `np.linspace(start, stop, num)` in float64: `i*step + start`, with the endpoint set exactly. */
export function npLinspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/**
 * `np.arange(start, stop, step)` for a float step: the length is `ceil((stop - start) / step)`, and numpy
 * fills element i as `start + i*delta` with `delta = (start + step) - start`. Rounding in the length can
 * make it one longer than the exact quotient suggests (e.g. 62 values for 1000 / (1000/61)).
 */
export function npArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => (i === 0 ? start : i === 1 ? start + step : start + i * delta));
}

/**
 * `DDIMScheduler.set_timesteps`. Note `linspace` ignores `steps_offset` and `trailing` subtracts 1, as in
 * diffusers.
 */
export function ddimTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  const n = numInferenceSteps;
  switch (spacing) {
    case 'linspace':
      return npLinspace(0, numTrainTimesteps - 1, n)
        .map(roundHalfEven)
        .reverse();
    case 'leading': {
      const ratio = Math.floor(numTrainTimesteps / n);
      return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return trailing(numTrainTimesteps, numTrainTimesteps / n);
  }
}

/**
 * `DPMSolverMultistepScheduler.set_timesteps`. It spaces N+1 points and drops the final 0, and its range
 * ends at `lastTimestep` (below `numTrainTimesteps` only when `lambda_min_clipped` cuts the schedule).
 */
export function dpmTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  lastTimestep: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  const n = numInferenceSteps;
  switch (spacing) {
    case 'linspace':
      return npLinspace(0, lastTimestep - 1, n + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, n);
    case 'leading': {
      const ratio = Math.floor(lastTimestep / (n + 1));
      return Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return trailing(lastTimestep, numTrainTimesteps / n);
  }
}

/**
 * `round(np.arange(last, 0, -ratio)) - 1`. Where numpy's float length adds an extra point just above 0,
 * diffusers ends with timestep -1, which torch then reads as the *last* alphas_cumprod entry (negative
 * indexing). That step is a diffusers artefact, not a schedule point, so negative timesteps are dropped.
 */
function trailing(lastTimestep: number, ratio: number): number[] {
  return npArange(lastTimestep, 0, -ratio)
    .map((t) => roundHalfEven(t) - 1)
    .filter((t) => t >= 0);
}
