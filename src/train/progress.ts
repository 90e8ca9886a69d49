/**
 * A progress bar on stderr (cli-progress) showing loss, accuracy and samples/s; silent when stderr
 * is not a terminal, so logs and CI output stay clean.
 */
import cliProgress from 'cli-progress';

/** A bar over `total` samples; update with running figures, stop at the end. */
export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  constructor(label: string, total: number) {
    if (!process.stderr.isTTY) { this.bar = null; return; }
    this.bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {rate} samples/s | eta {eta}s`,
      stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 24,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(total, 0, { loss: '-', acc: '-', rate: '-' });
  }
  update(done: number, f: { loss: number; acc: number; rate: number }): void {
    this.bar?.update(done, { loss: f.loss.toFixed(4), acc: (100 * f.acc).toFixed(2) + '%', rate: Math.round(f.rate) });
  }
  stop(): void { this.bar?.stop(); }
}

/** A bar over `total` items of work (files written, recordings made) with its ETA; silent off a terminal. */
export class CountProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private last = 0;
  constructor(label: string, total: number) {
    if (!process.stderr.isTTY) { this.bar = null; return; }
    this.bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {value}/{total} | eta {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 24,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(total, 0);
  }
  /** Moves the bar (at most ten times a second). */
  update(done: number): void {
    const now = performance.now();
    if (this.bar && now - this.last > 100) { this.last = now; this.bar.update(done); }
  }
  stop(done?: number): void { if (done !== undefined) this.bar?.update(done); this.bar?.stop(); }
}
