/**
 * The PostgreSQL engine of the synchronous store contract (`SyncLedgerStore`), for the callers
 * that need the ledger's synchronous API: the live runner's desk, `procura ledger balances`,
 * `journal`, `head` and as-of queries. Same SQL (ledger-ops.ts), same chain lock and waiting
 * rules as the asynchronous engine (ledger-store.ts), over a blocking connection
 * (sync-client.ts). Like it, a write transaction commits with synchronous_commit off, so the
 * stream's chain lock is not held through the WAL flush, and `commit` then waits for the flush
 * outside the lock: a posting is durable when `commit` returns (docs/scaling.md, "Many writers,
 * one chain").
 */
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import type { BooksSnapshot } from '../../ledger/engine.js';
import type { JournalEntry } from '../../ledger/journal.js';
import type { ChainHead, EntryLookup, PostingBatch, StoreState, StoredEntryRow, StoredEvent, StoredPlantVersion, SyncLedgerStore, SyncStoreWriter } from '../../ledger/store.js';
import { sqlState, type PgAddress } from './connect.js';
import { pgError } from './connect.js';
import { appendOp, booksOp, chainLockKey, DURABLE_WAIT_SQL, rowsPageOp, entriesOfEventsOp, entriesPageOp, eventDigestsOp, eventsPageOp, PAGE, plantsOp, stateOp, writeStateOp } from './ledger-ops.js';
import type { PgStoreOptions } from './ledger-store.js';
import { ensureSchemaOp } from './migrations.js';
import { runSync, type Op } from './ops.js';
import { BlockingPgClient } from './sync-client.js';

export class PgSyncLedgerStore implements SyncLedgerStore, SyncStoreWriter {
  readonly name: string;
  /** The stream this store reads and appends to (the address's `?stream=`). */
  readonly stream: string;
  readonly client: BlockingPgClient;
  private readonly options: PgStoreOptions;
  private inTransaction = false;
  /** In a write transaction (after the chain lock): `state` also says whether the tail is sealed. */
  private writing = false;
  /** The write transaction appended: its COMMIT did not wait for the disk, `commit` waits after it. */
  private appended = false;

  constructor(address: PgAddress, options: PgStoreOptions = {}) {
    this.name = address.display;
    this.stream = address.stream;
    this.options = options;
    this.client = BlockingPgClient.connect(address, options.applicationName ?? 'procura');
    try {
      this.run(ensureSchemaOp(address.display, { create: options.create !== false }));
    } catch (error) {
      this.client.end();
      throw pgError(error, address, 'cannot open the ledger store');
    }
  }

  /** Runs an operation on this connection. */
  run<T>(op: Op<T>): T {
    try {
      return runSync(op, (q) => this.client.query(q));
    } catch (error) {
      throw pgError(error, this.client.address, 'query failed');
    }
  }

  beginRead(): this {
    this.client.query({ text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' });
    this.inTransaction = true;
    this.writing = false;
    return this;
  }

  /** BEGIN, then the chain lock: at once if free, else `onWait` once and up to lockTimeoutMs, then E_LOCKED. */
  beginWrite(): this {
    this.client.query({ text: 'BEGIN' });
    this.inTransaction = true;
    this.appended = false;
    try {
      this.client.query({ text: 'SET LOCAL synchronous_commit = off' });
      const got = this.client.query({ text: `SELECT pg_try_advisory_xact_lock(${chainLockKey(this.stream)}) AS got` });
      if (got[0]?.got === true) {
        this.writing = true;
        return this;
      }
      this.options.onWait?.(this.name);
      const timeoutMs = Math.max(1, Math.round(this.options.lockTimeoutMs ?? 30_000));
      this.client.query({ text: `SET LOCAL lock_timeout = ${timeoutMs}` });
      try {
        this.client.query({ text: `SELECT pg_advisory_xact_lock(${chainLockKey(this.stream)})` });
      } catch (error) {
        if (sqlState(error) === '55P03') {
          throw new ProcuraError(ErrorCode.locked, `the store is locked by another writer (waited ${Math.round(timeoutMs / 1000)} s); try again when it has finished`, { file: this.name });
        }
        throw error;
      }
      this.client.query({ text: 'SET LOCAL lock_timeout = 0' });
      this.writing = true;
      return this;
    } catch (error) {
      this.rollback();
      throw error;
    }
  }

  /**
   * COMMIT; after a write that appended, waits until the posting is on disk, outside the chain
   * lock (the COMMIT released it): a transaction that writes one WAL record after the posting's
   * and commits synchronously returns once the WAL up to it, the posting's included, is flushed
   * (WAL is flushed in order). The same wait as the asynchronous engine's `write`.
   */
  commit(): void {
    const appended = this.appended;
    this.inTransaction = false;
    this.writing = false;
    this.appended = false;
    this.client.query({ text: 'COMMIT' });
    if (appended) this.client.query({ text: DURABLE_WAIT_SQL });
  }

  rollback(): void {
    if (!this.inTransaction || !this.client.open) return;
    this.inTransaction = false;
    this.writing = false;
    this.appended = false;
    try {
      this.client.query({ text: 'ROLLBACK' });
    } catch {
      // the connection is gone; the server rolled back
    }
  }

  close(): void {
    this.client.end();
  }

  state(): StoreState {
    return this.writing ? this.run(writeStateOp(this.stream)).state : this.run(stateOp(this.stream));
  }
  books(): BooksSnapshot | undefined {
    return this.run(booksOp(this.stream, this.name));
  }
  eventDigests(ids: readonly string[]): Map<string, string> {
    return this.run(eventDigestsOp(this.stream, ids));
  }
  entriesOfEvents(ids: readonly string[]): Map<string, EntryLookup[]> {
    return this.run(entriesOfEventsOp(this.stream, ids, this.name));
  }
  *scanEntries(from: number, to = Number.MAX_SAFE_INTEGER): Iterable<JournalEntry> {
    let next = Math.max(1, from);
    for (;;) {
      const rows = this.run(entriesPageOp(this.stream, next, to, PAGE, this.name));
      yield* rows;
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]!.seq + 1;
    }
  }
  *scanRows(from: number, to = Number.MAX_SAFE_INTEGER): Iterable<StoredEntryRow> {
    let next = Math.max(1, from);
    for (;;) {
      const rows = this.run(rowsPageOp(this.stream, next, to, PAGE));
      yield* rows;
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]!.seq + 1;
    }
  }
  *scanEvents(from = 1): Iterable<StoredEvent> {
    let next = Math.max(1, from);
    for (;;) {
      const rows = this.run(eventsPageOp(this.stream, next, PAGE));
      yield* rows;
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]!.seq + 1;
    }
  }
  plants(): StoredPlantVersion[] {
    return this.run(plantsOp(this.stream));
  }
  append(batch: PostingBatch): ChainHead {
    this.appended = true;
    return this.run(appendOp(this.stream, batch, this.name)).head;
  }
}
