/**
 * The progress bar of long commands (a backtest and its baselines, the rerun after a sweep,
 * `data fetch` pages, `ledger post` of a large file): on stderr, only when stderr is a
 * terminal (never in pipes, logs or tests), cleared when done so the output that follows is
 * what a script would see. cli-progress is loaded only when a bar is drawn.
 */
import { systemClock } from '../core/time.js';

export interface Progress {
  /** `done` of `total` (units as the label says). */
  update(done: number, total: number): void;
  /** Removes the bar. */
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A bar labelled `label` counting `unit`, or a silent one when `enabled` is false or the stream
 * is no terminal; with `delayMs`, it appears at the first update after that delay.
 */
export async function progressBar(
  label: string,
  unit: string,
  options: { enabled?: boolean; stream?: NodeJS.WritableStream & { isTTY?: boolean }; delayMs?: number; now?: () => number } = {},
): Promise<Progress> {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false || stream.isTTY !== true) return SILENT;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} ${unit} | {eta_formatted} left`, stream, clearOnComplete: true, hideCursor: true, etaBuffer: 20, formatValue: (value: number) => value.toLocaleString('en-US') },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  // With a delay, work that finishes sooner never shows a bar (updates must come often enough).
  const now = options.now ?? systemClock.now;
  const showFrom = now() + (options.delayMs ?? 0);
  return {
    update(done, total) {
      if (!started) {
        if (now() < showFrom) return;
        bar.start(total, done);
        started = true;
      } else {
        if (bar.getTotal() !== total) bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
