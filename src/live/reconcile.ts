/**
 * Reconciliation: what the exchange says against what the store says, matched by client order
 * id, before every tick trades (and alone with `procura live --reconcile-only`).
 *
 *   - every local active order is looked up by its client order id: fills the exchange has and
 *     the store does not are "missed fills"; they are booked exactly once by the step's own
 *     sync (the pipeline deduplicates by trade id, the ledger by event id);
 *   - a local order the exchange does not know `graceSeconds` after it was recorded is searched
 *     for in the exchange's order history (open orders, all orders, trades: CcxtVenue.proveAbsent).
 *     Found, it is adopted. Provably absent and never acknowledged (`new`: recorded, then the
 *     process died before or while sending), it is cancelled locally, without a halt: the desk
 *     decides afresh. Otherwise it is in doubt: trading halts until the exchange shows it or the
 *     operator answers (`procura live resolve order`);
 *   - open orders on the desk's symbols that belong to no local order are reported (a halt);
 *   - trades that belong to no local order are recorded once (store: ExternalTrade), classified
 *     by their client order id (procura's prefix or not), and handled by the policy
 *     `reconciliation.foreignTrades`: `set-aside` (default: the account moved, not the plant's
 *     books), `book` (a buy of a material's symbol goes to the ledger as a purchase) or `halt`.
 *     A trade with procura's prefix that this store does not know always waits for the operator
 *     (`procura live resolve trade`). The trade cursor then moves past them; a recorded trade is
 *     never reported twice;
 *   - per base asset: the exchange balance (total) against the baseline taken at the first run,
 *     plus what every local fill moved (buys received minus sells given up, fills the exchange
 *     has and the store does not yet included), plus the external trades, plus the differences
 *     the operator accepted. A fee taken in the base asset is already out of what a fill
 *     received (Fill.feeBase), so there is no fee term. A difference beyond the tolerance fails
 *     the reconciliation: the runner refuses to trade that tick.
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { formatTime, type EpochMs } from '../core/time.js';
import { baseMoved, transition, type Fill, type OrderRecord } from '../pipeline/index.js';
import type { CcxtVenue } from '../venues/ccxt/index.js';
import { CLIENT_ORDER_ID_PREFIX } from '../pipeline/index.js';
import type { ExternalTrade, LiveStateStore, SqliteOrderStore } from './store.js';

export interface PositionCheck {
  readonly asset: string;
  readonly exchange: string;
  readonly baseline: string;
  /** Every local fill's base quantity as received or given up (buys minus sells, net of fees taken in the asset). */
  readonly localNet: string;
  /** Base quantity moved by recorded external trades (booked, set aside or pending). */
  readonly external: string;
  /** Differences the operator accepted (`procura live resolve difference`). */
  readonly accepted: string;
  readonly expected: string;
  readonly difference: string;
  readonly tolerance: string;
  readonly ok: boolean;
}

export interface ReconcileReport {
  readonly at: EpochMs;
  readonly ok: boolean;
  readonly activeOrders: number;
  readonly missedFills: readonly { clientOrderId: string; tradeId: string; qty: string; price: string }[];
  /** Orders recorded and provably never at the exchange (a crash before or while sending): cancelled locally, no halt. */
  readonly neverSent: readonly { clientOrderId: string; instrument: string; ageSeconds: number }[];
  /** Orders the exchange does not show after the grace period, whose absence cannot be proven, or which it had acknowledged: a halt. */
  readonly inDoubt: readonly { clientOrderId: string; instrument: string; ageSeconds: number; reason: string }[];
  /** Orders found only in the exchange's order history (not by a lookup by id): adopted. */
  readonly adopted: readonly { clientOrderId: string; where: string }[];
  readonly pendingUnknown: readonly { clientOrderId: string; ageSeconds: number }[];
  readonly foreignOpenOrders: readonly { symbol: string; clientOrderId: string; venueOrderId: string | undefined }[];
  /** External trades seen for the first time in this run, with what the policy did. */
  readonly newExternalTrades: readonly ExternalTrade[];
  /** External trades waiting for the operator (a halt). */
  readonly pendingExternalTrades: readonly ExternalTrade[];
  readonly positions: readonly PositionCheck[];
  /** Everything that made `ok` false, in words. */
  readonly problems: readonly string[];
}

export interface ReconcileOptions {
  readonly venue: CcxtVenue;
  readonly store: LiveStateStore;
  readonly orders: SqliteOrderStore;
  /** Instrument id -> exchange symbol. */
  readonly instruments: Readonly<Record<string, string>>;
  readonly tolerance: Decimal;
  readonly graceMs: number;
  readonly now: EpochMs;
  /** Mark lost orders and record fees and baselines (false for --reconcile-only: read only). */
  readonly apply: boolean;
  /** What to do with a trade on the account that procura did not make (see the module comment). */
  readonly foreignTrades?: ForeignTradePolicy;
  /** Instrument id -> material id, for the instruments whose buys are procurement (external buys booked as purchases). */
  readonly materials?: Readonly<Record<string, string>>;
}

/** `reconciliation.foreignTrades` in the live config. */
export type ForeignTradePolicy = 'set-aside' | 'book' | 'halt';

/** Base asset of a ccxt spot symbol (PAXG/USDT -> PAXG). */
export function baseAssetOf(symbol: string): string {
  return symbol.split('/')[0]!.split(':')[0]!;
}

/** Runs the reconciliation; see the module comment. Network errors propagate (the tick fails closed). */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const { venue, store, orders, now } = options;
  const problems: string[] = [];
  const missedFills: { clientOrderId: string; tradeId: string; qty: string; price: string }[] = [];
  const missedByOrder = new Map<string, Fill[]>();
  const neverSent: { clientOrderId: string; instrument: string; ageSeconds: number }[] = [];
  const inDoubt: { clientOrderId: string; instrument: string; ageSeconds: number; reason: string }[] = [];
  const adopted: { clientOrderId: string; where: string }[] = [];
  const pendingUnknown: { clientOrderId: string; ageSeconds: number }[] = [];
  const knownVenueIds = new Map<string, OrderRecord>();

  // 1. Local active orders, by client order id.
  const active = orders.activeOrders();
  for (const order of active) {
    const cid = order.request.clientOrderId;
    let report = await venue.lookup(cid, order.request.instrument);
    const ageSeconds = Math.round((now - (orders.recordedAt(cid) ?? order.request.at)) / 1000);
    if (report === undefined) {
      if (ageSeconds * 1000 <= options.graceMs) {
        pendingUnknown.push({ clientOrderId: cid, ageSeconds });
        continue;
      }
      // Not found by id is not proof: search the history before giving the order up.
      const proof = await venue.proveAbsent(cid, order.request.instrument, order.request.at);
      if (proof.kind === 'found') {
        report = proof.report;
        adopted.push({ clientOrderId: cid, where: proof.where });
      } else if (proof.kind === 'absent' && order.status === 'new') {
        neverSent.push({ clientOrderId: cid, instrument: order.request.instrument, ageSeconds });
        if (options.apply) orders.updateOrderNow(transition(order, 'cancelled', `${NEVER_SENT}: absent from open orders, all orders and trades ${ageSeconds} s after it was recorded; cancelled locally`));
        continue;
      } else {
        const reason = proof.kind === 'unproven' ? proof.reason : `the exchange had acknowledged it (${order.status}) and no longer shows it`;
        inDoubt.push({ clientOrderId: cid, instrument: order.request.instrument, ageSeconds, reason });
        continue;
      }
    }
    if (report.venueOrderId !== undefined) knownVenueIds.set(report.venueOrderId, order);
    const seen = new Set(order.fills.map((f) => f.tradeId));
    const missing = report.fills.filter((f) => !seen.has(f.tradeId));
    if (missing.length > 0) missedByOrder.set(cid, missing);
    for (const f of missing) missedFills.push({ clientOrderId: cid, tradeId: f.tradeId, qty: f.qty.toFixed(), price: f.price.toFixed() });
  }

  // 2. Open orders and recent trades per symbol.
  const symbols = [...new Set(Object.values(options.instruments))];
  const instrumentOf = new Map<string, string>();
  for (const [instrument, symbol] of Object.entries(options.instruments)) if (!instrumentOf.has(symbol)) instrumentOf.set(symbol, instrument);
  const foreignOpenOrders: { symbol: string; clientOrderId: string; venueOrderId: string | undefined }[] = [];
  const newExternalTrades: ExternalTrade[] = [];
  const sinceKey = 'reconcile.tradesSince';
  const since = Number(store.meta(sinceKey) ?? store.meta('baseline.at') ?? now);
  let newestTrade = since;
  const baselineAt = Number(store.meta('baseline.at') ?? now);
  const policy = options.foreignTrades ?? 'set-aside';
  const unclassified: { key: string; venueOrderId: string }[] = [];
  let firstUnclassified = Number.POSITIVE_INFINITY;
  for (const symbol of symbols) {
    const instrument = instrumentOf.get(symbol)!;
    for (const open of await venue.fetchOpenOrders(instrument)) {
      if (orders.getOrder(open.clientOrderId) === undefined) foreignOpenOrders.push({ symbol, clientOrderId: open.clientOrderId, venueOrderId: open.venueOrderId });
    }
    // From the newest trade seen (inclusive; trades already recorded are skipped by key). Fills
    // of local orders never depend on this list: they come from the lookups by client order id
    // above, and the balance check catches anything else that moved the account.
    for (const trade of await venue.fetchMyTrades(instrument, since)) {
      newestTrade = Math.max(newestTrade, trade.at);
      const key = `${symbol}:${trade.tradeId}`;
      if (store.hasFee(key) || store.externalTrade(key) !== undefined) continue; // seen in an earlier run
      const local = knownVenueIds.get(trade.venueOrderId) ?? orders.byVenueOrderId(symbol, trade.venueOrderId);
      if (local !== undefined) {
        const fee = trade.feeCharged ?? { cost: ZERO, currency: '' };
        if (options.apply) store.saveFee(key, fee.cost, fee.currency);
        const inLocal = local.fills.some((f) => f.tradeId === trade.tradeId) || (missedByOrder.get(local.request.clientOrderId) ?? []).some((f) => f.tradeId === trade.tradeId);
        if (!inLocal) problems.push(`trade ${trade.tradeId} of order ${local.request.clientOrderId} (${symbol}) is not in the store and the order is ${local.status} locally`);
        continue;
      }
      // Trades from before the first run are in the baseline.
      if (trade.at < baselineAt) continue;
      const exchangeOrder = await venue.orderByVenueId(trade.venueOrderId, instrument);
      if (exchangeOrder === undefined) {
        // The exchange cannot show the trade's order yet (it lags): it may be ours. Not classified,
        // not recorded, and the cursor stays before it; the balance check fails closed meanwhile.
        unclassified.push({ key, venueOrderId: trade.venueOrderId });
        firstUnclassified = Math.min(firstUnclassified, trade.at);
        continue;
      }
      const clientOrderId = exchangeOrder.clientOrderId;
      // A local order whose trade shows before the order does (an exchange that lags): the lookups by id will book it.
      if (clientOrderId !== '' && orders.getOrder(clientOrderId) !== undefined) continue;
      const origin: ExternalTrade['origin'] = clientOrderId.startsWith(CLIENT_ORDER_ID_PREFIX) ? 'procura' : 'foreign';
      const material = options.materials?.[instrument];
      const bookable = trade.side === 'buy' && material !== undefined;
      let status: ExternalTrade['status'];
      let resolution: string | undefined;
      if (origin === 'procura' || policy === 'halt') status = 'pending';
      else if (policy === 'book' && bookable) {
        status = 'booked';
        resolution = 'booked by policy (reconciliation.foreignTrades: book)';
      } else {
        status = 'set-aside';
        resolution = policy === 'book' ? 'set aside by policy: only buys of a material can be booked as purchases' : 'set aside by policy (reconciliation.foreignTrades: set-aside)';
      }
      const moved = baseMoved(trade.side, trade);
      const record: ExternalTrade = {
        key, symbol, tradeId: trade.tradeId, venueOrderId: trade.venueOrderId, clientOrderId, side: trade.side, qty: trade.qty.toFixed(), price: trade.price.toFixed(),
        moved: moved.toFixed(), fee: trade.fee.toFixed(), at: trade.at, seenAt: now, origin, status, resolvedAt: resolution === undefined ? null : now, resolution: resolution ?? null,
      };
      newExternalTrades.push(record);
      if (options.apply) {
        store.recordExternalTrade(record, resolution);
        if (status === 'booked') bookExternalTrade(store, record, material!);
      }
    }
  }
  const cursor = Math.min(newestTrade, firstUnclassified);
  if (options.apply && cursor > since) store.setMetaNow(sinceKey, String(cursor));
  for (const trade of unclassified) problems.push(`trade ${trade.key} belongs to exchange order ${trade.venueOrderId}, which the exchange does not show yet: it is looked at again next tick`);
  if (options.apply && store.meta(sinceKey) === undefined) store.setMetaNow(sinceKey, String(now));
  for (const order of foreignOpenOrders) problems.push(`open order ${order.clientOrderId || order.venueOrderId} on ${order.symbol} belongs to no local order`);
  const pendingExternalTrades = options.apply ? store.externalTrades('pending') : [...store.externalTrades('pending'), ...newExternalTrades.filter((t) => t.status === 'pending')];
  for (const trade of pendingExternalTrades) {
    problems.push(`trade ${trade.key} (${trade.side} ${trade.qty} at ${trade.price}, exchange order ${trade.venueOrderId}, client order id ${trade.clientOrderId || '(none)'}) belongs to no local order${trade.origin === 'procura' ? " but has procura's client order id prefix" : ''}: waiting for \`procura live resolve trade ${trade.key} --book|--set-aside\``);
  }
  for (const order of inDoubt) problems.push(`order ${order.clientOrderId} is in doubt ${order.ageSeconds} s after it was recorded: ${order.reason}; waiting for the exchange to show it, or for \`procura live resolve order ${order.clientOrderId} --cancelled\``);

  // 3. Positions per base asset.
  const balances = await venue.fetchBalances();
  const assets = [...new Set(symbols.map(baseAssetOf))];
  const positions: PositionCheck[] = [];
  const moved = orders.movedBySymbol();
  for (const asset of assets) {
    const exchange = balances[asset]?.total ?? ZERO;
    let localNet = ZERO;
    for (const row of moved) {
      if (baseAssetOf(row.symbol) !== asset) continue;
      localNet = row.side === 'buy' ? localNet.plus(row.moved) : localNet.minus(row.moved);
    }
    for (const order of active) {
      if (baseAssetOf(order.request.symbol) !== asset) continue;
      for (const fill of missedByOrder.get(order.request.clientOrderId) ?? []) {
        const qty = baseMoved(order.request.side, fill);
        localNet = order.request.side === 'buy' ? localNet.plus(qty) : localNet.minus(qty);
      }
    }
    const external = store.externalNet(asset).plus(newExternalTrades.filter((t) => baseAssetOf(t.symbol) === asset && !options.apply).reduce((sum, t) => (t.side === 'buy' ? sum.plus(t.moved) : sum.minus(t.moved)), ZERO));
    const accepted = store.adjustmentTotal(asset);
    let baselineText = store.meta(`baseline.${asset}`);
    if (baselineText === undefined) {
      // First run: what the account holds now, less what the store already booked, is the baseline.
      baselineText = exchange.minus(localNet).minus(external).minus(accepted).toFixed();
      if (options.apply) {
        store.setMetaNow(`baseline.${asset}`, baselineText);
        if (store.meta('baseline.at') === undefined) store.setMetaNow('baseline.at', String(now));
      }
    }
    const baseline = new Decimal(baselineText);
    const expected = baseline.plus(localNet).plus(external).plus(accepted);
    const difference = exchange.minus(expected);
    const ok = difference.abs().lessThanOrEqualTo(options.tolerance);
    positions.push({
      asset, exchange: exchange.toFixed(), baseline: baseline.toFixed(), localNet: localNet.toFixed(), external: external.toFixed(), accepted: accepted.toFixed(),
      expected: expected.toFixed(), difference: difference.toFixed(), tolerance: options.tolerance.toFixed(), ok,
    });
    if (!ok) problems.push(`${asset}: the exchange holds ${exchange.toFixed()}, the local book expects ${expected.toFixed()} (difference ${difference.toFixed()}, tolerance ${options.tolerance.toFixed()})`);
  }
  return { at: now, ok: problems.length === 0, activeOrders: active.length, missedFills, neverSent, inDoubt, adopted, pendingUnknown, foreignOpenOrders, newExternalTrades, pendingExternalTrades, positions, problems };
}

/** The reason given to an order cancelled locally because it provably never reached the exchange. */
export const NEVER_SENT = 'never reached the exchange';

/**
 * Books an external buy as a purchase of `material`: a delivery due at once (it is on the
 * account already), which the desk receives at its next day (event id
 * `external:<symbol>:<trade id>`, so never twice).
 */
export function bookExternalTrade(store: LiveStateStore, trade: ExternalTrade, material: string): void {
  store.addDeliveryNow(`external:${trade.key}`, {
    material, due: 0, qty: trade.moved, price: trade.price, fee: trade.fee,
    ref: `external-${trade.venueOrderId}`, reason: 'external', id: `external:${trade.key}`,
  });
}

/** The report as text lines (for --reconcile-only and logs). */
export function formatReconcile(report: ReconcileReport): string {
  const lines: string[] = [`reconciliation at ${formatTime(report.at)}: ${report.ok ? 'OK' : 'DIFFERENCES'}`];
  lines.push(`  active local orders: ${report.activeOrders}; missed fills (booked by the next step): ${report.missedFills.length}; within grace: ${report.pendingUnknown.length}; never sent (cancelled locally): ${report.neverSent.length}; in doubt: ${report.inDoubt.length}`);
  for (const p of report.positions) {
    const extra = `${p.external === '0' ? '' : ` + external trades ${p.external}`}${p.accepted === '0' ? '' : ` + accepted differences ${p.accepted}`}`;
    lines.push(`  ${p.asset}: exchange ${p.exchange} | expected ${p.expected} (baseline ${p.baseline} + local fills ${p.localNet}, as received${extra}) | difference ${p.difference} | ${p.ok ? 'ok' : `BEYOND TOLERANCE ${p.tolerance}`}`);
  }
  for (const t of report.newExternalTrades) lines.push(`  external trade ${t.key}: ${t.side} ${t.qty} at ${t.price} (client order id ${t.clientOrderId || '(none)'}, ${t.origin}): ${t.status}`);
  for (const problem of report.problems) lines.push(`  - ${problem}`);
  return lines.join('\n');
}
