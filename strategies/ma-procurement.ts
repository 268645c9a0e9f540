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
import type { Decimal } from '../src/core/decimal.js';
import { defineStrategy, type IntentCause, type RuleBuy, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import {
  above,
  bufferStockFigure,
  buyToLevel,
  causeOf,
  checkSignalWindows,
  consumptionFor,
  DAY_MS,
  forcedReorder,
  forcedReorderCause,
  forcedReorderQty,
  inventoryPosition,
  type InventoryFigures,
  NOTHING,
  onHandFigure,
  positionOf,
  positiveDays,
  reorderPointFigure,
  ruleStrategy,
  shortOf,
  signalParamShape,
  withInventory,
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
 * Relative change per day of the fast average from `thenFast` (at `thenAt`) to `fast` (at
 * `barAt`); undefined when either is unknown (NaN) or the earlier average is not positive.
 */
export function driftBetween(fast: number, barAt: number, thenFast: number, thenAt: number): number | undefined {
  if (!(thenFast > 0) || !Number.isFinite(fast)) return undefined;
  const elapsedDays = (barAt - thenAt) / DAY_MS;
  if (!(elapsedDays > 0)) return undefined;
  return (fast / thenFast - 1) / elapsedDays;
}

/**
 * Relative change of the fast average per day over the last `trendBars` bars, from the
 * signal's own history; undefined until that history exists (or for a non-positive average).
 */
export function driftPerDay(signal: StrategyContext['signal'], trendBars: number): number | undefined {
  const then = signal.fastAgo(trendBars);
  return then === undefined ? undefined : driftBetween(signal.fast, signal.barAt, then.fast, then.at);
}

/** The same over a RuleContext. */
export function driftOf(x: RuleContext, trendBars: number): number | undefined {
  return driftBetween(x.fast, x.barAt, x.fastAgo(trendBars), x.barAtAgo(trendBars));
}

/** Rule 2's test: rising, the drift known, price x drift above carrying and the price under the cap. */
function buysAhead(x: RuleContext, p: MaProcurementParams): boolean {
  const rising = x.crossing === 1 || (p.buyWhileUp && x.signalState === 1);
  if (!rising || x.dailyConsumption === 0) return false;
  const drift = driftOf(x, p.trendBars);
  if (drift === undefined) return false;
  const underCap = Number.isNaN(x.priceCap) || x.price < x.priceCap;
  return above(x.price * drift, x.carryingPerUnitDay) && underCap;
}

/** The ma-procurement rule (both engines): rule 1's forced reorder, then rule 2's buy ahead up to `maxCoverDays`. */
export function maProcurementRule(x: RuleContext, p: MaProcurementParams): RuleDecision {
  const forced = forcedReorder(x, p.orderUpToDays);
  const ahead = buysAhead(x, p) ? shortOf(positionOf(x) + forced, x.dailyConsumption * p.maxCoverDays) : 0;
  if (!(forced > 0) && !(ahead > 0)) return NOTHING;
  const buys: RuleBuy[] = [];
  if (forced > 0) buys.push({ qty: forced, reason: 'forced-reorder', discretionary: false });
  if (ahead > 0) buys.push({ qty: ahead, reason: 'procure', discretionary: true });
  return { buys };
}

/** The buy-ahead cause's derived figures, worked out when it is first printed. */
interface AheadFigures {
  readonly rise: Decimal;
  readonly maxLevel: Decimal;
  readonly holdDays: Decimal;
}

/**
 * The cause of the buy ahead, from the exact figures. The figures are taken now (immutable
 * Decimals, the drift as a number: the signal's history moves on) and the derived ones (the
 * quantity, its hold days: a 40-digit division) and the note are worked out when the cause is
 * first printed, with the same operations in the same order as when they were eager.
 */
function aheadCause(context: StrategyContext, p: MaProcurementParams): IntentCause {
  const { inventory, cost } = context;
  const drift = driftPerDay(context.signal, p.trendBars) ?? Number.NaN;
  const onOrder = inventory.onOrder;
  const daily = inventory.dailyConsumption;
  const price = cost.marketUnitPrice;
  const cap = cost.priceCap;
  const carrying = cost.carryingPerUnitDay;
  let worked: AheadFigures | undefined;
  const work = (): AheadFigures => {
    if (worked !== undefined) return worked;
    // The shared reorder helpers over the figures taken (on hand, the reorder point and the buffer stock from the view as of the decision: see withInventory).
    const figures: InventoryFigures = { onHand: inventory.onHand, onOrder, dailyConsumption: daily, reorderPoint: inventory.reorderPoint, bufferStock: inventory.bufferStock };
    const rise = price.times(drift);
    const maxLevel = consumptionFor(figures, p.maxCoverDays);
    const qty = buyToLevel(inventoryPosition(figures).plus(forcedReorderQty(figures, p.orderUpToDays)), maxLevel);
    worked = { rise, maxLevel, holdDays: qty.dividedBy(daily) };
    return worked;
  };
  return causeOf(
    context,
    withInventory(
      {
        onHand: onHandFigure,
        onOrder,
        dailyConsumption: daily,
        reorderPoint: reorderPointFigure,
        bufferStock: bufferStockFigure,
        marketUnitPrice: price,
        priceCap: cap,
        carryingPerUnitDay: carrying,
        driftPerDay: drift,
        expectedRisePerUnitDay: () => work().rise,
        holdDays: () => work().holdDays,
        expectedRisePerUnit: () => work().rise.times(work().holdDays),
        carryingPerUnit: () => carrying.times(work().holdDays),
        maxCoverLevel: () => work().maxLevel,
      },
      inventory,
    ),
    () =>
      `buy ahead to ${p.maxCoverDays} days of cover: price x drift ${work().rise.toString()} > carrying ${carrying.toString()} per unit-day` +
      (cap === undefined ? ', no price cap' : `, price under cap ${cap.toString()}`),
  );
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
  create: (p) =>
    ruleStrategy(MA_PROCUREMENT_NAME, { decide: (x) => maProcurementRule(x, p) }, { buy: (context, _x, buy) => (buy.reason === 'forced-reorder' ? forcedReorderCause(context, p.orderUpToDays) : aheadCause(context, p)) }),
  fast: (p) => ({ decide: (x) => maProcurementRule(x, p) }),
});

