/**
 * Reconciliation: what the exchange says against what the store says, matched by client order
 * id, before every tick trades (and alone with `procura live --reconcile-only`).
 *
 *   - every local active order is looked up by its client order id: fills the exchange has and
 *     the store does not are "missed fills"; they are booked exactly once by the step's own
 *     sync (the pipeline deduplicates by trade id, the ledger by event id);
 *   - a local order the exchange does not know `graceSeconds` after it was recorded is marked
 *     lost (expired, with the reason) and reported;
 *   - open orders and recent trades on the desk's symbols that belong to no local order are
 *     reported (placed by hand, or by a store that was lost);
 *   - per base asset: the exchange balance (total) against the baseline taken at the first
 *     run plus what every local fill moved (buys received minus sells given up, fills the
 *     exchange has and the store does not yet included). A fee taken in the base asset is
 *     already out of what a fill received (Fill.feeBase), so there is no separate fee term.
 *     A difference beyond the tolerance fails the reconciliation: the runner refuses to trade
 *     that tick.
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { formatTime, type EpochMs } from '../core/time.js';
import { baseMoved, transition, type Fill, type OrderRecord } from '../pipeline/index.js';
import type { CcxtVenue } from '../venues/ccxt/index.js';
import type { LiveStore, SqliteOrderStore } from './store.js';

export interface PositionCheck {
  readonly asset: string;
  readonly exchange: string;
  readonly baseline: string;
  /** Every local fill's base quantity as received or given up (buys minus sells, net of fees taken in the asset). */
  readonly localNet: string;
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
  readonly lost: readonly { clientOrderId: string; instrument: string; ageSeconds: number }[];
  readonly pendingUnknown: readonly { clientOrderId: string; ageSeconds: number }[];
  readonly foreignOpenOrders: readonly { symbol: string; clientOrderId: string; venueOrderId: string | undefined }[];
  readonly unmatchedTrades: readonly { symbol: string; tradeId: string; venueOrderId: string; side: string; qty: string }[];
  readonly positions: readonly PositionCheck[];
  /** Everything that made `ok` false, in words. */
  readonly problems: readonly string[];
}

export interface ReconcileOptions {
  readonly venue: CcxtVenue;
  readonly store: LiveStore;
  readonly orders: SqliteOrderStore;
  /** Instrument id -> exchange symbol. */
  readonly instruments: Readonly<Record<string, string>>;
  readonly tolerance: Decimal;
  readonly graceMs: number;
  readonly now: EpochMs;
  /** Mark lost orders and record fees and baselines (false for --reconcile-only: read only). */
  readonly apply: boolean;
}

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
  const lost: { clientOrderId: string; instrument: string; ageSeconds: number }[] = [];
  const pendingUnknown: { clientOrderId: string; ageSeconds: number }[] = [];
  const knownVenueIds = new Map<string, OrderRecord>();

  // 1. Local active orders, by client order id.
  const active = orders.activeOrders();
  for (const order of active) {
    const cid = order.request.clientOrderId;
    const report = await venue.lookup(cid, order.request.instrument);
    const ageSeconds = Math.round((now - (orders.recordedAt(cid) ?? order.request.at)) / 1000);
    if (report === undefined) {
      if (ageSeconds * 1000 > options.graceMs) {
        lost.push({ clientOrderId: cid, instrument: order.request.instrument, ageSeconds });
        if (options.apply) orders.updateOrderNow(transition(order, 'expired', `lost: the exchange does not know it ${ageSeconds} s after it was recorded`));
      } else {
        pendingUnknown.push({ clientOrderId: cid, ageSeconds });
      }
      continue;
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
  const unmatchedTrades: { symbol: string; tradeId: string; venueOrderId: string; side: string; qty: string }[] = [];
  const sinceKey = 'reconcile.tradesSince';
  const since = Number(store.meta(sinceKey) ?? store.meta('baseline.at') ?? now);
  let newestTrade = since;
  const baselineAt = Number(store.meta('baseline.at') ?? now);
  for (const symbol of symbols) {
    const instrument = instrumentOf.get(symbol)!;
    for (const open of await venue.fetchOpenOrders(instrument)) {
      if (orders.getOrder(open.clientOrderId) === undefined) foreignOpenOrders.push({ symbol, clientOrderId: open.clientOrderId, venueOrderId: open.venueOrderId });
    }
    // From the newest trade seen (inclusive; seen trades are skipped by id). Fills of local
    // orders never depend on this list: they come from the lookups by client order id above,
    // and the balance check catches anything else that moved the account.
    for (const trade of await venue.fetchMyTrades(instrument, since)) {
      newestTrade = Math.max(newestTrade, trade.at);
      const key = `${symbol}:${trade.tradeId}`;
      if (store.hasFee(key)) continue; // matched to a local order in an earlier run
      const local = knownVenueIds.get(trade.venueOrderId) ?? orders.byVenueOrderId(symbol, trade.venueOrderId);
      if (local === undefined) {
        // Trades from before the first run are in the baseline.
        if (trade.at < baselineAt) continue;
        unmatchedTrades.push({ symbol, tradeId: trade.tradeId, venueOrderId: trade.venueOrderId, side: trade.side, qty: trade.qty.toFixed() });
        continue;
      }
      const fee = trade.feeCharged ?? { cost: ZERO, currency: '' };
      if (options.apply) store.saveFee(key, fee.cost, fee.currency);
      const inLocal = local.fills.some((f) => f.tradeId === trade.tradeId) || (missedByOrder.get(local.request.clientOrderId) ?? []).some((f) => f.tradeId === trade.tradeId);
      if (!inLocal) problems.push(`trade ${trade.tradeId} of order ${local.request.clientOrderId} (${symbol}) is not in the store and the order is ${local.status} locally`);
    }
  }
  if (options.apply && newestTrade > since) store.setMetaNow(sinceKey, String(newestTrade));
  if (options.apply && store.meta(sinceKey) === undefined) store.setMetaNow(sinceKey, String(now));
  for (const order of foreignOpenOrders) problems.push(`open order ${order.clientOrderId || order.venueOrderId} on ${order.symbol} belongs to no local order`);
  for (const trade of unmatchedTrades) problems.push(`trade ${trade.tradeId} (${trade.side} ${trade.qty} ${trade.symbol}, exchange order ${trade.venueOrderId}) belongs to no local order`);
  for (const order of lost) problems.push(`order ${order.clientOrderId} is not known to the exchange ${order.ageSeconds} s after it was recorded: marked lost`);

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
    let baselineText = store.meta(`baseline.${asset}`);
    if (baselineText === undefined) {
      // First run: what the account holds now, less what the store already booked, is the baseline.
      baselineText = exchange.minus(localNet).toFixed();
      if (options.apply) {
        store.setMetaNow(`baseline.${asset}`, baselineText);
        if (store.meta('baseline.at') === undefined) store.setMetaNow('baseline.at', String(now));
      }
    }
    const baseline = new Decimal(baselineText);
    const expected = baseline.plus(localNet);
    const difference = exchange.minus(expected);
    const ok = difference.abs().lessThanOrEqualTo(options.tolerance);
    positions.push({
      asset, exchange: exchange.toFixed(), baseline: baseline.toFixed(), localNet: localNet.toFixed(),
      expected: expected.toFixed(), difference: difference.toFixed(), tolerance: options.tolerance.toFixed(), ok,
    });
    if (!ok) problems.push(`${asset}: the exchange holds ${exchange.toFixed()}, the local book expects ${expected.toFixed()} (difference ${difference.toFixed()}, tolerance ${options.tolerance.toFixed()})`);
  }
  return { at: now, ok: problems.length === 0, activeOrders: active.length, missedFills, lost, pendingUnknown, foreignOpenOrders, unmatchedTrades, positions, problems };
}

/** The report as text lines (for --reconcile-only and logs). */
export function formatReconcile(report: ReconcileReport): string {
  const lines: string[] = [`reconciliation at ${formatTime(report.at)}: ${report.ok ? 'OK' : 'DIFFERENCES'}`];
  lines.push(`  active local orders: ${report.activeOrders}; missed fills (booked by the next step): ${report.missedFills.length}; lost: ${report.lost.length}; within grace: ${report.pendingUnknown.length}`);
  for (const p of report.positions) {
    lines.push(`  ${p.asset}: exchange ${p.exchange} | expected ${p.expected} (baseline ${p.baseline} + local fills ${p.localNet}, as received) | difference ${p.difference} | ${p.ok ? 'ok' : `BEYOND TOLERANCE ${p.tolerance}`}`);
  }
  for (const problem of report.problems) lines.push(`  - ${problem}`);
  return lines.join('\n');
}
