/**
 * Sizing: turns an intent's need into an order quantity the venue accepts. Quantities come
 * from the intent (a quantity, or a target position and the current position), never from
 * the account balance. The result is rounded DOWN to the lot step; an amount that rounds to
 * nothing, or falls under the market's minimum quantity or notional, is a recorded skip.
 */
import { Decimal, ZERO, floorToStep } from '../core/decimal.js';
import { POW10 } from '../core/decimal-number.js';
import { DecimalCache, Fixed } from '../core/fixed.js';
import { ProcuraError, ErrorCode } from '../core/errors.js';
import { lt } from './compare.js';
import type { Intent, MarketRules } from './types.js';

export type SkipReason = 'nothing to do' | 'rounds to zero' | 'below min qty' | 'below min notional';

/** A quantity the venue accepts. `wantedQty` is the need before rounding. */
export interface Sized {
  readonly kind: 'sized';
  readonly wantedQty: Decimal;
  readonly qty: Decimal;
  /** qty x price used for the minimum-notional test and the notional risk checks. */
  readonly notional: Decimal;
  readonly price: Decimal;
  readonly position: Decimal;
}

/** No order: the need is met or too small for the market. A value that shows up in results. */
export interface Skipped {
  readonly kind: 'skipped';
  readonly reason: SkipReason;
  readonly wantedQty: Decimal;
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly position: Decimal;
  readonly detail: string;
}

export type Sizing = Sized | Skipped;

export interface SizingInput {
  readonly intent: Intent;
  /** Current signed position in the intent's instrument (long positive). Used with `targetQty`. */
  readonly position: Decimal;
  readonly rules: MarketRules;
  /** The price a notional is measured at: the intent's limit price, or the reference (last) price. */
  readonly price: Decimal;
}

/**
 * The wanted quantity: `qty` as given, or for `targetQty` the distance from the position to
 * the target in the intent's direction (zero when the position is already at or beyond it).
 * An intent with neither, both, or a non-positive `qty` is a programming error and throws.
 */
export function wantedQuantity(intent: Intent, position: Decimal): Decimal {
  if ((intent.qty === undefined) === (intent.targetQty === undefined)) {
    throw new ProcuraError(ErrorCode.internal, `intent from strategy "${intent.strategy}" on "${intent.instrument}" must carry exactly one of qty or targetQty`);
  }
  if (intent.qty !== undefined) {
    if (!intent.qty.isPositive() || intent.qty.isZero()) {
      throw new ProcuraError(ErrorCode.internal, `intent from strategy "${intent.strategy}" on "${intent.instrument}" has qty ${intent.qty.toString()}; it must be greater than zero`);
    }
    return intent.qty;
  }
  const target = intent.targetQty as Decimal;
  const distance = intent.side === 'buy' ? target.minus(position) : position.minus(target);
  return distance.isPositive() && !distance.isZero() ? distance : ZERO;
}

/** Sizes an intent against the market's rules. Pure; see the module comment for the rules. */
export function sizeOrder(input: SizingInput): Sizing {
  const { intent, position, rules, price } = input;
  const wantedQty = wantedQuantity(intent, position);
  if (wantedQty.isZero()) {
    return skip('nothing to do', wantedQty, ZERO, price, position, `position ${position.toString()} already at or beyond target ${intent.targetQty?.toString() ?? ''}`);
  }
  const qty = lotFloor(wantedQty, rules.lotStep);
  if (qty.isZero()) {
    return skip('rounds to zero', wantedQty, qty, price, position, `${wantedQty.toString()} rounds down to 0 at lot step ${rules.lotStep.toString()}`);
  }
  if (lt(qty, rules.minQty)) {
    return skip('below min qty', wantedQty, qty, price, position, `${qty.toString()} is below the minimum quantity ${rules.minQty.toString()}`);
  }
  const notional = qty.times(price);
  if (lt(notional, rules.minNotional)) {
    return skip('below min notional', wantedQty, qty, price, position, `${qty.toString()} x ${price.toString()} = ${notional.toString()} is below the minimum notional ${rules.minNotional.toString()}`);
  }
  return { kind: 'sized', wantedQty, qty, notional, price, position };
}

/** A skip (a function of its own: a closure over sizeOrder's figures was built for every order). */
function skip(reason: SkipReason, wantedQty: Decimal, qty: Decimal, price: Decimal, position: Decimal, detail: string): Skipped {
  return { kind: 'skipped', reason, wantedQty, qty, price, position, detail };
}

/** The step of the last `wholeStepUnits` call and its answer (a run sizes against a handful of lot steps, most often the same one). */
let lastStep: Decimal | undefined;
let lastUnits: number | undefined;

/** A whole-number lot step above 1 (2,500 MMBtu, 1,000 bbl) as a number; undefined for any other step. */
function wholeStepUnits(step: Decimal): number | undefined {
  if (step === lastStep) return lastUnits;
  const f = Fixed.from(step);
  const units = f.big === undefined && f.e === 0 && f.m > 1 ? f.m : undefined;
  lastStep = step;
  lastUnits = units;
  return units;
}

/**
 * The quantities sized so far, one Decimal per value (core/fixed.ts's DecimalCache; a Decimal is
 * immutable): a run's orders and trades keep them, and a run sizes few values (25 among one
 * ammonia jit run's 10,624 trades, 51 among static-hedge's 11,716).
 */
const lotQuantities = new DecimalCache();

/**
 * `floorToStep(value, step)`, the same Decimal: for a whole-number step above 1 and a positive
 * value that is a safe integer at 12 places or fewer, floorToStep's integer branch
 * (`new Decimal(n - n mod step)` for n = floor(value)) with n taken from the value's scaled
 * integer (Fixed) instead of a Decimal floor and a digit count; everything else goes to
 * floorToStep. Equal quantities are one Decimal (lotQuantities).
 */
function lotFloor(value: Decimal, step: Decimal): Decimal {
  const units = wholeStepUnits(step);
  if (units !== undefined && value.isFinite()) {
    const f = Fixed.from(value);
    if (f.big === undefined && f.m > 0 && f.e <= 12) {
      const scale = POW10[f.e]!;
      const n = (f.m - (f.m % scale)) / scale;
      return lotQuantities.ofScaled(n - (n % units), 0);
    }
  }
  return lotQuantities.of(Fixed.from(floorToStep(value, step)));
}

/** Rounds a limit price to the tick in the trader's favour: buys down, sells up. */
export function roundLimitPrice(price: Decimal, side: 'buy' | 'sell', tick: Decimal): Decimal {
  if (tick.isZero()) return price;
  const steps = price.dividedBy(tick);
  return (side === 'buy' ? steps.floor() : steps.ceil()).times(tick);
}
