import { main } from '../../src/cli/main.js';

/**
 * Runs the CLI's `main` in this process (a child process costs a second of start-up per case),
 * with what it prints captured (console.*, and stderr, where progress and commander's errors go;
 * stdout itself stays the test runner's); exit code as a shell would see it.
 */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const saved = {
    log: console.log,
    error: console.error,
    warn: console.warn,
    err: process.stderr.write,
  };
  const toOut = (...xs: unknown[]) => {
    stdout += `${xs.join(' ')}\n`;
  };
  const toErr = (...xs: unknown[]) => {
    stderr += `${xs.join(' ')}\n`;
  };
  console.log = toOut;
  console.error = toErr;
  console.warn = toErr;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    console.warn = saved.warn;
    process.stderr.write = saved.err;
  }
}
