/**
 * The PostgreSQL engine of the ledger's store contract (ledger/store.ts), over one
 * node-postgres connection.
 *
 * One store is one stream of the database's ledger (the address's `?stream=`, `main` by
 * default): its own hash chain, books and chain lock beside the other streams' (ledger-ops.ts).
 *
 * Many writers, one chain. Every posting from every process into a stream extends that stream's
 * hash chain, so appends are serialised by the database: a write transaction (READ COMMITTED)
 * first takes the stream's transaction-scoped advisory lock (`pg_advisory_xact_lock`), then
 * reads the head; each
 * statement after the lock sees every posting committed before it, and the lock is released by
 * COMMIT or ROLLBACK, or by the server when the connection dies (a SIGKILLed poster holds
 * nothing). The lock needs no table privilege, so the writing role keeps only SELECT and INSERT.
 * Waiting follows the SQLite engine: `onWait` once, then E_LOCKED (exit 4) after `lockTimeoutMs`.
 * The posting commits with synchronous_commit off (the lock is not held through the WAL flush)
 * and then waits for the flush outside the lock (`write`), so it is durable when `write` returns.
 *
 * The alternative measured in `npm run bench -- pg` is `serialise: 'serializable'`: no lock,
 * SERIALIZABLE transactions, and a posting that collides with another is rolled back and
 * computed again. Under contention most of that work is wasted, hence the lock by default
 * (docs/scaling.md has the figures).
 *
 * Reads (`read`) run in one REPEATABLE READ READ ONLY transaction: one snapshot.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import type { JournalEntry } from '../../ledger/journal.js';
import type { ChainHead, LedgerStore, StoreReader, StoreState, StoreWriter, StoredEntryRow, StoredEvent } from '../../ledger/store.js';
import { connectPg, pgError, sqlState, type PgAddress } from './connect.js';
import { appendOp, booksOf, booksOp, chainLockKey, DURABLE_WAIT_SQL, rowsPageOp, entriesOfEventsOp, entriesPageOp, eventDigestsOp, eventsPageOp, PAGE, plantsOp, stateOp, writeStateOp } from './ledger-ops.js';
import { ensureSchemaOp } from './migrations.js';
import { runAsync, type Op, type Query, type Row } from './ops.js';

export interface PgStoreOptions {
  /** Milliseconds to wait for another writer before failing with E_LOCKED (default 30 000). */
  readonly lockTimeoutMs?: number;
  /** Called once when another writer holds the chain and this one starts waiting. */
  readonly onWait?: (name: string) => void;
  /** How concurrent appends are serialised (default 'lock'; see the module comment). */
  readonly serialise?: 'lock' | 'serializable';
  /** Shown in pg_stat_activity (default "procura"). */
  readonly applicationName?: string;
  /** Create the schema in a database that has none (default true; read-only commands say false). */
  readonly create?: boolean;
}

/** Retries of a SERIALIZABLE posting that collided before giving up with E_LOCKED. */
const SERIALIZABLE_ATTEMPTS = 200;

export class PgLedgerStore implements LedgerStore {
  readonly name: string;
  readonly address: PgAddress;
  /** The stream this store reads and appends to. */
  readonly stream: string;
  private readonly client: pg.Client;
  private readonly options: PgStoreOptions;
  /** One transaction at a time on the connection. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Whether the current write transaction appended (its COMMIT then needs the durability wait). */
  private appended = false;
  /** Postings retried after a serialization failure (serializable mode), for the benchmark. */
  retries = 0;
  /** What the current write transaction read or appended (the head cannot move under the chain lock). */
  private txState: StoreState | undefined;
  /** The books checkpoint at txState's head, as read with it (undefined once this transaction appended). */
  private txBooks: string | undefined;

  private constructor(address: PgAddress, client: pg.Client, options: PgStoreOptions) {
    this.name = address.display;
    this.address = address;
    this.stream = address.stream;
    this.client = client;
    this.options = options;
  }

  /** Connects, creating the schema on a database that has none (migrations.ts). */
  static async open(address: PgAddress, options: PgStoreOptions = {}): Promise<PgLedgerStore> {
    const client = await connectPg(address, options.applicationName ?? 'procura');
    try {
      await runAsync(ensureSchemaOp(address.display, { create: options.create !== false }), async (q) => (await client.query({ text: q.text, values: q.values as unknown[] | undefined })).rows);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw pgError(error, address, 'cannot open the ledger store');
    }
    return new PgLedgerStore(address, client, options);
  }

  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      await this.query({ text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' });
      return this.finish(() => fn(this.reader()));
    });
  }

  write<T>(fn: (writer: StoreWriter) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      if (this.options.serialise === 'serializable') return this.writeSerializable(fn);
      this.txState = undefined;
      this.txBooks = undefined;
      this.appended = false;
      try {
        const result = await this.finish(async () => {
          await this.lockChain();
          return fn(this.writer());
        });
        // The COMMIT did not wait for the disk: wait now, outside the chain (DURABLE_WAIT_SQL).
        if (this.appended) await this.simple(DURABLE_WAIT_SQL);
        return result;
      } finally {
        this.txState = undefined;
        this.txBooks = undefined;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }

  /** Runs one query with procura's type parsers; errors name the database. */
  async query(q: Query): Promise<Row[]> {
    try {
      if (q.copy !== undefined) {
        await pipeline(Readable.from(q.copy, { objectMode: false }), this.client.query(copyFrom(q.text)));
        return [];
      }
      const result = await this.client.query<Row>({ text: q.text, values: q.values as unknown[] | undefined });
      return result.rows;
    } catch (error) {
      throw this.translate(error);
    }
  }

  private run<T>(op: Op<T>): Promise<T> {
    return runAsync(op, (q) => this.query(q));
  }

  private translate(error: unknown): unknown {
    if (error instanceof ProcuraError) return error;
    const state = sqlState(error);
    if (state === undefined) return pgError(error, this.address, 'query failed');
    return error; // SQLSTATE errors keep their code for the callers that handle them; reported via pgError at the edge
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ProcuraError(ErrorCode.internal, 'the ledger store is closed', { file: this.name }));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Commits when `fn` resolves, rolls back when it throws. */
  private async finish<T>(fn: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      await this.query({ text: 'ROLLBACK' }).catch(() => undefined);
      throw asStoreError(error, this.address);
    }
    try {
      await this.query({ text: 'COMMIT' });
    } catch (error) {
      throw asStoreError(error, this.address);
    }
    return result;
  }

  /**
   * BEGIN and the stream's chain lock, at once if free (one round trip); else says so and waits
   * up to lockTimeoutMs (one more). The key is a literal, so the statements need no parameters
   * and go as one simple query each.
   */
  private async lockChain(): Promise<void> {
    const key = chainLockKey(this.stream);
    const begun = await this.simple(`BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_try_advisory_xact_lock(${key}) AS got`);
    if (begun[2]?.[0]?.got === true) return;
    this.options.onWait?.(this.name);
    const timeoutMs = Math.max(1, Math.round(this.options.lockTimeoutMs ?? 30_000));
    try {
      await this.simple(`SET LOCAL lock_timeout = ${timeoutMs}; SELECT pg_advisory_xact_lock(${key}); SET LOCAL lock_timeout = 0`);
    } catch (error) {
      if (sqlState(error) === '55P03') {
        throw new ProcuraError(ErrorCode.locked, `the store is locked by another writer (waited ${Math.round(timeoutMs / 1000)} s); try again when it has finished`, { file: this.name });
      }
      throw error;
    }
  }

  /** Several statements without parameters in one round trip; the rows of each. */
  private async simple(text: string): Promise<Row[][]> {
    try {
      const results = (await this.client.query(text)) as unknown as pg.QueryResult<Row>[] | pg.QueryResult<Row>;
      return Array.isArray(results) ? results.map((r) => r.rows) : [results.rows];
    } catch (error) {
      throw this.translate(error);
    }
  }

  private async writeSerializable<T>(fn: (writer: StoreWriter) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      this.txState = undefined;
      this.txBooks = undefined;
      await this.query({ text: 'BEGIN ISOLATION LEVEL SERIALIZABLE' });
      try {
        const result = await fn(this.writer());
        await this.query({ text: 'COMMIT' });
        this.txState = undefined;
        this.txBooks = undefined;
        return result;
      } catch (error) {
        this.txState = undefined;
        this.txBooks = undefined;
        await this.query({ text: 'ROLLBACK' }).catch(() => undefined);
        const state = sqlState(error);
        const collided = state === '40001' || state === '40P01' || state === '23505';
        if (!collided) throw asStoreError(error, this.address);
        if (attempt >= SERIALIZABLE_ATTEMPTS) throw new ProcuraError(ErrorCode.locked, `the posting collided with other writers ${attempt} times; try again`, { file: this.name });
        this.retries += 1;
      }
    }
  }

  private reader(): StoreReader {
    const name = this.name;
    const stream = this.stream;
    const run = <T>(op: Op<T>): Promise<T> => this.run(op);
    return {
      state: () => run(stateOp(stream)),
      books: () => run(booksOp(stream, name)),
      eventDigests: (ids) => run(eventDigestsOp(stream, ids)),
      entriesOfEvents: (ids) => run(entriesOfEventsOp(stream, ids, name)),
      scanEntries: (from, to = Number.MAX_SAFE_INTEGER) => pages<JournalEntry>(from, (next) => run(entriesPageOp(stream, next, to, PAGE, name))),
      scanRows: (from, to = Number.MAX_SAFE_INTEGER) => pages<StoredEntryRow>(from, (next) => run(rowsPageOp(stream, next, to, PAGE))),
      scanEvents: (from = 1) => pages<StoredEvent>(from, (next) => run(eventsPageOp(stream, next, PAGE))),
      plants: () => run(plantsOp(stream)),
    };
  }

  private writer(): StoreWriter {
    const reader = this.reader();
    // After a state whose tail is sealed (verified = head), nothing lies beyond the head (the
    // check counted every row after the mark) and nothing can be added under the lock: the tail
    // scans have nothing to read.
    const sealedAfter = (from: number, last: (head: ChainHead) => number): boolean => {
      const s = this.txState;
      return s !== undefined && s.verified.seq === s.head.seq && s.verified.events === s.head.events && from > last(s.head);
    };
    return {
      ...reader,
      state: async () => {
        const { state, books } = await this.run(writeStateOp(this.stream));
        this.txBooks = books;
        return (this.txState = state);
      },
      books: async () => (this.txBooks !== undefined ? booksOf(this.txBooks, this.name) : reader.books()),
      scanRows: (from, to) => (sealedAfter(from, (h) => h.seq) ? empty() : reader.scanRows(from, to)),
      scanEvents: (from = 1) => (sealedAfter(from, (h) => h.events) ? empty() : reader.scanEvents(from)),
      append: async (batch) => {
        this.appended = true;
        const { head } = await this.run(appendOp(this.stream, batch, this.name, this.txState));
        if (this.txState !== undefined) this.txState = { ...this.txState, head, verified: head, trigger: batch.trigger, currency: batch.currency };
        this.txBooks = undefined;
        return head;
      },
    };
  }
}

async function* empty<T>(): AsyncIterable<T> {}

/** Items with seq >= from, a page at a time. */
async function* pages<T extends { seq: number }>(from: number, page: (next: number) => Promise<T[]>): AsyncIterable<T> {
  let next = Math.max(1, from);
  for (;;) {
    const rows = await page(next);
    yield* rows;
    if (rows.length < PAGE) return;
    next = rows[rows.length - 1]!.seq + 1;
  }
}

/** A PostgreSQL error that escaped a transaction, as a store error (append-only refusals included). */
function asStoreError(error: unknown, address: PgAddress): unknown {
  if (error instanceof ProcuraError || sqlState(error) === undefined) return error;
  const state = sqlState(error);
  if (state === '40001' || state === '40P01') return error;
  return pgError(error, address, 'transaction failed');
}
