import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { InputError } from '../../src/core/errors.js';
import { parseTime } from '../../src/core/time.js';
import {
  closeKnownAt,
  formatOhlcvCsv,
  indexAtOrBefore,
  indexKnownAt,
  loadSeries,
  cadenceLabel,
  parseSeries,
  parseSeriesByRows,
  safeLog,
  safeRatio,
  seriesFromOhlcv,
  slice,
} from '../../src/market/series.js';

const DATA = 'backtests/data';
const day = (text: string): number => parseTime(text, {});

function dataRows(path: string): number {
  // Independent count: non-empty lines after the header.
  return readFileSync(path, 'utf8').split(/\r?\n/).slice(1).filter((l) => l.trim() !== '').length;
}

function expectInputError(fn: () => unknown, where: { file: string; line: number; field: string }, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InputError);
  const error = caught as InputError;
  expect(error.where).toMatchObject(where);
  expect(error.message).toContain(`${where.file}:${where.line}`);
  expect(error.message).toContain(`field "${where.field}"`);
  expect(error.detail).toMatch(message);
}

describe('bundled real data', () => {
  it('loads WTI daily (CRLF): 10226 rows, -36.98 on 2020-04-20 kept and flagged', () => {
    const path = `${DATA}/oil-prices/wti-daily.csv`;
    expect(readFileSync(path, 'utf8')).toContain('\r\n');
    const wti = loadSeries(path);
    expect(wti.length).toBe(10226);
    expect(dataRows(path)).toBe(10226);
    expect(wti.closeOnly).toBe(true);
    expect(wti.volume).toBeUndefined();
    expect(wti.interval).toBe('daily');
    expect(wti.at[0]).toBe(day('1986-01-02'));
    expect(wti.at[wti.length - 1]).toBe(day('2026-08-18'));
    expect(wti.negativeAt).toHaveLength(1);
    const i = wti.negativeAt[0]!;
    expect(wti.at[i]).toBe(day('2020-04-20'));
    expect(wti.close[i]).toBe(-36.98);
    expect(wti.warnings.some((w) => w.includes('negative') && w.includes('2020-04-20'))).toBe(true);
    expect(wti.missing.count).toBe(0);
    let max = -Infinity;
    for (const x of wti.close) max = Math.max(max, x);
    expect(max).toBe(145.31);
  });

  it('loads Brent daily: 9958 rows from 1987-05-20, no negatives', () => {
    const brent = loadSeries(`${DATA}/oil-prices/brent-daily.csv`);
    expect(brent.length).toBe(9958);
    expect(brent.at[0]).toBe(day('1987-05-20'));
    expect(brent.negativeAt).toEqual([]);
  });

  it('Henry Hub daily: the empty 2018-01-05 value is skipped, counted, reported; the 2005 gap is kept', () => {
    const path = `${DATA}/natural-gas/daily.csv`;
    const gas = loadSeries(path);
    expect(dataRows(path)).toBe(7437);
    expect(gas.length).toBe(7436);
    expect(gas.missing.count).toBe(1);
    const lines = readFileSync(path, 'utf8').split('\n');
    const emptyLine = lines.findIndex((l) => l.startsWith('2018-01-05')) + 1;
    expect(gas.missing.lines).toEqual([emptyLine]);
    expect(gas.warnings.join('\n')).toContain(`line(s) ${emptyLine}`);
    expect(indexAtOrBefore(gas, day('2018-01-05'))).toBe(indexAtOrBefore(gas, day('2018-01-04')));
    const before = indexAtOrBefore(gas, day('2005-09-22'));
    expect(gas.at[before]).toBe(day('2005-09-22'));
    expect(gas.at[before + 1]).toBe(day('2005-10-07'));
    expect(gas.interval).toBe('daily');
  });

  it('Henry Hub monthly (Month,Price with YYYY-MM) and gold monthly (LF, from 1833)', () => {
    const monthly = loadSeries(`${DATA}/natural-gas/monthly.csv`);
    expect(monthly.length).toBe(355);
    expect(monthly.interval).toBe('monthly');
    expect(monthly.at[0]).toBe(day('1997-01-01'));
    const gold = loadSeries(`${DATA}/gold-prices/monthly.csv`);
    expect(gold.length).toBe(2322);
    expect(gold.at[0]).toBe(Date.UTC(1833, 0, 1));
    expect(gold.at[gold.length - 1]).toBe(day('2026-06-01'));
  });

  it('World Bank wide table: a column by name, empty cells skipped with their lines', () => {
    const path = `${DATA}/worldbank-pink-sheet/monthly-prices.csv`;
    const copper = loadSeries(path, { column: 'copper' });
    expect(copper.length).toBe(798);
    expect(copper.id).toBe('worldbank-pink-sheet/monthly-prices:copper');
    expect(copper.interval).toBe('monthly');
    const wti = loadSeries(path, { column: 'CRUDE_OIL_WTI' });
    // crude_oil_wti starts 1982-01: 1960-01..1981-12 are empty (264 months).
    expect(wti.missing.count).toBe(264);
    expect(wti.length).toBe(798 - 264);
    expect(wti.at[0]).toBe(day('1982-01-01'));
    expect(wti.missing.lines[0]).toBe(2);
    const sawnwood = loadSeries(path, { column: 'sawnwood_cameroon' });
    // 1960-01..1969-12 empty (120) plus 252 empty months inside the span.
    expect(sawnwood.missing.count).toBe(120 + 252);
    expect(() => loadSeries(path)).toThrow(/column/);
    expectInputError(() => loadSeries(path, { column: 'unobtainium' }), { file: path, line: 1, field: 'unobtainium' }, /no column/);
  });
});

describe('formats', () => {
  it('reads OHLCV as ccxt returns it, epoch ms, case-insensitive headers, CRLF and LF alike', () => {
    const lf = 'Timestamp,OPEN,High,low,Close,Volume\n1700000000000,10,12,9,11,100\n1700000060000,11,13,10,12.5,50\n';
    const crlf = lf.replace(/\n/g, '\r\n');
    for (const text of [lf, crlf]) {
      const s = parseSeries(text, 'mem.csv');
      expect(s.closeOnly).toBe(false);
      expect(s.interval).toBe('minute');
      expect(Array.from(s.at)).toEqual([1700000000000, 1700000060000]);
      expect(Array.from(s.open)).toEqual([10, 11]);
      expect(Array.from(s.high)).toEqual([12, 13]);
      expect(Array.from(s.low)).toEqual([9, 10]);
      expect(Array.from(s.close)).toEqual([11, 12.5]);
      expect(Array.from(s.volume!)).toEqual([100, 50]);
    }
  });

  it('round-trips through formatOhlcvCsv and seriesFromOhlcv (ccxt rows, null rows skipped)', () => {
    const rows = [
      [1700000000000, 1, 2, 0.5, 1.5, 10],
      [1700003600000, 1.5, 2.5, 1, 2, null],
      [1700007200000, 2, 3, -1, 2.5, 30],
    ];
    const s = seriesFromOhlcv(rows, 'ccxt:NG');
    expect(s.length).toBe(2);
    expect(s.missing).toEqual({ count: 1, lines: [2] });
    expect(s.negativeAt).toEqual([1]);
    const back = parseSeries(formatOhlcvCsv(s), 'back.csv');
    expect(Array.from(back.close)).toEqual([1.5, 2.5]);
    expect(Array.from(back.low)).toEqual([0.5, -1]);
    expect(back.negativeAt).toEqual([1]);
  });

  it('accepts ISO date-times and quoted headers; a close-only file reads Close too', () => {
    const s = parseSeries('"time","close"\n2024-01-01T10:00:00Z,5\n2024-01-01T11:00:00Z,6\n', 'q.csv');
    expect(s.interval).toBe('hourly');
    expect(Array.from(s.close)).toEqual([5, 6]);
  });

  it('skips an OHLCV row with an empty field and keeps the count', () => {
    const s = parseSeries('timestamp,open,high,low,close,volume\n1700000000000,1,1,1,1,1\n1700000060000,1,,1,1,1\n1700000120000,1,1,1,1,1\n', 'gap.csv');
    expect(s.length).toBe(2);
    expect(s.missing).toEqual({ count: 1, lines: [3] });
  });
});

describe('bad input names file, line and field', () => {
  it('unsorted timestamps', () => {
    expectInputError(() => parseSeries('Date,Price\n2024-01-02,1\n2024-01-01,2\n', 'u.csv'), { file: 'u.csv', line: 3, field: 'Date' }, /out of order/);
  });
  it('duplicate timestamps, even when one of them has a missing value', () => {
    expectInputError(() => parseSeries('Date,Price\r\n2024-01-02,1\r\n2024-01-02,2\r\n', 'd.csv'), { file: 'd.csv', line: 3, field: 'Date' }, /duplicate.*line 2/);
    expectInputError(() => parseSeries('Date,Price\n2024-01-02,\n2024-01-02,2\n', 'd2.csv'), { file: 'd2.csv', line: 3, field: 'Date' }, /duplicate/);
  });
  it('non-numeric and NaN prices', () => {
    expectInputError(() => parseSeries('Date,Price\n2024-01-01,1\n2024-01-02,abc\n', 'n.csv'), { file: 'n.csv', line: 3, field: 'Price' }, /abc/);
    expectInputError(() => parseSeries('Date,Price\n2024-01-01,NaN\n', 'n.csv'), { file: 'n.csv', line: 2, field: 'Price' }, /NaN/);
    expectInputError(() => parseSeries('timestamp,open,high,low,close\n1700000000000,1,Infinity,1,1\n', 'o.csv'), { file: 'o.csv', line: 2, field: 'high' }, /Infinity/);
  });
  it('impossible dates and short rows', () => {
    expectInputError(() => parseSeries('Date,Price\n2021-02-30,1\n', 'c.csv'), { file: 'c.csv', line: 2, field: 'Date' }, /calendar/);
    expectInputError(() => parseSeries('timestamp,open,high,low,close\n1700000000000,1,1\n', 's.csv'), { file: 's.csv', line: 2, field: 'low' }, /fields/);
  });
});

describe('declared cadence', () => {
  // An irregular daily file: weekdays with many holes, median step 5 days, which the guess takes as weekly.
  const irregular = 'Date,Price\n2024-01-01,1\n2024-01-02,2\n2024-01-08,3\n2024-01-15,4\n2024-01-16,5\n2024-01-22,6\n2024-01-29,7\n';
  it('without a cadence the interval is inferred and says so; an irregular daily file is guessed weekly', () => {
    const s = parseSeries(irregular, 'i.csv');
    expect(s.interval).toBe('weekly');
    expect(s.intervalSource).toBe('inferred');
    expect(cadenceLabel(s)).toMatch(/^weekly \(inferred/);
    // Guessed weekly, the 2024-01-01 bar would be known only on 2024-01-08.
    expect(closeKnownAt(s, 0)).toBe(day('2024-01-08'));
  });
  it('declared daily, the same file is daily: each bar is known the next day', () => {
    const s = parseSeries(irregular, 'i.csv', { cadence: 'daily' });
    expect(s.interval).toBe('daily');
    expect(s.intervalSource).toBe('declared');
    expect(cadenceLabel(s)).toBe('daily (declared)');
    expect(closeKnownAt(s, 0)).toBe(day('2024-01-02'));
  });
  it('declared weekly, two dates less than 7 days apart are refused at the second', () => {
    expectInputError(() => parseSeries(irregular, 'i.csv', { cadence: 'weekly' }), { file: 'i.csv', line: 3, field: 'Date' }, /2024-01-02 is 1 day\(s\) after.*declared weekly/);
  });
  it('declared monthly, two dates in one month are refused', () => {
    expectInputError(() => parseSeries('Month,Price\n2024-01,1\n2024-02-01,2\n2024-02-15,3\n', 'm.csv', { cadence: 'monthly' }), { file: 'm.csv', line: 4, field: 'Month' }, /same month.*declared monthly/);
    expect(parseSeries('Month,Price\n2024-01,1\n2024-03,2\n', 'm.csv', { cadence: 'monthly' }).interval).toBe('monthly');
  });
  it('declared daily, a monthly file is refused (it would be known a month early), at its first month-long step', () => {
    expectInputError(() => parseSeries('Month,Price\n2024-01,1\n2024-02,2\n2024-03,3\n', 'm.csv', { cadence: 'daily' }), { file: 'm.csv', line: 3, field: 'Month' }, /declared daily.*31 days apart \(monthly data\)/);
  });
  it('declared, a time of day is refused', () => {
    expectInputError(() => parseSeries('Date,Price\n2024-01-01T12:00:00Z,1\n', 't.csv', { cadence: 'daily' }), { file: 't.csv', line: 2, field: 'Date' }, /UTC midnights/);
  });
  it('the bundled files fit their natural cadence', () => {
    expect(loadSeries(`${DATA}/natural-gas/daily.csv`, { cadence: 'daily' }).interval).toBe('daily');
    expect(loadSeries(`${DATA}/oil-prices/wti-daily.csv`, { cadence: 'daily' }).interval).toBe('daily');
    expect(loadSeries(`${DATA}/natural-gas/monthly.csv`, { cadence: 'monthly' }).interval).toBe('monthly');
    expect(loadSeries(`${DATA}/worldbank-pink-sheet/monthly-prices.csv`, { column: 'cocoa', cadence: 'monthly' }).intervalSource).toBe('declared');
    expect(() => loadSeries(`${DATA}/natural-gas/daily.csv`, { cadence: 'monthly' })).toThrow(/same month/);
  });
});

describe('lookups and guards', () => {
  // Trading days with a weekend gap: the interval guess is daily.
  const s = parseSeries('Date,Price\n2024-01-01,1\n2024-01-03,3\n2024-01-08,8\n2024-01-09,9\n2024-01-10,10\n', 'l.csv');
  it('indexAtOrBefore is an as-of binary search', () => {
    expect(indexAtOrBefore(s, day('2023-12-31'))).toBe(-1);
    expect(indexAtOrBefore(s, day('2024-01-01'))).toBe(0);
    expect(indexAtOrBefore(s, day('2024-01-02'))).toBe(0);
    expect(indexAtOrBefore(s, day('2024-01-07'))).toBe(1);
    expect(indexAtOrBefore(s, day('2030-01-01'))).toBe(4);
  });
  it('a daily close is known one day after its date', () => {
    expect(closeKnownAt(s, 0)).toBe(day('2024-01-02'));
    expect(indexKnownAt(s, day('2024-01-01'))).toBe(-1);
    expect(indexKnownAt(s, day('2024-01-03'))).toBe(0);
    expect(indexKnownAt(s, day('2024-01-04'))).toBe(1);
  });
  it('slice keeps the bars within [from, to] as views', () => {
    const part = slice(s, day('2024-01-02'), day('2024-01-08'));
    expect(Array.from(part.close)).toEqual([3, 8]);
    expect(part.length).toBe(2);
    expect(part.open).toBe(part.close);
    expect(slice(s, day('2025-01-01')).length).toBe(0);
    const wti = loadSeries(`${DATA}/oil-prices/wti-daily.csv`);
    const april = slice(wti, day('2020-04-01'), day('2020-04-30'));
    expect(april.negativeAt).toHaveLength(1);
    expect(april.close[april.negativeAt[0]!]).toBe(-36.98);
  });
  it('safeLog and safeRatio refuse non-positive prices', () => {
    expect(safeLog(-36.98)).toBeUndefined();
    expect(safeLog(0)).toBeUndefined();
    expect(safeLog(Math.E)).toBeCloseTo(1, 12);
    expect(safeRatio(1, -36.98)).toBeUndefined();
    expect(safeRatio(1, 0)).toBeUndefined();
    expect(safeRatio(3, 2)).toBe(1.5);
  });
});

describe('parseSeries: the scan of plain date,price lines', () => {
  /** The result, or the refusal's message: what a caller sees either way. */
  const outcome = (read: () => unknown): unknown => {
    try {
      return read();
    } catch (error) {
      return { refused: (error as Error).message };
    }
  };
  // Files the scan reads to the end (rows of increasing dates and plain, negative or missing
  // prices), and files with lines off its form (blank, spaced, other date and number forms,
  // extra cells, repeated or backward dates), which the general loop reads or refuses.
  const good = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 99_999 }).map((n) => (n / 100).toString()) },
    { weight: 1, arbitrary: fc.integer({ min: -99_999, max: -1 }).map((n) => (n / 1000).toString()) },
    { weight: 1, arbitrary: fc.constantFrom('', '-0', '0', '00012.50', '123456789012345', '0.000000000000001') },
  );
  const cell = fc.oneof({ weight: 6, arbitrary: good }, fc.constantFrom(' ', '1e3', ' 4.2', '4.2 ', '+1', '.5', '5.', '1234567890123456', 'x', '7,8'));
  const step = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 40 }) }, fc.constantFrom(-1, -30, 0));
  const odd = fc.constantFrom('', '   ', '1997-02-30,1', '1997-1-5,2', ' 1997-01-05,2', '1997-01-05T00:00:00Z,3', '852076800000,4', '1997-01,5', ',', '1997-01-05');
  const row = fc.boolean().chain((clean) =>
    clean ? fc.tuple(fc.integer({ min: 1, max: 40 }), good) : fc.oneof({ weight: 10, arbitrary: fc.tuple(step, cell) }, { weight: 1, arbitrary: odd }),
  );
  const file = fc.record({
    header: fc.constantFrom('Date,Price', 'date,close', 'Price,Date', 'Value,Month', 'date,price,volume', 'Date,Qty'),
    crlf: fc.boolean(),
    trailing: fc.boolean(),
    start: fc.integer({ min: Date.UTC(1996, 0, 1), max: Date.UTC(1998, 0, 1) }).map((t) => Math.floor(t / 86_400_000) * 86_400_000),
    rows: fc.boolean().chain((clean) => fc.array(clean ? fc.tuple(fc.integer({ min: 1, max: 40 }), good) : row, { minLength: 0, maxLength: 40 })),
    cadence: fc.constantFrom(undefined, undefined, 'daily', 'weekly', 'monthly'),
  });
  it('reads what the general loop reads, and refuses what it refuses with the same message', () => {
    fc.assert(
      fc.property(file, (f) => {
        let t = f.start;
        const dateFirst = !/^(price|value),/i.test(f.header);
        const lines = f.rows.map((row) => {
          if (typeof row === 'string') return row;
          const [step, value] = row;
          t += step * 86_400_000;
          const day = new Date(t).toISOString().slice(0, 10);
          return dateFirst ? `${day},${value}` : `${value},${day}`;
        });
        const text = [f.header, ...lines].join(f.crlf ? '\r\n' : '\n') + (f.trailing ? (f.crlf ? '\r\n' : '\n') : '');
        const options = f.cadence === undefined ? {} : { cadence: f.cadence as 'daily' | 'weekly' | 'monthly' };
        expect(outcome(() => parseSeries(text, 'f.csv', options))).toEqual(outcome(() => parseSeriesByRows(text, 'f.csv', options)));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the scenarios\' price files as the general loop does', () => {
    for (const name of ['natural-gas/daily.csv', 'natural-gas/monthly.csv', 'oil-prices/wti-daily.csv', 'oil-prices/brent-daily.csv', 'gold-prices/monthly.csv']) {
      const text = readFileSync(`${DATA}/${name}`, 'utf8');
      for (const cadence of [undefined, 'daily', 'monthly'] as const) {
        const options = cadence === undefined ? {} : { cadence };
        expect(outcome(() => parseSeries(text, name, options))).toEqual(outcome(() => parseSeriesByRows(text, name, options)));
      }
    }
  });
});
