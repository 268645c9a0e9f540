/**
 * The Ledger: a plant, a journal and the running books. `post` is atomic (a file posts whole
 * or not at all), idempotent by event id, and refuses backdating. Reads can be filtered by
 * accounting time (`at`) and by when figures became known (`knownAt`), and an AsOfCursor walks
 * knownAt forward incrementally for the cost feed and backtests.
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { InputError, ProcuraError, ErrorCode } from '../core/errors.js';
import { formatDate, formatTime, type EpochMs } from '../core/time.js';
import { compareAccounts } from './accounts.js';
import { Books, Engine, type Holding } from './engine.js';
import { eventDigest, type LedgerEvent } from './events.js';
import { entryBody, entryHash, GENESIS_HASH, MemoryJournal, type EntryDraft, type Journal, type JournalEntry } from './journal.js';
import { parsePlant, type Plant } from './plant.js';
import { SqliteJournal } from './sqlite-store.js';

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

/**
 * A revaluation is posted when posting first passes a revision's date, so a revision dated at
 * or before the last posted event, added or changed after that event was posted, would never be
 * revalued: refused, naming the material and both dates.
 */
function refuseBackdatedRevisions(storedPlant: Plant, plant: Plant, lastAt: EpochMs): void {
  const key = (r: { material: string; at: EpochMs; next: { cost: Decimal } }): string => `${r.material}@${r.at}=${r.next.cost.toFixed()}`;
  const before = new Set(storedPlant.revisions.filter((r) => r.at <= lastAt).map(key));
  for (const revision of plant.revisions) {
    if (revision.at > lastAt || before.has(key(revision))) continue;
    throw new ProcuraError(
      ErrorCode.store,
      `standard cost of ${revision.material} from ${formatDate(revision.at)} is new or changed, but events up to ${formatDate(lastAt)} are already posted: a revision cannot be backdated (date it after ${formatDate(lastAt)})`,
      { file: plant.file, field: 'materials.standardCost' },
    );
  }
}

/** Outcome of verify: ok, or the first fault found; flagged entries are listed either way. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly fault?: string;
  readonly entries: number;
  readonly flagged: readonly { seq: number; eventId: string; flags: readonly string[] }[];
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

export class Ledger {
  readonly plant: Plant;
  readonly journal: Journal;
  private books: Books;
  private readonly engine: Engine;

  /** A ledger over `journal` with `plant`; the books are rebuilt from the journal's entries. */
  constructor(plant: Plant, journal: Journal) {
    this.plant = plant;
    this.journal = journal;
    this.engine = new Engine(plant);
    this.books = new Books();
    for (const entry of journal.entries()) this.books.apply(entry);
    this.books.revisionsDone = plant.revisions.filter((r) => r.at <= this.books.lastAt).length;
  }

  /** A fresh, pure in-memory ledger (replay, backtests). */
  static inMemory(plant: Plant): Ledger {
    return new Ledger(plant, new MemoryJournal());
  }

  /**
   * Opens (or creates) a SQLite ledger. Without `plant`, the plant stored by the last posting is
   * used (read-only commands need no plant file). A store keeps the trigger variant and currency
   * it was created with; opening it with a plant that changes either is refused.
   */
  static openSqlite(path: string, plant?: Plant): Ledger {
    const journal = new SqliteJournal(path);
    try {
      let used = plant;
      if (!used) {
        const stored = journal.latestPlant();
        used = stored ? parsePlant(stored.text, `${path}#plant`) : undefined;
      }
      if (!used) {
        throw new ProcuraError(ErrorCode.store, 'the store has no plant yet: post events with --plant first', { file: path });
      }
      for (const [key, value] of [['trigger', used.trigger], ['currency', used.currency]] as const) {
        const stored = journal.meta(key);
        if (stored !== undefined && stored !== value) {
          throw new ProcuraError(ErrorCode.store, `the store was created with ${key} ${stored}; the plant says ${value}`, { file: used.file, field: key === 'trigger' ? 'backflush' : key });
        }
      }
      const ledger = new Ledger(used, journal);
      const stored = plant === undefined ? undefined : journal.latestPlant();
      if (stored !== undefined && plant !== undefined && stored.text !== plant.text) {
        refuseBackdatedRevisions(parsePlant(stored.text, `${path}#plant`), plant, ledger.lastAt);
      }
      return ledger;
    } catch (error) {
      journal.close();
      throw error;
    }
  }

  /** Latest `at` posted (-Infinity when empty). */
  get lastAt(): EpochMs {
    return this.books.lastAt;
  }

  /**
   * Posts events atomically: all of them or, on the first error, none (the store and the books
   * are left exactly as before). An event whose id was already posted with the same content is
   * skipped; the same id with other content is refused. Events must not be earlier than the
   * last event posted. Standard-cost revisions that take effect before an event are posted
   * first (revaluation of materials on hand).
   */
  post(events: readonly LedgerEvent[], source?: { file: string }): PostResult {
    const snapshot = this.books.clone();
    const journal = this.journal;
    const books = this.books;
    const engine = this.engine;
    const pendingIds = new Map<string, string>();
    let postedEvents = 0;
    const skipped: string[] = [];
    const fresh: JournalEntry[] = [];
    const flagged: JournalEntry[] = [];
    let eventCount = journal.eventCount;
    const ctx = {
      plant: this.plant,
      entriesOf: (id: string): readonly JournalEntry[] => {
        const committed = journal.entriesOfEvent(id);
        if (committed.length > 0) return committed;
        // Reversal of an event in the same posting (rare): its entries are contiguous in `fresh`.
        const last = fresh.findLastIndex((e) => e.eventId === id);
        if (last < 0) return [];
        let first = last;
        while (first > 0 && fresh[first - 1]!.eventId === id) first -= 1;
        return fresh.slice(first, last + 1);
      },
    };
    const append = (draft: EntryDraft): void => {
      const entry = journal.append(draft);
      books.apply(entry);
      fresh.push(entry);
      if (entry.flags) flagged.push(entry);
    };
    journal.begin();
    try {
      if (journal instanceof SqliteJournal) {
        journal.setMetaOnce('trigger', this.plant.trigger);
        journal.setMetaOnce('currency', this.plant.currency);
        journal.recordPlant({ hash: this.plant.hash, file: this.plant.file, text: this.plant.text });
      }
      for (const event of events) {
        const where = event.source ?? (source ? { file: source.file } : {});
        let digest: string | undefined;
        if (event.id !== undefined) {
          digest = eventDigest(event);
          const existing = pendingIds.get(event.id) ?? journal.eventDigest(event.id);
          if (existing !== undefined) {
            if (existing !== digest) throw new InputError(`event id ${JSON.stringify(event.id)} was already posted with different content`, { ...where, field: 'id' });
            skipped.push(event.id);
            continue;
          }
        }
        if (event.at < books.lastAt) {
          throw new InputError(
            `event at ${formatTime(event.at)} is before the last event already posted (${formatTime(books.lastAt)}); the ledger refuses backdating, post a reversal instead`,
            { ...where, field: 'at' },
          );
        }
        for (const revision of engine.dueRevisions(books, event.at)) {
          const draft = engine.revaluationDraft(books, revision);
          if (draft) append(draft);
          books.revisionsDone += 1;
        }
        eventCount += 1;
        postedEvents += 1;
        const eventId = event.id ?? `#${eventCount}`;
        for (const draft of engine.drafts(event, eventId, books, ctx)) append(draft);
        if (digest !== undefined) pendingIds.set(eventId, digest);
        journal.recordEvent({ id: eventId, type: event.type, at: event.at, knownAt: event.knownAt, digest: digest ?? '', ...(event.source ? { source: event.source } : {}) });
      }
      journal.commit();
    } catch (error) {
      journal.rollback();
      this.books = snapshot;
      throw error;
    }
    return {
      posted: postedEvents,
      skipped,
      flagged,
      get entries(): readonly JournalEntry[] {
        journal.entries(); // fills lazily computed hashes
        return fresh;
      },
    };
  }

  /** Balances (debit positive) of every account touched, as of the filter (default: everything). */
  balances(opts: AsOf = {}): Map<string, Decimal> {
    const out = new Map<string, Decimal>();
    if (opts.at === undefined && opts.knownAt === undefined) {
      for (const [account, value] of this.books.balances) out.set(account, value);
    } else {
      for (const entry of this.journal.entries()) {
        if (!visible(entry, opts)) continue;
        for (const l of entry.lines) out.set(l.account, (out.get(l.account) ?? ZERO).plus(l.debit).minus(l.credit));
      }
    }
    return sortAccounts(out);
  }

  /** Book quantities (materials, finished units) and open hedges, as of the filter. */
  quantities(opts: AsOf = {}): Quantities {
    if (opts.at === undefined && opts.knownAt === undefined) return quantitiesOf(this.books.materials, this.books.products, this.books.hedges);
    const cursor = new Accumulator();
    for (const entry of this.journal.entries()) if (visible(entry, opts)) cursor.apply(entry);
    return cursor.quantities();
  }

  /** Journal entries in seq order, filtered by time and/or event id. */
  entries(opts: EntryFilter = {}): readonly JournalEntry[] {
    if (opts.eventId !== undefined) return this.journal.entriesOfEvent(opts.eventId).filter((e) => visible(e, opts));
    const all = this.journal.entries();
    if (opts.at === undefined && opts.knownAt === undefined) return all;
    return all.filter((e) => visible(e, opts));
  }

  /**
   * A cursor over knownAt: `advanceTo(T)` applies every entry with knownAt <= T not yet
   * applied; calls must not go back in time. Cost O(entries) over the whole walk, so a
   * backtest can ask for many increasing T cheaply.
   */
  cursor(): AsOfCursor {
    return new AsOfCursor(this.journal.entries());
  }

  /** Purchases with their actual cost (price + fee), in seq order, within the window. */
  purchases(window: Window = {}): PurchaseActual[] {
    const out: PurchaseActual[] = [];
    for (const e of this.journal.entries()) {
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
    for (const e of this.journal.entries()) {
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

  /**
   * Checks the journal as stored: every entry balances, each hash matches its content and
   * chains to the previous one, book quantities replay to the recorded `after` figures and go
   * below zero only in flagged entries, and the trial balance is zero. Returns the first fault.
   */
  verify(): VerifyResult {
    let entries: readonly JournalEntry[];
    try {
      entries = this.journal.stored();
    } catch (error) {
      return { ok: false, fault: (error as Error).message, entries: 0, flagged: [] };
    }
    const flagged: { seq: number; eventId: string; flags: readonly string[] }[] = [];
    const fail = (fault: string): VerifyResult => ({ ok: false, fault, entries: entries.length, flagged });
    let prevHash = GENESIS_HASH;
    const totals = new Map<string, Decimal>();
    const qty = new Map<string, Decimal>();
    for (let i = 0; i < entries.length; i += 1) {
      const e = entries[i]!;
      const name = `entry ${e.seq} (event ${e.eventId}, ${e.eventType} at ${formatTime(e.at)})`;
      if (e.seq !== i + 1) return fail(`${name}: expected seq ${i + 1}`);
      if (e.flags) flagged.push({ seq: e.seq, eventId: e.eventId, flags: e.flags });
      let debit = ZERO;
      let credit = ZERO;
      for (const l of e.lines) {
        if (l.debit.isNegative() || l.credit.isNegative() || (!l.debit.isZero() && !l.credit.isZero())) return fail(`${name}: line ${l.account} must have one non-negative side`);
        debit = debit.plus(l.debit);
        credit = credit.plus(l.credit);
        totals.set(l.account, (totals.get(l.account) ?? ZERO).plus(l.debit).minus(l.credit));
      }
      if (!debit.eq(credit)) return fail(`${name}: debits ${debit.toFixed()} do not equal credits ${credit.toFixed()}`);
      if (e.prevHash !== prevHash) return fail(`${name}: hash chain broken (previous hash does not match)`);
      if (entryHash(entryBody(e), prevHash) !== e.hash) return fail(`${name}: hash does not match the entry's content`);
      prevHash = e.hash;
      for (const m of e.movements) {
        const key = `${m.kind}:${m.id}`;
        const after = (qty.get(key) ?? ZERO).plus(m.qty);
        if (!after.eq(m.after)) return fail(`${name}: book quantity of ${m.kind} ${m.id} replays to ${after.toFixed()}, entry records ${m.after.toFixed()}`);
        qty.set(key, after);
        if (m.kind !== 'hedge' && after.isNegative() && m.qty.isNegative() && !e.flags) return fail(`${name}: ${m.kind} ${m.id} below zero (${after.toFixed()}) in an unflagged entry`);
      }
    }
    let trial = ZERO;
    for (const value of totals.values()) trial = trial.plus(value);
    if (!trial.isZero()) return fail(`trial balance is ${trial.toFixed()}, not zero`);
    return { ok: true, entries: entries.length, flagged };
  }

  /** Releases the store (SQLite); a no-op in memory. */
  close(): void {
    this.journal.close();
  }
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

function quantitiesOf(materials: ReadonlyMap<string, Decimal>, products: ReadonlyMap<string, Holding>, hedges: ReadonlyMap<string, Holding>): Quantities {
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
  readonly products = new Map<string, Holding>();
  readonly hedges = new Map<string, Holding>();
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
