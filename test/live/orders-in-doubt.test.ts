/**
 * Orders whose fate is not known: never sent twice, never halting for nothing.
 *
 *   - An executed order that stays invisible to lookups by client order id longer than the
 *     lookup window (Binance reports new orders missing for a while, and accepts a reused client
 *     order id once the first order has filled): before any re-send the venue proves the order
 *     absent from open orders, all orders and trades over the time range; found there, it is
 *     adopted; when the lists disagree (a trade of an order the lists lack), nothing is re-sent.
 *   - A crash between recording an order and sending it, the next run a day later (the cron
 *     case): the order provably never reached the exchange, so it is cancelled locally, the tick
 *     is not halted, and the desk decides afresh.
 *   - A lookup window too short to mean anything is refused in the configuration.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadLiveConfig } from '../../src/live/config.js';
import type { LiveRunner } from '../../src/live/runner.js';
import { startLiveRig, writeConfig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let runner: LiveRunner | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
});

const ORDER = { method: 'POST', path: '/api/v3/order' } as const;

/** jit buys on the first candle, skips the second (covered), then buys every day: two ticks, then one that orders. */
async function toBuyingTick(r: LiveRunner): Promise<void> {
  expect((await r.tick()).ok).toBe(true);
  rig!.advance();
  expect((await r.tick()).ok).toBe(true);
  rig!.advance();
}

function expectNoDuplicate(): void {
  const ids = rig!.emulator.orders().map((o) => o.clientOrderId);
  expect(new Set(ids).size, `client order ids at the exchange: ${ids.join(', ')}`).toBe(ids.length);
}

describe('an executed order invisible past the lookup window', () => {
  it('is found in all orders and adopted, not sent a second time', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open();
    await toBuyingTick(runner);
    const before = rig.emulator.orders().length;
    rig.emulator.inject({ kind: 'drop-connection' }, ORDER);
    rig.emulator.inject({ kind: 'order-not-found' }, { method: 'GET', path: '/api/v3/order', times: 50 });
    const summary = await runner.tick();
    expect(summary.ok, summary.error).toBe(true);
    expect(rig.emulator.orders().length).toBe(before + 1);
    expectNoDuplicate();
    const order = rig.emulator.orders()[before]!;
    expect(rig.logs.messages()).toContain('order found in the exchange\'s order history: adopted, not re-sent');
    const local = runner.orders.getOrder(order.clientOrderId)!;
    expect(local.status).toBe('filled');
    expect(local.fills.map((f) => f.tradeId)).toEqual(rig.emulator.trades().filter((t) => t.orderId === order.orderId).map((t) => String(t.id)));
  }, 120_000);

  it('when the order lists lack it but a trade of an unknown order is there: not re-sent; adopted once visible', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open();
    await toBuyingTick(runner);
    const before = rig.emulator.orders().length;
    rig.emulator.inject({ kind: 'drop-connection' }, ORDER);
    rig.emulator.inject({ kind: 'order-not-found' }, { method: 'GET', path: '/api/v3/order', times: 50 });
    rig.emulator.inject({ kind: 'hide-latest-order' }, { path: '/api/v3/allOrders', times: 50 });
    rig.emulator.inject({ kind: 'hide-latest-order' }, { path: '/api/v3/openOrders', times: 50 });
    const doubtful = await runner.tick();
    expect(doubtful.ok, doubtful.error).toBe(true);
    expect(rig.emulator.orders().length).toBe(before + 1);
    expect(rig.logs.messages().some((m) => m.startsWith('order not re-sent: its absence cannot be proven'))).toBe(true);
    const cid = rig.emulator.orders()[before]!.clientOrderId;
    expect(runner.orders.getOrder(cid)!.status).toBe('new');
    // The exchange catches up: the next tick finds the order by its id and books its fills.
    rig.emulator.clearFaults();
    rig.advance();
    const after = await runner.tick();
    expect(after.ok, after.error).toBe(true);
    expect(after.reconciliation).toBe('ok');
    expectNoDuplicate();
    expect(runner.orders.getOrder(cid)!.status).toBe('filled');
  }, 120_000);
});

describe('a trade whose order the exchange cannot show yet', () => {
  it('is not taken for an external trade (it is ours): the tick fails closed, and once visible it is booked once', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open();
    await toBuyingTick(runner);
    const before = rig.emulator.orders().length;
    rig.emulator.inject({ kind: 'drop-connection' }, ORDER);
    rig.emulator.inject({ kind: 'order-not-found' }, { method: 'GET', path: '/api/v3/order', times: 1000 });
    rig.emulator.inject({ kind: 'hide-latest-order' }, { path: '/api/v3/allOrders', times: 1000 });
    expect((await runner.tick()).ok).toBe(true);
    const cid = rig.emulator.orders()[before]!.clientOrderId;
    // Still invisible at the next tick: its trade shows, its order (by exchange id too) does not.
    rig.advance();
    const blind = await runner.tick();
    expect(blind.ok, blind.error).toBe(true);
    expect(blind.tradingHalted).toBe(true);
    expect(runner.store.externalTrades()).toEqual([]);
    rig.emulator.clearFaults();
    rig.advance();
    const after = await runner.tick();
    expect(after.ok, after.error).toBe(true);
    expect(after.reconciliation, rig.logs.messages().filter((m) => m.startsWith('reconciliation found')).slice(-1)[0]).toBe('ok');
    expect(runner.store.externalTrades()).toEqual([]);
    expect(runner.orders.getOrder(cid)!.status).toBe('filled');
    expectNoDuplicate();
  }, 120_000);
});

describe('a crash between recording an order and sending it', () => {
  it('the next run a day later: the order is cancelled locally, the tick is not halted, the desk decides afresh', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open();
    await toBuyingTick(runner);
    // The process freezes with the order recorded and not sent, and dies there.
    runner.close();
    let armed = true;
    let froze!: () => void;
    const frozen = new Promise<void>((resolve) => (froze = resolve));
    runner = await rig.open({
      crashPoint: (name) => {
        if (name !== 'before-send' || !armed) return undefined;
        armed = false;
        froze();
        return new Promise<void>(() => undefined);
      },
    });
    const tick = runner.tick();
    await Promise.race([tick, frozen]);
    expect(armed).toBe(false);
    runner.abandon();
    const ordersBefore = rig.emulator.orders().length;
    // Cron runs again the next day.
    rig.advance();
    runner = await rig.open();
    const next = await runner.tick();
    expect(next.ok, next.error).toBe(true);
    expect(next.reconciliation).toBe('ok');
    expect(next.tradingHalted).toBe(false);
    expect(next.steps).toBe(2);
    // Yesterday's order never reached the exchange: cancelled locally, with the reason.
    const cancelled = runner.orders.allOrders().filter((o) => o.status === 'cancelled');
    expect(cancelled.length).toBe(1);
    expect(cancelled[0]!.reason).toContain('never reached the exchange');
    expect(rig.emulator.orders().some((o) => o.clientOrderId === cancelled[0]!.request.clientOrderId)).toBe(false);
    expect(rig.logs.messages().some((m) => m.includes('never reached the exchange') && m.includes('cancelled locally'))).toBe(true);
    // Today's decision was taken afresh and sent.
    expect(next.orders).toBeGreaterThan(0);
    expect(rig.emulator.orders().length).toBeGreaterThan(ordersBefore);
    expectNoDuplicate();
  }, 120_000);
});

describe('the lookup window', () => {
  it('a window shorter than an exchange takes to show a new order is refused, naming the field', () => {
    const file = writeConfig('http://127.0.0.1:1', { venue: '{ lookupAttempts: 2, lookupIntervalMs: 1000 }' });
    // Against a real exchange (no emulatorUrl): the emulator's lag is counted in requests, an exchange's in seconds.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^emulatorUrl: .*$/m, ''));
    let caught: unknown;
    try {
      loadLiveConfig(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).where.field).toBe('venue.lookupIntervalMs');
    expect((caught as ConfigError).message).toMatch(/lookup window of 1 s .* at least 20 s/);
  });
});
