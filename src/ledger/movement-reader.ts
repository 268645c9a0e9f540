/**
 * A narrow reader of posted entries for the cost feed (src/costfeed/cost-feed.ts): the few
 * fields the feed applies (time, knownAt, type, reversal, movements and the economic actual)
 * read straight from an in-memory ledger's columnar journal, without materialising a whole
 * JournalEntry (ids, sources, flags and the rest) per entry, and the movements and actual only
 * for entries the feed applies. A backtest reads every entry once.
 *
 * Only a ledger on a memory store has a journal to read this way; for any other source
 * `postedEntriesOf` answers undefined and the feed reads `entriesAfter` as before. It uses the
 * columnar journal's public readers (atOf, knownAtOf, eventTypeOf, reversesOf, movementsOf, movementQtysOf, moveStartOf..moveQtyOf, actualOf, draftActual, actualKindOf..actualAmountOf) and
 * the memory store's `journal` (`Ledger.memoryStore`), read again on every call (a first posting replaces it).
 */
import type { Fixed } from '../core/fixed.js';
import type { EpochMs } from '../core/time.js';
import type { ColumnarJournal, MovementQty } from './columnar-journal.js';
import type { DraftActual } from './engine.js';
import type { Actual, EntryType, Movement } from './journal.js';
import { Ledger } from './ledger.js';
import type { MemoryStore } from './memory-store.js';

/** One posted entry's fields, by seq (1-based); seqs past `last()` are not asked for. */
export interface PostedEntries {
  /** Seq of the last entry posted. */
  last(): number;
  at(seq: number): EpochMs;
  knownAt(seq: number): EpochMs;
  eventType(seq: number): EntryType;
  reverses(seq: number): number | undefined;
  /** Movements of an entry (decimal.js values). */
  movements(seq: number): readonly Movement[];
  /** Kind, id and exact quantity (Fixed) of an entry's movements: all the feed applies. */
  movementQtys(seq: number): readonly MovementQty[];
  /**
   * The same movements one by one, without a list: indexes [moveStart(seq), moveEnd(seq)) of the
   * journal's movements, each read with moveKind, moveId and moveQty.
   */
  moveStart(seq: number): number;
  moveEnd(seq: number): number;
  moveKind(k: number): MovementQty['kind'];
  moveId(k: number): string;
  moveQty(k: number): Fixed;
  /** The economic actual behind an entry, if any (decimal.js values). */
  actual(seq: number): Actual | undefined;
  /** The same actual as scaled integers (Fixed), as the engine computed it: what the feed sums. */
  actualFixed(seq: number): DraftActual | undefined;
  /**
   * That actual field by field, without its object: its kind (undefined: none), then as asked its
   * material or product, quantity and amount (a completion's allocated, a sale's conversion).
   * A conversion's category is read from actualFixed.
   */
  actualKind(seq: number): DraftActual['kind'] | undefined;
  actualName(seq: number): string;
  actualQty(seq: number): Fixed;
  actualAmount(seq: number): Fixed;
}

class MemoryJournalReader implements PostedEntries {
  readonly #store: MemoryStore;
  constructor(store: MemoryStore) {
    this.#store = store;
  }
  #journal(): ColumnarJournal {
    return this.#store.journal;
  }
  last(): number {
    const journal = this.#journal();
    return journal.firstSeq + journal.size - 1;
  }
  at(seq: number): EpochMs {
    const journal = this.#journal();
    return journal.atOf(seq - journal.firstSeq);
  }
  knownAt(seq: number): EpochMs {
    const journal = this.#journal();
    return journal.knownAtOf(seq - journal.firstSeq);
  }
  eventType(seq: number): EntryType {
    const journal = this.#journal();
    return journal.eventTypeOf(seq - journal.firstSeq);
  }
  reverses(seq: number): number | undefined {
    const journal = this.#journal();
    return journal.reversesOf(seq - journal.firstSeq);
  }
  movements(seq: number): readonly Movement[] {
    const journal = this.#journal();
    return journal.movementsOf(seq - journal.firstSeq);
  }
  movementQtys(seq: number): readonly MovementQty[] {
    const journal = this.#journal();
    return journal.movementQtysOf(seq - journal.firstSeq);
  }
  moveStart(seq: number): number {
    const journal = this.#journal();
    return journal.moveStartOf(seq - journal.firstSeq);
  }
  moveEnd(seq: number): number {
    const journal = this.#journal();
    return journal.moveEndOf(seq - journal.firstSeq);
  }
  moveKind(k: number): MovementQty['kind'] {
    return this.#journal().moveKindOf(k);
  }
  moveId(k: number): string {
    return this.#journal().moveIdOf(k);
  }
  moveQty(k: number): Fixed {
    return this.#journal().moveQtyOf(k);
  }
  actual(seq: number): Actual | undefined {
    const journal = this.#journal();
    return journal.actualOf(seq - journal.firstSeq);
  }
  actualFixed(seq: number): DraftActual | undefined {
    const journal = this.#journal();
    return journal.draftActual(seq - journal.firstSeq);
  }
  actualKind(seq: number): DraftActual['kind'] | undefined {
    const journal = this.#journal();
    return journal.actualKindOf(seq - journal.firstSeq);
  }
  actualName(seq: number): string {
    const journal = this.#journal();
    return journal.actualNameOf(seq - journal.firstSeq);
  }
  actualQty(seq: number): Fixed {
    const journal = this.#journal();
    return journal.actualQtyOf(seq - journal.firstSeq);
  }
  actualAmount(seq: number): Fixed {
    const journal = this.#journal();
    return journal.actualAmountOf(seq - journal.firstSeq);
  }
}

/** A reader over `source`'s journal when it is a ledger on a memory store, else undefined. */
export function postedEntriesOf(source: unknown): PostedEntries | undefined {
  if (!(source instanceof Ledger)) return undefined;
  const store = source.memoryStore;
  return store === undefined ? undefined : new MemoryJournalReader(store);
}
