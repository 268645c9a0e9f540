/**
 * An order above risk.maxOrderNotional is split into child orders within it, each with its own
 * client order id, through the whole live path (desk, pipeline, ccxt venue, emulator); the daily
 * limit denies the children past it; maxChildOrders 1 keeps the old denial. And the example
 * config (config/live.example.yaml, pointed at the emulator) places orders on its first tick.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { loadLiveConfig } from '../../src/live/config.js';
import { toPlainJson } from '../../src/pipeline/index.js';
import { LiveRunner, type LiveRunner as Runner, type TickEvent } from '../../src/live/runner.js';
import { BinanceEmulator, makeCandles } from '../support/binance-emulator.js';
import { DAY, envFor, goldCloses, startLiveRig, type LiveRig } from './helpers.js';
import { SimClock } from '../../src/core/time.js';

let rig: LiveRig | undefined;
let runner: Runner | undefined;
let emulator: BinanceEmulator | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
  await emulator?.stop();
  emulator = undefined;
});

describe('orders above maxOrderNotional', () => {
  it('are split into child orders within the limit, each with its own client order id; the first child past the daily limit is denied, the rest not sent', async () => {
    // The first decision is a forced reorder of 14.3777 PAXG, about 37,000 USDT.
    rig = await startLiveRig({ config: { risk: '{ maxOrderNotional: "10000", maxDailyNotional: "25000" }' } });
    runner = await rig.open();
    const summary = await runner.tick();
    expect(summary.ok, summary.error).toBe(true);
    const decisions = runner.desk().pipeline.journal();
    expect(decisions.map((d) => d.outcome)).toEqual(['sent', 'sent', 'denied']);
    expect(decisions.every((d) => d.intent.reason === 'forced-reorder' && d.sizing.kind === 'sized' && d.sizing.notional.lessThanOrEqualTo(10_000))).toBe(true);
    // Four children of 14.3777 (one step apart); the third is past the daily limit, the fourth is not sent.
    expect(decisions.map((d) => d.intent.qty!.toFixed())).toEqual(['3.5945', '3.5944', '3.5944']);
    expect(decisions[2]!.risk.find((r) => !r.allowed)?.check).toBe('daily-notional');
    expect(decisions[0]!.intent.cause.note).toContain('child 1 of 4');
    expect(summary.denials).toBe(1);
    // At the exchange: two orders, distinct client order ids, each within the limit at its fill price.
    const orders = rig.emulator.orders();
    expect(orders.length).toBe(2);
    expect(new Set(orders.map((o) => o.clientOrderId)).size).toBe(2);
    expect(orders.map((o) => o.clientOrderId).sort()).toEqual(decisions.slice(0, 2).map((d) => d.clientOrderId).sort());
    expect(summary.orders).toBe(2);
    expect(summary.intents).toBe(1);
  }, 120_000);

  it('without a daily limit in the way every child is sent and filled; the children sum to the order', async () => {
    rig = await startLiveRig({ config: { risk: '{ maxOrderNotional: "10000", maxDailyNotional: "1000000" }' } });
    runner = await rig.open();
    const summary = await runner.tick();
    expect(summary.orders).toBe(4);
    const filled = rig.emulator.orders().reduce((a, o) => a.plus(o.executedQty), new Decimal(0));
    expect(filled.toFixed()).toBe('14.3777');
    expect(rig.emulator.orders().every((o) => o.status === 'FILLED')).toBe(true);
  }, 120_000);

  it('maxChildOrders 1: the order is denied by the per-order limit, as before, and the denied forced reorder is an event for the operator', async () => {
    const events: TickEvent[] = [];
    rig = await startLiveRig({ config: { risk: '{ maxOrderNotional: "10000", maxDailyNotional: "1000000", maxChildOrders: 1 }' } });
    runner = await rig.open({ onTick: (_summary, tickEvents) => events.push(...tickEvents) });
    const summary = await runner.tick();
    expect(summary.orders).toBe(0);
    expect(summary.denials).toBe(1);
    expect(rig.emulator.orders().length).toBe(0);
    // Denied, the plant runs out that day: the simulated production buys the shortfall at a premium.
    expect(events.map((e) => e.kind)).toEqual(['forced-reorder-denied', 'stockout']);
    expect(events[0]!.text).toContain('order notional');
    expect(events[1]!.text).toMatch(/^stockout on 2024-02-01: [\d.]+ gold short, bought at an emergency premium/);
  }, 120_000);
});

describe('the example config', () => {
  it('places orders on its first tick (against the emulator): its forced reorder is split within maxOrderNotional and maxDailyNotional', async () => {
    // The example's plan starts on 2025-01-01: a price path from then.
    const candles = makeCandles(Date.UTC(2025, 0, 1), DAY, goldCloses(), '2');
    emulator = new BinanceEmulator({ candles: { PAXGUSDT: candles }, startIndex: 30, balances: { USDT: '1000000' } });
    const url = await emulator.start();
    const dir = mkdtempSync(join(tmpdir(), 'procura-example-'));
    const example = readFileSync(resolve('config/live.example.yaml'), 'utf8')
      .replace(/^mode: demo.*$/m, `mode: sandbox\nemulatorUrl: ${url}`)
      .replace(/^store: .*$/m, `store: ${join(dir, 'store.sqlite')}`)
      .replace(/^plant: .*$/m, `plant: ${resolve('config/jewellery-plant.yaml')}`);
    expect(example).toContain(`emulatorUrl: ${url}`);
    const file = join(dir, 'live.yaml');
    writeFileSync(file, example);
    const config = loadLiveConfig(file);
    const clock = new SimClock(candles[30]!.openAt + DAY);
    runner = await LiveRunner.open({ config, clock, env: envFor(emulator), sleep: async () => undefined });
    const summary = await runner.tick();
    expect(summary.ok, summary.error).toBe(true);
    expect(summary.orders).toBeGreaterThan(0);
    const decisions = runner.desk().pipeline.journal();
    expect(decisions.filter((d) => d.outcome === 'denied')).toEqual([]);
    const limit = new Decimal(config.raw.risk.maxOrderNotional!);
    for (const d of decisions) if (d.sizing.kind === 'sized') expect(d.sizing.notional.lessThanOrEqualTo(limit)).toBe(true);
    expect(emulator.orders().length).toBe(summary.orders);
  }, 120_000);

  it('config/live.emulator.yaml is the example with only mode, emulatorUrl, store and monitoring changed', () => {
    const strip = (raw: Record<string, unknown>): unknown => {
      const { mode: _mode, emulatorUrl: _url, store: _store, monitoring: _monitoring, ...rest } = raw;
      return toPlainJson(rest);
    };
    const example = loadLiveConfig(resolve('config/live.example.yaml')).raw;
    const emulated = loadLiveConfig(resolve('config/live.emulator.yaml')).raw;
    expect(emulated.emulatorUrl).toBe('http://127.0.0.1:18080');
    expect(strip(emulated)).toEqual(strip(example));
  });
});
