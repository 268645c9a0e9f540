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
import { defineStrategy, type RuleBuy, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import { buyToLevel, causeOf, consumptionFor, forcedReorder, forcedReorderCause, inventoryFigures, inventoryPosition, NOTHING, positionOf, positiveDays, ruleStrategy, shortOf, ZERO_QTY } from './common.js';

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

/** The firing's figures from the exact context (for the causes). */
function exactTranche(context: StrategyContext, p: ScheduleParams) {
  if (!context.scheduleFired) return { days: 0, tranche: ZERO_QTY, topUp: ZERO_QTY, planned: ZERO_QTY };
  const days = trancheDays(context.daysToNextSchedule, p);
  const tranche = consumptionFor(context.inventory, days);
  const topUp = buyToLevel(inventoryPosition(context.inventory), context.inventory.bufferStock);
  return { days, tranche, topUp, planned: tranche.plus(topUp) };
}

function causeOfBuy(context: StrategyContext, reason: RuleBuy['reason'], p: ScheduleParams) {
  const t = exactTranche(context, p);
  if (reason === 'forced-reorder') return forcedReorderCause(context, p.orderUpToDays, t.planned);
  return causeOf(
    context,
    { ...inventoryFigures(context.inventory), trancheDays: t.days, tranche: t.tranche, bufferTopUp: t.topUp, marketUnitPrice: context.cost.marketUnitPrice },
    `schedule fired: ${t.days} days of consumption until the next firing` +
      (context.daysToNextSchedule === undefined ? ' (fallbackTrancheDays: next firing unknown)' : '') +
      (t.topUp.isZero() ? '' : ', topped up to the buffer stock'),
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
