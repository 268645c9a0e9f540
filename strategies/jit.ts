/**
 * `jit`: the just-in-time baseline. It buys exactly what production consumes, when it
 * consumes it: at every decision point it orders what brings the inventory position
 * (on hand + on order) back to one day's consumption plus the lead-time demand plus the
 * buffer stock (dailyConsumption x (1 + leadTimeDays) + bufferStock). No buying ahead, no
 * signal: in steady state each order equals one day's consumption, which is what the
 * cost-aware strategies are measured against. The buffer is the same safety stock every
 * strategy keeps (the cost feed's z x sigma x sqrt(lead time)), so the baseline is not
 * penalised by stockouts a real desk would never accept.
 *
 * The rule (`jitRule`) is written once over RuleContext; the hedging strategies compose it for
 * their physical buying (`jitBuy`, `jitCause`).
 */
import { z } from 'zod';
import { defineStrategy, type Decimal, type IntentCause, type RuleBuy, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import { causeOf, NOTHING, positionOf, ruleStrategy, shortOf, type CauseFigures } from './common.js';

export const JIT_NAME = 'jit';

/** The JIT level: one day's consumption plus the consumption over the lead time, plus the buffer stock. */
export function jitLevelOf(x: RuleContext): number {
  return x.dailyConsumption * (1 + x.leadTimeDays) + x.bufferStock;
}

/** The JIT buy: what brings the position back to the JIT level; undefined when it is there. */
export function jitBuy(x: RuleContext): RuleBuy | undefined {
  const qty = shortOf(positionOf(x), jitLevelOf(x));
  return qty > 0 ? { qty, reason: 'procure', discretionary: false } : undefined;
}

/** The JIT rule (both engines). */
export function jitRule(x: RuleContext): RuleDecision {
  const buy = jitBuy(x);
  return buy === undefined ? NOTHING : { buys: [buy] };
}

/** The JIT level, worked out when a cause is printed from the figures it took (one function for every cause: no closure per decision). */
function jitLevelFigure(figures: CauseFigures): Decimal {
  return (figures['dailyConsumption'] as Decimal).times(1 + (figures['leadTimeDays'] as number)).plus(figures['bufferStock'] as Decimal);
}

/** The cause of a JIT buy, from the exact context. */
export function jitCause(context: StrategyContext): IntentCause {
  // The cause keeps the figures it prints and nothing else (no closure over `inventory`): the
  // journal keeps thousands of decisions, and a cause that held the view held the day's whole
  // cost snapshot with it, to be copied by every scavenge.
  const inventory = context.inventory;
  // inventoryFigures' five figures, then the JIT level's: one literal in that key order (a spread of inventoryFigures was a visible share of every JIT day).
  return causeOf(
    context,
    {
      onHand: inventory.onHand,
      onOrder: inventory.onOrder,
      dailyConsumption: inventory.dailyConsumption,
      // Taken now, as a Decimal: the feed keeps it with the day's sigma chain, shared by the runs
      // over one plan, so only the first of them makes it.
      reorderPoint: inventory.reorderPoint,
      bufferStock: inventory.bufferStock,
      jitLevel: jitLevelFigure,
      leadTimeDays: inventory.leadTimeDays,
      marketUnitPrice: context.cost.marketUnitPrice,
    },
    `jit: keep position at 1 + ${inventory.leadTimeDays} days of consumption + buffer`,
  );
}

export default defineStrategy({
  name: JIT_NAME,
  description: 'Baseline: buys exactly what production consumes, when it consumes it (one day plus lead-time demand, plus the buffer stock).',
  params: z.strictObject({}),
  needs: () => ({}),
  create: () => ruleStrategy(JIT_NAME, { decide: jitRule }, { buy: (context) => jitCause(context) }),
  fast: () => ({ decide: jitRule }),
});
