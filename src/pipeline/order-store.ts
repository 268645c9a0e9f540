/**
 * Where orders and fills are kept. "Record before send": the pipeline inserts an order as
 * `new`, with its client order id, before it calls the venue, so a crash between the two
 * leaves a record that the next run looks up instead of sending again. The interface is
 * synchronous on purpose: the live store is SQLite through better-sqlite3, which is too.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { DAY_MS, startOfDay, type EpochMs } from '../core/time.js';
import { plusToZero } from './compare.js';
import { isTerminal, type OrderRecord } from './order-state.js';
import type { Fill } from './types.js';
import type { TradingState } from './risk.js';

/** The pipeline's trading state and why it is in it; stored so a kill switch survives a restart. */
export interface TradingControl {
  readonly state: TradingState;
  readonly reason: string;
  readonly at: EpochMs;
}

export interface OrderStore {
  /** Records a new order; throws if the client order id is already stored. */
  insertOrder(order: OrderRecord): void;
  /** Replaces the stored order; `newFills` are the fills not stored before (a store may append only those). */
  updateOrder(order: OrderRecord, newFills: readonly Fill[]): void;
  getOrder(clientOrderId: string): OrderRecord | undefined;
  /** Orders not in a terminal state (new, open, partially filled), in insertion order. */
  activeOrders(): OrderRecord[];
  /** Total notional of the orders inserted whose request time falls on the UTC day starting at `dayStart`. */
  notionalOnDay(dayStart: EpochMs): Decimal;
  loadControl(): TradingControl | undefined;
  saveControl(control: TradingControl): void;
}

export interface MemoryOrderStoreOptions {
  /**
   * Drop an order once it is terminal (filled, cancelled, rejected, expired) instead of keeping
   * it (default false). For a run in one process whose intent times only move forward, such as
   * a backtest: its client order ids never repeat, so no submit ever finds a finished order,
   * and it asks only for the latest day's total. Such a store then holds only the active
   * orders: a finished one is not found by getOrder (a submit that derived its id again would
   * send it again), is not among allOrders, and the total of a day before the latest one
   * cannot be known (notionalOnDay throws). A run that keeps every order keeps each one's
   * record, request, intent and fills to its end, all of them copied into the old generation
   * by the scavenger (about 10,600 orders in the main job's jit run): with the pipeline's
   * journal off as well (journalLimit 0), the main job's scavenges promoted 107 MB instead of
   * 137 MB; either one alone changes little, as the other still holds the same objects.
   */
  readonly forgetFinished?: boolean;
}

/**
 * An OrderStore in memory (backtests, tests). Insert, lookups and the latest day's total are
 * O(1); an earlier day's total walks the orders. See MemoryOrderStoreOptions for a store that
 * keeps only the active orders.
 */
export class MemoryOrderStore implements OrderStore {
  readonly #orders = new Map<string, OrderRecord>();
  readonly #forgetFinished: boolean;
  /**
   * Whether an order was inserted; the day of the last one and its total. Another day's total is
   * the sum of its orders' notionals, in insertion order (the sums the inserts made), walked
   * when asked for: a backtest inserts day after day and asks only for the current day's total,
   * once per order, so a total kept per day (a map entry written per day with an order, about
   * every day of a jit run) was never read.
   */
  #inserted = false;
  #lastDay: EpochMs = Number.NaN;
  #lastDayNotional: Decimal = ZERO;
  /** The latest day of any order inserted: no order is on a later day. */
  #latestDay: EpochMs = Number.NEGATIVE_INFINITY;
  #control: TradingControl | undefined;
  /**
   * The id the last getOrder did not find, while no order has been inserted since (undefined:
   * none): the pipeline asks for an id before it inserts it, and the insert then knows it is not
   * stored without a second lookup in a map of every order of the run (a cache miss or more).
   */
  #missed: string | undefined = undefined;

  constructor(options: MemoryOrderStoreOptions = {}) {
    this.#forgetFinished = options.forgetFinished === true;
  }

  insertOrder(order: OrderRecord): void {
    const id = order.request.clientOrderId;
    if (id !== this.#missed && this.#orders.has(id)) throw new ProcuraError(ErrorCode.store, `order ${id} is already stored`);
    this.#missed = undefined;
    const day = startOfDay(order.request.at);
    if (!this.#inserted || !sameDay(day, this.#lastDay)) {
      // The day's total so far, before this order is stored: none for a day after every order's.
      this.#lastDayNotional = day > this.#latestDay ? ZERO : this.#walkedTotal(day);
      this.#inserted = true;
      this.#lastDay = day;
      if (day > this.#latestDay) this.#latestDay = day;
    }
    this.#orders.set(id, order);
    this.#lastDayNotional = plusToZero(this.#lastDayNotional, order.notional);
  }

  updateOrder(order: OrderRecord, _newFills: readonly Fill[]): void {
    const id = order.request.clientOrderId;
    if (!this.#orders.has(id)) throw new ProcuraError(ErrorCode.store, `order ${id} is not stored`);
    if (this.#forgetFinished && isTerminal(order.status)) this.#orders.delete(id);
    else this.#orders.set(id, order);
  }

  getOrder(clientOrderId: string): OrderRecord | undefined {
    const order = this.#orders.get(clientOrderId);
    this.#missed = order === undefined ? clientOrderId : undefined;
    return order;
  }

  /**
   * The stored orders not yet terminal, found by a walk of all (a pipeline asks once, when it
   * starts): a set of active ids kept per insert and update cost a set entry added and removed
   * per order, and a new hash table each time the set emptied. An order never becomes active
   * again once terminal, so the walk's insertion order is the order they became active in.
   */
  activeOrders(): OrderRecord[] {
    const out: OrderRecord[] = [];
    for (const order of this.#orders.values()) if (!isTerminal(order.status)) out.push(order);
    return out;
  }

  /** Every stored order in insertion order (for results); with forgetFinished, the active ones. */
  allOrders(): OrderRecord[] {
    return [...this.#orders.values()];
  }

  notionalOnDay(dayStart: EpochMs): Decimal {
    if (this.#inserted && sameDay(dayStart, this.#lastDay)) return this.#lastDayNotional;
    // A day after every order's (a backtest's next day): nothing sent yet, no lookup.
    if (dayStart > this.#latestDay) return ZERO;
    // Only a day's start has a total: a time between two has none.
    const number = dayStart / DAY_MS;
    return number * DAY_MS === dayStart || Number.isNaN(number) ? this.#walkedTotal(dayStart) : ZERO;
  }

  /** The notionals of the stored orders on the day starting at `day`, summed in insertion order (as the inserts summed them). */
  #walkedTotal(day: EpochMs): Decimal {
    if (this.#forgetFinished) {
      throw new ProcuraError(ErrorCode.store, `a store that forgets finished orders knows only the latest day's total, not the total of the day starting at ${day}`);
    }
    let total = ZERO;
    for (const order of this.#orders.values()) if (sameDay(startOfDay(order.request.at), day)) total = plusToZero(total, order.notional);
    return total;
  }

  loadControl(): TradingControl | undefined {
    return this.#control;
  }

  saveControl(control: TradingControl): void {
    this.#control = control;
  }
}

/** The same day as a map key is (SameValueZero: NaN is NaN, 0 is -0). */
function sameDay(a: EpochMs, b: EpochMs): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}
