/** Settings of `adadiff serve`; every default lives here, and the CLI's flags start from these. */
export interface ServeConfig {
  host: string;
  port: number;
  /** Generations run at once; one by default, since on CPU a second one only shares the same cores. */
  concurrency: number;
  /** Requests waiting for a slot beyond those running; one more is answered 429. */
  queueLength: number;
  /** Time a request may take from arrival to answer, waiting included, before it is stopped (503). */
  timeLimitMs: number;
  /** Largest request body; bigger ones are answered 413 before they are parsed. */
  bodyLimitBytes: number;
  /** Most images one request may ask for (A1111: batch_size * n_iter). */
  maxImages: number;
  /** Longest prompt or negative prompt accepted, in characters; the tokenizer cuts far shorter ones anyway. */
  maxPromptChars: number;
  /**
   * The step count savings are counted against: diffusers' default `num_inference_steps`, and the
   * largest of the paper's step set S.
   */
  referenceSteps: number;
}

export const SERVE_DEFAULTS: Readonly<ServeConfig> = {
  host: '127.0.0.1',
  port: 7860,
  concurrency: 1,
  queueLength: 16,
  timeLimitMs: 300_000,
  bodyLimitBytes: 1024 * 1024,
  maxImages: 8,
  maxPromptChars: 4000,
  referenceSteps: 50,
};
