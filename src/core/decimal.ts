/**
 * The one configured Decimal for procura. Every amount of money and every quantity is built
 * here, from strings, and rounded only at named boundaries (`roundMoney`, the venue's lot
 * and tick steps). decimal.js defaults to 20 significant digits and rounds silently; 40
 * digits with banker's rounding keeps a 30-year daily ledger exact to the cent.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import { toNumberExact } from './decimal-number.js';
import { InputError, type Where } from './errors.js';

export const Decimal = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Decimal = DecimalJs;

/**
 * The constructor made the prototype of one object, once, so that V8 treats it as a prototype
 * from now on. Why, for speed: `clone` gives the constructor its configuration and decimal.js's
 * static methods one property at a time (63 of them), and V8 keeps such an object's
 * properties in a dictionary. Every decimal.js operation reads the configuration from it
 * (`Ctor.precision`, `Ctor.rounding`) and builds its result with `new Ctor(...)`, whose first
 * step, `x instanceof Decimal`, looks `Symbol.hasInstance` up on it; on a dictionary object
 * that is no ordinary property of any inline cache, and each read was a lookup in the
 * dictionary (about 20 ns an `instanceof`, 10 ns a `Decimal.precision`, on this machine).
 * Once the object is a prototype, V8 gives it a map of its own and the caches hold again
 * (about 1 ns and 0.3 ns): `plus` and `times` about 0.7x the time, `new Decimal(x)` about
 * 0.6x. Nothing about a value or an operation changes: the constructor, its properties and
 * every result stay as they were; only where V8 looks for them.
 */
Object.create(Decimal);

export const ZERO: Decimal = new Decimal(0);
export const ONE: Decimal = new Decimal(1);

/** Largest magnitude accepted from input: far above any real price or quantity, far below overflow. */
const MAX_INPUT_DIGITS = 18;
const DECIMAL_TEXT = /^[-+]?(\d+)(\.\d+)?$/;

/**
 * Parses a decimal from input text (or a finite JSON number) in plain notation only:
 * "12.50", "-3", "0.0001". Exponents ("1e999"), "NaN", "Infinity", empty strings and
 * magnitudes of more than 18 integer digits are refused with an InputError naming `where`.
 */
export function parseDecimal(raw: unknown, where: Where): Decimal {
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw new InputError(`expected a decimal number, got ${String(raw)}`, where);
    text = String(raw);
  } else if (typeof raw === 'string') {
    text = raw.trim();
  } else {
    throw new InputError(`expected a decimal string, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`, where);
  }
  const match = DECIMAL_TEXT.exec(text);
  if (!match) throw new InputError(`expected a plain decimal like "12.50", got ${JSON.stringify(raw)}`, where);
  if ((match[1] ?? '').replace(/^0+/, '').length > MAX_INPUT_DIGITS) {
    throw new InputError(`number out of range: ${JSON.stringify(raw)}`, where);
  }
  return new Decimal(text);
}

/** Like parseDecimal, and also refuses negative values. */
export function parseNonNegative(raw: unknown, where: Where): Decimal {
  const value = parseDecimal(raw, where);
  if (value.isNegative() && !value.isZero()) throw new InputError(`must not be negative, got ${value.toString()}`, where);
  return value;
}

/** Like parseDecimal, and also refuses zero and negative values. */
export function parsePositive(raw: unknown, where: Where): Decimal {
  const value = parseDecimal(raw, where);
  if (!value.isPositive() || value.isZero()) throw new InputError(`must be greater than zero, got ${value.toString()}`, where);
  return value;
}

/** Rounds money to the currency's minor unit (2 places unless told), half-even. */
export function roundMoney(value: Decimal, places = 2): Decimal {
  return value.toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN);
}

/*
 * Lot and tick steps without a 40-digit division. For the steps markets use, a power of ten (a
 * tick of 0.01, a lot of 1) or a whole number (a lot of 25 or 1,000), `floorToStep` and
 * `isMultipleOf` give exactly the Decimal the division gives (`value / step` floored times
 * `step`; `value.modulo(step).isZero()`); every other step, and every value outside the bounds
 * stated below, takes the division. The order path runs both for every order, and a backtest
 * that orders every day paid a visible share of its time in those divisions.
 */

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
/** Values with at most this many decimal places take the integer path of `floorToStep` (see there). */
const MAX_FLOOR_PLACES = 12;
const stepForms = new WeakMap<Decimal, StepForm>();

function stepFormOf(step: Decimal): StepForm {
  let form = stepForms.get(step);
  if (form === undefined) {
    form = { places: 0, units: undefined };
    if (step.isFinite() && step.isPositive() && !step.isZero()) {
      const places = step.decimalPlaces();
      const units = toNumberExact(step.times(new Decimal(10).pow(places)));
      if (Number.isInteger(units) && units < MAX_EXACT && (units === 1 || places === 0)) form = { places, units };
    }
    stepForms.set(step, form);
  }
  return form;
}

/**
 * Rounds a quantity down to a whole number of `step` (a venue's lot step): `value / step`,
 * floored, times `step`. For a positive value: a step of 10^-k is the value rounded toward
 * -infinity at k places (the division is an exact shift of the exponent while the value has at
 * most 40 digits); a whole-number step m is n - n mod m for n = floor(value) below 2^53, since
 * floor(value / m) = floor(floor(value) / m). The value has at most 12 decimal places there, so
 * the 40-digit quotient the division floors cannot have been rounded up to a whole number (the
 * exact quotient is at least 1 / (m x 10^12) below any whole number it is not).
 */
export function floorToStep(value: Decimal, step: Decimal): Decimal {
  if (step.isZero()) return value;
  const { places, units } = stepFormOf(step);
  if (units === undefined || !value.isFinite() || !value.isPositive() || value.isZero() || value.precision() > 40) return value.dividedBy(step).floor().times(step);
  if (units === 1) return value.toDecimalPlaces(places, Decimal.ROUND_FLOOR);
  if (value.decimalPlaces() > MAX_FLOOR_PLACES) return value.dividedBy(step).floor().times(step);
  const n = toNumberExact(value.floor());
  if (!(n < MAX_EXACT)) return value.dividedBy(step).floor().times(step);
  return new Decimal(n - (n % units));
}

/** `value.modulo(step).isZero()`: `value` is a whole number of `step`s (a venue's lot or tick test). */
export function isMultipleOf(value: Decimal, step: Decimal): boolean {
  const { places, units } = stepFormOf(step);
  if (units === undefined || !value.isFinite()) return value.modulo(step).isZero();
  // value x 10^places is an integer exactly when value has at most `places` decimal places.
  if (value.decimalPlaces() > places) return false;
  if (units === 1) return true;
  // A whole-number step and an integer value below 2^53: the remainder of two exact doubles is exact.
  const n = toNumberExact(value);
  if (!(Math.abs(n) < MAX_EXACT)) return value.modulo(step).isZero();
  return n % units === 0;
}

/** Rounds a price to the nearest `tick`. */
export function roundToTick(value: Decimal, tick: Decimal): Decimal {
  if (tick.isZero()) return value;
  return value.dividedBy(tick).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).times(tick);
}

/** Sum of decimals (ZERO for none). */
export function sum(values: Iterable<Decimal>): Decimal {
  let total = ZERO;
  for (const value of values) total = total.plus(value);
  return total;
}

/**
 * Splits `total` in proportion to `weights` so that the parts, each rounded to `places`,
 * sum exactly to `total` rounded to `places` (largest remainder method; ties go to the
 * earlier part). All-zero weights split equally.
 */
export function allocate(total: Decimal, weights: readonly Decimal[], places = 2): Decimal[] {
  if (weights.length === 0) return [];
  const target = total.toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN);
  const weightSum = sum(weights);
  const shares = weightSum.isZero()
    ? weights.map(() => target.dividedBy(weights.length))
    : weights.map((w) => target.times(w).dividedBy(weightSum));
  const unit = new Decimal(1).dividedBy(new Decimal(10).pow(places));
  const floored = shares.map((s) => s.dividedBy(unit).floor().times(unit));
  let leftover = target.minus(sum(floored));
  const order = shares
    .map((s, index) => ({ index, remainder: s.minus(floored[index]!) }))
    .sort((a, b) => b.remainder.comparedTo(a.remainder) || a.index - b.index);
  const parts = floored.slice();
  for (let k = 0; leftover.greaterThanOrEqualTo(unit) && k < order.length; k += 1) {
    const index = order[k]!.index;
    parts[index] = parts[index]!.plus(unit);
    leftover = leftover.minus(unit);
  }
  // Negative totals floor away from zero; hand back the excess the same way.
  for (let k = order.length - 1; leftover.isNegative() && !leftover.isZero() && k >= 0; k -= 1) {
    const index = order[k]!.index;
    parts[index] = parts[index]!.minus(unit);
    leftover = leftover.plus(unit);
  }
  return parts;
}

/** The canonical string for output: plain notation, no exponent, trailing zeros kept as computed. */
export function toText(value: Decimal): string {
  return value.toFixed();
}
