import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO, type Decimal } from '../../src/core/decimal.js';
import { IllegalTransitionError, applyReport, classifyMove, newOrderRecord, transition, withSubmitAttempt, type OrderRecord } from '../../src/pipeline/order-state.js';
import { toPlainJson } from '../../src/pipeline/pipeline.js';
import type { Fill, OrderReport, OrderRequest, OrderStatus } from '../../src/pipeline/types.js';
import { D, T0, intent } from './fixtures.js';

const request = (qty = '10'): OrderRequest => ({
  clientOrderId: 'pc-state1',
  instrument: 'gas',
  symbol: 'NG/USD',
  side: 'buy',
  type: 'market',
  qty: D(qty),
  at: T0,
  reason: 'procure',
});
const fresh = (qty = '10'): OrderRecord => newOrderRecord(request(qty), intent(), D('30'), 1);
const fill = (n: number, qty: string): Fill => ({ clientOrderId: 'pc-state1', venueOrderId: 'v1', tradeId: `t${n}`, at: T0 + n, qty: D(qty), price: D('3'), fee: D('0.01') });
const report = (status: OrderStatus, fills: Fill[], filledQty?: Decimal): OrderReport => ({
  clientOrderId: 'pc-state1',
  venueOrderId: 'v1',
  status,
  filledQty: filledQty ?? fills.reduce((t, f) => t.plus(f.qty), ZERO),
  fills,
});
const applyAll = (order: OrderRecord, reports: readonly OrderReport[]) => reports.reduce((o, r) => applyReport(o, r).order, order);

describe('order state machine', () => {
  it('moves forward through legal transitions and collects fills', () => {
    let o = fresh();
    o = applyReport(o, report('open', [])).order;
    expect(o.status).toBe('open');
    const partial = applyReport(o, report('partially-filled', [fill(1, '4')]));
    expect(partial.newFills.map((f) => f.tradeId)).toEqual(['t1']);
    o = applyReport(partial.order, report('filled', [fill(1, '4'), fill(2, '6')])).order;
    expect([o.status, o.filledQty.toString(), o.fills.length, o.venueOrderId]).toEqual(['filled', '10', 2, 'v1']);
  });

  it('builds each record with the keys, in the order, and the JSON text that spreading the previous record gave', () => {
    // The spreads the pipeline used to build records with, applied to plain objects.
    const spreadApply = (order: OrderRecord, r: OrderReport): OrderRecord => {
      const next = applyReport({ ...order }, r).order;
      return { ...order, status: next.status, venueOrderId: next.venueOrderId, filledQty: next.filledQty, fills: [...next.fills], reason: next.reason };
    };
    const reports = [report('open', []), report('partially-filled', [fill(1, '4')]), report('filled', [fill(1, '4'), fill(2, '6')])];
    let fast = withSubmitAttempt(fresh());
    let slow: OrderRecord = { ...fresh(), submitAttempts: 1 };
    expect(Object.keys(fast)).toEqual(Object.keys(slow));
    for (const r of reports) {
      fast = applyReport(fast, r).order;
      slow = spreadApply(slow, r);
      expect(Object.keys(fast)).toEqual(Object.keys(slow));
      expect(JSON.stringify(toPlainJson(fast))).toBe(JSON.stringify(toPlainJson(slow)));
    }
    expect(Object.keys(fast)).toEqual(['request', 'intent', 'status', 'filledQty', 'fills', 'notional', 'submitAttempts', 'decision', 'venueOrderId', 'reason']);
    // Another submit attempt on a record a report has reached keeps its venue order id and reason.
    const retried = withSubmitAttempt(fast);
    const retriedBySpread: OrderRecord = { ...slow, submitAttempts: slow.submitAttempts + 1 };
    expect(Object.keys(retried)).toEqual(Object.keys(retriedBySpread));
    expect(JSON.stringify(toPlainJson(retried))).toBe(JSON.stringify(toPlainJson(retriedBySpread)));
    // A record with the reason set before any report keeps the reason ahead of the venue order id, as the spread did.
    const unknown: OrderRecord = { ...withSubmitAttempt(fresh()), reason: 'outcome unknown: timeout' };
    const found = applyReport(unknown, report('open', [])).order;
    expect(Object.keys(found).slice(-2)).toEqual(['reason', 'venueOrderId']);
  });

  it('lists legal, stale and illegal moves', () => {
    expect(classifyMove('new', 'rejected')).toBe('forward');
    expect(classifyMove('open', 'cancelled')).toBe('forward');
    expect(classifyMove('partially-filled', 'expired')).toBe('forward');
    expect(classifyMove('filled', 'open')).toBe('stale');
    expect(classifyMove('partially-filled', 'open')).toBe('stale');
    expect(classifyMove('filled', 'cancelled')).toBe('illegal');
    expect(classifyMove('cancelled', 'filled')).toBe('illegal');
    expect(classifyMove('open', 'rejected')).toBe('illegal');
    expect(classifyMove('rejected', 'open')).toBe('illegal');
    expect(classifyMove('expired', 'new')).toBe('stale');
  });

  it('refuses illegal transitions with an error naming the order and both states', () => {
    const filled = applyReport(fresh(), report('filled', [fill(1, '10')])).order;
    expect(() => applyReport(filled, report('cancelled', [fill(1, '10')]))).toThrow('order pc-state1: illegal transition from filled to cancelled');
    const rejected = transition(fresh(), 'rejected', 'no funds');
    expect(rejected.reason).toBe('no funds');
    expect(() => transition(rejected, 'open')).toThrow(IllegalTransitionError);
    expect(() => transition(rejected, 'open')).toThrow(/pc-state1: illegal transition from rejected to open/);
    expect(() => applyReport(fresh('5'), report('filled', [fill(1, '6')]))).toThrow(/filled 6 of 5/);
    expect(() => applyReport(fresh(), { ...report('open', []), clientOrderId: 'pc-other' })).toThrow(/report for another order/);
  });

  it('treats an open report with fills as partially filled, and keeps filledQty from never decreasing', () => {
    const o = applyReport(fresh(), report('open', [fill(1, '2')])).order;
    expect(o.status).toBe('partially-filled');
    const later = applyReport(o, report('partially-filled', [], D('1')));
    expect(later.changed).toBe(false);
    expect(later.order.filledQty.toString()).toBe('2');
  });

  // A legal life of an order, as the cumulative reports a venue would send.
  const lives = fc
    .record({
      lots: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 6 }),
      extra: fc.integer({ min: 0, max: 5 }),
      end: fc.constantFrom<OrderStatus>('filled', 'cancelled', 'expired', 'open'),
    })
    .map(({ lots, extra, end }) => {
      const total = lots.reduce((a, b) => a + b, 0);
      const qty = end === 'filled' ? total : total + extra + 1;
      const fills: Fill[] = [];
      const reports: OrderReport[] = [report('open', [])];
      lots.forEach((lot, i) => {
        fills.push(fill(i + 1, String(lot)));
        const done = end === 'filled' && i === lots.length - 1;
        reports.push(report(done ? 'filled' : 'partially-filled', [...fills]));
      });
      if (end === 'filled' && lots.length === 0) return { qty: '1', reports: [report('open', []), report('filled', [fill(1, '1')])] };
      if (end === 'cancelled' || end === 'expired') reports.push(report(end, [...fills]));
      return { qty: String(qty), reports };
    });

  it('applying the same reports again changes nothing (property)', () => {
    fc.assert(
      fc.property(lives, ({ qty, reports }) => {
        const once = applyAll(fresh(qty), reports);
        for (const r of reports) {
          const again = applyReport(once, r);
          expect(again.changed).toBe(false);
          expect(again.newFills).toHaveLength(0);
          expect(again.order).toBe(once);
        }
        expect(toPlainJson(applyAll(once, reports))).toEqual(toPlainJson(once));
      }),
    );
  });

  it('duplicated and late reports in any order give the same final order (property)', () => {
    fc.assert(
      fc.property(
        lives.chain((life) =>
          fc.record({
            life: fc.constant(life),
            order: fc.shuffledSubarray(life.reports, { minLength: life.reports.length, maxLength: life.reports.length }),
            dupes: fc.array(fc.nat(life.reports.length - 1), { maxLength: 8 }),
          }),
        ),
        ({ life, order, dupes }) => {
          const expected = applyAll(fresh(life.qty), life.reports);
          const noisy = [...order];
          dupes.forEach((index, k) => noisy.splice((k * 7) % (noisy.length + 1), 0, life.reports[index]!));
          const got = applyAll(fresh(life.qty), noisy);
          expect(got.status).toBe(expected.status);
          expect(got.filledQty.toString()).toBe(expected.filledQty.toString());
          expect(got.fills.map((f) => f.tradeId).sort()).toEqual(expected.fills.map((f) => f.tradeId).sort());
          const sum = got.fills.reduce((t, f) => t.plus(f.qty), ZERO);
          expect(sum.equals(got.filledQty)).toBe(true);
        },
      ),
    );
  });
});
