/**
 * Downloads candles into the OHLCV CSV the backtester reads (`timestamp,open,high,low,close,volume`,
 * epoch ms, LF), resuming where the file ends: existing rows are kept as they are, only closed
 * candles after the last row are appended, and the file is replaced atomically, so an
 * interrupted download leaves the old file whole.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import type { Clock, EpochMs } from '../../core/time.js';
import type { VenueCandle } from './ccxt-venue.js';

export const CANDLE_CSV_HEADER = 'timestamp,open,high,low,close,volume';

/** What the download needs from a venue (CcxtVenue fits). */
export interface CandleSource {
  fetchCandles(symbol: string, timeframe: string, since?: EpochMs, limit?: number): Promise<VenueCandle[]>;
  timeframeMs(timeframe: string): number;
}

export interface DownloadCandlesOptions {
  readonly symbol: string;
  readonly timeframe: string;
  readonly out: string;
  /** Where to start when the file is absent or empty (default 0: the earliest the exchange has). */
  readonly since?: EpochMs;
  /** Candles per request (default 1000, Binance's maximum). */
  readonly pageLimit?: number;
  /** Decides which candles are closed: only candles whose period ended by now are written. */
  readonly clock: Clock;
  /** Called after each page with how far the download has come (ms from its start of `of`, the span up to now). */
  readonly onPage?: (done: number, of: number) => void;
}

export interface DownloadCandlesResult {
  readonly file: string;
  readonly keptRows: number;
  readonly addedRows: number;
  readonly firstAt: EpochMs | undefined;
  readonly lastAt: EpochMs | undefined;
  /** Set when `since` was ignored because the file already has data (resuming wins). */
  readonly resumedFrom: EpochMs | undefined;
}

export async function downloadCandles(source: CandleSource, options: DownloadCandlesOptions): Promise<DownloadCandlesResult> {
  const periodMs = source.timeframeMs(options.timeframe);
  const pageLimit = options.pageLimit ?? 1000;
  const existing = readExisting(options.out);
  const lastKept = existing.lastAt;
  let cursor = lastKept !== undefined ? lastKept + periodMs : options.since ?? 0;
  const now = options.clock.now();
  const start = Math.min(cursor, now);
  const added: string[] = [];
  let lastAt = lastKept;
  for (let page = 0; page < 100_000; page += 1) {
    const candles = await source.fetchCandles(options.symbol, options.timeframe, cursor, pageLimit);
    if (candles.length === 0) break;
    let newestOpen = cursor - periodMs;
    for (const candle of candles) {
      newestOpen = Math.max(newestOpen, candle.openAt);
      if (candle.openAt < cursor || (lastAt !== undefined && candle.openAt <= lastAt)) continue;
      if (candle.openAt + periodMs > now) continue; // still forming
      added.push([candle.openAt, candle.open.toFixed(), candle.high.toFixed(), candle.low.toFixed(), candle.close.toFixed(), candle.volume.toFixed()].join(','));
      lastAt = candle.openAt;
    }
    if (candles.length < pageLimit || newestOpen + periodMs <= cursor) break;
    options.onPage?.(Math.min(newestOpen + periodMs, now) - start, now - start);
    cursor = newestOpen + periodMs;
  }
  if (added.length > 0 || !existing.present) {
    const head = existing.rows.length > 0 ? existing.rows : [CANDLE_CSV_HEADER];
    writeFileAtomic(options.out, `${[...head, ...added].join('\n')}\n`);
  }
  const keptRows = Math.max(0, existing.rows.length - 1);
  return {
    file: options.out,
    keptRows,
    addedRows: added.length,
    firstAt: existing.firstAt ?? (added[0] !== undefined ? Number(added[0].split(',')[0]) : undefined),
    lastAt,
    resumedFrom: lastKept !== undefined && options.since !== undefined ? lastKept + periodMs : undefined,
  };
}

function readExisting(file: string): { present: boolean; rows: string[]; firstAt: EpochMs | undefined; lastAt: EpochMs | undefined } {
  if (!existsSync(file)) return { present: false, rows: [], firstAt: undefined, lastAt: undefined };
  const rows = readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
  if (rows.length === 0) return { present: true, rows: [], firstAt: undefined, lastAt: undefined };
  if (rows[0]!.trim() !== CANDLE_CSV_HEADER) {
    throw new InputError(`expected the header ${CANDLE_CSV_HEADER}, got ${JSON.stringify(rows[0])}; refusing to append to another format`, { file, line: 1 });
  }
  const timestampOf = (index: number): EpochMs => {
    const text = rows[index]!.split(',')[0] ?? '';
    if (!/^\d+$/.test(text)) throw new InputError(`expected an epoch-millisecond timestamp, got ${JSON.stringify(text)}`, { file, line: index + 1, field: 'timestamp' });
    return Number(text);
  };
  if (rows.length === 1) return { present: true, rows, firstAt: undefined, lastAt: undefined };
  return { present: true, rows, firstAt: timestampOf(1), lastAt: timestampOf(rows.length - 1) };
}
