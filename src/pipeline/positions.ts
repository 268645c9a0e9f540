/**
 * Positions per instrument, updated from fills: signed quantity (long positive), average
 * entry price of the open quantity, realised profit and loss of closed quantity, and fees.
 * Fees are kept apart from the average price so a purchase's cost (price + fee) can be
 * reconstructed either way.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { lazyProperty } from '../core/lazy.js';
import { baseMoved, type Fill, type Side } from './types.js';

export interface Position {
  readonly instrument: string;
  /** Signed: long positive, short negative. */
  readonly qty: Decimal;
  /** Average entry price of the open quantity (zero when flat). */
  readonly avgPrice: Decimal;
  /** Realised result of closed quantity, before fees. */
  readonly realizedPnl: Decimal;
  readonly fees: Decimal;
  /** Total bought and sold quantity. */
  readonly boughtQty: Decimal;
  readonly soldQty: Decimal;
}

function flat(instrument: string): Position {
  return { instrument, qty: ZERO, avgPrice: ZERO, realizedPnl: ZERO, fees: ZERO, boughtQty: ZERO, soldQty: ZERO };
}

/**
 * Applies one fill to a position. Pure. The position moves by the base quantity the account
 * received or gave up (`baseMoved`: a fee taken in the base asset is not held); that fee's
 * value is in `fee`, kept with the other fees.
 */
export function applyFillToPosition(position: Position, side: Side, fill: Pick<Fill, 'qty' | 'price' | 'fee' | 'feeBase'>): Position {
  const next = nextPosition(position, pendingOf.get(position), side, fill);
  if (madeAverage !== undefined) pendingOf.set(next, madeAverage);
  return next;
}

/**
 * The pending average `nextPosition` made for the position it returned last (undefined when
 * that position's average is plain): its second result, without an object per call.
 */
let madeAverage: PendingAverage | undefined;

/**
 * applyFillToPosition, given the position's pending average (undefined when it has none, or
 * when the caller does not know it: its average is then read, which computes it).
 */
function nextPosition(position: Position, previous: PendingAverage | undefined, side: Side, fill: Pick<Fill, 'qty' | 'price' | 'fee' | 'feeBase'>): Position {
  madeAverage = undefined;
  const moved = baseMoved(side, fill);
  const signed = side === 'buy' ? moved : moved.negated();
  const before = position.qty;
  const after = before.plus(signed);
  const sameDirection = before.isZero() || before.isPositive() === signed.isPositive();
  if (sameDirection) {
    const average: PendingAverage = { value: undefined, previous, previousValue: undefined, before, moved, price: fill.price, after };
    if (average.previous === undefined || average.previous.value !== undefined) average.previousValue = average.previous?.value ?? position.avgPrice;
    if (average.previousValue !== undefined) average.previous = undefined;
    // The literal { instrument, qty, get avgPrice(), realizedPnl, fees, boughtQty, soldQty }, with the getter shared (core/lazy.ts).
    const next: Record<string, unknown> = { instrument: position.instrument, qty: after };
    defineAvgPrice(next, () => averageOf(average));
    next['realizedPnl'] = position.realizedPnl;
    next['fees'] = position.fees.plus(fill.fee);
    next['boughtQty'] = side === 'buy' ? position.boughtQty.plus(moved) : position.boughtQty;
    next['soldQty'] = side === 'sell' ? position.soldQty.plus(moved) : position.soldQty;
    madeAverage = average;
    return next as unknown as Position;
  }
  let avgPrice = position.avgPrice;
  const closed = moved.lessThan(before.abs()) ? moved : before.abs();
  // A long closed by a sell gains (price - avg); a short closed by a buy gains (avg - price).
  const perUnit = before.isPositive() ? fill.price.minus(position.avgPrice) : position.avgPrice.minus(fill.price);
  const realizedPnl = position.realizedPnl.plus(perUnit.times(closed));
  if (after.isZero()) avgPrice = ZERO;
  else if (after.isPositive() !== before.isPositive()) avgPrice = fill.price; // crossed through zero
  return {
    instrument: position.instrument,
    qty: after,
    avgPrice,
    realizedPnl,
    fees: position.fees.plus(fill.fee),
    boughtQty: side === 'buy' ? position.boughtQty.plus(moved) : position.boughtQty,
    soldQty: side === 'sell' ? position.soldQty.plus(moved) : position.soldQty,
  };
}

/**
 * The average entry price after a fill that adds to the position, (|before| x previous average
 * + moved x price) / |after|, computed when first read: a procurement instrument is only ever
 * bought, its average is read by nobody in a backtest, and the 40-digit division per fill was
 * a visible share of one. A chain of unread averages is computed oldest first, the same
 * operations in the same order as when each fill was applied, so every value is the same.
 * Only the figures the formula needs are kept (not the positions).
 */
interface PendingAverage {
  value: Decimal | undefined;
  /** The previous position's pending average, while it is not computed. */
  previous: PendingAverage | undefined;
  /** The previous position's average, once known. */
  previousValue: Decimal | undefined;
  readonly before: Decimal;
  readonly moved: Decimal;
  readonly price: Decimal;
  readonly after: Decimal;
}

const defineAvgPrice = lazyProperty('avgPrice');

/** The pending average of a position built by applyFillToPosition's adding branch (the Positions tracker keeps its own, by instrument). */
const pendingOf = new WeakMap<Position, PendingAverage>();

function averageOf(average: PendingAverage): Decimal {
  if (average.value !== undefined) return average.value;
  // Walk back to the newest known average (a loop: a chain can be thousands of fills long).
  const chain: PendingAverage[] = [];
  for (let a: PendingAverage | undefined = average; a !== undefined && a.value === undefined; a = a.previous) chain.push(a);
  for (let i = chain.length - 1; i >= 0; i -= 1) {
    const a = chain[i]!;
    const previous = a.previousValue ?? a.previous!.value!;
    a.value = a.before.abs().times(previous).plus(a.moved.times(a.price)).dividedBy(a.after.abs());
    a.previous = undefined;
    a.previousValue = undefined;
  }
  return average.value!;
}

/** The positions tracker the pipeline updates from fills. */
export class Positions {
  readonly #positions = new Map<string, Position>();
  /** The pending average of each instrument's position (see PendingAverage): a map by instrument, not a weak map by position, costs no ephemeron per fill. */
  readonly #averages = new Map<string, PendingAverage | undefined>();

  /** The position in `instrument` (flat when never traded). */
  get(instrument: string): Position {
    return this.#positions.get(instrument) ?? flat(instrument);
  }

  /** Signed quantity in `instrument`. */
  qty(instrument: string): Decimal {
    return this.#positions.get(instrument)?.qty ?? ZERO;
  }

  /** Unrealised result of the open quantity at `markPrice`. */
  unrealizedPnl(instrument: string, markPrice: Decimal): Decimal {
    const position = this.get(instrument);
    return markPrice.minus(position.avgPrice).times(position.qty);
  }

  applyFill(instrument: string, side: Side, fill: Pick<Fill, 'qty' | 'price' | 'fee' | 'feeBase'>): Position {
    const next = nextPosition(this.get(instrument), this.#averages.get(instrument), side, fill);
    this.#averages.set(instrument, madeAverage);
    this.#positions.set(instrument, next);
    return next;
  }

  all(): Position[] {
    return [...this.#positions.values()];
  }
}
