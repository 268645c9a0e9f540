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

/** An OrderStore in memory (backtests, tests). Insert and lookups are O(1). */
export class MemoryOrderStore implements OrderStore {
  readonly #orders = new Map<string, OrderRecord>();
  /**
   * Each day's total by day number (startOfDay / DAY_MS, exact for every time a Date holds: a
   * small integer, where the day's epoch milliseconds made a map keyed by heap numbers, slower to
   * hash), except the day of the last order inserted, whose total is kept apart.
   */
  readonly #dayNotional = new Map<number, Decimal>();
  /**
   * Whether an order was inserted; the day of the last one and its total, written to
   * #dayNotional only when an order of another day comes (a backtest inserts day after day and
   * asks for the current day's total once per order: a map entry was written per order).
   */
  #inserted = false;
  #lastDay: EpochMs = Number.NaN;
  #lastDayNotional: Decimal = ZERO;
  /** The latest day of any order inserted: no order is on a later day. */
  #latestDay: EpochMs = Number.NEGATIVE_INFINITY;
  #control: TradingControl | undefined;

  insertOrder(order: OrderRecord): void {
    const id = order.request.clientOrderId;
    if (this.#orders.has(id)) throw new ProcuraError(ErrorCode.store, `order ${id} is already stored`);
    this.#orders.set(id, order);
    const day = startOfDay(order.request.at);
    if (!this.#inserted || !sameDay(day, this.#lastDay)) {
      if (this.#inserted) this.#dayNotional.set(this.#lastDay / DAY_MS, this.#lastDayNotional);
      this.#lastDayNotional = day > this.#latestDay ? ZERO : (this.#dayNotional.get(day / DAY_MS) ?? ZERO);
      this.#inserted = true;
      this.#lastDay = day;
      if (day > this.#latestDay) this.#latestDay = day;
    }
    this.#lastDayNotional = plusToZero(this.#lastDayNotional, order.notional);
  }

  updateOrder(order: OrderRecord, _newFills: readonly Fill[]): void {
    const id = order.request.clientOrderId;
    if (!this.#orders.has(id)) throw new ProcuraError(ErrorCode.store, `order ${id} is not stored`);
    this.#orders.set(id, order);
  }

  getOrder(clientOrderId: string): OrderRecord | undefined {
    return this.#orders.get(clientOrderId);
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

  /** Every stored order in insertion order (for results). */
  allOrders(): OrderRecord[] {
    return [...this.#orders.values()];
  }

  notionalOnDay(dayStart: EpochMs): Decimal {
    if (this.#inserted && sameDay(dayStart, this.#lastDay)) return this.#lastDayNotional;
    // A day after every order's (a backtest's next day): nothing sent yet, no lookup.
    if (dayStart > this.#latestDay) return ZERO;
    // Only a day's start has a total: a time between two (whose quotient may round to a day number) has none.
    const number = dayStart / DAY_MS;
    return number * DAY_MS === dayStart || Number.isNaN(number) ? (this.#dayNotional.get(number) ?? ZERO) : ZERO;
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
