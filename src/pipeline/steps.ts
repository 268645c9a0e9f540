/**
 * Lot and tick steps without Decimal division: "is this a whole number of steps" (the venue's
 * test) and "round down to a whole number of steps" (sizing), each giving exactly what the
 * Decimal form gives (`value.modulo(step).isZero()`, `floorToStep(value, step)`), for the steps
 * markets use: a power of ten (a tick of 0.01, a lot of 1) or a whole number (a lot of 25 or
 * 1,000). Every other step, and every value outside the stated bounds, takes the Decimal form.
 * The order path ran both for every order; the 40-digit division behind each was a visible
 * share of a backtest that orders every day.
 */
import { Decimal, floorToStep } from '../core/decimal.js';
import { toNumberExact } from '../core/decimal-number.js';

/**
 * A step as `units` x 10^-`places` (`places` its decimal places, `units` an integer): kept
 * when the step is 10^-k (units 1) or a whole number below 2^53 (places 0); `units`
 * undefined for every other step.
 */
interface StepForm {
  readonly places: number;
  readonly units: number | undefined;
}

const MAX_EXACT = 2 ** 53;
/** Values with at most this many decimal places take the integer path of `floorToLot` (see there). */
const MAX_FLOOR_PLACES = 12;
const forms = new WeakMap<Decimal, StepForm>();

function formOf(step: Decimal): StepForm {
  let form = forms.get(step);
  if (form === undefined) {
    form = { places: 0, units: undefined };
    if (step.isFinite() && step.isPositive() && !step.isZero()) {
      const places = step.decimalPlaces();
      const units = toNumberExact(step.times(new Decimal(10).pow(places)));
      if (Number.isInteger(units) && units < MAX_EXACT && (units === 1 || places === 0)) form = { places, units };
    }
    forms.set(step, form);
  }
  return form;
}

/** `value.modulo(step).isZero()`: `value` is a whole number of `step`s. */
export function isMultipleOf(value: Decimal, step: Decimal): boolean {
  const { places, units } = formOf(step);
  if (units === undefined || !value.isFinite()) return value.modulo(step).isZero();
  // value x 10^places is an integer exactly when value has at most `places` decimal places.
  if (value.decimalPlaces() > places) return false;
  if (units === 1) return true;
  // A whole-number step and an integer value below 2^53: the remainder of two exact doubles is exact.
  const n = toNumberExact(value);
  if (!(Math.abs(n) < MAX_EXACT)) return value.modulo(step).isZero();
  return n % units === 0;
}

/**
 * `floorToStep(value, step)` (value / step, floored, times step), the same Decimal. For a
 * positive value: a step of 10^-k is the value rounded toward -infinity at k places (the
 * division is an exact shift of the exponent while the value has at most 40 digits); a
 * whole-number step m is n - n mod m for n = floor(value) below 2^53, since floor(value / m) =
 * floor(floor(value) / m). The value has at most 12 decimal places there, so the 40-digit
 * quotient the Decimal form floors cannot have been rounded up to a whole number (the exact
 * quotient is at least 1 / (m x 10^12) below any whole number it is not).
 */
export function floorToLot(value: Decimal, step: Decimal): Decimal {
  const { places, units } = formOf(step);
  if (units === undefined || !value.isFinite() || !value.isPositive() || value.isZero() || value.precision() > 40) return floorToStep(value, step);
  if (units === 1) return value.toDecimalPlaces(places, Decimal.ROUND_FLOOR);
  if (value.decimalPlaces() > MAX_FLOOR_PLACES) return floorToStep(value, step);
  const n = toNumberExact(value.floor());
  if (!(n < MAX_EXACT)) return floorToStep(value, step);
  return new Decimal(n - (n % units));
}
