/**
 * `--paper`: live market data from the exchange (the emulator's candles through ccxt), fills
 * from the simulated venue; nothing is ordered at the exchange, no credentials are read, and
 * the state goes to `<store>.paper`.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveRunner } from '../../src/live/runner.js';
import { startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let runner: LiveRunner | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
});

describe('paper runs', () => {
  it('decide on exchange candles, fill on the simulated venue, order nothing at the exchange', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open({ paper: true, env: {} });
    let orders = 0;
    let fills = 0;
    for (let i = 0; i < 6; i += 1) {
      const summary = await runner.tick();
      expect(summary.ok, summary.error).toBe(true);
      expect(summary.reconciliation).toBe('skipped');
      orders += summary.orders;
      fills += summary.fills;
      rig.advance();
    }
    expect(orders).toBeGreaterThan(3);
    expect(fills).toBeGreaterThan(2); // market orders fill on the next candle's open
    expect(rig.emulator.orders()).toHaveLength(0);
    expect(rig.emulator.requests().some((r) => r.path === '/api/v3/account' || r.path === '/api/v3/order')).toBe(false);
    expect(existsSync(`${rig.config.storePath}.paper`)).toBe(true);
    expect(existsSync(rig.config.storePath)).toBe(false);
  }, 30_000);

  it('a run started afresh each tick (cron with --once) fills the orders an earlier run sent', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    let orders = 0;
    let fills = 0;
    for (let i = 0; i < 6; i += 1) {
      runner = await rig.open({ paper: true, env: {} });
      const summary = await runner.tick();
      expect(summary.ok, summary.error).toBe(true);
      orders += summary.orders;
      fills += summary.fills;
      runner.close();
      runner = undefined;
      rig.advance();
    }
    expect(orders).toBeGreaterThan(3);
    // each process's simulated venue starts empty: without the store's working orders put back,
    // every order stays open and nothing fills
    expect(fills).toBeGreaterThanOrEqual(orders - 2);
    expect(rig.emulator.orders()).toHaveLength(0);
  }, 60_000);
});
