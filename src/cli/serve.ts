import type { Command } from 'commander';
import { z } from 'zod';
import { buildServer } from '../serve/app.js';
import { SERVE_DEFAULTS, type ServeConfig } from '../serve/config.js';
import { loadModel } from '../serve/generation.js';
import { intFlag, numberFlag, parseFlags } from './errors.js';
import { modelOption } from './options.js';

const ServeFlags = z.object({
  model: z.string().min(1),
  policy: z.string().optional(),
  host: z.string().min(1, 'expected a host name or address'),
  port: intFlag(0, 65535),
  concurrency: intFlag(1, 64),
  queue: intFlag(0, 100_000),
  timeLimit: numberFlag.pipe(z.number().positive('expected more than 0 seconds')),
  provider: z.enum(['cpu', 'cuda', 'webgpu']),
});

const d = SERVE_DEFAULTS;

export function registerServe(program: Command) {
  program
    .command('serve')
    .description(
      'serve the model over HTTP: POST /v1/images, AUTOMATIC1111-compatible POST /sdapi/v1/txt2img, /metrics, a page at /',
    )
    .addOption(modelOption())
    .option(
      '--policy <dir>',
      "step-selection policy for adaptive steps (default: the model folder's policy/)",
    )
    .option('--host <host>', 'address to listen on', d.host)
    .option('--port <n>', 'port to listen on (0: any free port)', String(d.port))
    .option('--concurrency <n>', 'generations at once', String(d.concurrency))
    .option(
      '--queue <n>',
      'requests that may wait for a slot; one more is answered 429',
      String(d.queueLength),
    )
    .option('--time-limit <s>', 'seconds a request may take, waiting included', String(d.timeLimitMs / 1000))
    .option('--provider <name>', 'execution provider: cpu, cuda or webgpu', 'cpu')
    .action(async (raw) => {
      const flags = parseFlags(ServeFlags, raw);
      const config: ServeConfig = {
        ...SERVE_DEFAULTS,
        host: flags.host,
        port: flags.port,
        concurrency: flags.concurrency,
        queueLength: flags.queue,
        timeLimitMs: flags.timeLimit * 1000,
      };
      const model = await loadModel(flags.model, flags.policy, flags.provider);
      // pino's JSON lines on stderr: one per request received and answered, one per generation.
      const app = buildServer(model, config, { level: 'info', stream: process.stderr });
      await app.listen({ host: config.host, port: config.port });
      app.log.info(
        { model: model.pipeline.model.dir, policy: model.selector?.dir ?? null, imageSize: model.imageSize },
        'model loaded',
      );
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      // close() stops listening, answers 503 to requests on open connections and waits for those
      // already accepted (queued ones included) to be answered.
      app.log.info({ signal }, 'shutting down: finishing the accepted requests');
      await app.close();
      await model.pipeline.model.release();
      app.log.info('stopped');
    });
}
