/**
 * Classifier-free guidance on a batched UNet output laid out as [uncond x B, cond x B]:
 * eps = eps_uncond + scale * (eps_cond - eps_uncond), returned for the B conditional rows.
 */
export function applyGuidance(batched: Float32Array, batch: number, scale: number): Float32Array {
  const half = batched.length / 2;
  if (!Number.isInteger(half) || half % batch !== 0) {
    throw new Error(
      `guidance expects [uncond, cond] halves; got ${batched.length} values for batch ${batch}`,
    );
  }
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const u = batched[i];
    out[i] = u + scale * (batched[half + i] - u);
  }
  return out;
}
