/**
 * Risk checks. Each check is a small pure function that returns a verdict (allowed or
 * denied, with a reason in words); a denial is a value that the pipeline records in its
 * journal and counts in results, never an exception. All checks run for every sized order,
 * so a result shows every limit an order would have broken, not only the first.
 *
 * The limits live in a `RiskConfig` validated by zod (unknown keys rejected).
 */
import { z } from 'zod';
import { decimalSchema } from '../config/schemas.js';
import { ZERO, type Decimal } from '../core/decimal.js';
import { ConfigError, type Where } from '../core/errors.js';
import { eq, gt, lt, plusToZero } from './compare.js';
import type { Intent, IntentReason } from './types.js';

export const TradingState = { active: 'active', reducingOnly: 'reducing-only', halted: 'halted' } as const;
export type TradingState = (typeof TradingState)[keyof typeof TradingState];

const REASONS = ['procure', 'hedge', 'unwind', 'forced-reorder', 'emergency'] as const satisfies readonly IntentReason[];
const positive = decimalSchema((v) => (v.greaterThan(0) ? undefined : `must be greater than zero, got ${v.toFixed()}`));
const ratio = decimalSchema((v) => (v.greaterThan(0) && v.lessThanOrEqualTo(1) ? undefined : `must be greater than 0 and at most 1 (a fraction, 1 = 100 %), got ${v.toFixed()}`));

/** The risk limits (input shape: decimals as strings or numbers). */
export const RiskConfigSchema = z.strictObject({
  /** Largest notional (qty x limit or reference price) of one order, in the quote currency. */
  maxOrderNotional: positive,
  /** Largest total notional of orders sent per UTC day (the intent's day). */
  maxDailyNotional: positive,
  /** Largest hedge position as a fraction of exposure; never above 1 (100 %). */
  maxHedgeRatio: ratio.prefault('1'),
  /** Largest distance of the order's price from the last price, as a fraction (0.1 = 10 %). */
  maxDeviationFromLast: positive.prefault('0.1'),
  /** The trading state the pipeline starts in (a stored state from an earlier run wins). */
  tradingState: z.enum(['active', 'reducing-only', 'halted']).default('active'),
  /** Reasons still allowed to add to a position in reducing-only (keeping the plant supplied is not speculation). */
  reducingOnlyExemptReasons: z.array(z.enum(REASONS)).default(['forced-reorder', 'emergency']),
  /**
   * Largest number of child orders an order above maxOrderNotional is split into (1: no split,
   * such an order is denied). 1 by default, so scenarios backtest as before; live configs
   * default to 10 (src/live/config.ts). Set it in a scenario to backtest a live desk's splits.
   */
  maxChildOrders: z.int().min(1).max(100).default(1),
  /** How many times one order may be sent after unknown outcomes (each re-send only after a lookup found nothing). */
  maxSubmitAttempts: z.int().min(1).max(10).default(3),
});

/** Validated, frozen risk limits. */
export type RiskLimits = Readonly<z.output<typeof RiskConfigSchema>>;

/**
 * Validates risk limits; unknown keys and bad values throw a ConfigError naming the field
 * (prefixed by `where.field`, e.g. `risk.maxOrderNotional`) and the file when given.
 */
export function parseRiskConfig(raw: unknown, where: Where = {}): RiskLimits {
  const result = RiskConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.');
    const field = [where.field, path].filter((p) => p !== undefined && p !== '').join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} in risk limits` : issue.message;
    throw new ConfigError(message, { ...where, field: field === '' ? undefined : field });
  }
  return Object.freeze({ ...result.data, reducingOnlyExemptReasons: Object.freeze([...result.data.reducingOnlyExemptReasons]) }) as RiskLimits;
}

export type RiskCheckName = 'trading-state' | 'order-notional' | 'daily-notional' | 'hedge-ratio' | 'price-cap' | 'price-collar';

/** One check's recorded decision. */
export interface RiskVerdict {
  readonly check: RiskCheckName;
  readonly allowed: boolean;
  readonly reason: string;
}

/** What the checks look at for one sized order. */
export interface RiskInput {
  readonly intent: Intent;
  readonly qty: Decimal;
  /** The order's price: its limit price, or the reference price for a market order. */
  readonly price: Decimal;
  readonly notional: Decimal;
  /** Signed position in the instrument before the order (long positive). */
  readonly position: Decimal;
  readonly tradingState: TradingState;
  /** Notional already sent today. */
  readonly dayNotional: Decimal;
  readonly lastPrice: Decimal;
  /** Max unit price for buys of this instrument (from the product's target unit cost); no cap when absent. */
  readonly priceCap?: Decimal | undefined;
  /** Forecast exposure (quantity) the hedge covers; required for `hedge` intents. */
  readonly exposure?: Decimal | undefined;
  /** Signed hedge position before the order; defaults to `position`. */
  readonly hedgePosition?: Decimal | undefined;
}

const allow = (check: RiskCheckName, reason: string): RiskVerdict => ({ check, allowed: true, reason });
const deny = (check: RiskCheckName, reason: string): RiskVerdict => ({ check, allowed: false, reason });

// Verdicts whose reason never varies, built once and shared by every decision (frozen; a
// verdict is a value, and a shared one serialises like a fresh one).
const ACTIVE = Object.freeze(allow('trading-state', 'trading is active'));
const HALTED = Object.freeze(deny('trading-state', 'trading is halted'));
const SELLS_NOT_CAPPED = Object.freeze(allow('price-cap', 'sells are not capped'));
const NO_CAP = Object.freeze(allow('price-cap', 'no cap given for this instrument'));
const NOT_A_HEDGE = new Map<IntentReason, RiskVerdict>();
function notAHedge(reason: IntentReason): RiskVerdict {
  let verdict = NOT_A_HEDGE.get(reason);
  if (verdict === undefined) {
    verdict = Object.freeze(allow('hedge-ratio', `not a hedge (reason "${reason}")`));
    NOT_A_HEDGE.set(reason, verdict);
  }
  return verdict;
}

/** x > 0, without building a Decimal for the 0 (NaN is not above 0, Infinity is). */
function isAboveZero(x: Decimal): boolean {
  return x.isPositive() && !x.isZero();
}

/**
 * A verdict whose reason is written when first read (an own enumerable getter, so JSON,
 * spreads and structured clones see it like a plain field). Every sized order runs every
 * check, but only the decisions a journal keeps are ever read: printing their figures for
 * every order was a visible share of a backtest. `text` reads only immutable inputs.
 */
function verdict(check: RiskCheckName, allowed: boolean, text: () => string): RiskVerdict {
  let reason: string | undefined;
  return {
    check,
    allowed,
    get reason() {
      return (reason ??= text());
    },
  };
}

function signedQty(input: { intent: Intent; qty: Decimal }): Decimal {
  return input.intent.side === 'buy' ? input.qty : input.qty.negated();
}

/** True when the order moves the position toward zero without crossing it. */
export function reducesPosition(position: Decimal, side: 'buy' | 'sell', qty: Decimal): boolean {
  if (position.isZero()) return false;
  const reducingSide = position.isPositive() ? 'sell' : 'buy';
  return side === reducingSide && qty.lessThanOrEqualTo(position.abs());
}

/** Active allows all; reducing-only allows orders that reduce the position or carry an exempt reason; halted denies all. */
export function checkTradingState(limits: RiskLimits, input: RiskInput): RiskVerdict {
  switch (input.tradingState) {
    case 'active':
      return ACTIVE;
    case 'halted':
      return HALTED;
    case 'reducing-only':
      if (reducesPosition(input.position, input.intent.side, input.qty)) {
        return allow('trading-state', `reducing-only: ${input.intent.side} ${input.qty.toString()} reduces position ${input.position.toString()}`);
      }
      if (limits.reducingOnlyExemptReasons.includes(input.intent.reason)) {
        return allow('trading-state', `reducing-only: reason "${input.intent.reason}" is exempt`);
      }
      return deny('trading-state', `reducing-only: ${input.intent.side} ${input.qty.toString()} does not reduce position ${input.position.toString()}`);
  }
}

/** Notional of one order at most `maxOrderNotional`. */
export function checkOrderNotional(limits: RiskLimits, input: RiskInput): RiskVerdict {
  return verdict('order-notional', !input.notional.greaterThan(limits.maxOrderNotional), () => `order notional ${input.notional.toString()} against limit ${limits.maxOrderNotional.toString()}`);
}

/** Notional sent today plus this order at most `maxDailyNotional`. */
export function checkDailyNotional(limits: RiskLimits, input: RiskInput): RiskVerdict {
  const total = plusToZero(input.dayNotional, input.notional);
  return verdict('daily-notional', !total.greaterThan(limits.maxDailyNotional), () => `day notional ${input.dayNotional.toString()} + ${input.notional.toString()} = ${total.toString()} against limit ${limits.maxDailyNotional.toString()}`);
}

/**
 * Hedge intents only: the hedge position after the order may not exceed `maxHedgeRatio` of
 * exposure (never above 100 %). An order that shrinks the hedge is always allowed; a hedge
 * intent without an exposure is denied.
 */
export function checkHedgeRatio(limits: RiskLimits, input: RiskInput): RiskVerdict {
  if (input.intent.reason !== 'hedge') return notAHedge(input.intent.reason);
  const before = input.hedgePosition ?? input.position;
  const after = before.plus(signedQty(input));
  if (after.abs().lessThan(before.abs())) return verdict('hedge-ratio', true, () => `hedge shrinks from ${before.toString()} to ${after.toString()}`);
  if (input.exposure === undefined) return deny('hedge-ratio', 'hedge intent without an exposure to cover');
  const ceiling = input.exposure.abs().times(limits.maxHedgeRatio);
  const exposure = input.exposure;
  return verdict('hedge-ratio', !after.abs().greaterThan(ceiling), () => `hedge after order ${after.abs().toString()} against ${limits.maxHedgeRatio.toString()} x exposure ${exposure.abs().toString()} = ${ceiling.toString()}`);
}

/** Buys only: the order's price at most the caller's cap for the instrument. */
export function checkPriceCap(_limits: RiskLimits, input: RiskInput): RiskVerdict {
  if (input.intent.side !== 'buy') return SELLS_NOT_CAPPED;
  if (input.priceCap === undefined) return NO_CAP;
  const cap = input.priceCap;
  return verdict('price-cap', !input.price.greaterThan(cap), () => `price ${input.price.toString()} against cap ${cap.toString()}`);
}

/** The order's price within `maxDeviationFromLast` of the last price. */
export function checkPriceCollar(limits: RiskLimits, input: RiskInput): RiskVerdict {
  if (!isAboveZero(input.lastPrice)) return deny('price-collar', `no usable last price (${input.lastPrice.toString()})`);
  // At the last price (a market order) the deviation is 0 (|x - x| is +0): the same value without a subtraction or a 40-digit division.
  const atLast = input.price === input.lastPrice || input.price.equals(input.lastPrice);
  const distance = atLast ? ZERO : input.price.minus(input.lastPrice).abs();
  const deviation = distance.isZero() ? distance : distance.dividedBy(input.lastPrice);
  return verdict('price-collar', !deviation.greaterThan(limits.maxDeviationFromLast), () => `price ${input.price.toString()} is ${deviation.times(100).toDecimalPlaces(4).toString()} % from last ${input.lastPrice.toString()}, collar ${limits.maxDeviationFromLast.times(100).toString()} %`);
}

/**
 * True exactly when every verdict of `runRiskChecks(limits, input)` allows the order, without
 * building the verdicts (the pipeline builds them when a decision's `risk` is first read: most
 * decisions' verdicts are never read, and each lazy verdict was a visible share of an order).
 * Each line is its check's `allowed`; a property test holds the two together.
 */
export function riskAllows(limits: RiskLimits, input: RiskInput): boolean {
  switch (input.tradingState) {
    case 'active':
      break;
    case 'halted':
      return false;
    case 'reducing-only':
      if (!reducesPosition(input.position, input.intent.side, input.qty) && !limits.reducingOnlyExemptReasons.includes(input.intent.reason)) return false;
      break;
  }
  if (gt(input.notional, limits.maxOrderNotional)) return false;
  if (gt(plusToZero(input.dayNotional, input.notional), limits.maxDailyNotional)) return false;
  if (input.intent.reason === 'hedge') {
    const before = input.hedgePosition ?? input.position;
    const after = before.plus(signedQty(input));
    if (!lt(after.abs(), before.abs())) {
      if (input.exposure === undefined) return false;
      if (gt(after.abs(), input.exposure.abs().times(limits.maxHedgeRatio))) return false;
    }
  }
  if (input.intent.side === 'buy' && input.priceCap !== undefined && gt(input.price, input.priceCap)) return false;
  if (!isAboveZero(input.lastPrice)) return false;
  if (input.price === input.lastPrice || eq(input.price, input.lastPrice)) return !gt(ZERO, limits.maxDeviationFromLast);
  const distance = input.price.minus(input.lastPrice).abs();
  const deviation = distance.isZero() ? distance : distance.dividedBy(input.lastPrice);
  return !gt(deviation, limits.maxDeviationFromLast);
}

/** Every check, in a fixed order; the order is allowed only when every verdict allows it. */
export function runRiskChecks(limits: RiskLimits, input: RiskInput): RiskVerdict[] {
  return [
    checkTradingState(limits, input),
    checkOrderNotional(limits, input),
    checkDailyNotional(limits, input),
    checkHedgeRatio(limits, input),
    checkPriceCap(limits, input),
    checkPriceCollar(limits, input),
  ];
}
