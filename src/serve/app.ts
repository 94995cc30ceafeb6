import { randomInt } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { samplerList, sdModels, txt2imgJob, txt2imgRequestSchema, txt2imgResponse } from './a1111.js';
import type { ServeConfig } from './config.js';
import { badRequest, clientGone, HttpError, parseBody } from './errors.js';
import {
  checkSteps,
  type ImageJob,
  type ImageJobResult,
  type LoadedModel,
  runImageJob,
} from './generation.js';
import { imagesJob, imagesRequestSchema, imagesResponse } from './images-api.js';
import { ServeMetrics } from './metrics.js';
import { tryItPage } from './page.js';
import { GenerationQueue, QueueFullError } from './queue.js';

/** The answer to every refused request: FastAPI's `detail` (what A1111 clients print), and the field at fault. */
const errorBody = (status: number, field: string | null, detail: string) => ({
  error: STATUS_CODES[status] ?? 'Client Closed Request',
  field,
  detail,
});

/** Fastify's own refusals of a body, in the words the rest of the API uses. */
function bodyErrorWords(err: FastifyError, config: ServeConfig): string {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'body: expected JSON, and this does not parse as JSON';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body: expected a JSON object, and the body is empty';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body: larger than this server's limit of ${config.bodyLimitBytes} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'body: expected Content-Type: application/json';
    default:
      return `body: ${err.message}`;
  }
}

/**
 * The HTTP server over one loaded model: adadiff's own `POST /v1/images`, A1111's `/sdapi/v1/...`,
 * `/health`, `/metrics` and the page at `/`. Generations go through one bounded queue.
 */
export function buildServer(
  model: LoadedModel,
  config: ServeConfig,
  logger: FastifyServerOptions['logger'] = false,
): FastifyInstance {
  const app = Fastify({ logger, bodyLimit: config.bodyLimitBytes });
  const queue = new GenerationQueue(config.concurrency, config.queueLength);
  const metrics = new ServeMetrics(queue, config.referenceSteps);
  // A1111 draws random seeds below 2^32 - 1 too.
  const randomSeed = () => randomInt(0, 2 ** 32 - 1);
  const imagesSchema = imagesRequestSchema(config);
  const txt2imgSchema = txt2imgRequestSchema(config);
  const page = tryItPage({
    modelName: model.name,
    hasPolicy: model.selector !== null,
    referenceSteps: config.referenceSteps,
  });

  // Once closing, each answer also closes its connection: a client's idle keep-alive connection
  // would otherwise hold the shutdown until its timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  const countRequest = (request: FastifyRequest, status: number, ms: number) =>
    // The route pattern, not the URL, so that stray paths do not each make a new series.
    metrics.observeRequest(request.routeOptions.url ?? 'unmatched', request.method, status, ms / 1000);
  app.addHook('onResponse', async (request, reply) =>
    countRequest(request, reply.statusCode, reply.elapsedTime),
  );

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, null, `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof QueueFullError) {
      return reply
        .code(429)
        .header('retry-after', String(err.retryAfterSeconds))
        .send(errorBody(429, null, err.message));
    }
    if (err instanceof HttpError)
      return reply.code(err.statusCode).send(errorBody(err.statusCode, err.field, err.message));
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody(err.statusCode, 'body', bodyErrorWords(err, config)));
    }
    request.log.error({ err }, 'request failed');
    return reply
      .code(500)
      .send(errorBody(500, null, 'the server failed to answer this request; its log says why'));
  });

  /** Runs a job in the queue for one request; it stops when its client leaves or its time is up. */
  async function generate(
    request: FastifyRequest,
    reply: FastifyReply,
    job: ImageJob,
  ): Promise<{ res: ImageJobResult; queueMs: number }> {
    if (job.steps === 'auto' && model.selector === null) {
      throw badRequest(
        'steps',
        'adaptive steps need a step-selection policy and this server has none (start it with --policy DIR); ask for a number of steps',
      );
    }
    checkSteps(model, job);
    // The response closing before its end is the client leaving. (Fastify's request.signal, and so its
    // handlerTimeout, follow the request stream, which Node 20 closes as soon as the body is read; and
    // an answer that never went out runs no onResponse.)
    const left = new AbortController();
    reply.raw.on('close', () => {
      if (reply.raw.writableEnded) return;
      left.abort(clientGone());
      countRequest(request, 499, reply.elapsedTime);
    });
    const signal = AbortSignal.any([left.signal, AbortSignal.timeout(config.timeLimitMs)]);
    const arrived = performance.now();
    let started = arrived;
    try {
      const res = await queue.run((s) => {
        started = performance.now();
        return runImageJob(model, job, s);
      }, signal);
      const mode = job.steps === 'auto' ? 'auto' : 'fixed';
      metrics.observeOutcome('ok');
      metrics.observeImages(mode, res.steps, res.pngs.length);
      const queueMs = started - arrived;
      reply.log.info(
        { mode, steps: res.steps, images: res.pngs.length, queueMs, generationMs: res.generationMs },
        'generated',
      );
      return { res, queueMs };
    } catch (err) {
      if (err instanceof QueueFullError) throw err;
      if (left.signal.aborted) {
        metrics.observeOutcome('aborted');
        reply.log.info('client left; generation stopped');
        throw err;
      }
      if (signal.aborted) {
        metrics.observeOutcome('timeout');
        throw new HttpError(
          503,
          null,
          `not finished within this server's time limit of ${config.timeLimitMs / 1000} s`,
        );
      }
      metrics.observeOutcome('failed');
      throw err;
    }
  }

  app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(page));

  app.get('/health', async () => ({
    status: 'ok',
    model: model.name,
    policy: model.selector !== null,
    queue: { running: queue.running, waiting: queue.waiting, capacity: queue.capacity },
  }));

  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.post('/v1/images', async (request, reply) => {
    const job = imagesJob(parseBody(imagesSchema, request.body), randomSeed);
    const { res, queueMs } = await generate(request, reply, job);
    return imagesResponse(res, config.referenceSteps, queueMs);
  });

  app.post('/sdapi/v1/txt2img', async (request, reply) => {
    const req = parseBody(txt2imgSchema, request.body);
    const plan = txt2imgJob(req, model, config.maxImages, randomSeed);
    const { res } = await generate(request, reply, plan.job);
    return txt2imgResponse(req, plan, res, model, config.referenceSteps);
  });

  app.get('/sdapi/v1/samplers', async () => samplerList());
  app.get('/sdapi/v1/sd-models', async () => sdModels(model));

  return app;
}
