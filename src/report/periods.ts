/**
 * Per-year (or per-month) figures of every run, read straight off the recorded daily series:
 * what the report's year-by-year table shows.
 *
 * The record keeps money as cumulative whole cents, so a period's figure is the cumulative
 * value on its last day minus the one on the day before it starts: exact, with no sum of
 * rounded daily values. Stockout days count the material-days whose cumulative stockout
 * count rose, as the daily export's `stockout` column does.
 *
 * This is the same arithmetic as a group-by over the daily frame that `--export` writes
 * (daily-frame.ts; the test checks the two agree to the cent on a multi-year run), without
 * loading danfojs-node and TensorFlow.js (about a second of CPU) for a table of a few dozen
 * rows: the main job's report no longer loads them.
 */
import { formatDate } from '../core/time.js';
import type { BacktestResult } from '../engine/results.js';
import { costRecordOf, runsOf } from './daily-frame.js';

/** One run's figures for one calendar year or month (or the whole run when `period` is null). */
export interface PeriodFigures {
  readonly run: string;
  /** `YYYY` or `YYYY-MM`; null for the whole run. */
  readonly period: string | null;
  /** Effective cost of the period's consumption (stock held at its end valued at that day's price). */
  readonly cost: number;
  /** The period's consumption at the standard cost in force. */
  readonly standardValue: number;
  readonly stockoutDays: number;
  readonly carrying: number;
  readonly hedgePnl: number;
}

interface Totals {
  costCents: number;
  standardCents: number;
  stockoutDays: number;
  carryingCents: number;
  hedgePnlCents: number;
}

const zero = (): Totals => ({ costCents: 0, standardCents: 0, stockoutDays: 0, carryingCents: 0, hedgePnlCents: 0 });

/**
 * Every run's figures per calendar period (UTC), then one whole-run row per run (period
 * null); ordered by period, then run (the strategy first, then the baselines). Money in
 * currency, to the cent.
 */
export function periodFigures(result: BacktestResult, by: 'year' | 'month'): PeriodFigures[] {
  const runs = runsOf(result);
  // period -> run index -> totals; periods are met in date order, so the map keeps that order.
  const periods = new Map<string, Totals[]>();
  const wholes: Totals[] = [];
  runs.forEach(([name, run], r) => {
    const record = costRecordOf(name, run);
    const whole = zero();
    wholes.push(whole);
    const spans = periodSpans(record.t, by);
    for (const m of record.materials.values()) {
      // Each period's figures: the cumulative columns' difference across its days.
      for (const { key, start, last } of spans) {
        const before = start - 1;
        const delta = (column: readonly number[]): number => column[last]! - (before < 0 ? 0 : column[before]!);
        let stockoutDays = 0;
        for (let d = start; d <= last; d += 1) if (m.stockouts[d]! > (d === 0 ? 0 : m.stockouts[d - 1]!)) stockoutDays += 1;
        let row = periods.get(key);
        if (row === undefined) periods.set(key, (row = []));
        const totals = (row[r] ??= zero());
        for (const t of [totals, whole]) {
          t.costCents += delta(m.costCents);
          t.standardCents += delta(m.standardCents);
          t.carryingCents += delta(m.carryingCents);
          t.hedgePnlCents += delta(m.hedgePnlCents);
          t.stockoutDays += stockoutDays;
        }
      }
    }
  });
  const figures = (run: string, period: string | null, t: Totals): PeriodFigures => ({
    run,
    period,
    cost: t.costCents / 100,
    standardValue: t.standardCents / 100,
    stockoutDays: t.stockoutDays,
    carrying: t.carryingCents / 100,
    hedgePnl: t.hedgePnlCents / 100,
  });
  const out: PeriodFigures[] = [];
  for (const period of [...periods.keys()].sort()) {
    const row = periods.get(period)!;
    runs.forEach(([name], r) => {
      if (row[r] !== undefined) out.push(figures(name, period, row[r]!));
    });
  }
  runs.forEach(([name], r) => out.push(figures(name, null, wholes[r]!)));
  return out;
}

/** A run of consecutive days in one period: its key (`YYYY` or `YYYY-MM`) and its first and last day indexes. */
interface Span {
  readonly key: string;
  readonly start: number;
  last: number;
}

/**
 * The days `t` cut where their period's key changes. The key is worked out with formatDate
 * once a period, not once a day: a time inside the UTC year or month last worked out has its
 * key (a run's days go one by one; the four runs of the main job are about 42,000 days).
 */
function periodSpans(t: readonly number[], by: 'year' | 'month'): Span[] {
  const keyLength = by === 'year' ? 4 : 7;
  const spans: Span[] = [];
  // The times [from, to) of the period last keyed; none at first.
  let from = 0;
  let to = 0;
  for (let i = 0; i < t.length; i += 1) {
    const at = t[i]!;
    if (at >= from && at < to) continue;
    const key = formatDate(at).slice(0, keyLength);
    const date = new Date(at);
    date.setUTCHours(0, 0, 0, 0);
    from = by === 'year' ? date.setUTCMonth(0, 1) : date.setUTCDate(1);
    to = by === 'year' ? date.setUTCFullYear(date.getUTCFullYear() + 1) : date.setUTCMonth(date.getUTCMonth() + 1);
    const open = spans[spans.length - 1];
    if (open?.key === key) continue;
    if (open !== undefined) open.last = i - 1;
    spans.push({ key, start: i, last: t.length - 1 });
  }
  return spans;
}
