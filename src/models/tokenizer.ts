/**
 * Prompt tokenizer of a model folder, with the padding and truncation Stable Diffusion pipelines use
 * (padding="max_length", truncation=True). Tokenization itself is @huggingface/tokenizers: a folder's
 * tokenizer.json goes to it as is, and CLIP's vocab.json + merges.txt become the tokenizer.json that
 * HF's CLIPTokenizerFast conversion writes.
 */
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { ModelFolderError } from './errors.js';
import { exists, readJson, readText } from './json-file.js';

export interface PromptEncoding {
  /** One row per text, each exactly modelMaxLength ids: specials, content, then pad ids. */
  inputIds: number[][];
  /** 1 for real tokens (specials included), 0 for padding. */
  attentionMask: number[][];
  /** Whether the text had more tokens than fit and was cut. */
  truncated: boolean[];
}

export interface PromptTokenizer {
  modelMaxLength: number;
  padTokenId: number;
  encode(texts: string[]): PromptEncoding;
}

const tokenValue = z.union([z.string(), z.looseObject({ content: z.string() })]).nullish();
const specialTokens = {
  bos_token: tokenValue,
  eos_token: tokenValue,
  pad_token: tokenValue,
  unk_token: tokenValue,
};
const tokenizerConfigSchema = z.looseObject({ model_max_length: z.number().optional(), ...specialTokens });
const specialTokensMapSchema = z.looseObject(specialTokens);
const vocabSchema = z.record(z.string(), z.number().int().nonnegative());
const tokenizerJsonSchema = z.looseObject({
  model: z.looseObject({ type: z.string().optional(), unk_token: z.string().nullish() }),
  added_tokens: z.array(z.looseObject({ id: z.number().int(), content: z.string() })).default([]),
  truncation: z.looseObject({ max_length: z.number().int().positive() }).nullish(),
  padding: z.looseObject({ pad_id: z.number().int().optional(), pad_token: z.string().optional() }).nullish(),
});

type SpecialName = 'bos' | 'eos' | 'pad' | 'unk';
type Specials = Partial<Record<SpecialName, string>>;

/** transformers writes int(1e30) as model_max_length when a tokenizer has no limit. */
const UNSET_MAX_LENGTH = 1e6;

const CLIP_BOS = '<|startoftext|>';
const CLIP_EOS = '<|endoftext|>';
/** CLIPTokenizerFast's split: specials, English contractions, letter runs, single digits, other runs. */
const CLIP_SPLIT =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/**
 * The tokenizer.json of CLIP BPE, as transformers' convert_slow_tokenizer builds it for
 * CLIPTokenizerFast: NFC + whitespace collapse + lowercase, CLIP's regex split then byte-level
 * mapping, BPE with "</w>" word ends, and BOS ... EOS around every text.
 */
export function clipBpeTokenizerJson(
  vocab: Record<string, number>,
  merges: string[],
  specials: { bos: string; eos: string; unk: string },
): Record<string, unknown> {
  const added = [specials.bos, specials.eos].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  }));
  return {
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [specials.eos, vocab[specials.eos]],
      cls: [specials.bos, vocab[specials.bos]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: specials.unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

const tokenString = (v: z.infer<typeof tokenValue>) =>
  v == null ? undefined : typeof v === 'string' ? v : v.content;

function specialsOf(config: z.infer<typeof specialTokensMapSchema>): Specials {
  const out: Specials = {};
  for (const name of ['bos', 'eos', 'pad', 'unk'] as const) {
    const v = tokenString(config[`${name}_token`]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Stable Diffusion's padding and truncation over a @huggingface/tokenizers Tokenizer. */
class PaddedTokenizer implements PromptTokenizer {
  constructor(
    private readonly tokenizer: Tokenizer,
    readonly modelMaxLength: number,
    readonly padTokenId: number,
  ) {}

  encode(texts: string[]): PromptEncoding {
    const out: PromptEncoding = { inputIds: [], attentionMask: [], truncated: [] };
    for (const text of texts) {
      let ids: number[] = this.tokenizer.encode(text).ids;
      const truncated = ids.length > this.modelMaxLength;
      if (truncated) ids = this.truncate(text, ids);
      const unknown = ids.findIndex((id) => !Number.isInteger(id));
      if (unknown >= 0)
        throw new Error(`tokenizer has no id (and no unk token) for a token of ${JSON.stringify(text)}`);
      const pad = this.modelMaxLength - ids.length;
      out.inputIds.push([...ids, ...new Array<number>(pad).fill(this.padTokenId)]);
      out.attentionMask.push([...new Array<number>(ids.length).fill(1), ...new Array<number>(pad).fill(0)]);
      out.truncated.push(truncated);
    }
    return out;
  }

  /** Cuts content tokens, keeping the specials the post-processor put around them, as HF truncation does. */
  private truncate(text: string, full: number[]): number[] {
    const content: number[] = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    let start = 0;
    while (start + content.length <= full.length && content.some((id, i) => full[start + i] !== id)) start++;
    const specials = full.length - content.length;
    if (start + content.length > full.length || specials >= this.modelMaxLength) {
      throw new Error(`cannot truncate ${JSON.stringify(text)} to ${this.modelMaxLength} tokens`);
    }
    const kept = content.slice(0, this.modelMaxLength - specials);
    return [...full.slice(0, start), ...kept, ...full.slice(start + content.length)];
  }
}

/**
 * Loads `dir` (a folder's tokenizer/): tokenizer.json if present, else CLIP's vocab.json +
 * merges.txt. Special tokens come from tokenizer_config.json, overridden by special_tokens_map.json
 * as transformers loads them (that is how SD 2.x pads with "!"). `fallbackMaxLength` (the text
 * encoder's static sequence length, if any) is used when no file sets model_max_length.
 */
export async function loadTokenizer(dir: string, fallbackMaxLength?: number): Promise<PromptTokenizer> {
  const configFile = join(dir, 'tokenizer_config.json');
  const mapFile = join(dir, 'special_tokens_map.json');
  const config = (await exists(configFile)) ? await readJson(configFile, tokenizerConfigSchema) : {};
  const specials = {
    ...specialsOf(config),
    ...((await exists(mapFile)) ? specialsOf(await readJson(mapFile, specialTokensMapSchema)) : {}),
  };

  const jsonFile = join(dir, 'tokenizer.json');
  let tokenizerJson: Record<string, unknown>;
  let parsedJson: z.infer<typeof tokenizerJsonSchema> | undefined;
  let sourceFile: string;
  if (await exists(jsonFile)) {
    parsedJson = await readJson(jsonFile, tokenizerJsonSchema);
    tokenizerJson = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...parsedJson,
    };
    specials.unk ??= parsedJson.model.unk_token ?? undefined;
    sourceFile = jsonFile;
  } else {
    const vocabFile = join(dir, 'vocab.json');
    const mergesFile = join(dir, 'merges.txt');
    if (!(await exists(vocabFile))) {
      throw new ModelFolderError(
        vocabFile,
        'file is missing (a tokenizer needs tokenizer.json, or vocab.json + merges.txt)',
      );
    }
    const vocab = await readJson(vocabFile, vocabSchema);
    // The first line of merges.txt is a "#version" header.
    const merges = (await readText(mergesFile))
      .split('\n')
      .filter((line, i) => !(i === 0 && line.startsWith('#version')) && line.trim().length > 0);
    const clip = {
      bos: specials.bos ?? CLIP_BOS,
      eos: specials.eos ?? CLIP_EOS,
      unk: specials.unk ?? CLIP_EOS,
    };
    for (const token of [clip.bos, clip.eos, clip.unk]) {
      if (vocab[token] === undefined)
        throw new ModelFolderError(vocabFile, `special token ${token} is not in the vocabulary`);
    }
    tokenizerJson = clipBpeTokenizerJson(vocab, merges, clip);
    sourceFile = vocabFile;
  }

  let tokenizer: Tokenizer;
  try {
    // The config object feeds models without their own special tokens (WordLevel's unk).
    tokenizer = new Tokenizer(tokenizerJson, { unk_token: specials.unk, pad_token: specials.pad });
  } catch (e) {
    throw new ModelFolderError(sourceFile, `@huggingface/tokenizers rejected it: ${(e as Error).message}`, {
      cause: e,
    });
  }

  const padTokenId =
    specials.pad !== undefined
      ? tokenizer.token_to_id(specials.pad)
      : (parsedJson?.padding?.pad_id ?? undefined);
  if (padTokenId === undefined) {
    throw new ModelFolderError(
      dir,
      specials.pad !== undefined
        ? `pad token ${JSON.stringify(specials.pad)} is not in the vocabulary`
        : 'no pad token: expected pad_token in tokenizer_config.json or special_tokens_map.json, or padding in tokenizer.json',
    );
  }

  const configured = config.model_max_length;
  const modelMaxLength =
    configured !== undefined && configured < UNSET_MAX_LENGTH
      ? configured
      : (parsedJson?.truncation?.max_length ?? fallbackMaxLength);
  if (modelMaxLength === undefined || !Number.isInteger(modelMaxLength) || modelMaxLength < 1) {
    throw new ModelFolderError(
      configFile,
      'no usable model_max_length (and neither tokenizer.json truncation nor a static text encoder sequence length)',
    );
  }
  return new PaddedTokenizer(tokenizer, modelMaxLength, padTokenId);
}
