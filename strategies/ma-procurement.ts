/**
 * `ma-procurement`: cost-aware buying on the moving-average crossover.
 *
 * 1. Cover never falls below the buffer stock: when the position (on hand + on order) is
 *    at or below the reorder point, a forced buy (reason 'forced-reorder') up to reorder
 *    point + `orderUpToDays` of consumption, whatever the signal.
 * 2. Buy ahead (reason 'procure') on a cross up, or on every decision while the fast
 *    average is above the slow one when `buyWhileUp` is set, up to `maxCoverDays` of
 *    consumption, but only when holding pays and the price is acceptable:
 *
 *      driftPerDay = (fast_now / fast_then - 1) / days between them, fast_then being the
 *                    fast average `trendBars` bars back (the desk's history of closed
 *                    bars, so a restarted live run sees the same; nothing later is seen)
 *      expected rise over the hold  = marketUnitPrice x driftPerDay x holdDays
 *      carrying cost over the hold  = carryingPerUnitDay x holdDays
 *      buy ahead  iff  marketUnitPrice x driftPerDay > carryingPerUnitDay
 *                 and  marketUnitPrice < priceCap (when the cost feed has a cap)
 *
 *    holdDays is the extra cover bought (qty / dailyConsumption); it multiplies both
 *    sides, so the test is per unit-day. Until `trendBars` bars of the fast average are
 *    known the drift is unknown and nothing is bought ahead.
 * 3. On a cross down (or any other bar) only rule 1 buys.
 *
 * Every intent's cause carries the signal and the figures that justified it.
 */
import { z } from 'zod';
import { defineStrategy, type Intent, type StrategyContext } from '../src/engine/strategy.js';
import {
  buyIntent,
  buyToLevel,
  causeOf,
  checkSignalWindows,
  consumptionFor,
  DAY_MS,
  forcedReorderIntents,
  forcedReorderQty,
  inventoryFigures,
  inventoryPosition,
  positiveDays,
  signalParamShape,
} from './common.js';

export const MA_PROCUREMENT_NAME = 'ma-procurement';

const params = z.strictObject({
  ...signalParamShape,
  /** Days of consumption a forced reorder buys beyond the reorder point. */
  orderUpToDays: positiveDays(7),
  /** Ceiling on cover (days of consumption in the position) when buying ahead. */
  maxCoverDays: positiveDays(60),
  /** Decisions over which the fast average's slope gives the daily drift. */
  trendBars: z.number().int().min(1).max(250).default(5),
  /** Also buy ahead on every decision while the fast average is above the slow one, not only on the cross. */
  buyWhileUp: z.boolean().default(false),
});
export type MaProcurementParams = z.output<typeof params>;

/**
 * Relative change of the fast average per day over the last `trendBars` bars, from the
 * signal's own history; undefined until that history exists (or for a non-positive average).
 */
export function driftPerDay(signal: StrategyContext['signal'], trendBars: number): number | undefined {
  const then = signal.fastAgo(trendBars);
  if (then === undefined || !(then.fast > 0) || !Number.isFinite(signal.fast)) return undefined;
  const elapsedDays = (signal.barAt - then.at) / DAY_MS;
  if (!(elapsedDays > 0)) return undefined;
  return (signal.fast / then.fast - 1) / elapsedDays;
}

function decideMaProcurement(context: StrategyContext, p: MaProcurementParams): Intent[] {
  const { inventory, cost, signal } = context;

  const intents = forcedReorderIntents(context, MA_PROCUREMENT_NAME, p.orderUpToDays);
  const planned = forcedReorderQty(inventory, p.orderUpToDays);

  const rising = signal.crossing === 'up' || (p.buyWhileUp && signal.state === 1);
  if (!rising || inventory.dailyConsumption.isZero()) return intents;
  const drift = driftPerDay(signal, p.trendBars);
  if (drift === undefined) return intents;

  const risePerUnitDay = cost.marketUnitPrice.times(drift);
  const underCap = cost.priceCap === undefined || cost.marketUnitPrice.lessThan(cost.priceCap);
  if (!risePerUnitDay.greaterThan(cost.carryingPerUnitDay) || !underCap) return intents;

  const maxLevel = consumptionFor(inventory, p.maxCoverDays);
  const positionAfterForced = inventoryPosition(inventory).plus(planned);
  const qty = buyToLevel(positionAfterForced, maxLevel);
  if (qty.isZero()) return intents;

  const holdDays = qty.dividedBy(inventory.dailyConsumption);
  intents.push(
    buyIntent(
      context,
      MA_PROCUREMENT_NAME,
      qty,
      'procure',
      causeOf(
        context,
        {
          ...inventoryFigures(inventory),
          marketUnitPrice: cost.marketUnitPrice,
          priceCap: cost.priceCap,
          carryingPerUnitDay: cost.carryingPerUnitDay,
          driftPerDay: drift,
          expectedRisePerUnitDay: risePerUnitDay,
          holdDays,
          expectedRisePerUnit: risePerUnitDay.times(holdDays),
          carryingPerUnit: cost.carryingPerUnitDay.times(holdDays),
          maxCoverLevel: maxLevel,
        },
        `buy ahead to ${p.maxCoverDays} days of cover: price x drift ${risePerUnitDay.toString()} > carrying ${cost.carryingPerUnitDay.toString()} per unit-day` +
          (cost.priceCap === undefined ? ', no price cap' : `, price under cap ${cost.priceCap.toString()}`),
      ),
      true,
    ),
  );
  return intents;
}

export default defineStrategy({
  name: MA_PROCUREMENT_NAME,
  description:
    'Cost-aware buying: forced reorder at the reorder point whatever the signal; on a cross up buys ahead to maxCoverDays when price x drift beats the carrying cost per unit-day and the price is under the cap.',
  params,
  check: (p) => {
    const windows = checkSignalWindows(p);
    if (windows) return windows;
    if (p.orderUpToDays > p.maxCoverDays) {
      return { field: 'orderUpToDays', message: `orderUpToDays (${p.orderUpToDays}) must not exceed maxCoverDays (${p.maxCoverDays})` };
    }
    return undefined;
  },
  needs: (p) => ({ signal: { fast: p.fast, slow: p.slow, ma: p.ma } }),
  create: (p) => ({
    name: MA_PROCUREMENT_NAME,
    decide: (context) => decideMaProcurement(context, p),
  }),
});

