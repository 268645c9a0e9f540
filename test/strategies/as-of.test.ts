/**
 * Properties every strategy keeps: it never mutates the context it is given, and its
 * decisions depend only on the contexts seen so far (deciding on a prefix gives the same
 * intents as deciding on the full sequence up to that point, whatever comes later).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Strategy, StrategyContext } from '../../src/engine/strategy.js';
import { getStrategy, parseStrategyParams } from '../../strategies/index.js';
import { contextSequenceArb, deepFreeze, plain } from './context.js';

/** Each strategy with parameters that make its signal-driven rules fire often on random contexts. */
const setups: readonly [string, unknown][] = [
  ['jit', {}],
  ['schedule', {}],
  ['ma-procurement', { trendBars: 2, buyWhileUp: true }],
  ['ma-procurement', {}],
  ['ma-hedge', { rebalanceBand: 0 }],
  ['ma-hedge', {}],
  ['static-hedge', {}],
  ['cost-aware', { minTrials: 1, trendBars: 2 }],
  ['cost-aware', {}],
  ['layered-hedge', { minLayer: 0 }],
  ['layered-hedge', {}],
];

const create = (name: string, raw: unknown): Strategy => {
  const definition = getStrategy(name)!;
  const parsed = parseStrategyParams(definition, raw);
  if (!parsed.ok) throw new Error(parsed.message);
  return definition.create(parsed.params);
};

const snapshot = (context: StrategyContext) => JSON.stringify({ ...context, productReplacementCost: [...context.cost.productReplacementCost] });

describe.each(setups)('%s %j', (name, raw) => {
  it('never mutates the context', () => {
    fc.assert(
      fc.property(contextSequenceArb(15), (contexts) => {
        const strategy = create(name, raw);
        for (const context of contexts) {
          const before = snapshot(context);
          deepFreeze(context);
          strategy.decide(context);
          expect(snapshot(context)).toBe(before);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('decides on a prefix exactly as on the full sequence, whatever follows (no look-ahead, deterministic)', () => {
    let decisionsWithIntents = 0;
    fc.assert(
      fc.property(contextSequenceArb(25), contextSequenceArb(25), fc.nat(), (full, other, cut) => {
        const k = 1 + (cut % full.length);
        const strategyFull = create(name, raw);
        const onFull = full.map((c) => plain(strategyFull.decide(c)));
        const strategyPrefix = create(name, raw);
        const onPrefix = full.slice(0, k).map((c) => plain(strategyPrefix.decide(c)));
        expect(onPrefix).toEqual(onFull.slice(0, k));
        // A different future, same past: the same decisions up to k.
        const strategyOther = create(name, raw);
        const future = other.map((c, i) => ({ ...c, at: full[k - 1]!.at + (i + 1) * 86_400_000 }));
        const onOther = [...full.slice(0, k), ...future].map((c) => plain(strategyOther.decide(c)));
        expect(onOther.slice(0, k)).toEqual(onFull.slice(0, k));
        decisionsWithIntents += onFull.filter((intents) => (intents as unknown[]).length > 0).length;
      }),
      { numRuns: 100 },
    );
    expect(decisionsWithIntents).toBeGreaterThan(0);
  });
});
