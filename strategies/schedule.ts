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
import { defineStrategy, type Intent, type StrategyContext } from '../src/engine/strategy.js';
import {
  buyIntent,
  buyToLevel,
  causeOf,
  consumptionFor,
  forcedReorderIntents,
  inventoryFigures,
  inventoryPosition,
  positiveDays,
  ZERO_QTY,
} from './common.js';

export const SCHEDULE_NAME = 'schedule';

const params = z.strictObject({
  /** Days of consumption a forced reorder between firings buys beyond the reorder point. */
  orderUpToDays: positiveDays(7),
  /** Tranche length in days when the engine does not know when the schedule fires next. */
  fallbackTrancheDays: positiveDays(30),
});
export type ScheduleParams = z.output<typeof params>;

function decideSchedule(context: StrategyContext, p: ScheduleParams): Intent[] {
  const intents: Intent[] = [];
  let planned = ZERO_QTY;
  if (context.scheduleFired) {
    const inventory = context.inventory;
    const trancheDays = context.daysToNextSchedule ?? p.fallbackTrancheDays;
    const tranche = consumptionFor(inventory, trancheDays);
    const position = inventoryPosition(inventory);
    const topUp = buyToLevel(position, inventory.bufferStock);
    planned = tranche.plus(topUp);
    if (!planned.isZero()) {
      intents.push(
        buyIntent(
          context,
          SCHEDULE_NAME,
          planned,
          'procure',
          causeOf(
            context,
            { ...inventoryFigures(inventory), trancheDays, tranche, bufferTopUp: topUp, marketUnitPrice: context.cost.marketUnitPrice },
            `schedule fired: ${trancheDays} days of consumption until the next firing` +
              (context.daysToNextSchedule === undefined ? ' (fallbackTrancheDays: next firing unknown)' : '') +
              (topUp.isZero() ? '' : ', topped up to the buffer stock'),
          ),
        ),
      );
    }
  }
  intents.push(...forcedReorderIntents(context, SCHEDULE_NAME, p.orderUpToDays, planned));
  return intents;
}

export default defineStrategy({
  name: SCHEDULE_NAME,
  description:
    'Baseline: buys the forecast consumption until the next firing of the cron schedule, topped up to the buffer; between firings only a forced reorder at the reorder point.',
  params,
  needs: () => ({ schedule: true }),
  create: (p) => ({
    name: SCHEDULE_NAME,
    decide: (context) => decideSchedule(context, p),
  }),
});
