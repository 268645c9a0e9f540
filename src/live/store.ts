/**
 * The live runner's persistent state, in the SAME SQLite file as the ledger (the ledger keeps
 * its own tables and connection; this module adds `live_*` tables through a second
 * connection, WAL mode, synchronous=FULL). One file to back up, and `procura ledger verify`
 * works on it as on any ledger store.
 *
 * Crash safety. Two kinds of write:
 *   - immediate: what must be durable before the exchange is called or that is a plain fact
 *     (an order recorded as `new` before it is sent, a kill switch, candles, the lock);
 *   - staged: everything a desk step changes (order updates and their fills, deliveries,
 *     the last day posted, the last candle stepped, the run's summary). Staged writes are held
 *     in memory and committed in ONE transaction when the step has finished (`commit`).
 * A crash (or an error) before the commit leaves the store as it was before the step; the
 * next run re-runs the same candle at the same decision time: orders recorded as `new` are
 * looked up by client order id (never re-sent blindly), their fills are applied again, and the
 * ledger events the step may already have posted carry deterministic ids, so the ledger skips
 * them (see Desk `eventIds`). Deliveries and days already in the ledger are recognised by
 * those ids too (`SqliteDeskState`).
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import type { PgAddress } from '../store/pg/connect.js';
import { liveTables, PgLiveSql, type LiveSql } from './sql.js';
import { Decimal, ZERO } from '../core/decimal.js';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { formatDate, formatTime, parseTime, startOfDay, type Clock, type EpochMs } from '../core/time.js';
import { baseMoved, isTerminal, toPlainJson, type Fill, type Intent, type OrderRecord, type OrderStore, type TradingControl } from '../pipeline/index.js';
import { addReceipt, type Delivery, type DeskState } from '../engine/desk.js';
import type { LeadTimeRecord } from '../costfeed/index.js';

/**
 * A trade on the account that belongs to no local order, recorded once. `origin`: `procura`
 * when its client order id has procura's prefix (another store or run on the same account),
 * `foreign` otherwise (by hand, another bot). `status`: `pending` (trading halts until the
 * operator decides), `set-aside` (not the plant's: the balance check counts it, the ledger
 * does not) or `booked` (delivered to the ledger as a purchase).
 */
export interface ExternalTrade {
  readonly key: string;
  readonly symbol: string;
  readonly tradeId: string;
  readonly venueOrderId: string;
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly qty: string;
  readonly price: string;
  /** Base quantity the account received (buy) or gave up (sell), net of a fee taken in the base asset. */
  readonly moved: string;
  /** The fee valued in the quote currency. */
  readonly fee: string;
  readonly at: EpochMs;
  readonly seenAt: EpochMs;
  readonly origin: 'procura' | 'foreign';
  readonly status: 'pending' | 'set-aside' | 'booked';
  readonly resolvedAt: EpochMs | null;
  readonly resolution: string | null;
}

/** An accepted reconciliation difference (the operator's answer to a balance changed on purpose). */
export interface Adjustment {
  readonly seq: number;
  readonly asset: string;
  readonly qty: string;
  readonly reason: string;
  readonly at: EpochMs;
}

const EXTERNAL_SELECT =
  'SELECT trade_key AS key, symbol, trade_id AS tradeId, venue_order_id AS venueOrderId, client_order_id AS clientOrderId, side, qty, price, moved, fee, at, seen_at AS seenAt, origin, status, resolved_at AS resolvedAt, resolution FROM live_external_trades';

/** A candle as stored (decimal strings kept exactly as the exchange sent them). */
export interface StoredCandle {
  readonly openAt: EpochMs;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
}

/** Who holds the store's lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: EpochMs;
  readonly heartbeatAt: EpochMs;
}

/**
 * What reconciliation, the runner's ban handling and the operator commands need from the live
 * state, apart from orders (SqliteOrderStore) and the desk's deliveries (SqliteDeskState): the
 * contract a second engine (PostgreSQL) implements. Every write here is immediate.
 */
export interface LiveStateStore {
  /** Where the state lives (a file, a database URL), for messages. */
  readonly path: string;
  meta(key: string): string | undefined;
  setMetaNow(key: string, value: string): void;
  /** Runs the writes in one transaction: all or nothing. */
  atomically(write: () => void): void;
  ban(): { until: EpochMs; reason: string; at: EpochMs } | undefined;
  setBan(until: EpochMs, reason: string): void;
  lockHolder(): LockHolder | undefined;
  lastFinishedRun(): { tick: string; startedAt: EpochMs; summary: unknown } | undefined;
  /** A trade of a local order was seen (its fee as charged), by `<symbol>:<trade id>`. */
  saveFee(tradeKey: string, cost: Decimal, currency: string): void;
  hasFee(tradeKey: string): boolean;
  externalTrade(key: string): ExternalTrade | undefined;
  externalTrades(status?: ExternalTrade['status']): ExternalTrade[];
  recordExternalTrade(trade: Omit<ExternalTrade, 'resolvedAt' | 'resolution'>, resolution?: string): void;
  resolveExternalTrade(key: string, status: 'set-aside' | 'booked', resolution: string): void;
  externalNet(asset: string): Decimal;
  addAdjustment(asset: string, qty: Decimal, reason: string): void;
  adjustments(asset?: string): Adjustment[];
  adjustmentTotal(asset: string): Decimal;
  operatorSeq(): number;
  bumpOperatorSeq(): void;
  addDeliveryNow(id: string, body: object): void;
}

/** The connection and the staged-write machinery shared by the order store and the desk state (SQLite). */
export class LiveStore implements LiveStateStore {
  readonly path: string;
  readonly db: LiveSql;
  /** Set on PostgreSQL: the database and the runner whose schema holds this state. */
  readonly pg: { readonly address: PgAddress; readonly runId: string } | undefined;
  readonly #clock: Clock;
  #staged: Array<() => void> = [];
  readonly #onDiscard: Array<() => void> = [];
  /** PostgreSQL: the session holding this runner's advisory lock while it runs. */
  #lockSql: PgLiveSql | undefined;

  /** A SQLite file path, or a PostgreSQL database and the runner id whose schema (`live_<runId>`) holds the state. */
  constructor(target: string | { readonly address: PgAddress; readonly runId: string }, clock: Clock) {
    this.#clock = clock;
    if (typeof target !== 'string') {
      this.path = `${target.address.display} (live_${target.runId})`;
      this.pg = target;
      this.db = new PgLiveSql(target.address, target.runId);
      this.#bindStream(target.address.stream, target.runId);
      return;
    }
    this.path = target;
    this.pg = undefined;
    try {
      const db = new Database(target);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(liveTables('sqlite'));
      this.db = db as unknown as LiveSql;
      this.#migrate();
    } catch (error) {
      throw new ProcuraError(ErrorCode.store, `cannot open the live store: ${(error as Error).message}`, { file: target });
    }
  }

  now(): EpochMs {
    return this.#clock.now();
  }

  /**
   * PostgreSQL: a runner's state (schema `live_<runId>`) goes with the ledger stream it posts
   * into, recorded at its first start; the same runId posting into another stream of the same
   * database would mix its orders and deliveries with that stream's books, so it is refused.
   */
  #bindStream(stream: string, runId: string): void {
    try {
      this.db.prepare('INSERT OR IGNORE INTO live_meta (key, value) VALUES (?, ?)').run('ledger.stream', stream);
      const bound = this.meta('ledger.stream');
      if (bound !== stream) {
        throw new ProcuraError(
          ErrorCode.config,
          `live run ${runId} keeps its state for the ledger stream ${JSON.stringify(bound)}, and this config posts into stream ${JSON.stringify(stream)}: give this runner its own runId (one runner's state per stream)`,
          { file: this.path, field: 'store' },
        );
      }
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /**
   * Stores from before fees were booked as charged: adds `live_orders.moved` (the base quantity
   * each order's fills moved, net of fees taken in the base asset) and fills it from the order
   * bodies and the base-asset fees those stores recorded in `live_fees`.
   */
  #migrate(): void {
    const columns = this.db.prepare('PRAGMA table_info(live_orders)').all() as { name: string }[];
    if (columns.some((c) => c.name === 'moved')) return;
    this.db.transaction(() => {
      this.db.exec('ALTER TABLE live_orders ADD COLUMN moved TEXT');
      const fees = this.db.prepare('SELECT cost, currency FROM live_fees WHERE trade_key = ?');
      const update = this.db.prepare('UPDATE live_orders SET moved = ? WHERE cid = ?');
      for (const row of this.db.prepare('SELECT cid, symbol, body FROM live_orders').all() as { cid: string; symbol: string; body: string }[]) {
        const order = orderFromJson(row.body);
        const base = row.symbol.split('/')[0];
        let moved = ZERO;
        for (const fill of order.fills) {
          const fee = fees.get(`${row.symbol}:${fill.tradeId}`) as { cost: string; currency: string } | undefined;
          const feeBase = fill.feeBase ?? (fee !== undefined && fee.currency === base ? new Decimal(fee.cost) : undefined);
          moved = moved.plus(baseMoved(order.request.side, { qty: fill.qty, feeBase }));
        }
        update.run(moved.toFixed(), row.cid);
      }
    }).immediate();
  }

  /** Queues a write for the next `commit`. */
  stage(write: () => void): void {
    this.#staged.push(write);
  }

  get stagedCount(): number {
    return this.#staged.length;
  }

  /** Runs every staged write (and `extra`) in one transaction. */
  commit(extra?: () => void): void {
    const writes = this.#staged;
    this.#staged = [];
    this.db.transaction(() => {
      for (const write of writes) write();
      extra?.();
    }).immediate();
  }

  /** Drops the staged writes (after a failed step); in-memory caches are told to forget. */
  discard(): void {
    this.#staged = [];
    for (const forget of this.#onDiscard) forget();
  }

  onDiscard(forget: () => void): void {
    this.#onDiscard.push(forget);
  }

  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM live_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMetaNow(key: string, value: string): void {
    this.db.prepare('INSERT INTO live_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  stageMeta(key: string, value: string): void {
    this.stage(() => this.setMetaNow(key, value));
  }

  // ------------------------------------------------------------------ ban

  /** The exchange's ban (a Retry-After longer than the venue waits) while it lasts; undefined once it has passed. */
  ban(): { until: EpochMs; reason: string; at: EpochMs } | undefined {
    const until = this.meta('ban.until');
    if (until === undefined || Number(until) <= this.now()) return undefined;
    return { until: Number(until), reason: this.meta('ban.reason') ?? '', at: Number(this.meta('ban.at') ?? 0) };
  }

  /** Stores a ban's end (written at once: later runs refuse to contact the exchange before it). */
  setBan(until: EpochMs, reason: string): void {
    this.db.transaction(() => {
      this.setMetaNow('ban.until', String(until));
      this.setMetaNow('ban.reason', reason);
      this.setMetaNow('ban.at', String(this.now()));
    }).immediate();
  }

  // ------------------------------------------------------------------ lock

  /**
   * Takes the store's lock for this process. A holder on this host whose pid is alive, or on
   * another host with a heartbeat younger than `staleMs`, keeps it: ProcuraError E_LOCKED
   * naming the holder. A dead holder's lock is taken over; the old holder is returned.
   */
  acquireLock(pid: number, isAlive: (pid: number) => boolean, staleMs = 10 * 60_000): { takenOver: LockHolder | undefined } {
    if (this.pg !== undefined) return this.#acquirePgLock(pid);
    const host = hostname();
    const now = this.now();
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT pid, host, started_at AS startedAt, heartbeat_at AS heartbeatAt FROM live_lock WHERE id = 1').get() as LockHolder | undefined;
      let takenOver: LockHolder | undefined;
      if (row !== undefined && !(row.pid === pid && row.host === host)) {
        const alive = row.host === host ? isAlive(row.pid) : now - row.heartbeatAt < staleMs;
        if (alive) {
          throw new ProcuraError(
            ErrorCode.locked,
            `the store is in use by another procura live run: pid ${row.pid} on ${row.host}, started ${formatTime(row.startedAt)}, last heartbeat ${formatTime(row.heartbeatAt)}; stop it first (one instance per store)`,
            { file: this.path },
          );
        }
        takenOver = row;
      }
      this.db.prepare('INSERT INTO live_lock (id, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at').run(pid, host, now, now);
      return { takenOver };
    }).immediate();
  }

  heartbeat(pid: number): void {
    this.db.prepare('UPDATE live_lock SET heartbeat_at = ? WHERE id = 1 AND pid = ?').run(this.now(), pid);
  }

  /**
   * PostgreSQL: the lock is a session advisory lock on (procura.live, runId), held by a session
   * of its own for as long as the runner runs. The server releases it when that session ends,
   * however the process ended, so a holder is alive exactly when the lock is taken: a refusal
   * names the holder from `live_lock`; a lock free while `live_lock` names another process
   * means that process died, and its lock is taken over.
   */
  #acquirePgLock(pid: number): { takenOver: LockHolder | undefined } {
    const { address, runId } = this.pg!;
    const lockSql = this.#lockSql ?? new PgLiveSql(address, runId);
    const taken = lockSql.client.query({ text: "SELECT pg_try_advisory_lock(hashtext('procura.live'), hashtext($1)) AS ok", values: [runId] })[0]!['ok'] === true;
    const row = this.lockHolder();
    if (!taken) {
      if (this.#lockSql === undefined) lockSql.close();
      const holder = row === undefined ? 'another process (it has not recorded itself yet)' : `pid ${row.pid} on ${row.host}, started ${formatTime(row.startedAt)}, last heartbeat ${formatTime(row.heartbeatAt)}`;
      throw new ProcuraError(ErrorCode.locked, `live run ${runId} is in use by another procura live run: ${holder}; stop it first (one instance per runner)`, { file: this.path });
    }
    this.#lockSql = lockSql;
    const host = hostname();
    const now = this.now();
    const takenOver = row !== undefined && !(row.pid === pid && row.host === host) ? row : undefined;
    this.db.prepare('INSERT INTO live_lock (id, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at').run(pid, host, now, now);
    return { takenOver };
  }

  releaseLock(pid: number): void {
    if (this.db.open) this.db.prepare('DELETE FROM live_lock WHERE id = 1 AND pid = ? AND host = ?').run(pid, hostname());
    this.#lockSql?.close();
    this.#lockSql = undefined;
  }

  lockHolder(): LockHolder | undefined {
    return this.db.prepare('SELECT pid, host, started_at AS startedAt, heartbeat_at AS heartbeatAt FROM live_lock WHERE id = 1').get() as LockHolder | undefined;
  }

  // ------------------------------------------------------------------ candles

  /** Stores closed candles (a candle already stored is kept as it was). */
  saveCandles(symbol: string, candles: readonly StoredCandle[]): void {
    if (candles.length === 0) return;
    const insert = this.db.prepare('INSERT OR IGNORE INTO live_candles (symbol, open_at, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const c of candles) insert.run(symbol, c.openAt, c.open, c.high, c.low, c.close, c.volume);
    })();
  }

  /** The newest `limit` stored candles of `symbol` opened at or before `upTo`, oldest first. */
  candles(symbol: string, limit: number, upTo = Number.MAX_SAFE_INTEGER): StoredCandle[] {
    const rows = this.db
      .prepare('SELECT open_at AS openAt, open, high, low, close, volume FROM live_candles WHERE symbol = ? AND open_at <= ? ORDER BY open_at DESC LIMIT ?')
      .all(symbol, upTo, limit) as StoredCandle[];
    return rows.reverse();
  }

  /** Stored candles of `symbol` opened after `after`, oldest first. */
  candlesAfter(symbol: string, after: EpochMs): StoredCandle[] {
    return this.db.prepare('SELECT open_at AS openAt, open, high, low, close, volume FROM live_candles WHERE symbol = ? AND open_at > ? ORDER BY open_at').all(symbol, after) as StoredCandle[];
  }

  lastCandleAt(symbol: string): EpochMs | undefined {
    const row = this.db.prepare('SELECT MAX(open_at) AS at FROM live_candles WHERE symbol = ?').get(symbol) as { at: number | null };
    return row.at ?? undefined;
  }

  // ------------------------------------------------------------------ runs

  startRun(tick: string, pid: number): number {
    return Number(this.db.prepare('INSERT INTO live_runs (tick, pid, started_at) VALUES (?, ?, ?)').run(tick, pid, this.now()).lastInsertRowid);
  }

  /** Finishes a run record (staged: it commits with the step). */
  stageRunSummary(seq: number, summary: object): void {
    const text = JSON.stringify(summary);
    this.stage(() => this.db.prepare('UPDATE live_runs SET finished_at = ?, summary = ? WHERE seq = ?').run(this.now(), text, seq));
  }

  /** The newest finished run: its tick id, start and summary (as stored). */
  lastFinishedRun(): { tick: string; startedAt: EpochMs; summary: unknown } | undefined {
    const row = this.db.prepare('SELECT tick, started_at AS startedAt, summary FROM live_runs WHERE summary IS NOT NULL ORDER BY seq DESC LIMIT 1').get() as { tick: string; startedAt: EpochMs; summary: string } | undefined;
    return row === undefined ? undefined : { tick: row.tick, startedAt: row.startedAt, summary: JSON.parse(row.summary) as unknown };
  }

  /** Runs `write` in one immediate transaction (the operator's answers: all or nothing). */
  atomically(write: () => void): void {
    this.db.transaction(write).immediate();
  }

  finishRunNow(seq: number, summary: object): void {
    this.db.prepare('UPDATE live_runs SET finished_at = ?, summary = ? WHERE seq = ?').run(this.now(), JSON.stringify(summary), seq);
  }

  // ------------------------------------------------------------------ fees

  /** Records the fee as the exchange charged it (asset and amount) for a trade of a local order, by `<symbol>:<tradeId>`. */
  saveFee(tradeKey: string, cost: Decimal, currency: string): void {
    this.db.prepare('INSERT OR IGNORE INTO live_fees (trade_key, cost, currency) VALUES (?, ?, ?)').run(tradeKey, cost.toFixed(), currency);
  }

  /** Whether the trade was matched to a local order and its fee recorded already. */
  hasFee(tradeKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM live_fees WHERE trade_key = ?').get(tradeKey) !== undefined;
  }

  /** Every recorded fee charged in `currency`, by trade key. */
  feesIn(currency: string): Map<string, Decimal> {
    const rows = this.db.prepare('SELECT trade_key AS key, cost FROM live_fees WHERE currency = ?').all(currency) as { key: string; cost: string }[];
    return new Map(rows.map((r) => [r.key, new Decimal(r.cost)]));
  }

  // ------------------------------------------------------------------ external trades and adjustments

  externalTrade(key: string): ExternalTrade | undefined {
    return this.db.prepare(`${EXTERNAL_SELECT} WHERE trade_key = ?`).get(key) as ExternalTrade | undefined;
  }

  /** External trades, oldest first; only those with `status` when given. */
  externalTrades(status?: ExternalTrade['status']): ExternalTrade[] {
    return (status === undefined ? this.db.prepare(`${EXTERNAL_SELECT} ORDER BY at, trade_key`).all() : this.db.prepare(`${EXTERNAL_SELECT} WHERE status = ? ORDER BY at, trade_key`).all(status)) as ExternalTrade[];
  }

  /** Records an external trade once (a trade already recorded is kept as it was). */
  recordExternalTrade(trade: Omit<ExternalTrade, 'resolvedAt' | 'resolution'>, resolution?: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO live_external_trades (trade_key, symbol, trade_id, venue_order_id, client_order_id, side, qty, price, moved, fee, at, seen_at, origin, status, resolved_at, resolution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(trade.key, trade.symbol, trade.tradeId, trade.venueOrderId, trade.clientOrderId, trade.side, trade.qty, trade.price, trade.moved, trade.fee, trade.at, trade.seenAt, trade.origin, trade.status, resolution === undefined ? null : this.now(), resolution ?? null);
  }

  /** The operator's (or the policy's) decision on a pending external trade. */
  resolveExternalTrade(key: string, status: 'set-aside' | 'booked', resolution: string): void {
    this.db.prepare('UPDATE live_external_trades SET status = ?, resolved_at = ?, resolution = ? WHERE trade_key = ?').run(status, this.now(), resolution, key);
  }

  /** Signed base quantity all recorded external trades moved, per asset (they are on the account either way). */
  externalNet(asset: string): Decimal {
    let net = ZERO;
    for (const row of this.db.prepare('SELECT symbol, side, moved FROM live_external_trades').all() as { symbol: string; side: string; moved: string }[]) {
      if (row.symbol.split('/')[0] !== asset) continue;
      net = row.side === 'buy' ? net.plus(row.moved) : net.minus(row.moved);
    }
    return net;
  }

  addAdjustment(asset: string, qty: Decimal, reason: string): void {
    this.db.prepare('INSERT INTO live_adjustments (asset, qty, reason, at) VALUES (?, ?, ?, ?)').run(asset, qty.toFixed(), reason, this.now());
  }

  adjustments(asset?: string): Adjustment[] {
    const sql = 'SELECT seq, asset, qty, reason, at FROM live_adjustments';
    return (asset === undefined ? this.db.prepare(`${sql} ORDER BY seq`).all() : this.db.prepare(`${sql} WHERE asset = ? ORDER BY seq`).all(asset)) as Adjustment[];
  }

  /** Sum of the accepted differences for an asset. */
  adjustmentTotal(asset: string): Decimal {
    return this.adjustments(asset).reduce((sum, a) => sum.plus(a.qty), ZERO);
  }

  /**
   * Counts operator decisions (`procura live resolve`), so a running service notices a decision
   * taken by another process and rebuilds its session from the store.
   */
  operatorSeq(): number {
    return Number(this.meta('operator.seq') ?? 0);
  }

  bumpOperatorSeq(): void {
    this.setMetaNow('operator.seq', String(this.operatorSeq() + 1));
  }

  /** Puts a delivery in transit at once (an external trade booked by the operator), received at the desk's next day. */
  addDeliveryNow(id: string, body: object): void {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM live_deliveries').get() as { seq: number }).seq;
    this.db.prepare('INSERT OR IGNORE INTO live_deliveries (id, seq, body) VALUES (?, ?, ?)').run(id, seq, JSON.stringify(body));
  }

  // ------------------------------------------------------------------ the ledger's tables (same file)

  /** Number of journal entries committed by the ledger (0 before its first posting). */
  ledgerEntryCount(): number {
    if (!this.#hasTable('entries')) return 0;
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${this.#ledgerTable('entries')}`).get() as { n: number }).n;
  }

  /** True when the ledger already holds an event with this id. */
  ledgerHasEvent(id: string): boolean {
    if (!this.#hasTable('events')) return false;
    return this.db.prepare(`SELECT 1 FROM ${this.#ledgerTable('events')} WHERE id = ?`).get(id) !== undefined;
  }

  /**
   * The latest day after `after` whose production events of `product` (`day:<date>:<type>:<product>`
   * for its completion, sale, conversion and close) the ledger holds. The day's other events (an
   * emergency purchase, which comes with the completion in one posting, and hedge marks, one per
   * instrument and day for every runner) do not say whose day it was: another runner's days in a
   * shared ledger do not count as this desk's.
   */
  lastDayInLedger(product: string, after?: EpochMs): EpochMs | undefined {
    if (!this.#hasTable('events')) return undefined;
    const suffixes = ['conversion', 'close', 'completion', 'sale'].map((type) => `${type}:${product}`);
    // `day:` is 4 characters and the date 10: the type starts at the 16th. Dates compare as text.
    const row = this.db
      .prepare(`SELECT MAX(substr(id, 5, 10)) AS day FROM ${this.#ledgerTable('events')} WHERE id LIKE 'day:%' AND substr(id, 5, 10) > ? AND substr(id, 16) IN (?, ?, ?, ?)${this.pg === undefined ? '' : ' AND stream = ?'}`)
      .get(after === undefined ? '' : formatDate(after), ...suffixes, ...(this.pg === undefined ? [] : [this.pg.address.stream])) as { day: string | null } | undefined;
    if (row?.day === null || row?.day === undefined) return undefined;
    return parseTime(row.day, { field: 'events.id' });
  }

  /** The ledger's tables: in the same SQLite file, or in the database's schema `procura` (the rows of every stream: filter by the address's). */
  #ledgerTable(name: string): string {
    return this.pg === undefined ? name : `procura.${name}`;
  }

  #hasTable(name: string): boolean {
    if (this.pg !== undefined) return (this.db.prepare('SELECT to_regclass(?) IS NOT NULL AS ok').get(`procura.${name}`) as { ok: boolean }).ok;
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  close(): void {
    this.#lockSql?.close();
    this.#lockSql = undefined;
    if (this.db.open) this.db.close();
  }
}

/**
 * The plant a live runner works with, as it recorded it in the store's `live_meta` at start
 * (file and text), or undefined when `path` holds no live state. The ledger commands use it on
 * a live store whose ledger has nothing posted yet (a desk fed by `procura ledger post`, its
 * first delivery in transit), so `ledger balances` and `verify` work from the first tick.
 */
export function storedLivePlant(path: string): { file: string; text: string } | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'live_meta'").get();
    if (table === undefined) return undefined;
    const row = db.prepare("SELECT value FROM live_meta WHERE key = 'plant'").get() as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as { file: string; text: string });
  } finally {
    db.close();
  }
}

// -------------------------------------------------------------------- orders

/** The pipeline's OrderStore on the live store: inserts immediate, updates staged (see the module comment). */
export class SqliteOrderStore implements OrderStore {
  readonly #store: LiveStore;
  /** Orders touched since the last commit or load (reads see staged updates). */
  readonly #cache = new Map<string, OrderRecord>();
  #control: TradingControl | undefined;
  /** A control for this session only (a failed reconciliation halts one tick without storing it). */
  #override: TradingControl | undefined;

  constructor(store: LiveStore) {
    this.#store = store;
    store.onDiscard(() => this.#cache.clear());
    const row = store.db.prepare('SELECT state, reason, at FROM live_control WHERE id = 1').get() as TradingControl | undefined;
    this.#control = row === undefined ? undefined : { state: row.state, reason: row.reason, at: row.at };
  }

  insertOrder(order: OrderRecord): void {
    const id = order.request.clientOrderId;
    const seq = (this.#store.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM live_orders').get() as { seq: number }).seq;
    try {
      this.#store.db
        .prepare('INSERT INTO live_orders (cid, seq, recorded_at, day, notional, status, active, symbol, side, filled, moved, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, seq, this.#store.now(), startOfDay(order.request.at), order.notional.toFixed(), order.status, isTerminal(order.status) ? 0 : 1, order.request.symbol, order.request.side, order.filledQty.toFixed(), movedOf(order), orderToJson(order));
    } catch (error) {
      throw new ProcuraError(ErrorCode.store, `order ${id} is already stored (${(error as Error).message})`);
    }
    this.#cache.set(id, order);
  }

  updateOrder(order: OrderRecord, _newFills: readonly Fill[]): void {
    const id = order.request.clientOrderId;
    if (this.getOrder(id) === undefined) throw new ProcuraError(ErrorCode.store, `order ${id} is not stored`);
    this.#cache.set(id, order);
    const body = orderToJson(order);
    const status = order.status;
    const active = isTerminal(status) ? 0 : 1;
    const venueOrderId = order.venueOrderId ?? null;
    const filled = order.filledQty.toFixed();
    const moved = movedOf(order);
    this.#store.stage(() => this.#store.db.prepare('UPDATE live_orders SET status = ?, active = ?, venue_order_id = ?, filled = ?, moved = ?, body = ? WHERE cid = ?').run(status, active, venueOrderId, filled, moved, body, id));
  }

  /** Writes an order at once (reconciliation marking an order lost). */
  updateOrderNow(order: OrderRecord): void {
    const id = order.request.clientOrderId;
    this.#store.db.prepare('UPDATE live_orders SET status = ?, active = ?, venue_order_id = ?, filled = ?, moved = ?, body = ? WHERE cid = ?').run(order.status, isTerminal(order.status) ? 0 : 1, order.venueOrderId ?? null, order.filledQty.toFixed(), movedOf(order), orderToJson(order), id);
    this.#cache.delete(id);
  }

  getOrder(clientOrderId: string): OrderRecord | undefined {
    const cached = this.#cache.get(clientOrderId);
    if (cached !== undefined) return cached;
    const row = this.#store.db.prepare('SELECT body FROM live_orders WHERE cid = ?').get(clientOrderId) as { body: string } | undefined;
    return row === undefined ? undefined : orderFromJson(row.body);
  }

  activeOrders(): OrderRecord[] {
    const rows = this.#store.db.prepare('SELECT body FROM live_orders WHERE active = 1 ORDER BY seq').all() as { body: string }[];
    return rows.map((r) => this.#cache.get(orderFromJson(r.body).request.clientOrderId) ?? orderFromJson(r.body));
  }

  /** Every committed order, in insertion order (positions are rebuilt from their fills). */
  allOrders(): OrderRecord[] {
    return (this.#store.db.prepare('SELECT body FROM live_orders ORDER BY seq').all() as { body: string }[]).map((r) => orderFromJson(r.body));
  }

  /** The committed order the exchange knows by `venueOrderId` on `symbol`, if any. */
  byVenueOrderId(symbol: string, venueOrderId: string): OrderRecord | undefined {
    const rows = this.#store.db.prepare('SELECT body FROM live_orders WHERE venue_order_id = ?').all(venueOrderId) as { body: string }[];
    return rows.map((r) => orderFromJson(r.body)).find((o) => o.request.symbol === symbol);
  }

  /** Committed base quantity each order moved (its fills net of fees taken in the base asset), without reading the order bodies. */
  movedBySymbol(): Array<{ symbol: string; side: 'buy' | 'sell'; moved: string }> {
    return this.#store.db.prepare("SELECT symbol, side, moved FROM live_orders WHERE filled != '0'").all() as Array<{ symbol: string; side: 'buy' | 'sell'; moved: string }>;
  }

  /** When the order was recorded (before it was first sent). */
  recordedAt(clientOrderId: string): EpochMs | undefined {
    return (this.#store.db.prepare('SELECT recorded_at AS at FROM live_orders WHERE cid = ?').get(clientOrderId) as { at: number } | undefined)?.at;
  }

  notionalOnDay(dayStart: EpochMs): Decimal {
    const rows = this.#store.db.prepare('SELECT notional FROM live_orders WHERE day = ?').all(dayStart) as { notional: string }[];
    return rows.reduce((sum, r) => sum.plus(r.notional), ZERO);
  }

  loadControl(): TradingControl | undefined {
    return this.#override ?? this.#control;
  }

  saveControl(control: TradingControl): void {
    this.#control = control;
    this.#store.db.prepare('INSERT INTO live_control (id, state, reason, at) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, reason = excluded.reason, at = excluded.at').run(control.state, control.reason, control.at);
  }

  /** The stored control (a kill switch survives restarts), ignoring any session override. */
  storedControl(): TradingControl | undefined {
    return this.#control;
  }

  /** Makes the next pipeline built on this store start in `control`'s state, without storing it. */
  overrideControl(control: TradingControl | undefined): void {
    this.#override = control;
  }

  /** Forgets cached orders that are committed and terminal (keeps memory flat over long runs). */
  afterCommit(): void {
    for (const [id, order] of this.#cache) if (isTerminal(order.status)) this.#cache.delete(id);
  }
}

// -------------------------------------------------------------------- desk state

/**
 * The desk's in-transit deliveries and last posted day, in the runner's own state (`live_meta`
 * of its SQLite file, or of its schema `live_<runId>` on PostgreSQL). Deliveries carry the
 * ledger event id their purchase posts with; one the ledger already holds is never added or
 * received again. The last day is the runner's stored one, or later when the ledger holds this
 * desk's product's day events of a later day (a step that posted its day and crashed before the
 * commit is not posted twice); other runners' days in a shared ledger are not taken as its own.
 */
export class SqliteDeskState implements DeskState {
  readonly #store: LiveStore;
  /** The desk's product: its day events are the ones `lastDayInLedger` looks for. */
  readonly #product: string;
  #deliveries: Delivery[] = [];
  #lastDay: EpochMs | undefined;
  #seq = 0;
  /** Order-to-receipt record per material, stored as one JSON meta value (`desk.receipts`). */
  #receipts = new Map<string, LeadTimeRecord>();

  constructor(store: LiveStore, product: string) {
    this.#store = store;
    this.#product = product;
    this.reload();
    store.onDiscard(() => this.reload());
  }

  /** Re-reads the committed state, dropping deliveries the ledger already received. */
  reload(): void {
    const rows = this.#store.db.prepare('SELECT id, seq, body FROM live_deliveries ORDER BY seq').all() as { id: string; seq: number; body: string }[];
    this.#deliveries = [];
    for (const row of rows) {
      this.#seq = Math.max(this.#seq, row.seq);
      if (this.#store.ledgerHasEvent(row.id)) {
        this.#store.stage(() => this.#store.db.prepare('DELETE FROM live_deliveries WHERE id = ?').run(row.id));
        continue;
      }
      this.#deliveries.push(deliveryFromJson(row.body));
    }
    const stored = this.#store.meta('desk.lastDay');
    const storedDay = stored === undefined ? undefined : Number(stored);
    const ledgerDay = this.#store.lastDayInLedger(this.#product, storedDay);
    this.#lastDay = ledgerDay ?? storedDay;
    const receipts = this.#store.meta('desk.receipts');
    this.#receipts = new Map(receipts === undefined ? [] : Object.entries(JSON.parse(receipts) as Record<string, LeadTimeRecord>));
  }

  leadTimes(material: string): LeadTimeRecord | undefined {
    return this.#receipts.get(material);
  }

  recordReceipt(material: string, days: number): void {
    this.#receipts.set(material, addReceipt(this.#receipts.get(material), days));
    this.#store.stageMeta('desk.receipts', JSON.stringify(Object.fromEntries(this.#receipts)));
  }

  deliveries(): Delivery[] {
    return this.#deliveries;
  }

  addDelivery(delivery: Delivery): void {
    const id = delivery.id;
    if (id === undefined) throw new ProcuraError(ErrorCode.internal, 'live deliveries need an event id (run the desk with eventIds)');
    if (this.#deliveries.some((d) => d.id === id) || this.#store.ledgerHasEvent(id)) return; // already booked
    this.#deliveries.push(delivery);
    const seq = (this.#seq += 1);
    const body = JSON.stringify(toPlainJson(delivery));
    this.#store.stage(() => this.#store.db.prepare('INSERT OR IGNORE INTO live_deliveries (id, seq, body) VALUES (?, ?, ?)').run(id, seq, body));
  }

  takeDue(day: EpochMs): Delivery[] {
    const due: Delivery[] = [];
    const kept: Delivery[] = [];
    for (const d of this.#deliveries) (d.due <= day ? due : kept).push(d);
    if (due.length === 0) return [];
    this.#deliveries = kept;
    for (const d of due) this.#store.stage(() => this.#store.db.prepare('DELETE FROM live_deliveries WHERE id = ?').run(d.id));
    // A delivery the ledger already received (a crashed step that posted it) is not received twice.
    return due.filter((d) => d.id === undefined || !this.#store.ledgerHasEvent(d.id));
  }

  lastDay(): EpochMs | undefined {
    return this.#lastDay;
  }

  setLastDay(day: EpochMs): void {
    this.#lastDay = day;
    this.#store.stageMeta('desk.lastDay', String(day));
  }
}

// -------------------------------------------------------------------- serialisation

/** The base quantity an order's fills moved, net of fees taken in the base asset (unsigned). */
function movedOf(order: OrderRecord): string {
  return order.fills.reduce((sum, fill) => sum.plus(baseMoved(order.request.side, fill)), ZERO).toFixed();
}

/** An order as JSON text (decimals as strings). */
export function orderToJson(order: OrderRecord): string {
  return JSON.stringify(toPlainJson(order));
}

const dec = (value: unknown): Decimal => new Decimal(value as string);
const optDec = (value: unknown): Decimal | undefined => (value === undefined || value === null ? undefined : new Decimal(value as string));

/** The inverse of orderToJson. */
export function orderFromJson(text: string): OrderRecord {
  const raw = JSON.parse(text) as Record<string, any>;
  const request = raw['request'];
  const intent = raw['intent'];
  const limitPrice = optDec(request.limitPrice);
  const revivedIntent: Record<string, unknown> = { ...intent };
  for (const key of ['qty', 'targetQty', 'limitPrice']) {
    if (intent[key] !== undefined) revivedIntent[key] = dec(intent[key]);
  }
  return {
    ...raw,
    request: { ...request, qty: dec(request.qty), ...(limitPrice === undefined ? {} : { limitPrice }) },
    intent: revivedIntent as unknown as Intent,
    filledQty: dec(raw['filledQty']),
    notional: dec(raw['notional']),
    fills: (raw['fills'] as Record<string, any>[]).map(
      (f) =>
        ({
          ...f,
          qty: dec(f['qty']),
          price: dec(f['price']),
          fee: dec(f['fee']),
          ...(f['feeBase'] === undefined ? {} : { feeBase: dec(f['feeBase']) }),
          ...(f['feeCharged'] === undefined ? {} : { feeCharged: { amount: dec(f['feeCharged'].amount), asset: String(f['feeCharged'].asset) } }),
        }) as unknown as Fill,
    ),
  } as unknown as OrderRecord;
}

function deliveryFromJson(text: string): Delivery {
  const raw = JSON.parse(text) as Record<string, unknown>;
  return { ...(raw as unknown as Delivery), qty: dec(raw['qty']), price: dec(raw['price']), fee: dec(raw['fee']) };
}
