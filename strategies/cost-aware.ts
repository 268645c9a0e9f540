/**
 * `cost-aware`: physical buying sized from the cost figures the ledger and the venue give,
 * not from fixed day counts.
 *
 * 1. **Order quantity (EOQ)**: Q* = sqrt(2 D K / h), D the forecast daily demand, K the venue's
 *    fixed fee per order, h the carrying cost of a unit for a day at the market price (price x
 *    the plant's carrying rate / 365 + storage). The cycle is Q* / D days, at least one review
 *    (a day): with no fixed fee the rule orders every day, as `jit` does.
 * 2. **Safety stock from the economics of a stockout** (newsvendor critical ratio): a unit short
 *    costs the emergency premium x price (c_u), a unit held over costs its carrying over the
 *    cycle (c_o); CR = c_u / (c_u + c_o), z = inverse normal of CR (capped at `maxZ`): the
 *    protection against demand over the lead time must be z x sigma_LT (the cost feed's sigma
 *    of demand over the lead time, from forecast error and lead-time variability). Reorder
 *    point s = D x L + safety stock; when the position (on hand + on order) is at or below
 *    s + D (tomorrow's need would take it to s), buy up to s + D x cycle. An order placed today
 *    arrives before the day L days on is consumed and tomorrow's order the day after, so the
 *    position after a decision covers L days of demand with at least s + D: while deliveries
 *    arrive on time (the desk's sigma_L is 0) the day D already protects, and the safety stock
 *    is what is left, max(0, z x sigma_LT - D) (`jit` keeps its service-level buffer on top of
 *    the same day). Once deliveries came late (in a backtest: an order waiting for a bar
 *    across a holiday longer than the lead time), the day is the cover for lateness and the
 *    safety stock is the whole z x sigma_LT.
 * 3. **Buying ahead only while it pays**: the expected rise per unit-day is price x the fast
 *    average's drift (as `ma-procurement` measures it), but no more than the rise that
 *    actually followed a rising signal on average so far (price x mean rise over the track
 *    horizon / its days; nothing when that was not a rise), shrunk by the signal's own
 *    walk-forward track record as of the decision, skill = max(0, 2 x hit rate - 1) (0 for a
 *    coin toss, 1 for a perfect record; nothing until `minTrials` predictions were scored). A forecast
 *    fades: the expected rise of the H-th day of hold is rise x exp(-H / tau), tau the track
 *    horizon in days, so holding one more day pays while rise x exp(-H / tau) > h. The extra
 *    cover is therefore H* = tau x ln(shrunk rise / h) days (capped at `maxCoverDays`): zero
 *    when the margin is gone, longer the larger it is, never all or nothing. Buying ahead also
 *    stays under the price cap from the product's target unit cost.
 *
 * The arithmetic is written as pure functions over plain numbers (`decideCostAware`), run by
 * both engines through `costAwareRule` over RuleContext; the exact engine turns quantities into
 * Decimals at the intent. Every intent's cause carries the figures that justified it.
 */
import { z } from 'zod';
import { defineStrategy, inverseNormalCdf, type IntentCause, type RuleBuy, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import { causeOf, checkSignalWindows, DAY_MS, inventoryFigures, NOTHING, positionOf, positiveDays, ruleStrategy, signalParamShape } from './common.js';
import { driftOf } from './ma-procurement.js';

export const COST_AWARE_NAME = 'cost-aware';

const params = z.strictObject({
  ...signalParamShape,
  /** Bars over which the fast average's slope gives the drift (the prediction the track record scores). */
  trendBars: z.number().int().min(1).max(250).default(5),
  /** Bars after a prediction at which it is scored (and tau, the forecast's fading time, in days of those bars). */
  trackBars: z.number().int().min(1).max(250).default(20),
  /** Scored predictions needed before the record is trusted at all. */
  minTrials: z.number().int().min(1).default(50),
  /** Ceiling on the extra cover bought ahead, in days of demand. */
  maxCoverDays: positiveDays(60),
  /** Ceiling on the safety factor z (a critical ratio near 1 would ask for unbounded stock). */
  maxZ: z.number().min(0).max(5).default(3.5),
});
export type CostAwareParams = z.output<typeof params>;

/** Carrying cost of one unit for one day at the market price: price x annual rate / 365 + storage. */
export function carryingAtMarket(price: number, annualRate: number, storagePerUnitDay: number): number {
  return (Math.max(0, price) * annualRate) / 365 + storagePerUnitDay;
}

/** EOQ in units: sqrt(2 D K / h), D per day, K per order, h per unit-day; 0 when there is no fixed order cost. */
export function economicOrderQty(dailyDemand: number, orderCost: number, carryingPerUnitDay: number): number {
  if (!(dailyDemand > 0) || !(orderCost > 0)) return 0;
  if (!(carryingPerUnitDay > 0)) return Number.POSITIVE_INFINITY;
  return Math.sqrt((2 * dailyDemand * orderCost) / carryingPerUnitDay);
}

/** Newsvendor critical ratio c_u / (c_u + c_o), and the safety factor z it implies (capped at maxZ, floored at 0). */
export function criticalRatio(shortCost: number, overCost: number, maxZ: number): { ratio: number; z: number } {
  if (!(shortCost > 0)) return { ratio: 0, z: 0 };
  if (!(overCost > 0)) return { ratio: 1, z: maxZ };
  const ratio = shortCost / (shortCost + overCost);
  const z = ratio >= 1 ? maxZ : ratio <= 0.5 ? 0 : Math.min(maxZ, inverseNormalCdf(ratio));
  return { ratio, z };
}

/** Skill of a forecast from its hit rate: max(0, 2 x hits / trials - 1), zero until minTrials were scored. */
export function skillOf(hits: number, trials: number, minTrials: number): number {
  if (trials < minTrials || trials === 0) return 0;
  return Math.max(0, (2 * hits) / trials - 1);
}

/**
 * Extra cover worth holding when a rise of `risePerUnitDay` (already shrunk) fades with time
 * constant `tauDays` and holding costs `carryingPerUnitDay`: H* = tau x ln(rise / h), 0 when
 * the rise does not beat the carrying, at most maxDays.
 */
export function extraCoverDays(risePerUnitDay: number, carryingPerUnitDay: number, tauDays: number, maxDays: number): number {
  if (!(risePerUnitDay > carryingPerUnitDay) || !(carryingPerUnitDay > 0) || !(tauDays > 0)) return 0;
  return Math.min(maxDays, tauDays * Math.log(risePerUnitDay / carryingPerUnitDay));
}

/** Plain-number inputs of one decision. */
export interface CostAwareInputs {
  readonly dailyDemand: number;
  readonly sigmaLeadTimeDemand: number;
  readonly leadTimeDays: number;
  /** Standard deviation of the realised order-to-receipt times, days (0: every delivery on time). */
  readonly sigmaLeadTimeDays: number;
  readonly position: number;
  readonly price: number;
  readonly priceCap: number | undefined;
  readonly carryingAnnualRate: number;
  readonly storagePerUnitDay: number;
  readonly orderFixedCost: number;
  readonly emergencyPremium: number;
  /** Price x drift per day before shrinking; undefined while the drift is unknown. */
  readonly risePerUnitDay: number | undefined;
  readonly hits: number;
  readonly trials: number;
  /** Mean relative rise of the price over the track horizon after a rising prediction (scored ones). */
  readonly meanRiseAfterUp: number;
  /** Days the track horizon spans (tau). */
  readonly tauDays: number;
}

/** What the rule decides, with every figure behind it. */
export interface CostAwareDecision {
  readonly carryingPerUnitDay: number;
  readonly eoq: number;
  readonly cycleDays: number;
  readonly criticalRatio: number;
  readonly z: number;
  readonly safetyStock: number;
  readonly reorderPoint: number;
  readonly orderUpTo: number;
  /** Quantity to buy for consumption (0 when the position is above the trigger). */
  readonly baseQty: number;
  readonly skill: number;
  readonly shrunkRisePerUnitDay: number;
  readonly extraDays: number;
  /** Quantity bought ahead on top (discretionary). */
  readonly aheadQty: number;
}

/** The cost-aware rule over plain numbers (see the module comment). */
export function decideCostAware(x: CostAwareInputs, p: Pick<CostAwareParams, 'minTrials' | 'maxCoverDays' | 'maxZ'>): CostAwareDecision {
  const d = x.dailyDemand;
  const h = carryingAtMarket(x.price, x.carryingAnnualRate, x.storagePerUnitDay);
  const eoq = economicOrderQty(d, x.orderFixedCost, h);
  const cycleDays = d > 0 ? Math.max(1, Math.min(eoq / d, 365)) : 1;
  const { ratio, z } = criticalRatio(x.emergencyPremium * Math.max(0, x.price), h * cycleDays, p.maxZ);
  // The rule keeps the position above s + a day's demand (it orders when tomorrow's need would
  // take it to s), so over the lead time it always holds that day on top of the safety stock.
  // While deliveries come on time (sigma_L = 0) the day counts towards the z x sigma_LT the
  // critical ratio asks for; once some came late, it is the cover for lateness, whose tail (a
  // few deliveries days late, none early) a normal sigma_L understates.
  const dayCounts = x.sigmaLeadTimeDays === 0 ? d : 0;
  const safetyStock = Math.max(0, z * x.sigmaLeadTimeDemand - dayCounts);
  const reorderPoint = d * x.leadTimeDays + safetyStock;
  const orderUpTo = reorderPoint + d * cycleDays;
  const baseQty = d > 0 && x.position <= reorderPoint + d ? Math.max(0, orderUpTo - x.position) : 0;
  const skill = skillOf(x.hits, x.trials, p.minTrials);
  const realised = x.tauDays > 0 ? (Math.max(0, x.price) * x.meanRiseAfterUp) / x.tauDays : 0;
  const rise = x.risePerUnitDay === undefined ? 0 : Math.min(Math.max(0, x.risePerUnitDay), Math.max(0, realised));
  const shrunk = rise * skill;
  const underCap = x.priceCap === undefined || x.price < x.priceCap;
  const extraDays = underCap && d > 0 ? extraCoverDays(shrunk, h, x.tauDays, p.maxCoverDays) : 0;
  // Buying ahead tops the position up to the order-up-to level plus the extra cover.
  const aheadLevel = orderUpTo + d * extraDays;
  const afterBase = x.position + baseQty;
  const aheadQty = extraDays > 0 ? Math.max(0, aheadLevel - afterBase) : 0;
  return { carryingPerUnitDay: h, eoq, cycleDays, criticalRatio: ratio, z, safetyStock, reorderPoint, orderUpTo, baseQty, skill, shrunkRisePerUnitDay: shrunk, extraDays, aheadQty };
}

/** Days between the last two bars (the series' cadence), at least 1; 1 until two bars are known. */
function barDaysOf(x: RuleContext): number {
  const thenAt = x.barAtAgo(1);
  if (Number.isNaN(thenAt)) return 1;
  return Math.max(1, Math.round((x.barAt - thenAt) / DAY_MS));
}

/** The rule's inputs from a RuleContext. */
export function costAwareInputs(x: RuleContext, p: CostAwareParams): CostAwareInputs {
  const drift = driftOf(x, p.trendBars);
  return {
    dailyDemand: x.dailyConsumption,
    sigmaLeadTimeDemand: x.sigmaLeadTimeDemand,
    leadTimeDays: x.leadTimeDays,
    sigmaLeadTimeDays: x.sigmaLeadTimeDays,
    position: positionOf(x),
    price: x.price,
    priceCap: Number.isNaN(x.priceCap) ? undefined : x.priceCap,
    carryingAnnualRate: x.carryingAnnualRate,
    storagePerUnitDay: x.storagePerUnitDay,
    orderFixedCost: x.orderFixedCost,
    emergencyPremium: x.emergencyPremium,
    risePerUnitDay: drift === undefined ? undefined : x.price * drift,
    hits: x.trackHits,
    trials: x.trackTrials,
    meanRiseAfterUp: x.trackMeanRise,
    tauDays: p.trackBars * barDaysOf(x),
  };
}

/** The cost-aware rule (both engines): the base buy, then the buy ahead (discretionary). */
export function costAwareRule(x: RuleContext, p: CostAwareParams): RuleDecision {
  const d = decideCostAware(costAwareInputs(x, p), p);
  if (!(d.baseQty > 0) && !(d.aheadQty > 0)) return NOTHING;
  const buys: RuleBuy[] = [];
  if (d.baseQty > 0) buys.push({ qty: d.baseQty, reason: 'procure', discretionary: false });
  if (d.aheadQty > 0) buys.push({ qty: d.aheadQty, reason: 'procure', discretionary: true });
  return { buys };
}

/** The cause of a cost-aware buy: the exact inventory and cost figures, and the rule's own. */
function costAwareCause(context: StrategyContext, x: RuleContext, buy: RuleBuy, p: CostAwareParams): IntentCause {
  const { inventory, cost } = context;
  const inputs = costAwareInputs(x, p);
  const d = decideCostAware(inputs, p);
  const figures = {
    ...inventoryFigures(inventory),
    sigmaLeadTimeDemand: inventory.sigmaLeadTimeDemand,
    sigmaLeadTimeDays: inventory.sigmaLeadTimeDays,
    marketUnitPrice: cost.marketUnitPrice,
    carryingPerUnitDayAtMarket: d.carryingPerUnitDay,
    orderFixedCost: cost.orderFixedCost,
    eoq: d.eoq,
    cycleDays: d.cycleDays,
    emergencyPremium: cost.emergencyPremium,
    criticalRatio: d.criticalRatio,
    z: d.z,
    safetyStock: d.safetyStock,
    costAwareReorderPoint: d.reorderPoint,
    orderUpTo: d.orderUpTo,
  };
  if (!buy.discretionary) {
    return causeOf(context, figures, `position at or below reorder point ${d.reorderPoint.toFixed(0)} + a day's demand: buy up to ${d.orderUpTo.toFixed(0)} (EOQ cycle ${d.cycleDays.toFixed(1)} days; safety z ${d.z.toFixed(2)} from critical ratio ${d.criticalRatio.toFixed(4)})`);
  }
  return causeOf(
    context,
    {
      ...figures,
      priceCap: cost.priceCap,
      driftPerDay: driftOf(x, p.trendBars),
      risePerUnitDay: inputs.risePerUnitDay,
      trackHits: inputs.hits,
      trackTrials: inputs.trials,
      meanRiseAfterUp: inputs.meanRiseAfterUp,
      skill: d.skill,
      shrunkRisePerUnitDay: d.shrunkRisePerUnitDay,
      tauDays: inputs.tauDays,
      extraCoverDays: d.extraDays,
    },
    `buy ahead ${d.extraDays.toFixed(1)} days: rise ${d.shrunkRisePerUnitDay.toPrecision(4)} per unit-day (shrunk by skill ${d.skill.toFixed(3)} from ${inputs.hits}/${inputs.trials} hits) beats carrying ${d.carryingPerUnitDay.toPrecision(4)} at market`,
  );
}

export default defineStrategy({
  name: COST_AWARE_NAME,
  description:
    'Cost-aware buying: EOQ from the venue\'s fixed fee and carrying at market, safety stock from the critical ratio of the emergency premium against carrying, buying ahead only while the drift, shrunk by the signal\'s own hit rate, beats carrying, for a cover sized by that margin.',
  params,
  check: (p) => checkSignalWindows(p),
  needs: (p) => ({ signal: { fast: p.fast, slow: p.slow, ma: p.ma, track: { trendBars: p.trendBars, horizonBars: p.trackBars } } }),
  create: (p) => ruleStrategy(COST_AWARE_NAME, { decide: (x) => costAwareRule(x, p) }, { buy: (context, x, buy) => costAwareCause(context, x, buy, p) }),
  fast: (p) => ({ decide: (x) => costAwareRule(x, p) }),
});
