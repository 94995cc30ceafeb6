/**
 * A model folder's weights fingerprint: SHA-256 over the files of its network components, so a
 * collect database can tell that the model behind a folder changed (a retrained model exported to
 * the same path) instead of silently mixing or resuming the old model's images.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders whose files are network weights or graphs; configs and tokenizers are read as settings. */
const WEIGHT_COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const;

export async function modelFingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const component of WEIGHT_COMPONENTS) {
    const folder = join(dir, component);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      if (name.endsWith('.json')) continue;
      hash.update(`${component}/${name}\0`);
      for await (const chunk of createReadStream(join(folder, name))) hash.update(chunk as Buffer);
    }
  }
  return hash.digest('hex').slice(0, 16);
}
