/**
 * The SQL connection the live state runs on, as the small part of better-sqlite3's API it uses
 * (prepare/run/get/all, transactions that nest). SQLite's `Database` is one; `PgLiveSql` is the
 * other: the same statements on PostgreSQL through the blocking client (the live runner's state
 * is read and written synchronously, between exchange calls), translated on the way:
 * `?` placeholders to `$n`, `INSERT OR IGNORE` to `ON CONFLICT DO NOTHING`, camelCase aliases
 * quoted (PostgreSQL folds unquoted names to lower case), and `lastInsertRowid` from
 * `RETURNING seq`.
 *
 * On PostgreSQL every live runner keeps its tables in its own schema, `live_<runId>` (the
 * connection's search_path), next to the database's one ledger in the schema `procura`; so
 * several runners share a database, each with its own state and lock (store.ts).
 */
import type { PgAddress } from '../store/pg/connect.js';
import { pgError } from '../store/pg/connect.js';
import { BlockingPgClient } from '../store/pg/sync-client.js';

export interface LiveStatement {
  run(...params: unknown[]): { lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface LiveTransaction<T> {
  (): T;
  immediate(): T;
}

export interface LiveSql {
  readonly open: boolean;
  prepare(sql: string): LiveStatement;
  transaction<T>(fn: () => T): LiveTransaction<T>;
  exec(sql: string): void;
  close(): void;
}

/**
 * The live tables, one definition for both engines: times and sequence numbers are INTEGER on
 * SQLite (64-bit there) and BIGINT on PostgreSQL, and a row number the database assigns is
 * SQLite's INTEGER PRIMARY KEY (the rowid) or PostgreSQL's BIGSERIAL.
 */
export function liveTables(engine: 'sqlite' | 'postgres'): string {
  const big = engine === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const rowNumber = engine === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGSERIAL PRIMARY KEY';
  return `
CREATE TABLE IF NOT EXISTS live_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS live_lock (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, started_at ${big} NOT NULL, heartbeat_at ${big} NOT NULL);
CREATE TABLE IF NOT EXISTS live_orders (
  cid TEXT PRIMARY KEY, seq ${big} NOT NULL UNIQUE, recorded_at ${big} NOT NULL, day ${big} NOT NULL,
  notional TEXT NOT NULL, status TEXT NOT NULL, active INTEGER NOT NULL, venue_order_id TEXT,
  symbol TEXT NOT NULL, side TEXT NOT NULL, filled TEXT NOT NULL, body TEXT NOT NULL, moved TEXT);
CREATE INDEX IF NOT EXISTS live_orders_active ON live_orders (active, seq);
CREATE INDEX IF NOT EXISTS live_orders_venue ON live_orders (venue_order_id);
CREATE INDEX IF NOT EXISTS live_orders_day ON live_orders (day);
CREATE TABLE IF NOT EXISTS live_control (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, reason TEXT NOT NULL, at ${big} NOT NULL);
CREATE TABLE IF NOT EXISTS live_deliveries (id TEXT PRIMARY KEY, seq ${big} NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS live_candles (symbol TEXT NOT NULL, open_at ${big} NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL, volume TEXT NOT NULL, PRIMARY KEY (symbol, open_at));
CREATE TABLE IF NOT EXISTS live_runs (seq ${rowNumber}, tick TEXT NOT NULL, pid INTEGER NOT NULL, started_at ${big} NOT NULL, finished_at ${big}, summary TEXT);
CREATE TABLE IF NOT EXISTS live_fees (trade_key TEXT PRIMARY KEY, cost TEXT NOT NULL, currency TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS live_external_trades (
  trade_key TEXT PRIMARY KEY, symbol TEXT NOT NULL, trade_id TEXT NOT NULL, venue_order_id TEXT NOT NULL, client_order_id TEXT NOT NULL,
  side TEXT NOT NULL, qty TEXT NOT NULL, price TEXT NOT NULL, moved TEXT NOT NULL, fee TEXT NOT NULL, at ${big} NOT NULL, seen_at ${big} NOT NULL,
  origin TEXT NOT NULL, status TEXT NOT NULL, resolved_at ${big}, resolution TEXT);
CREATE TABLE IF NOT EXISTS live_adjustments (seq ${rowNumber}, asset TEXT NOT NULL, qty TEXT NOT NULL, reason TEXT NOT NULL, at ${big} NOT NULL);
`;
}

/** The schema a runner's live tables live in on PostgreSQL. */
export function liveSchema(runId: string): string {
  return `live_${runId}`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQLite statement as PostgreSQL runs it (see the module comment). */
export function toPostgres(sql: string): { text: string; returning: boolean } {
  let text = sql;
  let ignore = false;
  if (/^\s*INSERT OR IGNORE INTO/i.test(text)) {
    text = text.replace(/INSERT OR IGNORE INTO/i, 'INSERT INTO');
    ignore = true;
  }
  let n = 0;
  text = text.replace(/\?/g, () => `$${(n += 1)}`);
  text = text.replace(/\bAS ([a-z]+[A-Z][A-Za-z]*)\b/g, 'AS "$1"');
  if (ignore) text += ' ON CONFLICT DO NOTHING';
  const returning = /^\s*INSERT INTO live_(runs|adjustments)\b/i.test(text);
  if (returning) text += ' RETURNING seq';
  return { text, returning };
}

/** The live state's connection on PostgreSQL (one session; its own schema first on the search_path). */
export class PgLiveSql implements LiveSql {
  readonly client: BlockingPgClient;
  readonly schema: string;
  #depth = 0;

  constructor(address: PgAddress, runId: string) {
    this.schema = liveSchema(runId);
    this.client = BlockingPgClient.connect(address, `procura live ${runId}`);
    try {
      const schema = quoteIdent(this.schema);
      // Two runners creating their schemas at once must not race on the catalog.
      this.client.query({ text: 'BEGIN' });
      this.client.query({ text: "SELECT pg_advisory_xact_lock(hashtext('procura.live.schema'))" });
      this.client.query({ text: `CREATE SCHEMA IF NOT EXISTS ${schema}` });
      this.client.query({ text: `SET search_path TO ${schema}` });
      for (const statement of liveTables('postgres').split(';')) if (statement.trim() !== '') this.client.query({ text: statement });
      this.client.query({ text: 'COMMIT' });
    } catch (error) {
      this.client.end();
      throw pgError(error, address, 'cannot open the live store');
    }
  }

  get open(): boolean {
    return this.client.open;
  }

  prepare(sql: string): LiveStatement {
    const { text, returning } = toPostgres(sql);
    const query = (params: unknown[]) => this.client.query({ text, values: params });
    return {
      run: (...params) => {
        const rows = query(params);
        return { lastInsertRowid: returning ? Number(rows[0]!['seq']) : 0 };
      },
      get: (...params) => query(params)[0],
      all: (...params) => query(params),
    };
  }

  exec(sql: string): void {
    this.client.query({ text: sql });
  }

  transaction<T>(fn: () => T): LiveTransaction<T> {
    const run = (): T => {
      const nested = this.#depth > 0;
      const savepoint = `live_sp_${this.#depth}`;
      this.client.query({ text: nested ? `SAVEPOINT ${savepoint}` : 'BEGIN' });
      this.#depth += 1;
      try {
        const result = fn();
        this.#depth -= 1;
        this.client.query({ text: nested ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT' });
        return result;
      } catch (error) {
        this.#depth -= 1;
        try {
          this.client.query({ text: nested ? `ROLLBACK TO SAVEPOINT ${savepoint}` : 'ROLLBACK' });
        } catch {
          // the connection is gone: the server rolled back
        }
        throw error;
      }
    };
    return Object.assign(run, { immediate: run });
  }

  close(): void {
    this.client.end();
  }
}
