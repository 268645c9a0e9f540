/**
 * The cost feed's formulas, as small pure functions over Decimal so that each one can be
 * checked against a textbook figure (Jacobs & Chase's "Retailers Warehouse" safety stock,
 * Horngren's carrying cost). Nothing here rounds: rounding happens where a figure leaves the
 * feed (CostSnapshot's JSON form).
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { dividedBy, fromDecimal, fromInteger, minus, plus, squareRootOf, times, toDecimal, X_ZERO, type X } from './exact40.js';
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

/**
 * Buffer (safety) stock with variable demand and a fixed lead time: `z x sigmaDaily x
 * sqrt(leadTimeDays)`. The feed's buffer is `z x sigmaLeadTimeDemand(...)`, which is this
 * when the lead time does not vary.
 */
export function bufferStock(z: Decimal, sigmaDaily: Decimal, leadTimeDays: Decimal): Decimal {
  return bufferStockFromRoot(z, sigmaDaily, leadTimeDays.sqrt());
}

/** bufferStock with sqrt(leadTimeDays) already taken (the feed takes it once per material, not once per snapshot). */
export function bufferStockFromRoot(z: Decimal, sigmaDaily: Decimal, rootLeadTimeDays: Decimal): Decimal {
  return z.times(sigmaDaily).times(rootLeadTimeDays);
}

/**
 * Standard deviation of demand over the lead time, in material units, with variable daily
 * demand and a variable lead time (the textbook's sigma_DLT):
 * `sqrt(L x sigmaDaily^2 + meanDaily^2 x sigmaLeadTimeDays^2)`. With a fixed lead time
 * (sigmaLeadTimeDays = 0) it is `sigmaDaily x sqrt(L)`.
 */
export function sigmaLeadTimeDemand(leadTimeDays: Decimal, sigmaDaily: Decimal, meanDaily: Decimal, sigmaLeadTimeDays: Decimal): Decimal {
  return sigmaLeadTimeDemandWith(leadTimeDays, sigmaDaily, meanDaily.times(meanDaily).times(sigmaLeadTimeDays.times(sigmaLeadTimeDays)));
}

/** sigmaLeadTimeDemand with its second term, `meanDaily^2 x sigmaLeadTimeDays^2` (computed as written there), given. */
export function sigmaLeadTimeDemandWith(leadTimeDays: Decimal, sigmaDaily: Decimal, leadTerm: Decimal): Decimal {
  const variance = leadTimeDays.times(sigmaDaily.times(sigmaDaily)).plus(leadTerm);
  return variance.isZero() || variance.isNegative() ? ZERO : squareRoot(variance);
}

/**
 * sigmaLeadTimeDemandWith on exact40 values (the same operations in the same order, so the
 * same figure digit for digit; procura's half-even Decimal only, see exact40.exactArithmetic).
 */
export function sigmaLeadTimeDemandWithX(leadTimeDays: X, sigmaDaily: X, leadTerm: X): X {
  return sigmaLeadTimeDemandOfTerms(times(leadTimeDays, times(sigmaDaily, sigmaDaily)), leadTerm);
}

/** sigmaLeadTimeDemandWithX from its first term worked out (dailyTerm = times(leadTimeDays, times(sigmaDaily, sigmaDaily))). */
export function sigmaLeadTimeDemandOfTerms(dailyTerm: X, leadTerm: X): X {
  const variance = plus(dailyTerm, leadTerm);
  return variance.c <= 0n ? X_ZERO : squareRootOf(variance);
}

/**
 * Population standard deviation of daily forecast errors e = actual - planned over n days,
 * from the sums the feed keeps: sum of e and sum of e^2. Zero for n = 0.
 */
export function sigmaFromSums(n: number, sumErrors: Decimal, sumSquaredErrors: Decimal): Decimal {
  if (n <= 0) return ZERO;
  const mean = sumErrors.dividedBy(n);
  const variance = sumSquaredErrors.dividedBy(n).minus(mean.times(mean));
  return variance.isNegative() || variance.isZero() ? ZERO : squareRoot(variance);
}

/** sigmaFromSums on exact40 values (same operations, same order: the same figure digit for digit). */
export function sigmaFromSumsX(n: number, sumErrors: X, sumSquaredErrors: X): X {
  if (n <= 0) return X_ZERO;
  const count = fromInteger(n);
  const mean = dividedBy(sumErrors, count);
  const variance = minus(dividedBy(sumSquaredErrors, count), times(mean, mean));
  return variance.c <= 0n ? X_ZERO : squareRootOf(variance);
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
  return { mean, sigma: variance.isNegative() || variance.isZero() ? ZERO : squareRoot(variance) };
}

/**
 * `value.sqrt()` for a positive decimal, the same figure digit for digit, about ten times
 * faster. decimal.js rounds a square root correctly (as if computed exactly, then rounded to
 * `precision` significant digits with the configured rounding); so does this, from an integer
 * square root in BigInt with a sticky bit for the discarded part. Only half-even rounding is
 * done here (procura's Decimal); any other configuration falls back to decimal.js.
 */
export function squareRoot(value: Decimal): Decimal {
  const Ctor = value.constructor as typeof Decimal;
  if (Ctor !== Decimal || Ctor.rounding !== Decimal.ROUND_HALF_EVEN || !value.isFinite() || value.isNegative() || value.isZero()) return value.sqrt();
  // value = coefficient x 10^exponent read from decimal.js's base-1e7 words (no text); see exact40.ts.
  return toDecimal(squareRootOf(fromDecimal(value)));
}

/** One BOM line priced: `qty x (1 + scrap) x unitCost`. */
export function bomLineCost(qty: Decimal, scrap: Decimal, unitCost: Decimal): Decimal {
  return qty.times(scrap.plus(1)).times(unitCost);
}
