import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import type { Intent, SignalView, Strategy } from '../../src/engine/strategy.js';
import maProcurement from '../../strategies/ma-procurement.js';
import { parseStrategyParams } from '../../strategies/index.js';
import { contextSequenceArb, DAY, makeContext, qtyOf, T0, type ContextSpec } from './context.js';

const create = (raw: unknown = {}): Strategy => {
  const parsed = parseStrategyParams(maProcurement, raw);
  if (!parsed.ok) throw new Error(`${parsed.field}: ${parsed.message}`);
  return maProcurement.create(parsed.params);
};

/**
 * Decides on a bar whose signal history holds `bars` earlier daily bars of a fast average
 * growing linearly by `growth` of the first value per day (100, 101, 102, ... for 0.01);
 * returns that bar's intents. The history comes with the signal (the desk keeps it), so the
 * strategy needs no memory of its own.
 */
function decideAfterTrend(strategy: Strategy, last: ContextSpec & { signal: Partial<SignalView> }, options: { bars?: number; growth?: number } = {}): readonly Intent[] {
  const bars = options.bars ?? 5;
  const growth = options.growth ?? 0.01;
  const at = T0 + bars * DAY;
  const fastHistory = Array.from({ length: bars }, (_, k) => ({ at: T0 + k * DAY - DAY, fast: 100 * (1 + growth * k) }));
  return strategy.decide(
    makeContext({ marketUnitPrice: 100, carryingPerUnitDay: '0.5', ...last, at, fastHistory, signal: { fast: 100 * (1 + growth * bars), slow: 100, ...last.signal } }),
  );
}

describe('ma-procurement', () => {
  it('on a cross up buys ahead to maxCoverDays when price x drift beats the carrying cost', () => {
    // drift 1 %/day x price 100 = 1 per unit-day > carrying 0.5
    const intents = decideAfterTrend(create({ maxCoverDays: 60 }), { onHand: 100, signal: { state: 1, crossing: 'up' } });
    expect(intents).toHaveLength(1);
    const intent = intents[0]!;
    expect(intent).toMatchObject({ strategy: 'ma-procurement', side: 'buy', reason: 'procure', instrument: 'NG-SPOT', discretionary: true });
    expect(intent.qty?.toString()).toBe('500'); // 60 days x 10 - 100
    const cost = intent.cause.cost!;
    expect(Number(cost.driftPerDay)).toBeCloseTo(0.01, 12);
    expect(Number(cost.expectedRisePerUnitDay)).toBeCloseTo(1, 10);
    expect(cost.carryingPerUnitDay).toBe('0.5');
    expect(cost.holdDays).toBe('50');
    expect(cost.carryingPerUnit).toBe('25');
    expect(Number(cost.expectedRisePerUnit)).toBeCloseTo(50, 8);
    expect(intent.cause.signal).toMatchObject({ state: 1, crossing: 'up', barAt: T0 + 5 * DAY });
    expect(intent.cause.note).toMatch(/buy ahead/);
  });

  it('does not buy ahead when the carrying cost exceeds the expected rise', () => {
    const intents = decideAfterTrend(create(), { onHand: 100, carryingPerUnitDay: '1.5', signal: { state: 1, crossing: 'up' } });
    expect(intents).toEqual([]);
  });

  it('does not buy ahead at or above the price cap, and does under it', () => {
    for (const [cap, buys] of [['99', false], ['100', false], ['101', true]] as const) {
      const intents = decideAfterTrend(create(), { onHand: 100, priceCap: cap, signal: { state: 1, crossing: 'up' } });
      expect(intents.length > 0, `cap ${cap}`).toBe(buys);
    }
  });

  it('does not buy ahead on a cross down, nor while merely up unless buyWhileUp', () => {
    expect(decideAfterTrend(create(), { onHand: 100, signal: { state: 0, crossing: 'down' } })).toEqual([]);
    expect(decideAfterTrend(create(), { onHand: 100, signal: { state: 1, crossing: undefined } })).toEqual([]);
    expect(qtyOf(decideAfterTrend(create({ buyWhileUp: true }), { onHand: 100, signal: { state: 1, crossing: undefined } })).toString()).toBe('500');
  });

  it('does not buy ahead on a falling trend or before trendBars bars of history exist', () => {
    expect(decideAfterTrend(create(), { onHand: 100, signal: { state: 1, crossing: 'up' } }, { growth: -0.01 })).toEqual([]);
    expect(decideAfterTrend(create({ trendBars: 5 }), { onHand: 100, signal: { state: 1, crossing: 'up' } }, { bars: 4 })).toEqual([]);
    expect(qtyOf(decideAfterTrend(create({ trendBars: 4 }), { onHand: 100, signal: { state: 1, crossing: 'up' } }, { bars: 4 })).toString()).toBe('500');
  });

  it('forces a buy at the reorder point whatever the signal', () => {
    const signals: Partial<SignalView>[] = [
      { state: undefined, crossing: undefined, fast: Number.NaN, slow: Number.NaN },
      { state: 0, crossing: 'down', fast: 90, slow: 100 },
      { state: 0, crossing: undefined, fast: 90, slow: 100 },
      { state: 1, crossing: 'up', fast: 110, slow: 100 },
    ];
    for (const signal of signals) {
      // carrying far above any rise, so only the forced rule can buy
      const intents = create().decide(makeContext({ onHand: 25, onOrder: 15, reorderPoint: 40, carryingPerUnitDay: 1_000, signal }));
      expect(intents.map((i) => [i.reason, i.qty?.toString()])).toEqual([['forced-reorder', '70']]); // 40 + 7 x 10 - 40
      // Buying for consumption is never held to the price cap; only buying ahead is.
      expect(intents.every((i) => i.discretionary !== true)).toBe(true);
    }
    expect(create().decide(makeContext({ onHand: 41, reorderPoint: 40, signal: { state: 0, crossing: 'down' } }))).toEqual([]);
  });

  it('a forced buy and a buy-ahead on the same bar together stop at maxCoverDays', () => {
    const intents = decideAfterTrend(create({ maxCoverDays: 30, orderUpToDays: 7 }), { onHand: 30, reorderPoint: 40, signal: { state: 1, crossing: 'up' } });
    expect(intents.map((i) => [i.reason, i.qty?.toString()])).toEqual([
      ['forced-reorder', '80'],
      ['procure', '190'],
    ]);
    expect(qtyOf(intents).plus(30).toString()).toBe('300');
  });

  it('decides from the signal history alone: a fresh strategy (a restarted process) buys like one that ran for days', () => {
    const history = Array.from({ length: 5 }, (_, k) => ({ at: T0 + (k - 1) * DAY, fast: 100 + k }));
    const decision = makeContext({ at: T0 + 5 * DAY, onHand: 100, marketUnitPrice: 100, carryingPerUnitDay: '0.5', fastHistory: history, signal: { state: 1, crossing: 'up', fast: 105, slow: 100 } });
    expect(qtyOf(create().decide(decision), 'procure').toString()).toBe('500');
    // Earlier decisions without that history teach it nothing: no memory of its own.
    const seasoned = create();
    for (let k = 0; k < 5; k += 1) seasoned.decide(makeContext({ at: T0 + k * DAY, onHand: 1_000, signal: { state: 0, fast: 100 + k, slow: 200 } }));
    const withoutHistory = makeContext({ at: T0 + 5 * DAY, onHand: 100, marketUnitPrice: 100, carryingPerUnitDay: '0.5', signal: { state: 1, crossing: 'up', fast: 105, slow: 100 } });
    expect(qtyOf(seasoned.decide(withoutHistory), 'procure').toString()).toBe('0');
  });

  it('never buys ahead past maxCoverDays of cover (random sequences)', () => {
    // Random walks of the fast average with frequent crosses up, so buy-aheads do happen.
    const barArb = fc.record({
      fastStep: fc.integer({ min: -2, max: 5 }),
      crossUp: fc.boolean(),
      onHand: fc.integer({ min: 0, max: 3_000 }),
      onOrder: fc.integer({ min: 0, max: 500 }),
      dailyConsumption: fc.integer({ min: 0, max: 50 }),
      reorderPoint: fc.integer({ min: 0, max: 400 }),
      carryingMilli: fc.integer({ min: 0, max: 2_000 }),
      priceCap: fc.option(fc.integer({ min: 50, max: 200 }), { nil: undefined }),
    });
    let buyAheads = 0;
    fc.assert(
      fc.property(fc.array(barArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 120 }), fc.boolean(), (bars, maxCoverDays, buyWhileUp) => {
        const strategy = create({ maxCoverDays, orderUpToDays: Math.min(7, maxCoverDays), trendBars: 2, buyWhileUp });
        let fast = 100;
        const fastHistory: { at: number; fast: number }[] = [];
        bars.forEach((bar, day) => {
          fast = Math.max(1, fast + bar.fastStep);
          const context = makeContext({
            at: T0 + day * DAY,
            fastHistory: [...fastHistory],
            signal: { state: bar.crossUp ? 1 : 0, crossing: bar.crossUp ? 'up' : undefined, fast, slow: 100 },
            onHand: bar.onHand,
            onOrder: bar.onOrder,
            dailyConsumption: bar.dailyConsumption,
            reorderPoint: bar.reorderPoint,
            marketUnitPrice: 100,
            carryingPerUnitDay: new Decimal(bar.carryingMilli).dividedBy(1000),
            priceCap: bar.priceCap,
          });
          fastHistory.push({ at: context.signal.barAt, fast });
          const intents = strategy.decide(context);
          for (const intent of intents) expect(intent.qty!.greaterThan(0)).toBe(true);
          if (intents.some((i) => i.reason === 'procure')) {
            buyAheads += 1;
            const after = context.inventory.onHand.plus(context.inventory.onOrder).plus(qtyOf(intents));
            expect(after.lessThanOrEqualTo(context.inventory.dailyConsumption.times(maxCoverDays))).toBe(true);
            expect(context.signal.crossing === 'up' || (buyWhileUp && context.signal.state === 1)).toBe(true);
            if (context.cost.priceCap !== undefined) expect(context.cost.marketUnitPrice.lessThan(context.cost.priceCap)).toBe(true);
          }
        });
      }),
      { numRuns: 300 },
    );
    // The property must have been exercised, not vacuously true.
    expect(buyAheads).toBeGreaterThan(50);
  });

  it('only positive quantities on random whole contexts', () => {
    fc.assert(
      fc.property(contextSequenceArb(20), (contexts) => {
        const strategy = create({ trendBars: 2, buyWhileUp: true });
        for (const context of contexts) {
          for (const intent of strategy.decide(context)) expect(intent.qty!.greaterThan(0)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('asks the engine for its signal windows', () => {
    const parsed = parseStrategyParams(maProcurement, { fast: 10, slow: 40, ma: 'ema' });
    if (!parsed.ok) throw new Error(parsed.message);
    expect(maProcurement.needs(parsed.params)).toEqual({ signal: { fast: 10, slow: 40, ma: 'ema' } });
  });
});
