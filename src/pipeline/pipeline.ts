/**
 * The one road from a decision to an order. Backtests plug in the simulated venue, live runs
 * the ccxt venue; this class is the same in both:
 *
 *   intent -> sizing -> risk checks -> client order id -> record (as `new`) -> venue.submit
 *   -> order state machine -> fills -> positions and the fill sink (ledger).
 *
 * Every submit returns a Decision that records each stage, and the pipeline keeps a journal
 * of them and counters for results. Expected outcomes (a skip, a risk denial, a venue
 * rejection, an unknown outcome) are values in the Decision; only programming errors and
 * contradictory venue reports throw.
 *
 * Calls are not re-entrant: await each `submit`, `sync` and `cancel` before the next one.
 */
import { Decimal, ZERO, floorToStep } from '../core/decimal.js';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { startOfDay, type EpochMs } from '../core/time.js';
import { clientOrderIdOf } from './client-order-id.js';
import { lte } from './compare.js';
import { applyReport, isTerminal, newOrderRecord, transition, withSubmitAttempt, type OrderRecord } from './order-state.js';
import { MemoryOrderStore, type OrderStore, type TradingControl } from './order-store.js';
import { Positions } from './positions.js';
import { riskAllows, runRiskChecks, type RiskInput, type RiskLimits, type RiskVerdict, type TradingState } from './risk.js';
import { roundLimitPrice, sizeOrder, type Sizing } from './sizing.js';
import type { Fill, Intent, IntentCause, MarketRules, OrderReport, OrderRequest, OrderStatus, Venue } from './types.js';
import { VenueErrorKind, errorText, venueErrorKindOf } from './venue-error.js';

/**
 * Receives every new fill exactly once, after the order and the position are updated. The
 * integrator posts procurement fills to the ledger as purchases (price + fee, ref = client
 * order id, reason from the intent) and hedge fills as hedge positions.
 */
export interface FillSink {
  onFill(order: OrderRecord, fill: Fill, intent: Intent): void | Promise<void>;
}

/** What the caller knows at the moment of the intent (prices, caps, exposure). */
export interface SubmitContext {
  /** Price used for sizing and notional of market orders (usually the last close). */
  readonly referencePrice: Decimal;
  /** Last traded price for the collar; defaults to referencePrice. */
  readonly lastPrice?: Decimal | undefined;
  /** Max unit price for buys of this instrument (from the product's target unit cost). */
  readonly priceCap?: Decimal | undefined;
  /** Forecast exposure (quantity) a hedge covers; required for `hedge` intents. */
  readonly exposure?: Decimal | undefined;
  /** Signed hedge position before this intent, excluding this pipeline's open orders; defaults to the tracked position. */
  readonly hedgePosition?: Decimal | undefined;
  /** Signed position for sizing `targetQty`, excluding this pipeline's open orders; defaults to the tracked position. */
  readonly position?: Decimal | undefined;
}

/**
 * skipped: sizing found nothing to send; denied: a risk check said no; sent: the venue
 * accepted it; rejected: the venue refused it; unknown: the outcome is not known yet
 * (`sync` looks it up before any re-send); replayed: the same decision was already taken
 * (same client order id, e.g. after a restart) and nothing new was sent.
 */
export type DecisionOutcome = 'skipped' | 'denied' | 'sent' | 'rejected' | 'unknown' | 'replayed';

/** Everything the pipeline decided for one intent. */
export interface Decision {
  /** 1, 2, 3, ... in submit order. */
  readonly seq: number;
  readonly at: EpochMs;
  readonly intent: Intent;
  readonly outcome: DecisionOutcome;
  readonly sizing: Sizing;
  /** Every risk check's verdict (empty when sizing skipped). */
  readonly risk: readonly RiskVerdict[];
  readonly clientOrderId?: string | undefined;
  readonly request?: OrderRequest | undefined;
  /** The venue's first report (from submit, or from the lookup after an unknown outcome). */
  readonly firstReport?: OrderReport | undefined;
  /** The order's status when submit returned. */
  readonly status?: OrderStatus | undefined;
  /** The venue error behind a rejected or unknown outcome. */
  readonly error?: string | undefined;
}

export interface PipelineCounters {
  readonly intents: number;
  /** Orders recorded and sent (not counting re-sends). */
  readonly orders: number;
  readonly fills: number;
  readonly denials: number;
  readonly skips: number;
  readonly rejections: number;
  /** Submits or lookups whose outcome was unknown (network, rate limit). */
  readonly unknownOutcomes: number;
  readonly replays: number;
}

export interface SyncResult {
  /** Orders looked up. */
  readonly looked: number;
  /** New fills applied. */
  readonly fills: number;
  /** Lookups that failed, in words (the orders stay as they were and are looked up next time). */
  readonly errors: readonly string[];
}

export interface PipelineOptions {
  /** Identifies the run; part of every client order id. Keep it stable across restarts of the same run. */
  readonly runId: string;
  readonly venue: Venue;
  readonly limits: RiskLimits;
  readonly store?: OrderStore;
  readonly sink?: FillSink;
  readonly positions?: Positions;
  /** Keep at most this many decisions in the journal (oldest dropped); counters are unaffected. */
  readonly journalLimit?: number;
  /**
   * After `maxSubmitAttempts`, an order the venue still does not know is recorded as rejected
   * (the default), or kept `new` (in doubt) for someone who can prove it absent to decide: the
   * live runner's reconciliation (a venue that lags can hide an executed order past the
   * attempts, and a rejected order's fills would never be booked).
   */
  readonly keepOrdersInDoubt?: boolean;
}

/** An intent sized against the market rules: the order, the position it starts from (open orders included), its price. */
interface Sized {
  readonly sizing: Sizing;
  readonly position: Decimal;
  readonly price: Decimal;
  readonly limitPrice: Decimal | undefined;
  readonly pending: Decimal;
}

type Counters = { -readonly [K in keyof PipelineCounters]: number };

/** The next sequence number of an instrument and side, valid in the epoch (intent time) that wrote it. */
interface SequenceEntry {
  epoch: number;
  next: number;
}

/** Where a send or a lookup left an order: the order, the venue's report, the error behind an unknown or rejected outcome. */
interface Sent {
  readonly order: OrderRecord;
  readonly report?: OrderReport | undefined;
  readonly error?: string | undefined;
}

type SyncProgress = { -readonly [K in keyof SyncResult]: SyncResult[K] } & { errors: string[] };

/**
 * A value now, or a promise of it. The pipeline's stages return the value itself while the
 * venue answers at once (`submitNow`/`lookupNow`) and the sink books synchronously: an order
 * then costs no promise, no await and no suspended frame per stage (about 5 KB of garbage per
 * order in a backtest); a promise only from the first step that returns one.
 */
type Soon<T> = T | Promise<T>;

/** The public methods' promise of a stage's value (a throw becomes a rejection, as in an async method). */
function promiseOf<T>(run: () => Soon<T>): Promise<T> {
  try {
    const value = run();
    return value instanceof Promise ? value : Promise.resolve(value);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** No new fills (shared, frozen): the second argument of most #save calls. */
const NO_NEW_FILLS: readonly Fill[] = Object.freeze([]);

/** A sync that looked nothing up (shared, frozen). */
const NOTHING_SYNCED: SyncResult = Object.freeze({ looked: 0, fills: 0, errors: Object.freeze([]) as readonly string[] });

const IDLE: Promise<SyncResult> = Promise.resolve(NOTHING_SYNCED);

/** The order pipeline; see the module comment. */
export class Pipeline {
  readonly runId: string;
  readonly venue: Venue;
  readonly limits: RiskLimits;
  readonly store: OrderStore;
  readonly positions: Positions;
  readonly #sink: FillSink | undefined;
  readonly #journalLimit: number;
  readonly #keepOrdersInDoubt: boolean;
  readonly #journal: Decision[] = [];
  /** Where the oldest decision is once the journal is full (a ring of `journalLimit`). */
  #journalStart = 0;
  readonly #controlLog: TradingControl[] = [];
  readonly #counters: Counters = { intents: 0, orders: 0, fills: 0, denials: 0, skips: 0, rejections: 0, unknownOutcomes: 0, replays: 0 };
  /** Active orders (new, open, partially filled) by client order id. */
  readonly #open = new Map<string, OrderRecord>();
  /**
   * The same orders by instrument, each map in #open's order, so #pendingQty walks only the
   * instrument's own orders and adds them in the same order as a walk of #open would. With
   * monthly prices orders rest for weeks: chocolate-worldbank's static-hedge run had 92 orders
   * open on average at each sizing, 10 of them in the intent's instrument. Each keeps the sum
   * of its last walk while it stands (see InstrumentOrders).
   */
  readonly #openIn = new Map<string, InstrumentOrders>();
  #state: TradingState;
  #decisionSeq = 0;
  #sequenceAt: EpochMs = Number.NaN;
  /** Counts the intent times: a sequence entry counts only in the epoch that wrote it (no map cleared and refilled every day). */
  #sequenceEpoch = 0;
  /** Next sequence number per instrument, one map per side; an entry from an earlier epoch counts as 0. */
  readonly #buySequences = new Map<string, SequenceEntry>();
  readonly #sellSequences = new Map<string, SequenceEntry>();
  /**
   * The venue's change count (Venue.changeCount) when a sync last found every open order's
   * report, with nothing in doubt since (NaN: look them up); and the unknown outcomes counted
   * then (a failed lookup or cancel since means an order to look up again).
   */
  #venueSeen = Number.NaN;
  #unknownSeen = -1;

  /** Restores the trading state and the active orders from the store (a restart continues where it stopped). */
  constructor(options: PipelineOptions) {
    this.runId = options.runId;
    this.venue = options.venue;
    this.limits = options.limits;
    this.store = options.store ?? new MemoryOrderStore();
    this.positions = options.positions ?? new Positions();
    this.#sink = options.sink;
    this.#journalLimit = Math.ceil(options.journalLimit ?? Number.POSITIVE_INFINITY);
    this.#keepOrdersInDoubt = options.keepOrdersInDoubt === true;
    this.#state = this.store.loadControl()?.state ?? options.limits.tradingState;
    for (const order of this.store.activeOrders()) this.#keepOpen(order.request.clientOrderId, order);
  }

  get tradingState(): TradingState {
    return this.#state;
  }

  /** Number of orders not yet terminal; when 0, `sync` does nothing and the engine may skip it. */
  get openOrderCount(): number {
    return this.#open.size;
  }

  /** Orders not yet terminal (including `new` ones whose outcome is unknown). */
  openOrders(): OrderRecord[] {
    return [...this.#open.values()];
  }

  counters(): PipelineCounters {
    return { ...this.#counters };
  }

  /** counters().fills, without copying the counters (the desk reads it twice a step). */
  get fillCount(): number {
    return this.#counters.fills;
  }

  /** Decisions in submit order (the most recent `journalLimit`). */
  journal(): readonly Decision[] {
    const start = this.#journalStart;
    return start === 0 ? this.#journal : [...this.#journal.slice(start), ...this.#journal.slice(0, start)];
  }

  /** Trading-state changes made through this pipeline, in order. */
  controlLog(): readonly TradingControl[] {
    return this.#controlLog;
  }

  /** Changes the trading state at once; stored, so it survives a restart. */
  setTradingState(state: TradingState, reason: string, at: EpochMs): void {
    const control: TradingControl = { state, reason, at };
    this.#state = state;
    this.store.saveControl(control);
    this.#controlLog.push(control);
  }

  /** The kill switch: halts at once (every later intent is denied) until `setTradingState('active', ...)`. */
  halt(reason: string, at: EpochMs): void {
    this.setTradingState('halted', reason, at);
  }

  /** Halts, then asks the venue to cancel every open order. Returns the orders as they end up. */
  async killSwitch(reason: string, at: EpochMs): Promise<OrderRecord[]> {
    this.halt(reason, at);
    const out: OrderRecord[] = [];
    for (const order of [...this.#open.values()]) out.push(await this.cancel(order.request.clientOrderId));
    return out;
  }

  /**
   * Asks the venue to cancel an order and applies its answer. A `new` order whose outcome is
   * unknown is looked up first; one the venue does not know is recorded as cancelled.
   */
  async cancel(clientOrderId: string): Promise<OrderRecord> {
    let order = this.#open.get(clientOrderId) ?? this.store.getOrder(clientOrderId);
    if (order === undefined) throw new ProcuraError(ErrorCode.internal, `no order with client order id ${clientOrderId}`);
    if (isTerminal(order.status)) return order;
    let report: OrderReport | undefined;
    try {
      report = await this.venue.cancel(clientOrderId, order.request.instrument);
    } catch (error) {
      this.#counters.unknownOutcomes += 1;
      return this.#save({ ...order, reason: `cancel failed: ${errorText(error)}` }, NO_NEW_FILLS);
    }
    if (report !== undefined) return this.#apply(order, report);
    if (order.status === 'new') order = this.#save(transition(order, 'cancelled', 'cancelled before the venue knew it'), NO_NEW_FILLS);
    return order;
  }

  /**
   * Runs an intent through every stage, splitting an order whose notional is above
   * `maxOrderNotional` into child orders within it (at most `maxChildOrders`, each rounded to
   * the lot step and above the market's minimums). Each child is an intent of its own quantity
   * with its own client order id (the next sequence numbers of the same time, instrument and
   * side, so a replay derives the same ids) and goes through every risk check on its own: the
   * first child denied (by the daily limit) ends the split, the rest are not sent. Without a
   * split this is `submit`.
   */
  submitAll(intent: Intent, context: SubmitContext): Promise<Decision[]> {
    return promiseOf(() => this.submitAllSoon(intent, context));
  }

  /**
   * `submitAll`, with the decisions themselves while the venue answers at once and the sink
   * books synchronously (the simulated venue and the backtest desk), and a promise only from the
   * first step that returns one; a throw is thrown, not a rejection. A backtest's step then
   * takes no promise, await or suspended frame for its orders (the desk's async path was about
   * 1.5 KB of frames per order).
   */
  submitAllSoon(intent: Intent, context: SubmitContext): Decision[] | Promise<Decision[]> {
    const rules = this.venue.rules(intent.instrument);
    const sized = this.#size(intent, context, rules);
    const { sizing } = sized;
    // Nothing the sizing reads changes before `submit` would size it again: it takes this one.
    if (sizing.kind === 'skipped' || lte(sizing.notional, this.limits.maxOrderNotional)) {
      const decision = this.#submit(intent, context, rules, sized);
      return decision instanceof Promise ? decision.then(listOfOne) : [decision];
    }
    return this.#submitChildren(intent, context, rules, sizing);
  }

  /** submitAll for an order above maxOrderNotional (see submitAll). */
  async #submitChildren(intent: Intent, context: SubmitContext, rules: MarketRules, sizing: Sizing & { kind: 'sized' }): Promise<Decision[]> {
    const children = splitQuantity(sizing.qty, sizing.price, this.limits.maxOrderNotional, this.limits.maxChildOrders, rules);
    if (children === undefined) return [await this.submit(intent, context)];
    const decisions: Decision[] = [];
    for (const qty of children) {
      const cause = { ...intent.cause, note: `${intent.cause.note === undefined ? '' : `${intent.cause.note}; `}child ${decisions.length + 1} of ${children.length}: ${sizing.qty.toFixed()} at ${sizing.price.toFixed()} is above maxOrderNotional ${this.limits.maxOrderNotional.toFixed()}` };
      const decision = await this.submit(childIntent(intent, qty, cause), context);
      decisions.push(decision);
      // The children are alike: the rest would be denied for the same reason (the daily limit), so they are not sent.
      if (decision.outcome === 'denied') break;
    }
    // One intent, however many children.
    this.#counters.intents -= decisions.length - 1;
    return decisions;
  }

  #size(intent: Intent, context: SubmitContext, rules: MarketRules): Sized {
    const pending = this.#pendingQty(intent.instrument);
    const position = plusPending(context.position ?? this.positions.qty(intent.instrument), pending);
    const limitPrice = intent.limitPrice === undefined ? undefined : roundLimitPrice(intent.limitPrice, intent.side, rules.tickSize);
    const price = limitPrice ?? context.referencePrice;
    return { sizing: sizeOrder({ intent, position, rules, price }), position, price, limitPrice, pending };
  }

  /** Runs an intent through every stage as one order; see Decision (and `submitAll` for orders above the per-order limit). */
  submit(intent: Intent, context: SubmitContext): Promise<Decision> {
    return promiseOf(() => this.#submit(intent, context, undefined, undefined));
  }

  /** `submit`, with the market rules and the sizing when the caller has just computed them for this intent and context. */
  #submit(intent: Intent, context: SubmitContext, knownRules: MarketRules | undefined, sized: Sized | undefined): Soon<Decision> {
    this.#counters.intents += 1;
    const seq = (this.#decisionSeq += 1);
    const sequence = this.#nextSequence(intent);
    const rules = knownRules ?? this.venue.rules(intent.instrument);
    const { sizing, position, price, limitPrice, pending } = sized ?? this.#size(intent, context, rules);
    const at = intent.at;
    // Each decision is one literal in the key order seq, at, intent, sizing, outcome, ... (no spread of a shared base: a visible share of a backtest's submit).
    if (sizing.kind === 'skipped') {
      this.#counters.skips += 1;
      return this.#record({ seq, at, intent, sizing, outcome: 'skipped', risk: [] });
    }
    const limits = this.limits;
    // The checks' input, which also builds an allowed decision's verdicts when first read (RiskCase).
    const riskCase = new RiskCase(
      limits,
      intent,
      sizing.qty,
      price,
      sizing.notional,
      position,
      this.#state,
      this.store.notionalOnDay(startOfDay(intent.at)),
      context.lastPrice ?? context.referencePrice,
      context.priceCap,
      context.exposure,
      context.hedgePosition === undefined ? undefined : plusPending(context.hedgePosition, pending),
    );
    if (!riskAllows(limits, riskCase)) {
      this.#counters.denials += 1;
      return this.#record({ seq, at, intent, sizing, outcome: 'denied', risk: runRiskChecks(limits, riskCase) });
    }
    // Allowed: the verdicts are built when the decision's `risk` is first read (an own enumerable
    // getter in the same place among the keys, so JSON, spreads and transfers see a plain field);
    // they read only the immutable input and the frozen limits.
    const riskOf = riskCase;
    const clientOrderId = clientOrderIdOf(this.runId, intent.at, intent.instrument, intent.side, sequence);
    const existing = this.store.getOrder(clientOrderId);
    if (existing !== undefined) {
      this.#counters.replays += 1;
      this.#venueSeen = Number.NaN;
      const replayed = ({ order, report, error }: Sent): Decision => this.#record(decisionWithRisk(seq, at, intent, sizing, 'replayed', riskOf, clientOrderId, existing.request, report, order.status, error));
      if (existing.status !== 'new') return replayed({ order: existing });
      const reconciled = this.#reconcile(existing);
      return reconciled instanceof Promise ? reconciled.then(replayed) : replayed(reconciled);
    }
    const request: OrderRequest = {
      clientOrderId,
      instrument: intent.instrument,
      symbol: rules.symbol,
      side: intent.side,
      type: limitPrice === undefined ? 'market' : 'limit',
      qty: sizing.qty,
      limitPrice,
      at: intent.at,
      reason: intent.reason,
    };
    // Record before send: a crash after this line leaves a `new` order the next run looks up.
    const recorded = newOrderRecord(request, intent, sizing.notional, seq);
    this.store.insertOrder(recorded);
    this.#keepOpen(clientOrderId, recorded);
    this.#counters.orders += 1;
    // Until the venue's answer is applied (a throw, or an outcome left unknown, keeps it so) the next sync looks every order up.
    const seen = this.#venueSeen;
    this.#venueSeen = Number.NaN;
    const sent = this.#send(recorded);
    // A closure only for a venue that answers later (one per order was built before the send).
    if (sent instanceof Promise) return sent.then((done) => this.#decided(seen, seq, intent, sizing, riskOf, request, done));
    return this.#decided(seen, seq, intent, sizing, riskOf, request, sent);
  }

  /** #submit's decision once the send is done: the venue's change count seen before it stands again unless the outcome is unknown. */
  #decided(seen: number, seq: number, intent: Intent, sizing: Sizing, riskOf: RiskCase, request: OrderRequest, { order, report, error }: Sent): Decision {
    if (order.status !== 'new') this.#venueSeen = seen;
    const outcome: DecisionOutcome = order.status === 'rejected' ? 'rejected' : order.status === 'new' ? 'unknown' : 'sent';
    return this.#record(decisionWithRisk(seq, intent.at, intent, sizing, outcome, riskOf, request.clientOrderId, request, report, order.status, error));
  }

  /**
   * Looks up every open order and applies new fills and status changes. A `new` order (unknown
   * outcome) that the venue does not know is sent again, same client order id, while attempts
   * remain, then recorded as rejected. When no order is open this returns a shared resolved
   * promise without allocating; so it does, looking nothing up, when the venue counts its
   * changes (Venue.changeCount) and none came since a sync found every order's report, with no
   * outcome in doubt since: the simulated venue changes an order only on a bar, and with
   * monthly prices orders rest for weeks (chocolate-worldbank's static-hedge run looked up 92
   * open orders a day, 5.8 % of the run).
   */
  sync(): Promise<SyncResult> {
    try {
      const synced = this.syncSoon();
      return synced === NOTHING_SYNCED ? IDLE : synced instanceof Promise ? synced : Promise.resolve(synced);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `sync`, with the result itself while every lookup answers at once (the simulated venue) and
   * the sink books synchronously, and a promise only from the first step that returns one; a
   * throw is thrown, not a rejection. Nothing to look up returns a shared frozen result.
   */
  syncSoon(): SyncResult | Promise<SyncResult> {
    if (this.#open.size === 0) return NOTHING_SYNCED;
    const changes = this.venue.changeCount?.();
    if (changes === this.#venueSeen && this.#counters.unknownOutcomes === this.#unknownSeen) return NOTHING_SYNCED;
    this.#venueSeen = Number.NaN;
    const unknown = this.#counters.unknownOutcomes;
    const synced = this.#syncFrom([...this.#open.values()], 0, { looked: 0, fills: 0, errors: [] });
    return synced instanceof Promise ? synced.then((result) => this.#synced(result, changes, unknown)) : this.#synced(synced, changes, unknown);
  }

  /**
   * A sync's end: with the venue's change count `changes` read before its lookups, every open
   * order's report is known as of it when no lookup failed, no outcome became unknown and no
   * order is left `new` (in doubt); the next sync skips the lookups while the count stays.
   */
  #synced(result: SyncResult, changes: number | undefined, unknown: number): SyncResult {
    if (changes === undefined || result.errors.length !== 0 || this.#counters.unknownOutcomes !== unknown) return result;
    for (const order of this.#open.values()) if (order.status === 'new') return result;
    this.#venueSeen = changes;
    this.#unknownSeen = unknown;
    return result;
  }

  /** Reconciles `orders` from `from` on, adding to `progress` (which is the result). */
  #syncFrom(orders: readonly OrderRecord[], from: number, progress: SyncProgress): Soon<SyncResult> {
    for (let i = from; i < orders.length; i += 1) {
      const order = orders[i]!;
      progress.looked += 1;
      const before = this.#counters.fills;
      const reconciled = this.#reconcile(order);
      if (reconciled instanceof Promise) return this.#syncAfter(orders, i, before, reconciled, progress);
      noteSynced(progress, order, this.#counters.fills - before, reconciled);
    }
    return progress;
  }

  /** #syncFrom once a lookup returned a promise: the rest after it. */
  async #syncAfter(orders: readonly OrderRecord[], i: number, before: number, reconciled: Promise<Sent>, progress: SyncProgress): Promise<SyncResult> {
    const done = await reconciled;
    noteSynced(progress, orders[i]!, this.#counters.fills - before, done);
    return this.#syncFrom(orders, i + 1, progress);
  }

  /** One lookup for an active order; see `sync`. At once when the venue answers at once (lookupNow). */
  #reconcile(order: OrderRecord): Soon<Sent> {
    const venue = this.venue;
    if (venue.lookupNow === undefined || venue.submitNow === undefined) return this.#reconcileLater(order);
    let report: OrderReport | undefined;
    try {
      report = venue.lookupNow(order.request.clientOrderId, order.request.instrument);
    } catch (error) {
      this.#counters.unknownOutcomes += 1;
      return { order, error: `lookup failed: ${errorText(error)}` };
    }
    return this.#reconciled(order, report);
  }

  /** #reconcile with a venue that answers with promises. */
  async #reconcileLater(order: OrderRecord): Promise<Sent> {
    let report: OrderReport | undefined;
    try {
      report = await this.venue.lookup(order.request.clientOrderId, order.request.instrument);
    } catch (error) {
      this.#counters.unknownOutcomes += 1;
      return { order, error: `lookup failed: ${errorText(error)}` };
    }
    return this.#reconciled(order, report);
  }

  /** The rest of a lookup once the venue answered. */
  #reconciled(order: OrderRecord, report: OrderReport | undefined): Soon<Sent> {
    if (report !== undefined) {
      const applied = this.#apply(order, report);
      return applied instanceof Promise ? applied.then((next) => ({ order: next, report })) : { order: applied, report };
    }
    if (order.status !== 'new') return { order, error: 'the venue does not know this order' };
    if (order.submitAttempts < this.limits.maxSubmitAttempts) return this.#send(order, true);
    if (this.#keepOrdersInDoubt) return { order, error: `not found at the venue after ${order.submitAttempts} attempts: in doubt, left to reconciliation` };
    const rejected = this.#save(transition(order, 'rejected', `not at the venue after ${order.submitAttempts} attempts`), NO_NEW_FILLS);
    this.#counters.rejections += 1;
    return { order: rejected, error: rejected.reason };
  }

  /**
   * Sends a recorded order; after a network error looks it up before sending again. `resend`:
   * the order may have reached the venue before (a `new` order found again after an unknown
   * outcome or a restart), so the venue proves it absent before sending (SubmitOptions).
   */
  #send(start: OrderRecord, resend = false): Soon<Sent> {
    const venue = this.venue;
    if (venue.submitNow === undefined || venue.lookupNow === undefined) return this.#sendLater(start, resend);
    let order = start;
    let lastError: string | undefined;
    let again = resend;
    while (order.submitAttempts < this.limits.maxSubmitAttempts) {
      order = this.#save(withSubmitAttempt(order), NO_NEW_FILLS);
      let report: OrderReport;
      try {
        report = venue.submitNow(order.request, again ? { resend: true } : undefined);
      } catch (error) {
        const failed = errorText(error);
        lastError = failed;
        const threw = this.#submitThrew(order, error, failed);
        order = threw.order;
        if (threw.done !== undefined) return threw.done;
        let found: OrderReport | undefined;
        try {
          found = venue.lookupNow(order.request.clientOrderId, order.request.instrument);
        } catch (lookupError) {
          this.#counters.unknownOutcomes += 1;
          return { order, error: `${failed}; lookup failed: ${errorText(lookupError)}` };
        }
        if (found !== undefined) {
          const report = found;
          const applied = this.#apply(order, report);
          return applied instanceof Promise ? applied.then((next) => ({ order: next, report, error: failed })) : { order: applied, report, error: failed };
        }
        again = true;
        continue; // the venue never saw it: send again, same client order id
      }
      const applied = this.#apply(order, report);
      return applied instanceof Promise ? applied.then((next) => this.#sent(next, report)) : this.#sent(applied, report);
    }
    return { order, error: lastError };
  }

  /** #send with a venue that answers with promises: the same steps, each awaited. */
  async #sendLater(start: OrderRecord, resend: boolean): Promise<Sent> {
    let order = start;
    let lastError: string | undefined;
    let again = resend;
    while (order.submitAttempts < this.limits.maxSubmitAttempts) {
      order = this.#save(withSubmitAttempt(order), NO_NEW_FILLS);
      let report: OrderReport;
      try {
        report = await this.venue.submit(order.request, again ? { resend: true } : undefined);
      } catch (error) {
        const failed = errorText(error);
        lastError = failed;
        const threw = this.#submitThrew(order, error, failed);
        order = threw.order;
        if (threw.done !== undefined) return threw.done;
        let found: OrderReport | undefined;
        try {
          found = await this.venue.lookup(order.request.clientOrderId, order.request.instrument);
        } catch (lookupError) {
          this.#counters.unknownOutcomes += 1;
          return { order, error: `${failed}; lookup failed: ${errorText(lookupError)}` };
        }
        if (found !== undefined) {
          const applied = this.#apply(order, found);
          return { order: applied instanceof Promise ? await applied : applied, report: found, error: failed };
        }
        again = true;
        continue; // the venue never saw it: send again, same client order id
      }
      const applied = this.#apply(order, report);
      return this.#sent(applied instanceof Promise ? await applied : applied, report);
    }
    return { order, error: lastError };
  }

  /**
   * After a submit threw: a rejection (or a failed authentication, which also halts) ends the
   * send with the order rejected; any other error leaves the outcome unknown, and a rate limit
   * ends the send there (the next sync looks the order up before re-sending). `done` is the
   * send's result when it ends here; otherwise the caller looks the order up.
   */
  #submitThrew(start: OrderRecord, error: unknown, failed: string): { order: OrderRecord; done: Sent | undefined } {
    const kind = venueErrorKindOf(error);
    if (kind === VenueErrorKind.rejected || kind === VenueErrorKind.authentication) {
      const order = this.#save(transition(start, 'rejected', failed), NO_NEW_FILLS);
      this.#counters.rejections += 1;
      if (kind === VenueErrorKind.authentication) this.halt(`venue authentication failed: ${failed}`, order.request.at);
      return { order, done: { order, error: failed } };
    }
    this.#counters.unknownOutcomes += 1;
    const order = this.#save({ ...start, reason: `outcome unknown: ${failed}` }, NO_NEW_FILLS);
    // Rate limited: leave it to the next sync, which looks it up before re-sending.
    return { order, done: kind === VenueErrorKind.rateLimit ? { order, error: failed } : undefined };
  }

  /** A send the venue answered: a rejection is counted. */
  #sent(order: OrderRecord, report: OrderReport): Sent {
    if (order.status === 'rejected') this.#counters.rejections += 1;
    return { order, report };
  }

  /**
   * Applies a venue report: state machine, store, positions, then the sink for each new fill.
   * Returns the order itself while every sink call books synchronously (the backtest desk, which
   * returns nothing): the callers then go on without an await, a promise and a turn; a promise
   * only from the first sink call that returns one.
   */
  #apply(order: OrderRecord, report: OrderReport): OrderRecord | Promise<OrderRecord> {
    const applied = applyReport(order, report);
    if (!applied.changed) return order;
    const next = this.#save(applied.order, applied.newFills);
    const fills = applied.newFills;
    for (let i = 0; i < fills.length; i += 1) {
      const fill = fills[i]!;
      this.#counters.fills += 1;
      this.positions.record(next.request.instrument, next.request.side, fill);
      if (this.#sink !== undefined) {
        const booked = this.#sink.onFill(next, fill, next.intent);
        if (booked !== undefined) return this.#applyRest(next, fills, i + 1, booked);
      }
    }
    return next;
  }

  /** The rest of `#apply` once a sink call returned a promise: each later fill after the previous one is booked. */
  async #applyRest(next: OrderRecord, fills: readonly Fill[], from: number, booked: Promise<void>): Promise<OrderRecord> {
    await booked;
    for (let i = from; i < fills.length; i += 1) {
      const fill = fills[i]!;
      this.#counters.fills += 1;
      this.positions.record(next.request.instrument, next.request.side, fill);
      if (this.#sink !== undefined) {
        const later = this.#sink.onFill(next, fill, next.intent);
        if (later !== undefined) await later;
      }
    }
    return next;
  }

  #save(order: OrderRecord, newFills: readonly Fill[]): OrderRecord {
    this.store.updateOrder(order, newFills);
    const id = order.request.clientOrderId;
    if (isTerminal(order.status)) {
      // A replay of a final order reads it from the store (#submit), never from the venue, which need not keep it.
      // (A store that forgets finished orders, a backtest's, is for runs whose ids never repeat: see MemoryOrderStoreOptions.)
      this.venue.forget?.(id);
      this.#open.delete(id);
      const mine = this.#openIn.get(order.request.instrument);
      if (mine !== undefined && mine.orders.delete(id)) mine.pending = undefined;
    } else this.#keepOpen(id, order);
    return order;
  }

  /**
   * Adds or replaces an active order in #open and #openIn (a replaced one keeps its place in
   * both). The instrument's pending sum, when kept, takes a new order as the walk's next step
   * (it is last in the map); a replaced order whose quantity, side or filled quantity may have
   * changed drops it.
   */
  #keepOpen(id: string, order: OrderRecord): void {
    this.#open.set(id, order);
    const instrument = order.request.instrument;
    let mine = this.#openIn.get(instrument);
    if (mine === undefined) this.#openIn.set(instrument, (mine = new InstrumentOrders()));
    const before = mine.orders.get(id);
    mine.orders.set(id, order);
    if (mine.pending === undefined) return;
    if (before === undefined) mine.pending = plusRemaining(mine.pending, order);
    else if (before.request.qty !== order.request.qty || before.request.side !== order.request.side || before.filledQty !== order.filledQty) mine.pending = undefined;
  }

  #record(decision: Decision): Decision {
    if (this.#journalLimit <= 0) return decision;
    // A ring once full (shifting a 5,000-entry array per decision was a visible share of a backtest).
    if (this.#journal.length < this.#journalLimit) this.#journal.push(decision);
    else {
      this.#journal[this.#journalStart] = decision;
      this.#journalStart = (this.#journalStart + 1) % this.#journalLimit;
    }
    return decision;
  }

  /** Signed remaining quantity of this pipeline's active orders in `instrument` (the kept sum while it stands). */
  #pendingQty(instrument: string): Decimal {
    const mine = this.#openIn.get(instrument);
    if (mine === undefined || mine.orders.size === 0) return ZERO;
    if (mine.pending !== undefined) return mine.pending;
    let pending = ZERO;
    for (const order of mine.orders.values()) pending = plusRemaining(pending, order);
    mine.pending = pending;
    return pending;
  }

  /** 0 for the first intent with this (time, instrument, side), 1 for the next, ...; restarts each new intent time. */
  #nextSequence(intent: Intent): number {
    if (intent.at !== this.#sequenceAt) {
      this.#sequenceAt = intent.at;
      this.#sequenceEpoch += 1;
    }
    const epoch = this.#sequenceEpoch;
    const sequences = intent.side === 'buy' ? this.#buySequences : this.#sellSequences;
    const entry = sequences.get(intent.instrument);
    if (entry === undefined) {
      sequences.set(intent.instrument, { epoch, next: 1 });
      return 0;
    }
    // `next` is read whatever the epoch: read only for a second intent at the same time, V8 had
    // compiled #submit (which inlines this) without any feedback for it, and the main job's first
    // such intent, months into its runs, deoptimised #submit and had it compiled again.
    const next = entry.next;
    const sequence = entry.epoch === epoch ? next : 0;
    entry.epoch = epoch;
    entry.next = sequence + 1;
    return sequence;
  }
}

/**
 * The risk checks' input for one order, and an allowed decision's verdicts worked out from it
 * when first read (it is immutable, the limits frozen). One object for both: a closure kept
 * #submit's whole context (the sizing, the request, the existing order, ...) alive as long as
 * the journal keeps the decision (its last 5,000), and an input apart from its verdicts' holder
 * was one more object per decision, all of them promoted to the old generation.
 */
class RiskCase implements RiskInput {
  #verdicts: RiskVerdict[] | undefined = undefined;
  constructor(
    readonly limits: RiskLimits,
    readonly intent: Intent,
    readonly qty: Decimal,
    readonly price: Decimal,
    readonly notional: Decimal,
    readonly position: Decimal,
    readonly tradingState: TradingState,
    readonly dayNotional: Decimal,
    readonly lastPrice: Decimal,
    readonly priceCap: Decimal | undefined,
    readonly exposure: Decimal | undefined,
    readonly hedgePosition: Decimal | undefined,
  ) {}
  get verdicts(): RiskVerdict[] {
    return (this.#verdicts ??= runRiskChecks(this.limits, this));
  }
}

/** Where a decision keeps its RiskCase (not enumerable, not string-keyed: JSON, keys and spreads do not see it). */
const RISK_SLOT = Symbol('risk');

/** The decision's `risk`: one getter shared by every decision (as core/lazy.ts does, reading a RiskCase instead of a function). */
const RISK_PROPERTY: PropertyDescriptor = {
  get(this: { [RISK_SLOT]: RiskCase }): RiskVerdict[] {
    return this[RISK_SLOT].verdicts;
  },
  enumerable: true,
  configurable: true,
};

/**
 * One instrument's active orders, in #open's order, and the sum #pendingQty last walked from
 * them (undefined: walk again). With monthly prices orders rest for weeks, unchanged, while the
 * instrument is sized every day: chocolate-worldbank's static-hedge run walked 974,000 orders
 * in 92,000 sizings (two Decimal operations each, a tenth of the run). The sum is the walk's: a
 * new order, last in the map, adds its remaining quantity as the walk's next step would, and any
 * change that may move a remaining quantity (a fill, an order ending) drops it.
 */
class InstrumentOrders {
  readonly orders = new Map<string, OrderRecord>();
  pending: Decimal | undefined = undefined;
}

/** A step of #pendingQty's walk: `pending` plus the order's remaining quantity, signed by its side. */
function plusRemaining(pending: Decimal, order: OrderRecord): Decimal {
  const remaining = order.request.qty.minus(order.filledQty);
  return order.request.side === 'buy' ? pending.plus(remaining) : pending.minus(remaining);
}

/**
 * A child order's intent: the parent's fields without its target, with the child's `qty` and
 * cause. A target intent's qty goes after its other fields and a qty intent's stays in place,
 * wherever the parent holds an undefined qty field (strategies send intents of one shape, see
 * buyIntent), so a child decision's JSON keeps its key order.
 */
function childIntent(intent: Intent, qty: Decimal, cause: IntentCause): Intent {
  if (intent.qty === undefined) {
    const { targetQty: _target, qty: _qty, ...rest } = intent;
    return { ...rest, qty, cause };
  }
  const { targetQty: _target, ...rest } = intent;
  return { ...rest, qty, cause };
}

function listOfOne(decision: Decision): Decision[] {
  return [decision];
}

/** One reconciled order's share of a sync's result. */
function noteSynced(progress: SyncProgress, order: OrderRecord, fills: number, { error }: Sent): void {
  progress.fills += fills;
  if (error !== undefined) progress.errors.push(`${order.request.clientOrderId}: ${error}`);
}

/**
 * A decision that reached the venue (or was replayed), with its verdicts built when `risk` is
 * first read: the keys of the literal `{ seq, at, intent, sizing, outcome, get risk(), clientOrderId,
 * request, firstReport, status, error }` in that order, the getter shared (RISK_PROPERTY).
 */
function decisionWithRisk(
  seq: number,
  at: EpochMs,
  intent: Intent,
  sizing: Sizing,
  outcome: DecisionOutcome,
  risk: RiskCase,
  clientOrderId: string,
  request: OrderRequest,
  firstReport: OrderReport | undefined,
  status: OrderStatus,
  error: string | undefined,
): Decision {
  const decision: Record<string, unknown> = { seq, at, intent, sizing, outcome };
  Object.defineProperty(decision, 'risk', RISK_PROPERTY);
  Object.defineProperty(decision, RISK_SLOT, { value: risk });
  decision['clientOrderId'] = clientOrderId;
  decision['request'] = request;
  decision['firstReport'] = firstReport;
  decision['status'] = status;
  decision['error'] = error;
  return decision as unknown as Decision;
}

/**
 * position + pending: the position itself when nothing is pending (the shared ZERO) and the
 * position is not zero (x + 0 is x for any non-zero x; a zero keeps the sum's sign rule).
 */
function plusPending(position: Decimal, pending: Decimal): Decimal {
  return pending === ZERO && !position.isZero() ? position : position.plus(pending);
}

/** A decision (or any pipeline value) as plain JSON: decimals become strings. */
export function toPlainJson(value: unknown): unknown {
  if (Decimal.isDecimal(value)) return (value as Decimal).toFixed();
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[key] = toPlainJson(inner);
    return out;
  }
  return value;
}

/**
 * Child quantities of an order of `qty` at `price` whose notional is above `maxNotional`: as
 * few children as keep each at most `maxNotional`, equal up to one lot step (the remainder's
 * steps go to the first children), summing to `qty`. Undefined when no split fits: more than
 * `maxChildren` children, or a child below the market's minimum quantity or notional.
 */
export function splitQuantity(qty: Decimal, price: Decimal, maxNotional: Decimal, maxChildren: number, rules: MarketRules): Decimal[] | undefined {
  if (maxChildren < 2 || !price.isPositive() || price.isZero()) return undefined;
  const step = rules.lotStep;
  for (let n = Math.max(2, qty.times(price).dividedBy(maxNotional).ceil().toNumber()); n <= maxChildren; n += 1) {
    const baseQty = step.isZero() ? qty.dividedBy(n) : floorToStep(qty.dividedBy(n), step);
    if (baseQty.isZero() || baseQty.lessThan(rules.minQty) || baseQty.times(price).lessThan(rules.minNotional)) return undefined;
    const extraSteps = step.isZero() ? 0 : qty.minus(baseQty.times(n)).dividedBy(step).round().toNumber();
    const largest = extraSteps > 0 ? baseQty.plus(step) : baseQty;
    if (largest.times(price).greaterThan(maxNotional)) continue;
    return Array.from({ length: n }, (_, i) => (i < extraSteps ? baseQty.plus(step) : baseQty));
  }
  return undefined;
}
