/**
 * Resampling and summaries with danfojs-node. These are not on a backtest's hot path (they
 * run once per series), so the convenience is worth danfo's cost; danfo (and TensorFlow.js
 * under it, ~0.8 s) is imported lazily so commands that do not resample do not pay for it.
 */
import { InputError } from '../core/errors.js';
import { formatDate } from '../core/time.js';
import { Interval, seriesFromArrays, type PriceSeries } from './series.js';

export type ResampleTarget = 'weekly' | 'monthly';

type Danfo = typeof import('danfojs-node');
let danfo: Promise<Danfo> | undefined;
function loadDanfo(): Promise<Danfo> {
  danfo ??= import('danfojs-node');
  return danfo;
}

const WEEK_MS = 7 * 86_400_000;
/** 1970-01-05 was a Monday: weeks run Monday..Sunday (UTC). */
const MONDAY_OFFSET_MS = 4 * 86_400_000;

/** The bucket a bar falls in: the Monday of its ISO week, or the first of its month (UTC, epoch ms). */
export function bucketOf(at: number, target: ResampleTarget): number {
  if (target === 'weekly') return Math.floor((at - MONDAY_OFFSET_MS) / WEEK_MS) * WEEK_MS + MONDAY_OFFSET_MS;
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * Aggregates bars into weekly (Monday..Sunday, UTC) or monthly buckets: open = first open,
 * high = max high, low = min low, close = last close, volume = sum. Each output bar is
 * stamped with the time of the LAST input bar in its bucket, i.e. when the bucket's close
 * became known, so an as-of lookup never sees a week before it ended. Gaps stay gaps (an
 * empty bucket produces no bar). Missing-row counts are carried over; negatives re-flagged.
 */
export async function resample(series: PriceSeries, target: ResampleTarget): Promise<PriceSeries> {
  if (series.length === 0) throw new InputError('cannot resample an empty series', { file: series.file });
  const { DataFrame } = await loadDanfo();
  const bucket = new Array<number>(series.length);
  for (let i = 0; i < series.length; i += 1) bucket[i] = bucketOf(series.at[i]!, target);
  const frame = new DataFrame({
    bucket,
    at: Array.from(series.at),
    open: Array.from(series.open),
    high: Array.from(series.high),
    low: Array.from(series.low),
    close: Array.from(series.close),
    volume: series.volume ? Array.from(series.volume) : new Array<number>(series.length).fill(0),
  });
  const groups = frame.groupby(['bucket']);
  const first = rowsOf(groups.first());
  const last = rowsOf(groups.last());
  const extremes = rowsOf(groups.agg({ high: 'max', low: 'min', volume: 'sum' }));
  const byBucket = new Map<number, { open: number; high: number; low: number; close: number; at: number; volume: number }>();
  for (const row of first) byBucket.set(row.bucket!, { open: row.open!, high: NaN, low: NaN, close: NaN, at: NaN, volume: NaN });
  for (const row of last) Object.assign(byBucket.get(row.bucket!)!, { close: row.close!, at: row.at! });
  for (const row of extremes) Object.assign(byBucket.get(row.bucket!)!, { high: row.high_max!, low: row.low_min!, volume: row.volume_sum! });
  const keys = [...byBucket.keys()].sort((a, b) => a - b);
  const column = (name: 'open' | 'high' | 'low' | 'close' | 'at' | 'volume'): Float64Array =>
    Float64Array.from(keys, (key) => byBucket.get(key)![name]);
  const out = seriesFromArrays({
    id: `${series.id}@${target}`,
    file: series.file,
    at: column('at'),
    close: column('close'),
    ...(series.closeOnly ? {} : { open: column('open'), high: column('high'), low: column('low') }),
    ...(series.volume ? { volume: column('volume') } : {}),
  });
  return { ...out, column: series.column, interval: target === 'weekly' ? Interval.weekly : Interval.monthly, intervalSource: 'declared', missing: series.missing, warnings: series.warnings };
}

/** One row of `summarize`. */
export interface SeriesSummary {
  readonly id: string;
  readonly interval: Interval;
  readonly count: number;
  readonly from: string;
  readonly to: string;
  readonly first: number;
  readonly last: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly missing: number;
  readonly negative: number;
}

/** Count, first/last date and close, min, max and mean close of each series (danfo's describe-style aggregates). */
export async function summarize(seriesList: readonly PriceSeries[]): Promise<SeriesSummary[]> {
  const { Series } = await loadDanfo();
  return seriesList.map((series) => {
    if (series.length === 0) throw new InputError('cannot summarize an empty series', { file: series.file });
    const close = new Series(Array.from(series.close));
    return {
      id: series.id,
      interval: series.interval,
      count: series.length,
      from: formatDate(series.at[0]!),
      to: formatDate(series.at[series.length - 1]!),
      first: series.close[0]!,
      last: series.close[series.length - 1]!,
      min: close.min(),
      max: close.max(),
      mean: close.mean(),
      missing: series.missing.count,
      negative: series.negativeAt.length,
    };
  });
}

function rowsOf(frame: unknown): Array<Record<string, number | undefined>> {
  const values = (frame as { values: unknown[][]; columns: string[] });
  return values.values.map((row) => Object.fromEntries(values.columns.map((name, i) => [name, row[i] as number])));
}
