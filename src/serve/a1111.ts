/**
 * The AUTOMATIC1111 web UI's API (`/sdapi/v1/...`), as its own clients speak it: the request and
 * response shapes of its modules/api/models.py, and its sampler names mapped onto adadiff's two.
 */
import { z } from 'zod';
import type { SchedulerKind } from '../schedulers/index.js';
import type { ServeConfig } from './config.js';
import { badRequest, textField } from './errors.js';
import type { ImageJob, ImageJobResult, LoadedModel } from './generation.js';

const MAX_STEPS = 1000;
const MAX_SEED = 2 ** 32 - 1;
/** The largest width and height A1111's own UI offers. */
const MAX_SIDE = 2048;

/** A1111's default cfg_scale and steps, for clients that leave them out. */
const A1111_CFG_SCALE = 7;
const A1111_STEPS = 50;

/** `steps: 0` asks for adaptive steps: A1111 itself cannot sample zero steps, so no client means 0 otherwise. */
export const ADAPTIVE_STEPS = 0;

/**
 * The fields of A1111's StableDiffusionProcessingTxt2Img that adadiff reads. Every field is
 * Optional there (clients send null for "default"), and every other field a client sends (hires
 * fix, scripts, override_settings, ...) is accepted and ignored.
 */
export function txt2imgRequestSchema(config: ServeConfig) {
  const count = z
    .number({ error: `expected an integer from 1 to ${config.maxImages}` })
    .int()
    .min(1)
    .max(config.maxImages)
    .nullish();
  const text = textField(config.maxPromptChars).nullish();
  const side = z
    .number({ error: `expected an integer from 1 to ${MAX_SIDE}` })
    .int()
    .min(1)
    .max(MAX_SIDE)
    .nullish();
  const samplerName = z.string({ error: 'expected a sampler name' }).nullish();
  return z.looseObject(
    {
      prompt: text,
      negative_prompt: text,
      steps: z
        .number({ error: `expected 0 (the policy chooses) or an integer from 1 to ${MAX_STEPS}` })
        .int()
        .min(ADAPTIVE_STEPS)
        .max(MAX_STEPS)
        .nullish(),
      cfg_scale: z.number({ error: 'expected a number from 0 to 50' }).min(0).max(50).nullish(),
      seed: z
        .number({ error: `expected -1 (random) or an integer from 0 to ${MAX_SEED}` })
        .int()
        .min(-1)
        .max(MAX_SEED)
        .nullish(),
      batch_size: count,
      n_iter: count,
      sampler_name: samplerName,
      sampler_index: samplerName,
      width: side,
      height: side,
      send_images: z.boolean({ error: 'expected true or false' }).nullish(),
    },
    { error: 'expected a JSON object' },
  );
}

export type Txt2ImgRequest = z.output<ReturnType<typeof txt2imgRequestSchema>>;

/** adadiff's samplers as `GET /sdapi/v1/samplers` lists them, with A1111's own names and aliases. */
export const SAMPLERS: readonly { name: string; aliases: string[]; options: object; kind: SchedulerKind }[] =
  [
    { name: 'DDIM', aliases: ['ddim'], options: {}, kind: 'ddim' },
    { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: {}, kind: 'dpm' },
  ];

/** A1111's other samplers: clients configured for one still get images, from DDIM, and info says so. */
const OTHER_A1111_SAMPLERS = [
  'Euler a',
  'Euler',
  'LMS',
  'Heun',
  'DPM2',
  'DPM2 a',
  'DPM++ 2S a',
  'DPM++ SDE',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Heun',
  'DPM++ 3M SDE',
  'DPM fast',
  'DPM adaptive',
  'Restart',
  'DDIM CFG++',
  'PLMS',
  'UniPC',
  'LCM',
].map((n) => n.toLowerCase());

/** Before A1111 1.9 the sigma schedule was part of the sampler's name ("DPM++ 2M Karras"). */
const SCHEDULE_SUFFIX = / (karras|exponential)$/i;

export interface ResolvedSampler {
  name: string;
  kind: SchedulerKind;
  /** Why the sampler that ran is not the one asked for, for info's extra_generation_params. */
  note: string | null;
}

export function resolveSampler(req: Txt2ImgRequest): ResolvedSampler {
  // A1111 reads sampler_name first and falls back to sampler_index.
  const field = req.sampler_name ? 'sampler_name' : 'sampler_index';
  const asked = req.sampler_name || req.sampler_index;
  const [fallback] = SAMPLERS;
  if (!asked) return { name: fallback.name, kind: fallback.kind, note: null };
  const base = asked.replace(SCHEDULE_SUFFIX, '').toLowerCase();
  const own = SAMPLERS.find((s) => s.name.toLowerCase() === base || s.aliases.includes(base));
  if (own) {
    const note = base === asked.toLowerCase() ? null : `${asked} (the model's own timestep spacing was used)`;
    return { name: own.name, kind: own.kind, note };
  }
  if (OTHER_A1111_SAMPLERS.includes(base)) {
    return {
      name: fallback.name,
      kind: fallback.kind,
      note: `${asked} (not available here; ran ${fallback.name})`,
    };
  }
  throw badRequest(
    field,
    `expected ${SAMPLERS.map((s) => s.name).join(' or ')}, or another AUTOMATIC1111 sampler, which runs as ${fallback.name} (got "${asked}")`,
  );
}

/**
 * The enlargement that gives the asked-for size: the model draws one size, so width and height must
 * be it or the same whole multiple of it, and the image is then enlarged by nearest neighbour.
 */
export function resolveScale(req: Txt2ImgRequest, imageSize: number): number {
  const side = (field: 'width' | 'height') => req[field] ?? imageSize;
  if (side('width') % imageSize !== 0)
    throw badRequest(
      'width',
      `expected ${imageSize}, the model's image size, or a multiple of it (got ${side('width')})`,
    );
  const scale = side('width') / imageSize;
  if (side('height') !== side('width')) {
    const got = req.height ?? `none, which means ${imageSize}`;
    throw badRequest('height', `expected ${side('width')}, the same as width (got ${got})`);
  }
  return scale;
}

/** What a txt2img request asks of the pipeline, and the sampler that will run for it. */
export function txt2imgJob(
  req: Txt2ImgRequest,
  model: LoadedModel,
  maxImages: number,
  randomSeed: () => number,
): { job: ImageJob; sampler: ResolvedSampler } {
  const sampler = resolveSampler(req);
  const count = (req.batch_size ?? 1) * (req.n_iter ?? 1);
  if (count > maxImages)
    throw badRequest('n_iter', `expected batch_size × n_iter to be at most ${maxImages} (got ${count})`);
  const job: ImageJob = {
    prompt: req.prompt ?? '',
    negativePrompt: req.negative_prompt ?? '',
    steps: req.steps === ADAPTIVE_STEPS ? 'auto' : (req.steps ?? A1111_STEPS),
    scheduler: sampler.kind,
    guidance: req.cfg_scale ?? A1111_CFG_SCALE,
    seed: req.seed === -1 || req.seed == null ? randomSeed() : req.seed,
    count,
    scale: resolveScale(req, model.imageSize),
  };
  return { job, sampler };
}

/** As A1111's infotext quotes a value: only when it holds a separator. */
const quote = (v: string) => (/[,:\n]/.test(v) ? JSON.stringify(v) : v);

/** A1111's job_timestamp: local time as YYYYMMDDhhmmss. */
function jobTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * `{images, parameters, info}` as A1111's TextToImageResponse: parameters echoes the request with
 * the defaults that were applied; info is the JSON string of A1111's Processed.js(), whose keys
 * clients read, plus an `adadiff` entry with the steps chosen and the policy's probabilities.
 */
export function txt2imgResponse(
  req: Txt2ImgRequest,
  { job, sampler }: { job: ImageJob; sampler: ResolvedSampler },
  res: ImageJobResult,
  model: LoadedModel,
  referenceSteps: number,
) {
  const side = model.imageSize * job.scale;
  const batchSize = req.batch_size ?? 1;
  const hash = model.fingerprint.slice(0, 10);
  const adaptive = res.policy
    ? `chose ${res.steps} of ${res.policy.stepSet.join('/')} steps`
    : `fixed ${res.steps} steps`;
  const extra: Record<string, string> = { AdaDiff: adaptive };
  if (sampler.note) extra['Sampler requested'] = sampler.note;
  if (job.scale > 1) extra['Upscale'] = `nearest x${job.scale} from ${model.imageSize}x${model.imageSize}`;
  const infotext = (seed: number) =>
    [
      job.prompt,
      job.negativePrompt ? `\nNegative prompt: ${job.negativePrompt}` : '',
      `\nSteps: ${res.steps}, Sampler: ${sampler.name}, CFG scale: ${job.guidance}, Seed: ${seed}, `,
      `Size: ${side}x${side}, Model hash: ${hash}, Model: ${model.name}, `,
      Object.entries(extra)
        .map(([k, v]) => `${k}: ${quote(v)}`)
        .join(', '),
    ].join('');
  const info = {
    prompt: job.prompt,
    all_prompts: res.seeds.map(() => job.prompt),
    negative_prompt: job.negativePrompt,
    all_negative_prompts: res.seeds.map(() => job.negativePrompt),
    seed: job.seed,
    all_seeds: res.seeds,
    subseed: -1,
    all_subseeds: res.seeds.map(() => -1),
    subseed_strength: 0,
    width: side,
    height: side,
    sampler_name: sampler.name,
    cfg_scale: job.guidance,
    steps: res.steps,
    batch_size: batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: model.name,
    sd_model_hash: hash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: 0,
    extra_generation_params: extra,
    index_of_first_image: 0,
    infotexts: res.seeds.map(infotext),
    styles: [],
    job_timestamp: jobTimestamp(new Date()),
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    adadiff: {
      steps_mode: res.policy ? 'auto' : 'fixed',
      steps: res.steps,
      step_set: res.policy?.stepSet ?? null,
      probabilities: res.policy?.probabilities ?? null,
      reference_steps: referenceSteps,
      steps_saved: referenceSteps - res.steps,
      ms_per_step: res.msPerStep,
      generation_ms: res.generationMs,
      warnings: res.warnings,
    },
  };
  return {
    images: req.send_images === false ? [] : res.pngs.map((p) => p.toString('base64')),
    parameters: {
      // The schema keeps the fields it does not read, so this is the whole request.
      ...req,
      prompt: job.prompt,
      negative_prompt: job.negativePrompt,
      steps: req.steps ?? A1111_STEPS,
      cfg_scale: job.guidance,
      seed: req.seed ?? -1,
      batch_size: batchSize,
      n_iter: req.n_iter ?? 1,
      sampler_name: req.sampler_name ?? null,
      width: side,
      height: side,
    },
    info: JSON.stringify(info),
  };
}

/** `GET /sdapi/v1/sd-models`: the one model folder, as A1111's SDModelItem. */
export function sdModels(model: LoadedModel) {
  const hash = model.fingerprint.slice(0, 10);
  return [
    {
      title: `${model.name} [${hash}]`,
      model_name: model.name,
      hash,
      // A1111's sha256 is a checkpoint file's; a model folder has no one file to hash.
      sha256: null,
      filename: model.pipeline.model.dir,
      config: null,
    },
  ];
}

export const samplerList = () => SAMPLERS.map(({ name, aliases, options }) => ({ name, aliases, options }));
