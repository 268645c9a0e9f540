/**
 * Where orders and fills are kept. "Record before send": the pipeline inserts an order as
 * `new`, with its client order id, before it calls the venue, so a crash between the two
 * leaves a record that the next run looks up instead of sending again. The interface is
 * synchronous on purpose: the live store is SQLite through better-sqlite3, which is too.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { startOfDay, type EpochMs } from '../core/time.js';
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
  readonly #active = new Set<string>();
  readonly #dayNotional = new Map<EpochMs, Decimal>();
  /** The day of the last order inserted and its total (a backtest asks for that day's once per order). */
  #lastDay: EpochMs = Number.NaN;
  #lastDayNotional: Decimal = ZERO;
  #control: TradingControl | undefined;

  insertOrder(order: OrderRecord): void {
    const id = order.request.clientOrderId;
    if (this.#orders.has(id)) throw new ProcuraError(ErrorCode.store, `order ${id} is already stored`);
    this.#orders.set(id, order);
    if (!isTerminal(order.status)) this.#active.add(id);
    const day = startOfDay(order.request.at);
    const total = (day === this.#lastDay ? this.#lastDayNotional : (this.#dayNotional.get(day) ?? ZERO)).plus(order.notional);
    this.#dayNotional.set(day, total);
    this.#lastDay = day;
    this.#lastDayNotional = total;
  }

  updateOrder(order: OrderRecord, _newFills: readonly Fill[]): void {
    const id = order.request.clientOrderId;
    if (!this.#orders.has(id)) throw new ProcuraError(ErrorCode.store, `order ${id} is not stored`);
    this.#orders.set(id, order);
    if (isTerminal(order.status)) this.#active.delete(id);
    else this.#active.add(id);
  }

  getOrder(clientOrderId: string): OrderRecord | undefined {
    return this.#orders.get(clientOrderId);
  }

  activeOrders(): OrderRecord[] {
    const out: OrderRecord[] = [];
    for (const id of this.#active) out.push(this.#orders.get(id)!);
    return out;
  }

  /** Every stored order in insertion order (for results). */
  allOrders(): OrderRecord[] {
    return [...this.#orders.values()];
  }

  notionalOnDay(dayStart: EpochMs): Decimal {
    if (dayStart === this.#lastDay) return this.#lastDayNotional;
    return this.#dayNotional.get(dayStart) ?? ZERO;
  }

  loadControl(): TradingControl | undefined {
    return this.#control;
  }

  saveControl(control: TradingControl): void {
    this.#control = control;
  }
}
