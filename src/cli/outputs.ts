/**
 * Output paths checked before any work: a command that would fail to write its result, or would
 * replace someone's earlier result, says so at the start rather than after minutes of computing.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The folder a file is written into exists and is writable; the file itself is not a folder. */
export function checkWritableFile(file: string, flag: string): void {
  if (existsSync(file) && statSync(file).isDirectory())
    throw new Error(`${flag} ${file}: is a folder; expected a file name`);
  checkWritableFolder(dirname(resolve(file)), `${flag} ${file}`);
}

function checkWritableFolder(dir: string, what: string): void {
  if (!existsSync(dir)) throw new Error(`${what}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`${what}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${what}: the folder ${dir} is not writable`);
  }
}

/**
 * An output folder that is new, empty, or replaced only when the user said `--force`; its parent
 * must be writable (it is created later, by the command).
 */
export function checkFreshFolder(dir: string, flag: string, force: boolean): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`${flag} ${dir}: is a file; expected a folder`);
    const held = readdirSync(dir);
    if (held.length > 0 && !force) {
      const shown = held.slice(0, 3).join(', ') + (held.length > 3 ? ', ...' : '');
      throw new Error(`${flag} ${dir} already holds files (${shown}); give --force to replace them`);
    }
    checkWritableFolder(dir, `${flag} ${dir}`);
    return;
  }
  let parent = dirname(resolve(dir));
  while (!existsSync(parent)) parent = dirname(parent);
  checkWritableFolder(parent, `${flag} ${dir}`);
}

/** A file the command would replace: refused unless --force. */
export function checkFreshFile(file: string, flag: string, force: boolean): void {
  if (existsSync(file) && !force)
    throw new Error(`${flag} ${file} already exists; give --force to replace it`);
  checkWritableFile(file, flag);
}
