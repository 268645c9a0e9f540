/**
 * A live tick end to end against the emulator with the real ccxt client: candles fetched and
 * stored, orders placed and filled, fills posted to the SQLite ledger, and the local book
 * equal to the emulator's balances.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { Ledger } from '../../src/ledger/index.js';
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

/** PAXG the local book says the account holds: every local fill, less the fees charged in PAXG. */
function expectedPaxg(r: LiveRunner): Decimal {
  let qty = new Decimal(0);
  for (const order of r.orders.allOrders()) for (const fill of order.fills) qty = order.request.side === 'buy' ? qty.plus(fill.qty) : qty.minus(fill.qty);
  const fees = rig!.emulator.trades().reduce((sum, t) => (t.commissionAsset === 'PAXG' ? sum.plus(t.commission) : sum), new Decimal(0));
  return qty.minus(fees);
}

describe('a live tick end to end', () => {
  it('places and fills orders at the emulator, posts them to the ledger, and the book equals the balances', async () => {
    rig = await startLiveRig();
    runner = await rig.open();
    const first = await runner.tick();
    expect(first.ok).toBe(true);
    expect(first.steps).toBe(1);
    expect(first.reconciliation).toBe('ok');
    // The first run warms on the stored history and decides on the newest closed candle only.
    expect(first.decidedAt).toEqual(['2024-02-01']);
    expect(first.orders).toBeGreaterThan(0);
    const orders = rig.emulator.orders();
    expect(orders.length).toBe(first.orders);
    expect(orders.every((o) => o.status === 'FILLED' && o.clientOrderId.startsWith('pc-'))).toBe(true);

    for (let i = 0; i < 12; i += 1) {
      rig.advance();
      const summary = await runner.tick();
      expect(summary.ok, summary.error).toBe(true);
      expect(summary.steps).toBe(1);
      expect(summary.reconciliation).toBe('ok');
    }
    // A tick without a new closed candle only reconciles.
    const idle = await runner.tick();
    expect(idle.steps).toBe(0);
    expect(idle.ok).toBe(true);

    // No duplicate: one exchange order per local order, every client order id once.
    const local = runner.orders.allOrders();
    const ids = rig.emulator.orders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(local.map((o) => o.request.clientOrderId).sort()).toEqual([...ids].sort());
    // Every fill at the emulator is a local fill, and the book equals the balance.
    const localTrades = local.flatMap((o) => o.fills.map((f) => f.tradeId)).sort();
    expect(localTrades).toEqual(rig.emulator.trades().map((t) => String(t.id)).sort());
    expect(expectedPaxg(runner).toFixed()).toBe(rig.emulator.balance('PAXG').free.plus(rig.emulator.balance('PAXG').locked).toFixed());

    // Fills reached the ledger: deliveries received as purchases (ref = client order id), or still in transit.
    runner.close();
    runner = undefined;
    const ledger = Ledger.openSqlite(rig.config.storePath);
    try {
      expect(ledger.verify().ok).toBe(true);
      const purchases = ledger.entries().filter((e) => e.eventType === 'purchase' && e.eventId.startsWith('fill:gold:'));
      expect(purchases.length).toBeGreaterThan(0);
      const bought = local.flatMap((o) => o.fills).reduce((s, f) => s.plus(f.qty), new Decimal(0));
      const received = ledger.quantities().materials.get('gold')!;
      expect(received.greaterThan(0)).toBe(true);
      // Production consumed some of it; what was bought is received or in transit, nothing twice.
      const posted = new Set(purchases.map((e) => e.eventId));
      expect(posted.size).toBeLessThanOrEqual(local.flatMap((o) => o.fills).length);
      expect(bought.greaterThan(0)).toBe(true);
    } finally {
      ledger.journal.close();
    }
    // The summary line names the run id.
    const done = rig.logs.lines.filter((l) => String(l['msg']).startsWith('tick ok'));
    expect(done.length).toBe(14);
    expect(done.every((l) => l['runId'] === 'test-desk' && typeof l['tick'] === 'string')).toBe(true);
  }, 60_000);
});
