/**
 * A model folder's weights fingerprint: SHA-256 over the files of its network components, so a
 * collect database can tell that the model behind a folder changed (a retrained model exported to
 * the same path) instead of silently mixing or resuming the old model's images. Each file's own
 * hash can be kept in a cache by size and change times and is read again only when those change:
 * a Stable Diffusion export holds about 3.4 GB of weights.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Folders whose files are network weights or graphs; configs and tokenizers are read as settings. */
const WEIGHT_COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const;

/** What identifies a file's bytes without reading them; any change makes it read again. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

export interface HashCache {
  get(path: string): (FileStamp & { readonly sha256: string }) | undefined;
  set(path: string, entry: FileStamp & { readonly sha256: string }): void;
}

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The fingerprint, and the files whose bytes had to be read (the rest came from `cache`). */
export async function modelFingerprint(
  dir: string,
  cache?: HashCache,
): Promise<{ fingerprint: string; hashed: string[] }> {
  const hash = createHash('sha256');
  const hashed: string[] = [];
  for (const component of WEIGHT_COMPONENTS) {
    const folder = join(dir, component);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      if (name.endsWith('.json')) continue;
      const path = resolve(folder, name);
      const { size, mtimeMs, ctimeMs } = statSync(path);
      const known = cache?.get(path);
      let sha256 = known?.sha256;
      if (!known || known.size !== size || known.mtimeMs !== mtimeMs || known.ctimeMs !== ctimeMs) {
        sha256 = await fileHash(path);
        hashed.push(path);
        cache?.set(path, { size, mtimeMs, ctimeMs, sha256 });
      }
      hash.update(`${component}/${name}\0${sha256}\0`);
    }
  }
  return { fingerprint: hash.digest('hex').slice(0, 16), hashed };
}
