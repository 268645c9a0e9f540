/**
 * The screening engine against the exact engine: on every bundled scenario whose strategy (or
 * baseline) has a fast form, on the held-out scenarios' baselines, and on random scenarios
 * (fast-check), the screened product unit cost is within 0.1 % of the exact one, and orders
 * and stockout days within max(2, 1 %) of the exact counts; the best sets of a small grid rank
 * the same. Spans are bounded by a count of days where the full range would be slow.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/core/time.js';
import { runBacktest } from '../../src/engine/backtest.js';
import { loadScenario, type Scenario } from '../../src/engine/scenario.js';
import { ScreenScenario, screenSupport } from '../../src/engine/screen.js';
import type { StrategyDefinition } from '../../src/engine/strategy.js';
import { seriesFromArrays } from '../../src/market/index.js';
import { Random } from '../../src/core/random.js';
import { Decimal } from '../../src/core/decimal.js';
import { getStrategy } from '../../strategies/index.js';

/** Orders and stockout days: within 2 or 1 % of the exact count, whichever is larger. */
const countTolerance = (exact: number): number => Math.max(2, Math.ceil(exact * 0.01));

async function compare(scenario: Scenario, screen: ScreenScenario, definition: StrategyDefinition<unknown>, params: unknown, to: number): Promise<{ screened: number; exact: number }> {
  const fast = screen.run(definition, params, { to });
  const exact = await runBacktest(scenario, { strategy: { definition, params }, dailyCosts: false, to });
  const exactCost = exact.productUnitCost.toNumber();
  const label = `${scenario.config.name} ${definition.name}`;
  expect(Math.abs(fast.productUnitCost / exactCost - 1), `${label}: screened ${fast.productUnitCost} against exact ${exactCost}`).toBeLessThan(0.001);
  expect(Math.abs(fast.orders - exact.counters.orders), `${label}: orders`).toBeLessThanOrEqual(countTolerance(exact.counters.orders));
  expect(Math.abs(fast.stockouts - exact.stockouts.length), `${label}: stockout days`).toBeLessThanOrEqual(countTolerance(exact.stockouts.length));
  expect(fast.days).toBe(exact.days);
  return { screened: fast.productUnitCost, exact: exactCost };
}

function strategiesOf(scenario: Scenario): { definition: StrategyDefinition<unknown>; params: unknown }[] {
  const out: { definition: StrategyDefinition<unknown>; params: unknown }[] = [];
  if (screenSupport(scenario, scenario.strategy.definition, scenario.strategy.params) === undefined) out.push({ definition: scenario.strategy.definition, params: scenario.strategy.params });
  for (const name of ['jit', 'schedule']) {
    if (name === scenario.strategy.definition.name) continue;
    const definition = getStrategy(name)!;
    const params = definition.params.parse({});
    if (screenSupport(scenario, definition, params) === undefined) out.push({ definition, params });
  }
  return out;
}

describe('screening engine: parity with the exact engine on the bundled scenarios', () => {
  const bundled: [string, number][] = [
    ['backtests/ammonia-henry-hub.yaml', 1500],
    ['backtests/chocolate-worldbank.yaml', 1500],
    ['backtests/plastics-wti.yaml', 1000],
  ];
  for (const [file, days] of bundled) {
    it(`${file}: the strategy (when it has a fast form) and the baselines over ${days} days`, async () => {
      const scenario = loadScenario(file);
      const screen = new ScreenScenario(scenario);
      const to = Math.min(scenario.to, scenario.from + (days - 1) * DAY_MS);
      const runs = strategiesOf(scenario);
      expect(runs.length).toBeGreaterThanOrEqual(2);
      for (const run of runs) await compare(scenario, screen, run.definition, run.params, to);
    }, 600_000);
  }

  const heldOut = ['aluminium-extruder', 'brent-refinery', 'coffee-roaster', 'copper-wire', 'gold-jewellery', 'urea-blender', 'wheat-flour-mill'];
  it('the held-out scenarios: their strategy (when it has a fast form) and baselines over 600 days', async () => {
    for (const name of heldOut) {
      const scenario = loadScenario(`backtests/held-out/${name}.yaml`);
      const screen = new ScreenScenario(scenario);
      const to = scenario.from + 599 * DAY_MS;
      for (const run of strategiesOf(scenario)) await compare(scenario, screen, run.definition, run.params, to);
    }
  }, 600_000);

  it('a strategy without a fast form, or that hedges, says why', () => {
    const scenario = loadScenario('backtests/plastics-wti.yaml');
    const why = screenSupport(scenario, scenario.strategy.definition, scenario.strategy.params);
    expect(why).toMatch(/ma-hedge/);
  });
});

describe('screening engine: a small grid ranks the same', () => {
  it('ammonia, 1,200 days, 6 sets of ma-procurement: the same best three in the same order', async () => {
    const scenario = loadScenario('backtests/ammonia-henry-hub.yaml');
    const screen = new ScreenScenario(scenario);
    const to = scenario.from + 1199 * DAY_MS;
    const definition = scenario.strategy.definition;
    const base = scenario.strategy.params as Record<string, unknown>;
    const sets = [
      { fast: 5, slow: 40 },
      { fast: 10, slow: 40 },
      { fast: 20, slow: 40 },
      { fast: 5, slow: 80 },
      { fast: 10, slow: 80 },
      { fast: 20, slow: 80 },
    ];
    const rows: { key: string; screened: number; exact: number }[] = [];
    for (const set of sets) {
      const params = definition.params.parse({ ...base, ...set });
      const { screened, exact } = await compare(scenario, screen, definition, params, to);
      rows.push({ key: `${set.fast}/${set.slow}`, screened, exact });
    }
    const order = (key: 'screened' | 'exact'): string[] => [...rows].sort((a, b) => a[key] - b[key]).map((r) => r.key);
    expect(order('screened').slice(0, 3)).toEqual(order('exact').slice(0, 3));
  }, 600_000);
});

describe('screening engine: random scenarios (fast-check)', () => {
  const base = loadScenario('test/engine/fixtures/small.yaml');
  const gas = base.materials[0]!;

  /** The fixture's dates with a random walk of prices (open and close, or close only). */
  function prices(seed: number, volatility: number, withOpen: boolean) {
    const random = new Random(seed);
    const n = gas.series.length;
    const close = new Float64Array(n);
    const open = new Float64Array(n);
    let price = 3;
    for (let i = 0; i < n; i += 1) {
      open[i] = Math.round(price * 1000) / 1000;
      price = Math.max(0.5, price * (1 + volatility * random.normal()));
      close[i] = Math.round(price * 1000) / 1000;
    }
    return seriesFromArrays({ id: 'gas', file: 'random', at: gas.series.at, close, ...(withOpen ? { open, high: new Float64Array(close.map((c, i) => Math.max(c, open[i]!))), low: new Float64Array(close.map((c, i) => Math.min(c, open[i]!))) } : {}) });
  }

  const arbitrary = fc.record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    volatility: fc.constantFrom(0.01, 0.03, 0.06),
    withOpen: fc.boolean(),
    leadTimeDays: fc.integer({ min: 1, max: 9 }),
    lotStep: fc.constantFrom('1', '10', '100', '250'),
    maxChildOrders: fc.constantFrom(1, 3),
    minNotional: fc.constantFrom('0', '400'),
    maxDailyNotional: fc.constantFrom('80000', '30000'),
    strategy: fc.constantFrom('ma-procurement', 'jit', 'schedule'),
    fast: fc.integer({ min: 2, max: 8 }),
    slowExtra: fc.integer({ min: 2, max: 20 }),
    ma: fc.constantFrom('sma', 'ema'),
    maxCoverDays: fc.integer({ min: 5, max: 40 }),
    orderUpToDays: fc.integer({ min: 1, max: 10 }),
    trendBars: fc.integer({ min: 1, max: 5 }),
    buyWhileUp: fc.boolean(),
  });

  it('product unit cost within 0.1 %, orders and stockout days within max(2, 1 %)', async () => {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        const scenario: Scenario = {
          ...base,
          materials: [{ ...gas, series: prices(c.seed, c.volatility, c.withOpen), leadTimeDays: c.leadTimeDays, rules: { ...gas.rules, lotStep: new Decimal(c.lotStep), minNotional: new Decimal(c.minNotional) } }],
          risk: { ...base.risk, maxChildOrders: c.maxChildOrders, maxDailyNotional: new Decimal(c.maxDailyNotional) },
        };
        const definition = getStrategy(c.strategy)!;
        const params =
          c.strategy === 'ma-procurement'
            ? definition.params.parse({ fast: c.fast, slow: c.fast + c.slowExtra, ma: c.ma, maxCoverDays: c.maxCoverDays, orderUpToDays: c.orderUpToDays, trendBars: c.trendBars, buyWhileUp: c.buyWhileUp })
            : definition.params.parse(c.strategy === 'schedule' ? { orderUpToDays: c.orderUpToDays } : {});
        await compare(scenario, new ScreenScenario(scenario), definition, params, scenario.to);
      }),
      { numRuns: 20, seed: 20261130 },
    );
  }, 600_000);
});
