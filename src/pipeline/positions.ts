/**
 * Positions per instrument, updated from fills: signed quantity (long positive), average
 * entry price of the open quantity, realised profit and loss of closed quantity, and fees.
 * Fees are kept apart from the average price so a purchase's cost (price + fee) can be
 * reconstructed either way.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { Fixed } from '../core/fixed.js';
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
  const pending = pendingOf.get(position);
  const state = new PositionState(position.instrument, Fixed.from(position.qty), pending === undefined ? position.avgPrice : undefined, pending, position.realizedPnl, Fixed.from(position.fees), Fixed.from(position.boughtQty), Fixed.from(position.soldQty));
  advance(state, side, fill);
  const next = viewOf(state);
  if (state.pending !== undefined) pendingOf.set(next, state.pending);
  return next;
}

/**
 * One instrument's position as the tracker keeps it between fills: the Position's figures,
 * written in place by each fill (`advance`), the average either known or pending. The Position
 * object itself is built only when someone asks for it (`viewOf`): a backtest's procurement
 * instrument is bought every day and its position read by nobody. The quantity and the sums of
 * fees and of bought and sold quantity are scaled integers (Fixed: exact, and decimal.js
 * inside when a sum outgrows a safe integer, so every value is the one the Decimal sums give);
 * the quantity's Decimal is made when read and kept until the next fill.
 */
class PositionState {
  /** The Position of these figures, once built (cleared by the next fill). */
  view: Position | undefined = undefined;
  /** `qty` as a Decimal, once read (cleared by the next fill). */
  qtyDecimal: Decimal | undefined = undefined;
  constructor(
    readonly instrument: string,
    public qty: Fixed,
    /** The average, when known (undefined while `pending`). */
    public avgPrice: Decimal | undefined,
    public pending: PendingAverage | undefined,
    public realizedPnl: Decimal,
    public fees: Fixed,
    public boughtQty: Fixed,
    public soldQty: Fixed,
  ) {}
}

/** The state's quantity as a Decimal (made once per fill at most). */
function qtyOfState(state: PositionState): Decimal {
  return (state.qtyDecimal ??= state.qty.toDecimal());
}

/** The state's average: the known one, or the pending one computed (and kept) now. */
function averageOfState(state: PositionState): Decimal {
  if (state.avgPrice !== undefined) return state.avgPrice;
  const value = averageOf(state.pending!);
  state.avgPrice = value;
  state.pending = undefined;
  return value;
}

/**
 * Applies one fill to a state in place: the figures and operations, in order, of the pure
 * application (a fill that adds to the position leaves its average pending, see PendingAverage).
 */
function advance(state: PositionState, side: Side, fill: Pick<Fill, 'qty' | 'price' | 'fee' | 'feeBase'>): void {
  state.view = undefined;
  const moved = baseMoved(side, fill);
  const movedFixed = Fixed.from(moved);
  const before = state.qty;
  const after = side === 'buy' ? before.plus(movedFixed) : before.minus(movedFixed);
  // The sign of the Decimal `side === 'buy' ? moved : moved.negated()` (a zero keeps one).
  const signedPositive = side === 'buy' ? moved.isPositive() : moved.isNegative();
  state.qtyDecimal = undefined;
  const sameDirection = before.isZero() || before.isPositive() === signedPositive;
  if (sameDirection) {
    const previous = state.pending;
    const average: PendingAverage = { value: undefined, previous, previousValue: undefined, before, moved, price: fill.price, after };
    if (previous === undefined || previous.value !== undefined) {
      average.previousValue = previous?.value ?? state.avgPrice;
      average.previous = undefined;
    }
    state.qty = after;
    state.avgPrice = undefined;
    state.pending = average;
    state.fees = state.fees.plus(Fixed.from(fill.fee));
    if (side === 'buy') state.boughtQty = state.boughtQty.plus(movedFixed);
    else state.soldQty = state.soldQty.plus(movedFixed);
    return;
  }
  const avgBefore = averageOfState(state);
  const held = before.toDecimal().abs();
  const closed = moved.lessThan(held) ? moved : held;
  // A long closed by a sell gains (price - avg); a short closed by a buy gains (avg - price).
  const perUnit = before.isPositive() ? fill.price.minus(avgBefore) : avgBefore.minus(fill.price);
  state.realizedPnl = state.realizedPnl.plus(perUnit.times(closed));
  if (after.isZero()) state.avgPrice = ZERO;
  else if (after.isPositive() !== before.isPositive()) state.avgPrice = fill.price; // crossed through zero
  state.qty = after;
  state.fees = state.fees.plus(Fixed.from(fill.fee));
  if (side === 'buy') state.boughtQty = state.boughtQty.plus(movedFixed);
  else state.soldQty = state.soldQty.plus(movedFixed);
}

/**
 * The Position of a state (built once per fill at most): the literal
 * `{ instrument, qty, avgPrice, realizedPnl, fees, boughtQty, soldQty }`, its average an own
 * enumerable getter shared by all (core/lazy.ts) while it is pending.
 */
function viewOf(state: PositionState): Position {
  if (state.view !== undefined) return state.view;
  let view: Position;
  const pending = state.pending;
  if (pending === undefined) {
    view = { instrument: state.instrument, qty: qtyOfState(state), avgPrice: state.avgPrice!, realizedPnl: state.realizedPnl, fees: state.fees.toDecimal(), boughtQty: state.boughtQty.toDecimal(), soldQty: state.soldQty.toDecimal() };
  } else {
    const next: Record<string, unknown> = { instrument: state.instrument, qty: qtyOfState(state) };
    defineAvgPrice(next, () => averageOf(pending));
    next['realizedPnl'] = state.realizedPnl;
    next['fees'] = state.fees.toDecimal();
    next['boughtQty'] = state.boughtQty.toDecimal();
    next['soldQty'] = state.soldQty.toDecimal();
    view = next as unknown as Position;
  }
  state.view = view;
  return view;
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
  readonly before: Fixed;
  readonly moved: Decimal;
  readonly price: Decimal;
  readonly after: Fixed;
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
    a.value = a.before.toDecimal().abs().times(previous).plus(a.moved.times(a.price)).dividedBy(a.after.toDecimal().abs());
    a.previous = undefined;
    a.previousValue = undefined;
  }
  return average.value!;
}

/** The positions tracker the pipeline updates from fills. */
export class Positions {
  /** Each traded instrument's figures (see PositionState): a fill writes them in place, without a Position. */
  readonly #states = new Map<string, PositionState>();

  /** The position in `instrument` (flat when never traded). */
  get(instrument: string): Position {
    const state = this.#states.get(instrument);
    return state === undefined ? flat(instrument) : viewOf(state);
  }

  /** Signed quantity in `instrument`. */
  qty(instrument: string): Decimal {
    const state = this.#states.get(instrument);
    return state === undefined ? ZERO : qtyOfState(state);
  }

  /** Unrealised result of the open quantity at `markPrice`. */
  unrealizedPnl(instrument: string, markPrice: Decimal): Decimal {
    const position = this.get(instrument);
    return markPrice.minus(position.avgPrice).times(position.qty);
  }

  /** Applies a fill and returns the position after it. */
  applyFill(instrument: string, side: Side, fill: Pick<Fill, 'qty' | 'price' | 'fee' | 'feeBase'>): Position {
    this.record(instrument, side, fill);
    return this.get(instrument);
  }

  /** `applyFill` without building the Position (the pipeline's path: most positions are never read between fills). */
  record(instrument: string, side: Side, fill: Pick<Fill, 'qty' | 'price' | 'fee' | 'feeBase'>): void {
    let state = this.#states.get(instrument);
    if (state === undefined) {
      state = new PositionState(instrument, Fixed.ZERO, ZERO, undefined, ZERO, Fixed.ZERO, Fixed.ZERO, Fixed.ZERO);
      this.#states.set(instrument, state);
    }
    advance(state, side, fill);
  }

  all(): Position[] {
    const out: Position[] = [];
    for (const state of this.#states.values()) out.push(viewOf(state));
    return out;
  }
}
