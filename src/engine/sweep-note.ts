/**
 * The sentence that says how a sweep's sets were run (screened or exact), for the terminal's
 * table and the report. In a module of its own so the report, which every backtest writes,
 * does not load the sweep's engine to print it.
 */
import type { SweepEngine } from './sweep.js';

export function engineNote(engine: Pick<SweepEngine, 'mode' | 'reason'>, confirmed: number): string {
  if (engine.mode === 'exact') return `Every set ran on the exact engine${engine.reason === undefined ? '' : ` (${engine.reason})`}.`;
  return `Sets were screened on the plain-number screening engine; the ${confirmed} best in sample and the baselines were re-run on the exact engine (figures "exact", with the screened figure's deviation); figures marked "screened" were not re-run.`;
}
