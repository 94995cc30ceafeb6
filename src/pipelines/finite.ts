/**
 * Numeric health: a NaN or infinity in the denoiser's output, the latents or the decoded image
 * would otherwise become a black or noisy PNG with no word (a beta_end above 1, a guidance of
 * 1e30). The run stops instead, naming where the value first appeared.
 */
export class NonFiniteError extends Error {}

/** Throws NonFiniteError naming `where` if `data` holds a NaN or an infinity. */
export function checkFinite(data: Float32Array, where: () => string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      throw new NonFiniteError(
        `${Number.isNaN(v) ? 'NaN' : 'an infinity'} in ${where()} (element ${i} of ${data.length}); ` +
          'check the scheduler config, the guidance scale and the model',
      );
    }
  }
}
