import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { DAY_MS } from '../../src/core/time.js';
import type { OrderRequest, Side } from '../../src/pipeline/types.js';
import { SimVenue, parseSimVenueConfig, type SimBar, type SimVenueConfigInput } from '../../src/venues/sim/sim-venue.js';

const D = (text: string) => new Decimal(text);
const T0 = Date.UTC(2024, 0, 1);
const day = (n: number) => T0 + n * DAY_MS;
const rules = { lotStep: '1', tickSize: '0.01', minQty: '1', minNotional: '10' };

function venue(extra: Partial<SimVenueConfigInput> = {}): SimVenue {
  return new SimVenue({ instruments: { gas: rules }, ...extra });
}
let ids = 0;
function order(side: Side, qty: string, limit?: string, instrument = 'gas'): OrderRequest {
  ids += 1;
  return {
    clientOrderId: `pc-test${ids}`,
    instrument,
    symbol: instrument,
    side,
    type: limit === undefined ? 'market' : 'limit',
    qty: D(qty),
    limitPrice: limit === undefined ? undefined : D(limit),
    at: T0,
    reason: 'procure',
  };
}
const bar = (n: number, open: number, high: number, low: number, close: number, volume?: number): SimBar => ({ at: day(n), open, high, low, close, volume });

describe('SimVenue market orders', () => {
  it('fill at the next bar open, never on the bar that was current at submission', async () => {
    const v = venue();
    v.onBar(bar(0, 100, 101, 99, 100.5));
    const o = order('buy', '5');
    const first = await v.submit(o);
    expect(first.status).toBe('open');
    expect(first.fills).toHaveLength(0);
    v.onBar(bar(1, 102, 104, 101, 103));
    const done = await v.lookup(o.clientOrderId, 'gas');
    expect(done!.status).toBe('filled');
    expect(done!.fills).toHaveLength(1);
    expect(done!.fills[0]!.price.toString()).toBe('102');
    expect(done!.fills[0]!.at).toBe(day(1));
  });

  it('fill at the next close when configured for close-only series', async () => {
    const v = venue({ marketFill: 'next-close' });
    v.onBar(bar(0, 100, 100, 100, 100));
    const o = order('buy', '5');
    await v.submit(o);
    v.onBar(bar(1, 107, 107, 107, 107.25));
    expect((await v.lookup(o.clientOrderId, 'gas'))!.fills[0]!.price.toString()).toBe('107.25');
  });

  it('never fill before a bar later than the submission bar (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ open: fc.integer({ min: 50, max: 150 }), range: fc.integer({ min: 0, max: 20 }) }), { minLength: 2, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(29), fc.boolean(), fc.option(fc.integer({ min: 40, max: 160 }), { nil: undefined })), { maxLength: 10 }),
        async (bars, submissions) => {
          const v = venue();
          const submittedAt = new Map<string, number>();
          for (let i = 0; i < bars.length; i += 1) {
            const b = bars[i]!;
            v.onBar(bar(i, b.open, b.open + b.range, b.open - b.range, b.open));
            for (const [when, buy, limit] of submissions) {
              if (when !== i) continue;
              const o = order(buy ? 'buy' : 'sell', '1', limit === undefined ? undefined : String(limit));
              submittedAt.set(o.clientOrderId, day(i));
              await v.submit(o);
            }
          }
          for (const [id, at] of submittedAt) {
            const report = await v.lookup(id, 'gas');
            for (const fill of report!.fills) expect(fill.at).toBeGreaterThan(at);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('charge fees (bps of notional + fixed per order) and slippage against the taker, to the cent', async () => {
    const v = venue({ feeBps: '10', feeFixed: '2.50', slippageBps: '5' });
    v.onBar(bar(0, 123, 124, 122, 123));
    const buy = order('buy', '7');
    const sell = order('sell', '7');
    await v.submit(buy);
    await v.submit(sell);
    v.onBar(bar(1, 123.45, 125, 120, 124));
    const bought = (await v.lookup(buy.clientOrderId, 'gas'))!.fills[0]!;
    // 123.45 x (1 + 0.0005) = 123.511725; 7 x that = 864.582075; fee 0.864582075 + 2.50 = 3.36
    expect(bought.price.toString()).toBe('123.511725');
    expect(bought.fee.toString()).toBe('3.36');
    const sold = (await v.lookup(sell.clientOrderId, 'gas'))!.fills[0]!;
    // 123.45 x (1 - 0.0005) = 123.388275; 7 x that = 863.717925; fee 0.863717925 + 2.50 = 3.36
    expect(sold.price.toString()).toBe('123.388275');
    expect(sold.fee.toString()).toBe('3.36');
  });

  it("give a fill at the last fill's price or fee the same figures as a fill computed alone", async () => {
    const config = { feeBps: '10', feeFixed: '2.50', slippageBps: '5' };
    const opens = [3.1, 3.1, 3.5, 3.1, 3.1, 2.75, 2.75, 2.75];
    const quantities = ['7', '7', '5', '7', '700', '7', '7', '9'];
    const v = venue(config);
    v.onBar(bar(0, 3, 3, 3, 3));
    const same = (x: Decimal, y: Decimal) => x.s === y.s && x.e === y.e && JSON.stringify(x.d) === JSON.stringify(y.d);
    for (let k = 0; k < opens.length; k += 1) {
      const o = order('buy', quantities[k]!);
      await v.submit(o);
      v.onBar(bar(k + 1, opens[k]!, opens[k]! + 1, opens[k]! - 1, opens[k]!));
      const alone = venue(config);
      alone.onBar(bar(k, 3, 3, 3, 3));
      await alone.submit(o);
      alone.onBar(bar(k + 1, opens[k]!, opens[k]! + 1, opens[k]! - 1, opens[k]!));
      const fill = (await v.lookup(o.clientOrderId, 'gas'))!.fills[0]!;
      const expected = (await alone.lookup(o.clientOrderId, 'gas'))!.fills[0]!;
      expect(same(fill.price, expected.price) && same(fill.fee, expected.fee)).toBe(true);
      expect([fill.price.toString(), fill.fee.toString()]).toEqual([expected.price.toString(), expected.fee.toString()]);
    }
  });

  it('slip against the taker on negative prices too', async () => {
    const v = new SimVenue({ instruments: { wti: { lotStep: '1', tickSize: '0.01' } }, slippageBps: '100' });
    v.onBar(bar(0, 10, 10, 10, 10));
    const o = order('buy', '1', undefined, 'wti');
    await v.submit(o);
    v.onBar(bar(1, -36.98, -30, -40, -37));
    expect((await v.lookup(o.clientOrderId, 'wti'))!.fills[0]!.price.toString()).toBe('-36.6102');
  });
});

describe('SimVenue limit orders', () => {
  it('rest until a later bar range crosses the limit, then fill at the limit', async () => {
    const v = venue();
    v.onBar(bar(0, 100, 101, 99, 100));
    const buy = order('buy', '2', '95');
    const sell = order('sell', '2', '105');
    await v.submit(buy);
    await v.submit(sell);
    v.onBar(bar(1, 100, 104.99, 95.01, 100));
    expect((await v.lookup(buy.clientOrderId, 'gas'))!.status).toBe('open');
    expect((await v.lookup(sell.clientOrderId, 'gas'))!.status).toBe('open');
    v.onBar(bar(2, 98, 106, 94, 100));
    const b = (await v.lookup(buy.clientOrderId, 'gas'))!;
    const s = (await v.lookup(sell.clientOrderId, 'gas'))!;
    expect([b.status, b.fills[0]!.price.toString()]).toEqual(['filled', '95']);
    expect([s.status, s.fills[0]!.price.toString()]).toEqual(['filled', '105']);
  });

  it('fill at the open when the bar gaps through the limit', async () => {
    const v = venue();
    v.onBar(bar(0, 100, 101, 99, 100));
    const buy = order('buy', '2', '95');
    const sell = order('sell', '2', '105');
    await v.submit(buy);
    v.onBar(bar(1, 93, 94, 90, 92));
    expect((await v.lookup(buy.clientOrderId, 'gas'))!.fills[0]!.price.toString()).toBe('93');
    await v.submit(sell);
    v.onBar(bar(2, 107.5, 110, 106, 108));
    expect((await v.lookup(sell.clientOrderId, 'gas'))!.fills[0]!.price.toString()).toBe('107.5');
  });

  it('do not fill on the submission bar even when that bar crossed the limit', async () => {
    const v = venue();
    v.onBar(bar(0, 100, 101, 80, 100));
    const buy = order('buy', '2', '95');
    await v.submit(buy);
    v.onBar(bar(1, 100, 101, 99, 100));
    expect((await v.lookup(buy.clientOrderId, 'gas'))!.status).toBe('open');
  });
});

describe('SimVenue volume participation', () => {
  it('caps each bar at a share of its volume, carries the rest, charges the fixed fee once', async () => {
    const v = venue({ participationRate: '0.1', feeBps: '10', feeFixed: '1' });
    v.onBar(bar(0, 10, 10, 10, 10, 1000));
    const o = order('buy', '25');
    await v.submit(o);
    v.onBar(bar(1, 10, 10, 10, 10, 100));
    let r = (await v.lookup(o.clientOrderId, 'gas'))!;
    expect([r.status, r.filledQty.toString()]).toEqual(['partially-filled', '10']);
    const earlier = r;
    const changes = v.changeCount();
    v.onBar(bar(2, 11, 11, 11, 11, 109)); // 10.9 rounds down to 10
    v.onBar(bar(3, 12, 12, 12, 12, 500));
    r = (await v.lookup(o.clientOrderId, 'gas'))!;
    expect(r.status).toBe('filled');
    // An earlier report keeps the fills of its moment (later fills replace the order's array, never write it); each fill counts as a change.
    expect(earlier.fills).toHaveLength(1);
    expect(v.changeCount()).toBe(changes + 2);
    expect(r.fills.map((f) => [f.qty.toString(), f.price.toString(), f.fee.toString()])).toEqual([
      ['10', '10', '1.1'], // 100 x 10 bps = 0.10 + 1 fixed
      ['10', '11', '0.11'],
      ['5', '12', '0.06'],
    ]);
    expect(new Set(r.fills.map((f) => f.tradeId)).size).toBe(3);
  });

  it('fills nothing on a bar whose share rounds to zero, and ignores the cap on bars without volume', async () => {
    const v = venue({ participationRate: '0.1' });
    v.onBar(bar(0, 10, 10, 10, 10));
    const o = order('buy', '25');
    await v.submit(o);
    v.onBar(bar(1, 10, 10, 10, 10, 5));
    expect((await v.lookup(o.clientOrderId, 'gas'))!.filledQty.toString()).toBe('0');
    v.onBar(bar(2, 10, 10, 10, 10));
    expect((await v.lookup(o.clientOrderId, 'gas'))!.filledQty.toString()).toBe('25');
  });

  it('expires what is left after the configured number of bars', async () => {
    const v = venue({ participationRate: '0.1', expireAfterBars: 2 });
    v.onBar(bar(0, 10, 10, 10, 10, 100));
    const o = order('buy', '25');
    const resting = order('buy', '2', '5');
    await v.submit(o);
    await v.submit(resting);
    v.onBar(bar(1, 10, 10, 10, 10, 100));
    v.onBar(bar(2, 10, 10, 10, 10, 100));
    const r = (await v.lookup(o.clientOrderId, 'gas'))!;
    expect([r.status, r.filledQty.toString()]).toEqual(['expired', '20']);
    expect((await v.lookup(resting.clientOrderId, 'gas'))!.status).toBe('expired');
    expect(v.workingCount).toBe(0);
  });
});

describe('SimVenue rules and configuration', () => {
  it('rejects orders that break the market rules, as reports', async () => {
    const v = venue();
    v.onBar(bar(0, 3, 3, 3, 3));
    const cases: [OrderRequest, RegExp][] = [
      [order('buy', '1.5'), /lot step/],
      [order('buy', '2', '2.005'), /tick/],
      [order('buy', '3'), /notional 9 is below the minimum 10/],
      [order('buy', '5', undefined, 'oil'), /unknown instrument/],
    ];
    for (const [o, reason] of cases) {
      const r = await v.submit(o);
      expect(r.status).toBe('rejected');
      expect(r.reason).toMatch(reason);
    }
    v.onBar(bar(1, 3, 3, 3, 3));
    for (const [o] of cases) expect((await v.lookup(o.clientOrderId, o.instrument))!.fills).toHaveLength(0);
  });

  it('refuses bars that do not move forward and asks for the instrument when there are several', () => {
    const v = venue();
    v.onBar(bar(1, 1, 1, 1, 1));
    expect(() => v.onBar(bar(1, 1, 1, 1, 1))).toThrow(/bar times must increase/);
    const two = new SimVenue({ instruments: { a: rules, b: rules } });
    expect(() => two.onBar(bar(0, 1, 1, 1, 1))).toThrow(/needs an instrument/);
    two.onBar(bar(0, 1, 1, 1, 1), 'a');
    expect(two.lastClose('a')).toBe(1);
    expect(two.lastClose('b')).toBeUndefined();
  });

  it('validates its configuration and rejects unknown keys, naming the field', () => {
    expect(() => parseSimVenueConfig({ instruments: { gas: rules }, feeBsp: '1' }, { file: 'x.yaml', field: 'venue' })).toThrow(/x\.yaml: field "venue\.feeBsp"/);
    expect(() => parseSimVenueConfig({ instruments: { gas: { ...rules, lotStep: '0' } } })).toThrow(/instruments\.gas\.lotStep.*greater than zero/);
    expect(() => parseSimVenueConfig({ instruments: { gas: rules }, participationRate: '1.5' })).toThrow(/participationRate/);
  });

  it('takes instrument rules it parsed before as parsed then, and parses them again once a field changes', () => {
    const gas: Record<string, unknown> = { lotStep: D('0.5'), tickSize: '0.01', minNotional: 5 };
    const first = parseSimVenueConfig({ instruments: { gas, oil: gas }, feeBps: '2' });
    const again = parseSimVenueConfig({ instruments: { oil: gas, gas }, feeBps: '3', marketFill: 'next-close' });
    expect(again.instruments['gas']).toBe(again.instruments['oil']);
    expect([first.instruments['gas'], first.instruments['oil']]).toContain(again.instruments['gas']);
    expect(again.instruments['gas']!.lotStep.toString()).toBe('0.5');
    expect(Object.keys(again.instruments)).toEqual(['oil', 'gas']);
    expect(again.feeBps.toString()).toBe('3');
    expect(again.marketFill).toBe('next-close');
    expect(again.instruments['oil']!.minQty.toString()).toBe('0');
    // The settings besides the instruments are still checked, and named.
    expect(() => parseSimVenueConfig({ instruments: { gas }, feeBsp: '1' })).toThrow(/feeBsp/);
    expect(() => parseSimVenueConfig({ instruments: { '': gas } })).toThrow(/instruments/);
    gas['lotStep'] = '0';
    expect(() => parseSimVenueConfig({ instruments: { gas } })).toThrow(/instruments\.gas\.lotStep.*greater than zero/);
    gas['lotStep'] = '2';
    expect(parseSimVenueConfig({ instruments: { gas } }).instruments['gas']!.lotStep.toString()).toBe('2');
    gas['color'] = 'blue';
    expect(() => parseSimVenueConfig({ instruments: { gas } })).toThrow(/unknown key/);
  });

  it('lists its assumptions in words, with the configured numbers', () => {
    const text = venue({ feeBps: '7.5', feeFixed: '1.25', slippageBps: '3', participationRate: '0.2', expireAfterBars: 4 }).assumptions().join('\n');
    expect(text).toMatch(/next bar's open/);
    expect(text).toMatch(/7\.5 bps/);
    expect(text).toMatch(/1\.25 fixed per order/);
    expect(text).toMatch(/3 bps slippage/);
    expect(text).toMatch(/20 % of it/);
    expect(text).toMatch(/after 4 bar/);
    expect(text).toMatch(/gas \(gas\): lot step 1, tick 0\.01, min qty 1, min notional 10/);
  });

  it('is deterministic: the same bars and orders give the same reports', async () => {
    const run = async () => {
      const v = venue({ participationRate: '0.3', slippageBps: '2', feeBps: '5' });
      const out: unknown[] = [];
      for (let i = 0; i < 20; i += 1) {
        v.onBar(bar(i, 100 + Math.sin(i) * 5, 106, 94, 100, 30 + i));
        if (i % 4 === 0) out.push(await v.submit({ ...order(i % 8 === 0 ? 'buy' : 'sell', '13'), clientOrderId: `pc-d${i}` }));
      }
      for (let i = 0; i < 20; i += 4) out.push(await v.lookup(`pc-d${i}`, 'gas'));
      return JSON.stringify(out);
    };
    expect(await run()).toBe(await run());
  });

  it('cancels working orders keeping partial fills, and leaves terminal ones alone', async () => {
    const v = venue({ participationRate: '0.1' });
    v.onBar(bar(0, 10, 10, 10, 10, 100));
    const o = order('buy', '25');
    await v.submit(o);
    v.onBar(bar(1, 10, 10, 10, 10, 100));
    const c = (await v.cancel(o.clientOrderId, 'gas'))!;
    expect([c.status, c.filledQty.toString()]).toEqual(['cancelled', '10']);
    v.onBar(bar(2, 10, 10, 10, 10, 100));
    expect((await v.lookup(o.clientOrderId, 'gas'))!.filledQty.toString()).toBe('10');
  });
});

describe('SimVenue.forget', () => {
  it('drops a final order and keeps a working one', async () => {
    const v = venue();
    v.onBar(bar(0, 100, 101, 99, 100));
    const market = order('buy', '5');
    const limit = order('buy', '5', '90');
    await v.submit(market);
    await v.submit(limit);
    v.forget(market.clientOrderId); // still working: kept
    v.onBar(bar(1, 100, 101, 99, 100));
    expect((await v.lookup(market.clientOrderId, 'gas'))!.status).toBe('filled');
    v.forget(market.clientOrderId);
    v.forget(limit.clientOrderId);
    expect(await v.lookup(market.clientOrderId, 'gas')).toBeUndefined();
    expect((await v.lookup(limit.clientOrderId, 'gas'))!.status).toBe('open');
    expect(v.workingCount).toBe(1);
  });
});
