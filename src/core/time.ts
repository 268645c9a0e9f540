/**
 * Time in procura is epoch milliseconds (UTC), injected through a Clock. Nothing outside
 * core reads the wall clock: backtests run on a SimClock that refuses to go backwards, live
 * runs on the SystemClock.
 */
import { InputError, type Where } from './errors.js';

export type EpochMs = number;
export const DAY_MS = 86_400_000;

export interface Clock {
  now(): EpochMs;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A simulated clock that only moves forward; `advanceTo` an earlier time throws. */
export class SimClock implements Clock {
  #now: EpochMs;
  constructor(start: EpochMs) {
    this.#now = start;
  }
  now(): EpochMs {
    return this.#now;
  }
  advanceTo(at: EpochMs): void {
    if (at < this.#now) throw new Error(`SimClock cannot go backwards: ${formatTime(at)} is before ${formatTime(this.#now)}`);
    this.#now = at;
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_ONLY = /^(\d{4})-(\d{2})$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const EPOCH_MS = /^\d{10,16}$/;

/**
 * Parses a time from input: `YYYY-MM-DD` (UTC midnight), `YYYY-MM` (first of the month),
 * an ISO date-time (UTC when no offset is given) or epoch milliseconds. Impossible
 * calendar dates (2021-02-30) are refused.
 */
export function parseTime(raw: unknown, where: Where): EpochMs {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return raw;
  if (typeof raw !== 'string') throw new InputError(`expected a date or time, got ${JSON.stringify(raw)}`, where);
  const text = raw.trim();
  let match = DATE_ONLY.exec(text);
  if (match) return utcDate(Number(match[1]), Number(match[2]), Number(match[3]), raw, where);
  match = MONTH_ONLY.exec(text);
  if (match) return utcDate(Number(match[1]), Number(match[2]), 1, raw, where);
  if (EPOCH_MS.test(text)) return Number(text);
  if (ISO_TIME.test(text)) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
    const ms = Date.parse(hasZone ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`);
    if (Number.isFinite(ms)) {
      const datePart = text.slice(0, 10).split('-').map(Number);
      utcDate(datePart[0]!, datePart[1]!, datePart[2]!, raw, where);
      return ms;
    }
  }
  throw new InputError(`expected a date like 2024-01-31, an ISO time or epoch milliseconds, got ${JSON.stringify(raw)}`, where);
}

/**
 * `YYYY-MM-DD` from the year 1000 on, read by its digits: the UTC midnight parseTime gives
 * for it, without a regular expression and a Date; NaN for any other text, an impossible
 * date included (parseTime then answers, or refuses it). For the dates of large files.
 */
export function isoDay(text: string): EpochMs {
  return text.length !== 10 ? Number.NaN : isoDayAt(text, 0);
}

/**
 * isoDay of the ten characters `text[at .. at + 10)` (the caller checks they are there), read
 * in place: a large file's dates without a string each (market/series.ts's scan of `date,price` lines).
 */
export function isoDayAt(text: string, at: number): EpochMs {
  if (text.charCodeAt(at + 4) !== 45 || text.charCodeAt(at + 7) !== 45) return Number.NaN;
  const year = digitsOf(text, at, at + 4);
  const month = digitsOf(text, at + 5, at + 7);
  const day = digitsOf(text, at + 8, at + 10);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return Number.NaN;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return Number.NaN;
  return Date.UTC(year, month - 1, day);
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The decimal digits text[from..to) as a number, -1 when one is not a digit. */
function digitsOf(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

function utcDate(year: number, month: number, day: number, raw: unknown, where: Where): EpochMs {
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    throw new InputError(`not a calendar date: ${JSON.stringify(raw)}`, where);
  }
  return ms;
}

/** `YYYY-MM-DD` for UTC midnights, full ISO otherwise. */
export function formatTime(at: EpochMs): string {
  const iso = new Date(at).toISOString();
  return at % DAY_MS === 0 ? iso.slice(0, 10) : iso;
}

/**
 * Always `YYYY-MM-DD` (UTC): what `new Date(at).toISOString().slice(0, 10)` gives, worked out
 * from the day number for years 0-9999 (H. Hinnant's civil-from-days), without a Date and its
 * ISO text. A report formats each day of each run several times (about 85,000 dates in the
 * main job, 20 ms through toISOString); outside those years, or for a time that is not finite,
 * it is toISOString's answer (or its RangeError).
 */
export function formatDate(at: EpochMs): string {
  const z = Math.floor(at / DAY_MS) + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (!(year >= 0 && year <= 9_999)) return new Date(at).toISOString().slice(0, 10);
  return `${year < 1_000 ? String(year).padStart(4, '0') : year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

/** UTC midnight at or before `at`. */
export function startOfDay(at: EpochMs): EpochMs {
  return Math.floor(at / DAY_MS) * DAY_MS;
}
