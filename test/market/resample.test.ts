import { describe, expect, it } from 'vitest';
import { formatDate } from '../../src/core/time.js';
import { bucketOf, resample, summarize } from '../../src/market/resample.js';
import { loadSeries, parseSeries } from '../../src/market/series.js';

describe('resampling with danfo', () => {
  it('daily WTI to monthly: last close, max, min, stamped at the last day of each month', async () => {
    const wti = loadSeries('backtests/data/oil-prices/wti-daily.csv');
    const monthly = await resample(wti, 'monthly');
    // Independent plain-loop aggregation to compare with.
    const expected = new Map<string, { close: number; at: number; high: number; low: number; open: number }>();
    for (let i = 0; i < wti.length; i += 1) {
      const key = formatDate(wti.at[i]!).slice(0, 7);
      const c = wti.close[i]!;
      const row = expected.get(key);
      if (!row) expected.set(key, { open: c, close: c, at: wti.at[i]!, high: c, low: c });
      else Object.assign(row, { close: c, at: wti.at[i]!, high: Math.max(row.high, c), low: Math.min(row.low, c) });
    }
    expect(monthly.length).toBe(expected.size);
    expect(monthly.interval).toBe('monthly');
    const rows = [...expected.values()];
    for (let i = 0; i < monthly.length; i += 1) {
      expect(monthly.at[i]).toBe(rows[i]!.at);
      expect(monthly.close[i]).toBe(rows[i]!.close);
    }
    const april2020 = [...expected.keys()].indexOf('2020-04');
    expect(monthly.close[april2020]).toBe(rows[april2020]!.close);
    expect(monthly.negativeAt).toEqual([]); // the month's last close is positive
  });

  it('OHLCV to weekly (Monday..Sunday): first open, max high, min low, last close, summed volume', async () => {
    const text = [
      'timestamp,open,high,low,close,volume',
      '2024-01-05,1,5,1,2,10', // Friday, week of 2024-01-01
      '2024-01-08,2,3,0.5,2.5,1', // Monday
      '2024-01-10,2.5,9,2,3,2',
      '2024-01-14,3,4,-1,3.5,3', // Sunday: same week
      '2024-01-15,4,4,4,4,4',
    ].join('\n');
    const weekly = await resample(parseSeries(text, 'w.csv'), 'weekly');
    expect(Array.from(weekly.at, formatDate)).toEqual(['2024-01-05', '2024-01-14', '2024-01-15']);
    expect(Array.from(weekly.open)).toEqual([1, 2, 4]);
    expect(Array.from(weekly.high)).toEqual([5, 9, 4]);
    expect(Array.from(weekly.low)).toEqual([1, -1, 4]);
    expect(Array.from(weekly.close)).toEqual([2, 3.5, 4]);
    expect(Array.from(weekly.volume!)).toEqual([10, 6, 4]);
    expect(weekly.negativeAt).toEqual([1]);
    expect(formatDate(bucketOf(Date.UTC(2024, 0, 14), 'weekly'))).toBe('2024-01-08');
  });

  it('summarizes a series: count, range, first, last, min, max, mean', async () => {
    const gas = loadSeries('backtests/data/natural-gas/daily.csv');
    const [row] = await summarize([gas]);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const x of gas.close) {
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(row).toMatchObject({ count: 7436, from: '1997-01-07', to: '2026-08-18', min, max, missing: 1, negative: 0 });
    expect(min).toBe(1.05);
    expect(max).toBe(30.72);
    expect(row!.mean).toBeCloseTo(sum / gas.length, 9);
  });
});
