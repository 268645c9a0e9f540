/**
 * REFERENCE COPY (test oracle): the ledger's posting loop as it was before the columnar journal
 * (issue 10): Decimal engine, one object per entry, hashes computed by sealing the whole list.
 * It produces what the product must produce for the same events: entries, balances, book
 * quantities and the hash chain. Kept deliberately plain; do not optimise it.
 */
import type { Decimal } from '../../../src/core/decimal.js';
import { InputError } from '../../../src/core/errors.js';
import { formatTime } from '../../../src/core/time.js';
import { eventDigest, type LedgerEvent } from '../../../src/ledger/events.js';
import { entryBody, entryHash, eventRecordHash, GENESIS_HASH, type EntryDraft, type EventRecord, type JournalEntry } from '../../../src/ledger/journal.js';
import type { Plant } from '../../../src/ledger/plant.js';
import { Books, Engine } from './engine.js';

type Mutable = { -readonly [K in keyof JournalEntry]: JournalEntry[K] };

export class ReferenceLedger {
  readonly plant: Plant;
  private books = new Books();
  private readonly engine: Engine;
  private readonly list: Mutable[] = [];
  private readonly records: EventRecord[] = [];
  private readonly digests = new Map<string, string>();
  private readonly reversed = new Set<number>();

  constructor(plant: Plant) {
    this.plant = plant;
    this.engine = new Engine(plant);
  }

  /** Posts all events or none; throws like the product does. */
  post(events: readonly LedgerEvent[]): void {
    const books = this.books.clone();
    const start = this.list.length;
    const startRecords = this.records.length;
    const pendingIds = new Map<string, string>();
    const pendingReversed = new Set<number>();
    const fresh: Mutable[] = [];
    const ctx = {
      plant: this.plant,
      entriesOf: (id: string): readonly JournalEntry[] => this.list.filter((e) => e.eventId === id),
      isReversed: (seq: number): boolean => this.reversed.has(seq) || pendingReversed.has(seq),
    };
    const append = (draft: EntryDraft): void => {
      const entry = draft as Mutable;
      entry.seq = this.list.length + 1;
      entry.hash = '';
      entry.prevHash = '';
      books.apply(entry);
      this.list.push(entry);
      fresh.push(entry);
      if (entry.reverses !== undefined) pendingReversed.add(entry.reverses);
    };
    try {
      for (const event of events) {
        let digest: string | undefined;
        if (event.id !== undefined) {
          digest = eventDigest(event);
          const existing = pendingIds.get(event.id) ?? this.digests.get(event.id);
          if (existing !== undefined) {
            if (existing !== digest) throw new InputError(`event id ${JSON.stringify(event.id)} was already posted with different content`, { field: 'id' });
            continue;
          }
        }
        if (event.at < books.lastAt) throw new InputError(`event at ${formatTime(event.at)} is before the last event already posted`, { field: 'at' });
        for (const revision of this.engine.dueRevisions(books, event.at)) {
          const draft = this.engine.revaluationDraft(books, revision);
          if (draft) append(draft);
          books.revisionsDone += 1;
        }
        const eventId = event.id ?? `#${this.records.length + 1}`;
        for (const draft of this.engine.drafts(event, eventId, books, ctx)) append(draft);
        if (digest !== undefined) pendingIds.set(eventId, digest);
        this.records.push({ id: eventId, type: event.type, at: event.at, knownAt: event.knownAt, digest: digest ?? '', ...(event.source ? { source: event.source } : {}) });
      }
    } catch (error) {
      this.list.length = start;
      this.records.length = startRecords;
      throw error;
    }
    for (const [id, digest] of pendingIds) this.digests.set(id, digest);
    for (const seq of pendingReversed) this.reversed.add(seq);
    this.books = books;
  }

  /** Every entry with eventHash, plantHash and the hash chain filled. */
  entries(): readonly JournalEntry[] {
    let prevHash = GENESIS_HASH;
    let record = -1;
    let eventId: string | undefined;
    for (const e of this.list) {
      if (e.eventType !== 'revaluation') {
        if (e.eventId !== eventId) {
          record += 1;
          eventId = e.eventId;
        }
        e.eventHash = eventRecordHash(this.records[record]!);
      }
      if (e.seq === 1) e.plantHash = this.plant.hash;
      e.prevHash = prevHash;
      e.hash = entryHash(entryBody(e), prevHash);
      prevHash = e.hash;
    }
    return this.list;
  }

  balances(): Map<string, Decimal> {
    return new Map(this.books.balances);
  }

  quantities(): { materials: Map<string, Decimal>; products: Map<string, Decimal>; hedges: Map<string, { qty: Decimal; carryingValue: Decimal }> } {
    return {
      materials: new Map(this.books.materials),
      products: new Map([...this.books.products].map(([id, h]) => [id, h.qty])),
      hedges: new Map([...this.books.hedges].map(([id, h]) => [id, { qty: h.qty, carryingValue: h.value }])),
    };
  }
}
