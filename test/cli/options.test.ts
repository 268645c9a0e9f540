import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { procura } from '../support/cli.js';
import { formatTable, groupThousands, formatNumber, formatCount, isNumericCell } from '../../src/cli/format.js';
import { progressBar } from '../../src/cli/progress.js';
import { Decimal } from '../../src/core/decimal.js';

const SCENARIO = 'backtests/ammonia-henry-hub.yaml';

describe('command-line values are checked, and errors name the flag', () => {
  it('backtest: --workers 0, a bad --param and a mistyped --strategy name the flag, with suggestions', () => {
    const cases: [string[], string][] = [
      [['--workers', '0', '--sweep', 'fast=5:10:5'], 'procura: field "--workers": expected a whole number of worker threads, at least 1, got "0"\n'],
      [['--param', 'fast=abc'], 'procura: field "--param fast=abc": Invalid input: expected number, received string\n'],
      [['--param', 'fsat=5'], 'procura: field "--param fsat=5": unknown parameter "fsat" for strategy ma-procurement; did you mean "fast"?\n'],
      [['--param', 'fast=500'], 'procura: field "--param": slow window (40) must be longer than fast window (500) (with --param fast=500)\n'],
      [['--strategy', 'ma-procurment'], 'procura: field "--strategy": unknown strategy "ma-procurment"; did you mean "ma-procurement"? (known: '],
    ];
    for (const [args, stderr] of cases) {
      const r = procura(['backtest', SCENARIO, '--no-report', ...args]);
      // The list of known strategies grows; the message up to it is fixed.
      if (stderr.endsWith('(known: ')) expect(r.stderr.startsWith(stderr), r.stderr).toBe(true);
      else expect(r.stderr, args.join(' ')).toBe(stderr);
      expect(r.status).toBe(2);
    }
  });

  it('--log-level, --json with --csv, --column, materials and exchange ids', () => {
    const level = procura(['live', '--config', 'config/live.example.yaml', '--once', '--log-level', 'debg']);
    expect(level.stderr).toBe('procura: field "--log-level": expected one of fatal, error, warn, info, debug, trace, silent, got "debg"; did you mean "debug"?\n');
    expect(level.status).toBe(2);
    expect(procura(['live', '--config', 'config/live.example.yaml', '--once', '--log-level', 'verbose']).status).toBe(2);

    const both = procura(['cost', '--plant', 'config/ammonia-plant.yaml', '--plan', 'config/ammonia-plan.csv', '--json', '--csv']);
    expect(both.stderr).toBe('procura: field "--csv": choose one of --json or --csv\n');
    expect(both.status).toBe(2);

    const column = procura(['signals', '--data', 'backtests/data/worldbank-pink-sheet/monthly-prices.csv', '--column', 'coper', '--fast', '3', '--slow', '12']);
    expect(column.status).toBe(2);
    expect(column.stderr).toContain('no column "coper"; did you mean "copper"?');

    const material = procura(['cost', '--plant', 'config/ammonia-plant.yaml', '--plan', 'config/ammonia-plan.csv', '--on-order', 'natgaz=5']);
    expect(material.status).toBe(2);
    expect(material.stderr).toBe('procura: field "--on-order": unknown material "natgaz"; did you mean "natgas"?\n');

    const exchange = procura(['data', 'fetch', '--exchange', 'binanse', '--symbol', 'PAXG/USDT']);
    expect(exchange.status).toBe(2);
    expect(exchange.stderr).toContain('unknown ccxt exchange id "binanse"; did you mean "binance"?');
  }, 120_000);

  it('signals --last N applies to the crossings as well as the bars', () => {
    const r = procura(['signals', '--data', 'backtests/data/natural-gas/daily.csv', '--fast', '10', '--slow', '40', '--last', '3']);
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    const head = out.findIndex((l) => /crossing\(s\) \(the last 3 shown; --last or --json for more\)/.test(l));
    expect(head).toBeGreaterThan(0);
    expect(out[head]).toMatch(/^\d{1,3}(,\d{3})* crossing/);
    const rows = out.slice(head + 3).filter((l) => /^\d{4}-\d{2}-\d{2}/.test(l));
    expect(rows).toHaveLength(3);
  });
});

describe('one number format', () => {
  it('thousands separators, and numeric columns right-aligned, percentages and units included', () => {
    expect(['1287', '1234567.891', '-1234.5', '-0.00', '4.7 %', '12345 USD', '2024-01-02', 'ma-hedge', '1,234', '0.25x'].map(groupThousands)).toEqual([
      '1,287', '1,234,567.891', '-1,234.5', '0.00', '4.7 %', '12,345 USD', '2024-01-02', 'ma-hedge', '1,234', '0.25x',
    ]);
    expect(formatNumber(new Decimal('-1234567.456'), 2)).toBe('-1,234,567.46');
    expect(formatNumber(1234.5, 0)).toBe('1,235');
    expect(formatCount(10794)).toBe('10,794');
    expect(['4.7 %', '-12.25 %', '1,234', '-', '0.25x', ''].every(isNumericCell)).toBe(true);
    expect(['ma-hedge', '2024-01-02', 'USD', '1.2.3'].some(isNumericCell)).toBe(false);
    const table = formatTable(['', 'jit', 'ma-hedge'], [['saving', '-', '4.7 %'], ['orders', '10,794', '1,287']]);
    expect(table.split('\n')).toEqual(['           jit  ma-hedge', '------  ------  --------', 'saving       -     4.7 %', 'orders  10,794     1,287']);
  });
});

describe('progress bar', () => {
  const sink = (isTTY: boolean): Writable & { isTTY: boolean; text: string } => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        stream.text += String(chunk);
        done();
      },
    }) as Writable & { isTTY: boolean; text: string; columns: number; cursorTo: () => boolean; clearLine: () => boolean };
    stream.text = '';
    stream.isTTY = isTTY;
    stream.columns = 120;
    stream.cursorTo = () => true;
    stream.clearLine = () => true;
    return stream;
  };

  it('draws on a terminal only, and with a delay only after it', async () => {
    const tty = sink(true);
    const bar = await progressBar('post', 'events', { stream: tty });
    bar.update(1000, 4000);
    bar.update(4000, 4000);
    bar.stop();
    expect(tty.text).toContain('post [');
    expect(tty.text).toContain('1,000/4,000 events');

    const pipe = sink(false);
    const silent = await progressBar('post', 'events', { stream: pipe });
    silent.update(1, 2);
    silent.stop();
    expect(pipe.text).toBe('');

    let clock = 0;
    const late = sink(true);
    const delayed = await progressBar('post', 'events', { stream: late, delayMs: 2000, now: () => clock });
    delayed.update(1000, 9000);
    expect(late.text).toBe('');
    clock = 2500;
    delayed.update(2000, 9000);
    delayed.stop();
    expect(late.text).toContain('2,000/9,000 events');
  });
});
