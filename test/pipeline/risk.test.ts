import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO } from '../../src/core/decimal.js';
import {
  checkDailyNotional,
  checkHedgeRatio,
  checkOrderNotional,
  checkPriceCap,
  checkPriceCollar,
  checkTradingState,
  parseRiskConfig,
  reducesPosition,
  riskAllows,
  runRiskChecks,
  type RiskInput,
} from '../../src/pipeline/risk.js';
import { D, intent, limits } from './fixtures.js';

const input = (overrides: Partial<RiskInput> = {}): RiskInput => ({
  intent: intent(),
  qty: D('100'),
  price: D('3'),
  notional: D('300'),
  position: ZERO,
  tradingState: 'active',
  dayNotional: ZERO,
  lastPrice: D('3'),
  ...overrides,
});
const L = limits();

describe('risk checks (each a recorded verdict)', () => {
  it('max notional per order', () => {
    expect(checkOrderNotional(L, input({ notional: D('10000') }))).toMatchObject({ check: 'order-notional', allowed: true });
    const denied = checkOrderNotional(L, input({ notional: D('10000.01') }));
    expect(denied).toMatchObject({ check: 'order-notional', allowed: false });
    expect(denied.reason).toMatch(/10000\.01 against limit 10000/);
  });

  it('max notional per day, counting what was sent today', () => {
    expect(checkDailyNotional(L, input({ dayNotional: D('24700'), notional: D('300') })).allowed).toBe(true);
    const denied = checkDailyNotional(L, input({ dayNotional: D('24700.5'), notional: D('300') }));
    expect(denied.allowed).toBe(false);
    expect(denied.reason).toMatch(/25000\.5 against limit 25000/);
  });

  it('hedge ratio never above the limit of exposure', () => {
    const hedge = intent({ reason: 'hedge' });
    expect(checkHedgeRatio(L, input({ intent: hedge, qty: D('100'), exposure: D('150'), hedgePosition: D('50') })).allowed).toBe(true);
    const over = checkHedgeRatio(L, input({ intent: hedge, qty: D('100.1'), exposure: D('150'), hedgePosition: D('50') }));
    expect(over.allowed).toBe(false);
    expect(over.reason).toMatch(/150\.1 against 1 x exposure 150/);
    const half = limits({ maxHedgeRatio: '0.5' });
    expect(checkHedgeRatio(half, input({ intent: hedge, qty: D('80'), exposure: D('150') })).allowed).toBe(false);
    expect(checkHedgeRatio(L, input({ intent: hedge, exposure: undefined })).reason).toMatch(/without an exposure/);
    // Shrinking an over-hedge is always allowed, and non-hedge intents are not concerned.
    expect(checkHedgeRatio(L, input({ intent: intent({ reason: 'hedge', side: 'sell' }), qty: D('10'), exposure: D('50'), hedgePosition: D('100') })).allowed).toBe(true);
    expect(checkHedgeRatio(L, input({ exposure: D('0') })).allowed).toBe(true);
  });

  it('price cap on buys from the target unit cost', () => {
    expect(checkPriceCap(L, input({ price: D('3.5'), priceCap: D('3.5') })).allowed).toBe(true);
    expect(checkPriceCap(L, input({ price: D('3.51'), priceCap: D('3.5') }))).toMatchObject({ allowed: false, reason: 'price 3.51 against cap 3.5' });
    expect(checkPriceCap(L, input({ intent: intent({ side: 'sell' }), price: D('9'), priceCap: D('3.5') })).allowed).toBe(true);
    expect(checkPriceCap(L, input({ price: D('9') })).allowed).toBe(true);
  });

  it('price collar against the last price', () => {
    expect(checkPriceCollar(L, input({ price: D('110'), lastPrice: D('100') })).allowed).toBe(true);
    const denied = checkPriceCollar(L, input({ price: D('89.99'), lastPrice: D('100') }));
    expect(denied.allowed).toBe(false);
    expect(denied.reason).toMatch(/10\.01 % from last 100, collar 10 %/);
    expect(checkPriceCollar(L, input({ lastPrice: ZERO })).allowed).toBe(false);
  });

  it('trading state: active, reducing-only, halted', () => {
    expect(checkTradingState(L, input()).allowed).toBe(true);
    expect(checkTradingState(L, input({ tradingState: 'halted' }))).toMatchObject({ allowed: false, reason: 'trading is halted' });
    const reducing = input({ tradingState: 'reducing-only', position: D('150'), intent: intent({ side: 'sell' }) });
    expect(checkTradingState(L, reducing).allowed).toBe(true);
    expect(checkTradingState(L, { ...reducing, qty: D('151') }).allowed).toBe(false);
    expect(checkTradingState(L, input({ tradingState: 'reducing-only' })).allowed).toBe(false);
    expect(checkTradingState(L, input({ tradingState: 'reducing-only', intent: intent({ reason: 'emergency' }) })).reason).toMatch(/exempt/);
    expect(checkTradingState(limits({ reducingOnlyExemptReasons: [] }), input({ tradingState: 'reducing-only', intent: intent({ reason: 'emergency' }) })).allowed).toBe(false);
  });

  it('reducesPosition only toward zero, never through it', () => {
    expect(reducesPosition(D(-5), 'buy', D(5))).toBe(true);
    expect(reducesPosition(D(-5), 'buy', D(6))).toBe(false);
    expect(reducesPosition(D(5), 'buy', D(1))).toBe(false);
    expect(reducesPosition(ZERO, 'sell', D(1))).toBe(false);
  });

  it('runs every check and reports all of them', () => {
    const verdicts = runRiskChecks(L, input({ tradingState: 'halted', notional: D('20000'), price: D('5'), priceCap: D('4') }));
    expect(verdicts.map((v) => v.check)).toEqual(['trading-state', 'order-notional', 'daily-notional', 'hedge-ratio', 'price-cap', 'price-collar']);
    expect(verdicts.filter((v) => !v.allowed).map((v) => v.check)).toEqual(['trading-state', 'order-notional', 'price-cap', 'price-collar']);
  });
});

describe('risk configuration', () => {
  it('fills defaults and freezes the result', () => {
    const parsed = parseRiskConfig({ maxOrderNotional: 5000, maxDailyNotional: '20000' });
    expect(parsed.maxHedgeRatio.toString()).toBe('1');
    expect(parsed.maxDeviationFromLast.toString()).toBe('0.1');
    expect(parsed.tradingState).toBe('active');
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it('rejects unknown keys and bad values, naming file and field', () => {
    expect(() => parseRiskConfig({ maxOrderNotional: '1', maxDailyNotional: '1', maxHedge: '1' }, { file: 'run.yaml', field: 'risk' })).toThrow(
      'run.yaml: field "risk.maxHedge": unknown key in risk limits',
    );
    expect(() => parseRiskConfig({ maxOrderNotional: '1', maxDailyNotional: '1', maxHedgeRatio: '1.2' })).toThrow(/maxHedgeRatio.*at most 1/);
    expect(() => parseRiskConfig({ maxOrderNotional: '-1', maxDailyNotional: '1' })).toThrow(/maxOrderNotional.*greater than zero/);
    expect(() => parseRiskConfig({ maxOrderNotional: '1e9', maxDailyNotional: '1' })).toThrow(/plain decimal/);
    expect(() => parseRiskConfig({ maxDailyNotional: '1' })).toThrow(/maxOrderNotional/);
    expect(() => parseRiskConfig({ maxOrderNotional: '1', maxDailyNotional: '1', tradingState: 'paused' })).toThrow(/tradingState/);
  });
});

describe('riskAllows (the pipeline builds the verdicts only when read)', () => {
  const amount = fc.constantFrom('0', '-0', '1', '2.5', '3', '3.3', '99.99', '100', '300', '9999', '10000', '10000.01', '24700', '30000', '-3', '-100', '-250');
  const price = fc.constantFrom('0', '-1', '2.7', '2.99', '3', '3.00', '3.3', '3.31', '4');
  it('is true exactly when every verdict of runRiskChecks allows the order', () => {
    fc.assert(
      fc.property(
        fc.record({
          side: fc.constantFrom('buy' as const, 'sell' as const),
          reason: fc.constantFrom('procure' as const, 'hedge' as const, 'unwind' as const, 'forced-reorder' as const, 'emergency' as const),
          tradingState: fc.constantFrom('active' as const, 'reducing-only' as const, 'halted' as const),
          qty: amount,
          notional: amount,
          dayNotional: amount,
          position: amount,
          hedgePosition: fc.option(amount, { nil: undefined }),
          exposure: fc.option(amount, { nil: undefined }),
          price,
          lastPrice: price,
          samePrice: fc.boolean(),
          priceCap: fc.option(price, { nil: undefined }),
          maxHedgeRatio: fc.constantFrom('0.5', '1'),
          maxDeviationFromLast: fc.constantFrom('0.1', '0.01'),
        }),
        (r) => {
          const lim = limits({ maxHedgeRatio: r.maxHedgeRatio, maxDeviationFromLast: r.maxDeviationFromLast });
          const p = D(r.price);
          const risk = input({
            intent: intent({ side: r.side, reason: r.reason }),
            tradingState: r.tradingState,
            qty: D(r.qty),
            notional: D(r.notional),
            dayNotional: D(r.dayNotional),
            position: D(r.position),
            hedgePosition: r.hedgePosition === undefined ? undefined : D(r.hedgePosition),
            exposure: r.exposure === undefined ? undefined : D(r.exposure),
            price: p,
            lastPrice: r.samePrice ? p : D(r.lastPrice),
            priceCap: r.priceCap === undefined ? undefined : D(r.priceCap),
          });
          expect(riskAllows(lim, risk)).toBe(runRiskChecks(lim, risk).every((v) => v.allowed));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
