/**
 * Bad configuration is refused before any order, with the file, the line and the field named:
 * an unknown exchange id, a symbol the exchange does not list (after loadMarkets), a malformed
 * cron expression, missing credentials for a non-paper run, live mode without
 * PROCURA_ALLOW_REAL_TRADING=yes, an unknown key; and a store already held by a live run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { procura } from '../support/cli.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcuraError } from '../../src/core/errors.js';
import { SimClock } from '../../src/core/time.js';
import { loadLiveConfig } from '../../src/live/config.js';
import { LiveRunner } from '../../src/live/runner.js';
import { BinanceEmulator } from '../support/binance-emulator.js';
import { envFor, goldCandles, writeConfig, LogCapture, START, type ConfigOverrides } from './helpers.js';

let emulator: BinanceEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function refusal(overrides: ConfigOverrides, env?: Record<string, string>): Promise<{ error: ProcuraError; file: string }> {
  emulator = new BinanceEmulator({ candles: { PAXGUSDT: goldCandles() }, startIndex: 30 });
  const url = await emulator.start();
  const file = writeConfig(url, overrides);
  let caught: unknown;
  try {
    const config = loadLiveConfig(file);
    const runner = await LiveRunner.open({ config, clock: new SimClock(START), env: env ?? envFor(emulator) });
    runner.close();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProcuraError);
  // Nothing was ordered, nothing private was even asked.
  expect(emulator.requests().filter((r) => r.path === '/api/v3/order')).toEqual([]);
  expect(emulator.orders()).toHaveLength(0);
  return { error: caught as ProcuraError, file };
}

function lineOf(file: string, needle: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
}

describe('bad config is refused before any order, naming the field', () => {
  it('an unknown exchange id', async () => {
    const { error, file } = await refusal({ exchange: 'binanse' });
    expect(error.where).toMatchObject({ file, field: 'exchange', line: lineOf(file, 'exchange: binanse') });
    expect(error.message).toContain('unknown ccxt exchange id "binanse"');
  });

  it('a symbol the exchange does not list (checked after loadMarkets)', async () => {
    const { error, file } = await refusal({ symbol: 'XAU/USDT' });
    expect(error.where).toMatchObject({ file, field: 'materials.gold.symbol', line: lineOf(file, 'XAU/USDT') });
    expect(error.message).toContain('does not list symbol "XAU/USDT"');
    expect(emulator!.requests().map((r) => r.path)).toEqual(['/api/v3/exchangeInfo']);
  });

  it('a malformed cron expression', async () => {
    const { error, file } = await refusal({ cron: '61 * * * *' });
    expect(error.where).toMatchObject({ file, field: 'schedule.cron', line: lineOf(file, 'cron:') });
    expect(error.message).toContain('invalid cron expression "61 * * * *"');
    expect(emulator!.requests()).toHaveLength(0);
  });

  it('missing credentials for a non-paper run (names the variables, never reads the file for them)', async () => {
    const { error, file } = await refusal({}, {});
    expect(error.where).toMatchObject({ file, field: 'exchange' });
    expect(error.message).toContain('PROCURA_BINANCE_API_KEY and PROCURA_BINANCE_SECRET');
    expect(emulator!.requests()).toHaveLength(0);
  });

  it('live mode without PROCURA_ALLOW_REAL_TRADING=yes', async () => {
    emulator = new BinanceEmulator({ candles: { PAXGUSDT: goldCandles() }, startIndex: 30 });
    const url = await emulator.start();
    const file = writeConfig(url, {});
    const text = readFileSync(file, 'utf8').replace('mode: sandbox', 'mode: live');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, text);
    const config = loadLiveConfig(file);
    await expect(LiveRunner.open({ config, env: envFor(emulator) })).rejects.toMatchObject({ where: { file, field: 'mode', line: lineOf(file, 'mode: live') } });
    expect(emulator.requests()).toHaveLength(0);
  });

  it('an unknown key, with a suggestion', async () => {
    const { error, file } = await refusal({ extra: 'warmupCandels: 10' });
    expect(error.where).toMatchObject({ file, field: 'warmupCandels', line: lineOf(file, 'warmupCandels') });
    expect(error.message).toContain('did you mean "warmupCandles"');
  });

  it('the command line: exit 2 and file:line: field on stderr', async () => {
    expect(existsSync('dist/src/cli/main.js'), 'dist/ is built by test/support/global-setup.ts').toBe(true);
    emulator = new BinanceEmulator({ candles: { PAXGUSDT: goldCandles() }, startIndex: 30 });
    const url = await emulator.start();
    const file = writeConfig(url, { cron: 'every day' });
    const run = procura(['live', '--config', file, '--once'], { env: { ...process.env, ...envFor(emulator) } });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${file}:${lineOf(file, 'cron:')}: field "schedule.cron": invalid cron expression "every day"`);
    expect(emulator.requests()).toHaveLength(0);
  });
});

describe('one instance per store', () => {
  it('a second run is refused naming the holder; a dead holder is taken over and logged', async () => {
    emulator = new BinanceEmulator({ candles: { PAXGUSDT: goldCandles() }, startIndex: 30 });
    const url = await emulator.start();
    const config = loadLiveConfig(writeConfig(url));
    const env = envFor(emulator);
    const first = await LiveRunner.open({ config, env, pid: process.pid });
    try {
      // Another live pid on this host (our parent) asking for the same store.
      await expect(LiveRunner.open({ config, env, pid: process.ppid })).rejects.toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining(`in use by another procura live run: pid ${process.pid}`) });
    } finally {
      first.abandon(); // dies holding the lock
    }
    // A holder whose pid no longer exists is stale.
    const { LiveStore } = await import('../../src/live/store.js');
    const store = new LiveStore(config.storePath, { now: () => 0 });
    store.db.prepare('UPDATE live_lock SET pid = ? WHERE id = 1').run(2 ** 22 + 12345);
    store.close();
    const logs = new LogCapture();
    const second = await LiveRunner.open({ config, env, pid: process.ppid, logger: logs.logger });
    second.close();
    expect(logs.messages().some((m) => m.includes(`took over the lock of a live run that is no longer running (pid ${2 ** 22 + 12345})`))).toBe(true);
  });
});
