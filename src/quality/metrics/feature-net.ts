/**
 * The networks behind FID, IS and CLIP score, as folders the user supplies (the usual weights are not
 * ours to ship), loaded and checked up front so that a wrong tensor name or size fails at load as a
 * ModelFolderError naming the file (and the config.json field), not after hours of generation.
 *
 * Image feature network (Inception-v3 for FID and IS, or any other): model.onnx with one image input
 * [batch, 3, H, W] and the outputs `features` (the pool vector FID compares) and/or `logits` (the
 * class logits IS turns into probabilities), each [batch, n]; config.json gives the preprocessing and
 * may rename the tensors.
 *
 * CLIP: image_model.onnx (pixel_values -> image_embeds) + text_model.onnx (input_ids [+ attention_mask]
 * -> text_embeds), as Optimum exports CLIPVisionModelWithProjection / CLIPTextModelWithProjection, or
 * one model.onnx with all inputs and both outputs (Optimum's CLIPModel export); tokenizer/; config.json.
 *
 * Images are preprocessed by image-preprocess.ts (PIL-exact resize, crop, normalisation) and fed in
 * chunks of up to 32 (one at a time for static batch-1 exports).
 */
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ModelFolderError } from '../../models/errors.js';
import { exists, readJson } from '../../models/json-file.js';
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
} from '../../models/onnx-model.js';
import { loadTokenizer, type PromptTokenizer } from '../../models/tokenizer.js';
import type { RgbImage } from '../../util/image.js';
import {
  CLIP_MEAN,
  CLIP_STD,
  type ImagePreprocess,
  imageConfigFields,
  preprocessFromConfig,
  preprocessImage,
  rgbTuple,
  tensorName,
} from '../image-preprocess.js';

/** Images per session call: bounds a batch's memory with 299px Inception or 224px+ CLIP inputs. */
const CHUNK = 32;

/**
 * Strict, so a misspelt key fails instead of leaving a default. Mean and std have no default here:
 * Inception ports disagree (pytorch-fid scales to [-1, 1], torchvision's uses ImageNet statistics).
 */
const featureConfigSchema = z.strictObject({
  ...imageConfigFields,
  image_mean: rgbTuple(z.number()),
  image_std: rgbTuple(z.number().positive()),
  features_output: tensorName,
  logits_output: tensorName,
});

const clipConfigSchema = z.strictObject({
  ...imageConfigFields,
  /** OpenAI CLIP's. */
  image_mean: rgbTuple(z.number()).default(CLIP_MEAN),
  image_std: rgbTuple(z.number().positive()).default(CLIP_STD),
  ids_input: tensorName,
  mask_input: tensorName,
  image_output: tensorName,
  text_output: tensorName,
});

export interface FeatureNetOptions {
  executionProvider?: ExecutionProvider;
}

/** Images (or texts) per call: 1 for a static batch-1 input, else CHUNK; other static batches are refused. */
function chunkOf(model: OnnxModel, spec: TensorSpec): number {
  const batch = staticDim(spec, 0);
  if (batch !== undefined && batch !== 1) {
    throw new ModelFolderError(
      model.file,
      `input "${spec.name}" has a static batch size of ${batch}; export it with a dynamic batch axis (or batch 1)`,
    );
  }
  return batch ?? CHUNK;
}

/** The image input: float32 [batch, 3, H, W] agreeing with config.json's image_size. */
function imageInput(model: OnnxModel, name: string, p: ImagePreprocess): TensorSpec {
  const spec = requireTensor(model, 'input', name, 4, FLOAT_TYPES);
  const expected = [3, p.height, p.width];
  for (const [axis, want] of expected.entries()) {
    const got = staticDim(spec, axis + 1);
    if (got !== undefined && got !== want) {
      throw new ModelFolderError(
        model.file,
        `input "${spec.name}" is [${spec.dims.join(', ')}], but config.json's image_size makes [batch, ${expected.join(', ')}]`,
      );
    }
  }
  return spec;
}

/** A per-item vector output: float32 [batch, n]. */
const vectorOutput = (model: OnnxModel, name: string): TensorSpec =>
  requireTensor(model, 'output', name, 2, FLOAT_TYPES);

function pixelTensor(images: readonly RgbImage[], p: ImagePreprocess): ort.Tensor {
  const plane = 3 * p.height * p.width;
  const batch = new Float32Array(images.length * plane);
  images.forEach((img, i) => {
    batch.set(preprocessImage(img, p), i * plane);
  });
  return new ort.Tensor('float32', batch, [images.length, 3, p.height, p.width]);
}

/** An output tensor cut into one row per item, checked against the batch it came from. */
function rowsOf(
  model: OnnxModel,
  out: Record<string, ort.Tensor>,
  name: string,
  batch: number,
): Float32Array[] {
  const t = out[name];
  if (t.dims.length !== 2 || t.dims[0] !== batch) {
    throw new Error(
      `${model.file}: output "${name}" has shape [${t.dims.join(', ')}] for a batch of ${batch}; expected [${batch}, n]`,
    );
  }
  const n = t.dims[1];
  const data = t.data as Float32Array;
  return Array.from({ length: batch }, (_, i) => data.slice(i * n, (i + 1) * n));
}

/** Runs `run` on consecutive slices of `count` items and concatenates what each returns per key. */
async function inChunks<K extends string>(
  count: number,
  chunk: number,
  run: (start: number, end: number) => Promise<Record<K, Float32Array[]>>,
  keys: readonly K[],
): Promise<Record<K, Float32Array[]>> {
  const all = Object.fromEntries(keys.map((k) => [k, [] as Float32Array[]])) as Record<K, Float32Array[]>;
  for (let start = 0; start < count; start += chunk) {
    const part = await run(start, Math.min(count, start + chunk));
    for (const k of keys) all[k].push(...part[k]);
  }
  return all;
}

export type FeatureKind = 'features' | 'logits';

export interface ImageFeatureNet {
  readonly name: string;
  /** The outputs this folder's model has. */
  readonly kinds: readonly FeatureKind[];
  /** One row per image for each kind asked for (float32, as the model outputs them). */
  extract<K extends FeatureKind>(
    images: readonly RgbImage[],
    kinds: readonly K[],
  ): Promise<Record<K, Float32Array[]>>;
  /** Frees the session's native memory. */
  release(): Promise<void>;
}

const DEFAULT_OUTPUTS: Record<FeatureKind, string> = { features: 'features', logits: 'logits' };

/** Loads an image feature network folder (model.onnx, config.json). */
export async function loadImageFeatureNet(
  dir: string,
  opts: FeatureNetOptions = {},
): Promise<ImageFeatureNet> {
  const config = await readJson(join(dir, 'config.json'), featureConfigSchema);
  const preprocess = preprocessFromConfig(config);
  const model = await loadOnnxModel(join(dir, 'model.onnx'), opts.executionProvider ?? 'cpu');
  let outputs: Partial<Record<FeatureKind, string>>;
  let input: TensorSpec;
  let chunk: number;
  try {
    // The image must be the only input; by default it is whatever the model calls it.
    const first = model.inputs[0];
    if (first === undefined) throw new ModelFolderError(model.file, 'the model has no inputs');
    input = imageInput(model, config.image_input ?? first.name, preprocess);
    requireOnlyInputs(model, [input.name]);
    chunk = chunkOf(model, input);
    // A name from config.json must exist; a default name is used when the model has it.
    const configured = { features: config.features_output, logits: config.logits_output };
    outputs = {};
    for (const kind of ['features', 'logits'] as const) {
      const name = configured[kind] ?? DEFAULT_OUTPUTS[kind];
      if (configured[kind] !== undefined || model.outputs.some((s) => s.name === name)) {
        outputs[kind] = vectorOutput(model, name).name;
      }
    }
    if (outputs.features === undefined && outputs.logits === undefined) {
      throw new ModelFolderError(
        model.file,
        `expected an output "features" (pool features) or "logits" (class logits), or their names in config.json's ` +
          `"features_output" / "logits_output"; the model's outputs are ${model.outputs.map((s) => `"${s.name}"`).join(', ')}`,
      );
    }
  } catch (e) {
    await model.session.release();
    throw e;
  }
  const kinds = (['features', 'logits'] as const).filter((k) => outputs[k] !== undefined);

  return {
    name: config.name ?? basename(resolve(dir)),
    kinds,
    async extract<K extends FeatureKind>(images: readonly RgbImage[], wanted: readonly K[]) {
      for (const k of wanted) {
        if (outputs[k] === undefined) throw new Error(`${model.file}: the model has no "${k}" output`);
      }
      const run = async (start: number, end: number) => {
        const out = await model.run({ [input.name]: pixelTensor(images.slice(start, end), preprocess) });
        const rows = wanted.map((k) => [k, rowsOf(model, out, outputs[k]!, end - start)]);
        return Object.fromEntries(rows) as Record<K, Float32Array[]>;
      };
      return inChunks(images.length, chunk, run, wanted);
    },
    release: () => model.session.release(),
  };
}

export interface ClipEmbeddings {
  image: Float32Array[];
  text: Float32Array[];
}

export interface ClipNet {
  readonly name: string;
  /** The embeddings of each image and of its prompt (images[i] goes with prompts[i]). */
  embed(prompts: readonly string[], images: readonly RgbImage[]): Promise<ClipEmbeddings>;
  /** Frees the sessions' native memory. */
  release(): Promise<void>;
}

type IntSpec = TensorSpec & { type: IntType };

type ClipConfig = z.output<typeof clipConfigSchema>;

interface TextSide {
  model: OnnxModel;
  ids: IntSpec;
  mask: IntSpec | undefined;
  output: string;
}

function textSide(model: OnnxModel, config: ClipConfig): TextSide {
  const ids = requireTensor(model, 'input', config.ids_input ?? 'input_ids', 2, INT_TYPES);
  const maskName = config.mask_input ?? 'attention_mask';
  // A mask named in config.json must exist; the default name is fed only when the model has it.
  const mask =
    config.mask_input !== undefined || model.inputs.some((s) => s.name === maskName)
      ? requireTensor(model, 'input', maskName, 2, INT_TYPES)
      : undefined;
  return { model, ids, mask, output: vectorOutput(model, config.text_output ?? 'text_embeds').name };
}

interface ImageSide {
  model: OnnxModel;
  input: TensorSpec;
  output: string;
}

function imageSide(model: OnnxModel, config: ClipConfig, p: ImagePreprocess): ImageSide {
  const input = imageInput(model, config.image_input ?? 'pixel_values', p);
  return { model, input, output: vectorOutput(model, config.image_output ?? 'image_embeds').name };
}

/** Both embeddings must have the same length for a cosine between them. */
function checkEmbeddingDims(image: ImageSide, text: TextSide): void {
  const spec = (side: ImageSide | TextSide) => side.model.outputs.find((s) => s.name === side.output)!;
  const [di, dt] = [staticDim(spec(image), 1), staticDim(spec(text), 1)];
  if (di !== undefined && dt !== undefined && di !== dt) {
    throw new ModelFolderError(
      text.model.file,
      `output "${text.output}" has ${dt} values, but the image embedding "${image.output}" (${image.model.file}) has ${di}`,
    );
  }
}

/**
 * Loads a CLIP folder: image_model.onnx + text_model.onnx, or model.onnx with both towers; tokenizer/;
 * config.json. Texts are encoded as the tokenizer pads and truncates them (model_max_length, 77 for CLIP).
 */
export async function loadClipNet(dir: string, opts: FeatureNetOptions = {}): Promise<ClipNet> {
  const config = await readJson(join(dir, 'config.json'), clipConfigSchema);
  const preprocess = preprocessFromConfig(config);
  const single = join(dir, 'model.onnx');
  const towers = [join(dir, 'image_model.onnx'), join(dir, 'text_model.onnx')];
  const hasSingle = await exists(single);
  const hasTowers = (await exists(towers[0])) || (await exists(towers[1]));
  if (hasSingle === hasTowers) {
    throw new ModelFolderError(
      dir,
      hasSingle
        ? 'has both model.onnx and image_model.onnx/text_model.onnx; keep one layout'
        : 'expected image_model.onnx + text_model.onnx, or one model.onnx with both',
    );
  }
  const provider = opts.executionProvider ?? 'cpu';
  const loaded: OnnxModel[] = [];
  const load = async (file: string) => {
    const model = await loadOnnxModel(file, provider);
    loaded.push(model);
    return model;
  };
  const releaseAll = async () => {
    await Promise.all(loaded.map((m) => m.session.release()));
  };
  let image: ImageSide;
  let text: TextSide;
  let tokenizer: PromptTokenizer;
  try {
    if (hasSingle) {
      const model = await load(single);
      image = imageSide(model, config, preprocess);
      text = textSide(model, config);
    } else {
      image = imageSide(await load(towers[0]), config, preprocess);
      text = textSide(await load(towers[1]), config);
      requireOnlyInputs(image.model, [image.input.name]);
    }
    requireOnlyInputs(text.model, [
      ...(hasSingle ? [image.input.name] : []),
      text.ids.name,
      ...(text.mask ? [text.mask.name] : []),
    ]);
    checkEmbeddingDims(image, text);
    const staticLength = staticDim(text.ids, 1);
    tokenizer = await loadTokenizer(join(dir, 'tokenizer'), staticLength);
    if (staticLength !== undefined && staticLength !== tokenizer.modelMaxLength) {
      throw new ModelFolderError(
        text.model.file,
        `input "${text.ids.name}" has static length ${staticLength}, but the tokenizer pads to ${tokenizer.modelMaxLength}`,
      );
    }
  } catch (e) {
    await releaseAll();
    throw e;
  }
  const chunk = Math.min(chunkOf(image.model, image.input), chunkOf(text.model, text.ids));

  const textFeeds = (prompts: readonly string[]) => {
    const enc = tokenizer.encode([...prompts]);
    const feeds: Record<string, ort.Tensor> = { [text.ids.name]: intTensor(text.ids.type, enc.inputIds) };
    if (text.mask) feeds[text.mask.name] = intTensor(text.mask.type, enc.attentionMask);
    return feeds;
  };

  return {
    name: config.name ?? basename(resolve(dir)),
    async embed(prompts, images) {
      if (prompts.length !== images.length) {
        throw new Error(`embed: ${prompts.length} prompts for ${images.length} images`);
      }
      return inChunks(
        images.length,
        chunk,
        async (start, end) => {
          const pixels = { [image.input.name]: pixelTensor(images.slice(start, end), preprocess) };
          const texts = textFeeds(prompts.slice(start, end));
          if (hasSingle) {
            const out = await image.model.run({ ...pixels, ...texts });
            return {
              image: rowsOf(image.model, out, image.output, end - start),
              text: rowsOf(text.model, out, text.output, end - start),
            };
          }
          const [imageOut, textOut] = [await image.model.run(pixels), await text.model.run(texts)];
          return {
            image: rowsOf(image.model, imageOut, image.output, end - start),
            text: rowsOf(text.model, textOut, text.output, end - start),
          };
        },
        ['image', 'text'],
      );
    },
    release: releaseAll,
  };
}
