/**
 * The order state machine. An order is born `new` (recorded, maybe not yet at the venue) and
 * moves forward through `open` and `partially-filled` to one of the terminal states
 * `filled`, `cancelled`, `rejected` or `expired`.
 *
 * Venue reports arrive by polling and may be late or repeated, so applying one is
 * idempotent: a report that is behind the order's state (an `open` report after the order
 * filled) is stale and leaves the status alone, fills are deduplicated by trade id, and the
 * cumulative filled quantity never decreases. A report that contradicts the state (a filled
 * order reported cancelled) is an error naming the order and both states.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { eq, gt } from './compare.js';
import type { Fill, Intent, OrderReport, OrderRequest, OrderStatus } from './types.js';

/** An order as the pipeline keeps it: the request, the intent behind it, and what the venue said. */
export interface OrderRecord {
  readonly request: OrderRequest;
  readonly intent: Intent;
  readonly status: OrderStatus;
  readonly venueOrderId?: string | undefined;
  /** Cumulative; never decreases. */
  readonly filledQty: Decimal;
  readonly fills: readonly Fill[];
  /** qty x the price the risk checks used. */
  readonly notional: Decimal;
  /** How many times the request was sent to the venue. */
  readonly submitAttempts: number;
  /** Why it was rejected or expired, or why its outcome is unknown. */
  readonly reason?: string | undefined;
  /** The journal number of the decision that created it. */
  readonly decision: number;
}

/** A fresh `new` order, as recorded before it is sent. */
export function newOrderRecord(request: OrderRequest, intent: Intent, notional: Decimal, decision: number): OrderRecord {
  return new FreshRecord(request, intent, 'new', ZERO, NO_FILLS, notional, 0, decision);
}

/*
 * The records the pipeline's own steps build, in the two key orders they have: a fresh order
 * (newOrderRecord's eight keys) and an order a report has been applied to (the same, then
 * venueOrderId and reason: where a spread of a fresh record puts the two keys it adds). They
 * are class instances only so that the next step can tell, with `instanceof`, that it may build
 * the next record as one constructor call in the same key order instead of an object spread
 * (three spreads per order were about 4 µs of a backtest's order); any other record (read back
 * from a store, built by a test or by a rare path such as a transition) takes the spread as
 * before. Their own enumerable keys and values, in order, are exactly what the spread gives, so
 * JSON text, `toPlainJson` and what a store persists do not change.
 */
class FreshRecord implements OrderRecord {
  constructor(
    readonly request: OrderRequest,
    readonly intent: Intent,
    readonly status: OrderStatus,
    readonly filledQty: Decimal,
    readonly fills: readonly Fill[],
    readonly notional: Decimal,
    readonly submitAttempts: number,
    readonly decision: number,
  ) {}
}

/** A FreshRecord with the two keys a report adds, after its eight (venueOrderId, reason). */
class ReportedRecord extends FreshRecord {
  constructor(
    request: OrderRequest,
    intent: Intent,
    status: OrderStatus,
    filledQty: Decimal,
    fills: readonly Fill[],
    notional: Decimal,
    submitAttempts: number,
    decision: number,
    readonly venueOrderId: string | undefined,
    readonly reason: string | undefined,
  ) {
    super(request, intent, status, filledQty, fills, notional, submitAttempts, decision);
  }
}

/** `{ ...order, submitAttempts: order.submitAttempts + 1 }`, without the spread for the pipeline's own records. */
export function withSubmitAttempt(order: OrderRecord): OrderRecord {
  const o = order;
  // ReportedRecord first: it is a FreshRecord too.
  if (o instanceof ReportedRecord) return new ReportedRecord(o.request, o.intent, o.status, o.filledQty, o.fills, o.notional, o.submitAttempts + 1, o.decision, o.venueOrderId, o.reason);
  if (o instanceof FreshRecord) return new FreshRecord(o.request, o.intent, o.status, o.filledQty, o.fills, o.notional, o.submitAttempts + 1, o.decision);
  return { ...order, submitAttempts: order.submitAttempts + 1 };
}

/** The new fills of a report that brings none (shared, never mutated: a fresh array is made when there are fills). */
const NO_FILLS: Fill[] = [];
Object.freeze(NO_FILLS);

const TERMINAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['filled', 'cancelled', 'rejected', 'expired']);

/** True for filled, cancelled, rejected and expired: nothing more will happen to the order. */
export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL.has(status);
}

type Move = 'forward' | 'stale' | 'illegal';

const FORWARD: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ['open', 'partially-filled', 'filled', 'cancelled', 'rejected', 'expired'],
  open: ['partially-filled', 'filled', 'cancelled', 'expired'],
  'partially-filled': ['filled', 'cancelled', 'expired'],
  filled: [],
  cancelled: [],
  rejected: [],
  expired: [],
};
const STALE: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: [],
  open: ['new'],
  'partially-filled': ['new', 'open'],
  filled: ['new', 'open', 'partially-filled'],
  cancelled: ['new', 'open', 'partially-filled'],
  expired: ['new', 'open', 'partially-filled'],
  rejected: ['new'],
};

/** How a report with status `to` relates to an order in status `from`: same/forward, stale (ignored) or illegal. */
export function classifyMove(from: OrderStatus, to: OrderStatus): Move {
  if (from === to || FORWARD[from].includes(to)) return 'forward';
  if (STALE[from].includes(to)) return 'stale';
  return 'illegal';
}

/** A venue report that contradicts the order's state. */
export class IllegalTransitionError extends ProcuraError {
  readonly clientOrderId: string;
  readonly from: OrderStatus;
  readonly to: OrderStatus;
  constructor(clientOrderId: string, from: OrderStatus, to: OrderStatus, detail = '') {
    super(ErrorCode.venue, `order ${clientOrderId}: illegal transition from ${from} to ${to}${detail ? ` (${detail})` : ''}`);
    this.name = 'IllegalTransitionError';
    this.clientOrderId = clientOrderId;
    this.from = from;
    this.to = to;
  }
}

/** Moves an order to `to` (throws IllegalTransitionError when illegal; a stale move keeps the status). */
export function transition(order: OrderRecord, to: OrderStatus, reason?: string): OrderRecord {
  const move = classifyMove(order.status, to);
  if (move === 'illegal') throw new IllegalTransitionError(order.request.clientOrderId, order.status, to);
  if (move === 'stale' || order.status === to) return order;
  return { ...order, status: to, reason: reason ?? order.reason };
}

export interface Applied {
  readonly order: OrderRecord;
  /** Fills not seen before, in report order. */
  readonly newFills: readonly Fill[];
  readonly changed: boolean;
}

/**
 * Applies a venue report. Idempotent: applying the same report again, or an older one,
 * changes nothing. Throws IllegalTransitionError for a report that contradicts the state,
 * belongs to another order, or fills more than the order's quantity.
 */
export function applyReport(order: OrderRecord, report: OrderReport): Applied {
  const id = order.request.clientOrderId;
  if (report.clientOrderId !== id) {
    throw new ProcuraError(ErrorCode.venue, `order ${id}: report for another order (${report.clientOrderId})`);
  }
  let newFills: Fill[] = NO_FILLS;
  if (report.fills.length === 1 && order.fills.length === 0) {
    // The common report: the first fill of an order (no set of trade ids to build). A report's
    // fills are never written to once reported (venues report a fresh array, or one they no
    // longer change), so its one-fill array is the new fills' array itself.
    newFills = report.fills as Fill[];
  } else if (report.fills.length === 1 && order.fills.length === 1 && order.fills[0]!.tradeId === report.fills[0]!.tradeId) {
    // The same single fill again: nothing new.
  } else if (report.fills.length > 0) {
    newFills = [];
    const seen = new Set<string>();
    for (const fill of order.fills) seen.add(fill.tradeId);
    for (const fill of report.fills) {
      if (seen.has(fill.tradeId)) continue;
      seen.add(fill.tradeId);
      newFills.push(fill);
    }
  }
  let filledQty = order.filledQty;
  if (gt(report.filledQty, filledQty)) filledQty = report.filledQty;
  if (newFills.length === 1 && order.fills.length === 0 && newFills[0]!.qty.isFinite() && newFills[0]!.qty.d.length <= 5) {
    // One fill and none before: the sum is that fill's quantity (0 + q is q again while q has at most 35 digits).
    const only = newFills[0]!.qty;
    if (gt(only, filledQty)) filledQty = only;
  } else if (newFills.length > 0) {
    let fillSum = ZERO;
    for (const fill of order.fills) fillSum = fillSum.plus(fill.qty);
    for (const fill of newFills) fillSum = fillSum.plus(fill.qty);
    if (gt(fillSum, filledQty)) filledQty = fillSum;
  }
  // A venue may say "open" (Binance NEW) while fills exist; that is partially filled.
  const reported: OrderStatus = report.status === 'open' && filledQty.isPositive() && !filledQty.isZero() ? 'partially-filled' : report.status;
  const move = classifyMove(order.status, reported);
  if (move === 'illegal') throw new IllegalTransitionError(id, order.status, reported);
  if (filledQty !== order.request.qty && gt(filledQty, order.request.qty)) {
    throw new IllegalTransitionError(id, order.status, reported, `filled ${filledQty.toString()} of ${order.request.qty.toString()}`);
  }
  const status = move === 'stale' ? order.status : reported;
  const venueOrderId = order.venueOrderId ?? report.venueOrderId;
  const reason = status !== order.status && report.reason !== undefined ? report.reason : order.reason;
  const changed =
    status !== order.status || newFills.length > 0 || !eq(filledQty, order.filledQty) || venueOrderId !== order.venueOrderId || reason !== order.reason;
  if (!changed) return { order, newFills, changed: false };
  // A record's fills are never written to, so the new fills' array is the record's when it had none.
  const fills = newFills.length === 0 ? order.fills : order.fills.length === 0 ? newFills : order.fills.concat(newFills);
  const next =
    order instanceof FreshRecord
      ? new ReportedRecord(order.request, order.intent, status, filledQty, fills, order.notional, order.submitAttempts, order.decision, venueOrderId, reason)
      : { ...order, status, venueOrderId, filledQty, fills, reason };
  return { order: next, newFills, changed: true };
}
