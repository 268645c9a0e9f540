/**
 * The ledger's store contract: where journal entries, event records, plant versions and the
 * books checkpoint live. The Ledger computes entries in memory; a store keeps them. One
 * contract, several engines: `MemoryStore` (replay, backtests), `SqliteStore` (the embedded
 * default), and later PostgreSQL through an async client.
 *
 * How a posting uses a store (the reason for this shape):
 *
 * 1. `write(fn)` opens ONE write transaction (a second writer waits for it, or fails with
 *    E_LOCKED);
 * 2. inside it, the ledger reads `state()` and, when the head moved since it last read (another
 *    process appended), catches up from `books()` (the checkpoint at the head) instead of
 *    replaying entries; it checks the tail the store has not verified yet (`scanEntries` from
 *    `state().verified`), the idempotency keys of its events (`eventDigests`) and the entries its
 *    reversals name (`entriesOfEvents`);
 * 3. it computes the new entries in memory and `append`s them in one batch, with the event
 *    records, the plant version when it changed, the new verified mark and the books after the
 *    batch; the store numbers nothing itself and refuses a batch that does not start right after
 *    its head.
 *
 * So every read a posting depends on happens inside the transaction that writes, and two
 * writers each post exactly once. Reads outside a posting go through `read(fn)` (one
 * consistent snapshot).
 *
 * Two flavours of the same contract: `SyncLedgerStore` (better-sqlite3 and memory are
 * synchronous, which keeps `Ledger.post` synchronous for the desk and the live runner) and
 * `LedgerStore` (every call returns a promise; what an engine over a network client such as
 * `pg` implements). `asyncStore()` adapts the first to the second, so one contract test suite
 * (`test/ledger/store-contract.ts`) runs against every engine.
 */
import type { ColumnarJournal } from './columnar-journal.js';
import type { BooksSnapshot } from './engine.js';
import { ProcuraError, ErrorCode } from '../core/errors.js';
import { entryHash, eventRecordHash, type EventRecord, type JournalEntry } from './journal.js';

/** The end of the chain: the last entry's seq and hash, and how many events are recorded. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
  readonly events: number;
}

/** A position in the chain (seq 0 with the genesis hash is "before the first entry"). */
export interface ChainMark {
  readonly seq: number;
  readonly hash: string;
}

/** A plant version as stored: its file name (for messages), text and sha256(text). */
export interface StoredPlant {
  readonly hash: string;
  readonly file: string;
  readonly text: string;
}

/** A stored plant version with the seq of the first entry posted under it. */
export interface StoredPlantVersion extends StoredPlant {
  readonly firstEntry: number;
}

/** What a store says about itself at the start of a transaction. */
export interface StoreState {
  readonly head: ChainHead;
  /**
   * The entry through which the chain was checked by the last posting (or verify): a posting
   * re-hashes only the entries after it (the tail), so posting stays O(batch), not O(journal).
   */
  readonly verified: ChainHead;
  /** Trigger variant and currency the store was created with (absent while empty). */
  readonly trigger?: string;
  readonly currency?: string;
  /** The latest plant version. */
  readonly plant?: StoredPlantVersion;
}

/** An entry as stored: its canonical body (what its hash covers) and the columns kept beside it. */
export interface StoredEntryRow {
  readonly seq: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly body: string;
  readonly hash: string;
  readonly prevHash: string;
}

/** An entry looked up by event id, with whether a later entry reverses it. */
export interface EntryLookup {
  readonly entry: JournalEntry;
  readonly reversed: boolean;
}

/** A stored event record with its hash (what entries name in `eventHash`). */
export interface StoredEvent extends EventRecord {
  readonly seq: number;
  readonly hash: string;
}

/**
 * One posting, ready to append. `entries` is a columnar journal numbered from
 * `entries.firstSeq` (= `state().head.seq + 1`); a store reads it without materialising an
 * object per entry: `eventIdOf(i)`, `atOf(i)`, ..., the canonical `body(i, eventHash)` its hash
 * is computed over, `eventRecordOf(i)` for the first entry of each event (`sameEvent(i)` is
 * false; revaluations have no event). A durable store hashes as it writes, chained from its
 * head, and records each hash with `entries.setSealed(i, eventHash, hash)`; the memory store
 * keeps the columns and hashes later, when asked.
 */
export interface PostingBatch {
  readonly entries: ColumnarJournal;
  /** Number of events posted (each has at least one entry). */
  readonly eventCount: number;
  /** A new plant version, first used by the batch's first entry (which carries its `plantHash`). */
  readonly plant?: StoredPlant;
  readonly trigger: string;
  readonly currency: string;
  /** The verified mark after this posting's tail check. */
  readonly verified: ChainHead;
  /** The books after the batch (a durable store keeps them as its checkpoint). */
  books(): BooksSnapshot;
}

/** Reads, inside `read` or `write` (synchronous engines). */
export interface SyncStoreReader {
  state(): StoreState;
  /** The books at `state().head` (undefined while empty). */
  books(): BooksSnapshot | undefined;
  /** Digests of the events posted under these ids (ids not posted are absent). */
  eventDigests(ids: readonly string[]): Map<string, string>;
  /** Entries of these events, in seq order, each with whether it has been reversed. */
  entriesOfEvents(ids: readonly string[]): Map<string, EntryLookup[]>;
  /** Entries with from <= seq <= to, in seq order, hashes as stored, read in pages. */
  scanEntries(from: number, to?: number): Iterable<JournalEntry>;
  /** The same entries as stored rows (body text, hashes), not decoded: what the tail check re-hashes. */
  scanRows(from: number, to?: number): Iterable<StoredEntryRow>;
  /** Event records with seq >= from, in seq order. */
  scanEvents(from?: number): Iterable<StoredEvent>;
  /** Every plant version, oldest first. */
  plants(): StoredPlantVersion[];
}

/** Writes, inside `write` (synchronous engines). */
export interface SyncStoreWriter extends SyncStoreReader {
  /** Appends a posting; returns the new head. Throws if the batch does not start right after the head. */
  append(batch: PostingBatch): ChainHead;
}

/**
 * A synchronous store engine (memory, better-sqlite3). One transaction at a time per store
 * object: `beginRead` (a consistent snapshot) or `beginWrite` (the write lock: a second writer
 * waits, then fails with E_LOCKED), ended by `commit` or `rollback`. Use `readSync`/`writeSync`.
 */
export interface SyncLedgerStore {
  /** For messages: the file, or "memory". */
  readonly name: string;
  beginRead(): SyncStoreReader;
  beginWrite(): SyncStoreWriter;
  commit(): void;
  rollback(): void;
  close(): void;
}

/** Runs `fn` in a read transaction of `store`. */
export function readSync<T>(store: SyncLedgerStore, fn: (reader: SyncStoreReader) => T): T {
  const reader = store.beginRead();
  try {
    const result = fn(reader);
    store.commit();
    return result;
  } catch (error) {
    store.rollback();
    throw error;
  }
}

/** Runs `fn` in one write transaction of `store`: committed when it returns, rolled back when it throws. */
export function writeSync<T>(store: SyncLedgerStore, fn: (writer: SyncStoreWriter) => T): T {
  const writer = store.beginWrite();
  try {
    const result = fn(writer);
    store.commit();
    return result;
  } catch (error) {
    store.rollback();
    throw error;
  }
}

/** Reads, inside `read` or `write` (asynchronous engines). */
export interface StoreReader {
  state(): Promise<StoreState>;
  books(): Promise<BooksSnapshot | undefined>;
  eventDigests(ids: readonly string[]): Promise<Map<string, string>>;
  entriesOfEvents(ids: readonly string[]): Promise<Map<string, EntryLookup[]>>;
  scanEntries(from: number, to?: number): AsyncIterable<JournalEntry>;
  scanRows(from: number, to?: number): AsyncIterable<StoredEntryRow>;
  scanEvents(from?: number): AsyncIterable<StoredEvent>;
  plants(): Promise<StoredPlantVersion[]>;
}

export interface StoreWriter extends StoreReader {
  append(batch: PostingBatch): Promise<ChainHead>;
}

/** An asynchronous store engine (the contract a PostgreSQL engine implements). */
export interface LedgerStore {
  readonly name: string;
  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T>;
  write<T>(fn: (writer: StoreWriter) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The async face of a synchronous store, so the contract suite and async callers use every
 * engine the same way. The transaction stays open across the callback's awaits; like a single
 * database client, the result serves one caller at a time.
 */
export function asyncStore(store: SyncLedgerStore): LedgerStore {
  const reader = (r: SyncStoreReader): StoreReader => ({
    state: async () => r.state(),
    books: async () => r.books(),
    eventDigests: async (ids) => r.eventDigests(ids),
    entriesOfEvents: async (ids) => r.entriesOfEvents(ids),
    scanEntries: (from, to) => toAsync(r.scanEntries(from, to)),
    scanRows: (from, to) => toAsync(r.scanRows(from, to)),
    scanEvents: (from) => toAsync(r.scanEvents(from)),
    plants: async () => r.plants(),
  });
  const run = async <T>(begin: () => SyncStoreReader, fn: (r: SyncStoreReader) => Promise<T>): Promise<T> => {
    const r = begin();
    try {
      const result = await fn(r);
      store.commit();
      return result;
    } catch (error) {
      store.rollback();
      throw error;
    }
  };
  return {
    name: store.name,
    read: (fn) => run(() => store.beginRead(), (r) => fn(reader(r))),
    write: (fn) => run(() => store.beginWrite(), (w) => fn({ ...reader(w), append: async (batch) => (w as SyncStoreWriter).append(batch) })),
    close: async () => store.close(),
  };
}

async function* toAsync<T>(items: Iterable<T>): AsyncIterable<T> {
  for (const item of items) yield item;
}

/** Where `chainBatch` hands each row it sealed (a durable engine buffers them into its INSERTs). */
export interface ChainRowSink {
  event(seq: number, id: string, type: string, at: number, knownAt: number, digest: string, file: string | null, line: number | null, hash: string): void;
  entry(seq: number, eventId: string, eventType: string, at: number, knownAt: number, reverses: number | null, body: string, hash: string, prevHash: string): void;
}

/** Refuses a batch that does not start right after the store's head (the store numbers nothing). */
export function assertBatchFollows(batch: PostingBatch, head: ChainHead, name: string): void {
  const first = batch.entries.firstSeq;
  if (first !== head.seq + 1) throw new ProcuraError(ErrorCode.store, `batch starts at seq ${first}, the store's head is ${head.seq}`, { file: name });
}

/**
 * Seals a batch onto the chain from `head`, the one way every durable engine does it: each event
 * record is hashed on its first entry (revaluations have none), each entry's canonical body is
 * hashed with the previous hash, recorded in the columns (`setSealed`) and handed to `sink` with
 * its event rows first. Returns the new head; refuses a batch whose entries name another number
 * of events than it declares.
 */
export function chainBatch(batch: PostingBatch, head: ChainHead, name: string, sink: ChainRowSink): ChainHead {
  const sealing = sealBatch(batch, head, name, sink, Number.MAX_SAFE_INTEGER);
  for (;;) {
    const step = sealing.next();
    if (step.done) return step.value;
  }
}

/**
 * `chainBatch` a few rows at a time: yields after every `every` entries handed to `sink`, so an
 * engine can send what is sealed while the rest is hashed (PostgreSQL streams it into COPY), and
 * returns the new head when done.
 */
export function* sealBatch(batch: PostingBatch, head: ChainHead, name: string, sink: ChainRowSink, every: number): Generator<void, ChainHead, void> {
  const entries = batch.entries;
  const n = entries.size;
  let events = head.events;
  let prevHash = head.hash;
  let eventHash: string | undefined;
  for (let i = 0; i < n; i += 1) {
    const type = entries.eventTypeOf(i);
    if (type === 'revaluation') eventHash = undefined;
    else if (!entries.sameEvent(i) || eventHash === undefined) {
      const record = entries.eventRecordOf(i);
      eventHash = eventRecordHash(record);
      events += 1;
      sink.event(events, record.id, record.type, record.at, record.knownAt, record.digest, record.source?.file ?? null, record.source?.line ?? null, eventHash);
    }
    const body = entries.body(i, eventHash);
    const hash = entryHash(body, prevHash);
    entries.setSealed(i, eventHash, hash);
    sink.entry(entries.seqOf(i), entries.eventIdOf(i), type, entries.atOf(i), entries.knownAtOf(i), entries.reversesOf(i) ?? null, body, hash, prevHash);
    prevHash = hash;
    if ((i + 1) % every === 0 && i + 1 < n) yield;
  }
  if (events - head.events !== batch.eventCount) throw new ProcuraError(ErrorCode.internal, `batch has ${batch.eventCount} events, its entries name ${events - head.events}`, { file: name });
  return { seq: n === 0 ? head.seq : entries.seqOf(n - 1), hash: prevHash, events };
}
