/** Refused at the door: every slot is running and the waiting line is full. */
export class QueueFullError extends Error {
  constructor(
    /** Seconds after which a slot is likely free, for the Retry-After header. */
    readonly retryAfterSeconds: number,
  ) {
    super('the server is busy: every generation slot is taken and the queue is full');
  }
}

interface Waiter {
  start: () => void;
  onAbort: () => void;
}

/**
 * A bounded line of jobs in front of a fixed number of slots. A job's signal covers its whole stay:
 * aborted while waiting, it leaves the line; aborted while running, the job itself is expected to
 * stop (the denoising loop checks the signal each step), and its slot goes to the next in line.
 */
export class GenerationQueue {
  private active = 0;
  private readonly line: Waiter[] = [];
  /** Moving mean of job durations, for Retry-After; one second until a job has finished. */
  private meanJobMs = 1000;

  constructor(
    readonly concurrency: number,
    readonly capacity: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.line.length;
  }

  async run<T>(job: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    signal.throwIfAborted();
    if (this.active < this.concurrency) this.active++;
    else if (this.line.length >= this.capacity) throw new QueueFullError(this.retryAfterSeconds());
    // A finishing job hands its slot straight to the first in line, so nobody can slip in between.
    else await this.waitForSlot(signal);
    const t0 = performance.now();
    try {
      return await job(signal);
    } finally {
      this.meanJobMs = 0.8 * this.meanJobMs + 0.2 * (performance.now() - t0);
      const next = this.line.shift();
      if (next) next.start();
      else this.active--;
    }
  }

  private waitForSlot(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener('abort', waiter.onAbort);
          resolve();
        },
        onAbort: () => {
          this.line.splice(this.line.indexOf(waiter), 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.line.push(waiter);
    });
  }

  /** Roughly when the line will have moved on by one: everyone ahead, shared over the slots. */
  private retryAfterSeconds(): number {
    const ahead = this.active + this.line.length;
    return Math.max(1, Math.ceil((this.meanJobMs * ahead) / this.concurrency / 1000));
  }
}
