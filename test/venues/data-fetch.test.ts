import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/time.js';
import { BinanceEmulator, makeCandles } from '../support/binance-emulator.js';
import { CcxtVenue } from '../../src/venues/ccxt/ccxt-venue.js';
import { downloadCandles } from '../../src/venues/ccxt/download-candles.js';
import { register } from '../../src/cli/commands/data.js';
import { DAY, START } from './helpers.js';

const closes = Array.from({ length: 25 }, (_, i) => String(3000 + i));
let emulator: BinanceEmulator;
let url: string;
let dir: string;

beforeEach(async () => {
  emulator = new BinanceEmulator({ candles: { PAXGUSDT: makeCandles(START, DAY, closes) }, startIndex: 14 });
  url = await emulator.start();
  dir = mkdtempSync(join(tmpdir(), 'procura-data-'));
});
afterEach(async () => {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

function rows(file: string): string[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n');
}

describe('candle download', () => {
  it('writes closed candles page by page, then resumes where the file ends without duplicates', async () => {
    const venue = new CcxtVenue({ exchange: 'binance', mode: 'market-data', emulatorUrl: url });
    await venue.init();
    const out = join(dir, 'paxg.csv');
    // The clock sits inside candle 14: it is still forming and must not be written.
    const clock = new SimClock(START + 14 * DAY + 3_600_000);
    const first = await downloadCandles(venue, { symbol: 'PAXG/USDT', timeframe: '1d', out, since: START, pageLimit: 4, clock });
    expect(first.addedRows).toBe(14);
    expect(rows(out)[0]).toBe('timestamp,open,high,low,close,volume');
    expect(rows(out)[1]).toBe(`${START},3000,3001,2999,3000,100`);
    expect(rows(out)).toHaveLength(15);

    for (let i = 0; i < 10; i += 1) emulator.advance();
    clock.advanceTo(START + 40 * DAY);
    emulator.clearRequests();
    const second = await downloadCandles(venue, { symbol: 'PAXG/USDT', timeframe: '1d', out, since: START, pageLimit: 4, clock });
    expect(second.keptRows).toBe(14);
    expect(second.addedRows).toBe(11);
    expect(second.resumedFrom).toBe(START + 14 * DAY);
    expect(emulator.requests()[0]?.params['startTime']).toBe(String(START + 14 * DAY));
    const all = rows(out).slice(1).map((line) => Number(line.split(',')[0]));
    expect(all).toEqual(closes.map((_, i) => START + i * DAY));
    expect(rows(out).slice(1).map((line) => line.split(',')[4])).toEqual(closes);

    // Nothing new: the file is left as it is.
    const third = await downloadCandles(venue, { symbol: 'PAXG/USDT', timeframe: '1d', out, pageLimit: 4, clock });
    expect(third.addedRows).toBe(0);
    expect(rows(out)).toHaveLength(26);
  });

  it('refuses to append to a file in another format, naming the file and line', async () => {
    const venue = new CcxtVenue({ exchange: 'binance', mode: 'market-data', emulatorUrl: url });
    await venue.init();
    const out = join(dir, 'other.csv');
    writeFileSync(out, 'Date,Price\n2024-01-01,3000\n');
    await expect(downloadCandles(venue, { symbol: 'PAXG/USDT', timeframe: '1d', out, clock: new SimClock(START + 30 * DAY) })).rejects.toThrow(/other\.csv:1: expected the header/);
    expect(readFileSync(out, 'utf8')).toBe('Date,Price\n2024-01-01,3000\n');
  });

  it('procura data fetch writes the CSV through the emulator and resumes on a second run', async () => {
    const out = join(dir, 'cli.csv');
    const run = async (...args: string[]): Promise<string> => {
      const program = new Command().exitOverride();
      register(program);
      const written: string[] = [];
      const original = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stdout.write;
      try {
        await program.parseAsync(['node', 'procura', 'data', 'fetch', '--exchange', 'binance', '--symbol', 'PAXG/USDT', '--emulator', url, '--out', out, ...args]);
      } finally {
        process.stdout.write = original;
      }
      return written.join('');
    };
    expect(await run('--since', '2024-01-01')).toMatch(/15 new candles, 15 in total \(2024-01-01 \.\. 2024-01-15\)/);
    emulator.advance();
    expect(await run()).toMatch(/1 new candles, 16 in total/);
    expect(rows(out)).toHaveLength(17);
    expect(new Set(rows(out)).size).toBe(17);
    const bad = await run('--timeframe', '7x');
    expect(bad).toBe('');
    expect(process.exitCode).toBe(2);
    process.exitCode = undefined;
  });
});
