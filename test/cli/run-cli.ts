import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'bin.ts');

/** Runs the adadiff CLI from source in a child process, as a user's shell would. */
export function runCli(
  args: string[],
  opts: { cwd?: string; timeout?: number; env?: Record<string, string> } = {},
) {
  const res = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), BIN, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    timeout: opts.timeout ?? 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** The same, without blocking: resolves when the child exits, so several can run at once. */
export function runCliAsync(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
