import { join } from 'node:path';
import ort from 'onnxruntime-node';
import {
  type LoadOptions,
  loadModelFolder,
  type ModelFolder,
  type PromptTokenizer,
  SDXL_TIME_IDS,
  type TextEncoderModel,
} from '../models/index.js';
import { intTensor } from '../models/onnx-model.js';
import { createScheduler, type SchedulerKind } from '../schedulers/index.js';
import type { RgbImage } from '../util/image.js';
import { Rng } from '../util/random.js';
import { checkFinite } from './finite.js';
import { initialLatents } from './latents.js';
import { type Denoiser, guided, sample } from './sample.js';

/** Text features c = tau(p) of a batch of prompts, kept because the step-selection policy reads them. */
export interface TextFeatures {
  /** Row-major [batch, tokens, dim]. */
  data: Float32Array;
  dims: [number, number, number];
  /** 1 for real tokens, 0 for padding; [batch, tokens]. */
  mask: Uint8Array;
  /** SDXL: the second encoder's projected pooled output, [batch, dim] row-major. */
  pooled?: { data: Float32Array; dim: number };
}

export interface EncodedPrompts {
  cond: TextFeatures;
  /** Features of the negative prompts (empty string by default); null when guidance is off. */
  uncond: TextFeatures | null;
  /** Prompts cut at the tokenizer's limit, by index into the batch. */
  truncated: number[];
  ms: number;
}

export interface DenoiseOptions {
  steps: number;
  scheduler?: SchedulerKind;
  guidanceScale?: number;
  /** DDIM eta; > 0 adds seeded noise at each step. */
  eta?: number;
  /** Seed of the eta noise stream. */
  noiseSeed?: number;
  onStep?: (done: number, total: number) => void;
  /** Checked before each step, so a caller that gave up (a server's client that left) stops the loop. */
  signal?: AbortSignal;
}

export interface GenerateRequest extends Omit<DenoiseOptions, 'noiseSeed'> {
  prompts: string[];
  /** One negative prompt for all, or one per prompt. */
  negativePrompt?: string | string[];
  /** Seed of the first image; image i uses seed + i unless `seeds` is given. */
  seed?: number;
  seeds?: number[];
}

export interface Timings {
  textMs: number;
  stepMs: number[];
  decodeMs: number;
  totalMs: number;
}

export interface GenerateResult {
  images: RgbImage[];
  features: TextFeatures;
  steps: number;
  seeds: number[];
  timings: Timings;
  warnings: string[];
}

export const DEFAULT_GUIDANCE_SCALE = 7.5;

/** Seed of a batch's DDIM eta noise stream, from its first image's seed (kept apart from the initial noise). */
export const etaNoiseSeed = (firstSeed: number) => firstSeed ^ 0x5eed;

/**
 * Prompt -> text features -> seeded latents -> N scheduler steps with classifier-free guidance
 * (cond and uncond in one UNet call) -> VAE decode -> RGB. The phases are public so that collect and
 * adaptive generation can reuse one encoding across several step counts.
 */
export class Text2ImagePipeline {
  constructor(readonly model: ModelFolder) {}

  static async load(dir: string, opts: LoadOptions = {}) {
    return new Text2ImagePipeline(await loadModelFolder(dir, opts));
  }

  /**
   * Throws for a step count the scheduler cannot run with this model's config (more steps than
   * training timesteps, a schedule out of range), so a command can refuse it before any work.
   */
  checkSteps(steps: readonly number[], kind: SchedulerKind = this.defaultScheduler): void {
    const scheduler = createScheduler(kind, this.model.schedulerConfig);
    for (const n of steps) {
      try {
        scheduler.setTimesteps(n);
      } catch (err) {
        throw new Error(
          `${n} steps cannot run with ${join(this.model.dir, 'scheduler', 'scheduler_config.json')}: ${(err as Error).message}`,
        );
      }
    }
  }

  /**
   * The sampler the folder's scheduler names: DPM-Solver++ for a DPMSolverMultistepScheduler, DDIM
   * for any other (a PNDM or Euler config drives DDIM, as diffusers' from_config would).
   */
  get defaultScheduler(): SchedulerKind {
    const named = this.model.schedulerConfig._class_name ?? (this.model.modelIndex.scheduler as string[])[1];
    return named === 'DPMSolverMultistepScheduler' ? 'dpm' : 'ddim';
  }

  /** Elements of one image's latent, C * H * W. */
  get latentSize(): number {
    const { inChannels, sampleSize } = this.model.unet;
    return inChannels * sampleSize * sampleSize;
  }

  async encodeText(prompts: string[]): Promise<{ features: TextFeatures; truncated: number[] }> {
    const { tokenizer, textEncoder, sdxl } = this.model;
    const first = await runTextEncoder(textEncoder, tokenizer, prompts);
    if (!sdxl) return { features: first.features, truncated: first.truncated };
    // SDXL: both encoders' penultimate states joined per token (diffusers' prompt_embeds), the
    // second's pooled projection beside them; the mask is the first tokenizer's.
    const second = await runTextEncoder(
      sdxl.textEncoder2,
      sdxl.tokenizer2,
      prompts,
      sdxl.textEncoder2.pooledOutput,
    );
    const [b, l, d1] = first.features.dims;
    const d2 = second.features.dims[2];
    const data = new Float32Array(b * l * (d1 + d2));
    for (let r = 0; r < b * l; r++) {
      data.set(first.features.data.subarray(r * d1, (r + 1) * d1), r * (d1 + d2));
      data.set(second.features.data.subarray(r * d2, (r + 1) * d2), r * (d1 + d2) + d1);
    }
    return {
      features: { data, dims: [b, l, d1 + d2], mask: first.features.mask, pooled: second.pooled },
      truncated: [...new Set([...first.truncated, ...second.truncated])].sort((x, y) => x - y),
    };
  }

  async encode(prompts: string[], negative: string | string[] = '', guidanceScale = DEFAULT_GUIDANCE_SCALE) {
    const t0 = performance.now();
    const { features: cond, truncated } = await this.encodeText(prompts);
    let uncond: TextFeatures | null = null;
    if (guidanceScale > 1) {
      const negatives = typeof negative === 'string' ? prompts.map(() => negative) : negative;
      if (negatives.length !== prompts.length) {
        throw new Error(`got ${negatives.length} negative prompts for ${prompts.length} prompts`);
      }
      const sdxl = this.model.sdxl;
      // SDXL's force_zeros_for_empty_prompt: no negative prompt conditions on zeros, not on "".
      uncond =
        sdxl?.zerosForEmptyPrompt && negatives.every((n) => n === '')
          ? zerosLike(cond)
          : (await this.encodeText(negatives)).features;
    }
    return { cond, uncond, truncated, ms: performance.now() - t0 } satisfies EncodedPrompts;
  }

  /**
   * Samples z_0 from z_T (`latents`, not modified) with the UNet as the denoiser, wrapped in
   * classifier-free guidance when the scale is above 1. Returns z_0 and the wall time of each step.
   */
  async denoise(latents: Float32Array, encoded: EncodedPrompts, opts: DenoiseOptions) {
    const batch = encoded.cond.dims[0];
    const guidance = opts.guidanceScale ?? DEFAULT_GUIDANCE_SCALE;
    const useCfg = guidance > 1;
    if (useCfg && !encoded.uncond) throw new Error('guidance scale > 1 needs unconditional features');
    const scheduler = createScheduler(opts.scheduler ?? this.defaultScheduler, this.model.schedulerConfig);
    scheduler.setTimesteps(opts.steps);
    const context = useCfg
      ? concat((encoded.uncond as TextFeatures).data, encoded.cond.data)
      : encoded.cond.data;
    const pooled = encoded.cond.pooled
      ? useCfg
        ? concat((encoded.uncond as TextFeatures).pooled!.data, encoded.cond.pooled.data)
        : encoded.cond.pooled.data
      : null;
    const unet = this.unetDenoiser(context, pooled, useCfg ? 2 * batch : batch, encoded.cond.dims);
    return sample(scheduler, useCfg ? guided(unet, batch, guidance) : unet, latents, {
      eta: opts.eta,
      generator: opts.eta ? new Rng(opts.noiseSeed ?? 0) : undefined,
      onStep: opts.onStep,
      signal: opts.signal,
    });
  }

  /** The UNet session as a denoiser of `rows` latents against a fixed text context (and SDXL's pooled text). */
  private unetDenoiser(
    context: Float32Array,
    pooled: Float32Array | null,
    rows: number,
    [, tokens, dim]: TextFeatures['dims'],
  ): Denoiser {
    const { unet, sdxl, vaeDecoder } = this.model;
    const { inChannels: c, sampleSize: s } = unet;
    const contextTensor = new ort.Tensor('float32', context, [rows, tokens, dim]);
    const added: Record<string, ort.Tensor> = {};
    if (sdxl) {
      if (!pooled) throw new Error('an SDXL UNet needs the pooled text embeddings');
      const size = s * vaeDecoder.scaleFactor;
      added[sdxl.textEmbedsInput] = new ort.Tensor('float32', pooled, [rows, pooled.length / rows]);
      added[sdxl.timeIdsInput] = new ort.Tensor('float32', sdxlTimeIds(size, size, rows), [
        rows,
        SDXL_TIME_IDS,
      ]);
    }
    return async (x, t) => {
      const out = await unet.run({
        [unet.sampleInput]: new ort.Tensor('float32', x, [rows, c, s, s]),
        [unet.timestepInput]: timestepTensor(unet, t, rows),
        [unet.contextInput]: contextTensor,
        ...added,
      });
      // A copy: the scheduler keeps eps across steps (DPM-Solver++) while ORT may reuse its buffer.
      return Float32Array.from(out[unet.outputName].data as Float32Array);
    };
  }

  /** z_0 -> images via the VAE decoder (latents are divided by its scaling factor first). */
  async decode(latents: Float32Array, batch: number) {
    const t0 = performance.now();
    const { vaeDecoder, unet } = this.model;
    const scaled = Float32Array.from(latents, (v) => v / vaeDecoder.scalingFactor);
    const s = unet.sampleSize;
    const out = await vaeDecoder.run({
      [vaeDecoder.latentInput]: new ort.Tensor('float32', scaled, [batch, unet.inChannels, s, s]),
    });
    const pixels = out[vaeDecoder.outputName];
    const [n, channels, height, width] = pixels.dims as number[];
    if (n !== batch || channels !== 3) {
      throw new Error(`${vaeDecoder.file}: output has shape [${pixels.dims}], expected [${batch}, 3, H, W]`);
    }
    const data = pixels.data as Float32Array;
    checkFinite(data, () => `the decoded image (${vaeDecoder.file})`);
    const per = 3 * height * width;
    const images: RgbImage[] = [];
    for (let b = 0; b < batch; b++) {
      // The decoder's output lies in [-1, 1], as in diffusers' VaeImageProcessor.
      const chw = new Float32Array(per);
      for (let j = 0; j < per; j++) chw[j] = Math.min(1, Math.max(0, data[b * per + j] / 2 + 0.5));
      images.push({ width, height, chw });
    }
    return { images, ms: performance.now() - t0 };
  }

  /** Warnings for prompts the tokenizer had to cut, by 1-based position in the batch. */
  truncationWarnings(truncated: readonly number[]): string[] {
    const limit = this.model.tokenizer.modelMaxLength;
    return truncated.map(
      (i) => `prompt ${i + 1} is longer than the tokenizer's limit of ${limit} tokens and was truncated`,
    );
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const t0 = performance.now();
    const { prompts } = req;
    if (prompts.length === 0) throw new Error('generate needs at least one prompt');
    if (!Number.isInteger(req.steps) || req.steps < 1)
      throw new Error(`steps must be a positive integer, got ${req.steps}`);
    const seeds = req.seeds ?? prompts.map((_, i) => (req.seed ?? 0) + i);
    if (seeds.length !== prompts.length)
      throw new Error(`got ${seeds.length} seeds for ${prompts.length} prompts`);
    const guidanceScale = req.guidanceScale ?? DEFAULT_GUIDANCE_SCALE;

    const encoded = await this.encode(prompts, req.negativePrompt, guidanceScale);
    const latents = initialLatents(seeds, this.latentSize);
    const { latents: z0, stepMs } = await this.denoise(latents, encoded, {
      ...req,
      guidanceScale,
      noiseSeed: etaNoiseSeed(seeds[0]),
    });
    const { images, ms: decodeMs } = await this.decode(z0, prompts.length);
    return {
      images,
      features: encoded.cond,
      steps: stepMs.length,
      seeds,
      timings: { textMs: encoded.ms, stepMs, decodeMs, totalMs: performance.now() - t0 },
      warnings: this.truncationWarnings(encoded.truncated),
    };
  }
}

/** Token ids [rows, length] in the dtype the text encoder declares. */
export function inputIdsTensor(textEncoder: ModelFolder['textEncoder'], ids: number[][]): ort.Tensor {
  return intTensor(textEncoder.inputIdsType, ids);
}

/** The given rows of an encoded batch, as a smaller batch (prompts that share a step count). */
export function selectRows(encoded: EncodedPrompts, rows: readonly number[]): EncodedPrompts {
  const pick = (f: TextFeatures): TextFeatures => {
    const [, l, d] = f.dims;
    const data = new Float32Array(rows.length * l * d);
    const mask = new Uint8Array(rows.length * l);
    rows.forEach((r, j) => {
      data.set(f.data.subarray(r * l * d, (r + 1) * l * d), j * l * d);
      mask.set(f.mask.subarray(r * l, (r + 1) * l), j * l);
    });
    if (!f.pooled) return { data, mask, dims: [rows.length, l, d] };
    const { dim, data: all } = f.pooled;
    const pooled = new Float32Array(rows.length * dim);
    rows.forEach((r, j) => {
      pooled.set(all.subarray(r * dim, (r + 1) * dim), j * dim);
    });
    return { data, mask, dims: [rows.length, l, d], pooled: { data: pooled, dim } };
  };
  return {
    ...encoded,
    cond: pick(encoded.cond),
    uncond: encoded.uncond ? pick(encoded.uncond) : null,
    truncated: encoded.truncated.filter((i) => rows.includes(i)).map((i) => rows.indexOf(i)),
  };
}

/** One encoder over the prompts: its hidden output (and a pooled one if named), checked for shape. */
async function runTextEncoder(
  encoder: TextEncoderModel,
  tokenizer: PromptTokenizer,
  prompts: string[],
  pooledOutput?: string,
): Promise<{ features: TextFeatures; truncated: number[]; pooled?: TextFeatures['pooled'] }> {
  const enc = tokenizer.encode(prompts);
  const length = tokenizer.modelMaxLength;
  const out = await encoder.run({ [encoder.inputs[0].name]: inputIdsTensor(encoder, enc.inputIds) });
  const hidden = out[encoder.hiddenOutput];
  const dims = hidden.dims as number[];
  if (dims.length !== 3 || dims[0] !== prompts.length || dims[1] !== length) {
    throw new Error(
      `${encoder.file}: ${encoder.hiddenOutput} has shape [${dims}], expected [${prompts.length}, ${length}, dim]`,
    );
  }
  const pooled = pooledOutput === undefined ? undefined : out[pooledOutput];
  return {
    features: {
      data: Float32Array.from(hidden.data as Float32Array),
      dims: [dims[0], dims[1], dims[2]],
      mask: Uint8Array.from(enc.attentionMask.flat()),
    },
    truncated: enc.truncated.flatMap((t, i) => (t ? [i] : [])),
    pooled: pooled && { data: Float32Array.from(pooled.data as Float32Array), dim: pooled.dims[1] as number },
  };
}

/** Features of the same shape, all zeros (SDXL's unconditional input for an empty negative prompt). */
function zerosLike(f: TextFeatures): TextFeatures {
  return {
    data: new Float32Array(f.data.length),
    dims: f.dims,
    mask: f.mask.slice(),
    ...(f.pooled ? { pooled: { data: new Float32Array(f.pooled.data.length), dim: f.pooled.dim } } : {}),
  };
}

/**
 * SDXL's added time ids per row, as diffusers' `_get_add_time_ids` with its defaults: the original
 * size and the target size both the image size, no crop: [h, w, 0, 0, h, w].
 */
export function sdxlTimeIds(height: number, width: number, rows: number): Float32Array {
  const one = [height, width, 0, 0, height, width];
  return Float32Array.from({ length: rows * one.length }, (_, i) => one[i % one.length]);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The timestep input in the dtype and rank the export declares: [rows], [1] or a scalar. */
export function timestepTensor(unet: ModelFolder['unet'], t: number, rows: number): ort.Tensor {
  const declared = unet.inputs.find((i) => i.name === unet.timestepInput)?.dims ?? [];
  const shape = unet.timestepRank === 0 ? [] : declared[0] === 1 ? [1] : [rows];
  const n = shape.length === 0 ? 1 : shape[0];
  switch (unet.timestepType) {
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(t)), shape);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(n).fill(t), shape);
    default:
      return new ort.Tensor('float32', new Float32Array(n).fill(t), shape);
  }
}
