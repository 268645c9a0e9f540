/**
 * The Ledger: a plant, the running books and a store (store.ts). `post` is atomic (a file posts
 * whole or not at all), idempotent by event id, and refuses backdating; every read it depends
 * on happens inside the store's write transaction, after catching up on what other writers
 * appended. Reads can be filtered by accounting time (`at`) and by when figures became known
 * (`knownAt`), and an AsOfCursor walks knownAt forward incrementally for the cost feed.
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { ConfigError, InputError, ProcuraError, ErrorCode, type Where } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { formatDate, formatTime, type EpochMs } from '../core/time.js';
import { compareAccounts } from './accounts.js';
import { ColumnarJournal, JournalTables } from './columnar-journal.js';
import { Books, Engine, draftOf, type BooksSnapshot, type Draft, type EngineContext, type PostedDraft } from './engine.js';
import { eventDigest, type LedgerEvent } from './events.js';
import { entryHash, eventRecordHash, type EntryDraft, type EventRecord, type JournalEntry } from './journal.js';
import { MemoryStore } from './memory-store.js';
import { parsePlant, type Plant } from './plant.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { verifyStore, verifyStoreAsync, type VerifyOptions, type VerifyResult } from './verify.js';
import {
  readSync,
  type ChainHead,
  type EntryLookup,
  type LedgerStore,
  type PostingBatch,
  type StoreState,
  type StoredEntryRow,
  type StoredEvent,
  type SyncLedgerStore,
  type SyncStoreWriter,
} from './store.js';

export type { VerifyOptions, VerifyResult } from './verify.js';

/** What a posting did. `entries` are the new entries (hashes filled). */
export interface PostResult {
  /** Number of events posted. */
  readonly posted: number;
  /** Ids of events skipped because they were already posted. */
  readonly skipped: readonly string[];
  readonly entries: readonly JournalEntry[];
  /** Entries flagged at posting (negative stock under `negativeStock: allow`). */
  readonly flagged: readonly JournalEntry[];
}

/** Filters for reads: entries with at <= `at` and knownAt <= `knownAt` (both inclusive). */
export interface AsOf {
  readonly at?: EpochMs;
  readonly knownAt?: EpochMs;
}

export interface EntryFilter extends AsOf {
  readonly eventId?: string;
}

export interface Quantities {
  readonly materials: Map<string, Decimal>;
  readonly products: Map<string, Decimal>;
  readonly hedges: Map<string, { qty: Decimal; carryingValue: Decimal }>;
}

/** One purchase as it actually cost (price + fee), for the cost feed. Reversals appear with negative qty and amount. */
export interface PurchaseActual {
  readonly seq: number;
  readonly eventId: string;
  readonly at: EpochMs;
  readonly knownAt: EpochMs;
  readonly material: string;
  readonly qty: Decimal;
  readonly amount: Decimal;
  readonly ref?: string;
  readonly reason?: string;
}

/** Actual conversion cost incurred and units completed in a window, with the cost per unit. */
export interface ConversionActuals {
  readonly amount: Decimal;
  readonly unitsCompleted: Map<string, Decimal>;
  /** amount / total units completed; undefined when nothing was completed. */
  readonly perUnit?: Decimal;
}

/** Window for purchases()/conversionActuals(): from <= at <= to, knownAt <= knownAt. */
export interface Window {
  readonly from?: EpochMs;
  readonly to?: EpochMs;
  readonly knownAt?: EpochMs;
  readonly material?: string;
}

/** Options of Ledger.openSqlite. */
export type OpenOptions = SqliteStoreOptions;

/** Where posted events came from (for messages), and an optional progress callback (every 1,000 events). */
export interface PostSource {
  readonly file: string;
  readonly onProgress?: (done: number, total: number) => void;
}

/** What one posting looked up in the store before computing its entries. */
interface Lookups {
  readonly digests: ReadonlyMap<string, string>;
  readonly originals: ReadonlyMap<string, readonly EntryLookup[]>;
  /** The ids the posting's reversals name (reversalTargets of its events). */
  readonly targets: readonly string[];
}

interface Composed {
  /** The posting; for a memory store, `entries` is the store's journal (see `staged`). */
  readonly batch: PostingBatch;
  readonly books: Books;
  readonly result: PostResult;
  /** Number of entries the posting adds. */
  readonly count: number;
  /**
   * The memory store whose journal the entries were written into, from index `from`, and the
   * events' digests it records when it commits (undefined for other stores). Fields of this
   * object, not one of their own: a backtest composes a posting a day per run.
   */
  readonly staged: MemoryStore | undefined;
  readonly from: number;
  readonly digests: ReadonlyMap<string, string>;
}

export class Ledger {
  readonly plant: Plant;
  private readonly syncStore: SyncLedgerStore | undefined;
  private readonly asyncStoreRef: LedgerStore | undefined;
  private books: Books;
  /** Strings and version objects of this ledger's batches. */
  private readonly tables = new JournalTables();
  /** The head this ledger last read or wrote (seq and events; the hash is not needed to notice a move). */
  private seen: { seq: number; events: number };
  private readonly engine: Engine;
  /** The engine's context for postings without reversals (it is read only by a reversal). */
  private readonly plainContext: EngineContext;
  /** The lookups of the last posting without reversals into a memory store (see memoryLookups). */
  private lastMemoryLookups: Lookups | undefined;

  /** The memory store this ledger posts into, when it is one (undefined for SQLite, PostgreSQL): read-only access for readers of its columnar journal (movement-reader.ts). */
  get memoryStore(): MemoryStore | undefined {
    return this.memory;
  }
  /** syncStore when it is a MemoryStore (tested once: an instanceof per posting is not free). */
  private readonly memory: MemoryStore | undefined;

  /** A ledger over `store` (synchronous engine) or `asyncStore` (asynchronous engine), with `plant`. */
  constructor(plant: Plant, store: SyncLedgerStore | { async: LedgerStore }) {
    this.plant = plant;
    this.engine = new Engine(plant);
    this.plainContext = { plant, entriesOf: () => [], isReversed: () => false };
    this.books = new Books();
    this.seen = { seq: 0, events: 0 };
    if ('async' in store) {
      this.syncStore = undefined;
      this.memory = undefined;
      this.asyncStoreRef = store.async;
    } else {
      this.syncStore = store;
      this.memory = store instanceof MemoryStore ? store : undefined;
      this.asyncStoreRef = undefined;
      readSync(store, (r) => this.adopt(r.state(), () => r.books()));
    }
  }

  /** A fresh, pure in-memory ledger (replay, backtests). */
  static inMemory(plant: Plant): Ledger {
    return new Ledger(plant, new MemoryStore());
  }

  /**
   * Opens (or creates) a SQLite ledger. Without `plant`, the plant stored by the last posting is
   * used (read-only commands need no plant file). A store keeps the trigger variant and currency
   * it was created with; a plant that changes either is refused (exit 2, naming the plant line).
   * Opening reads the books checkpoint, not the journal.
   */
  static openSqlite(path: string, plant?: Plant, options: OpenOptions = {}): Ledger {
    return Ledger.openSync(new SqliteStore(path, options), plant);
  }

  /** `openSqlite` for any synchronous store engine (the store is closed if opening fails). */
  static openSync(store: SyncLedgerStore, plant?: Plant): Ledger {
    try {
      const state = readSync(store, (r) => r.state());
      const used = plant ?? (state.plant ? parsePlant(state.plant.text, `${store.name}#plant`) : undefined);
      if (!used) throw new ProcuraError(ErrorCode.store, 'the store has no plant yet: post events with --plant first', { file: store.name });
      const ledger = new Ledger(used, store);
      ledger.checkState(state);
      return ledger;
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** Opens a ledger over an asynchronous store engine (PostgreSQL); post with `postAsync`. */
  static async openAsync(store: LedgerStore, plant?: Plant): Promise<Ledger> {
    const { state, books } = await store.read(async (r) => ({ state: await r.state(), books: await r.books() }));
    const used = plant ?? (state.plant ? parsePlant(state.plant.text, `${store.name}#plant`) : undefined);
    if (!used) throw new ProcuraError(ErrorCode.store, 'the store has no plant yet: post events with --plant first', { file: store.name });
    const ledger = new Ledger(used, { async: store });
    ledger.checkState(state);
    ledger.adopt(state, () => books);
    return ledger;
  }

  /** Latest `at` posted (-Infinity when empty). */
  get lastAt(): EpochMs {
    return this.books.lastAt;
  }

  /** Number of entries (as of the last read or posting). */
  get size(): number {
    return this.seen.seq;
  }

  /** The store engine's handle (`size`, `close`) kept for callers that knew the old journal port. */
  get journal(): { readonly size: number; close(): void } {
    const ledger = this;
    return {
      get size() {
        return ledger.size;
      },
      close: () => ledger.close(),
    };
  }

  /**
   * Posts events atomically: all of them or, on the first error, none (the store and the books
   * are left exactly as before). An event whose id was already posted with the same content is
   * skipped; the same id with other content is refused. Events must not be earlier than the
   * last event posted. Standard-cost revisions that take effect before an event are posted
   * first (revaluation of materials on hand). Inside the store's write transaction, before
   * anything is computed: the ledger catches up on entries other writers appended, checks that
   * the store's tail verifies (E_VERIFY, exit 3, otherwise) and reads the idempotency keys and
   * reversal targets it needs.
   */
  post(events: readonly LedgerEvent[], source?: PostSource): PostResult {
    const store = this.requireSync();
    // writeSync's discipline written out (begin, commit, rollback on a throw): a closure over
    // this posting's arguments, made once per posting, was a backtest's daily garbage.
    let composed: Composed;
    const writer = store.beginWrite();
    try {
      composed = this.postIn(writer, store.name, events, source);
      store.commit();
    } catch (error) {
      store.rollback();
      // Books changed in place (Books.begin, see postIn) are undone after the store's own
      // rollback, so they are exactly as before.
      this.openBooks?.rollback();
      this.openBooks = undefined;
      throw error;
    }
    this.openBooks = undefined;
    composed.books.commit();
    this.books = composed.books;
    // Counted in place (the object is this ledger's own: no new one per posting).
    this.seen.seq += composed.count;
    this.seen.events += composed.batch.eventCount;
    return composed.result;
  }

  /** The books a posting changes in place while it is open (see postIn), for `post` to undo on a throw. */
  private openBooks: Books | undefined;

  /** `post`'s work inside the write transaction of the store named `name` (`w` its writer). */
  private postIn(w: SyncStoreWriter, name: string, events: readonly LedgerEvent[], source: PostSource | undefined): Composed {
    // A memory store's whole chain counts as checked (nothing outside this process writes it): no tail to read.
    const memory = this.memory;
    const state = memory ? memory.postingState() : w.state();
    this.checkState(state);
    if (this.moved(state)) this.adoptFrom(state, w);
    const fault = memory ? checkTail(state, NO_ROWS, NO_EVENTS) : checkTail(state, [...w.scanRows(state.verified.seq + 1)], [...w.scanEvents(state.verified.events + 1)]);
    if (fault) throw new ProcuraError(ErrorCode.verify, `the store does not verify (${fault}); nothing posted (run procura ledger verify)`, { file: name });
    // A backtest's day posts events without ids or reversals: nothing to look up. A memory
    // store's digests are read where they are kept (its journal's, which a posting only adds
    // to when it commits): no pass over the events to collect their ids first.
    const targets = reversalTargets(events);
    const originals = targets.length > 0 ? w.entriesOfEvents(targets) : NO_ORIGINALS;
    let lookups: Lookups;
    if (memory) lookups = targets.length === 0 ? this.memoryLookups(memory) : { digests: memory.journal.digests, originals, targets };
    else {
      const ids = idsOf(events);
      lookups = ids.length === 0 && targets.length === 0 ? NO_LOOKUPS : { digests: ids.length > 0 ? w.eventDigests(ids) : NO_DIGESTS, originals, targets };
    }
    // A small posting (a backtest's day) changes the books in place; a large one (an import
    // file) works on a clone, whose one-off cost is then less than logging every change.
    let books: Books;
    if (events.length <= IN_PLACE_EVENTS) {
      books = this.openBooks = this.books;
      books.begin();
    } else {
      books = this.books.clone();
    }
    // The memory store's entries are written straight into its journal (no batch to copy).
    const composed = this.compose(state, books, events, source, lookups, undefined, memory);
    if (composed.count > 0) {
      if (composed.staged) composed.staged.appendStaged(composed.batch, composed.from, composed.digests);
      else w.append(composed.batch);
    }
    return composed;
  }

  /** `post` for an asynchronous store engine (same checks, same transaction discipline). */
  async postAsync(events: readonly LedgerEvent[], source?: PostSource): Promise<PostResult> {
    const store = this.asyncStoreRef;
    if (!store) return this.post(events, source);
    // The events' digests depend on nothing stored: computed before the write transaction, so
    // other processes' postings go on meanwhile (with several writers the transaction holds the chain).
    const digests = events.map((e) => (e.id !== undefined ? eventDigest(e) : undefined));
    const composed = await store.write(async (w) => {
      const state = await w.state();
      this.checkState(state);
      if (this.moved(state)) {
        const books = await w.books();
        this.adopt(state, () => books);
      }
      const tail: StoredEntryRow[] = [];
      for await (const e of w.scanRows(state.verified.seq + 1)) tail.push(e);
      const tailEvents: StoredEvent[] = [];
      for await (const e of w.scanEvents(state.verified.events + 1)) tailEvents.push(e);
      const fault = checkTail(state, tail, tailEvents);
      if (fault) throw new ProcuraError(ErrorCode.verify, `the store does not verify (${fault}); nothing posted (run procura ledger verify)`, { file: store.name });
      const targets = reversalTargets(events);
      const lookups: Lookups = { digests: await w.eventDigests(idsOf(events)), originals: await w.entriesOfEvents(targets), targets };
      // A clone: the books stay untouched until the transaction has committed.
      const composed = this.compose(state, this.books.clone(), events, source, lookups, digests);
      if (composed.count > 0) await w.append(composed.batch);
      return composed;
    });
    this.books = composed.books;
    this.seen = { seq: this.seen.seq + composed.count, events: this.seen.events + composed.batch.eventCount };
    return composed.result;
  }

  /**
   * Computes a posting against the books, into a columnar batch (not touching the store);
   * throws on the first bad event.
   */
  private compose(
    state: StoreState,
    books: Books,
    events: readonly LedgerEvent[],
    source: PostSource | undefined,
    lookups: Lookups,
    digests?: readonly (string | undefined)[],
    memory?: MemoryStore,
  ): Composed {
    const engine = this.engine;
    // Into a memory store's journal directly, after its last entry (index `from`); otherwise a new batch.
    const batch = memory ? memory.journal : new ColumnarJournal(state.head.seq + 1, this.tables);
    const from = memory ? batch.size : 0;
    // Made when the posting has an event with an id (a backtest's day has none).
    let pendingIds: Map<string, string> | undefined;
    let postedEvents = 0;
    // Made when an event is skipped (a backtest's day has none).
    let skipped: string[] | undefined;
    let eventCount = state.head.events;
    // Only a posting with reversals needs the context that finds their originals (rare).
    const targets = lookups.targets;
    const reversals = targets.length > 0 ? new Reversals(this.plant, targets, lookups) : undefined;
    const ctx = reversals?.ctx ?? this.plainContext;
    const onProgress = source?.onProgress;
    let done = 0;
    for (let k = 0; k < events.length; k += 1) {
      const event = events[k]!;
      // Each field read once: a day's events have several hidden classes, so every read of
      // one here is a megamorphic lookup.
      const id = event.id;
      const type = event.type;
      const at = event.at;
      if (onProgress !== undefined && (done += 1) % 1000 === 0) onProgress(done, events.length);
      let digest: string | undefined;
      if (id !== undefined) {
        digest = digests?.[k] ?? eventDigest(event);
        const existing = pendingIds?.get(id) ?? lookups.digests.get(id);
        if (existing !== undefined) {
          if (existing !== digest) throw new InputError(`event id ${JSON.stringify(id)} was already posted with different content`, { ...whereOf(event, source), field: 'id' });
          (skipped ??= []).push(id);
          continue;
        }
      }
      if (at < books.lastAt) {
        throw new InputError(
          `event at ${formatTime(at)} is before the last event already posted (${formatTime(books.lastAt)}); the ledger refuses backdating, post a reversal instead`,
          { ...whereOf(event, source), field: 'at' },
        );
      }
      const revisions = this.plant.revisions;
      if (books.revisionsDone < revisions.length && revisions[books.revisionsDone]!.at <= at) this.revalue(books, batch, at, reversals);
      eventCount += 1;
      postedEvents += 1;
      const first = batch.size;
      // An event other than a reversal has one entry: no list made for it. An event without an
      // id is "#" and its number; the direct path takes the number (its journal stores the
      // number, not the text), so the text is made only for a Draft.
      if (type !== 'reverse') {
        // Into a memory store (backtests, replay), a purchase, completion, sale, conversion or
        // hedge mark goes straight into the journal and the books when it can (no Draft: see
        // Engine.writeEntry); durable stores and a posting with reversals (which notes its
        // entries) keep the general route.
        if (memory === undefined || reversals !== undefined || engine.writeEntry(event, id ?? eventCount, books, batch, type) < 0) appendDraft(books, batch, engine.draft(event, id ?? `#${eventCount}`, books), reversals);
      } else for (const draft of engine.drafts(event, id ?? `#${eventCount}`, books, ctx)) appendDraft(books, batch, draft, reversals);
      // A digest is made only for an event with an id.
      if (digest !== undefined) (pendingIds ??= new Map()).set(id!, digest);
      // A memory store records the digests when it commits (they must not outlive a rollback).
      batch.recordEvent(id ?? '', memory ? '' : (digest ?? ''), event.knownAt, first);
    }
    const count = batch.size - from;
    // Entries are flagged on the general route only (see Engine.writeEntry): read back from the journal, no list kept while composing.
    const flaggedAt = batch.flaggedSince(from);
    const newPlant = count > 0 && state.plant?.hash !== this.plant.hash;
    if (newPlant) batch.setPlantHash(from, this.plant.hash);
    // Literals without spreads (a spread of a conditional object is costly, once per posting).
    const plant = this.plant;
    const composedBatch: PostingBatch = newPlant
      ? { entries: batch, eventCount: postedEvents, plant: { hash: plant.hash, file: plant.file, text: plant.text }, trigger: plant.trigger, currency: plant.currency, verified: state.head, books: snapshotOf(books) }
      : { entries: batch, eventCount: postedEvents, trigger: plant.trigger, currency: plant.currency, verified: state.head, books: snapshotOf(books) };
    const result = postResult(memory, batch, from, count, postedEvents, skipped ?? NONE_SKIPPED, flaggedAt);
    return { batch: composedBatch, books, result, count, staged: memory, from, digests: pendingIds ?? NO_DIGESTS };
  }

  /**
   * Posts the revaluations of the standard-cost revisions due at or before `at`. Rare (a
   * revision's first event), so a function of its own: inside compose, this branch was first
   * taken after compose was optimised and threw that code away.
   */
  private revalue(books: Books, batch: ColumnarJournal, at: EpochMs, reversals: Reversals | undefined): void {
    const engine = this.engine;
    for (const revision of engine.dueRevisions(books, at)) {
      const draft = engine.revaluationDraft(books, revision);
      if (draft) appendDraft(books, batch, draft, reversals);
      books.revisionsDone += 1;
    }
  }

  /** Refuses a plant that conflicts with the store (another trigger or currency, a backdated revision): exit 2, naming the plant line. */
  private checkState(state: StoreState): void {
    const plant = this.plant;
    if (state.trigger !== undefined && state.trigger !== plant.trigger) {
      throw new ConfigError(`the store was created with trigger ${state.trigger}; the plant says ${plant.trigger}`, plant.where(['backflush']));
    }
    if (state.currency !== undefined && state.currency !== plant.currency) {
      throw new ConfigError(`the store was created with currency ${state.currency}; the plant says ${plant.currency}`, plant.where(['currency']));
    }
    if (state.plant && state.plant.hash !== plant.hash) refuseBackdatedRevisions(parsePlant(state.plant.text, `${state.plant.file} (stored)`), plant, this.moved(state) ? Infinity : this.books.lastAt);
  }

  /** What a posting without reversals looks up in a memory store: its journal's digests (one object while the journal is the same). */
  private memoryLookups(memory: MemoryStore): Lookups {
    const digests = memory.journal.digests;
    const last = this.lastMemoryLookups;
    if (last !== undefined && last.digests === digests) return last;
    return (this.lastMemoryLookups = { digests, originals: NO_ORIGINALS, targets: NO_TARGETS });
  }

  /** Whether the store's head moved since this ledger last read it. */
  private moved(state: StoreState): boolean {
    return state.head.seq !== this.seen.seq || state.head.events !== this.seen.events;
  }

  /** Catches up on a store whose head moved: the books become the store's checkpoint at its head. */
  private adopt(state: StoreState, books: () => BooksSnapshot | undefined): void {
    if (!this.moved(state)) return;
    const snapshot = books();
    this.books = snapshot ? Books.fromSnapshot(snapshot) : new Books();
    this.books.revisionsDone = this.plant.revisions.filter((r) => r.at <= this.books.lastAt).length;
    this.seen = { seq: state.head.seq, events: state.head.events };
  }

  /** adopt, reading the books from `w` (a closure made here, not in postIn: there its scope was allocated on every posting). */
  private adoptFrom(state: StoreState, w: SyncStoreWriter): void {
    this.adopt(state, () => w.books());
  }

  /** Reads the store's head again (another process may have posted). */
  private refresh(): void {
    const store = this.syncStore;
    if (store && !(store instanceof MemoryStore)) readSync(store, (r) => this.adopt(r.state(), () => r.books()));
  }

  private requireSync(): SyncLedgerStore {
    if (!this.syncStore) throw new ProcuraError(ErrorCode.internal, 'this ledger runs on an asynchronous store: use postAsync/verifyAsync');
    return this.syncStore;
  }

  /** The chain's head: last entry's seq and hash and the number of events (what `procura ledger head` prints). */
  head(): ChainHead {
    const state = readSync(this.requireSync(), (r) => r.state());
    return { seq: state.head.seq, hash: state.head.hash, events: state.head.events };
  }

  /** Entries with seq > `seq`, in order, read in pages (hashes are not computed in memory). */
  *entriesAfter(seq: number): Iterable<JournalEntry> {
    const store = this.requireSync();
    if (store instanceof MemoryStore) {
      for (let next = seq + 1; next <= store.size; next += 1) yield store.entry(next)!;
      return;
    }
    // A small first page: callers such as the cost feed often stop after a few entries.
    let from = seq + 1;
    for (let size = 64; ; size = 1000) {
      const page = readSync(store, (r) => [...r.scanEntries(from, from + size - 1)]);
      yield* page;
      if (page.length < size) return;
      from += size;
    }
  }

  /** One entry by seq (undefined past the end). */
  entry(seq: number): JournalEntry | undefined {
    const store = this.requireSync();
    if (store instanceof MemoryStore) return store.entry(seq);
    return readSync(store, (r) => [...r.scanEntries(seq, seq)][0]);
  }

  /** Balances (debit positive) of every account touched, as of the filter (default: everything). */
  balances(opts: AsOf = {}): Map<string, Decimal> {
    const out = new Map<string, Decimal>();
    if (opts.at === undefined && opts.knownAt === undefined) {
      this.refresh();
      for (const [account, balance] of this.books.balances) out.set(account, balance.value.toDecimal());
    } else {
      for (const entry of this.entriesAfter(0)) {
        if (!visible(entry, opts)) continue;
        for (const l of entry.lines) out.set(l.account, (out.get(l.account) ?? ZERO).plus(l.debit).minus(l.credit));
      }
    }
    return sortAccounts(out);
  }

  /** Book quantities (materials, finished units) and open hedges, as of the filter. */
  quantities(opts: AsOf = {}): Quantities {
    if (opts.at === undefined && opts.knownAt === undefined) {
      this.refresh();
      const books = this.books;
      return {
        materials: new Map([...books.materials].map(([id, q]) => [id, q.toDecimal()])),
        products: new Map([...books.products].map(([id, h]) => [id, h.qty.toDecimal()])),
        hedges: new Map([...books.hedges].map(([id, h]) => [id, { qty: h.qty.toDecimal(), carryingValue: h.value.toDecimal() }])),
      };
    }
    const cursor = new Accumulator();
    for (const entry of this.entriesAfter(0)) if (visible(entry, opts)) cursor.apply(entry);
    return cursor.quantities();
  }

  /** Journal entries in seq order, with their hashes, filtered by time and/or event id. */
  entries(opts: EntryFilter = {}): readonly JournalEntry[] {
    const store = this.requireSync();
    if (opts.eventId !== undefined) {
      const id = opts.eventId;
      return readSync(store, (r) => (r.entriesOfEvents([id]).get(id) ?? []).map((l) => l.entry)).filter((e) => visible(e, opts));
    }
    const all = readSync(store, (r) => [...r.scanEntries(1)]);
    if (opts.at === undefined && opts.knownAt === undefined) return all;
    return all.filter((e) => visible(e, opts));
  }

  /**
   * A cursor over knownAt: `advanceTo(T)` applies every entry with knownAt <= T not yet
   * applied; calls must not go back in time. Cost O(entries) over the whole walk, so a
   * backtest can ask for many increasing T cheaply.
   */
  cursor(): AsOfCursor {
    return new AsOfCursor([...this.entriesAfter(0)]);
  }

  /** Purchases with their actual cost (price + fee), in seq order, within the window. */
  purchases(window: Window = {}): PurchaseActual[] {
    const out: PurchaseActual[] = [];
    for (const e of this.entriesAfter(0)) {
      const a = e.actual;
      if (!a || a.kind !== 'purchase' || !inWindow(e, window) || (window.material !== undefined && a.material !== window.material)) continue;
      out.push({
        seq: e.seq,
        eventId: e.eventId,
        at: e.at,
        knownAt: e.knownAt,
        material: a.material,
        qty: a.qty,
        amount: a.amount,
        ...(e.ref !== undefined ? { ref: e.ref } : {}),
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
      });
    }
    return out;
  }

  /** Actual conversion cost incurred and units completed within the window (reversals net out). */
  conversionActuals(window: Window = {}): ConversionActuals {
    let amount = ZERO;
    let units = ZERO;
    const unitsCompleted = new Map<string, Decimal>();
    for (const e of this.entriesAfter(0)) {
      const a = e.actual;
      if (!a || !inWindow(e, window)) continue;
      if (a.kind === 'conversion') amount = amount.plus(a.amount);
      else if (a.kind === 'completion') {
        unitsCompleted.set(a.product, (unitsCompleted.get(a.product) ?? ZERO).plus(a.qty));
        units = units.plus(a.qty);
      }
    }
    return units.gt(0) ? { amount, unitsCompleted, perUnit: amount.dividedBy(units) } : { amount, unitsCompleted };
  }

  /** The whole store's check (src/ledger/verify.ts: balances, hash chain, event records, plant versions, book quantities, checkpoint, trial balance); returns the first fault. */
  verify(options: VerifyOptions = {}): VerifyResult {
    return verifyStore(this.requireSync(), options);
  }

  /** `verify` for an asynchronous store engine. */
  async verifyAsync(options: VerifyOptions = {}): Promise<VerifyResult> {
    const store = this.asyncStoreRef;
    return store ? verifyStoreAsync(store, options) : this.verify(options);
  }

  /** Releases the store (SQLite); a no-op in memory. */
  close(): void {
    if (this.syncStore) this.syncStore.close();
    else void this.asyncStoreRef?.close();
  }
}

/**
 * The closures a posting leaves behind are made here, outside `compose`, so that they capture
 * only what they need: a closure made inside it would keep its whole scope (the batch, with
 * every entry of the posting) alive for as long as the store keeps the books callback.
 */
function snapshotOf(books: Books): () => BooksSnapshot {
  // One function per books object (it reads the books when called, so one serves every posting).
  return books.snapshotter ?? (books.snapshotter = snapshotterOf(books));
}

/** The books' snapshot function, made where its closure's scope is allocated only when it is (snapshotOf runs once per posting). */
function snapshotterOf(books: Books): () => BooksSnapshot {
  return () => books.toSnapshot();
}

/** A posting's skipped ids when it has none (the usual case: no array made). */
const NONE_SKIPPED: readonly string[] = Object.freeze([]);

/** Applies a draft of the general route to the books and writes it into the batch (noting it for the posting's reversals). */
function appendDraft(books: Books, batch: ColumnarJournal, draft: Draft, reversals: Reversals | undefined): void {
  books.apply(draft);
  const i = batch.push(draft);
  if (reversals) reversals.appended(draft, batch.seqOf(i));
}

/** What `post` returns: entries read back from the memory store's journal, or from the batch a durable store sealed. */
function postResult(memory: MemoryStore | undefined, batch: ColumnarJournal, from: number, size: number, posted: number, skipped: readonly string[], flaggedAt: readonly number[]): PostResult {
  return new LazyPostResult(posted, skipped, memory, batch, from, size, flaggedAt);
}

/**
 * A PostResult whose entries are materialised when read (a backtest never reads them). A class
 * with getters on its prototype: an object literal with getters costs several times as much to
 * make, once per posting.
 */
class LazyPostResult implements PostResult {
  constructor(
    readonly posted: number,
    readonly skipped: readonly string[],
    private readonly memory: MemoryStore | undefined,
    private readonly batch: ColumnarJournal,
    private readonly from: number,
    private readonly size: number,
    private readonly flaggedAt: readonly number[],
  ) {}
  /** The posting's i-th entry: read back from the memory store's journal, or from the batch a durable store sealed. */
  private read(i: number): JournalEntry {
    return this.memory ? this.memory.journal.entry(this.from + i) : this.batch.entry(i);
  }
  get flagged(): readonly JournalEntry[] {
    return this.flaggedAt.map((i) => this.read(i));
  }
  get entries(): readonly JournalEntry[] {
    return Array.from({ length: this.size }, (_, i) => this.read(i));
  }
}

/**
 * A revaluation is posted when posting first passes a revision's date, so a revision dated at
 * or before the last posted event, added or changed after that event was posted, would never be
 * revalued: refused, naming the material, both dates and the plant line.
 */
function refuseBackdatedRevisions(storedPlant: Plant, plant: Plant, lastAt: EpochMs): void {
  if (lastAt === -Infinity) return;
  const key = (r: { material: string; at: EpochMs; next: { cost: Decimal } }): string => `${r.material}@${r.at}=${r.next.cost.toFixed()}`;
  const before = new Set(storedPlant.revisions.filter((r) => r.at <= lastAt).map(key));
  const materialIds = [...plant.materials.keys()];
  for (const revision of plant.revisions) {
    if (revision.at > lastAt || before.has(key(revision))) continue;
    const m = materialIds.indexOf(revision.material);
    const k = plant.materials.get(revision.material)!.standardCost.indexOf(revision.next);
    const lastText = lastAt === Infinity ? 'the store\'s last event' : formatDate(lastAt);
    throw new ConfigError(
      `standard cost of ${revision.material} from ${formatDate(revision.at)} is new or changed, but events up to ${lastText} are already posted: a revision cannot be backdated (date it after ${lastText})`,
      { ...plant.where(['materials', m, 'standardCost', k]), field: 'materials.standardCost' },
    );
  }
}

/**
 * What a posting with reversals needs: the original entries they name (stored ones, and those
 * of this posting, kept as drafts) and which entries are already reversed.
 */
class Reversals {
  private readonly targets: ReadonlySet<string>;
  private readonly kept = new Map<string, PostedDraft[]>();
  private readonly stored = new Map<string, PostedDraft[]>();
  private readonly storedReversed = new Set<number>();
  private readonly pendingReversed = new Set<number>();
  readonly ctx: EngineContext;

  constructor(plant: Plant, targets: readonly string[], lookups: Lookups) {
    this.targets = new Set(targets);
    for (const [id, list] of lookups.originals) {
      this.stored.set(id, list.map((l) => draftOf(l.entry)));
      for (const l of list) if (l.reversed) this.storedReversed.add(l.entry.seq);
    }
    this.ctx = {
      plant,
      entriesOf: (id: string): readonly PostedDraft[] => {
        const found = this.stored.get(id);
        return found && found.length > 0 ? found : (this.kept.get(id) ?? []);
      },
      isReversed: (seq: number): boolean => this.pendingReversed.has(seq) || this.storedReversed.has(seq),
    };
  }

  /** Notes an entry of this posting (a reversal, or an original a reversal in it names). */
  appended(draft: Draft, seq: number): void {
    if (draft.reverses !== undefined) this.pendingReversed.add(draft.reverses);
    if (this.targets.has(draft.eventId)) {
      const list = this.kept.get(draft.eventId) ?? [];
      list.push({ ...draft, seq });
      this.kept.set(draft.eventId, list);
    }
  }
}

/** Postings of up to this many events change the books in place (see `post`). */
const IN_PLACE_EVENTS = 64;

/** Where an event came from, for an error message. */
function whereOf(event: LedgerEvent, source: PostSource | undefined): Where {
  return event.source ?? (source ? { file: source.file } : {});
}

const NO_ROWS: readonly StoredEntryRow[] = Object.freeze([]);
const NO_EVENTS: readonly StoredEvent[] = Object.freeze([]);
const NO_DIGESTS: ReadonlyMap<string, string> = new Map();
const NO_ORIGINALS: ReadonlyMap<string, readonly EntryLookup[]> = new Map();
const NO_TARGETS: readonly string[] = Object.freeze([]);
/** What a posting without ids or reversals looks up: nothing. */
const NO_LOOKUPS: Lookups = { digests: NO_DIGESTS, originals: NO_ORIGINALS, targets: NO_TARGETS };

// Both return a shared empty list when nothing matches (a backtest's day, every day).
function idsOf(events: readonly LedgerEvent[]): readonly string[] {
  let ids: string[] | undefined;
  for (const e of events) if (e.id !== undefined) (ids ??= []).push(e.id);
  return ids ?? NO_TARGETS;
}

function reversalTargets(events: readonly LedgerEvent[]): readonly string[] {
  let ids: string[] | undefined;
  for (const e of events) if (e.type === 'reverse') (ids ??= []).push(e.of);
  return ids ?? NO_TARGETS;
}

/** The last plant text whose hash was checked: every posting re-reads the same version, hashing it once is enough. */
let checkedPlant: { text: string; hash: string } | undefined;

/** True when `text` hashes to `hash` (the result for the last text checked is kept). */
function plantTextMatches(text: string, hash: string): boolean {
  if (checkedPlant !== undefined && checkedPlant.hash === hash && checkedPlant.text === text) return true;
  if (sha256Hex(text) !== hash) return false;
  checkedPlant = { text, hash };
  return true;
}

/**
 * The tail check a posting runs before it appends: the entries after the store's verified mark
 * are contiguous up to the head and nothing lies beyond it, each hashes to its stored hash and
 * chains from the mark, the last one is the head, the event records after the mark hash to
 * what their entries name, and the latest plant text hashes to its stored hash. O(tail): the
 * previous posting's batch, not the journal. Returns the first fault, or undefined.
 */
function checkTail(state: StoreState, tail: readonly StoredEntryRow[], events: readonly StoredEvent[]): string | undefined {
  const { head, verified } = state;
  if (state.plant && !plantTextMatches(state.plant.text, state.plant.hash)) return `the stored plant text (version from entry ${state.plant.firstEntry}) does not match its hash`;
  // Nothing after the mark (the memory store, or a store checked up to its head): no hash to read.
  if (tail.length === 0 && events.length === 0 && verified.seq === head.seq && verified.events === head.events) return undefined;
  let prevHash = verified.hash;
  let expected = verified.seq + 1;
  let event = 0;
  let eventId: string | undefined;
  for (const e of tail) {
    if (e.seq !== expected) return `entry ${expected} is missing`;
    if (e.seq > head.seq) return `entry ${e.seq} lies beyond the head (${head.seq}) the last posting recorded`;
    if (e.prevHash !== prevHash) return `entry ${e.seq}: hash chain broken (previous hash does not match)`;
    // The stored text is what the hash covers: no need to decode it to check it.
    if (entryHash(e.body, prevHash) !== e.hash) return `entry ${e.seq}: hash does not match the entry's content`;
    if (!e.body.includes(`"seq":${e.seq},`) || !e.body.includes(`"eventId":${JSON.stringify(e.eventId)},"eventType":${JSON.stringify(e.eventType)},`)) return `entry ${e.seq}: stored columns disagree with its body`;
    if (e.eventType !== 'revaluation') {
      const named = eventHashInBody(e.body);
      if (e.eventId !== eventId) {
        const record = events[event];
        event += 1;
        eventId = e.eventId;
        if (!record || record.id !== e.eventId) return `entry ${e.seq}: no stored record of event ${e.eventId} in its place`;
        if (eventRecordHash(record) !== record.hash || record.hash !== named) return `event ${e.eventId}: stored record does not match the hash its entries name`;
      } else if (events[event - 1]?.hash !== named) return `entry ${e.seq}: names another record of event ${e.eventId}`;
    }
    prevHash = e.hash;
    expected += 1;
  }
  if (expected - 1 !== head.seq) return `the store ends at entry ${expected - 1} but its head is entry ${head.seq}: entries were removed`;
  if (prevHash !== head.hash) return `the last entry's hash differs from the head's`;
  if (event !== events.length || verified.events + events.length !== head.events) return `event records after entry ${verified.seq} do not match the entries (${events.length} records, ${event} events)`;
  return undefined;
}

/** The `eventHash` a canonical body names (a quote inside a string value is escaped, so the key cannot be faked by text). */
function eventHashInBody(body: string): string | undefined {
  const k = body.indexOf('"eventHash":"');
  return k < 0 ? undefined : body.slice(k + 13, k + 77);
}

function visible(e: JournalEntry, opts: AsOf): boolean {
  return (opts.at === undefined || e.at <= opts.at) && (opts.knownAt === undefined || e.knownAt <= opts.knownAt);
}

function inWindow(e: JournalEntry, w: Window): boolean {
  return (w.from === undefined || e.at >= w.from) && (w.to === undefined || e.at <= w.to) && (w.knownAt === undefined || e.knownAt <= w.knownAt);
}

function sortAccounts(map: Map<string, Decimal>): Map<string, Decimal> {
  return new Map([...map.entries()].sort((a, b) => compareAccounts(a[0], b[0])));
}

/** Quantity and carrying value in decimal.js values (reads filtered by time). */
interface DecimalHolding {
  readonly qty: Decimal;
  readonly value: Decimal;
}

function quantitiesOf(materials: ReadonlyMap<string, Decimal>, products: ReadonlyMap<string, DecimalHolding>, hedges: ReadonlyMap<string, DecimalHolding>): Quantities {
  return {
    materials: new Map(materials),
    products: new Map([...products].map(([id, h]) => [id, h.qty])),
    hedges: new Map([...hedges].map(([id, h]) => [id, { qty: h.qty, carryingValue: h.value }])),
  };
}

/** Running balances and quantities from entry deltas (order-independent, unlike `after`). */
class Accumulator {
  readonly balances = new Map<string, Decimal>();
  readonly materials = new Map<string, Decimal>();
  readonly products = new Map<string, DecimalHolding>();
  readonly hedges = new Map<string, DecimalHolding>();
  apply(e: JournalEntry): void {
    for (const l of e.lines) this.balances.set(l.account, (this.balances.get(l.account) ?? ZERO).plus(l.debit).minus(l.credit));
    for (const m of e.movements) {
      if (m.kind === 'material') this.materials.set(m.id, (this.materials.get(m.id) ?? ZERO).plus(m.qty));
      else {
        const map = m.kind === 'product' ? this.products : this.hedges;
        const h = map.get(m.id) ?? { qty: ZERO, value: ZERO };
        map.set(m.id, { qty: h.qty.plus(m.qty), value: m.value ? h.value.plus(m.value) : h.value });
      }
    }
  }
  quantities(): Quantities {
    return quantitiesOf(this.materials, this.products, this.hedges);
  }
}

/** Incremental as-of-knownAt view over a journal snapshot (see Ledger.cursor). */
export class AsOfCursor {
  private readonly order: readonly JournalEntry[];
  private position = 0;
  private current = -Infinity;
  private readonly acc = new Accumulator();

  constructor(entries: readonly JournalEntry[]) {
    this.order = [...entries].sort((a, b) => a.knownAt - b.knownAt || a.seq - b.seq);
  }
  /** The knownAt the cursor stands at. */
  get knownAt(): EpochMs {
    return this.current;
  }
  /** Applies entries with knownAt <= `knownAt`; returns the entries that became visible. */
  advanceTo(knownAt: EpochMs): JournalEntry[] {
    if (knownAt < this.current) throw new Error(`AsOfCursor cannot go back from ${formatTime(this.current)} to ${formatTime(knownAt)}`);
    this.current = knownAt;
    const start = this.position;
    while (this.position < this.order.length && this.order[this.position]!.knownAt <= knownAt) {
      this.acc.apply(this.order[this.position]!);
      this.position += 1;
    }
    return this.order.slice(start, this.position) as JournalEntry[];
  }
  balances(): Map<string, Decimal> {
    return sortAccounts(new Map(this.acc.balances));
  }
  quantities(): Quantities {
    return this.acc.quantities();
  }
}
