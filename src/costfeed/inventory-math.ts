/**
 * The cost feed's formulas, as small pure functions over Decimal so that each one can be
 * checked against a textbook figure (Jacobs & Chase's "Retailers Warehouse" safety stock,
 * Horngren's carrying cost). Nothing here rounds: rounding happens where a figure leaves the
 * feed (CostSnapshot's JSON form).
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { inverseNormalCdf } from './normal.js';

const DAYS_PER_YEAR = new Decimal(365);

/**
 * Carrying cost of one unit for one day: `value x annualRate / 365 + storagePerUnitDay`
 * (Horngren: opportunity cost of the money tied up plus the cost of storage).
 */
export function carryingPerUnitDay(value: Decimal, annualRate: Decimal, storagePerUnitDay: Decimal = ZERO): Decimal {
  return value.times(annualRate).dividedBy(DAYS_PER_YEAR).plus(storagePerUnitDay);
}

/**
 * The safety factor z for a cycle service level (the probability of no stockout in a lead
 * time): the inverse standard normal CDF, rounded to 6 decimals (0.95 -> 1.644854,
 * 0.98 -> 2.053749). Service levels outside [0.5, 1) are refused with a RangeError (below 0.5
 * the buffer would be negative).
 */
export function zForServiceLevel(serviceLevel: Decimal): Decimal {
  const p = serviceLevel.toNumber();
  if (!(p >= 0.5 && p < 1)) throw new RangeError(`service level must be at least 0.5 and below 1, got ${serviceLevel.toFixed()}`);
  return new Decimal(inverseNormalCdf(p).toFixed(6));
}

/** Buffer (safety) stock with variable demand and a fixed lead time: `z x sigmaDaily x sqrt(leadTimeDays)`. */
export function bufferStock(z: Decimal, sigmaDaily: Decimal, leadTimeDays: Decimal): Decimal {
  return z.times(sigmaDaily).times(leadTimeDays.sqrt());
}

/** Reorder point: `meanDaily x leadTimeDays + bufferStock`. */
export function reorderPoint(meanDaily: Decimal, leadTimeDays: Decimal, buffer: Decimal): Decimal {
  return meanDaily.times(leadTimeDays).plus(buffer);
}

/** Days the physical stock (on hand + on order) lasts at the mean daily consumption; null when nothing is consumed. */
export function daysOfCover(onHand: Decimal, onOrder: Decimal, meanDaily: Decimal): Decimal | null {
  if (meanDaily.isZero() || meanDaily.isNegative()) return null;
  return onHand.plus(onOrder).dividedBy(meanDaily);
}

/**
 * Unhedged exposure over the horizon: forecast consumption that is neither on hand, on order
 * nor hedged, never below zero.
 */
export function exposureQty(forecastQty: Decimal, onHand: Decimal, onOrder: Decimal, hedged: Decimal): Decimal {
  const open = forecastQty.minus(onHand).minus(onOrder).minus(hedged);
  return open.isNegative() ? ZERO : open;
}

/**
 * Mean and population standard deviation from a count, a sum and a sum of squares (the
 * horizon is the whole set of days considered, not a sample of it). A tiny negative variance
 * from cancellation cannot occur with exact decimals but is clamped to zero all the same.
 */
export function meanAndSigma(count: number, total: Decimal, totalSquares: Decimal): { mean: Decimal; sigma: Decimal } {
  if (count <= 0) return { mean: ZERO, sigma: ZERO };
  const mean = total.dividedBy(count);
  const variance = totalSquares.dividedBy(count).minus(mean.times(mean));
  return { mean, sigma: variance.isNegative() || variance.isZero() ? ZERO : variance.sqrt() };
}

/** One BOM line priced: `qty x (1 + scrap) x unitCost`. */
export function bomLineCost(qty: Decimal, scrap: Decimal, unitCost: Decimal): Decimal {
  return qty.times(scrap.plus(1)).times(unitCost);
}
