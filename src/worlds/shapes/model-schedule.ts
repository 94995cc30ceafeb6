/**
 * Stable Diffusion 2.1's noise schedule ("scaled_linear": betas = linspace(√0.00085, √0.012, 1000)²),
 * which the exported scheduler_config.json names, so the pipeline's DDIM matches training.
 */
export const SCHEDULE = { betaStart: 0.00085, betaEnd: 0.012, trainSteps: 1000 } as const;

export function alphasCumprod(): Float64Array {
  const { betaStart, betaEnd, trainSteps: n } = SCHEDULE;
  const out = new Float64Array(n);
  const a = Math.sqrt(betaStart);
  const b = Math.sqrt(betaEnd);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const beta = (a + ((b - a) * i) / (n - 1)) ** 2;
    prod *= 1 - beta;
    out[i] = prod;
  }
  return out;
}
