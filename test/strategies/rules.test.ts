/**
 * One rule, both engines: every strategy with a fast form decides in the exact engine through
 * the same rule `fast(params)` gives the screening engine. In short real backtests of the
 * bundled scenarios, at every decision point the rule's decision over `ruleContextOf(context)`
 * is what the exact engine sent (same buys, reasons, hedge contracts and sides, quantities
 * equal to 6 places); and `intentsOf` turns any rule quantity into a Decimal equal to it to 6
 * places (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Decimal } from '../../src/core/decimal.js';
import { runBacktest } from '../../src/engine/backtest.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { defineStrategy, ruleContextOf, type Intent, type RuleDecision, type StrategyDefinition } from '../../src/engine/strategy.js';
import { causeOf, intentsOf, QTY_SNAP, qtyOf } from '../../strategies/common.js';
import { getStrategy, parseStrategyParams, strategies } from '../../strategies/index.js';
import { makeContext } from './context.js';

/** Short spans of the bundled scenarios: the daily ones a year and a half (the averages' warm-up inside), the monthly one 12 years. */
const RUNS = [
  { file: 'backtests/ammonia-henry-hub.yaml', from: '2021-06-01', to: '2022-12-31' },
  { file: 'backtests/plastics-wti.yaml', from: '2014-06-01', to: '2015-12-31' },
  { file: 'backtests/chocolate-worldbank.yaml', from: '2004-01-01', to: '2015-12-31' },
] as const;

/** Strategies with a fast form and the parameters they run with here (short windows so the spans see crossings). */
const STRATEGIES: readonly (readonly [string, Record<string, unknown>])[] = [
  ['jit', {}],
  ['schedule', {}],
  ['ma-procurement', { fast: 5, slow: 20, buyWhileUp: true }],
  ['cost-aware', { fast: 5, slow: 20, trendBars: 2, trackBars: 5, minTrials: 5 }],
  ['ma-hedge', { fast: 5, slow: 20 }],
  ['layered-hedge', { fast: 5, slow: 20, months: 3 }],
  ['static-hedge', {}],
];

/** The strategies that hedge: their runs must send hedge intents too. */
const HEDGERS = new Set(['ma-hedge', 'layered-hedge', 'static-hedge']);

/**
 * `sent` is the rule's `value` to 6 places, as qtyOf makes it: at most QTY_SNAP above it (a
 * snap to the 6-place grid) and less than a unit of the 6th place below it (truncation), give
 * or take the double's own rounding of values this large.
 */
const sixPlaces = (value: number, sent: number): boolean => {
  const slack = Math.max(Math.abs(value), Math.abs(sent)) * 4.5e-16;
  return sent - value <= QTY_SNAP + slack && value - sent < 1e-6 + slack;
};

interface Seen {
  points: number;
  buys: number;
  hedges: number;
  mismatches: string[];
}

/** What an intent looks like next to a rule's decision: enough to compare, quantities as numbers. */
function expected(decision: RuleDecision, material: string, instruments: readonly string[], positions: readonly Decimal[], exposures: readonly Decimal[]) {
  const out: { instrument: string; side: string; reason: string; qty: number; discretionary: boolean }[] = [];
  for (const buy of decision.buys) {
    if (qtyOf(buy.qty).isZero()) continue;
    out.push({ instrument: material, side: 'buy', reason: buy.reason, qty: buy.qty, discretionary: buy.discretionary });
  }
  decision.hedgeTargets?.forEach((value, k) => {
    if (Number.isNaN(value)) return;
    // intentsOf never targets above the contract's exposure.
    const target = Math.min(value, Math.max(0, exposures[k]!.toNumber()));
    if (qtyOf(target).equals(positions[k]!)) return;
    const up = qtyOf(target).greaterThan(positions[k]!);
    out.push({ instrument: instruments[k]!, side: up ? 'buy' : 'sell', reason: up ? 'hedge' : 'unwind', qty: target, discretionary: false });
  });
  return out;
}

function sent(intents: readonly Intent[]) {
  return intents.map((i) => ({ instrument: i.instrument, side: i.side, reason: i.reason, qty: (i.qty ?? i.targetQty)!.toNumber(), discretionary: i.discretionary === true }));
}

async function lockstep(name: string, raw: Record<string, unknown>, run: (typeof RUNS)[number], seen: Seen): Promise<void> {
  const definition = getStrategy(name) as StrategyDefinition<unknown>;
  const parsed = parseStrategyParams(definition, raw);
  if (!parsed.ok) throw new Error(parsed.message);
  const params = parsed.params;
  const fastOf = definition.fast;
  if (fastOf === undefined) throw new Error(`${name} has no fast form`);
  const rule = fastOf(params);
  const indices = new Map<string, number>();
  const spy = defineStrategy({
    name,
    description: 'the exact strategy, its rule beside it',
    params: z.unknown(),
    needs: () => definition.needs(params),
    create: () => {
      const exact = definition.create(params);
      return {
        name,
        decide(context) {
          if (!indices.has(context.material)) indices.set(context.material, indices.size);
          // The rule reads the context now (the signal's history moves on), before the exact strategy runs.
          const decision = rule.decide(ruleContextOf(context, indices.get(context.material)!));
          const intents = exact.decide(context);
          const contracts = context.hedge?.contracts ?? [];
          const want = expected(decision, context.instrument, contracts.map((c) => c.instrument), contracts.map((c) => c.position), contracts.map((c) => c.exposureQty));
          const got = sent(intents);
          seen.points += 1;
          seen.buys += got.filter((i) => i.instrument === context.instrument).length;
          seen.hedges += got.filter((i) => i.instrument !== context.instrument).length;
          const same =
            want.length === got.length &&
            want.every((w, k) => {
              const g = got[k]!;
              return w.instrument === g.instrument && w.side === g.side && w.reason === g.reason && w.discretionary === g.discretionary && sixPlaces(w.qty, g.qty);
            });
          if (!same && seen.mismatches.length < 5) seen.mismatches.push(`${run.file} ${new Date(context.at).toISOString()} ${context.material}: rule ${JSON.stringify(want)} exact ${JSON.stringify(got)}`);
          return intents;
        },
      };
    },
  });
  const scenario = loadScenario(run.file);
  await runBacktest(scenario, {
    strategy: { definition: spy, params: {} },
    from: Date.parse(`${run.from}T00:00:00Z`),
    to: Date.parse(`${run.to}T00:00:00Z`),
  });
}

describe('one rule, both engines', () => {
  it.each(STRATEGIES)(
    '%s: the exact engine sends what its rule decides over ruleContextOf, at every decision point of short real backtests',
    async (name, raw) => {
      const seen: Seen = { points: 0, buys: 0, hedges: 0, mismatches: [] };
      for (const run of RUNS) await lockstep(name, raw, run, seen);
      expect(seen.mismatches).toEqual([]);
      expect(seen.points).toBeGreaterThan(500);
      expect(seen.buys).toBeGreaterThan(10);
      if (HEDGERS.has(name)) expect(seen.hedges).toBeGreaterThan(10);
    },
    300_000,
  );

  it('every shipped strategy has a fast form, and is checked here', () => {
    const names = STRATEGIES.map(([name]) => name);
    expect(Object.keys(strategies).sort()).toEqual([...names].sort());
    for (const name of names) expect(getStrategy(name)?.fast, `${name} has a fast form`).toBeTypeOf('function');
  });
});

describe('intentsOf', () => {
  const context = makeContext({ hedge: { contracts: [{ month: '2024-02', monthsAhead: 1, position: '1.5', exposureQty: 100 }] } });
  const quantity = fc.oneof(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 1e9 }).map((n) => n / 1000), fc.integer({ min: 1, max: 1e6 }).map((n) => n - 1e-10));

  it('turns every rule quantity and hedge target into a Decimal equal to it to 6 places', () => {
    fc.assert(
      fc.property(fc.array(quantity, { minLength: 0, maxLength: 3 }), fc.option(quantity, { nil: undefined }), (qtys, target) => {
        const decision: RuleDecision = {
          buys: qtys.map((qty, k) => ({ qty, reason: k === 0 ? 'forced-reorder' : 'procure', discretionary: k > 1 })),
          hedgeTargets: target === undefined ? undefined : [target],
        };
        const intents = intentsOf(context, 'test', decision, () => causeOf(context, {}, 'test'), () => causeOf(context, {}, 'test'));
        const buys = intents.filter((i) => i.instrument === context.instrument);
        expect(buys.length).toBe(qtys.length);
        buys.forEach((intent, k) => {
          expect(intent.side).toBe('buy');
          expect(intent.reason).toBe(decision.buys[k]!.reason);
          expect(intent.discretionary === true).toBe(decision.buys[k]!.discretionary);
          expect(sixPlaces(qtys[k]!, intent.qty!.toNumber())).toBe(true);
          expect(intent.qty!.decimalPlaces()).toBeLessThanOrEqual(6);
        });
        const hedges = intents.filter((i) => i.instrument !== context.instrument);
        // The contract's exposure is 100: a target is never above it.
        const capped = target === undefined ? undefined : Math.min(target, 100);
        if (capped === undefined || qtyOf(capped).equals('1.5')) expect(hedges).toEqual([]);
        else {
          expect(hedges.length).toBe(1);
          expect(sixPlaces(capped, hedges[0]!.targetQty!.toNumber())).toBe(true);
          expect(hedges[0]!.side).toBe(capped > 1.5 ? 'buy' : 'sell');
          expect(hedges[0]!.reason).toBe(capped > 1.5 ? 'hedge' : 'unwind');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives a whole number of lots back where the double fell just under it, and otherwise never rounds up', () => {
    expect(qtyOf(1000 - 1e-10).toString()).toBe('1000');
    expect(qtyOf(0.1 + 0.2).toString()).toBe('0.3');
    expect(qtyOf(0.9999995).toString()).toBe('0.999999');
    expect(qtyOf(145107.668545477).toString()).toBe('145107.668545');
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e8, noNaN: true }), (value) => {
        const q = qtyOf(value);
        expect(q.decimalPlaces()).toBeLessThanOrEqual(6);
        expect(q.toNumber() - value).toBeLessThanOrEqual(QTY_SNAP + value * 4.5e-16);
      }),
    );
  });
});
