/**
 * The text encoder's word-level tokenizer: one id per world word, BOS/EOS around the prompt, padded
 * to a fixed length. The exported `tokenizer/tokenizer.json` reproduces it for the HF tokenizers.
 */
export const SPECIAL_TOKENS = { pad: '[PAD]', bos: '[BOS]', eos: '[EOS]', unk: '[UNK]' } as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const UNK_ID = 3;

export class WordTokenizer {
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(
    words: readonly string[],
    readonly maxLength: number,
    private readonly normalize: (prompt: string) => string[],
  ) {
    const { pad, bos, eos, unk } = SPECIAL_TOKENS;
    this.vocab = [pad, bos, eos, unk, ...[...new Set(words)].sort()];
    this.ids = new Map(this.vocab.map((w, i) => [w, i]));
  }

  /** [BOS, words..., EOS, PAD...] of exactly maxLength ids (words beyond the limit are cut). */
  encode(prompt: string): Int32Array {
    const words = this.normalize(prompt).slice(0, this.maxLength - 2);
    const out = new Int32Array(this.maxLength).fill(PAD_ID);
    out[0] = BOS_ID;
    words.forEach((w, i) => {
      out[i + 1] = this.ids.get(w) ?? UNK_ID;
    });
    out[words.length + 1] = EOS_ID;
    return out;
  }
}
