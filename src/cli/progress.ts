/**
 * A one-line progress bar on stderr for interactive terminals; elsewhere (CI, pipes) it
 * stays quiet between steps and the caller prints one line per epoch.
 */
export class ProgressBar {
  private readonly interactive: boolean;
  private lastDraw = 0;
  private started = performance.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.interactive = Boolean(stream.isTTY);
  }

  /** Restarts the rate measurement (call at the start of an epoch). */
  reset(): void {
    this.started = performance.now();
  }

  update(label: string, done: number, total: number): void {
    if (!this.interactive) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const width = 28;
    const filled = Math.round((done / total) * width);
    const rate = done / Math.max((now - this.started) / 1000, 1e-3);
    const eta = (total - done) / Math.max(rate, 1e-9);
    this.stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(1)} steps/s eta ${eta.toFixed(0)} s  `);
  }

  /** Clears the bar so a normal line can follow. */
  clear(): void {
    if (this.interactive) this.stream.write('\r\x1b[K');
  }
}
