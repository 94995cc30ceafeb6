import cliProgress from 'cli-progress';

/** A progress bar on stderr with rate and ETA; cli-progress stays silent when stderr is not a TTY. */
export class Progress {
  private readonly bar: cliProgress.SingleBar;
  private started = 0;

  constructor(label: string, unit: string) {
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | {rate} ${unit}/s | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number, done = 0) {
    this.started = performance.now();
    this.bar.start(total, done, { rate: '-' });
  }

  update(done: number, sinceStart = done) {
    const seconds = (performance.now() - this.started) / 1000;
    this.bar.update(done, { rate: seconds > 0 ? (sinceStart / seconds).toFixed(1) : '-' });
  }

  stop() {
    this.bar.stop();
  }
}
