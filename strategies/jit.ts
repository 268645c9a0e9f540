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
import { bufferStockFigure, causeOf, NOTHING, onHandFigure, positionOf, reorderPointFigure, ruleStrategy, shortOf, withInventory, type CauseFigures } from './common.js';

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
  return (figures['dailyConsumption'] as Decimal).times(1 + (figures['leadTimeDays'] as number)).plus(bufferStockFigure(figures));
}

/** The JIT cause's note for the last lead time asked (the same text for every cause of a run). */
let noteLeadTimeDays = Number.NaN;
let note = '';

function jitNote(leadTimeDays: number): string {
  if (!Object.is(leadTimeDays, noteLeadTimeDays)) {
    note = `jit: keep position at 1 + ${leadTimeDays} days of consumption + buffer`;
    noteLeadTimeDays = leadTimeDays;
  }
  return note;
}

/** The cause of a JIT buy, from the exact context. */
export function jitCause(context: StrategyContext): IntentCause {
  // The cause keeps the figures it prints and the inventory view (immutable, as of the decision:
  // on hand, the reorder point and the buffer stock are read from it when printed, see
  // withInventory), no closure: the journal keeps the latest decisions, and a cause that held
  // the day's whole cost snapshot kept it from the collector as long.
  const inventory = context.inventory;
  const leadTimeDays = inventory.leadTimeDays;
  // inventoryFigures' five figures, then the JIT level's: one literal in that key order (a spread of inventoryFigures was a visible share of every JIT day).
  return causeOf(
    context,
    withInventory(
      {
        onHand: onHandFigure,
        onOrder: inventory.onOrder,
        dailyConsumption: inventory.dailyConsumption,
        reorderPoint: reorderPointFigure,
        bufferStock: bufferStockFigure,
        jitLevel: jitLevelFigure,
        leadTimeDays,
        marketUnitPrice: context.cost.marketUnitPrice,
      },
      inventory,
    ),
    jitNote(leadTimeDays),
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
