/**
 * Fees as the exchange charges them. Binance takes a spot buy's commission from the asset
 * received (the account gets qty - commission), or in the quote currency, or in a third asset
 * (BNB) when the account pays fees with it. In every case the ledger receives the quantity the
 * account actually received, accounts payable is credited with what was actually paid in quote
 * (the fee valued once: at the fill price when paid in base, at the exchange's BNB/USDT price
 * when paid in BNB, never as zero), and reconciliation compares book and exchange with no fee
 * term at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { Ledger } from '../../src/ledger/index.js';
import type { LiveRunner } from '../../src/live/runner.js';
import type { EmulatorTrade } from '../support/binance-emulator.js';
import { startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let runner: LiveRunner | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
});

const BNB_PRICE = '612.5';

interface Expectation {
  /** Quantity the account received for a trade. */
  received(trade: EmulatorTrade): Decimal;
  /** Quote the purchase cost in all (price x qty, plus the fee when paid outside the base asset). */
  paid(trade: EmulatorTrade): Decimal;
}

const cases: Array<{ name: string; commission: 'received' | 'quote' | { asset: string }; expect: Expectation }> = [
  {
    name: 'in the base asset (PAXG, Binance default)',
    commission: 'received',
    expect: { received: (t) => t.qty.minus(t.commission), paid: (t) => t.quoteQty },
  },
  {
    name: 'in the quote currency (USDT)',
    commission: 'quote',
    expect: { received: (t) => t.qty, paid: (t) => t.quoteQty.plus(t.commission) },
  },
  {
    name: 'in a third asset (BNB), valued at the exchange price',
    commission: { asset: 'BNB' },
    expect: { received: (t) => t.qty, paid: (t) => t.quoteQty.plus(t.commission.times(BNB_PRICE)) },
  },
];

describe('fees', () => {
  for (const c of cases) {
    it(`a buy's commission ${c.name}: the ledger books what was received and what was paid; book = exchange`, async () => {
      rig = await startLiveRig({
        config: { strategy: 'jit', params: {} },
        emulator: {
          balances: { USDT: '1000000', BNB: '10' },
          markets: [
            { symbol: 'PAXGUSDT', base: 'PAXG', quote: 'USDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5' },
            { symbol: 'BNBUSDT', base: 'BNB', quote: 'USDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5', price: BNB_PRICE },
          ],
        },
      });
      rig.emulator.setCommission(c.commission);
      runner = await rig.open();
      for (let day = 0; day < 6; day += 1) {
        const summary = await runner.tick();
        expect(summary.ok, summary.error).toBe(true);
        expect(summary.reconciliation).toBe('ok');
        rig.advance();
      }
      const report = await runner.reconcile(false);
      expect(report.ok, report.problems.join('\n')).toBe(true);
      expect(report.positions[0]!.difference).toBe('0');
      expect(Object.keys(report.positions[0]!)).not.toContain('feesInAsset');
      runner.close();
      runner = undefined;

      const trades = rig.emulator.trades();
      expect(trades.length).toBeGreaterThan(1);
      for (const t of trades) expect(t.commission.greaterThan(0)).toBe(true);
      const ledger = Ledger.openSqlite(rig.config.storePath);
      try {
        const purchases = new Map(ledger.entries().filter((e) => e.eventType === 'purchase').map((e) => [e.eventId, e]));
        let checked = 0;
        for (const t of trades) {
          const entry = purchases.get(`fill:gold:${t.id}`);
          if (entry === undefined) continue; // still in transit
          checked += 1;
          const moved = entry.movements.find((m) => m.kind === 'material' && m.id === 'gold')!;
          expect(moved.qty.toFixed(), `trade ${t.id}: quantity received`).toBe(c.expect.received(t).toFixed());
          const payable = entry.lines.filter((l) => l.account === 'accounts_payable').reduce((s, l) => s.plus(l.credit).minus(l.debit), new Decimal(0));
          expect(payable.toFixed(2), `trade ${t.id}: accounts payable`).toBe(c.expect.paid(t).toFixed(2));
        }
        expect(checked).toBeGreaterThan(0);
      } finally {
        ledger.journal.close();
      }
    }, 300_000);
  }
});
