/**
 * The operator's side of a live desk: what a halted runner waits for (`procura live status`)
 * and the operator's answers (`procura live resolve ...`), never SQL. Status reads the store
 * only (no exchange request, so it works during a ban); an answer is written to the store at
 * once and counted (LiveStore.operatorSeq), so a running service rebuilds its session from the
 * store at its next tick and sees it.
 *
 * What a runner can wait for, and the answers:
 *   - an external trade with procura's client order id prefix, or any external trade under
 *     `foreignTrades: halt`: `resolve trade KEY --book` (a buy of a material: a purchase in the
 *     ledger, received at the desk's next day) or `--set-aside` (not the plant's: only the
 *     balance check counts it);
 *   - an order in doubt (the exchange does not show it and its absence cannot be proven, or it
 *     had acknowledged it): `resolve order CID --cancelled` once the operator has checked on the
 *     exchange's site that it is not there;
 *   - a balance that differs from the book (a deposit, a withdrawal to redeem PAXG for bars):
 *     `resolve difference ASSET` accepts the current difference (recorded with its reason; the
 *     baseline itself is never edited);
 *   - a ban: nothing to answer; runs exit 6 at once until the stored time.
 */
import { Decimal } from '../core/decimal.js';
import { ErrorCode, ExitStatus, InputError, ProcuraError } from '../core/errors.js';
import { formatTime } from '../core/time.js';
import { transition } from '../pipeline/index.js';
import type { LiveConfig } from './config.js';
import { bookExternalTrade, type ReconcileReport } from './reconcile.js';
import type { Adjustment, ExternalTrade, LiveStateStore, LockHolder, SqliteOrderStore } from './store.js';

/** One thing a halted runner waits for, with the command that answers it. */
export interface Awaiting {
  readonly kind: 'trade' | 'order' | 'difference' | 'open-order';
  readonly subject: string;
  readonly detail: string;
  readonly answer: string;
}

export interface LiveStatus {
  readonly name: string;
  readonly store: string;
  readonly state: 'ok' | 'waiting' | 'banned';
  /** The exit status `procura live status` ends with: 0 ok, 5 waiting for the operator, 6 banned. */
  readonly exitStatus: ExitStatus;
  readonly lock: LockHolder | undefined;
  readonly ban: { readonly until: string; readonly reason: string } | undefined;
  readonly lastTick: { readonly tick: string; readonly at: string; readonly summary: unknown } | undefined;
  readonly awaiting: readonly Awaiting[];
  readonly externalTrades: readonly ExternalTrade[];
  readonly adjustments: readonly Adjustment[];
  readonly activeOrders: readonly string[];
}

/** What the store says the runner waits for; see the module comment. Reads the store only. */
export function liveStatus(config: LiveConfig, store: LiveStateStore, orders: SqliteOrderStore): LiveStatus {
  const cli = `procura live resolve --config ${config.file}`;
  const awaiting: Awaiting[] = [];
  for (const trade of store.externalTrades('pending')) {
    awaiting.push({
      kind: 'trade',
      subject: trade.key,
      detail: `${trade.side} ${trade.qty} ${trade.symbol} at ${trade.price} on ${formatTime(trade.at)}, exchange order ${trade.venueOrderId}, client order id ${trade.clientOrderId || '(none)'}${trade.origin === 'procura' ? " (procura's prefix, unknown to this store: another run or store on the same account?)" : ''}`,
      answer: `${cli} trade ${trade.key} --book | --set-aside`,
    });
  }
  const last = lastReport(store);
  if (last !== undefined) {
    for (const order of last.inDoubt) {
      const current = orders.getOrder(order.clientOrderId);
      if (current === undefined || current.status === 'cancelled' || current.status === 'filled' || current.status === 'rejected' || current.status === 'expired') continue;
      awaiting.push({ kind: 'order', subject: order.clientOrderId, detail: `in doubt since ${order.ageSeconds} s after it was recorded: ${order.reason}`, answer: `${cli} order ${order.clientOrderId} --cancelled (after checking the exchange does not have it)` });
    }
    for (const open of last.foreignOpenOrders) {
      awaiting.push({ kind: 'open-order', subject: open.clientOrderId || open.venueOrderId || '?', detail: `an open order on ${open.symbol} that belongs to no local order`, answer: 'cancel it on the exchange (or let it fill: its trade is then an external trade)' });
    }
    for (const position of last.positions) {
      if (position.ok) continue;
      if (store.adjustments(position.asset).some((a) => a.at >= last.at)) continue; // answered since
      awaiting.push({ kind: 'difference', subject: position.asset, detail: `the exchange held ${position.exchange}, the book expected ${position.expected} (difference ${position.difference}, tolerance ${position.tolerance}) at ${formatTime(last.at)}`, answer: `${cli} difference ${position.asset} --note "why the account changed"` });
    }
  }
  const ban = store.ban();
  const state: LiveStatus['state'] = ban !== undefined ? 'banned' : awaiting.length > 0 ? 'waiting' : 'ok';
  const run = store.lastFinishedRun();
  return {
    name: config.runId,
    store: store.path,
    state,
    exitStatus: state === 'banned' ? ExitStatus.banned : state === 'waiting' ? ExitStatus.halted : ExitStatus.ok,
    lock: store.lockHolder(),
    ban: ban === undefined ? undefined : { until: formatTime(ban.until), reason: ban.reason },
    lastTick: run === undefined ? undefined : { tick: run.tick, at: formatTime(run.startedAt), summary: run.summary },
    awaiting,
    externalTrades: store.externalTrades(),
    adjustments: store.adjustments(),
    activeOrders: orders.activeOrders().map((o) => `${o.request.clientOrderId} ${o.status} ${o.request.side} ${o.request.qty.toFixed()} ${o.request.symbol}`),
  };
}

/** The status as text lines. */
export function formatStatus(status: LiveStatus): string {
  const words = { ok: 'OK', waiting: 'WAITING FOR THE OPERATOR (a tick exits 5)', banned: `BANNED until ${status.ban?.until} (runs exit 6 until then)` };
  const lines = [`live desk ${status.name} (store ${status.store}): ${words[status.state]}`];
  const lock = status.lock;
  lines.push(`  lock: ${lock === undefined ? 'free' : `pid ${lock.pid} on ${lock.host}, last heartbeat ${formatTime(lock.heartbeatAt)}`}`);
  if (status.ban !== undefined) lines.push(`  ban: until ${status.ban.until}: ${status.ban.reason}`);
  if (status.lastTick !== undefined) {
    const summary = status.lastTick.summary as { ok?: boolean; steps?: number; orders?: number; fills?: number; reconciliation?: string; tradingHalted?: boolean; error?: string };
    lines.push(`  last tick: ${status.lastTick.at}: ${summary.ok === true ? 'ok' : 'failed'}, ${summary.steps ?? 0} step(s), ${summary.orders ?? 0} order(s), ${summary.fills ?? 0} fill(s), reconciliation ${summary.reconciliation ?? '?'}${summary.tradingHalted === true ? ', trading halted' : ''}${summary.error === undefined ? '' : `: ${summary.error}`}`);
  }
  lines.push(`  active orders: ${status.activeOrders.length === 0 ? 'none' : status.activeOrders.join('; ')}`);
  const counts = (['pending', 'set-aside', 'booked'] as const).map((s) => `${status.externalTrades.filter((t) => t.status === s).length} ${s}`).join(', ');
  lines.push(`  external trades: ${status.externalTrades.length} (${counts})`);
  for (const a of status.adjustments) lines.push(`  accepted difference: ${a.qty} ${a.asset} on ${formatTime(a.at)}: ${a.reason}`);
  if (status.awaiting.length === 0) lines.push('  waiting for: nothing');
  for (const a of status.awaiting) lines.push(`  waiting for: ${a.kind} ${a.subject}: ${a.detail}\n    answer: ${a.answer}`);
  return lines.join('\n');
}

/** `resolve trade KEY --book | --set-aside`: the operator's decision on a pending (or set-aside) external trade. */
export function resolveTrade(config: LiveConfig, store: LiveStateStore, key: string, decision: 'book' | 'set-aside', note: string | undefined): string {
  const trade = store.externalTrade(key);
  if (trade === undefined) {
    const known = store.externalTrades().map((t) => t.key);
    throw new InputError(`no external trade ${JSON.stringify(key)} in ${store.path} (known: ${known.length === 0 ? 'none' : known.join(', ')})`, { field: 'trade' });
  }
  if (trade.status === 'booked') throw new InputError(`external trade ${key} is already booked in the ledger (${trade.resolution ?? ''})`, { field: 'trade' });
  const why = `resolved by the operator${note === undefined ? '' : `: ${note}`}`;
  if (decision === 'set-aside') {
    store.resolveExternalTrade(key, 'set-aside', why);
    store.bumpOperatorSeq();
    return `external trade ${key} set aside: counted in the balance check, kept out of the ledger (${why})`;
  }
  const instrument = Object.entries(config.instruments).find(([id, symbol]) => symbol === trade.symbol && config.materials.some((m) => m.id === id))?.[0];
  if (trade.side !== 'buy' || instrument === undefined) {
    throw new InputError(`external trade ${key} is a ${trade.side} of ${trade.symbol}: only buys of a material's symbol can be booked as purchases; set it aside instead`, { field: 'trade' });
  }
  store.atomically(() => {
    store.resolveExternalTrade(key, 'booked', why);
    bookExternalTrade(store, { ...trade, status: 'booked' }, instrument);
    store.bumpOperatorSeq();
  });
  return `external trade ${key} booked: a purchase of ${trade.moved} ${instrument} at ${trade.price} (fee ${trade.fee}), received at the desk's next day as event external:${key} (${why})`;
}

/** `resolve order CID --cancelled`: an order in doubt that the operator has checked is not at the exchange. */
export function resolveOrder(store: LiveStateStore, orders: SqliteOrderStore, clientOrderId: string, note: string | undefined): string {
  const order = orders.getOrder(clientOrderId);
  if (order === undefined) throw new InputError(`no order with client order id ${JSON.stringify(clientOrderId)} in ${store.path}`, { field: 'order' });
  if (order.status === 'filled' || order.status === 'cancelled' || order.status === 'rejected' || order.status === 'expired') {
    throw new InputError(`order ${clientOrderId} is already ${order.status}; nothing to resolve`, { field: 'order' });
  }
  if (order.filledQty.greaterThan(0)) {
    throw new InputError(`order ${clientOrderId} has fills (${order.filledQty.toFixed()}): it reached the exchange; wait for the exchange to show it`, { field: 'order' });
  }
  const why = `cancelled by the operator: not at the exchange${note === undefined ? '' : ` (${note})`}`;
  store.atomically(() => {
    orders.updateOrderNow(transition(order, 'cancelled', why));
    store.bumpOperatorSeq();
  });
  return `order ${clientOrderId} ${why}`;
}

/** `resolve difference ASSET`: accepts the difference the exchange shows now as a recorded adjustment. */
export function acceptDifference(store: LiveStateStore, report: ReconcileReport, asset: string, note: string | undefined): string {
  const position = report.positions.find((p) => p.asset === asset);
  if (position === undefined) throw new InputError(`no base asset ${JSON.stringify(asset)} on this desk (it has: ${report.positions.map((p) => p.asset).join(', ')})`, { field: 'asset' });
  const difference = new Decimal(position.difference);
  if (difference.isZero()) return `${asset}: the exchange agrees with the book (${position.exchange}); nothing to accept`;
  if (note === undefined || note.trim() === '') throw new ProcuraError(ErrorCode.input, 'say why the account changed: --note "..." (kept with the adjustment)', { field: '--note' });
  store.atomically(() => {
    store.addAdjustment(asset, difference, note);
    store.bumpOperatorSeq();
  });
  return `${asset}: accepted a difference of ${difference.toFixed()} (exchange ${position.exchange}, book ${position.expected}): ${note}`;
}

function lastReport(store: LiveStateStore): ReconcileReport | undefined {
  const text = store.meta('reconcile.last');
  return text === undefined ? undefined : (JSON.parse(text) as ReconcileReport);
}
