/**
 * cost-aware against hand-worked figures: EOQ, carrying at market, the critical ratio and its
 * safety factor, the skill from a hit rate, the extra cover sized by the margin (never all or
 * nothing), and the intents with the figures that justified them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import costAware, { carryingAtMarket, criticalRatio, decideCostAware, economicOrderQty, extraCoverDays, skillOf, type CostAwareInputs } from '../../strategies/cost-aware.js';
import { makeContext, T0, DAY } from './context.js';

const P = { minTrials: 50, maxCoverDays: 60, maxZ: 3.5 };

describe('cost-aware arithmetic', () => {
  it('EOQ is sqrt(2 D K / h); none without a fixed order cost', () => {
    expect(economicOrderQty(1000, 50, 0.01)).toBeCloseTo(Math.sqrt(1e7), 9); // 3162.28 units: 3.16 days of demand
    expect(economicOrderQty(1000, 0, 0.01)).toBe(0);
  });

  it('carrying at market is price x rate / 365 + storage', () => {
    expect(carryingAtMarket(4, 0.12, 0.003)).toBeCloseTo(4 * 0.12 / 365 + 0.003, 15);
  });

  it('the critical ratio weighs the emergency premium against a cycle of carrying', () => {
    // Ammonia-like: 35 % premium on 4 USD = 1.40 short, 0.0041 a day held over.
    const { ratio, z } = criticalRatio(1.4, 0.0041, 3.5);
    expect(ratio).toBeCloseTo(1.4 / 1.4041, 12);
    expect(z).toBeCloseTo(2.7566, 3); // inverse normal of 0.99708
    expect(criticalRatio(1, 1, 3.5).z).toBe(0); // 50 %: no safety stock
    expect(criticalRatio(1e9, 1e-9, 3.5).z).toBe(3.5); // capped
  });

  it('skill is 2 x hit rate - 1, nothing below the minimum of scored predictions or for a coin toss', () => {
    expect(skillOf(70, 100, 50)).toBeCloseTo(0.4, 12);
    expect(skillOf(70, 40, 50)).toBe(0);
    expect(skillOf(45, 100, 50)).toBe(0);
  });

  it('extra cover is tau x ln(rise / carrying), zero once the margin is gone, capped', () => {
    expect(extraCoverDays(0.02, 0.005, 20, 60)).toBeCloseTo(20 * Math.log(4), 12); // 27.7 days
    expect(extraCoverDays(0.005, 0.005, 20, 60)).toBe(0);
    expect(extraCoverDays(1, 0.001, 20, 60)).toBe(60);
  });

  it('grows with the margin, continuously: never all or nothing', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.1, noNaN: true }), fc.double({ min: 0, max: 0.05, noNaN: true }), (h, extra) => {
        const a = extraCoverDays(h * 1.01 + extra, h, 20, 1e9);
        const b = extraCoverDays(h * 1.01 + extra * 1.1 + 1e-6, h, 20, 1e9);
        expect(b).toBeGreaterThanOrEqual(a);
        expect(a).toBeLessThan(20 * Math.log(1.01 + extra / h) + 1e-9);
      }),
    );
  });
});

describe('cost-aware decision, worked by hand', () => {
  const base: CostAwareInputs = {
    dailyDemand: 100,
    sigmaLeadTimeDemand: 50,
    leadTimeDays: 5,
    sigmaLeadTimeDays: 0,
    position: 400,
    price: 10,
    priceCap: undefined,
    carryingAnnualRate: 0.1,
    storagePerUnitDay: 0.001,
    orderFixedCost: 0,
    emergencyPremium: 0.25,
    risePerUnitDay: undefined,
    hits: 0,
    trials: 0,
    meanRiseAfterUp: 0,
    tauDays: 20,
  };
  const h = (10 * 0.1) / 365 + 0.001; // 0.0037397 per unit-day
  const cr = 2.5 / (2.5 + h); // premium 2.50 against one day of carrying
  it('orders up to the reorder point + a day, with the critical-ratio safety stock', () => {
    const x = decideCostAware(base, P);
    expect(x.carryingPerUnitDay).toBeCloseTo(h, 15);
    expect(x.cycleDays).toBe(1);
    expect(x.criticalRatio).toBeCloseTo(cr, 12);
    expect(x.z).toBeGreaterThan(2.96);
    expect(x.z).toBeLessThan(2.98);
    // z x sigma_LT = 148.5 of protection, of which the day the rule keeps on top gives 100.
    expect(x.safetyStock).toBeCloseTo(50 * x.z - 100, 9);
    expect(x.reorderPoint).toBeCloseTo(500 + 50 * x.z - 100, 9);
    expect(x.baseQty).toBeCloseTo(500 + (50 * x.z - 100) + 100 - 400, 9);
    expect(x.aheadQty).toBe(0);
    // Above reorder point + a day: nothing.
    expect(decideCostAware({ ...base, position: 800 }, P).baseQty).toBe(0);
  });

  it('counts the day of demand it keeps on top towards the protection: no safety stock when z x sigma_LT is below a day', () => {
    const x = decideCostAware({ ...base, sigmaLeadTimeDemand: 30 }, P);
    expect(x.safetyStock).toBe(0); // 2.97 x 30 = 89 < 100
    expect(x.reorderPoint).toBe(500);
    expect(x.orderUpTo).toBe(600);
    expect(x.baseQty).toBe(200);
  });

  it('once deliveries came late (sigma_L > 0), keeps the whole z x sigma_LT on top of the day, which covers lateness', () => {
    const x = decideCostAware({ ...base, sigmaLeadTimeDays: 0.4 }, P);
    expect(x.safetyStock).toBeCloseTo(50 * x.z, 9);
    expect(x.reorderPoint).toBeCloseTo(500 + 50 * x.z, 9);
    expect(x.baseQty).toBeCloseTo(500 + 50 * x.z + 100 - 400, 9);
  });

  it('with a fixed fee, orders an EOQ cycle', () => {
    const x = decideCostAware({ ...base, orderFixedCost: 50 }, P);
    const eoq = Math.sqrt((2 * 100 * 50) / h); // 1635 units: 16.4 days
    expect(x.eoq).toBeCloseTo(eoq, 9);
    expect(x.cycleDays).toBeCloseTo(eoq / 100, 9);
    expect(x.orderUpTo).toBeCloseTo(x.reorderPoint + eoq, 9);
  });

  it('buys ahead for tau x ln(shrunk rise / carrying) days when the record says the signal has skill', () => {
    // Drift says 0.05 a unit-day; the rises that followed were 10 % over 20 days, 0.05 a day too; 70 of 100 hits: skill 0.4.
    const x = decideCostAware({ ...base, risePerUnitDay: 0.05, meanRiseAfterUp: 0.1, hits: 70, trials: 100 }, P);
    expect(x.skill).toBeCloseTo(0.4, 12);
    expect(x.shrunkRisePerUnitDay).toBeCloseTo(0.02, 12);
    expect(x.extraDays).toBeCloseTo(20 * Math.log(0.02 / h), 9); // 33.5 days
    expect(x.aheadQty).toBeCloseTo(100 * x.extraDays, 6);
    // The realised record caps an optimistic drift; a record of falls after rising signals stops it.
    expect(decideCostAware({ ...base, risePerUnitDay: 0.5, meanRiseAfterUp: 0.1, hits: 70, trials: 100 }, P).shrunkRisePerUnitDay).toBeCloseTo(0.02, 12);
    expect(decideCostAware({ ...base, risePerUnitDay: 0.05, meanRiseAfterUp: -0.01, hits: 70, trials: 100 }, P).aheadQty).toBe(0);
    // A coin toss, too few trials, or a price above the cap: nothing ahead.
    expect(decideCostAware({ ...base, risePerUnitDay: 0.05, meanRiseAfterUp: 0.1, hits: 50, trials: 100 }, P).aheadQty).toBe(0);
    expect(decideCostAware({ ...base, risePerUnitDay: 0.05, meanRiseAfterUp: 0.1, hits: 30, trials: 40 }, P).aheadQty).toBe(0);
    expect(decideCostAware({ ...base, risePerUnitDay: 0.05, meanRiseAfterUp: 0.1, hits: 70, trials: 100, priceCap: 9 }, P).aheadQty).toBe(0);
  });
});

describe('cost-aware strategy', () => {
  it('states the figures that justified each intent; buying ahead is discretionary', () => {
    const strategy = costAware.create(costAware.params.parse({ minTrials: 50 }));
    const context = makeContext({
      at: T0 + 40 * DAY,
      onHand: 300,
      onOrder: 100,
      dailyConsumption: 100,
      leadTimeDays: 5,
      sigmaLeadTimeDemand: 50,
      marketUnitPrice: 10,
      carryingAnnualRate: '0.1',
      storagePerUnitDay: '0.001',
      emergencyPremium: '0.25',
      signal: { state: 1, fast: 11, slow: 10, barAt: T0 + 39 * DAY, track: { trials: 100, hits: 70, trendBars: 5, horizonBars: 20, meanRiseAfterUp: 0.1 } },
      fastHistory: [0, 1, 2, 3, 4, 5].map((k) => ({ at: T0 + (33 + k) * DAY, fast: 10 + k * 0.05 })),
    });
    const intents = strategy.decide(context);
    expect(intents.map((i) => [i.reason, i.discretionary === true])).toEqual([
      ['procure', false],
      ['procure', true],
    ]);
    expect(Object.keys(intents[0]!.cause.cost!)).toEqual(expect.arrayContaining(['eoq', 'criticalRatio', 'z', 'safetyStock', 'costAwareReorderPoint', 'carryingPerUnitDayAtMarket']));
    expect(intents[1]!.cause.cost).toMatchObject({ trackHits: '70', trackTrials: '100', skill: '0.3999999999999999' });
    expect(Number(intents[1]!.cause.cost!.extraCoverDays)).toBeGreaterThan(0);
    expect(intents[1]!.cause.note).toMatch(/^buy ahead [\d.]+ days: rise .* \(shrunk by skill 0\.400 from 70\/100 hits\)/);
  });
});
