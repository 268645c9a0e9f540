/**
 * The order pipeline's value types and the Venue port. Backtest, paper and live runs differ
 * only in which Venue (and clock and data source) the composition root plugs in; everything
 * from a strategy's intent to a ledger posting goes through the same code.
 *
 * intent -> sizing -> risk checks -> client order id -> venue -> order state machine -> fills
 * -> ledger and positions.
 */
import type { Decimal } from '../core/decimal.js';
import type { EpochMs } from '../core/time.js';

export type Side = 'buy' | 'sell';

/** Why an order exists. It travels with the order into the ledger's audit trail. */
export type IntentReason = 'procure' | 'hedge' | 'unwind' | 'forced-reorder' | 'emergency';

/** What a strategy saw when it decided: the signal and the cost snapshot (kept small and serialisable). */
export interface IntentCause {
  readonly signal?: { readonly state: 0 | 1; readonly crossing?: 'up' | 'down'; readonly fast: number; readonly slow: number; readonly barAt: EpochMs };
  readonly cost?: Readonly<Record<string, string>>;
  readonly note?: string;
}

/**
 * A strategy's decision: what and why, never how much money the account has. Either `qty`
 * (an amount to trade) or `targetQty` (a position to reach; the pipeline sizes the difference).
 */
export interface Intent {
  readonly at: EpochMs;
  readonly strategy: string;
  /** Instrument id from the run's configuration (a material's procurement market or a hedge instrument). */
  readonly instrument: string;
  readonly side: Side;
  readonly qty?: Decimal;
  readonly targetQty?: Decimal;
  readonly limitPrice?: Decimal;
  readonly reason: IntentReason;
  readonly cause: IntentCause;
  /**
   * True for buying ahead of need (a strategy's choice, not production's): only such buys are
   * held to the price cap derived from the product's target unit cost. Buys for consumption
   * are never capped: a capped need turns into a stockout and an emergency purchase.
   */
  readonly discretionary?: boolean;
}

/** Trading rules of one market, from the venue (ccxt `loadMarkets`, or the scenario for the simulated venue). */
export interface MarketRules {
  readonly symbol: string;
  readonly lotStep: Decimal;
  readonly tickSize: Decimal;
  readonly minQty: Decimal;
  readonly minNotional: Decimal;
}

export type OrderType = 'market' | 'limit';

/** An order as the pipeline sends it. The client order id is derived and stored before sending. */
export interface OrderRequest {
  readonly clientOrderId: string;
  readonly instrument: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly qty: Decimal;
  readonly limitPrice?: Decimal;
  readonly at: EpochMs;
  readonly reason: IntentReason;
}

export type OrderStatus = 'new' | 'open' | 'partially-filled' | 'filled' | 'cancelled' | 'rejected' | 'expired';

/**
 * One execution. `qty` is what the order executed; `fee` is the whole fee valued in the quote
 * currency. A venue that takes the fee out of the traded base asset (Binance charges a buy's
 * commission in the asset received) says how much in `feeBase`: the account then moves by
 * `baseMoved` (a buy receives qty - feeBase). `feeCharged` keeps the fee as charged when it was
 * not paid in the quote currency (the asset and amount, for the audit trail).
 */
export interface Fill {
  readonly clientOrderId: string;
  readonly venueOrderId: string;
  readonly tradeId: string;
  readonly at: EpochMs;
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly feeBase?: Decimal | undefined;
  readonly feeCharged?: { readonly amount: Decimal; readonly asset: string } | undefined;
}

/**
 * The base quantity a fill moved in or out of the account: a buy receives qty - feeBase, a
 * sell gives up qty + feeBase. This, not `qty`, is what the books and positions hold.
 */
export function baseMoved(side: Side, fill: Pick<Fill, 'qty' | 'feeBase'>): Decimal {
  const feeBase = fill.feeBase;
  if (feeBase === undefined || feeBase.isZero()) return fill.qty;
  return side === 'buy' ? fill.qty.minus(feeBase) : fill.qty.plus(feeBase);
}

/** What a venue reports about an order: its status and every fill so far (cumulative). */
export interface OrderReport {
  readonly clientOrderId: string;
  readonly venueOrderId?: string;
  readonly status: OrderStatus;
  readonly filledQty: Decimal;
  readonly fills: readonly Fill[];
  /** For rejections: the venue's reason, in words. */
  readonly reason?: string;
}

/**
 * `resend`: this client order id may have reached the venue before (an earlier attempt's outcome
 * is unknown, or a restarted run found the order recorded and not known to be sent). A venue
 * that accepts a reused id once the first order has filled (Binance) must prove the order
 * absent, not merely not found by id, before sending; when it cannot, it sends nothing and
 * throws an unknown-outcome error.
 */
export interface SubmitOptions {
  readonly resend?: boolean;
}

/**
 * The port every venue implements. `submit` never re-sends blindly: after an unknown outcome
 * the pipeline calls `lookup` by client order id first.
 */
export interface Venue {
  readonly name: string;
  rules(instrument: string): MarketRules;
  /** Sends an order. With `resend`, the id may have been sent before: the venue must prove it absent first (see SubmitOptions). */
  submit(order: OrderRequest, options?: SubmitOptions): Promise<OrderReport>;
  /** The order's current state by client order id, or undefined if the venue does not know it. */
  lookup(clientOrderId: string, instrument: string): Promise<OrderReport | undefined>;
  cancel(clientOrderId: string, instrument: string): Promise<OrderReport | undefined>;
  /**
   * Optional, with `lookupNow`: `submit` answered at once, for a venue that never waits (the
   * simulated one). The same effects and answer as `submit` (a throw where it rejects); the
   * pipeline then runs an order without a promise per stage.
   */
  submitNow?(order: OrderRequest, options?: SubmitOptions): OrderReport;
  /** Optional, with `submitNow`: `lookup` answered at once. */
  lookupNow?(clientOrderId: string, instrument: string): OrderReport | undefined;
  /**
   * Optional: a count that grows whenever an order's report changes other than in the answer to
   * the call that changed it (a fill or an expiry on a bar, a cancel, an order put back). A
   * caller that has applied every answer and looked up every order while the count was C knows
   * every report as it stands while the count is still C, and need not look them up again. The
   * simulated venue counts (its orders change only on a bar); a live venue's orders change at any
   * moment, so it leaves this out and is looked up every time.
   */
  changeCount?(): number;
  /**
   * Optional: the caller has saved the order's final report (filled, cancelled, rejected or
   * expired) and will neither look it up nor send it again, so the venue may drop it (a later
   * lookup by that id then finds nothing, and a submit with it is a new order). The pipeline
   * calls it when it saves an order as final: a replay then reads the order from its store, or,
   * with a store that forgets finished orders (a backtest's, whose ids never repeat), never
   * happens. The simulated venue then keeps only the orders that may still change.
   */
  forget?(clientOrderId: string): void;
}
