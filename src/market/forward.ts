/**
 * Forward prices a hedge is traded at: the exchange calendar of futures contracts (which
 * delivery month "contract n" is on a date, and when each contract stops trading), NYMEX
 * curves of contracts 1-4 as EIA publishes them, and the cost-of-carry forward used when
 * there is no curve. Plain numbers throughout: these are prices the simulated venue turns
 * into Decimals at a fill.
 *
 * Months are counted as `year x 12 + month0` (UTC), so month arithmetic is integer.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { DAY_MS, formatDate, isoDay, isoDayAt, parseTime, type EpochMs } from '../core/time.js';
import { plainNumber, plainNumberAt } from '../core/csv.js';

/** A month as year x 12 + zero-based month (UTC). */
export type MonthIndex = number;

export function monthOf(at: EpochMs): MonthIndex {
  // The last month answered, by its bounds: a run asks about the same month many times a day
  // (every strip contract's price), and a Date per question was most of the cost.
  if (at >= lastMonthFrom && at < lastMonthTo) return lastMonth;
  const d = new Date(at);
  const year = d.getUTCFullYear();
  const month = year * 12 + d.getUTCMonth();
  // monthStart's Date.UTC reads years 0-99 as 1900-1999: only later years are remembered.
  if (year >= 1900 && year <= 9999) {
    lastMonthFrom = monthStart(month);
    lastMonthTo = monthStart(month + 1);
    lastMonth = month;
  }
  return month;
}
let lastMonthFrom = Number.NaN;
let lastMonthTo = Number.NaN;
let lastMonth: MonthIndex = 0;

/** 00:00 UTC on the first day of the month. */
export function monthStart(month: MonthIndex): EpochMs {
  // Remembered (a hedge view asks for a dozen months' starts every day).
  let start = MONTH_STARTS.get(month);
  if (start === undefined) {
    start = Date.UTC(Math.floor(month / 12), month % 12, 1);
    if (MONTH_STARTS.size >= 4096) MONTH_STARTS.clear();
    MONTH_STARTS.set(month, start);
  }
  return start;
}
const MONTH_STARTS = new Map<MonthIndex, EpochMs>();

/** `YYYY-MM`. */
export function monthLabel(month: MonthIndex): string {
  let label = LABELS.get(month);
  if (label === undefined) {
    const m = (month % 12) + 1;
    label = `${Math.floor(month / 12)}-${m < 10 ? '0' : ''}${m}`;
    // Asked for every hedge contract every day; a run spans a few hundred months.
    if (LABELS.size < 10_000) LABELS.set(month, label);
  }
  return label;
}

const LABELS = new Map<MonthIndex, string>();

/** Calendar days in the month. */
export function daysInMonth(month: MonthIndex): number {
  return Math.round((monthStart(month + 1) - monthStart(month)) / DAY_MS);
}

const isWeekday = (day: EpochMs): boolean => {
  const w = new Date(day).getUTCDay();
  return w !== 0 && w !== 6;
};

/** The `n`-th weekday strictly before `day` (exchange holidays are not modelled). */
export function businessDaysBefore(day: EpochMs, n: number): EpochMs {
  let d = day;
  let left = n;
  while (left > 0) {
    d -= DAY_MS;
    if (isWeekday(d)) left -= 1;
  }
  return d;
}

/**
 * Last trading day rules of the NYMEX contracts procura knows, by the exchange's rule book
 * (weekdays only; exchange holidays can move a real expiry by a day):
 * - `cl` (WTI): 3 business days before the 25th calendar day of the month before delivery,
 *   counted from the business day before the 25th when the 25th is not one;
 * - `ng` (Henry Hub): 3 business days before the first calendar day of the delivery month;
 * - `ho`, `rb`, `month-end` (heating oil, RBOB, and the generic rule for carry-model
 *   futures): the last business day of the month before delivery.
 */
export const ExpiryRule = { cl: 'cl', ng: 'ng', ho: 'ho', rb: 'rb', monthEnd: 'month-end' } as const;
export type ExpiryRule = (typeof ExpiryRule)[keyof typeof ExpiryRule];

export const EXPIRY_RULE_TEXT: Readonly<Record<ExpiryRule, string>> = {
  cl: 'NYMEX WTI rule: trading ends 3 business days before the 25th calendar day of the month before delivery (before the business day preceding the 25th when the 25th is not a business day)',
  ng: 'NYMEX Henry Hub rule: trading ends 3 business days before the first calendar day of the delivery month',
  ho: 'NYMEX heating oil rule: trading ends on the last business day of the month before delivery',
  rb: 'NYMEX RBOB rule: trading ends on the last business day of the month before delivery',
  'month-end': 'generic rule: trading ends on the last business day of the month before delivery',
};

const RULE_INDEX: Readonly<Record<ExpiryRule, number>> = { cl: 0, ng: 1, ho: 2, rb: 3, 'month-end': 4 };
/** lastTradeDay's answers by month x 5 + rule (a calendar fact: a backtest asks for the same few months every day). */
const lastTradeDays = new Map<number, EpochMs>();

/** 00:00 UTC of the last trading day of the contract for `deliveryMonth`. */
export function lastTradeDay(rule: ExpiryRule, deliveryMonth: MonthIndex): EpochMs {
  const key = deliveryMonth * 5 + RULE_INDEX[rule];
  let day = lastTradeDays.get(key);
  if (day === undefined) {
    day = computeLastTradeDay(rule, deliveryMonth);
    lastTradeDays.set(key, day);
  }
  return day;
}

function computeLastTradeDay(rule: ExpiryRule, deliveryMonth: MonthIndex): EpochMs {
  const first = monthStart(deliveryMonth);
  switch (rule) {
    case 'cl': {
      let anchor = Date.UTC(Math.floor((deliveryMonth - 1) / 12), (deliveryMonth - 1) % 12, 25);
      if (!isWeekday(anchor)) anchor = businessDaysBefore(anchor, 1);
      return businessDaysBefore(anchor, 3);
    }
    case 'ng':
      return businessDaysBefore(first, 3);
    default:
      return businessDaysBefore(first, 1);
  }
}

/** Delivery month of contract 1 on `day`: the nearest one still trading (its last trading day is `day` or later). */
export function frontMonth(rule: ExpiryRule, day: EpochMs): MonthIndex {
  let month = monthOf(day);
  while (lastTradeDay(rule, month) < day) month += 1;
  return month;
}

/** A futures curve: settlement prices of contracts 1..n per date (NaN where the file has no value). */
export interface FuturesCurve {
  readonly file: string;
  readonly length: number;
  /** Row dates, 00:00 UTC, strictly increasing. */
  readonly at: Float64Array;
  /** contracts[k][i]: contract k+1 on row i. */
  readonly contracts: readonly Float64Array[];
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Reads a curve file: a header `date,contract1,...,contractN` (N >= 1, in order), ISO dates
 * ascending, empty cells for no value. Errors name the file, the line and the field.
 */
export function loadFuturesCurve(file: string): FuturesCurve {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read curve file: ${(error as Error).message}`, { file });
  }
  return parseFuturesCurve(text, file);
}

export function parseFuturesCurve(text: string, file: string): FuturesCurve {
  return scanCurve(text, file) ?? parseFuturesCurveByLines(text, file);
}

/**
 * A curve file whose rows are all `YYYY-MM-DD` and plain decimals or empty cells (EIA's, as
 * the scenarios keep them), read in place: the rows parseFuturesCurveByLines reads from it,
 * without a string per line and per cell. Undefined as soon as anything is off that form (the
 * header included): the general loop then reads the file, for its answers and refusals.
 */
function scanCurve(text: string, file: string): FuturesCurve | undefined {
  const length = text.length;
  const headerEnd = text.indexOf('\n');
  if (headerEnd < 0) return undefined;
  const first = text.slice(0, headerEnd);
  const header = (first.endsWith('\r') ? first.slice(0, -1) : first).split(',').map((h) => h.trim());
  const n = header.length - 1;
  if (n < 1 || header[0]!.toLowerCase() !== 'date') return undefined;
  for (let k = 1; k <= n; k += 1) if (header[k]!.toLowerCase() !== `contract${k}`) return undefined;
  let start = headerEnd + 1;
  // A row read here is at least a date, n commas and a line break.
  const capacity = Math.floor((length - start + 1) / (11 + n)) + 1;
  const at = new Float64Array(capacity);
  const columns = Array.from({ length: n }, () => new Float64Array(capacity));
  let rows = 0;
  let previous = Number.NEGATIVE_INFINITY;
  while (start <= length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end -= 1;
    if (end === start) {
      start = next;
      continue;
    }
    let comma = text.indexOf(',', start);
    if (comma !== start + 10 || comma >= end) return undefined;
    const t = isoDayAt(text, start);
    if (!(t > previous)) return undefined;
    previous = t;
    if (rows === capacity) return undefined;
    at[rows] = t;
    for (let k = 0; k < n; k += 1) {
      const from = comma + 1;
      let to = end;
      if (k < n - 1) {
        comma = text.indexOf(',', from);
        if (comma < 0 || comma >= end) return undefined;
        to = comma;
      }
      // An empty cell is NaN (no price that day); a third comma in the last cell, like any other character, makes plainNumberAt's NaN.
      const value = plainNumberAt(text, from, to);
      if (value !== value && from !== to) return undefined;
      columns[k]![rows] = value;
    }
    rows += 1;
    start = next;
  }
  if (rows === 0) return undefined;
  return { file, length: rows, at: at.slice(0, rows), contracts: columns.map((c) => c.slice(0, rows)) };
}

/** parseFuturesCurve line by line, cell by cell: the definition scanCurve is held to (test/market/forward.test.ts). */
export function parseFuturesCurveByLines(text: string, file: string): FuturesCurve {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  if (header[0]?.toLowerCase() !== 'date') throw new InputError(`expected the first column to be "date", got ${JSON.stringify(header[0] ?? '')}`, { file, line: 1, field: header[0] ?? 'date' });
  const n = header.length - 1;
  if (n < 1) throw new InputError('expected at least one contract column (contract1)', { file, line: 1 });
  for (let k = 1; k <= n; k += 1) {
    if (header[k]!.toLowerCase() !== `contract${k}`) throw new InputError(`expected column ${k + 1} to be "contract${k}", got ${JSON.stringify(header[k])}`, { file, line: 1, field: header[k] });
  }
  const at = new Float64Array(lines.length);
  const columns = Array.from({ length: n }, () => new Float64Array(lines.length));
  let rows = 0;
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    if (cells.length !== n + 1) throw new InputError(`expected ${n + 1} fields, got ${cells.length}`, { file, line: i + 1, field: header[Math.min(cells.length, n)] });
    const t = curveDay(cells[0]!, file, i + 1);
    if (t <= previous) throw new InputError(`dates out of order or repeated: ${cells[0]} comes after ${formatDate(previous)}`, { file, line: i + 1, field: 'date' });
    previous = t;
    at[rows] = t;
    for (let k = 0; k < n; k += 1) columns[k]![rows] = curvePrice(cells[k + 1]!, file, i + 1, header[k + 1]!);
    rows += 1;
  }
  if (rows === 0) throw new InputError('no curve rows', { file, line: lines.length });
  return { file, length: rows, at: at.slice(0, rows), contracts: columns.map((c) => c.slice(0, rows)) };
}

/** A curve row's date: `YYYY-MM-DD` read by its digits (years 1000 on), anything else as parseTime reads it. */
function curveDay(cell: string, file: string, line: number): EpochMs {
  const day = isoDay(cell);
  return day === day ? day : parseTime(cell.trim(), { file, line, field: 'date' });
}

/** A price cell: NaN when empty, else a number (plainNumber's fast path, else checked and read by Number). */
function curvePrice(raw: string, file: string, line: number, field: string): number {
  const fast = plainNumber(raw);
  if (fast === fast) return fast;
  const cell = raw.trim();
  if (cell === '') return Number.NaN;
  if (!NUMBER.test(cell)) throw new InputError(`not a number: ${JSON.stringify(cell)}`, { file, line, field });
  return Number(cell);
}

/** Cost-of-carry rates, per year, as shares (0.05 = 5 %). */
export interface CarryRates {
  readonly financingRate: number;
  /** Storage as a rate of value. */
  readonly storageRate: number;
  readonly convenienceYield: number;
}

/** Net carry per year: financing + storage - convenience yield (positive: contango). */
export function netCarry(rates: CarryRates): number {
  return rates.financingRate + rates.storageRate - rates.convenienceYield;
}

/** Simple-interest cost-of-carry forward: spot x (1 + (r + u - y) x tau), tau in years (365 days). */
export function carryForward(spot: number, rates: CarryRates, tauDays: number): number {
  return spot * (1 + netCarry(rates) * (Math.max(0, tauDays) / 365));
}

/** Roll yield of moving a long position from the near to the next contract: (near - next) / near. */
export function rollYield(near: number, next: number): number {
  return (near - next) / near;
}
