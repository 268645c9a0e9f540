/**
 * `jit`: the just-in-time baseline. It buys exactly what production consumes, when it
 * consumes it: at every decision point it orders what brings the inventory position
 * (on hand + on order) back to one day's consumption plus the lead-time demand
 * (dailyConsumption x (1 + leadTimeDays)). No buying ahead, no signal, no buffer beyond
 * that level: in steady state each order equals one day's consumption, which is what the
 * cost-aware strategies are measured against.
 */
import { z } from 'zod';
import { defineStrategy, type Intent, type StrategyContext } from '../src/engine/strategy.js';
import { buyIntent, buyToLevel, causeOf, consumptionFor, inventoryFigures, inventoryPosition } from './common.js';

export const JIT_NAME = 'jit';

/** The JIT level: one day's consumption plus the consumption over the lead time. */
export function jitLevel(context: StrategyContext) {
  return consumptionFor(context.inventory, 1 + context.inventory.leadTimeDays);
}

/**
 * The JIT decision as a function, so other strategies (ma-hedge) compose it for their
 * physical procurement; `strategy` is the name stamped on the intents.
 */
export function jitIntents(context: StrategyContext, strategy: string): Intent[] {
  const level = jitLevel(context);
  const qty = buyToLevel(inventoryPosition(context.inventory), level);
  if (qty.isZero()) return [];
  return [
    buyIntent(
      context,
      strategy,
      qty,
      'procure',
      causeOf(
        context,
        { ...inventoryFigures(context.inventory), jitLevel: level, leadTimeDays: context.inventory.leadTimeDays, marketUnitPrice: context.cost.marketUnitPrice },
        `jit: keep position at 1 + ${context.inventory.leadTimeDays} days of consumption`,
      ),
    ),
  ];
}

export default defineStrategy({
  name: JIT_NAME,
  description: 'Baseline: buys exactly what production consumes, when it consumes it (one day plus lead-time demand).',
  params: z.strictObject({}),
  needs: () => ({}),
  create: () => ({
    name: JIT_NAME,
    decide: (context) => jitIntents(context, JIT_NAME),
  }),
});
