/**
 * The quality model f_q as a folder: an ImageReward / PickScore / CLIP-style reward model exported to
 * ONNX (model.onnx), the preprocessing and score normalisation it was trained with (config.json), and
 * its tokenizer (tokenizer/). Every mismatch between the three is found at load, as a ModelFolderError
 * naming the file.
 */
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ModelFolderError } from '../models/errors.js';
import { readJson } from '../models/json-file.js';
import {
  type ExecutionProvider,
  FLOAT_TYPES,
  INT_TYPES,
  type IntType,
  intTensor,
  loadOnnxModel,
  type OnnxModel,
  requireOnlyInputs,
  requireTensor,
  staticDim,
  type TensorSpec,
} from '../models/onnx-model.js';
import { loadTokenizer, type PromptTokenizer } from '../models/tokenizer.js';
import type { RgbImage } from '../util/image.js';
import {
  CLIP_MEAN,
  CLIP_STD,
  type ImagePreprocess,
  imageConfigFields,
  preprocessFromConfig,
  preprocessImage,
  rgbTuple,
  tensorName,
} from './image-preprocess.js';
import type { QualityScore, QualityScorer } from './scorer.js';

/** Images per session call: bounds the batch's memory with real 224px+ models. */
const CHUNK = 32;

const positiveInt = z.number().int().positive();

/**
 * config.json. Strict, so a misspelt key (say "score_sdt") fails instead of silently leaving a
 * default that skews every reward.
 */
const configSchema = z.strictObject({
  ...imageConfigFields,
  /** Defaults: OpenAI CLIP's, which CLIP, BLIP (ImageReward) and PickScore processors share. */
  image_mean: rgbTuple(z.number()).default(CLIP_MEAN),
  image_std: rgbTuple(z.number().positive()).default(CLIP_STD),
  /** Tokens per text; default: the tokenizer's model_max_length. ImageReward (BLIP's BERT) uses 35. */
  max_length: positiveInt.optional(),
  /**
   * The score is (raw - score_mean) / score_std. ImageReward's package reports exactly that with
   * mean 0.16717362830052426 and std 1.0333394966054072 (its reward head outputs the raw value).
   */
  score_mean: z.number().default(0),
  score_std: z.number().positive().default(1),
  /** Tensor names, when the export did not use the defaults. */
  ids_input: tensorName,
  mask_input: tensorName,
  score_output: tensorName,
});
type RewardConfig = z.output<typeof configSchema>;

export type OnnxRewardScorer = QualityScorer & {
  /** Frees the session's native memory. */
  release(): Promise<void>;
};

export interface OnnxRewardOptions {
  executionProvider?: ExecutionProvider;
}

interface Signature {
  image: string;
  ids: TensorSpec & { type: IntType };
  mask: (TensorSpec & { type: IntType }) | undefined;
  score: string;
  /** Static batch 1 exports get one image per call. */
  chunk: number;
}

function signatureOf(model: OnnxModel, config: RewardConfig, size: ImagePreprocess): Signature {
  const image = requireTensor(model, 'input', config.image_input ?? 'pixel_values', 4, FLOAT_TYPES);
  const ids = requireTensor(model, 'input', config.ids_input ?? 'input_ids', 2, INT_TYPES);
  const maskName = config.mask_input ?? 'attention_mask';
  // A mask named in config.json must exist; the default name is fed only when the model has it.
  const mask =
    config.mask_input !== undefined || model.inputs.some((s) => s.name === maskName)
      ? requireTensor(model, 'input', maskName, 2, INT_TYPES)
      : undefined;
  requireOnlyInputs(model, [image.name, ids.name, ...(mask ? [mask.name] : [])]);
  const first = model.outputs[0];
  if (first === undefined) throw new ModelFolderError(model.file, 'the model has no outputs');
  const score = requireTensor(model, 'output', config.score_output ?? first.name, [1, 2], FLOAT_TYPES);
  if (score.dims.length === 2 && ![1, undefined].includes(staticDim(score, 1))) {
    throw new ModelFolderError(
      model.file,
      `output "${score.name}" is [${score.dims.join(', ')}], expected one score per image ([batch] or [batch, 1])`,
    );
  }

  const expected = [3, size.height, size.width];
  for (const [axis, want] of expected.entries()) {
    const got = staticDim(image, axis + 1);
    if (got !== undefined && got !== want) {
      throw new ModelFolderError(
        model.file,
        `input "${image.name}" is [${image.dims.join(', ')}], but config.json's image_size makes [batch, ${expected.join(', ')}]`,
      );
    }
  }
  const batch = staticDim(image, 0);
  if (batch !== undefined && batch !== 1) {
    throw new ModelFolderError(
      model.file,
      `input "${image.name}" has a static batch size of ${batch}; export it with a dynamic batch axis (or batch 1)`,
    );
  }
  return { image: image.name, ids, mask, score: score.name, chunk: batch ?? CHUNK };
}

/** Ids and mask rows cut or kept at exactly `length` tokens. */
type Fit = (texts: readonly string[]) => { ids: number[][]; mask: number[][] };

/**
 * Encodes at `length` tokens, which may be fewer than the tokenizer pads to. Cutting then keeps the
 * special tokens that end every text (BERT's [SEP], CLIP's EOS), as HF truncation does; how many
 * there are is read off the empty text and a one-word text.
 */
function fitTo(tokenizer: PromptTokenizer, length: number, configFile: string): Fit {
  const real = (texts: string[]) => {
    const enc = tokenizer.encode(texts);
    return enc.inputIds.map((row, i) => row.slice(0, enc.attentionMask[i].filter((m) => m === 1).length));
  };
  const [specials, word] = real(['', 'a']);
  let tail = 0;
  while (tail < specials.length && specials.at(-1 - tail) === word.at(-1 - tail)) tail++;
  if (length < specials.length + 1) {
    throw new ModelFolderError(
      configFile,
      `field "max_length": ${length} leaves no room for text besides the ${specials.length} special tokens`,
    );
  }
  return (texts) => {
    const rows = real([...texts]).map((ids) =>
      ids.length > length ? [...ids.slice(0, length - tail), ...ids.slice(ids.length - tail)] : ids,
    );
    return {
      ids: rows.map((ids) => [...ids, ...new Array<number>(length - ids.length).fill(tokenizer.padTokenId)]),
      mask: rows.map((ids) => [
        ...new Array<number>(ids.length).fill(1),
        ...new Array<number>(length - ids.length).fill(0),
      ]),
    };
  };
}

/**
 * Loads `dir` (model.onnx, config.json, tokenizer/). The scorer feeds images and prompts in one
 * session call per chunk of up to 32, and reports `total` = the normalised score, `parts.raw` = the
 * model's output.
 */
export async function loadOnnxRewardScorer(
  dir: string,
  opts: OnnxRewardOptions = {},
): Promise<OnnxRewardScorer> {
  const configFile = join(dir, 'config.json');
  const config = await readJson(configFile, configSchema);
  const preprocess = preprocessFromConfig(config);

  const model = await loadOnnxModel(join(dir, 'model.onnx'), opts.executionProvider ?? 'cpu');
  let sig: Signature;
  let fit: Fit;
  try {
    sig = signatureOf(model, config, preprocess);
    const staticLength = staticDim(sig.ids, 1);
    // Either length serves a tokenizer folder that sets no model_max_length.
    const tokenizer = await loadTokenizer(join(dir, 'tokenizer'), staticLength ?? config.max_length);
    const length = config.max_length ?? tokenizer.modelMaxLength;
    if (length > tokenizer.modelMaxLength) {
      throw new ModelFolderError(
        configFile,
        `field "max_length": ${length} is more than the tokenizer's model_max_length ${tokenizer.modelMaxLength}`,
      );
    }
    if (staticLength !== undefined && staticLength !== length) {
      throw new ModelFolderError(
        model.file,
        `input "${sig.ids.name}" has static length ${staticLength}, but texts are encoded to ${length} tokens`,
      );
    }
    fit = fitTo(tokenizer, length, configFile);
  } catch (e) {
    await model.session.release();
    throw e;
  }

  const scoreChunk = async (prompts: readonly string[], images: readonly RgbImage[]) => {
    const pixels = images.map((img) => preprocessImage(img, preprocess));
    const batch = new Float32Array(pixels.length * pixels[0].length);
    for (const [i, p] of pixels.entries()) batch.set(p, i * p.length);
    const { ids, mask } = fit(prompts);
    const feeds: Record<string, ort.Tensor> = {
      [sig.image]: new ort.Tensor('float32', batch, [images.length, 3, preprocess.height, preprocess.width]),
      [sig.ids.name]: intTensor(sig.ids.type, ids),
    };
    if (sig.mask) feeds[sig.mask.name] = intTensor(sig.mask.type, mask);
    const out = (await model.run(feeds))[sig.score];
    if (out.size !== images.length) {
      throw new Error(
        `${model.file}: output "${sig.score}" has shape [${out.dims.join(', ')}] for ${images.length} images; expected one score per image`,
      );
    }
    return Array.from(
      out.data as Float32Array,
      (raw): QualityScore => ({
        total: (raw - config.score_mean) / config.score_std,
        parts: { raw },
      }),
    );
  };

  return {
    name: config.name ?? basename(resolve(dir)),
    async score(prompts, images) {
      if (prompts.length !== images.length) {
        throw new Error(`score: ${prompts.length} prompts for ${images.length} images`);
      }
      const scores: QualityScore[] = [];
      for (let i = 0; i < images.length; i += sig.chunk) {
        scores.push(...(await scoreChunk(prompts.slice(i, i + sig.chunk), images.slice(i, i + sig.chunk))));
      }
      return scores;
    },
    release: () => model.session.release(),
  };
}
