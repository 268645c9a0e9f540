import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import type { Intent, Strategy } from '../../src/engine/strategy.js';
import jit from '../../strategies/jit.js';
import maHedge from '../../strategies/ma-hedge.js';
import { parseStrategyParams } from '../../strategies/index.js';
import { contextSpecArb, DAY, makeContext, plain, T0, type ContextSpec } from './context.js';
import { QTY_SNAP } from '../../strategies/common.js';

const create = (raw: unknown = {}): Strategy => {
  const parsed = parseStrategyParams(maHedge, raw);
  if (!parsed.ok) throw new Error(`${parsed.field}: ${parsed.message}`);
  return maHedge.create(parsed.params);
};

/** A context well stocked (no jit buy), no margin at risk, exposure 1000 with `position` of it already hedged. */
const hedgeContext = (position: number, spec: ContextSpec = {}) =>
  makeContext({ onHand: 1_000, exposureQty: 1_000 - position, hedge: { position }, marketUnitPrice: 3, standardUnitCost: '3.5', ...spec });

const hedges = (intents: readonly Intent[]) => intents.filter((i) => i.instrument === 'NG-FUT');
const targetOf = (intents: readonly Intent[]) => {
  const found = hedges(intents);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('ma-hedge', () => {
  it('starts at baseRatio of the exposure with a targetQty intent on the hedge instrument', () => {
    const intent = targetOf(create().decide(hedgeContext(0)));
    expect(intent).toMatchObject({ strategy: 'ma-hedge', instrument: 'NG-FUT', side: 'buy', reason: 'hedge' });
    expect(intent.targetQty?.toString()).toBe('500');
    expect(intent.qty).toBeUndefined();
    expect(intent.cause.cost).toMatchObject({ hedgeRatio: '0.5', exposureQty: '1000', hedgePosition: '0', marginAtRisk: 'false' });
  });

  it('raises the ratio on a cross up, holds it, and lowers it on a cross down (unwind)', () => {
    const strategy = create();
    let at = T0;
    const next = (position: number, crossing: 'up' | 'down' | undefined) =>
      strategy.decide(hedgeContext(position, { at: (at += DAY), signal: { state: crossing === 'down' ? 0 : 1, crossing, fast: 3, slow: 3 } }));
    expect(targetOf(next(500, 'up')).targetQty?.toString()).toBe('800');
    expect(hedges(next(800, undefined))).toEqual([]);
    const unwind = targetOf(next(800, 'down'));
    expect(unwind).toMatchObject({ side: 'sell', reason: 'unwind' });
    expect(unwind.targetQty?.toString()).toBe('300');
    expect(hedges(next(300, undefined))).toEqual([]);
  });

  it('adds marginAtRiskStep while the market price is above the standard cost', () => {
    const intent = targetOf(create().decide(hedgeContext(0, { marketUnitPrice: 4, standardUnitCost: '3.5' })));
    expect(intent.targetQty?.toString()).toBe('600');
    expect(intent.cause.cost).toMatchObject({ marginAtRisk: 'true', hedgeRatio: '0.6' });
    expect(intent.cause.note).toMatch(/margin at risk/);
  });

  it('never goes above maxRatio', () => {
    const strategy = create({ baseRatio: 0.5, upRatio: 0.9, maxRatio: 0.9, marginAtRiskStep: 0.3 });
    const intent = targetOf(strategy.decide(hedgeContext(0, { marketUnitPrice: 5, signal: { state: 1, crossing: 'up', fast: 3, slow: 3 } })));
    expect(intent.targetQty?.toString()).toBe('900');
    const full = create({ upRatio: 1, marginAtRiskStep: 0.5 });
    expect(targetOf(full.decide(hedgeContext(0, { marketUnitPrice: 5, signal: { state: 1, crossing: 'up', fast: 3, slow: 3 } }))).targetQty?.toString()).toBe('1000');
  });

  it('rebalances only outside the band', () => {
    // target 500 of 1000; band 5 % = 50
    expect(hedges(create().decide(hedgeContext(460)))).toEqual([]);
    expect(hedges(create().decide(hedgeContext(540)))).toEqual([]);
    expect(targetOf(create().decide(hedgeContext(440))).reason).toBe('hedge');
    expect(targetOf(create().decide(hedgeContext(560))).reason).toBe('unwind');
  });

  it('unwinds when the exposure falls, down to zero when it is gone', () => {
    const strategy = create();
    // 500 hedged, the plan now needs only 400 beyond inventory: target 200
    const partial = targetOf(strategy.decide(hedgeContext(500, { exposureQty: -100, hedged: 500 })));
    expect(partial).toMatchObject({ side: 'sell', reason: 'unwind' });
    expect(partial.targetQty?.toString()).toBe('200');
    const gone = targetOf(strategy.decide(hedgeContext(500, { at: T0 + DAY, exposureQty: -700, hedged: 500 })));
    expect(gone).toMatchObject({ side: 'sell', reason: 'unwind' });
    expect(gone.targetQty?.toString()).toBe('0');
  });

  it('without a hedge instrument emits no hedge intents, and buys the material just in time', () => {
    const strategy = create();
    expect(strategy.decide(makeContext({ onHand: 1_000, exposureQty: 1_000, hedge: undefined }))).toEqual([]);
    const context = makeContext({ onHand: 5, exposureQty: 1_000, hedge: undefined });
    const intents = strategy.decide(context);
    const jitIntents = jit.create({}).decide(context);
    expect(jitIntents).toHaveLength(1);
    expect(plain(intents)).toEqual(plain(jitIntents.map((i) => ({ ...i, strategy: 'ma-hedge' }))));
  });

  it('never targets more than 100 % of the exposure, nor less than zero (random contexts and parameters)', () => {
    const paramsArb = fc
      .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }))
      .map((r) => r.sort((a, b) => a - b))
      .chain(([downRatio, baseRatio, upRatio, maxRatio]) =>
        fc.record({
          downRatio: fc.constant(downRatio!),
          baseRatio: fc.constant(baseRatio!),
          upRatio: fc.constant(upRatio!),
          maxRatio: fc.constant(maxRatio!),
          marginAtRiskStep: fc.double({ min: 0, max: 1, noNaN: true }),
          rebalanceBand: fc.double({ min: 0, max: 0.2, noNaN: true }),
        }),
      );
    let hedgeIntents = 0;
    fc.assert(
      fc.property(paramsArb, fc.array(contextSpecArb, { minLength: 1, maxLength: 20 }), (params, specs) => {
        const strategy = create(params);
        specs.forEach((spec, day) => {
          const context = makeContext({ ...spec, at: T0 + day * DAY, hedge: spec.hedge ?? { position: 0 } });
          const exposure = Decimal.max(0, context.inventory.exposureQty.plus(context.inventory.hedged));
          for (const intent of hedges(strategy.decide(context))) {
            hedgeIntents += 1;
            const target = intent.targetQty!;
            expect(target.isNegative()).toBe(false);
            expect(target.lessThanOrEqualTo(exposure)).toBe(true);
            // The rule's target in doubles, to 6 places: a double within QTY_SNAP of a 6-place figure is that figure.
            expect(target.lessThanOrEqualTo(exposure.times(params.maxRatio).plus(QTY_SNAP))).toBe(true);
            expect(intent.side).toBe(target.greaterThan(context.hedge!.position) ? 'buy' : 'sell');
          }
        });
      }),
      { numRuns: 300 },
    );
    expect(hedgeIntents).toBeGreaterThan(100);
  });

  it('asks the engine for its signal windows and hedging', () => {
    const parsed = parseStrategyParams(maHedge, {});
    if (!parsed.ok) throw new Error(parsed.message);
    expect(maHedge.needs(parsed.params)).toEqual({ signal: { fast: 20, slow: 50, ma: 'sma' }, hedging: true });
  });
});
