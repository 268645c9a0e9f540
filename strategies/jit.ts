/**
 * `jit`: the just-in-time baseline. It buys exactly what production consumes, when it
 * consumes it: at every decision point it orders what brings the inventory position
 * (on hand + on order) back to one day's consumption plus the lead-time demand plus the
 * buffer stock (dailyConsumption x (1 + leadTimeDays) + bufferStock). No buying ahead, no
 * signal: in steady state each order equals one day's consumption, which is what the
 * cost-aware strategies are measured against. The buffer is the same safety stock every
 * strategy keeps (the cost feed's z x sigma x sqrt(lead time)), so the baseline is not
 * penalised by stockouts a real desk would never accept.
 */
import { z } from 'zod';
import { defineStrategy, type Intent, type StrategyContext } from '../src/engine/strategy.js';
import { buyIntent, buyToLevel, causeOf, consumptionFor, inventoryFigures, inventoryPosition } from './common.js';

export const JIT_NAME = 'jit';

/** The JIT level: one day's consumption plus the consumption over the lead time, plus the buffer stock. */
export function jitLevel(context: StrategyContext) {
  return consumptionFor(context.inventory, 1 + context.inventory.leadTimeDays).plus(context.inventory.bufferStock);
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
        `jit: keep position at 1 + ${context.inventory.leadTimeDays} days of consumption + buffer`,
      ),
    ),
  ];
}

export default defineStrategy({
  name: JIT_NAME,
  description: 'Baseline: buys exactly what production consumes, when it consumes it (one day plus lead-time demand, plus the buffer stock).',
  params: z.strictObject({}),
  needs: () => ({}),
  create: () => ({
    name: JIT_NAME,
    decide: (context) => jitIntents(context, JIT_NAME),
  }),
});
