import { describe, expect, it } from 'vitest';
import { procura } from '../support/cli.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSeries } from '../../src/market/series.js';
import { crossover } from '../../src/market/signals.js';

describe('procura signals', () => {
  it('--json: every bar and every crossing in the documented shape', () => {
    const file = 'backtests/data/natural-gas/daily.csv';
    const run = procura(['signals', '--data', file, '--fast', '10', '--slow', '30', '--ma', 'ema', '--json']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/warning: .*skipped 1 row\(s\) with a missing value, line\(s\) 5286/);
    const doc = JSON.parse(run.stdout) as { bars: Array<Record<string, unknown>>; crossings: Array<Record<string, unknown>> };
    expect(Object.keys(doc).sort()).toEqual(['bars', 'crossings']);
    const series = loadSeries(file);
    const expected = crossover(series.close, { fast: 10, slow: 30, ma: 'ema' });
    expect(doc.bars).toHaveLength(series.length);
    expect(Object.keys(doc.bars[0]!)).toEqual(['date', 'close', 'fast', 'slow', 'state']);
    expect(doc.bars[0]).toEqual({ date: '1997-01-07', close: series.close[0], fast: null, slow: null, state: null });
    expect(doc.bars[9]!.fast).toBe(expected.fast[9]);
    expect(doc.bars[9]!.slow).toBeNull();
    expect(doc.bars[29]!.state).toBe(expected.state[29]);
    expect(doc.bars.every((b) => /^\d{4}-\d{2}-\d{2}$/.test(b.date as string))).toBe(true);
    expect(doc.crossings).toHaveLength(expected.crossings.length);
    for (const [k, c] of doc.crossings.entries()) {
      const index = expected.crossings[k]!.index;
      expect(Object.keys(c)).toEqual(['date', 'direction', 'price']);
      expect(c.direction).toBe(expected.crossings[k]!.direction);
      expect(c.price).toBe(series.close[index]);
      expect(doc.bars[index]!.date).toBe(c.date);
    }
  });

  it('intraday OHLCV gets ISO dates; --csv prints every bar; the table shows the last bars and crossings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procura-signals-'));
    const file = join(dir, 'ng-1h.csv');
    const closes = [3, 3.1, 3.2, 3.0, 2.8, 2.9, 3.3, 3.4];
    const rows = closes.map((c, i) => `${1_700_000_000_000 + i * 3_600_000},${c},${c},${c},${c},1`);
    writeFileSync(file, `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`);
    const json = JSON.parse(procura(['signals', '--data', file, '--fast', '1', '--slow', '2', '--json']).stdout) as { bars: Array<{ date: string }>; crossings: unknown[] };
    expect(json.bars[0]!.date).toBe('2023-11-14T22:13:20.000Z');
    expect(json.crossings).toEqual([
      { date: '2023-11-15T01:13:20.000Z', direction: 'down', price: 3 },
      { date: '2023-11-15T03:13:20.000Z', direction: 'up', price: 2.9 },
    ]);
    const csv = procura(['signals', '--data', file, '--fast', '1', '--slow', '2', '--csv']);
    expect(csv.stdout.trim().split('\n')).toHaveLength(closes.length + 1);
    expect(csv.stdout).toMatch(/^2023-11-15T01:13:20\.000Z,3,3,3\.(1\d*|09\d*),0,down$/m);
    const table = procura(['signals', '--data', file, '--fast', '1', '--slow', '2', '--last', '3']);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('last 3 bars');
    expect(table.stdout).toMatch(/2 crossing\(s\)/);
  });

  it('bad input exits non-zero with file, line and field on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procura-signals-'));
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'Date,Price\n2024-01-01,1\n2024-01-02,abc\n');
    const bad = procura(['signals', '--data', file, '--fast', '1', '--slow', '2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`procura: ${file}:3: field "Price": expected a number, got "abc"`);
    expect(bad.stdout).toBe('');
    const short = procura(['signals', '--data', 'backtests/data/natural-gas/monthly.csv', '--fast', '5', '--slow', '400']);
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/natural-gas\/monthly\.csv: field "slow": the slow window needs at least 400 bars, the series has 355/);
    const order = procura(['signals', '--data', 'backtests/data/natural-gas/daily.csv', '--fast', '50', '--slow', '20']);
    expect(order.status).toBe(2);
    expect(order.stderr).toMatch(/field "fast": fast window \(50\) must be shorter/);
  });
});
