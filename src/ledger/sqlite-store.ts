/**
 * The durable journal: SQLite through better-sqlite3, WAL mode, synchronous=FULL. Append-only:
 * the code only INSERTs, and triggers RAISE on any UPDATE or DELETE of stored rows. A posting
 * is one transaction (BEGIN IMMEDIATE ... COMMIT), so an event file posts whole or not at all,
 * even if the process is killed halfway. Each entry row stores its canonical body and the hash
 * chained to the previous row's hash.
 *
 * After open, the committed journal is also held in memory (the read side of the ledger is the
 * MemoryJournal's); `stored()` re-reads the rows for verification.
 */
import Database from 'better-sqlite3';
import { ProcuraError, ErrorCode } from '../core/errors.js';
import { entryBody, entryFromBody, entryHash, GENESIS_HASH, MemoryJournal, type EntryDraft, type EventRecord, type JournalEntry } from './journal.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plants (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, file TEXT NOT NULL, text TEXT NOT NULL, first_entry INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, at INTEGER NOT NULL,
  known_at INTEGER NOT NULL, digest TEXT NOT NULL, file TEXT, line INTEGER);
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, event_type TEXT NOT NULL, at INTEGER NOT NULL,
  known_at INTEGER NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL, prev_hash TEXT NOT NULL);
`;

function appendOnlyTriggers(table: string): string {
  return `
CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, 'procura ledger is append-only: ${table} rows cannot be updated'); END;
CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, 'procura ledger is append-only: ${table} rows cannot be deleted'); END;`;
}

interface EntryRow {
  seq: number;
  event_id: string;
  event_type: string;
  at: number;
  known_at: number;
  body: string;
  hash: string;
  prev_hash: string;
}

/** A stored plant version. */
export interface StoredPlant {
  readonly hash: string;
  readonly file: string;
  readonly text: string;
}

/** SQLite journal (see the module comment). */
export class SqliteJournal extends MemoryJournal {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly insertEntry: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private lastHash: string;
  private pendingLastHash: string;

  constructor(path: string) {
    super();
    this.path = path;
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA + ['meta', 'plants', 'events', 'entries'].map(appendOnlyTriggers).join('\n'));
    } catch (error) {
      throw new ProcuraError(ErrorCode.store, `cannot open ledger store: ${(error as Error).message}`, { file: path });
    }
    this.insertEntry = this.db.prepare('INSERT INTO entries (seq, event_id, event_type, at, known_at, body, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.insertEvent = this.db.prepare('INSERT INTO events (id, type, at, known_at, digest, file, line) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const rows = this.readRows();
    const events = (this.db.prepare('SELECT id, type, at, known_at, digest FROM events ORDER BY seq').all() as { id: string; type: string; at: number; known_at: number; digest: string }[]).map(
      (r): EventRecord => ({ id: r.id, type: r.type, at: r.at, knownAt: r.known_at, digest: r.digest }),
    );
    this.load(rows.map((r) => entryFromBody(r.body, r.hash, r.prev_hash)), events);
    this.lastHash = rows.length > 0 ? rows[rows.length - 1]!.hash : GENESIS_HASH;
    this.pendingLastHash = this.lastHash;
  }

  private readRows(): EntryRow[] {
    return this.db.prepare('SELECT seq, event_id, event_type, at, known_at, body, hash, prev_hash FROM entries ORDER BY seq').all() as EntryRow[];
  }

  /** A meta value (trigger, currency) or undefined. */
  meta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }
  /** Sets a meta value once (append-only: an existing key is left as it is). Call inside a posting. */
  setMetaOnce(key: string, value: string): void {
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }
  /** The latest stored plant (the one the last posting used). */
  latestPlant(): StoredPlant | undefined {
    return this.db.prepare('SELECT hash, file, text FROM plants ORDER BY seq DESC LIMIT 1').get() as StoredPlant | undefined;
  }
  /** Records a plant version if it is new. Call inside a posting. */
  recordPlant(plant: StoredPlant): void {
    this.db.prepare('INSERT OR IGNORE INTO plants (hash, file, text, first_entry) VALUES (?, ?, ?, ?)').run(plant.hash, plant.file, plant.text, this.size + 1);
  }

  override begin(): void {
    super.begin();
    this.db.exec('BEGIN IMMEDIATE');
    this.pendingLastHash = this.lastHash;
  }
  override append(draft: EntryDraft): JournalEntry {
    const entry = super.append(draft) as { -readonly [K in keyof JournalEntry]: JournalEntry[K] };
    const body = entryBody(entry);
    entry.prevHash = this.pendingLastHash;
    entry.hash = entryHash(body, entry.prevHash);
    this.pendingLastHash = entry.hash;
    this.insertEntry.run(entry.seq, entry.eventId, entry.eventType, entry.at, entry.knownAt, body, entry.hash, entry.prevHash);
    return entry;
  }
  override recordEvent(record: EventRecord): void {
    super.recordEvent(record);
    this.insertEvent.run(record.id, record.type, record.at, record.knownAt, record.digest, record.source?.file ?? null, record.source?.line ?? null);
  }
  override commit(): void {
    this.db.exec('COMMIT');
    this.lastHash = this.pendingLastHash;
    super.commit();
  }
  override rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.pendingLastHash = this.lastHash;
    super.rollback();
  }
  override seal(upTo: number): void {
    // Entries are hashed as they are written; committed entries are already sealed.
    this.sealed = Math.max(this.sealed, upTo);
  }
  /** The entries exactly as stored (re-read from the database, hashes as stored). */
  override stored(): readonly JournalEntry[] {
    return this.readRows().map((r) => {
      const entry = entryFromBody(r.body, r.hash, r.prev_hash);
      // Columns duplicated outside the body must agree with it.
      if (entry.seq !== r.seq || entry.eventId !== r.event_id || entry.eventType !== r.event_type || entry.at !== r.at || entry.knownAt !== r.known_at) {
        throw new ProcuraError(ErrorCode.verify, `entry ${r.seq}: stored columns disagree with its body`, { file: this.path });
      }
      return entry;
    });
  }
  /** Raw body of a stored entry (verification compares it with the canonical re-serialisation). */
  storedBodies(): string[] {
    return this.readRows().map((r) => r.body);
  }
  override close(): void {
    if (this.db.open) this.db.close();
  }
}
