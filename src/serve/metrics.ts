import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GenerationQueue } from './queue.js';

export type StepsMode = 'auto' | 'fixed';
export type GenerationOutcome = 'ok' | 'aborted' | 'timeout' | 'failed';

/**
 * What `GET /metrics` reports, in a registry of the server's own (not prom-client's global one), so
 * that several servers in one process, as in the tests, keep their counts apart.
 */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route'>;
  private readonly steps: Histogram<'mode'>;
  private readonly stepsSaved: Counter;
  private readonly generations: Counter<'outcome'>;

  constructor(
    queue: GenerationQueue,
    private readonly referenceSteps: number,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'adadiff_' });
    this.requests = new Counter({
      name: 'adadiff_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'adadiff_http_request_duration_seconds',
      help: 'Time from a request to its answer, queueing included, by route',
      labelNames: ['route'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    new Gauge({
      name: 'adadiff_queue_waiting',
      help: 'Requests waiting for a generation slot',
      registers,
      collect() {
        this.set(queue.waiting);
      },
    });
    new Gauge({
      name: 'adadiff_queue_running',
      help: 'Generations running',
      registers,
      collect() {
        this.set(queue.running);
      },
    });
    new Gauge({
      name: 'adadiff_queue_capacity',
      help: 'Requests that may wait for a slot before the server answers 429',
      registers,
      collect() {
        this.set(queue.capacity);
      },
    });
    this.steps = new Histogram({
      name: 'adadiff_steps',
      help: 'Denoising steps per image: chosen by the policy (mode="auto") or asked for (mode="fixed")',
      labelNames: ['mode'],
      buckets: [1, 5, 10, 20, 30, 40, 50, 100, 250, 1000],
      registers,
    });
    this.stepsSaved = new Counter({
      name: 'adadiff_steps_saved_total',
      help: `Denoising steps the policy saved against ${referenceSteps} steps, summed over images (a choice above ${referenceSteps} saves none)`,
      registers,
    });
    this.generations = new Counter({
      name: 'adadiff_generations_total',
      help: 'Generation jobs by outcome: ok, aborted (the client left), timeout, failed',
      labelNames: ['outcome'],
      registers,
    });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route }, seconds);
  }

  observeImages(mode: StepsMode, steps: number, images: number): void {
    for (let i = 0; i < images; i++) this.steps.observe({ mode }, steps);
    if (mode === 'auto') this.stepsSaved.inc(Math.max(0, this.referenceSteps - steps) * images);
  }

  observeOutcome(outcome: GenerationOutcome): void {
    this.generations.inc({ outcome });
  }
}
