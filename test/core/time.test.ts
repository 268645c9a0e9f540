/**
 * formatDate works out `YYYY-MM-DD` from the day number: it must give exactly what
 * `new Date(at).toISOString().slice(0, 10)` gives, for every time a Date can hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, formatDate, isoDay, parseTime } from '../../src/core/time.js';

const iso = (at: number): string => new Date(at).toISOString().slice(0, 10);
/** The range a Date holds: +-8.64e15 ms around 1970. */
const LIMIT = 8.64e15;
/** Midnight UTC of a calendar date, any year (Date.UTC reads years 0-99 as 1900-1999). */
function midnight(year: number, monthIndex: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}
const YEAR_0 = midnight(0, 0, 1);
const END_9999 = midnight(10_000, 0, 1) - 1;

describe('formatDate', () => {
  it('gives toISOString\'s date for any time in years 0-9999, and around their edges', () => {
    fc.assert(
      fc.property(fc.integer({ min: YEAR_0 - DAY_MS * 400, max: END_9999 + DAY_MS * 400 }), (at) => {
        expect(formatDate(at)).toBe(iso(at));
      }),
      { numRuns: 20_000 },
    );
    // Every day of 1900-2100 (leap years, centuries, the epoch), at midnight and at its last millisecond.
    for (let day = Date.UTC(1900, 0, 1); day <= Date.UTC(2100, 11, 31); day += DAY_MS) {
      expect(formatDate(day)).toBe(iso(day));
      expect(formatDate(day + DAY_MS - 1)).toBe(iso(day + DAY_MS - 1));
    }
    for (const at of [Date.UTC(2000, 1, 29), -1, 0, YEAR_0, YEAR_0 - 1, midnight(1, 0, 1), midnight(999, 11, 31), midnight(1000, 0, 1), END_9999, END_9999 + 1]) {
      expect(formatDate(at)).toBe(iso(at));
    }
  });

  it('answers as toISOString outside years 0-9999, up to the edges of a Date, and refuses what a Date refuses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -LIMIT, max: YEAR_0 }), fc.integer({ min: END_9999, max: LIMIT })), (at) => {
        expect(formatDate(at)).toBe(iso(at));
      }),
    );
    expect(formatDate(LIMIT)).toBe(iso(LIMIT));
    expect(formatDate(-LIMIT)).toBe(iso(-LIMIT));
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, LIMIT + 1]) expect(() => formatDate(bad)).toThrow(RangeError);
  });
});

describe('isoDay', () => {
  it('is parseTime\'s midnight for every calendar date from the year 1000, and NaN for other text', () => {
    const text = (year: number, month: number, day: number): string => `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    const parsed = (raw: string): number => {
      try {
        return parseTime(raw, {});
      } catch {
        return Number.NaN;
      }
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (year, month, day) => {
        const raw = text(year, month, day);
        const fast = isoDay(raw);
        if (year >= 1_000) expect(fast).toBe(parsed(raw));
        else expect(fast).toBeNaN();
      }),
      { numRuns: 20_000 },
    );
    // Every day of 1900-2100, and the leap days around the centuries.
    for (let at = Date.UTC(1900, 0, 1); at <= Date.UTC(2100, 11, 31); at += DAY_MS) expect(isoDay(formatDate(at))).toBe(at);
    for (const raw of ['1900-02-29', '2100-02-29', '2023-02-29', '2000-02-30', '2024-04-31']) expect(isoDay(raw)).toBeNaN();
    expect(isoDay('2000-02-29')).toBe(Date.UTC(2000, 1, 29));
    for (const raw of ['', '2024-1-01', '2024-01-1 ', ' 2024-01-01', '2024/01/01', '2024-01-01T00:00', '+024-01-01', '2024-0a-01']) expect(isoDay(raw)).toBeNaN();
  });
});
