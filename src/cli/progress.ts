import cliProgress from 'cli-progress';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Without a terminal, a plain line this often (ms), for logs and CI. */
  lineEveryMs?: number;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Progress on stderr with rate and time left: a bar on a terminal; otherwise (a log file, a CI
 * job, where cli-progress stays silent) a line at the start, every `lineEveryMs` and at the end.
 */
export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly bar: cliProgress.SingleBar | null;
  private readonly lineEveryMs: number;
  private timer: NodeJS.Timeout | null = null;
  private started = 0;
  private total = 0;
  private done = 0;
  private fresh = 0;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.lineEveryMs = opts.lineEveryMs ?? 10_000;
    this.bar = this.stream.isTTY
      ? new cliProgress.SingleBar(
          {
            format: `${label} [{bar}] {value}/{total} | {rate} ${unit}/s | ETA {eta_formatted}`,
            stream: this.stream,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  start(total: number, done = 0) {
    this.started = performance.now();
    this.total = total;
    this.done = done;
    this.fresh = 0;
    if (this.bar) {
      this.bar.start(total, done, { rate: '-' });
      return;
    }
    this.line();
    this.timer = setInterval(() => this.line(), this.lineEveryMs);
    this.timer.unref();
  }

  /** `sinceStart` counts only the work done by this run (a resumed run starts at `done` > 0). */
  update(done: number, sinceStart = done) {
    this.done = done;
    this.fresh = sinceStart;
    this.bar?.update(done, { rate: this.rate() > 0 ? this.rate().toFixed(1) : '-' });
  }

  stop() {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.line();
    }
    this.bar?.stop();
  }

  private rate(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.fresh / seconds : 0;
  }

  private line() {
    const rate = this.rate();
    const pct = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
    const left = rate > 0 ? `, ${duration((this.total - this.done) / rate)} left` : '';
    this.stream.write(
      `${this.label}: ${this.done}/${this.total} ${this.unit} (${pct}%), ${rate.toFixed(1)} ${this.unit}/s${left}\n`,
    );
  }
}
