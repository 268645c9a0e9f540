/**
 * The in-memory store engine: pure, no I/O, for replay and backtests. Entries live in one
 * columnar journal (columnar-journal.ts). Hashes are computed lazily, the first time an entry
 * is read with its hash or the chain is verified, so a backtest that never asks for them never
 * pays for sealing; the chain is the one a durable store writes for the same entries.
 */
import { ProcuraError, ErrorCode } from '../core/errors.js';
import { ColumnarJournal, JournalTables } from './columnar-journal.js';
import type { BooksSnapshot } from './engine.js';
import { eventRecordHash, GENESIS_HASH, type JournalEntry } from './journal.js';
import type { ChainHead, EntryLookup, PostingBatch, StoreState, StoredEntryRow, StoredEvent, StoredPlantVersion, SyncLedgerStore, SyncStoreWriter } from './store.js';

interface Mark {
  journal: ColumnarJournal;
  entries: number;
  events: number;
  plants: number;
  reversed: number[];
  ids: string[];
  books: (() => BooksSnapshot) | undefined;
  meta: { trigger?: string; currency?: string };
}

/** The memory engine of the store contract (see store.ts). */
export class MemoryStore implements SyncLedgerStore, SyncStoreWriter {
  readonly name = 'memory';
  /** Every entry. Batches built with these tables append without renumbering strings. */
  journal = new ColumnarJournal(1, new JournalTables());
  private events = 0;
  /** Seq of the first entry of each event posted with an id (an event's entries are contiguous). */
  private readonly firstOfEvent = new Map<string, number>();
  private readonly reversed = new Set<number>();
  private readonly plantVersions: StoredPlantVersion[] = [];
  private lastBooks: (() => BooksSnapshot) | undefined;
  private meta: { trigger?: string; currency?: string } = {};
  private open: Mark | undefined;
  /** The one mark, reset by each transaction (one is open at a time: no object per posting). */
  private readonly mark: Mark = { journal: this.journal, entries: 0, events: 0, plants: 0, reversed: [], ids: [], books: undefined, meta: this.meta };

  get tables(): JournalTables {
    return this.journal.tables;
  }

  beginRead(): this {
    return this.begin();
  }
  beginWrite(): this {
    return this.begin();
  }
  private begin(): this {
    if (this.open) throw new Error('memory store: a transaction is already open');
    const m = this.mark;
    m.journal = this.journal;
    m.entries = this.journal.size;
    m.events = this.events;
    m.plants = this.plantVersions.length;
    // Setting the length is a runtime call even on an empty array (a backtest's postings leave both empty).
    if (m.reversed.length !== 0) m.reversed.length = 0;
    if (m.ids.length !== 0) m.ids.length = 0;
    m.books = this.lastBooks;
    m.meta = this.meta;
    this.open = m;
    return this;
  }
  commit(): void {
    this.open = undefined;
  }
  rollback(): void {
    const m = this.open;
    if (!m) return;
    this.journal = m.journal;
    this.journal.truncate(m.entries);
    for (const id of m.ids) {
      this.firstOfEvent.delete(id);
      this.journal.digests.delete(id);
    }
    for (const seq of m.reversed) this.reversed.delete(seq);
    this.events = m.events;
    this.plantVersions.length = m.plants;
    this.lastBooks = m.books;
    this.meta = m.meta;
    this.open = undefined;
  }
  close(): void {
    /* nothing to release */
  }

  /** Number of entries. */
  get size(): number {
    return this.journal.size;
  }

  state(): StoreState {
    const plant = this.plantVersions[this.plantVersions.length - 1];
    const head = this.head();
    // Nothing outside this process can change a memory store: its whole chain counts as checked.
    const state: { -readonly [K in keyof StoreState]: StoreState[K] } = { head, verified: head };
    if (this.meta.trigger !== undefined) state.trigger = this.meta.trigger;
    if (this.meta.currency !== undefined) state.currency = this.meta.currency;
    if (plant) state.plant = plant;
    return state;
  }
  /**
   * state() for Ledger.post, in one object that every posting refills (a head object with a
   * getter costs about half a microsecond to make, once per posting): the ledger reads it
   * during the posting only, and its head's hash is computed when read.
   */
  postingState(): StoreState {
    const s = (this.posting ??= this.newPostingState());
    const head = s.head as { seq: number; events: number };
    head.seq = this.journal.size;
    head.events = this.events;
    s.trigger = this.meta.trigger;
    s.currency = this.meta.currency;
    s.plant = this.plantVersions[this.plantVersions.length - 1];
    return s;
  }
  private posting: { head: ChainHead; verified: ChainHead; trigger: string | undefined; currency: string | undefined; plant: StoredPlantVersion | undefined } | undefined;
  private newPostingState(): NonNullable<MemoryStore['posting']> {
    const store = this;
    const head = {
      seq: 0,
      events: 0,
      get hash(): string {
        return this.seq === 0 ? GENESIS_HASH : store.journal.hashOf(this.seq - 1);
      },
    };
    return { head, verified: head, trigger: undefined, currency: undefined, plant: undefined };
  }
  /** The last head made (append returns it after every posting and state() gives it to readers: a getter-bearing object is costly to make). */
  private lastHead: { journal: ColumnarJournal; seq: number; events: number; head: ChainHead } | undefined;
  /** The head, its hash computed only if someone reads it. */
  private head(): ChainHead {
    const journal = this.journal;
    const seq = journal.size;
    const events = this.events;
    const last = this.lastHead;
    if (last && last.journal === journal && last.seq === seq && last.events === events) return last.head;
    const head: ChainHead = {
      seq,
      events,
      get hash(): string {
        return seq === 0 ? GENESIS_HASH : journal.hashOf(seq - 1);
      },
    };
    this.lastHead = { journal, seq, events, head };
    return head;
  }
  books(): BooksSnapshot | undefined {
    return this.lastBooks?.();
  }
  eventDigests(ids: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const id of ids) {
      const digest = this.journal.digests.get(id);
      if (digest !== undefined) out.set(id, digest);
    }
    return out;
  }
  entriesOfEvents(ids: readonly string[]): Map<string, EntryLookup[]> {
    const out = new Map<string, EntryLookup[]>();
    for (const id of ids) {
      const first = id.startsWith('#') ? this.scanFor(id) : this.firstOfEvent.get(id);
      if (first === undefined) continue;
      const list: EntryLookup[] = [];
      for (let i = first - 1; i < this.journal.size && this.journal.eventIdOf(i) === id; i += 1) {
        list.push({ entry: this.journal.entry(i), reversed: this.reversed.has(i + 1) });
      }
      out.set(id, list);
    }
    return out;
  }
  /** Events posted without an id are not indexed (reversing them by `#n` is rare): found by scanning. */
  private scanFor(id: string): number | undefined {
    for (let i = 0; i < this.journal.size; i += 1) if (this.journal.eventIdOf(i) === id) return i + 1;
    return undefined;
  }
  *scanEntries(from: number, to = Infinity): Iterable<JournalEntry> {
    const end = Math.min(to, this.journal.size);
    for (let seq = Math.max(1, from); seq <= end; seq += 1) yield this.journal.entry(seq - 1);
  }
  *scanRows(from: number, to = Infinity): Iterable<StoredEntryRow> {
    const end = Math.min(to, this.journal.size);
    for (let seq = Math.max(1, from); seq <= end; seq += 1) {
      const i = seq - 1;
      const hash = this.journal.hashOf(i);
      yield { seq, eventId: this.journal.eventIdOf(i), eventType: this.journal.eventTypeOf(i), body: this.journal.body(i, this.journal.eventHashOf(i)), hash, prevHash: this.journal.prevHashOf(i) };
    }
  }
  /** One entry, or undefined (its hashes are computed only if read). */
  entry(seq: number): JournalEntry | undefined {
    return seq >= 1 && seq <= this.journal.size ? this.journal.entry(seq - 1) : undefined;
  }
  *scanEvents(from = 1): Iterable<StoredEvent> {
    // Every posting asks for the events after its verified mark, which here is the head: nothing
    // to scan (walking the whole journal to skip them made each posting cost O(journal)).
    if (from > this.events) return;
    let seq = 0;
    for (const record of this.journal.eventRecords()) {
      seq += 1;
      if (seq >= from) yield { ...record, seq, hash: eventRecordHash(record) };
    }
  }
  plants(): StoredPlantVersion[] {
    return [...this.plantVersions];
  }

  append(batch: PostingBatch): ChainHead {
    const entries = batch.entries;
    if (entries.size > 0 && entries.firstSeq !== this.journal.size + 1) {
      throw new ProcuraError(ErrorCode.store, `batch starts at seq ${entries.firstSeq}, the store's head is ${this.journal.size}`, { file: this.name });
    }
    if (entries.size === 0) return this.head();
    const base = this.journal.size;
    // A first posting's batch becomes the journal (a replay's one big posting is not copied).
    if (base === 0 && entries.firstSeq === 1 && entries.tables === this.journal.tables) this.journal = entries;
    else this.journal.appendJournal(entries);
    for (const id of entries.digests.keys()) {
      if (this.firstOfEvent.has(id)) continue;
      this.open?.ids.push(id);
    }
    this.index(batch, base);
    return this.head();
  }

  /**
   * Commits a posting whose entries the ledger wrote straight into this store's journal, from
   * index `from` to its end, inside the open write transaction (a rollback truncates them);
   * `digests` are its events' idempotency digests, recorded here so that a rollback forgets them.
   */
  appendStaged(batch: PostingBatch, from: number, digests: ReadonlyMap<string, string>): void {
    if (batch.entries !== this.journal || !this.open || from !== this.open.entries) throw new ProcuraError(ErrorCode.internal, 'memory store: staged entries do not follow the open transaction', { file: this.name });
    const journal = this.journal;
    // A backtest's postings have no digests: no iterator made for an empty map.
    if (digests.size > 0) {
      for (const [id, digest] of digests) {
        if (!journal.digests.has(id)) this.open.ids.push(id);
        journal.digests.set(id, digest);
      }
    }
    this.index(batch, from);
  }

  /** Indexes entries [base, size) of the journal (reversals, first entry of each event with an id) and records the posting's plant, books and counts. */
  private index(batch: PostingBatch, base: number): void {
    const journal = this.journal;
    // Read once (a getter; nothing here appends to the journal).
    const size = journal.size;
    if (batch.plant) this.plantVersions.push({ ...batch.plant, firstEntry: base + 1 });
    if (this.meta.trigger === undefined) this.meta = { trigger: batch.trigger, currency: batch.currency };
    for (let i = base; i < size; i += 1) {
      const reverses = journal.reversesOf(i);
      if (reverses !== undefined) {
        this.reversed.add(reverses);
        this.open?.reversed.push(reverses);
      }
    }
    // Index the first entry of each event posted with an id.
    for (let i = base; i < size; i += 1) {
      // An event without an id (`#<n>`, every backtest entry) is not indexed: tested on its code, without making its text.
      if (!journal.hasEventId(i) || journal.sameEvent(i) || journal.eventTypeOf(i) === 'revaluation') continue;
      this.firstOfEvent.set(journal.eventIdOf(i), i + 1);
    }
    this.events += batch.eventCount;
    this.lastBooks = batch.books;
  }

  /** Computes hashes up to seq `upTo` (inclusive). */
  seal(upTo: number): void {
    this.journal.seal(upTo);
  }
}
