/**
 * Every fault the emulator injects, through a full live tick (real ccxt client, jit strategy,
 * so every tick places an order): no duplicate order at the exchange, no lost fill (every
 * exchange trade is a local fill and the book equals the balance after the next tick), and
 * a clear log line saying what happened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import type { Fault, FaultMatch } from '../support/binance-emulator.js';
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

const ORDER: FaultMatch = { method: 'POST', path: '/api/v3/order' };
const LOOKUP: FaultMatch = { method: 'GET', path: '/api/v3/order' };

interface Case {
  readonly name: string;
  readonly faults: ReadonlyArray<readonly [Fault, FaultMatch]>;
  /** A log message (substring) that must appear during the faulty tick. */
  readonly log: string;
  /** Whether the faulty tick itself still succeeds. */
  readonly tickOk?: boolean;
  /** The order of the faulty tick is refused (no fill expected from it). */
  readonly rejected?: boolean;
}

const cases: Case[] = [
  { name: 'client timeout after the order executed', faults: [[{ kind: 'latency', ms: 2500, phase: 'after' }, ORDER]], log: 'order outcome unknown: looking it up by client order id before any re-send' },
  { name: '-1007 execution status unknown', faults: [[{ kind: 'unknown-status' }, ORDER]], log: 'order found by client order id: adopted, not re-sent' },
  { name: 'connection dropped after the order executed', faults: [[{ kind: 'drop-connection' }, ORDER]], log: 'order found by client order id: adopted, not re-sent' },
  { name: 'HTTP 503 before execution', faults: [[{ kind: 'http', status: 503, body: { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' } }, ORDER]], log: 'order not found after the grace window: sending again with the same client order id' },
  { name: 'HTTP 500 before execution', faults: [[{ kind: 'http', status: 500 }, ORDER]], log: 'order not found after the grace window: sending again with the same client order id' },
  { name: '429 with Retry-After on the order', faults: [[{ kind: 'rate-limit', status: 429, retryAfterSeconds: 1 }, ORDER]], log: 'order outcome unknown: looking it up by client order id before any re-send' },
  { name: '418 IP ban with Retry-After on the order', faults: [[{ kind: 'rate-limit', status: 418, retryAfterSeconds: 2 }, ORDER]], log: 'order outcome unknown: looking it up by client order id before any re-send' },
  { name: 'insufficient balance', faults: [[{ kind: 'insufficient-balance' }, ORDER]], log: 'order rejected by the exchange', rejected: true },
  {
    name: 'an exchange that reports the new order missing for a while',
    faults: [[{ kind: 'unknown-status' }, ORDER], [{ kind: 'order-not-found' }, { ...LOOKUP, times: 2 }]],
    log: 'order found by client order id: adopted, not re-sent',
  },
  { name: 'candles: 503 once (read retried)', faults: [[{ kind: 'http', status: 503 }, { path: '/api/v3/klines' }]], log: 'read failed: retrying' },
  { name: 'balances: 429 once (read retried)', faults: [[{ kind: 'rate-limit', status: 429, retryAfterSeconds: 1 }, { path: '/api/v3/account' }]], log: 'read failed: retrying' },
  { name: 'trades: connection dropped once (read retried)', faults: [[{ kind: 'drop-connection' }, { path: '/api/v3/myTrades' }]], log: 'read failed: retrying' },
  { name: 'candles down for the whole tick', faults: [[{ kind: 'http', status: 500 }, { path: '/api/v3/klines', times: 10 }]], log: 'tick failed', tickOk: false },
];

function bookPaxg(r: LiveRunner, emulatorFees: Decimal): Decimal {
  let qty = new Decimal(0);
  for (const order of r.orders.allOrders()) for (const fill of order.fills) qty = order.request.side === 'buy' ? qty.plus(fill.qty) : qty.minus(fill.qty);
  return qty.minus(emulatorFees);
}

describe('every injected fault through a full tick', () => {
  for (const c of cases) {
    it(c.name, async () => {
      rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
      runner = await rig.open();
      // jit buys on the first candle, skips the second (covered), then buys every day.
      expect((await runner.tick()).ok).toBe(true);
      rig.advance();
      expect((await runner.tick()).ok).toBe(true);
      rig.advance();
      const ordersBefore = rig.emulator.orders().length;
      const linesBefore = rig.logs.lines.length;
      for (const [fault, match] of c.faults) rig.emulator.inject(fault, match);
      const faulty = await runner.tick();
      expect(faulty.ok, faulty.error).toBe(c.tickOk ?? true);
      const during = rig.logs.lines.slice(linesBefore);
      const line = during.find((l) => String(l['msg']).includes(c.log));
      expect(line, `log line "${c.log}" in:\n${during.map((l) => l['msg']).join('\n')}`).toBeDefined();
      if (c.tickOk !== false && c.faults[0]![1].path === '/api/v3/order') {
        expect(line!['clientOrderId']).toMatch(/^pc-/);
        if (c.rejected) expect(rig.emulator.orders().length).toBe(ordersBefore);
        else expect(rig.emulator.orders().length).toBe(ordersBefore + 1);
      }
      rig.emulator.clearFaults();
      rig.advance();
      const after = await runner.tick();
      expect(after.ok, after.error).toBe(true);
      expect(after.reconciliation).toBe('ok');
      if (c.tickOk === false) expect(after.steps).toBe(2); // the failed step is re-run, then the new candle

      // No duplicate order: every client order id once at the exchange, one local order per exchange order.
      const ids = rig.emulator.orders().map((o) => o.clientOrderId);
      expect(new Set(ids).size).toBe(ids.length);
      const local = runner.orders.allOrders();
      for (const id of ids) expect(local.some((o) => o.request.clientOrderId === id)).toBe(true);
      // No lost fill: every trade at the exchange is a local fill, once.
      const localTrades = local.flatMap((o) => o.fills.map((f) => f.tradeId));
      expect(new Set(localTrades).size).toBe(localTrades.length);
      expect([...localTrades].sort()).toEqual(rig.emulator.trades().map((t) => String(t.id)).sort());
      const fees = rig.emulator.trades().reduce((s, t) => (t.commissionAsset === 'PAXG' ? s.plus(t.commission) : s), new Decimal(0));
      const balance = rig.emulator.balance('PAXG');
      expect(bookPaxg(runner, fees).toFixed()).toBe(balance.free.plus(balance.locked).toFixed());
    }, 30_000);
  }
});
