/**
 * The feed's scaled-integer paths (exact engine round 3) give the figures the Decimal code gave:
 * the generated plan (ratePerDay x factor rounded half-even), stocks summed from the journal's
 * scaled integers, sigma_L for receipts that all took the same number of days, and the exposure
 * worked out on Fixed forms of its inputs (round 7).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { Random as RandomFor } from '../../src/core/random.js';
import { DAY_MS, parseTime } from '../../src/core/time.js';
import { exposureQty, sigmaFromSums } from '../../src/costfeed/inventory-math.js';
import { CostFeed, ProductionPlan, planFromRate, type MaterialCost, type MaterialNumbers } from '../../src/costfeed/index.js';
import { Ledger, parseEvents, parsePlant } from '../../src/ledger/index.js';

const plant = parsePlant(
  [
    'currency: USD',
    'backflush: purchase-completion-sale',
    'materials:',
    '  - { id: tv, unit: set, standardCost: "100", leadTimeDays: 7, serviceLevel: "0.98" }',
    'products:',
    '  - { id: sale, unit: set, conversionCost: "2.5", bom: [ { material: tv, qty: "1.25", scrap: "0.04" } ] }',
  ].join('\n'),
  'scaled.yaml',
);
const from = parseTime('2024-01-01', {});
const day = (i: number): string => new Date(from + i * DAY_MS).toISOString().slice(0, 10);

describe('the feed in scaled integers gives the Decimal figures', () => {
  it('planFromRate: ratePerDay x factor (9 places) rounded half-even, as decimal.js computes it', () => {
    const rate = fc.tuple(fc.integer({ min: 0, max: 10 ** 9 }), fc.integer({ min: 0, max: 6 })).map(([n, e]) => new Decimal(n).dividedBy(10 ** e));
    fc.assert(
      fc.property(rate, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 6 }), (ratePerDay, noise, seed, places) => {
        const plan = planFromRate({ product: 'sale', from, days: 40, ratePerDay, noise, seed, places }, plant);
        // The Decimal formula, with the same draws.
        const factors = factorsOf(noise, seed, 40);
        plan.rows.forEach((row, i) => {
          expect(row.qty.toFixed()).toBe(ratePerDay.times(new Decimal(factors[i]!.toFixed(9))).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN).toFixed());
        });
      }),
      { numRuns: 200 },
    );
  });

  it('stocks and forecasts: the scaled sums equal the Decimal sums of the same movements', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 10 ** 7 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 25 }), (completions) => {
        const events: object[] = [{ type: 'purchase', id: 'p', at: day(0), material: 'tv', qty: '1234567890.789', unitPrice: '99.5' }];
        let expected = new Decimal('1234567890.789');
        let made = new Decimal(0);
        completions.forEach(([n, e], i) => {
          const qty = new Decimal(n).dividedBy(10 ** e);
          events.push({ type: 'completion', id: `c${i}`, at: day(1 + i), product: 'sale', qty: qty.toFixed() });
          expected = expected.minus(qty.times('1.25').times('1.04'));
          made = made.plus(qty);
        });
        const ledger = Ledger.inMemory(plant);
        ledger.post(parseEvents(events.map((e) => JSON.stringify(e)).join('\n'), 'events.jsonl', plant));
        const plan = ProductionPlan.fromArrays({ at: Array.from({ length: 60 }, (_, i) => from + i * DAY_MS), product: 'sale', qty: Array.from({ length: 60 }, (_, i) => new Decimal(i % 3).plus('0.333')) }, plant);
        const snapshot = new CostFeed({ plant, ledger, plan, prices: new Map(), horizonDays: 30 }).snapshot(from + 30 * DAY_MS);
        const tv = snapshot.materials.tv!;
        expect(tv.onHand.toFixed()).toBe(expected.toFixed());
        let forecast = new Decimal(0);
        for (let i = 30; i < 60; i += 1) forecast = forecast.plus(new Decimal(i % 3).plus('0.333').times(new Decimal('1.25').times(new Decimal('0.04').plus(1))));
        expect(tv.forecastQty.toFixed()).toBe(forecast.toFixed());
        expect(snapshot.products.sale!.onHand.toFixed()).toBe(made.toFixed());
      }),
      { numRuns: 40 },
    );
  });

  it('exposureQty on Fixed forms: the Decimal formula\'s value for long, negative and zero on-order and hedged quantities, one Decimal per value', () => {
    const ledger = Ledger.inMemory(plant);
    ledger.post(parseEvents(JSON.stringify({ type: 'purchase', id: 'p', at: day(0), material: 'tv', qty: '12.5', unitPrice: '99.5' }), 'events.jsonl', plant));
    const plan = ProductionPlan.fromArrays({ at: Array.from({ length: 40 }, (_, i) => from + i * DAY_MS), product: 'sale', qty: Array.from({ length: 40 }, () => new Decimal('1.5')) }, plant);
    // Up to 30 digits (beyond a safe integer: the Fixed falls back to decimal.js), either sign.
    const quantity = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 12 })).map(([n, e]) => new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)));
    fc.assert(
      fc.property(quantity, quantity, fc.boolean(), (onOrder, hedged, small) => {
        const o = small ? new Decimal(onOrder.toFixed(2)).mod(50) : onOrder;
        const h = small ? new Decimal(hedged.toFixed(1)).mod(10) : hedged;
        const feed = new CostFeed({ plant, ledger, plan, prices: new Map(), horizonDays: 30, onOrder: () => o, hedged: () => h });
        const first = feed.snapshot(from + 5 * DAY_MS).materials.tv! as MaterialCost & MaterialNumbers;
        const expected = exposureQty(first.forecastQty, first.onHand, first.onOrder, first.hedged);
        // Its double without the Decimal (read first, before the Decimal is made) is the Decimal's
        // toNumber, zero's sign aside (the daily record takes a zero from the Decimal).
        expect(Object.is(first.numberOf('exposureQty'), expected.toNumber() || 0)).toBe(true);
        expect(first.exposureQty.toFixed()).toBe(expected.toFixed());
        expect(first.exposureQty.isNegative()).toBe(false);
        // The next day, the same inputs: the same Decimal object.
        const second = feed.snapshot(from + 6 * DAY_MS).materials.tv!;
        expect(second.exposureQty.toFixed()).toBe(exposureQty(second.forecastQty, second.onHand, second.onOrder, second.hedged).toFixed());
        expect(Object.is((second as MaterialCost & MaterialNumbers).numberOf('exposureQty'), second.exposureQty.toNumber())).toBe(true);
        if (second.exposureQty.eq(first.exposureQty)) expect(second.exposureQty).toBe(first.exposureQty);
      }),
      { numRuns: 300 },
    );
  });

  it('receipts that all took the same days: sigma_L is zero, as the sums give it', () => {
    const ledger = Ledger.inMemory(plant);
    ledger.post(parseEvents(JSON.stringify({ type: 'purchase', id: 'p', at: day(0), material: 'tv', qty: '10', unitPrice: '99.5' }), 'events.jsonl', plant));
    const plan = ProductionPlan.fromArrays({ at: [from], product: 'sale', qty: [new Decimal(10)] }, plant);
    for (const [count, q] of [[5, 3], [7, 4], [1, 0], [12, 11]] as const) {
      const record = { count, sumDays: q * count, sumSquaresDays: q * q * count };
      const tv = new CostFeed({ plant, ledger, plan, prices: new Map(), leadTimes: () => record, minReceipts: 1 }).snapshot(from + DAY_MS).materials.tv!;
      expect(tv.sigmaLeadTimeSource).toBe('receipts');
      expect(tv.sigmaLeadTimeDays.toFixed()).toBe(sigmaFromSums(count, new Decimal(record.sumDays), new Decimal(record.sumSquaresDays)).toFixed());
      expect(tv.sigmaLeadTimeDays.toFixed()).toBe('0');
    }
    // Not all the same (3, 3, 4): computed from the sums.
    const record = { count: 3, sumDays: 10, sumSquaresDays: 34 };
    const tv = new CostFeed({ plant, ledger, plan, prices: new Map(), leadTimes: () => record, minReceipts: 1 }).snapshot(from + DAY_MS).materials.tv!;
    expect(tv.sigmaLeadTimeDays.toFixed()).toBe(sigmaFromSums(3, new Decimal(10), new Decimal(34)).toFixed());
  });
});

/** The factors planFromRate draws (core/random.ts's normal(), seeded), as plan.ts computes them. */
function factorsOf(noise: number, seed: number, days: number): number[] {
  const random = new RandomFor(seed);
  return Array.from({ length: days }, () => (noise === 0 ? 1 : Math.max(0, 1 + noise * random.normal())));
}
