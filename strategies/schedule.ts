/**
 * `schedule`: the scheduled-tranche baseline. When the run's cron schedule fires it buys
 * the forecast consumption until the next firing (daysToNextSchedule x dailyConsumption,
 * or `fallbackTrancheDays` when the engine cannot tell), plus whatever brings the position
 * (on hand + on order) back up to the buffer stock if it has fallen below. Between firings
 * it only places the forced reorder at the reorder point (reason 'forced-reorder'), and it
 * applies the same rule after a tranche that still leaves the position at or below the
 * reorder point, so it never stocks out by design when the forecast holds.
 */
import { z } from 'zod';
import { defineStrategy, type Decimal, type InventoryView, type RuleBuy, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import { bufferStockFigure, buyToLevel, causeOf, consumptionFor, forcedReorder, forcedReorderCause, inventoryPosition, NOTHING, onHandFigure, positionOf, positiveDays, reorderPointFigure, ruleStrategy, shortOf, withInventory, ZERO_QTY, type CauseFigures } from './common.js';

export const SCHEDULE_NAME = 'schedule';

const params = z.strictObject({
  /** Days of consumption a forced reorder between firings buys beyond the reorder point. */
  orderUpToDays: positiveDays(7),
  /** Tranche length in days when the engine does not know when the schedule fires next. */
  fallbackTrancheDays: positiveDays(30),
});
export type ScheduleParams = z.output<typeof params>;

/** Days a firing's tranche covers: until the next firing, or `fallbackTrancheDays` when that is not known. */
function trancheDays(daysToNextSchedule: number | undefined, p: ScheduleParams): number {
  return daysToNextSchedule === undefined || Number.isNaN(daysToNextSchedule) ? p.fallbackTrancheDays : daysToNextSchedule;
}

/** The schedule rule (both engines): on a firing the tranche plus the buffer top-up, then the forced reorder on what is left. */
export function scheduleRule(x: RuleContext, p: ScheduleParams): RuleDecision {
  let planned = 0;
  if (x.scheduleFired) planned = x.dailyConsumption * trancheDays(x.daysToNextSchedule, p) + shortOf(positionOf(x), x.bufferStock);
  const forced = forcedReorder(x, p.orderUpToDays, planned);
  if (!(planned > 0) && !(forced > 0)) return NOTHING;
  const buys: RuleBuy[] = [];
  if (planned > 0) buys.push({ qty: planned, reason: 'procure', discretionary: false });
  if (forced > 0) buys.push({ qty: forced, reason: 'forced-reorder', discretionary: false });
  return { buys };
}

/** A firing's tranche: `days` of consumption. */
function trancheOf(inventory: InventoryView, days: number): Decimal {
  return consumptionFor(inventory, days);
}

/** A firing's top-up: what brings the position up to the buffer stock. */
function topUpOf(inventory: InventoryView): Decimal {
  return buyToLevel(inventoryPosition(inventory), inventory.bufferStock);
}

/**
 * The cause of a buy, from the exact context. Its figures (the tranche, the top-up, what the
 * firing plans) are worked out when the cause is printed, from the inventory view as of the
 * decision (see withInventory): most causes are never printed.
 */
function causeOfBuy(context: StrategyContext, reason: RuleBuy['reason'], p: ScheduleParams) {
  const inventory = context.inventory;
  const fired = context.scheduleFired;
  const days = fired ? trancheDays(context.daysToNextSchedule, p) : 0;
  if (reason === 'forced-reorder') return forcedReorderCause(context, p.orderUpToDays, fired ? () => trancheOf(inventory, days).plus(topUpOf(inventory)) : ZERO_QTY);
  const figures: CauseFigures = withInventory(
    {
      onHand: onHandFigure,
      onOrder: inventory.onOrder,
      dailyConsumption: inventory.dailyConsumption,
      reorderPoint: reorderPointFigure,
      bufferStock: bufferStockFigure,
      trancheDays: days,
      tranche: fired ? () => trancheOf(inventory, days) : ZERO_QTY,
      bufferTopUp: fired ? () => topUpOf(inventory) : ZERO_QTY,
      marketUnitPrice: context.cost.marketUnitPrice,
    },
    inventory,
  );
  const unknown = context.daysToNextSchedule === undefined;
  return causeOf(
    context,
    figures,
    () =>
      `schedule fired: ${days} days of consumption until the next firing` +
      (unknown ? ' (fallbackTrancheDays: next firing unknown)' : '') +
      (!fired || topUpOf(inventory).isZero() ? '' : ', topped up to the buffer stock'),
  );
}

export default defineStrategy({
  name: SCHEDULE_NAME,
  description:
    'Baseline: buys the forecast consumption until the next firing of the cron schedule, topped up to the buffer; between firings only a forced reorder at the reorder point.',
  params,
  needs: () => ({ schedule: true }),
  create: (p) => ruleStrategy(SCHEDULE_NAME, { decide: (x) => scheduleRule(x, p) }, { buy: (context, _x, buy) => causeOfBuy(context, buy.reason, p) }),
  fast: (p) => ({ decide: (x) => scheduleRule(x, p) }),
});
