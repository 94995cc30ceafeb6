/**
 * The latent denoiser's training set, encoded once: scene i is drawn and laid out by its own
 * Rng(LATENT_DATA_SEED + i), rendered at the autoencoder's size and encoded to its posterior mean.
 * The cache holds the latents only; a scene (and so a fresh phrasing of its prompt at every step)
 * comes back from its index. `scalingFactor` = 1 / std of the latents, as SD's 0.18215 was found.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { emaWeights, loadCheckpointDir } from '../../graph/trainer.js';
import { readJson } from '../../models/json-file.js';
import { Moments } from '../../util/moments.js';
import { Rng } from '../../util/random.js';
import { AUTOENCODER_CONFIG, type AutoencoderConfig, downFactor } from './autoencoder.js';
import { sampleScene } from './generate.js';
import { render } from './render.js';
import type { Scene } from './scene.js';
import { type AutoencoderRun, openAutoencoder, toSigned } from './train-autoencoder.js';

/** Seeds of the training scenes (far from the held-out evaluation seeds). */
export const LATENT_DATA_SEED = 0x1a7e_0000;

export const LATENTS_FILE = 'latents.bin';
export const LATENTS_META = 'latents.json';

export const LATENT_CACHE_META = z.object({
  count: z.number().int().positive(),
  /** One latent's [channels, side, side]. */
  shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  autoencoder: z.object({
    dir: z.string(),
    step: z.number().int().nonnegative(),
    /** SHA-256 of the autoencoder's EMA weights, so a trainer can tell a stale cache. */
    weights: z.string(),
    model: AUTOENCODER_CONFIG,
  }),
  mean: z.number(),
  std: z.number().positive(),
  scalingFactor: z.number().positive(),
});
export type LatentCacheMeta = z.infer<typeof LATENT_CACHE_META>;

/** Latents the denoiser trains on: scene i's is row i. */
export interface LatentSet {
  readonly count: number;
  /** One latent's [channels, side, side]. */
  readonly shape: readonly [number, number, number];
  readonly scalingFactor: number;
  /** [count, C, s, s] unscaled posterior means. */
  readonly data: Float32Array;
}

export interface LatentCache extends LatentSet {
  readonly meta: LatentCacheMeta;
}

/** Scene i of the training set, and the rng state its layout is drawn from. */
export function cacheScene(i: number): { scene: Scene; rng: Rng } {
  const rng = new Rng(LATENT_DATA_SEED + i);
  return { scene: sampleScene(rng), rng };
}

/** A hash of weights (names, shapes and bytes in name order). */
export function weightsHash(
  weights: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
): string {
  const h = createHash('sha256');
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name)!;
    h.update(`${name}[${t.shape.join(',')}]`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** Renders and encodes scenes 0..count-1 with a trained autoencoder's EMA weights into `out`. */
export async function encodeLatentCache(opts: {
  autoencoder: string;
  count: number;
  out: string;
  threads?: number;
  log?: (line: string) => void;
}): Promise<LatentCacheMeta> {
  const log = opts.log ?? (() => {});
  const { run, step, tensors } = loadCheckpointDir<AutoencoderRun>(opts.autoencoder);
  const cfg: AutoencoderConfig = AUTOENCODER_CONFIG.parse(run.model);
  const weights = emaWeights(tensors);
  const ae = await openAutoencoder(cfg, weights, opts.threads);
  const s = cfg.imageSize;
  const side = s / downFactor(cfg);
  const per = 3 * s * s;
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, LATENTS_FILE);
  const fd = openSync(`${file}.tmp`, 'w');
  const moments = new Moments();
  const chunk = 64;
  const started = Date.now();
  try {
    for (let start = 0; start < opts.count; start += chunk) {
      const m = Math.min(chunk, opts.count - start);
      const images = new Float32Array(m * per);
      for (let i = 0; i < m; i++) {
        const { scene, rng } = cacheScene(start + i);
        images.set(toSigned(render(scene, s, rng)), i * per);
      }
      const latents = await ae.encode(images, m);
      moments.add(latents);
      writeSync(fd, new Uint8Array(latents.buffer, latents.byteOffset, latents.byteLength));
      if ((start / chunk) % 200 === 0) {
        const secs = (Date.now() - started) / 1000;
        log(`encoded ${start + m}/${opts.count} (${((start + m) / secs).toFixed(0)} images/s)`);
      }
    }
  } finally {
    closeSync(fd);
    await ae.release();
  }
  renameSync(`${file}.tmp`, file);
  const { mean, std } = moments;
  const meta: LatentCacheMeta = {
    count: opts.count,
    shape: [cfg.latentChannels, side, side],
    autoencoder: { dir: opts.autoencoder, step, weights: weightsHash(weights), model: cfg },
    mean,
    std,
    scalingFactor: 1 / std,
  };
  writeFileSync(join(opts.out, LATENTS_META), `${JSON.stringify(meta, null, 2)}\n`);
  log(
    `encoded ${opts.count} scenes in ${((Date.now() - started) / 1000).toFixed(0)} s: std ${std.toFixed(4)}`,
  );
  return meta;
}

export async function loadLatentCache(dir: string): Promise<LatentCache> {
  const meta = await readJson(join(dir, LATENTS_META), LATENT_CACHE_META);
  const bytes = readFileSync(join(dir, LATENTS_FILE));
  const expected = meta.count * meta.shape[0] * meta.shape[1] * meta.shape[2];
  if (bytes.byteLength !== expected * 4)
    throw new Error(
      `${join(dir, LATENTS_FILE)}: ${bytes.byteLength} bytes, expected ${expected * 4} (${meta.count} latents)`,
    );
  const data = new Float32Array(expected);
  new Uint8Array(data.buffer).set(bytes);
  return { meta, data, count: meta.count, shape: meta.shape, scalingFactor: meta.scalingFactor };
}
