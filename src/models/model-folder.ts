/**
 * Loads a Stable Diffusion model folder in the diffusers / Optimum ONNX layout (model_index.json
 * naming its components, each in the folder of its name: tokenizer/, text_encoder/, unet/,
 * vae_decoder/, scheduler/) and resolves everything the pipeline
 * needs to feed the three sessions: tensor names, dtypes, channel counts and sizes. Every mismatch
 * is found here, as a ModelFolderError naming the file, instead of deep inside a denoising loop.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelFolderError } from './errors.js';
import { exists, readJson } from './json-file.js';
import {
  type ExecutionProvider,
  FLOAT_TYPES,
  loadOnnxModel,
  type OnnxModel,
  requireOnlyInputs,
  requireTensor,
  type TensorSpec,
} from './onnx-model.js';
import { loadTokenizer, type PromptTokenizer } from './tokenizer.js';

export interface TextEncoderModel extends OnnxModel {
  inputIdsType: 'int32' | 'int64';
  /** The per-token embeddings the UNet attends to: `last_hidden_state` (SDXL: the penultimate layer's). */
  hiddenOutput: string;
}

/**
 * What an SDXL export adds (Optimum's layout): a second tokenizer and text encoder, whose
 * penultimate hidden states are concatenated to the first's per token and whose projected pooled
 * output `text_embeds` the UNet takes beside `time_ids` (original size, crop, target size).
 */
export interface SdxlParts {
  tokenizer2: PromptTokenizer;
  textEncoder2: TextEncoderModel & { pooledOutput: string; pooledDim: number };
  textEmbedsInput: string;
  timeIdsInput: string;
  /** model_index.json's force_zeros_for_empty_prompt (diffusers' default): an empty negative prompt is zeros. */
  zerosForEmptyPrompt: boolean;
}

export interface UnetModel extends OnnxModel {
  timestepType: 'int64' | 'int32' | 'float32' | 'float16';
  /** 1: feed `timestep` as [batch] (or [1]); 0: as a scalar. */
  timestepRank: 0 | 1;
  inChannels: number;
  /** Latent height = width. */
  sampleSize: number;
  crossAttentionDim: number | null;
  sampleInput: string;
  timestepInput: string;
  contextInput: string;
  outputName: string;
}

export interface VaeDecoderModel extends OnnxModel {
  latentInput: string;
  outputName: string;
  /** Latents are divided by this before decoding. */
  scalingFactor: number;
  /** Pixels per latent pixel along each side. */
  scaleFactor: number;
}

export interface ModelFolder {
  dir: string;
  modelIndex: Record<string, unknown>;
  tokenizer: PromptTokenizer;
  textEncoder: TextEncoderModel;
  unet: UnetModel;
  vaeDecoder: VaeDecoderModel;
  /** The SDXL parts, or null for an SD 1.x / 2.x folder. */
  sdxl: SdxlParts | null;
  /** Raw scheduler_config.json; the scheduler module validates it. */
  schedulerConfig: Record<string, unknown>;
  /** Frees the sessions' native memory. */
  release(): Promise<void>;
}

export interface LoadOptions {
  executionProvider?: ExecutionProvider;
  /** Told each network file before it loads (path and size), so a slow start says what it waits on. */
  onLoad?: (file: string, bytes: number) => void;
}

const jsonObject = z.record(z.string(), z.unknown(), { error: 'expected a JSON object' });

/** The components a text-to-image pipeline composes, each named in model_index.json and in its own folder. */
const PIPELINE_COMPONENTS = ['tokenizer', 'text_encoder', 'unet', 'vae_decoder', 'scheduler'] as const;
/** And an SDXL pipeline's second text encoder and tokenizer. */
const SDXL_COMPONENTS = ['tokenizer_2', 'text_encoder_2'] as const;

/**
 * model_index.json as diffusers writes it: the pipeline's class and, per component, its [library,
 * class] (null for one the export leaves out, as safety_checker often is).
 */
const modelIndexSchema = jsonObject.superRefine((index, ctx) => {
  const sdxl = index.text_encoder_2 != null;
  for (const name of [...PIPELINE_COMPONENTS, ...(sdxl ? SDXL_COMPONENTS : [])]) {
    const entry = index[name];
    if (!Array.isArray(entry) || entry.length !== 2 || entry.some((v) => typeof v !== 'string'))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `expected the ${name} component as [library, class]${entry === undefined ? ', found none' : ''}`,
      });
  }
});
const positiveInt = z.number().int().positive();
const unetConfigSchema = z.looseObject({
  in_channels: positiveInt.optional(),
  sample_size: positiveInt.optional(),
  cross_attention_dim: positiveInt.nullish(),
});
const vaeConfigSchema = z.looseObject({
  scaling_factor: z.number().positive().optional(),
  block_out_channels: z.array(positiveInt).min(1).optional(),
});

/** What diffusers' ONNX pipeline assumes when vae_decoder/config.json is absent (SD 1.x/2.x VAE). */
const DEFAULT_SCALING_FACTOR = 0.18215;
const DEFAULT_VAE_SCALE_FACTOR = 8;

async function optionalJson<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S> | undefined> {
  return (await exists(file)) ? readJson(file, schema) : undefined;
}

const staticDim = (spec: TensorSpec, axis: number): number | undefined =>
  typeof spec.dims[axis] === 'number' ? spec.dims[axis] : undefined;

/** A value from config.json, else from a static dim; both must agree when both are present. */
function resolveSize(
  what: string,
  configFile: string,
  fromConfig: number | undefined,
  model: OnnxModel,
  fromModel: number | undefined,
): number {
  if (fromConfig !== undefined && fromModel !== undefined && fromConfig !== fromModel) {
    throw new ModelFolderError(
      model.file,
      `${what} is ${fromModel} in the model but ${fromConfig} in ${configFile}`,
    );
  }
  const value = fromConfig ?? fromModel;
  if (value === undefined) {
    throw new ModelFolderError(
      model.file,
      `cannot tell the ${what}: the model's dim is dynamic and ${configFile} does not set it`,
    );
  }
  return value;
}

function textEncoderOf(model: OnnxModel, sdxl: boolean): TextEncoderModel {
  const ids = requireTensor(model, 'input', 'input_ids', 2, ['int32', 'int64']);
  requireOnlyInputs(model, ['input_ids']);
  const last = requireTensor(model, 'output', 'last_hidden_state', 3, FLOAT_TYPES);
  return { ...model, inputIdsType: ids.type, hiddenOutput: sdxl ? penultimateOf(model) : last.name };
}

/**
 * SDXL conditions on each encoder's penultimate layer, `hidden_states[-2]` in diffusers: the
 * second-highest of the `hidden_states.N` outputs Optimum exports.
 */
function penultimateOf(model: OnnxModel): string {
  const layers = model.outputs
    .map((o) => /^hidden_states\.(\d+)$/.exec(o.name))
    .flatMap((m) => (m ? [Number(m[1])] : []))
    .sort((a, b) => a - b);
  if (layers.length < 2)
    throw new ModelFolderError(
      model.file,
      'an SDXL text encoder must output its hidden states (hidden_states.0, hidden_states.1, ...), as Optimum exports it: SDXL reads the penultimate one',
    );
  const name = `hidden_states.${layers[layers.length - 2]}`;
  requireTensor(model, 'output', name, 3, FLOAT_TYPES);
  return name;
}

/** The added conditioning an SDXL UNet takes: the pooled text projection and the size / crop ids. */
const SDXL_UNET_INPUTS: readonly string[] = ['text_embeds', 'time_ids'];

async function unetOf(model: OnnxModel, dir: string, sdxl: boolean): Promise<UnetModel> {
  const configFile = join(dir, 'unet', 'config.json');
  const config = await optionalJson(configFile, unetConfigSchema);
  const sample = requireTensor(model, 'input', 'sample', 4, FLOAT_TYPES);
  const timestep = requireTensor(
    model,
    'input',
    'timestep',
    [0, 1],
    ['int64', 'int32', 'float32', 'float16'],
  );
  const context = requireTensor(model, 'input', 'encoder_hidden_states', 3, FLOAT_TYPES);
  if (sdxl) for (const name of SDXL_UNET_INPUTS) requireTensor(model, 'input', name, 2, FLOAT_TYPES);
  else if (model.inputs.some((i) => SDXL_UNET_INPUTS.includes(i.name)))
    throw new ModelFolderError(
      model.file,
      "takes SDXL's text_embeds and time_ids, but model_index.json names no text_encoder_2",
    );
  requireOnlyInputs(model, [
    'sample',
    'timestep',
    'encoder_hidden_states',
    ...(sdxl ? SDXL_UNET_INPUTS : []),
  ]);
  const out = requireTensor(model, 'output', 'out_sample', 4, FLOAT_TYPES);
  const [h, w] = [staticDim(sample, 2), staticDim(sample, 3)];
  if (h !== undefined && w !== undefined && h !== w) {
    throw new ModelFolderError(model.file, `input "sample" is ${h}x${w}; only square latents are supported`);
  }
  const crossFromModel = staticDim(context, 2);
  const crossFromConfig = config?.cross_attention_dim ?? undefined;
  return {
    ...model,
    timestepType: timestep.type,
    timestepRank: timestep.dims.length as 0 | 1,
    inChannels: resolveSize(
      'input channel count',
      configFile,
      config?.in_channels,
      model,
      staticDim(sample, 1),
    ),
    sampleSize: resolveSize('latent sample size', configFile, config?.sample_size, model, h ?? w),
    crossAttentionDim:
      crossFromModel !== undefined || crossFromConfig !== undefined
        ? resolveSize('cross-attention dim', configFile, crossFromConfig, model, crossFromModel)
        : null,
    sampleInput: sample.name,
    timestepInput: timestep.name,
    contextInput: context.name,
    outputName: out.name,
  };
}

async function vaeDecoderOf(model: OnnxModel, dir: string): Promise<VaeDecoderModel> {
  const config = await optionalJson(join(dir, 'vae_decoder', 'config.json'), vaeConfigSchema);
  const latent = requireTensor(model, 'input', 'latent_sample', 4, FLOAT_TYPES);
  requireOnlyInputs(model, ['latent_sample']);
  const out = requireTensor(model, 'output', 'sample', 4, FLOAT_TYPES);
  const blocks = config?.block_out_channels;
  return {
    ...model,
    latentInput: latent.name,
    outputName: out.name,
    scalingFactor: config?.scaling_factor ?? DEFAULT_SCALING_FACTOR,
    scaleFactor: blocks === undefined ? DEFAULT_VAE_SCALE_FACTOR : 2 ** (blocks.length - 1),
  };
}

/** original (h, w), crop (top, left), target (h, w), as diffusers' _get_add_time_ids lays them out. */
export const SDXL_TIME_IDS = 6;

const hiddenDimOf = (encoder: TextEncoderModel) =>
  staticDim(encoder.outputs.find((o) => o.name === encoder.hiddenOutput)!, 2);

/** Cross-file checks: each must hold for the pipeline to feed one model's output into the next. */
function checkCompatible(folder: Omit<ModelFolder, 'tokenizer' | 'release'>, maxLength: number): void {
  const { textEncoder, unet, vaeDecoder, sdxl } = folder;
  const dims = [hiddenDimOf(textEncoder), ...(sdxl ? [hiddenDimOf(sdxl.textEncoder2)] : [])];
  const hiddenDim = dims.every((d) => d !== undefined) ? dims.reduce((a, b) => a + b, 0) : undefined;
  if (hiddenDim !== undefined && unet.crossAttentionDim !== null && hiddenDim !== unet.crossAttentionDim) {
    const encoders = sdxl ? `${textEncoder.file} + ${sdxl.textEncoder2.file}` : textEncoder.file;
    throw new ModelFolderError(
      unet.file,
      `cross-attention dim ${unet.crossAttentionDim} does not match the text encoder's hidden size ${hiddenDim} (${encoders})`,
    );
  }
  if (sdxl) {
    const embeds = staticDim(unet.inputs.find((i) => i.name === sdxl.textEmbedsInput)!, 1);
    if (embeds !== undefined && embeds !== sdxl.textEncoder2.pooledDim)
      throw new ModelFolderError(
        unet.file,
        `input "text_embeds" has ${embeds} values, ${sdxl.textEncoder2.file}'s text_embeds ${sdxl.textEncoder2.pooledDim}`,
      );
    if (sdxl.tokenizer2.modelMaxLength !== maxLength)
      throw new ModelFolderError(
        sdxl.textEncoder2.file,
        `its tokenizer pads to ${sdxl.tokenizer2.modelMaxLength} tokens, the first to ${maxLength}: their states are joined per token`,
      );
    const ids = staticDim(unet.inputs.find((i) => i.name === sdxl.timeIdsInput)!, 1);
    if (ids !== undefined && ids !== SDXL_TIME_IDS)
      throw new ModelFolderError(unet.file, `input "time_ids" has ${ids} values, expected ${SDXL_TIME_IDS}`);
  }
  const seq = staticDim(textEncoder.inputs.find((s) => s.name === 'input_ids')!, 1);
  if (seq !== undefined && seq !== maxLength) {
    throw new ModelFolderError(
      textEncoder.file,
      `input "input_ids" has static length ${seq}, but the tokenizer pads to ${maxLength}`,
    );
  }
  const latentChannels = staticDim(vaeDecoder.inputs.find((s) => s.name === vaeDecoder.latentInput)!, 1);
  if (latentChannels !== undefined && latentChannels !== unet.inChannels) {
    throw new ModelFolderError(
      vaeDecoder.file,
      `input "${vaeDecoder.latentInput}" has ${latentChannels} channels, the UNet makes ${unet.inChannels}`,
    );
  }
}

export async function loadModelFolder(dir: string, opts: LoadOptions = {}): Promise<ModelFolder> {
  const provider = opts.executionProvider ?? 'cpu';
  const modelIndex = await readJson(join(dir, 'model_index.json'), modelIndexSchema);
  const schedulerConfig = await readJson(join(dir, 'scheduler', 'scheduler_config.json'), jsonObject);
  const loaded: OnnxModel[] = [];
  const load = async (component: string) => {
    const file = join(dir, component, 'model.onnx');
    if (opts.onLoad && existsSync(file)) opts.onLoad(file, statSync(file).size);
    const model = await loadOnnxModel(file, provider);
    loaded.push(model);
    return model;
  };
  try {
    const isSdxl = modelIndex.text_encoder_2 != null;
    const textEncoder = textEncoderOf(await load('text_encoder'), isSdxl);
    const unet = await unetOf(await load('unet'), dir, isSdxl);
    const vaeDecoder = await vaeDecoderOf(await load('vae_decoder'), dir);
    const seq = staticDim(textEncoder.inputs.find((s) => s.name === 'input_ids')!, 1);
    const tokenizer = await loadTokenizer(join(dir, 'tokenizer'), seq);
    const sdxl = isSdxl ? await sdxlPartsOf(dir, modelIndex, await load('text_encoder_2')) : null;
    const folder = { dir, modelIndex, textEncoder, unet, vaeDecoder, sdxl, schedulerConfig };
    checkCompatible(folder, tokenizer.modelMaxLength);
    return { ...folder, tokenizer, release: () => releaseAll(loaded) };
  } catch (e) {
    // Real sessions hold gigabytes of native memory that garbage collection frees only late.
    await releaseAll(loaded);
    throw e;
  }
}

async function sdxlPartsOf(
  dir: string,
  modelIndex: Record<string, unknown>,
  model: OnnxModel,
): Promise<SdxlParts> {
  const encoder = textEncoderOf(model, true);
  const pooled = requireTensor(model, 'output', 'text_embeds', 2, FLOAT_TYPES);
  const pooledDim = staticDim(pooled, 1);
  if (pooledDim === undefined)
    throw new ModelFolderError(
      model.file,
      'output "text_embeds" must have a static size (the projection dim)',
    );
  const seq = staticDim(encoder.inputs.find((s) => s.name === 'input_ids')!, 1);
  const zeros = modelIndex.force_zeros_for_empty_prompt;
  if (zeros !== undefined && typeof zeros !== 'boolean')
    throw new ModelFolderError(
      join(dir, 'model_index.json'),
      'field "force_zeros_for_empty_prompt": expected true or false',
    );
  return {
    tokenizer2: await loadTokenizer(join(dir, 'tokenizer_2'), seq),
    textEncoder2: { ...encoder, pooledOutput: pooled.name, pooledDim },
    textEmbedsInput: 'text_embeds',
    timeIdsInput: 'time_ids',
    zerosForEmptyPrompt: zeros ?? true,
  };
}

async function releaseAll(models: OnnxModel[]): Promise<void> {
  await Promise.all(models.map((m) => m.session.release()));
}
