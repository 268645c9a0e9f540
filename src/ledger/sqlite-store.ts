/**
 * The SQLite engine of the store contract (store.ts): better-sqlite3, WAL, synchronous=FULL.
 * Append-only: the code only INSERTs, and triggers RAISE on any UPDATE or DELETE of stored
 * rows. A posting is one transaction (BEGIN IMMEDIATE ... COMMIT), so an event file posts whole
 * or not at all, even if the process is killed halfway, and a second writer waits for the first
 * (then fails with E_LOCKED, exit 4, after `lockTimeoutMs`).
 *
 * Opening reads no entries: the books at the head are kept as a checkpoint row written with
 * every posting. Entries are read in pages when asked for.
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { ProcuraError, ErrorCode } from '../core/errors.js';
import type { BooksSnapshot } from './engine.js';
import { entryFromBody, GENESIS_HASH, type JournalEntry } from './journal.js';
import { assertBatchFollows, chainBatch, type ChainHead, type EntryLookup, type PostingBatch, type StoreState, type StoredEntryRow, type StoredEvent, type StoredPlantVersion, type SyncLedgerStore, type SyncStoreWriter } from './store.js';

/**
 * better-sqlite3, loaded when the first store opens: the ledger module imports this one, and a
 * backtest, which never opens a store, would otherwise load the native addon (about 10 ms).
 */
let openDatabase: typeof Database | undefined;
function sqlite(): typeof Database {
  return openDatabase ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
}

/** The store layout this code writes; a store without it was written by an earlier procura. */
export const STORE_FORMAT = '2';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plants (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, file TEXT NOT NULL, text TEXT NOT NULL, first_entry INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, at INTEGER NOT NULL,
  known_at INTEGER NOT NULL, digest TEXT NOT NULL, file TEXT, line INTEGER, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, event_type TEXT NOT NULL, at INTEGER NOT NULL,
  known_at INTEGER NOT NULL, reverses INTEGER, body TEXT NOT NULL, hash TEXT NOT NULL, prev_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_event ON entries (event_id);
CREATE INDEX IF NOT EXISTS entries_reverses ON entries (reverses) WHERE reverses IS NOT NULL;
CREATE TABLE IF NOT EXISTS checkpoints (
  seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, events INTEGER NOT NULL,
  verified_seq INTEGER NOT NULL, verified_hash TEXT NOT NULL, verified_events INTEGER NOT NULL, books TEXT NOT NULL);
`;

const TABLES = ['meta', 'plants', 'events', 'entries', 'checkpoints'];

function appendOnlyTriggers(table: string): string {
  return `
CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, 'procura ledger is append-only: ${table} rows cannot be updated'); END;
CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, 'procura ledger is append-only: ${table} rows cannot be deleted'); END;`;
}

type EntryRow = [seq: number, eventId: string, eventType: string, at: number, knownAt: number, reverses: number | null, body: string, hash: string, prevHash: string];
type EventRow = [seq: number, id: string, type: string, at: number, knownAt: number, digest: string, file: string | null, line: number | null, hash: string];

/** How long a writer waits for another writer's transaction, and what it says while waiting. */
export interface SqliteStoreOptions {
  /** Milliseconds to wait for the write lock before failing with E_LOCKED (default 30 000). */
  readonly lockTimeoutMs?: number;
  /** Called once when the write lock is held by another writer and this one starts waiting. */
  readonly onWait?: (path: string) => void;
}

const PAGE = 1000;

/** The SQLite engine (see the module comment). */
export class SqliteStore implements SyncLedgerStore, SyncStoreWriter {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly lockTimeoutMs: number;
  private readonly onWait: ((path: string) => void) | undefined;
  private readonly statements: ReturnType<SqliteStore['prepare']>;
  /** data_version right after this connection's last committed append (see state()). */
  private ownWrite: number | undefined;
  private appended = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.name = path;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.onWait = options.onWait;
    try {
      this.db = new (sqlite())(path, { timeout: this.lockTimeoutMs });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
    } catch (error) {
      throw new ProcuraError(ErrorCode.store, `cannot open ledger store: ${(error as Error).message}`, { file: path });
    }
    try {
      this.checkFormat();
      this.db.exec(SCHEMA + TABLES.map(appendOnlyTriggers).join('\n'));
      this.statements = this.prepare();
    } catch (error) {
      this.db.close();
      if (error instanceof ProcuraError) throw error;
      throw new ProcuraError(ErrorCode.store, `cannot open ledger store: ${(error as Error).message}`, { file: path });
    }
  }

  /** A store written by an earlier procura (entries without the format marker) is refused, not silently mixed. */
  private checkFormat(): void {
    const hasTable = (name: string): boolean => this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (!hasTable('entries')) return;
    const format = hasTable('meta') ? (this.db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string } | undefined)?.value : undefined;
    const rows = (this.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
    if (format === undefined && rows === 0) return;
    if (format !== STORE_FORMAT) {
      throw new ProcuraError(
        ErrorCode.store,
        `this store was written by an earlier procura (store format ${format ?? '1'}, this one writes ${STORE_FORMAT}: the hash chain now covers events and plant versions); post its events into a new store`,
        { file: this.name },
      );
    }
  }

  private prepare() {
    const db = this.db;
    return {
      meta: db.prepare('SELECT key, value FROM meta'),
      setMeta: db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'),
      checkpoint: db.prepare('SELECT seq, hash, events, verified_seq, verified_hash, verified_events FROM checkpoints ORDER BY seq DESC LIMIT 1'),
      books: db.prepare('SELECT books FROM checkpoints ORDER BY seq DESC LIMIT 1'),
      insertCheckpoint: db.prepare('INSERT INTO checkpoints (seq, hash, events, verified_seq, verified_hash, verified_events, books) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      latestPlant: db.prepare('SELECT hash, file, text, first_entry FROM plants ORDER BY seq DESC LIMIT 1'),
      plants: db.prepare('SELECT hash, file, text, first_entry FROM plants ORDER BY seq'),
      insertPlant: db.prepare('INSERT INTO plants (hash, file, text, first_entry) VALUES (?, ?, ?, ?)'),
      digests: db.prepare('SELECT id, digest FROM events WHERE id IN (SELECT value FROM json_each(?))'),
      entriesOfEvents: db
        .prepare(
          'SELECT seq, event_id, event_type, at, known_at, reverses, body, hash, prev_hash, EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.seq) FROM entries e WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY seq',
        )
        .raw(),
      entries: db.prepare('SELECT seq, event_id, event_type, at, known_at, reverses, body, hash, prev_hash FROM entries WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?').raw(),
      events: db.prepare('SELECT seq, id, type, at, known_at, digest, file, line, hash FROM events WHERE seq >= ? ORDER BY seq LIMIT ?').raw(),
    };
  }

  beginRead(): this {
    this.db.exec('BEGIN');
    return this;
  }

  /** BEGIN IMMEDIATE: waits for another writer (saying so once through `onWait`), then fails with E_LOCKED. */
  beginWrite(): this {
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.exec('BEGIN IMMEDIATE');
      return this;
    } catch (error) {
      if (!isBusy(error)) throw error;
    } finally {
      this.db.pragma(`busy_timeout = ${this.lockTimeoutMs}`);
    }
    this.onWait?.(this.name);
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (!isBusy(error)) throw error;
      throw new ProcuraError(ErrorCode.locked, `the store is locked by another writer (waited ${Math.round(this.lockTimeoutMs / 1000)} s); try again when it has finished`, { file: this.name });
    }
    return this;
  }
  commit(): void {
    this.db.exec('COMMIT');
    if (this.appended) this.ownWrite = this.dataVersion();
    this.appended = false;
  }

  /** SQLite's data_version: changes when another connection commits a change to the file. */
  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.appended = false;
  }
  close(): void {
    if (this.db.open) this.db.close();
  }

  state(): StoreState {
    const meta = new Map((this.statements.meta.all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const c = this.statements.checkpoint.get() as { seq: number; hash: string; events: number; verified_seq: number; verified_hash: string; verified_events: number } | undefined;
    const p = this.statements.latestPlant.get() as { hash: string; file: string; text: string; first_entry: number } | undefined;
    const trigger = meta.get('trigger');
    const currency = meta.get('currency');
    const head = c ? { seq: c.seq, hash: c.hash, events: c.events } : { seq: 0, hash: GENESIS_HASH, events: 0 };
    // What this connection appended after checking the tail, and nobody has written since
    // (data_version unchanged), needs no second check: the verified mark is the head.
    const untouched = this.ownWrite !== undefined && this.dataVersion() === this.ownWrite;
    return {
      head,
      verified: untouched ? head : c ? { seq: c.verified_seq, hash: c.verified_hash, events: c.verified_events } : { seq: 0, hash: GENESIS_HASH, events: 0 },
      ...(trigger !== undefined ? { trigger } : {}),
      ...(currency !== undefined ? { currency } : {}),
      ...(p ? { plant: { hash: p.hash, file: p.file, text: p.text, firstEntry: p.first_entry } } : {}),
    };
  }
  books(): BooksSnapshot | undefined {
    const row = this.statements.books.get() as { books: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.books) as BooksSnapshot;
    } catch (error) {
      throw new ProcuraError(ErrorCode.verify, `the books checkpoint is not valid JSON: ${(error as Error).message}`, { file: this.name });
    }
  }
  eventDigests(ids: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    for (const r of this.statements.digests.all(JSON.stringify(ids)) as { id: string; digest: string }[]) out.set(r.id, r.digest);
    return out;
  }
  entriesOfEvents(ids: readonly string[]): Map<string, EntryLookup[]> {
    const out = new Map<string, EntryLookup[]>();
    if (ids.length === 0) return out;
    for (const row of this.statements.entriesOfEvents.all(JSON.stringify(ids)) as [...EntryRow, number][]) {
      const entry = this.decode(row as unknown as EntryRow);
      const list = out.get(entry.eventId) ?? [];
      list.push({ entry, reversed: row[9] === 1 });
      out.set(entry.eventId, list);
    }
    return out;
  }
  *scanEntries(from: number, to = Number.MAX_SAFE_INTEGER): Iterable<JournalEntry> {
    let next = Math.max(1, from);
    while (next <= to) {
      const rows = this.statements.entries.all(next, to, PAGE) as EntryRow[];
      for (const row of rows) yield this.decode(row);
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]![0] + 1;
    }
  }
  *scanRows(from: number, to = Number.MAX_SAFE_INTEGER): Iterable<StoredEntryRow> {
    let next = Math.max(1, from);
    while (next <= to) {
      const rows = this.statements.entries.all(next, to, PAGE) as EntryRow[];
      for (const [seq, eventId, eventType, , , , body, hash, prevHash] of rows) yield { seq, eventId, eventType, body, hash, prevHash };
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]![0] + 1;
    }
  }
  *scanEvents(from = 1): Iterable<StoredEvent> {
    let next = Math.max(1, from);
    for (;;) {
      const rows = this.statements.events.all(next, PAGE) as EventRow[];
      for (const [seq, id, type, at, knownAt, digest, file, line, hash] of rows) {
        yield { seq, id, type, at, knownAt, digest, hash, ...(file !== null && line !== null ? { source: { file, line } } : {}) };
      }
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]![0] + 1;
    }
  }
  plants(): StoredPlantVersion[] {
    return (this.statements.plants.all() as { hash: string; file: string; text: string; first_entry: number }[]).map((p) => ({ hash: p.hash, file: p.file, text: p.text, firstEntry: p.first_entry }));
  }

  /**
   * Writes a posting: plant version, event records, entries (hashed here from the batch's
   * columns, chained from the head) and the checkpoint. Rows go in multi-row INSERTs of up to
   * ROWS_PER_INSERT rows, without an object per entry.
   */
  append(batch: PostingBatch): ChainHead {
    const state = this.state();
    const entries = batch.entries;
    const n = entries.size;
    if (n === 0) return state.head;
    assertBatchFollows(batch, state.head, this.name);
    const s = this.statements;
    s.setMeta.run('format', STORE_FORMAT);
    s.setMeta.run('trigger', batch.trigger);
    s.setMeta.run('currency', batch.currency);
    if (batch.plant) s.insertPlant.run(batch.plant.hash, batch.plant.file, batch.plant.text, entries.firstSeq);
    const entryRows = new RowBuffer(this.db, 'entries (seq, event_id, event_type, at, known_at, reverses, body, hash, prev_hash)', 9);
    const eventRows = new RowBuffer(this.db, 'events (seq, id, type, at, known_at, digest, file, line, hash)', 9);
    const head = chainBatch(batch, state.head, this.name, {
      event: (seq, id, type, at, knownAt, digest, file, line, hash) => eventRows.add9(seq, id, type, at, knownAt, digest, file, line, hash),
      entry: (seq, eventId, type, at, knownAt, reverses, body, hash, prevHash) => entryRows.add9(seq, eventId, type, at, knownAt, reverses, body, hash, prevHash),
    });
    eventRows.flush();
    entryRows.flush();
    this.appended = true;
    s.insertCheckpoint.run(head.seq, head.hash, head.events, batch.verified.seq, batch.verified.hash, batch.verified.events, JSON.stringify(batch.books()));
    return head;
  }

  private decode(row: EntryRow): JournalEntry {
    const [seq, eventId, eventType, at, knownAt, reverses, body, hash, prevHash] = row;
    let entry: JournalEntry;
    try {
      entry = entryFromBody(body, hash, prevHash);
    } catch (error) {
      throw new ProcuraError(ErrorCode.verify, `entry ${seq}: stored body is not valid JSON: ${(error as Error).message}`, { file: this.name });
    }
    // Columns duplicated outside the body must agree with it.
    if (entry.seq !== seq || entry.eventId !== eventId || entry.eventType !== eventType || entry.at !== at || entry.knownAt !== knownAt || (entry.reverses ?? null) !== reverses) {
      throw new ProcuraError(ErrorCode.verify, `entry ${seq}: stored columns disagree with its body`, { file: this.name });
    }
    return entry;
  }
}

/** Rows per INSERT statement (9 columns each: well under SQLite's limit of bound parameters). */
const ROWS_PER_INSERT = 128;

/** Buffers rows and inserts them ROWS_PER_INSERT at a time with one prepared multi-row INSERT. */
class RowBuffer {
  private readonly values: unknown[] = [];
  private readonly full: Database.Statement;
  private count = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly target: string,
    private readonly columns: number,
  ) {
    this.full = RowBuffer.statement(db, target, columns, ROWS_PER_INSERT);
  }

  private static readonly cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
  private static statement(db: Database.Database, target: string, columns: number, rows: number): Database.Statement {
    let byKey = RowBuffer.cache.get(db);
    if (!byKey) RowBuffer.cache.set(db, (byKey = new Map()));
    const key = `${target}/${rows}`;
    let statement = byKey.get(key);
    if (!statement) {
      const row = `(${new Array(columns).fill('?').join(', ')})`;
      statement = db.prepare(`INSERT INTO ${target} VALUES ${new Array(rows).fill(row).join(', ')}`);
      byKey.set(key, statement);
    }
    return statement;
  }

  /** Adds one row of `columns` values (pushed by the caller with `values`). */
  add9(a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown, g: unknown, h: unknown, i: unknown): void {
    this.values.push(a, b, c, d, e, f, g, h, i);
    this.count += 1;
    if (this.count === ROWS_PER_INSERT) {
      this.full.run(this.values);
      this.values.length = 0;
      this.count = 0;
    }
  }

  flush(): void {
    if (this.count > 0) RowBuffer.statement(this.db, this.target, this.columns, this.count).run(this.values);
    this.values.length = 0;
    this.count = 0;
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}
