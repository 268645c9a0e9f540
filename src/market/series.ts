/**
 * Price series: columnar bars loaded from CSV, built for speed (a backtest walks 10 M bars).
 *
 * A series is a set of parallel Float64Arrays (`at`, `open`, `high`, `low`, `close`,
 * optional `volume`), sorted strictly by time. Close-only files (EIA `Date,Price`, a column
 * of the World Bank table) share one array for open, high, low and close and set
 * `closeOnly`. Loading splits plain files on commas and line breaks and sends any file with a
 * quote through core's csv-parse reader (see `csvSource`); danfojs-node's read_csv measured far
 * slower on the same files (see bench/signals.ts) and is used only for resampling and summaries.
 *
 * Real quirks are kept, not papered over:
 * - a missing value (empty cell) skips the row, counted in `missing` and reported in `warnings`
 *   with its line numbers;
 * - gaps of any length are kept as they are, nothing is forward-filled;
 * - negative prices (WTI -36.98 on 2020-04-20) are kept and their indices listed in
 *   `negativeAt`. Nothing in market/ divides by a price or takes its logarithm; code that
 *   needs returns must go through `safeLog` / `safeRatio`, which refuse prices <= 0.
 * Unsorted or duplicated timestamps and non-numeric prices are refused with file, line, field.
 */
import { readFileSync } from 'node:fs';
import { InputError, type Where } from '../core/errors.js';
import { parseCsv, plainNumber, plainNumberAt } from '../core/csv.js';
import { didYouMean } from '../core/did-you-mean.js';
import { DAY_MS, formatDate, isoDay, isoDayAt, parseTime, type EpochMs } from '../core/time.js';

/** A guess at the bar spacing, from the median step between bars. */
export const Interval = {
  minute: 'minute',
  hourly: 'hourly',
  daily: 'daily',
  weekly: 'weekly',
  monthly: 'monthly',
  yearly: 'yearly',
  irregular: 'irregular',
  unknown: 'unknown',
} as const;
export type Interval = (typeof Interval)[keyof typeof Interval];

/**
 * The bar lengths a price file may declare (`cadence:` on a series in a scenario or the cost
 * feed's options). A declared cadence is checked against the file's dates (see
 * `cadenceProblem`) and replaces the guess; without one the interval is inferred from the
 * median step (`guessInterval`) and callers print that it was inferred.
 */
export const Cadence = { daily: 'daily', weekly: 'weekly', monthly: 'monthly' } as const;
export type Cadence = (typeof Cadence)[keyof typeof Cadence];
export const CADENCES: readonly Cadence[] = [Cadence.daily, Cadence.weekly, Cadence.monthly];

/** Whether a series' interval was declared (a checked `cadence:`) or inferred from its dates. */
export type IntervalSource = 'declared' | 'inferred';

/** Rows skipped because a value was missing (empty cell). */
export interface MissingRows {
  readonly count: number;
  /** 1-based line numbers in the file (the header is line 1). */
  readonly lines: readonly number[];
}

/** A columnar price series. Arrays have exactly `length` elements; `at` is strictly increasing. */
export interface PriceSeries {
  /** A short name: the file's base name, plus `:column` for a column of a wide table. */
  readonly id: string;
  /** Where it came from (the path as given), for error messages. */
  readonly file: string;
  /** The column of a wide table the closes came from, if any. */
  readonly column: string | undefined;
  readonly length: number;
  /** Bar times, epoch milliseconds (UTC). */
  readonly at: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Undefined for close-only series. */
  readonly volume: Float64Array | undefined;
  /** True when the file had a single price per bar: open, high, low and close are then the same array. */
  readonly closeOnly: boolean;
  readonly interval: Interval;
  /** `declared` when the file's configuration gave a cadence (checked against the dates), `inferred` otherwise. */
  readonly intervalSource: IntervalSource;
  readonly missing: MissingRows;
  /** Indices of bars with a negative open, high, low or close. */
  readonly negativeAt: readonly number[];
  /** Human-readable notes about what was skipped or flagged (missing rows, negative prices). */
  readonly warnings: readonly string[];
}

export interface LoadOptions {
  /** For wide tables (a time column and many price columns, like the World Bank one): the column to read. */
  readonly column?: string | undefined;
  /** Overrides the series id. */
  readonly id?: string | undefined;
  /** The declared bar length: the dates must fit it (else InputError with file, line, field); no guessing. */
  readonly cadence?: Cadence | undefined;
}

const TIME_COLUMNS = ['timestamp', 'date', 'time', 'datetime', 'month', 'data'];
const CLOSE_COLUMNS = ['price', 'close', 'value'];
/** Column names that are never a price: a two-column file with one of these has no price column. */
const NOT_PRICE_COLUMNS = ['volume', 'vol', 'qty', 'quantity', 'count', 'trades', 'number_of_trades', 'open_interest', 'openinterest', 'turnover', 'amount', 'shares', 'contracts', 'size'];
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Reads a CSV price file (see `parseSeries` for the formats). Throws InputError naming file, line and field. */
export function loadSeries(path: string, options: LoadOptions = {}): PriceSeries {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read price file: ${(error as Error).message}`, { file: path });
  }
  return parseSeries(text, path, options);
}

/**
 * Parses CSV text into a PriceSeries. Accepted layouts (header names matched
 * case-insensitively, CRLF or LF, optional UTF-8 BOM):
 * - OHLCV as ccxt returns it: `timestamp,open,high,low,close[,volume]`;
 * - close-only: a time column and `Price` (or `Close`, `Value`), like EIA's `Date,Price`;
 * - a wide table with `options.column` naming the price column (World Bank `month,...`).
 * Times are `YYYY-MM-DD`, `YYYY-MM`, ISO date-times or epoch milliseconds.
 */
export function parseSeries(text: string, file: string, options: LoadOptions = {}): PriceSeries {
  return readSeries(text, file, options, true);
}

/**
 * parseSeries without the scan of plain `date,price` lines (scanDatePrice): every row through
 * the general loop. The definition the scan is held to (test/market/series.test.ts).
 */
export function parseSeriesByRows(text: string, file: string, options: LoadOptions = {}): PriceSeries {
  return readSeries(text, file, options, false);
}

function readSeries(text: string, file: string, options: LoadOptions, scan: boolean): PriceSeries {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const plain = text.indexOf('"') < 0;
  // The header alone first (a plain file's first line, as csvSource splits it): a two-column
  // `date,price` file is then read by scanDatePrice without a string per line or cell.
  const header = plain ? plainHeader(text) : undefined;
  if (scan && header !== undefined && header.length === 2 && !header.every((h) => h === '')) {
    const layout = chooseLayout(header, header.map((h) => h.toLowerCase()), file, options.column);
    const scanned = layout.ohlc === undefined && layout.volume === undefined ? scanDatePrice(text, layout, options.cadence) : undefined;
    if (scanned !== undefined) return finishSeries(scanned, file, options, header, layout);
  }
  const source = csvSource(text, file, header);
  return readRows(source, file, options);
}

/** What a file's rows gave: the bars' columns (`n` of them used), the skipped and negative rows. */
interface Rows {
  readonly n: number;
  readonly at: Float64Array;
  readonly open: Float64Array | undefined;
  readonly high: Float64Array | undefined;
  readonly low: Float64Array | undefined;
  readonly close: Float64Array;
  readonly volume: Float64Array | undefined;
  readonly missingLines: number[];
  readonly negativeAt: number[];
  /** The first line whose step from the previous date is as long as the next coarser cadence, or 0. */
  readonly longStepLine: number;
  /** The file's last line (where "no price rows" points). */
  readonly lastLine: number;
}

/**
 * The rows of a plain (unquoted) file of two columns, a `YYYY-MM-DD` date and a plain decimal
 * price (`date,price` as EIA publishes it), read in place: the same bars the general loop
 * (readRows) reads from such a file, without splitting it into a string per line and per cell.
 * Undefined as soon as a line is anything else (a blank-looking line, a value other than a
 * plain decimal or an empty cell, another date form, a third cell, dates not increasing, a cadence problem): the
 * general loop then reads the whole file and gives its answers and refusals.
 */
function scanDatePrice(text: string, layout: Layout, cadence: Cadence | undefined): Rows | undefined {
  const dateFirst = layout.time === 0;
  const length = text.length;
  let start = text.indexOf('\n');
  if (start < 0) return undefined;
  start += 1;
  // A line that is read here is at least "YYYY-MM-DD,0" and its line break: 13 characters.
  const capacity = Math.floor((length - start + 1) / 13) + 1;
  const at = new Float64Array(capacity);
  const close = new Float64Array(capacity);
  const negativeAt: number[] = [];
  const missingLines: number[] = [];
  let n = 0;
  let lineNo = 1;
  let previousLine = 0;
  let previousTime = 0;
  let longStepLine = 0;
  while (start <= length) {
    lineNo += 1;
    let end = text.indexOf('\n', start);
    if (end < 0) end = length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end -= 1;
    if (end === start) {
      // An empty line: skipped, as the general loop skips it.
      start = next;
      continue;
    }
    const comma = text.indexOf(',', start);
    if (comma < 0 || comma >= end) return undefined;
    const timeFrom = dateFirst ? start : comma + 1;
    const timeTo = dateFirst ? comma : end;
    if (timeTo - timeFrom !== 10) return undefined;
    const t = isoDayAt(text, timeFrom);
    if (t !== t) return undefined;
    const priceFrom = dateFirst ? comma + 1 : start;
    const priceTo = dateFirst ? end : comma;
    // An empty price is a missing value (the row is skipped and listed); a second comma in the
    // price, like any other character, makes plainNumberAt's NaN.
    const missing = priceFrom === priceTo;
    const price = missing ? 0 : plainNumberAt(text, priceFrom, priceTo);
    if (price !== price) return undefined;
    // Dates are checked on every row, missing or not (as the general loop checks them).
    if (previousLine > 0 && t <= previousTime) return undefined;
    if (cadence !== undefined) {
      if (cadenceStepProblem(cadence, previousLine > 0 ? previousTime : undefined, t) !== undefined) return undefined;
      if (longStepLine === 0 && previousLine > 0 && t - previousTime >= cadenceTooLongMs(cadence)) longStepLine = lineNo;
    }
    previousTime = t;
    previousLine = lineNo;
    start = next;
    if (missing) {
      missingLines.push(lineNo);
      continue;
    }
    if (n === capacity) return undefined;
    at[n] = t;
    close[n] = price;
    if (price < 0) negativeAt.push(n);
    n += 1;
  }
  if (n === 0) return undefined;
  return { n, at, open: undefined, high: undefined, low: undefined, close, volume: undefined, missingLines, negativeAt, longStepLine, lastLine: lineNo };
}

/** The general loop: every row of `source`, each checked and read, every refusal naming file, line and field. */
function readRows(source: CsvSource, file: string, options: LoadOptions): PriceSeries {
  const header = source.header;
  if (header.length === 0 || header.every((h) => h === '')) throw new InputError('empty file: expected a header line', { file, line: 1 });
  const lower = header.map((h) => h.toLowerCase());
  const layout = chooseLayout(header, lower, file, options.column);

  const capacity = source.count;
  const at = new Float64Array(capacity);
  const open = layout.ohlc ? new Float64Array(capacity) : undefined;
  const high = layout.ohlc ? new Float64Array(capacity) : undefined;
  const low = layout.ohlc ? new Float64Array(capacity) : undefined;
  const close = new Float64Array(capacity);
  const volume = layout.volume !== undefined ? new Float64Array(capacity) : undefined;
  const missingLines: number[] = [];
  const negativeAt: number[] = [];
  const valueColumns = layout.ohlc ? [layout.ohlc[0], layout.ohlc[1], layout.ohlc[2], layout.close] : [layout.close];
  if (layout.volume !== undefined) valueColumns.push(layout.volume);
  const needed = Math.max(layout.time, ...valueColumns) + 1;
  const values = new Float64Array(valueColumns.length);
  let n = 0;
  let previousLine = 0;
  let previousTime = 0;
  const cadence = options.cadence;
  /** The first line whose step from the previous date is as long as the next coarser cadence (see cadenceSpacingProblem). */
  let longStepLine = 0;

  for (let index = 0; index < source.count; index += 1) {
    const cells = source.cells(index);
    if (cells === undefined) continue;
    const lineNo = source.line(index);
    if (cells.length < needed) {
      throw new InputError(`expected ${header.length} fields, got ${cells.length}`, { file, line: lineNo, field: header[cells.length] });
    }
    const timeText = cells[layout.time]!;
    if (timeText.trim() === '') throw new InputError('missing time', { file, line: lineNo, field: header[layout.time] });
    const t = parseBarTime(timeText, { file, line: lineNo, field: header[layout.time] });

    let isMissing = false;
    for (let k = 0; k < valueColumns.length; k += 1) {
      const column = valueColumns[k]!;
      const cell = cells[column]!;
      if (cell.length === 0 || cell.trim() === '') {
        isMissing = true;
        break;
      }
      values[k] = parseNumber(cell, { file, line: lineNo, field: header[column] });
    }
    // Order is checked on every row, missing or not: a duplicate date is a broken file either way.
    if (previousLine > 0) {
      const last = previousTime;
      if (t === last) {
        throw new InputError(`duplicate timestamp ${JSON.stringify(timeText.trim())} (also on line ${previousLine})`, { file, line: lineNo, field: header[layout.time] });
      }
      if (t < last) {
        throw new InputError(`timestamps out of order: ${JSON.stringify(timeText.trim())} comes after line ${previousLine}`, { file, line: lineNo, field: header[layout.time] });
      }
    }
    if (cadence !== undefined) {
      const problem = cadenceStepProblem(cadence, previousLine > 0 ? previousTime : undefined, t);
      if (problem !== undefined) throw new InputError(problem, { file, line: lineNo, field: header[layout.time] });
      if (longStepLine === 0 && previousLine > 0 && t - previousTime >= cadenceTooLongMs(cadence)) longStepLine = lineNo;
    }
    previousTime = t;
    previousLine = lineNo;
    if (isMissing) {
      missingLines.push(lineNo);
      continue;
    }
    at[n] = t;
    if (open && high && low) {
      open[n] = values[0]!;
      high[n] = values[1]!;
      low[n] = values[2]!;
      close[n] = values[3]!;
      if (volume) volume[n] = values[4]!;
      if (values[0]! < 0 || values[1]! < 0 || values[2]! < 0 || values[3]! < 0) negativeAt.push(n);
    } else {
      close[n] = values[0]!;
      if (volume) volume[n] = values[1]!;
      if (values[0]! < 0) negativeAt.push(n);
    }
    n += 1;
  }
  return finishSeries({ n, at, open, high, low, close, volume, missingLines, negativeAt, longStepLine, lastLine: source.lastLine }, file, options, header, layout);
}

/** The series of a file's rows: at least one, and spaced as the declared cadence says. */
function finishSeries(rows: Rows, file: string, options: LoadOptions, header: readonly string[], layout: Layout): PriceSeries {
  const { n, at, open, high, low, close, volume } = rows;
  const cadence = options.cadence;
  if (n === 0) throw new InputError('no price rows', { file, line: rows.lastLine, field: header[layout.close] });

  const closeArray = close.slice(0, n);
  if (cadence !== undefined) {
    const problem = cadenceSpacingProblem(cadence, at.subarray(0, n));
    if (problem !== undefined) throw new InputError(problem, { file, line: rows.longStepLine || 2, field: header[layout.time] });
  }
  return buildSeries({
    cadence,
    id: options.id ?? defaultId(file, options.column),
    file,
    column: options.column,
    at: at.slice(0, n),
    close: closeArray,
    open: open?.slice(0, n),
    high: high?.slice(0, n),
    low: low?.slice(0, n),
    volume: volume?.slice(0, n),
    missingLines: rows.missingLines,
    negativeAt: rows.negativeAt,
  });
}

interface SeriesParts {
  readonly id: string;
  readonly file: string;
  readonly column?: string | undefined;
  readonly at: Float64Array;
  readonly close: Float64Array;
  readonly open?: Float64Array | undefined;
  readonly high?: Float64Array | undefined;
  readonly low?: Float64Array | undefined;
  readonly volume?: Float64Array | undefined;
  readonly missingLines?: readonly number[];
  readonly negativeAt?: readonly number[];
  /** A declared (already checked) cadence; the interval is guessed when undefined. */
  readonly cadence?: Cadence | undefined;
}

function buildSeries(parts: SeriesParts): PriceSeries {
  const closeOnly = parts.open === undefined;
  const missingLines = parts.missingLines ?? [];
  const negativeAt = parts.negativeAt ?? [];
  const warnings: string[] = [];
  const where = parts.column ? `${parts.file} (column ${parts.column})` : parts.file;
  if (missingLines.length > 0) {
    warnings.push(`${where}: skipped ${missingLines.length} row(s) with a missing value, line(s) ${listSome(missingLines)}`);
  }
  if (negativeAt.length > 0) {
    const dates = negativeAt.map((i) => formatDate(parts.at[i]!));
    warnings.push(`${where}: ${negativeAt.length} bar(s) with a negative price, kept: ${listSome(dates)}`);
  }
  return {
    id: parts.id,
    file: parts.file,
    column: parts.column,
    length: parts.at.length,
    at: parts.at,
    open: parts.open ?? parts.close,
    high: parts.high ?? parts.close,
    low: parts.low ?? parts.close,
    close: parts.close,
    volume: parts.volume,
    closeOnly,
    interval: parts.cadence ?? guessInterval(parts.at),
    intervalSource: parts.cadence === undefined ? 'inferred' : 'declared',
    missing: { count: missingLines.length, lines: missingLines },
    negativeAt,
    warnings,
  };
}

/**
 * Builds a series from arrays already in memory (synthetic data, ccxt results). Checks that
 * times strictly increase and values are finite (InputError with the index as `line`), and
 * flags negative prices like the loader.
 */
export function seriesFromArrays(parts: {
  readonly id: string;
  readonly file?: string;
  readonly at: Float64Array;
  readonly close: Float64Array;
  readonly open?: Float64Array;
  readonly high?: Float64Array;
  readonly low?: Float64Array;
  readonly volume?: Float64Array;
}): PriceSeries {
  const file = parts.file ?? parts.id;
  const n = parts.at.length;
  const columns: Array<[string, Float64Array | undefined]> = [
    ['open', parts.open],
    ['high', parts.high],
    ['low', parts.low],
    ['close', parts.close],
    ['volume', parts.volume],
  ];
  const ohlc = parts.open !== undefined || parts.high !== undefined || parts.low !== undefined;
  if (ohlc && (parts.open === undefined || parts.high === undefined || parts.low === undefined)) {
    throw new InputError('open, high and low go together: give all three or none', { file });
  }
  for (const [field, array] of columns) {
    if (array === undefined) continue;
    if (array.length !== n) throw new InputError(`has ${array.length} values for ${n} times`, { file, field });
    for (let i = 0; i < n; i += 1) {
      if (!Number.isFinite(array[i]!)) throw new InputError(`not a finite number: ${array[i]} at bar ${i}`, { file, field, line: i });
    }
  }
  const negativeAt: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = parts.at[i]!;
    if (!Number.isFinite(t)) throw new InputError(`not a time: ${t} at bar ${i}`, { file, field: 'at', line: i });
    if (i > 0 && t <= parts.at[i - 1]!) {
      throw new InputError(`${t === parts.at[i - 1] ? 'duplicate timestamp' : 'timestamps out of order'} at bar ${i}`, { file, field: 'at', line: i });
    }
    if (parts.close[i]! < 0 || (ohlc && (parts.open![i]! < 0 || parts.high![i]! < 0 || parts.low![i]! < 0))) negativeAt.push(i);
  }
  return buildSeries({ ...parts, file, negativeAt });
}

/**
 * Builds a series from ccxt's `fetchOHLCV` rows `[timestamp, open, high, low, close, volume]`.
 * Rows with a missing (null/undefined) value are skipped and counted like empty CSV cells
 * (the "line" is the 1-based row number). `file` names the source in messages (default: the id).
 */
export function seriesFromOhlcv(rows: ReadonlyArray<ReadonlyArray<number | null | undefined>>, id: string, file?: string): PriceSeries {
  const n = rows.length;
  const at = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const missingLines: number[] = [];
  let k = 0;
  for (let i = 0; i < n; i += 1) {
    const row = rows[i]!;
    if (row.slice(0, 6).some((v) => v === null || v === undefined) || row.length < 6) {
      missingLines.push(i + 1);
      continue;
    }
    at[k] = row[0]!;
    open[k] = row[1]!;
    high[k] = row[2]!;
    low[k] = row[3]!;
    close[k] = row[4]!;
    volume[k] = row[5]!;
    k += 1;
  }
  const built = seriesFromArrays({
    id,
    ...(file === undefined ? {} : { file }),
    at: at.slice(0, k),
    open: open.slice(0, k),
    high: high.slice(0, k),
    low: low.slice(0, k),
    close: close.slice(0, k),
    volume: volume.slice(0, k),
  });
  return missingLines.length === 0 ? built : buildSeries({ ...built, missingLines, negativeAt: built.negativeAt });
}

/** Writes a series as OHLCV CSV (`timestamp,open,high,low,close,volume`, epoch ms, LF): the format `loadSeries` reads back. */
export function formatOhlcvCsv(series: PriceSeries): string {
  const out: string[] = ['timestamp,open,high,low,close,volume'];
  for (let i = 0; i < series.length; i += 1) {
    out.push(`${series.at[i]},${series.open[i]},${series.high[i]},${series.low[i]},${series.close[i]},${series.volume ? series.volume[i] : 0}`);
  }
  return `${out.join('\n')}\n`;
}

/** Index of the last bar at or before `t` (binary search), or -1 when `t` is before the first bar. */
export function indexAtOrBefore(series: Pick<PriceSeries, 'at'>, t: EpochMs): number {
  const at = series.at;
  let lo = 0;
  let hi = at.length - 1;
  if (hi < 0 || t < at[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (at[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * When bar `i`'s close became known. A bar's `at` is its label (the EIA observation date,
 * ccxt's candle open time, the World Bank month), so its close is known one bar length later:
 * +1 minute / hour / day / week, or the first of the next month (monthly) or year (yearly).
 * Irregular and unknown intervals use the bar's own time. Backtests must use this (or
 * `indexKnownAt`), not `indexAtOrBefore`, to avoid seeing a close before it happened.
 */
export function closeKnownAt(series: Pick<PriceSeries, 'at' | 'interval'>, i: number): EpochMs {
  const at = series.at[i]!;
  switch (series.interval) {
    case Interval.minute:
      return at + 60_000;
    case Interval.hourly:
      return at + 3_600_000;
    case Interval.daily:
      return at + DAY_MS;
    case Interval.weekly:
      return at + 7 * DAY_MS;
    case Interval.monthly: {
      const d = new Date(at);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    case Interval.yearly:
      return Date.UTC(new Date(at).getUTCFullYear() + 1, 0, 1);
    default:
      return at;
  }
}

/** Index of the last bar whose close is known at `t` (see closeKnownAt), or -1 when none is. */
export function indexKnownAt(series: Pick<PriceSeries, 'at' | 'interval'>, t: EpochMs): number {
  let lo = 0;
  let hi = series.at.length - 1;
  if (hi < 0 || closeKnownAt(series, 0) > t) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (closeKnownAt(series, mid) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The bars with `from <= at <= to` (either bound may be undefined), as a new series whose
 * arrays are views on the original (no copy). Missing-row counts stay with the original;
 * `negativeAt` is re-indexed.
 */
export function slice(series: PriceSeries, from?: EpochMs, to?: EpochMs): PriceSeries {
  const start = from === undefined ? 0 : indexAtOrBefore(series, from - 1) + 1;
  const end = to === undefined ? series.length : indexAtOrBefore(series, to) + 1;
  const s = Math.min(start, end);
  const view = (a: Float64Array): Float64Array => a.subarray(s, end);
  const closeView = view(series.close);
  const negativeAt = series.negativeAt.filter((i) => i >= s && i < end).map((i) => i - s);
  return {
    ...series,
    length: end - s,
    at: view(series.at),
    close: closeView,
    open: series.closeOnly ? closeView : view(series.open),
    high: series.closeOnly ? closeView : view(series.high),
    low: series.closeOnly ? closeView : view(series.low),
    volume: series.volume ? view(series.volume) : undefined,
    negativeAt,
  };
}

/** Natural logarithm of a price, or undefined when the price is zero, negative or not finite. */
export function safeLog(price: number): number | undefined {
  return price > 0 && Number.isFinite(price) ? Math.log(price) : undefined;
}

/** `numerator / denominator` (e.g. a return), or undefined when the denominator is zero, negative or not finite. */
export function safeRatio(numerator: number, denominator: number): number | undefined {
  return denominator > 0 && Number.isFinite(denominator) ? numerator / denominator : undefined;
}

/**
 * Returns a formatter for bar times: `YYYY-MM-DD` when every bar falls on a UTC midnight
 * (daily, weekly, monthly data), full ISO otherwise (intraday data).
 */
export function barTimeFormatter(series: Pick<PriceSeries, 'at'>): (at: EpochMs) => string {
  let allMidnights = true;
  for (let i = 0; i < series.at.length; i += 1) {
    if (series.at[i]! % DAY_MS !== 0) {
      allMidnights = false;
      break;
    }
  }
  return allMidnights ? formatDate : (at) => new Date(at).toISOString();
}

/** The median step between bars in ms (sampled on long series); undefined with fewer than two bars. */
export function medianStepMs(at: Float64Array): number | undefined {
  const n = at.length;
  if (n < 2) return undefined;
  const samples = Math.min(n - 1, 10_001);
  const stride = (n - 1) / samples;
  const steps = new Float64Array(samples);
  for (let k = 0; k < samples; k += 1) {
    const i = Math.min(n - 2, Math.floor(k * stride));
    steps[k] = at[i + 1]! - at[i]!;
  }
  steps.sort();
  return steps[samples >> 1]!;
}

/** Guesses the interval from the median step between bars (sampled on long series). */
export function guessInterval(at: Float64Array): Interval {
  const median = medianStepMs(at);
  if (median === undefined) return Interval.unknown;
  const days = median / DAY_MS;
  if (median < 3_600_000) return Interval.minute;
  if (median < DAY_MS) return Interval.hourly;
  if (days <= 4) return Interval.daily;
  if (days >= 5 && days <= 8) return Interval.weekly;
  if (days >= 27 && days <= 32) return Interval.monthly;
  if (days >= 360 && days <= 370) return Interval.yearly;
  return Interval.irregular;
}

/** How output names a series' cadence: `daily (declared)`, or `weekly (inferred from the dates; declare cadence: to fix it)`. */
export function cadenceLabel(series: Pick<PriceSeries, 'interval' | 'intervalSource'>): string {
  return series.intervalSource === 'declared' ? `${series.interval} (declared)` : `${series.interval} (inferred from the dates; declare cadence: to fix it)`;
}

/**
 * Why the date `t` cannot follow `previous` in a file of the declared cadence, or undefined
 * when it fits. Every date is a UTC midnight; a weekly bar starts at least 7 days after the
 * previous one and a monthly bar in a later calendar month (two bars inside one bar length
 * would overlap). Gaps (holidays, missing weeks) are allowed.
 */
export function cadenceStepProblem(cadence: Cadence, previous: EpochMs | undefined, t: EpochMs): string | undefined {
  if (t % DAY_MS !== 0) return `a ${cadence} file has dates (UTC midnights), got ${new Date(t).toISOString()}`;
  if (previous === undefined) return undefined;
  if (cadence === Cadence.weekly && t - previous < 7 * DAY_MS) {
    return `${formatDate(t)} is ${Math.round((t - previous) / DAY_MS)} day(s) after the previous date ${formatDate(previous)}, but the file is declared weekly (a bar spans 7 days)`;
  }
  if (cadence === Cadence.monthly) {
    const a = new Date(previous);
    const b = new Date(t);
    if (a.getUTCFullYear() === b.getUTCFullYear() && a.getUTCMonth() === b.getUTCMonth()) {
      return `${formatDate(t)} is in the same month as the previous date ${formatDate(previous)}, but the file is declared monthly (one bar per month)`;
    }
  }
  return undefined;
}

/** A step this long is what the next coarser cadence looks like (28 days after a daily or weekly bar, 360 after a monthly one). */
function cadenceTooLongMs(cadence: Cadence): number {
  return (cadence === Cadence.monthly ? 360 : 28) * DAY_MS;
}

/**
 * Why bars at `at` are too sparse for the declared cadence, or undefined: when the median
 * step is as long as the next coarser cadence (a monthly file declared daily), each bar would
 * be taken as known a bar length early, which is look-ahead.
 */
export function cadenceSpacingProblem(cadence: Cadence, at: Float64Array): string | undefined {
  const median = medianStepMs(at);
  if (median === undefined || median < cadenceTooLongMs(cadence)) return undefined;
  const guess = guessInterval(at);
  return `declared ${cadence}, but the dates are typically ${Math.round(median / DAY_MS)} days apart (${guess} data): each bar would be taken as known long before its period ends`;
}

interface Layout {
  readonly time: number;
  readonly close: number;
  readonly ohlc: readonly [number, number, number] | undefined;
  readonly volume: number | undefined;
}

function chooseLayout(header: readonly string[], lower: readonly string[], file: string, column: string | undefined): Layout {
  const find = (names: readonly string[]): number => {
    for (const name of names) {
      const i = lower.indexOf(name);
      if (i >= 0) return i;
    }
    return -1;
  };
  let time = find(TIME_COLUMNS);
  if (column !== undefined) {
    const wanted = lower.indexOf(column.toLowerCase());
    if (wanted < 0) {
      throw new InputError(`no column ${JSON.stringify(column)}${didYouMean(column, header)}; columns are ${header.join(', ')}`, { file, line: 1, field: column });
    }
    if (time < 0) time = 0;
    if (time === wanted) throw new InputError(`column ${JSON.stringify(column)} is the time column`, { file, line: 1, field: column });
    return { time, close: wanted, ohlc: undefined, volume: undefined };
  }
  if (time < 0) throw new InputError(`no time column: expected one of ${TIME_COLUMNS.join(', ')}`, { file, line: 1, field: header[0] });
  const o = lower.indexOf('open');
  const h = lower.indexOf('high');
  const l = lower.indexOf('low');
  const c = lower.indexOf('close');
  if (o >= 0 && h >= 0 && l >= 0 && c >= 0) {
    const v = lower.indexOf('volume');
    return { time, close: c, ohlc: [o, h, l], volume: v >= 0 ? v : undefined };
  }
  const close = find(CLOSE_COLUMNS);
  if (close >= 0) return { time, close, ohlc: undefined, volume: undefined };
  if (header.length === 2) {
    const other = 1 - time;
    if (NOT_PRICE_COLUMNS.includes(lower[other]!)) {
      throw new InputError(
        `no price column: ${JSON.stringify(header[other])} is not a price (expected open/high/low/close, ${CLOSE_COLUMNS.join(', ')}, or a column option naming the price column)`,
        { file, line: 1, field: header[other] },
      );
    }
    return { time, close: other, ohlc: undefined, volume: undefined };
  }
  throw new InputError(
    `cannot tell which column holds the price: expected open/high/low/close, price, or a column option naming one of ${header.filter((_, i) => i !== time).slice(0, 8).join(', ')}${header.length > 9 ? ', ...' : ''}`,
    { file, line: 1 },
  );
}

function parseNumber(cell: string, where: Where): number {
  const plain = plainNumber(cell);
  if (plain === plain) return plain;
  const text = cell.trim();
  if (!NUMBER.test(text)) throw new InputError(`expected a number, got ${JSON.stringify(cell)}`, where);
  const value = Number(text);
  if (!Number.isFinite(value)) throw new InputError(`number out of range: ${JSON.stringify(cell)}`, where);
  return value;
}

/** Fast path for `YYYY-MM-DD` (core's isoDay); everything else goes through core's parseTime. */
function parseBarTime(cell: string, where: Where): EpochMs {
  const day = isoDay(cell);
  return day === day ? day : parseTime(cell, where);
}

/** The rows of a CSV text, read lazily: `cells(i)` is undefined for a blank line. */
interface CsvSource {
  readonly header: readonly string[];
  readonly count: number;
  cells(index: number): readonly string[] | undefined;
  line(index: number): number;
  readonly lastLine: number;
}

/**
 * A file without a double quote anywhere is, under RFC 4180, exactly its lines split on
 * commas, and price files are large and almost never quoted: those take the plain split (the
 * loader's speed, see bench/signals.ts). Any quote sends the whole file through core's
 * csv-parse reader, which handles quoted commas, `""` escapes and quoted line breaks.
 */
function csvSource(text: string, file: string, plainHeaderCells: readonly string[] | undefined): CsvSource {
  if (plainHeaderCells === undefined) {
    const table = parseCsv(text, file);
    return {
      header: table.header,
      count: table.rows.length,
      cells: (i) => table.rows[i],
      line: (i) => table.lines[i]!,
      lastLine: table.lines[table.lines.length - 1] ?? table.headerLine,
    };
  }
  const lines = text.split('\n');
  const strip = (raw: string): string => (raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw);
  return {
    header: plainHeaderCells,
    count: lines.length - 1,
    cells: (i) => {
      const line = strip(lines[i + 1]!);
      return line.length === 0 || line.trim() === '' ? undefined : line.split(',');
    },
    line: (i) => i + 2,
    lastLine: lines.length,
  };
}

/** A plain file's header: its first line (without a CR before the line break) split on commas, each trimmed. */
function plainHeader(text: string): string[] {
  const end = text.indexOf('\n');
  const first = end < 0 ? text : text.slice(0, end);
  return (first.charCodeAt(first.length - 1) === 13 ? first.slice(0, -1) : first).split(',').map((h) => h.trim());
}

function defaultId(file: string, column: string | undefined): string {
  // The parent folder keeps ids apart (natural-gas/daily vs gold-prices/monthly).
  const stem = file.split(/[\\/]/).slice(-2).join('/').replace(/\.csv$/i, '');
  return column ? `${stem}:${column}` : stem;
}

function listSome<T>(items: readonly T[], max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, ... (${items.length - max} more)` : shown;
}
