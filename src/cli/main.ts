import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench.js';
import { registerCollect } from './collect.js';
import { registerDemo } from './demo.js';
import { registerDiffReports } from './diff-reports.js';
import { UsageError } from './errors.js';
import { registerEval } from './eval.js';
import { registerGenerate } from './generate.js';
import { registerPolicy } from './policy.js';
import { registerSelect } from './select.js';
import { registerServe } from './serve.js';
import { registerWorldCommands } from './world.js';
import { registerWorldData } from './world-data.js';
import { registerFeatureNetCommands } from './world-feature-nets.js';

/** The version in the package's own package.json (two levels up from src/cli or dist/cli). */
function packageVersion(): string {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('adadiff')
    .description('Adaptive step selection for fast text-to-image diffusion (AdaDiff)')
    .version(packageVersion(), '--version', "print adadiff's version")
    .showHelpAfterError('(run with --help for usage)')
    // A subcommand's flags belong to it (`bench train --steps` is not `bench --steps`).
    .enablePositionalOptions()
    .exitOverride();
  registerGenerate(program);
  registerBench(program);
  registerCollect(program);
  registerSelect(program);
  registerPolicy(program);
  registerDemo(program);
  registerEval(program);
  registerDiffReports(program);
  registerServe(program);
  registerWorldCommands(program);
  const world = program.commands.find((c) => c.name() === 'world')!;
  registerWorldData(world);
  registerFeatureNetCommands(world);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program)) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI; exit 2 for bad usage, 1 for failures (bad model folder, I/O), 0 on success. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit through here with code 0; commander already printed the message.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n(run with --help for usage)`);
      return 2;
    }
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.ADADIFF_DEBUG && err instanceof Error) console.error(err.stack);
    return 1;
  }
}
