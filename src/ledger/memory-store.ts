/**
 * The in-memory store engine: pure, no I/O, for replay and backtests. Hashes are filled
 * lazily, the first time an entry is read with its hash or the chain is verified, so a
 * backtest that never asks for them never pays for sealing; the chain is the one a durable
 * store would write for the same entries.
 */
import { ProcuraError, ErrorCode } from '../core/errors.js';
import type { BooksSnapshot } from './engine.js';
import { entryBody, entryHash, eventRecordHash, GENESIS_HASH, type EventRecord, type JournalEntry } from './journal.js';
import type { ChainHead, EntryLookup, PostingBatch, StoreState, StoredEvent, StoredPlantVersion, SyncLedgerStore, SyncStoreWriter } from './store.js';

type MutableEntry = { -readonly [K in keyof JournalEntry]: JournalEntry[K] };

interface Mark {
  entries: number;
  events: number;
  plants: number;
  reversed: number[];
  verified: ChainHead;
  books: (() => BooksSnapshot) | undefined;
  meta: { trigger?: string; currency?: string };
}

/** The memory engine of the store contract (see store.ts). */
export class MemoryStore implements SyncLedgerStore, SyncStoreWriter {
  readonly name = 'memory';
  private readonly list: MutableEntry[] = [];
  private readonly records: EventRecord[] = [];
  private readonly eventHashes: string[] = [];
  /** Index of the first entry of each event id (an event's entries are contiguous). */
  private readonly firstOfEvent = new Map<string, number>();
  private readonly digests = new Map<string, string>();
  private readonly reversed = new Set<number>();
  private readonly plantVersions: StoredPlantVersion[] = [];
  private verifiedMark: ChainHead = { seq: 0, hash: GENESIS_HASH, events: 0 };
  private lastBooks: (() => BooksSnapshot) | undefined;
  private meta: { trigger?: string; currency?: string } = {};
  private sealed = 0;
  /** Index in `records` of the event of the last sealed entry (-1 before any event). */
  private sealedEvent = -1;
  private open: Mark | undefined;

  beginRead(): this {
    return this.begin();
  }
  beginWrite(): this {
    return this.begin();
  }
  private begin(): this {
    if (this.open) throw new Error('memory store: a transaction is already open');
    this.open = {
      entries: this.list.length,
      events: this.records.length,
      plants: this.plantVersions.length,
      reversed: [],
      verified: this.verifiedMark,
      books: this.lastBooks,
      meta: this.meta,
    };
    return this;
  }
  commit(): void {
    this.open = undefined;
  }
  rollback(): void {
    const m = this.open;
    if (!m) return;
    for (let i = m.entries; i < this.list.length; i += 1) {
      const id = this.list[i]!.eventId;
      if (this.firstOfEvent.get(id) === i) this.firstOfEvent.delete(id);
    }
    for (let i = m.events; i < this.records.length; i += 1) this.digests.delete(this.records[i]!.id);
    for (const seq of m.reversed) this.reversed.delete(seq);
    this.list.length = m.entries;
    this.records.length = m.events;
    this.eventHashes.length = Math.min(this.eventHashes.length, m.events);
    this.plantVersions.length = m.plants;
    this.verifiedMark = m.verified;
    this.lastBooks = m.books;
    this.meta = m.meta;
    if (this.sealed > m.entries) {
      this.sealed = m.entries;
      this.sealedEvent = this.eventIndexOf(m.entries - 1);
    }
    this.open = undefined;
  }
  close(): void {
    /* nothing to release */
  }

  /** Number of entries. */
  get size(): number {
    return this.list.length;
  }

  state(): StoreState {
    const plant = this.plantVersions[this.plantVersions.length - 1];
    return {
      head: this.head(),
      verified: this.verifiedMark,
      ...(this.meta.trigger !== undefined ? { trigger: this.meta.trigger } : {}),
      ...(this.meta.currency !== undefined ? { currency: this.meta.currency } : {}),
      ...(plant ? { plant } : {}),
    };
  }
  private head(): ChainHead {
    const n = this.list.length;
    if (n > 0) this.seal(n);
    return { seq: n, hash: n > 0 ? this.list[n - 1]!.hash : GENESIS_HASH, events: this.records.length };
  }
  books(): BooksSnapshot | undefined {
    return this.lastBooks?.();
  }
  eventDigests(ids: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const id of ids) {
      const digest = this.digests.get(id);
      if (digest !== undefined) out.set(id, digest);
    }
    return out;
  }
  entriesOfEvents(ids: readonly string[]): Map<string, EntryLookup[]> {
    const out = new Map<string, EntryLookup[]>();
    for (const id of ids) {
      const first = this.firstOfEvent.get(id);
      if (first === undefined) continue;
      let end = first;
      while (end < this.list.length && this.list[end]!.eventId === id) end += 1;
      this.seal(end);
      out.set(id, this.list.slice(first, end).map((entry) => ({ entry, reversed: this.reversed.has(entry.seq) })));
    }
    return out;
  }
  *scanEntries(from: number, to = Infinity): Iterable<JournalEntry> {
    const end = Math.min(to, this.list.length);
    this.seal(end);
    for (let seq = Math.max(1, from); seq <= end; seq += 1) yield this.list[seq - 1]!;
  }
  /** Entries without sealing (reads that never look at hashes: backtests, the cost feed). */
  *entriesFrom(from: number): Iterable<JournalEntry> {
    for (let seq = Math.max(1, from); seq <= this.list.length; seq += 1) yield this.list[seq - 1]!;
  }
  /** One entry without sealing, or undefined. */
  entry(seq: number): JournalEntry | undefined {
    return this.list[seq - 1];
  }
  *scanEvents(from = 1): Iterable<StoredEvent> {
    for (let i = Math.max(1, from) - 1; i < this.records.length; i += 1) yield { ...this.records[i]!, seq: i + 1, hash: this.eventHash(i) };
  }
  plants(): StoredPlantVersion[] {
    return [...this.plantVersions];
  }

  append(batch: PostingBatch): ChainHead {
    const first = batch.entries[0];
    if (first !== undefined && first.seq !== this.list.length + 1) {
      throw new ProcuraError(ErrorCode.store, `batch starts at seq ${first.seq}, the store's head is ${this.list.length}`, { file: this.name });
    }
    if (batch.plant && first) this.plantVersions.push({ ...batch.plant, firstEntry: first.seq });
    if (this.meta.trigger === undefined) this.meta = { trigger: batch.trigger, currency: batch.currency };
    for (const record of batch.events) {
      this.records.push(record);
      if (record.digest) this.digests.set(record.id, record.digest);
    }
    let previous = this.list.length > 0 ? this.list[this.list.length - 1]!.eventId : undefined;
    for (const entry of batch.entries as MutableEntry[]) {
      if (entry.eventId !== previous) {
        this.firstOfEvent.set(entry.eventId, this.list.length);
        previous = entry.eventId;
      }
      if (entry.reverses !== undefined) {
        this.reversed.add(entry.reverses);
        this.open?.reversed.push(entry.reverses);
      }
      this.list.push(entry);
    }
    this.verifiedMark = batch.verified;
    this.lastBooks = batch.books;
    return { seq: this.list.length, hash: '', events: this.records.length };
  }

  /** Fills eventHash, hash and prevHash of entries below seq `upTo` (inclusive). */
  seal(upTo: number): void {
    if (upTo <= this.sealed) return;
    let eventIndex = this.sealedEvent;
    let eventId = this.sealed > 0 ? this.list[this.sealed - 1]!.eventId : undefined;
    for (let i = this.sealed; i < upTo; i += 1) {
      const entry = this.list[i]!;
      if (entry.eventType !== 'revaluation') {
        if (entry.eventId !== eventId) {
          eventIndex += 1;
          eventId = entry.eventId;
        }
        entry.eventHash = this.eventHash(eventIndex);
      }
      const prevHash = i === 0 ? GENESIS_HASH : this.list[i - 1]!.hash;
      entry.prevHash = prevHash;
      entry.hash = entryHash(entryBody(entry), prevHash);
    }
    this.sealed = upTo;
    this.sealedEvent = eventIndex;
  }
  /** Index in `records` of the event of entry i (-1 for revaluations before any event). */
  private eventIndexOf(i: number): number {
    let events = 0;
    let eventId: string | undefined;
    for (let k = 0; k <= i; k += 1) {
      const e = this.list[k]!;
      if (e.eventType === 'revaluation') continue;
      if (e.eventId !== eventId) {
        events += 1;
        eventId = e.eventId;
      }
    }
    return events - 1;
  }
  private eventHash(i: number): string {
    let hash = this.eventHashes[i];
    if (hash === undefined) {
      hash = eventRecordHash(this.records[i]!);
      this.eventHashes[i] = hash;
    }
    return hash;
  }
}
