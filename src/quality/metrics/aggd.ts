/**
 * The asymmetric generalized Gaussian (AGGD) fit of NIQE and BRISQUE: density ∝ exp(-(-x/β_l)^α) for
 * x < 0 and exp(-(x/β_r)^α) for x ≥ 0, fitted by moment matching over the shape table
 * α = 0.2:0.001:10 exactly as the LIVE release's estimateaggdparam.m does (a symmetric GGD is the case
 * β_l = β_r).
 */

export interface AggdFit {
  /** Shape: 2 is Gaussian, 1 Laplacian. */
  alpha: number;
  betaLeft: number;
  betaRight: number;
}

/** Lanczos (g = 7, 9 terms) coefficients: Γ to about 1e-15 relative error. */
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

/** The gamma function Γ(x) for real x not 0, -1, -2, ... */
export function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  x -= 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (x + i);
  const t = x + 7.5;
  return Math.sqrt(2 * Math.PI) * t ** (x + 0.5) * Math.exp(-t) * a;
}

/** α = 0.2, 0.201, ..., 10 and ρ(α) = Γ(2/α)² / (Γ(1/α) Γ(3/α)), the table the fit searches. */
let table: { alpha: Float64Array; rho: Float64Array } | undefined;
function shapeTable() {
  if (table === undefined) {
    const alpha = Float64Array.from({ length: 9801 }, (_, k) => (200 + k) / 1000);
    const rho = alpha.map((a) => gamma(2 / a) ** 2 / (gamma(1 / a) * gamma(3 / a)));
    table = { alpha, rho };
  }
  return table;
}

/**
 * Fits the AGGD to samples. Zeros count in the overall moments but on neither side; a side with no
 * samples makes its β NaN, and then α is the table's first entry, as MATLAB's min over NaNs returns
 * index 1.
 */
export function fitAggd(values: ArrayLike<number>): AggdFit {
  let leftSq = 0;
  let left = 0;
  let rightSq = 0;
  let right = 0;
  let abs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0) {
      leftSq += v * v;
      left++;
    } else if (v > 0) {
      rightSq += v * v;
      right++;
    }
    abs += Math.abs(v);
  }
  const n = values.length;
  const leftStd = Math.sqrt(leftSq / left);
  const rightStd = Math.sqrt(rightSq / right);
  const g = leftStd / rightStd;
  const meanSq = (leftSq + rightSq) / n;
  const rhat = (abs / n) ** 2 / meanSq;
  const rhatNorm = (rhat * (g ** 3 + 1) * (g + 1)) / (g ** 2 + 1) ** 2;
  const { alpha: alphas, rho } = shapeTable();
  let best = 0;
  let bestErr = Number.POSITIVE_INFINITY;
  for (let k = 0; k < rho.length; k++) {
    const err = (rho[k] - rhatNorm) ** 2;
    if (err < bestErr) {
      bestErr = err;
      best = k;
    }
  }
  const alpha = alphas[best];
  const scale = Math.sqrt(gamma(1 / alpha) / gamma(3 / alpha));
  return { alpha, betaLeft: leftStd * scale, betaRight: rightStd * scale };
}
