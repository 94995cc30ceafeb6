import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, found from this file whether it runs from src/ (tsx) or dist/ (compiled). */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('adadiff: cannot find the package root');
    dir = up;
  }
  return dir;
})();

/** The embedded default text-to-image model that ships with the package. */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, 'models', 'shapes');
