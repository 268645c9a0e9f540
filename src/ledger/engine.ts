/**
 * The backflush engine: turns one event into balanced journal entries for the plant's trigger
 * variant (Horngren ch. 20), and keeps the running books (balances, book quantities, finished
 * goods and hedge carrying values, this period's allocation figures) that the next event needs.
 *
 * Entries per variant (dm/cc = standard materials/conversion per unit, with the BOM's scrap):
 *
 * | event      | purchase-completion-sale | purchase-sale        | completion-sale         | sale                  |
 * | ---------- | ------------------------ | -------------------- | ----------------------- | --------------------- |
 * | purchase   | Dr RIP std, Dr/Cr MPV, Cr AP (or exchange_cash) actual | same | none (Dr AP / Cr exchange_cash when paid from cash) | same as completion-sale |
 * | completion | Dr FG / Cr RIP Q·dm, Cr CCA Q·cc | quantities only | Dr FG / Cr AP Q·dm, Cr CCA Q·cc | quantities only |
 * | sale       | Dr COGS / Cr FG (average carrying value) | Dr COGS / Cr RIP S·dm, Cr CCA S·cc | as first column | Dr COGS / Cr AP S·dm, Cr CCA S·cc |
 *
 * Conversion: Dr conversion_costs_control / Cr accrued_conversion_costs, every variant.
 * Count of a material: (counted - book) x standard between RIP (AP in the variants that never
 * carry materials) and material_usage_variance. Count of a product: (counted - book) x average
 * carrying value between finished goods and finished_goods_count_variance (quantities only in
 * the variants without finished goods). Close: see closeDraft.
 */
import { allocate } from '../core/decimal.js';
import { Fixed } from '../core/fixed.js';
import { POW10 } from '../core/decimal-number.js';
import { InputError, ProcuraError, ErrorCode, type Where } from '../core/errors.js';
import { formatTime, type EpochMs } from '../core/time.js';
import { Account, completionIsTrigger, purchaseIsTrigger, type Trigger } from './accounts.js';
import type { Plant, Revision } from './plant.js';
import type { LedgerEvent, PurchaseEvent, SaleEvent, CountEvent, HedgeEvent, HedgeMarkEvent, CompletionEvent, ConversionEvent } from './events.js';
import type { ColumnarJournal } from './columnar-journal.js';
import type { Actual, ActualOf, EntryType, EntryVersions, JournalEntry, MovementOf } from './journal.js';

const ZERO = Fixed.ZERO;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A posting line in the engine's arithmetic: exactly one of debit and credit is non-zero (both >= 0). */
export interface DraftLine {
  readonly account: string;
  readonly debit: Fixed;
  readonly credit: Fixed;
}

/** A change of a book quantity (and of a carrying value), in the engine's arithmetic. */
export type DraftMovement = MovementOf<Fixed>;

/** The economic actual behind an entry (see Actual), in the engine's arithmetic. */
export type DraftActual = ActualOf<Fixed>;

/**
 * An entry as the engine computes it (scaled integers, see core/fixed.ts): what the journal
 * stores in columns and materialises as a JournalEntry (decimal.js values) on demand.
 */
export interface Draft {
  readonly eventId: string;
  readonly eventType: EntryType;
  readonly at: EpochMs;
  readonly knownAt: EpochMs;
  readonly lines: readonly DraftLine[];
  readonly movements: readonly DraftMovement[];
  readonly versions: EntryVersions;
  readonly actual?: DraftActual;
  readonly ref?: string;
  readonly reason?: string;
  readonly flags?: readonly string[];
  readonly reverses?: number;
  readonly source?: { readonly file: string; readonly line: number };
}

/** A draft with its place in the journal. */
export interface PostedDraft extends Draft {
  readonly seq: number;
}

/** A journal entry in the engine's arithmetic (for reversals of stored entries and for replaying a store). */
export function draftOf(e: JournalEntry): PostedDraft {
  const f = Fixed.from;
  let actual: DraftActual | undefined;
  const a = e.actual;
  if (a) {
    switch (a.kind) {
      case 'purchase':
        actual = { kind: 'purchase', material: a.material, qty: f(a.qty), amount: f(a.amount) };
        break;
      case 'conversion':
        actual = { kind: 'conversion', amount: f(a.amount), category: a.category };
        break;
      case 'completion':
        actual = { kind: 'completion', product: a.product, qty: f(a.qty), allocated: f(a.allocated) };
        break;
      case 'sale':
        actual = { kind: 'sale', product: a.product, qty: f(a.qty), conversion: f(a.conversion) };
        break;
    }
  }
  return {
    seq: e.seq,
    eventId: e.eventId,
    eventType: e.eventType,
    at: e.at,
    knownAt: e.knownAt,
    lines: e.lines.map((l) => ({ account: l.account, debit: f(l.debit), credit: f(l.credit) })),
    movements: e.movements.map((m) => (m.value === undefined ? { kind: m.kind, id: m.id, qty: f(m.qty), after: f(m.after) } : { kind: m.kind, id: m.id, qty: f(m.qty), after: f(m.after), value: f(m.value) })),
    versions: e.versions,
    ...(actual ? { actual } : {}),
    ...(e.ref !== undefined ? { ref: e.ref } : {}),
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    ...(e.flags !== undefined ? { flags: e.flags } : {}),
    ...(e.reverses !== undefined ? { reverses: e.reverses } : {}),
    ...(e.source !== undefined ? { source: e.source } : {}),
  };
}

/** Quantity and carrying value of one position (finished units of a product, an open hedge). */
export interface Holding {
  readonly qty: Fixed;
  readonly value: Fixed;
}

const NO_HOLDING: Holding = { qty: ZERO, value: ZERO };

/** The running books as plain JSON: what a store keeps at its head so that opening it reads no entries. */
export interface BooksSnapshot {
  readonly balances: Record<string, string>;
  readonly materials: Record<string, string>;
  /** id -> [qty, carrying value] */
  readonly products: Record<string, [string, string]>;
  readonly hedges: Record<string, [string, string]>;
  readonly lastAt: number | null;
  readonly maxKnownAt: number | null;
  readonly periodAllocated: string;
  readonly periodSold: string;
  /** id -> [allocated, sold] this period */
  readonly periodByProduct: Record<string, [string, string]>;
  readonly revisionsDone: number;
}

/** Standard conversion cost a product received at completion and gave up at sale, this period. */
export interface PeriodConversion {
  readonly allocated: Fixed;
  readonly sold: Fixed;
}
const NO_PERIOD: PeriodConversion = { allocated: ZERO, sold: ZERO };
const NO_VERSIONS: EntryVersions = Object.freeze({});
const NO_MOVEMENTS: readonly DraftMovement[] = Object.freeze([]);
/** Marks, in the books' undo log, a key that was absent before the change. */
const ABSENT = Symbol('absent');
/** Marks, in the books' undo log, a balance changed in place (the entry is [balance, IN_PLACE, previous value]). */
const IN_PLACE = Symbol('in place');

/**
 * An account's balance, changed in place by each posting: one Map.set per journal line (about
 * three an entry) cost more than the rest of applying the line.
 */
export interface Balance {
  value: Fixed;
}

/**
 * What `Books.begin` saves: the scalar fields, and each map change as three slots [map, key,
 * previous value or ABSENT] in `log[0, size)`. The array keeps its length between postings
 * (its slots past `size` are cleared, not cut off): setting an array's length to 0 gives up its
 * backing store, and the next posting's pushes grew a new one (about 450 bytes a posting).
 */
interface UndoLog {
  readonly fields: BookFields;
  readonly log: unknown[];
  size: number;
}

function logChange(undo: UndoLog, map: object, key: string | symbol, previous: unknown): void {
  const log = undo.log;
  const k = undo.size;
  if (k + 3 > log.length) log.push(map, key, previous);
  else {
    log[k] = map;
    log[k + 1] = key;
    log[k + 2] = previous;
  }
  undo.size = k + 3;
}

/** Empties the log: no reference kept to the maps and values of the posting that used it. */
function clearLog(undo: UndoLog): void {
  const log = undo.log;
  for (let k = 0; k < undo.size; k += 1) log[k] = undefined;
  undo.size = 0;
}

/** The books' scalar fields (what `Books.begin` saves beside its log of map changes). */
interface BookFields {
  lastAt: number;
  maxKnownAt: number;
  periodAllocated: Fixed;
  periodSold: Fixed;
  periodByProduct: Map<string, PeriodConversion>;
  revisionsDone: number;
}

/**
 * The running books. Everything here is a pure function of the entries applied so far, in seq
 * order (a store rebuilds it by applying its entries), and small enough to snapshot per posting.
 */
export class Books {
  balances = new Map<string, Balance>();
  materials = new Map<string, Fixed>();
  products = new Map<string, Holding>();
  hedges = new Map<string, Holding>();
  /** Latest `at` posted. */
  lastAt = -Infinity;
  /** Latest `knownAt` posted (a close is not known before the figures it closes). */
  maxKnownAt = -Infinity;
  /** Standard conversion cost allocated at completion since the last close. */
  periodAllocated = ZERO;
  /** Standard conversion cost of units sold since the last close. */
  periodSold = ZERO;
  /**
   * Per product, the standard conversion cost allocated at completion and that of units sold
   * since the last close: the basis on which a prorated close spreads finished goods' share.
   */
  periodByProduct = new Map<string, PeriodConversion>();
  /** How many of the plant's standard-cost revisions have been processed. */
  revisionsDone = 0;
  /** `() => this.toSnapshot()`, made once (what a posting hands its store as the books at its head). */
  snapshotter: (() => BooksSnapshot) | undefined;
  /**
   * While a posting runs on these books in place (see `begin`): the scalar fields as they were,
   * and every map change as [map, key, previous value or ABSENT], so `rollback` can restore them.
   */
  private undo: UndoLog | undefined;
  /** The undo record, reset by each `begin` (one posting is open at a time: no objects per posting). */
  private spare: UndoLog | undefined;

  /**
   * Starts changing these books in place for one posting: `commit` keeps the changes,
   * `rollback` restores the books exactly as they were. Cheaper than a clone per posting,
   * whose cost grows with the number of accounts and positions.
   */
  begin(): void {
    if (this.undo) throw new Error('books: a posting is already open on these books');
    const undo = (this.spare ??= { fields: { lastAt: 0, maxKnownAt: 0, periodAllocated: ZERO, periodSold: ZERO, periodByProduct: this.periodByProduct, revisionsDone: 0 }, log: [], size: 0 });
    const fields = undo.fields;
    fields.lastAt = this.lastAt;
    fields.maxKnownAt = this.maxKnownAt;
    fields.periodAllocated = this.periodAllocated;
    fields.periodSold = this.periodSold;
    fields.periodByProduct = this.periodByProduct;
    fields.revisionsDone = this.revisionsDone;
    clearLog(undo);
    this.undo = undo;
  }
  commit(): void {
    // The log's references (maps, previous values) are not kept until the next posting.
    if (this.undo) clearLog(this.undo);
    this.undo = undefined;
  }
  rollback(): void {
    const undo = this.undo;
    if (!undo) return;
    const log = undo.log;
    for (let k = undo.size - 3; k >= 0; k -= 3) {
      const key = log[k + 1];
      const previous = log[k + 2];
      if (key === IN_PLACE) (log[k] as Balance).value = previous as Fixed;
      else {
        const map = log[k] as Map<string, unknown>;
        if (previous === ABSENT) map.delete(key as string);
        else map.set(key as string, previous);
      }
    }
    Object.assign(this, undo.fields);
    clearLog(undo);
    this.undo = undefined;
  }
  /** map.set, logged while a posting is open (also used by Engine.writeEntry). */
  put<V>(map: Map<string, V>, key: string, value: V): void {
    const undo = this.undo;
    if (undo) {
      const previous = map.get(key);
      logChange(undo, map, key, previous === undefined ? ABSENT : previous);
    }
    map.set(key, value);
  }
  /** `put` for a key whose present value the caller has just read (`previous`, undefined when absent): one lookup less. */
  putAfter<V>(map: Map<string, V>, key: string, previous: V | undefined, value: V): void {
    const undo = this.undo;
    if (undo) logChange(undo, map, key, previous === undefined ? ABSENT : previous);
    map.set(key, value);
  }

  /** Adds `amount` (> 0) to an account's balance as a debit (`debit` true) or a credit, logged while a posting is open. */
  addToBalance(account: string, amount: Fixed, debit: boolean): void {
    const balance = this.balances.get(account);
    if (balance === undefined) {
      this.putAfter(this.balances, account, undefined, { value: debit ? ZERO.plus(amount) : ZERO.minus(amount) });
      return;
    }
    const undo = this.undo;
    const before = balance.value;
    if (undo) logChange(undo, balance, IN_PLACE, before);
    balance.value = debit ? before.plus(amount) : before.minus(amount);
  }

  clone(): Books {
    const copy = new Books();
    // Balances change in place: the copy has balances of its own.
    copy.balances = new Map([...this.balances].map(([account, b]) => [account, { value: b.value }]));
    copy.materials = new Map(this.materials);
    copy.products = new Map(this.products);
    copy.hedges = new Map(this.hedges);
    copy.lastAt = this.lastAt;
    copy.maxKnownAt = this.maxKnownAt;
    copy.periodAllocated = this.periodAllocated;
    copy.periodSold = this.periodSold;
    copy.periodByProduct = new Map(this.periodByProduct);
    copy.revisionsDone = this.revisionsDone;
    return copy;
  }

  /** The books as plain JSON (decimal strings), for a store's checkpoint. */
  toSnapshot(): BooksSnapshot {
    const holdings = (map: ReadonlyMap<string, Holding>): Record<string, [string, string]> =>
      Object.fromEntries([...map].map(([id, h]) => [id, [h.qty.toFixed(), h.value.toFixed()]]));
    return {
      balances: Object.fromEntries([...this.balances].map(([k, b]) => [k, b.value.toFixed()])),
      materials: Object.fromEntries([...this.materials].map(([k, v]) => [k, v.toFixed()])),
      products: holdings(this.products),
      hedges: holdings(this.hedges),
      lastAt: Number.isFinite(this.lastAt) ? this.lastAt : null,
      maxKnownAt: Number.isFinite(this.maxKnownAt) ? this.maxKnownAt : null,
      periodAllocated: this.periodAllocated.toFixed(),
      periodSold: this.periodSold.toFixed(),
      periodByProduct: Object.fromEntries([...this.periodByProduct].map(([id, p]) => [id, [p.allocated.toFixed(), p.sold.toFixed()]])),
      revisionsDone: this.revisionsDone,
    };
  }

  /** Books from a snapshot written by toSnapshot. */
  static fromSnapshot(s: BooksSnapshot): Books {
    const d = (text: string): Fixed => Fixed.parse(text);
    const holdings = (o: Record<string, [string, string]>): Map<string, Holding> => new Map(Object.entries(o).map(([id, [q, v]]) => [id, { qty: d(q), value: d(v) }]));
    const books = new Books();
    books.balances = new Map(Object.entries(s.balances).map(([k, v]) => [k, { value: d(v) }]));
    books.materials = new Map(Object.entries(s.materials).map(([k, v]) => [k, d(v)]));
    books.products = holdings(s.products);
    books.hedges = holdings(s.hedges);
    books.lastAt = s.lastAt ?? -Infinity;
    books.maxKnownAt = s.maxKnownAt ?? -Infinity;
    books.periodAllocated = d(s.periodAllocated);
    books.periodSold = d(s.periodSold);
    books.periodByProduct = new Map(Object.entries(s.periodByProduct).map(([id, [a, so]]) => [id, { allocated: d(a), sold: d(so) }]));
    books.revisionsDone = s.revisionsDone;
    return books;
  }

  balance(account: string): Fixed {
    return this.balances.get(account)?.value ?? ZERO;
  }

  /** Applies a posted entry to the books. */
  apply(entry: Draft): void {
    for (const line of entry.lines) {
      if (line.debit.isZero()) this.addToBalance(line.account, line.credit, false);
      else this.addToBalance(line.account, line.debit, true);
    }
    for (const m of entry.movements) {
      if (m.kind === 'material') {
        this.put(this.materials, m.id, m.after);
      } else {
        const map = m.kind === 'product' ? this.products : this.hedges;
        const previous = map.get(m.id);
        const before = previous ?? NO_HOLDING;
        this.putAfter(map, m.id, previous, { qty: m.after, value: m.value === undefined ? before.value : before.value.plus(m.value) });
      }
    }
    const a = entry.actual;
    if (a) {
      if (a.kind === 'completion') {
        this.periodAllocated = this.periodAllocated.plus(a.allocated);
        const previous = this.periodByProduct.get(a.product);
        const p = previous ?? NO_PERIOD;
        this.putAfter(this.periodByProduct, a.product, previous, { allocated: p.allocated.plus(a.allocated), sold: p.sold });
      } else if (a.kind === 'sale') {
        this.periodSold = this.periodSold.plus(a.conversion);
        const previous = this.periodByProduct.get(a.product);
        const p = previous ?? NO_PERIOD;
        this.putAfter(this.periodByProduct, a.product, previous, { allocated: p.allocated, sold: p.sold.plus(a.conversion) });
      }
    }
    if (entry.eventType === 'close') {
      this.periodAllocated = ZERO;
      this.periodSold = ZERO;
      this.periodByProduct = new Map();
    }
    if (entry.at > this.lastAt) this.lastAt = entry.at;
    if (entry.knownAt > this.maxKnownAt) this.maxKnownAt = entry.knownAt;
  }
}

/** Accumulates signed amounts (debit positive) into journal lines, skipping zeros. */
class LineBuilder {
  readonly lines: DraftLine[] = [];
  debits = ZERO;
  credits = ZERO;
  /** Debits `signed` (a negative amount becomes a credit). */
  add(account: string, signed: Fixed): void {
    if (signed.isZero()) return;
    if (signed.isPositive()) this.debit(account, signed);
    else this.credit(account, signed.negated());
  }
  /** Credits `signed` (a negative amount becomes a debit). */
  cr(account: string, signed: Fixed): void {
    if (signed.isZero()) return;
    if (signed.isPositive()) this.credit(account, signed);
    else this.debit(account, signed.negated());
  }
  private debit(account: string, amount: Fixed): void {
    this.lines.push({ account, debit: amount, credit: ZERO });
    this.debits = this.debits.plus(amount);
  }
  private credit(account: string, amount: Fixed): void {
    this.lines.push({ account, debit: ZERO, credit: amount });
    this.credits = this.credits.plus(amount);
  }
}

/**
 * Whether lines `[0, n)` balance: the sum of the amounts (each > 0) whose `debit` is true
 * equals the sum of the others, what LineBuilder's running sums compare
 * (`debits.eq(credits)`), without a Fixed per line: a backtest checks three or four lines an
 * entry, and its running credit sum made about a Fixed an entry. The amounts are summed as
 * integers at their largest places, in doubles, while every scaled amount and every partial
 * sum is a safe integer: each step is then exact (a product or sum of safe integers that
 * leaves the safe range rounds to 2^53 or beyond, which the range test catches), so the
 * comparison is the exact one, as Fixed's sums make it. Anything else (a `big`, more places
 * than a power of ten in a double holds, a sum beyond 2^53) is summed in Fixed, in line order,
 * as LineBuilder sums it.
 */
export function linesBalance(amount: readonly Fixed[], debit: readonly boolean[], n: number): boolean {
  let places = 0;
  for (let k = 0; k < n; k += 1) {
    const a = amount[k]!;
    if (a.big !== undefined) return linesBalanceInFixed(amount, debit, n);
    if (a.e > places) places = a.e;
  }
  if (places >= POW10.length) return linesBalanceInFixed(amount, debit, n);
  let sum = 0;
  for (let k = 0; k < n; k += 1) {
    const a = amount[k]!;
    const scaled = a.m * POW10[places - a.e]!;
    sum = debit[k] ? sum + scaled : sum - scaled;
    if (!(scaled <= MAX_SAFE && scaled >= -MAX_SAFE && sum <= MAX_SAFE && sum >= -MAX_SAFE)) return linesBalanceInFixed(amount, debit, n);
  }
  return sum === 0;
}

/** linesBalance in Fixed: the debits and the credits summed in line order. */
function linesBalanceInFixed(amount: readonly Fixed[], debit: readonly boolean[], n: number): boolean {
  let debits = ZERO;
  let credits = ZERO;
  for (let k = 0; k < n; k += 1) {
    if (debit[k]) debits = debits.plus(amount[k]!);
    else credits = credits.plus(amount[k]!);
  }
  return debits.eq(credits);
}

/**
 * LineBuilder and mergeLines for the engine's direct path (Engine.writeEntry), in reused
 * arrays: the same lines, in the same order, and no object per line. Its balance check
 * (`balanced`) compares what LineBuilder's running sums compare, without a Fixed per line.
 */
class LineScratch {
  readonly account: string[] = [];
  /** The line's amount (> 0): its debit when `debit` is true, else its credit. */
  readonly amount: Fixed[] = [];
  readonly debit: boolean[] = [];
  n = 0;
  reset(): void {
    this.n = 0;
  }
  /** LineBuilder.add. */
  add(account: string, signed: Fixed): void {
    if (signed.isZero()) return;
    if (signed.isPositive()) this.line(account, signed, true);
    else this.line(account, signed.negated(), false);
  }
  /** LineBuilder.cr. */
  cr(account: string, signed: Fixed): void {
    if (signed.isZero()) return;
    if (signed.isPositive()) this.line(account, signed, false);
    else this.line(account, signed.negated(), true);
  }
  private line(account: string, amount: Fixed, debit: boolean): void {
    const k = this.n;
    this.account[k] = account;
    this.amount[k] = amount;
    this.debit[k] = debit;
    this.n = k + 1;
  }
  /** Whether the debits equal the credits (LineBuilder's `debits.eq(credits)`): see linesBalance. */
  balanced(): boolean {
    return linesBalance(this.amount, this.debit, this.n);
  }
  /** mergeLines in place: beyond three lines, those of one account on one side become one (at the first one's place). */
  merge(): void {
    if (this.n <= 3) return;
    const { account, amount, debit } = this;
    let merged = 0;
    for (let k = 0; k < this.n; k += 1) {
      let same = -1;
      for (let j = 0; j < merged; j += 1) {
        if (account[j] === account[k] && debit[j] === debit[k]) {
          same = j;
          break;
        }
      }
      if (same < 0) {
        account[merged] = account[k]!;
        amount[merged] = amount[k]!;
        debit[merged] = debit[k]!;
        merged += 1;
      } else amount[same] = amount[same]!.plus(amount[k]!);
    }
    this.n = merged;
  }
}

/** Context of one posting: the plant, the entries already posted for an event id, and whether an entry was reversed. */
export interface EngineContext {
  readonly plant: Plant;
  readonly entriesOf: (eventId: string) => readonly PostedDraft[];
  readonly isReversed: (seq: number) => boolean;
}

interface FlushPlan {
  readonly from: EpochMs;
  readonly until: EpochMs;
  readonly lines: readonly { readonly material: string; readonly factor: Fixed; readonly cost: Fixed; readonly version: string }[];
  readonly conversionCost: Fixed;
  readonly versions: EntryVersions;
}

/** A Flush being filled (see flushInto). */
interface MutableFlush {
  readonly materials: { material: string; qty: Fixed; value: Fixed }[];
  materialsTotal: Fixed;
  conversion: Fixed;
  versions: EntryVersions;
}

/**
 * Standard materials (qty x (1 + scrap) x standard) and conversion for `qty` units of the
 * plan's product, written into `into` (its material objects reused, the list cut to the plan's
 * lines). Money rounded to `places`.
 */
function flushInto(into: MutableFlush, plan: FlushPlan, qty: Fixed, places: number): MutableFlush {
  const materials = into.materials;
  let materialsTotal = ZERO;
  const lines = plan.lines;
  for (let k = 0; k < lines.length; k += 1) {
    const line = lines[k]!;
    const consumed = qty.times(line.factor);
    const value = consumed.times(line.cost).round(places);
    const m = materials[k];
    if (m === undefined) materials.push({ material: line.material, qty: consumed, value });
    else {
      m.material = line.material;
      m.qty = consumed;
      m.value = value;
    }
    materialsTotal = materialsTotal.plus(value);
  }
  if (materials.length !== lines.length) materials.length = lines.length;
  into.materialsTotal = materialsTotal;
  into.conversion = qty.times(plan.conversionCost).round(places);
  into.versions = plan.versions;
  return into;
}

interface Flush {
  readonly materials: { material: string; qty: Fixed; value: Fixed }[];
  readonly materialsTotal: Fixed;
  readonly conversion: Fixed;
  readonly versions: EntryVersions;
}

/**
 * Computes the entries of one event against `books` (not yet applied). Throws InputError for
 * impossible events (reversal of an unknown event) and, under `negativeStock: refuse`, a
 * ProcuraError E_NEGATIVE_STOCK naming the event and the shortfall.
 */
export class Engine {
  readonly plant: Plant;
  readonly trigger: Trigger;
  readonly places: number;
  private readonly plans = new Map<string, FlushPlan>();
  private readonly versionObjects = new Map<string, EntryVersions>();
  private readonly figures = new WeakMap<object, Fixed>();
  /** purchaseIsTrigger and completionIsTrigger of the plant's trigger, decided once (the trigger is text read from the plant file: comparing it is not free). */
  private readonly purchaseTrigger: boolean;
  private readonly completionTrigger: boolean;
  /**
   * Whether writeEntry's direct path applies (the purchase-completion-sale variant), decided
   * once: comparing the trigger's text on every purchase, completion and sale cost more than
   * the switch after it.
   */
  private readonly direct: boolean;
  constructor(plant: Plant) {
    this.plant = plant;
    this.trigger = plant.trigger;
    this.places = plant.moneyPlaces;
    this.purchaseTrigger = purchaseIsTrigger(plant.trigger);
    this.completionTrigger = completionIsTrigger(plant.trigger);
    this.direct = plant.trigger === 'purchase-completion-sale';
  }

  money(value: Fixed): Fixed {
    return value.round(this.places);
  }

  /** A plant figure (Decimal) in the engine's arithmetic, converted once per figure. */
  private fixed(value: import('../core/decimal.js').Decimal): Fixed {
    let f = this.figures.get(value);
    if (f === undefined) {
      f = Fixed.from(value);
      this.figures.set(value, f);
    }
    return f;
  }

  /** Standard-cost revisions due at or before `at` that have not been processed. */
  dueRevisions(books: Books, at: EpochMs): Revision[] {
    const due: Revision[] = [];
    const all = this.plant.revisions;
    for (let i = books.revisionsDone; i < all.length && all[i]!.at <= at; i += 1) due.push(all[i]!);
    return due;
  }

  /** The revaluation of materials on hand for one revision, or undefined when nothing is on hand (or materials are not carried). */
  revaluationDraft(books: Books, revision: Revision): Draft | undefined {
    if (!this.purchaseTrigger) return undefined;
    const qty = books.materials.get(revision.material) ?? ZERO;
    const amount = this.money(qty.times(this.fixed(revision.next.cost).minus(this.fixed(revision.previous.cost))));
    if (amount.isZero()) return undefined;
    const b = new LineBuilder();
    b.add(Account.materialsInProcess, amount);
    b.cr(Account.standardCostRevaluation, amount);
    return {
      eventId: `revaluation:${revision.next.version}`,
      eventType: 'revaluation',
      at: revision.at,
      knownAt: revision.at,
      lines: b.lines,
      movements: [],
      versions: { standardCost: `${revision.previous.version}->${revision.next.version}` },
    };
  }

  /** Entries (usually one) for `event` posted as `eventId`. */
  drafts(event: LedgerEvent, eventId: string, books: Books, ctx: EngineContext): Draft[] {
    return event.type === 'reverse' ? this.reverse(event, eventId, books, ctx) : [this.draft(event, eventId, books)];
  }

  /**
   * Writes the entry of a purchase, a completion, a sale, a conversion or a hedge mark straight
   * into `journal` and applies it to `books`: what `books.apply(d)` and `journal.push(d)` do
   * with `d = draft(event, eventId, books)`, the same figures in the same order, without the
   * Draft, its lines, movements and actual (a backtest posts a completion and a sale per product
   * and day, a purchase per fill, a conversion a month and, hedged, a mark a month per open
   * contract, and never reads them). Only for the purchase-completion-sale variant
   * (every bundled plant's); returns the entry's index, or
   * -1, having written nothing, when the event takes the general route: another variant or
   * event type, an event with a source line, an entry that does not balance or a movement that
   * would be flagged (draft's messages and refusals stay in one place). `eventId` a number n:
   * the event has no id and is the n-th posted (its id is "#n", see ColumnarJournal.beginEntry).
   * `type` is event.type, when the caller has read it already.
   */
  writeEntry(event: LedgerEvent, eventId: string | number, books: Books, journal: ColumnarJournal, type: LedgerEvent['type'] = event.type): number {
    if (!this.direct) return -1;
    // On `type` (the caller's read of event.type): each route then reads fields of events of its own type only.
    switch (type) {
      case 'completion':
        return this.writeCompletion(event as CompletionEvent, eventId, books, journal);
      case 'sale':
        return this.writeSale(event as SaleEvent, eventId, books, journal);
      case 'purchase':
        return this.writePurchase(event as PurchaseEvent, eventId, books, journal);
      case 'hedge-mark':
        return this.writeHedgeMark(event as HedgeMarkEvent, eventId, books, journal);
      case 'conversion':
        return this.writeConversion(event as ConversionEvent, eventId, books, journal);
      default:
        return -1;
    }
  }

  /** Scratch of writeEntry (one entry at a time). */
  private readonly scratch = new LineScratch();
  private readonly consumedAfter: Fixed[] = [];
  private readonly consumedQty: Fixed[] = [];
  /** Each consumed material's stock before the completion (undefined when it had none): the undo log's previous value, without a second lookup. */
  private readonly consumedBefore: (Fixed | undefined)[] = [];
  /** The last flush of writeEntry: a day's sale flushes the quantity its completion just did. */
  private readonly lastFlush: { product: string; qty: Fixed; plan: FlushPlan | undefined; flush: MutableFlush } = { product: '', qty: ZERO, plan: undefined, flush: { materials: [], materialsTotal: ZERO, conversion: ZERO, versions: NO_VERSIONS } };

  /**
   * flush(product, qty, at), the last result reused for the same product, quantity (the same
   * Fixed) and plan. Written into one object, refilled by the next flush here: its readers
   * (writeCompletion, writeSale) use it before they return and keep none of its lists.
   */
  private flushOnce(product: string, qty: Fixed, at: EpochMs): Flush {
    const last = this.lastFlush;
    const plan = this.planFor(product, at);
    if (last.qty === qty && last.product === product && last.plan === plan) return last.flush;
    last.product = product;
    last.qty = qty;
    last.plan = plan;
    flushInto(last.flush, plan, qty, this.places);
    return last.flush;
  }
  /** The last event quantity converted, and its Fixed (a day's completion and sale share one Decimal). */
  private lastQty: import('../core/decimal.js').Decimal | undefined;
  private lastQtyFixed: Fixed = ZERO;

  private qtyOf(d: import('../core/decimal.js').Decimal): Fixed {
    if (d !== this.lastQty) {
      this.lastQtyFixed = Fixed.from(d);
      this.lastQty = d;
    }
    return this.lastQtyFixed;
  }

  /** purchase() for purchase-completion-sale, written in place (see writeEntry). */
  private writePurchase(event: PurchaseEvent, eventId: string | number, books: Books, journal: ColumnarJournal): number {
    if (event.source !== undefined) return -1;
    const std = this.plant.standardCostAt(event.material, event.at);
    const qty = Fixed.from(event.qty);
    const price = qty.times(Fixed.from(event.unitPrice));
    const cost = this.money(event.fee ? price.plus(Fixed.from(event.fee)) : price);
    const standard = this.money(qty.times(this.fixed(std.cost)));
    const b = this.scratch;
    b.reset();
    b.add(Account.materialsInProcess, standard);
    b.add(Account.materialPriceVariance, cost.minus(standard));
    b.cr(event.paidFrom, cost);
    // materialMove(books, event.material, qty)
    const stock = books.materials;
    const held = stock.get(event.material);
    const after = (held ?? ZERO).plus(qty);
    if (qty.isNegative() && after.isNegative()) return -1;
    if (!b.balanced()) return -1;
    // books.apply (three lines at most: nothing to merge)
    this.applyLines(books);
    books.putAfter(stock, event.material, held, after);
    this.applyTimes(books, event);
    // journal.push
    const i = journal.beginEntry(event.at, event.knownAt, 'purchase', eventId);
    this.writeLines(journal);
    journal.movement('material', event.material, qty, after, undefined);
    journal.endMovements();
    journal.endEntry(i, this.standardVersions(std.version), 'purchase', event.material, qty, cost, event.reason, event.ref);
    return i;
  }

  /** completion() for purchase-completion-sale, written in place (see writeEntry). */
  private writeCompletion(event: CompletionEvent, eventId: string | number, books: Books, journal: ColumnarJournal): number {
    if (event.source !== undefined) return -1;
    const qty = this.qtyOf(event.qty);
    const f = this.flushOnce(event.product, qty, event.at);
    const total = f.materialsTotal.plus(f.conversion);
    const b = this.scratch;
    b.reset();
    b.add(Account.finishedGoods, total);
    const materials = f.materials;
    const after = this.consumedAfter;
    const consumed = this.consumedQty;
    const before = this.consumedBefore;
    const stock = books.materials;
    for (let k = 0; k < materials.length; k += 1) {
      const m = materials[k]!;
      b.cr(Account.materialsInProcess, m.value);
      // materialMove(books, m.material, m.qty.negated()), kept in `consumed` / `after` (and the stock it read in `before`).
      const moved = m.qty.negated();
      const held = stock.get(m.material);
      const a = (held ?? ZERO).plus(moved);
      if (moved.isNegative() && a.isNegative()) return -1;
      consumed[k] = moved;
      after[k] = a;
      before[k] = held;
    }
    b.cr(Account.conversionCostsAllocated, f.conversion);
    // Read once: nothing below changes the products map before the entry's own put.
    const holding = books.products.get(event.product);
    const productAfter = (holding ?? NO_HOLDING).qty.plus(qty);
    if (qty.isNegative() && productAfter.isNegative()) return -1;
    if (!b.balanced()) return -1;
    b.merge();
    // books.apply
    this.applyLines(books);
    // The stock each material had before (read above; a plan lists a material once, and nothing since changed the map): no second lookup to log it.
    for (let k = 0; k < materials.length; k += 1) books.putAfter(stock, materials[k]!.material, before[k], after[k]!);
    books.putAfter(books.products, event.product, holding, { qty: productAfter, value: (holding ?? NO_HOLDING).value.plus(total) });
    const allocated = f.conversion;
    books.periodAllocated = books.periodAllocated.plus(allocated);
    const period = books.periodByProduct.get(event.product);
    const p = period ?? NO_PERIOD;
    books.putAfter(books.periodByProduct, event.product, period, { allocated: p.allocated.plus(allocated), sold: p.sold });
    this.applyTimes(books, event);
    // journal.push
    const i = journal.beginEntry(event.at, event.knownAt, 'completion', eventId);
    this.writeLines(journal);
    for (let k = 0; k < materials.length; k += 1) {
      const m = materials[k]!;
      journal.movement('material', m.material, consumed[k]!, after[k]!, undefined);
    }
    journal.movement('product', event.product, qty, productAfter, total);
    journal.endMovements();
    journal.endEntry(i, f.versions, 'completion', event.product, qty, allocated, event.reason, event.ref);
    return i;
  }

  /**
   * What a sale of `qty` relieves from finished goods under completion triggers: the holding's
   * value pro rata (all of it when the whole holding is sold), the standard flush `f` when
   * nothing is held, and the flush of the excess on top of the holding when more is sold.
   */
  private relief(event: SaleEvent, qty: Fixed, f: Flush, holding: { readonly qty: Fixed; readonly value: Fixed }): Fixed {
    if (holding.qty.sign() <= 0) return f.materialsTotal.plus(f.conversion);
    if (qty.eq(holding.qty)) return holding.value;
    if (qty.lt(holding.qty)) return holding.value.mulDivRound(qty, holding.qty, this.places);
    const extra = this.flush(event.product, qty.minus(holding.qty), event.at);
    return holding.value.plus(extra.materialsTotal).plus(extra.conversion);
  }

  /** sale() for purchase-completion-sale, written in place (see writeEntry). */
  private writeSale(event: SaleEvent, eventId: string | number, books: Books, journal: ColumnarJournal): number {
    if (event.source !== undefined) return -1;
    const qty = this.qtyOf(event.qty);
    const f = this.flushOnce(event.product, qty, event.at);
    // Read once: nothing below changes the products map before the entry's own put.
    const held = books.products.get(event.product);
    const holding = held ?? NO_HOLDING;
    const relief = this.relief(event, qty, f, holding);
    const b = this.scratch;
    b.reset();
    b.add(Account.costOfGoodsSold, relief);
    b.cr(Account.finishedGoods, relief);
    const moved = qty.negated();
    const productAfter = holding.qty.plus(moved);
    if (moved.isNegative() && productAfter.isNegative()) return -1;
    const value = relief.negated();
    if (event.unitPrice !== undefined) {
      const revenue = this.money(qty.times(Fixed.from(event.unitPrice)));
      b.add(Account.accountsReceivable, revenue);
      b.cr(Account.salesRevenue, revenue);
    }
    if (!b.balanced()) return -1;
    b.merge();
    // books.apply
    this.applyLines(books);
    books.putAfter(books.products, event.product, held, { qty: productAfter, value: holding.value.plus(value) });
    const conversion = f.conversion;
    books.periodSold = books.periodSold.plus(conversion);
    const period = books.periodByProduct.get(event.product);
    const p = period ?? NO_PERIOD;
    books.putAfter(books.periodByProduct, event.product, period, { allocated: p.allocated, sold: p.sold.plus(conversion) });
    this.applyTimes(books, event);
    // journal.push
    const i = journal.beginEntry(event.at, event.knownAt, 'sale', eventId);
    this.writeLines(journal);
    journal.movement('product', event.product, moved, productAfter, value);
    journal.endMovements();
    journal.endEntry(i, f.versions, 'sale', event.product, qty, conversion, event.reason, event.ref);
    return i;
  }

  /** hedgeMark() written in place (see writeEntry): the static-hedge baseline marks its open contracts every month. */
  private writeHedgeMark(event: HedgeMarkEvent, eventId: string | number, books: Books, journal: ColumnarJournal): number {
    if (event.source !== undefined) return -1;
    const hedges = books.hedges;
    // Read once: nothing below changes the hedges map before the entry's own put.
    const held = hedges.get(event.instrument);
    const holding = held ?? NO_HOLDING;
    const delta = this.money(holding.qty.times(Fixed.from(event.price))).minus(holding.value);
    const b = this.scratch;
    b.reset();
    b.add(Account.hedgePositions, delta);
    b.cr(Account.hedgeGainsLosses, delta);
    if (!b.balanced()) return -1;
    // hedgeMove(books, event.instrument, ZERO, delta), when the mark moved the carrying value
    const moves = !delta.isZero();
    const after = holding.qty.plus(ZERO);
    // books.apply (two lines: nothing to merge)
    this.applyLines(books);
    if (moves) books.putAfter(hedges, event.instrument, held, { qty: after, value: holding.value.plus(delta) });
    this.applyTimes(books, event);
    // journal.push
    const i = journal.beginEntry(event.at, event.knownAt, 'hedge-mark', eventId);
    this.writeLines(journal);
    if (moves) journal.movement('hedge', event.instrument, ZERO, after, delta);
    journal.endMovements();
    journal.endEntry(i, NO_VERSIONS, undefined, undefined, ZERO, ZERO, event.reason, event.ref);
    return i;
  }

  /** draft()'s conversion written in place (see writeEntry): a month's conversion cost. */
  private writeConversion(event: ConversionEvent, eventId: string | number, books: Books, journal: ColumnarJournal): number {
    if (event.source !== undefined) return -1;
    const amount = this.money(Fixed.from(event.amount));
    const b = this.scratch;
    b.reset();
    b.add(Account.conversionCostsControl, amount);
    b.cr(Account.accruedConversionCosts, amount);
    if (!b.balanced()) return -1;
    // books.apply (a conversion's actual changes no period figure)
    this.applyLines(books);
    this.applyTimes(books, event);
    // journal.push
    const i = journal.beginEntry(event.at, event.knownAt, 'conversion', eventId);
    this.writeLines(journal);
    journal.endMovements();
    journal.endEntry(i, NO_VERSIONS, 'conversion', undefined, ZERO, amount, event.reason, event.ref);
    if (event.category !== undefined) journal.setCategory(i, event.category);
    return i;
  }

  /** The scratch lines into the books' balances (Books.apply's first loop). */
  private applyLines(books: Books): void {
    const b = this.scratch;
    for (let k = 0; k < b.n; k += 1) books.addToBalance(b.account[k]!, b.amount[k]!, b.debit[k]!);
  }


  /** Books.apply's last step: the latest at and knownAt. */
  private applyTimes(books: Books, event: LedgerEvent): void {
    if (event.at > books.lastAt) books.lastAt = event.at;
    if (event.knownAt > books.maxKnownAt) books.maxKnownAt = event.knownAt;
  }

  /** The scratch lines into the journal (ColumnarJournal.push's lines: the debit, or the credit negated). */
  private writeLines(journal: ColumnarJournal): void {
    const b = this.scratch;
    for (let k = 0; k < b.n; k += 1) {
      if (b.debit[k]) journal.line(b.account[k]!, b.amount[k]!);
      else journal.creditLine(b.account[k]!, b.amount[k]!);
    }
    journal.endLines();
  }

  /** The one entry of an event that is not a reversal (what `drafts` returns for it, without the list). */
  draft(event: Exclude<LedgerEvent, { type: 'reverse' }>, eventId: string, books: Books): Draft {
    switch (event.type) {
      case 'purchase':
        return this.purchase(event, eventId, books);
      case 'conversion': {
        const amount = this.money(Fixed.from(event.amount));
        const b = new LineBuilder();
        b.add(Account.conversionCostsControl, amount);
        b.cr(Account.accruedConversionCosts, amount);
        // category always present (undefined when absent): one hidden class for the conversion's actual, see finish.
        const actual: DraftActual = { kind: 'conversion', amount, category: event.category };
        return this.finish(event, eventId, 'conversion', b, NO_MOVEMENTS, NO_VERSIONS, books, actual);
      }
      case 'completion':
        return this.completion(event, eventId, books);
      case 'sale':
        return this.sale(event, eventId, books);
      case 'count':
        return this.count(event, eventId, books);
      case 'close':
        return this.close(event, eventId, books);
      case 'hedge':
        return this.hedge(event, eventId, books);
      case 'hedge-mark':
        return this.hedgeMark(event, eventId, books);
    }
  }

  private purchase(event: PurchaseEvent, eventId: string, books: Books): Draft {
    const std = this.plant.standardCostAt(event.material, event.at);
    const qty = Fixed.from(event.qty);
    const price = qty.times(Fixed.from(event.unitPrice));
    const cost = this.money(event.fee ? price.plus(Fixed.from(event.fee)) : price);
    const b = new LineBuilder();
    if (this.purchaseTrigger) {
      const standard = this.money(qty.times(this.fixed(std.cost)));
      b.add(Account.materialsInProcess, standard);
      b.add(Account.materialPriceVariance, cost.minus(standard));
      b.cr(event.paidFrom, cost);
    } else if (event.paidFrom === 'exchange_cash') {
      b.add(Account.accountsPayable, cost);
      b.cr(Account.exchangeCash, cost);
    }
    const movements = [this.materialMove(books, event.material, qty)];
    const actual: DraftActual = { kind: 'purchase', material: event.material, qty, amount: cost };
    return this.finish(event, eventId, 'purchase', b, movements, this.standardVersions(std.version), books, actual);
  }

  /**
   * The flush plan of a product at `at`: per BOM line the consumption factor qty x (1 + scrap)
   * and the standard cost, the conversion cost and the version ids, cached until the next
   * version change of any of them (a pure speed-up: the figures are the plant's).
   */
  private planFor(product: string, at: EpochMs): FlushPlan {
    const cached = this.plans.get(product);
    if (cached && at >= cached.from && at < cached.until) return cached;
    return this.newPlan(product, at);
  }

  /**
   * planFor's work when the cached plan does not cover `at` (a version change), in a function
   * of its own: its closure's variables made planFor allocate a context on every call, the
   * cached ones included (two a simulated day per run).
   */
  private newPlan(product: string, at: EpochMs): FlushPlan {
    const p = this.plant.products.get(product);
    if (!p) throw new InputError(`unknown product ${JSON.stringify(product)}`);
    const bom = this.plant.bomAt(product, at);
    const cc = this.plant.conversionCostAt(product, at);
    let from = -Infinity;
    let until = Infinity;
    const widen = (versions: readonly { from: EpochMs | null }[], chosen: { from: EpochMs | null }): void => {
      const i = versions.indexOf(chosen);
      if (chosen.from !== null) from = Math.max(from, chosen.from);
      const next = versions[i + 1];
      if (next?.from != null) until = Math.min(until, next.from);
    };
    widen(p.bom, bom);
    widen(p.conversionCost, cc);
    const lines = bom.lines.map((line) => {
      const std = this.plant.standardCostAt(line.material, at);
      widen(this.plant.materials.get(line.material)!.standardCost, std);
      return { material: line.material, factor: Fixed.from(line.scrap.isZero() ? line.qty : line.qty.times(line.scrap.plus(1))), cost: this.fixed(std.cost), version: std.version };
    });
    const plan: FlushPlan = {
      from,
      until,
      lines,
      conversionCost: this.fixed(cc.cost),
      versions: Object.freeze({ bom: bom.version, standardCost: lines.map((l) => l.version).join(','), conversionCost: cc.version }),
    };
    this.plans.set(product, plan);
    return plan;
  }

  /** One shared, frozen `{ standardCost }` object per version (entries keep a reference, not a copy). */
  private standardVersions(version: string): EntryVersions {
    let v = this.versionObjects.get(version);
    if (!v) this.versionObjects.set(version, (v = Object.freeze({ standardCost: version })));
    return v;
  }

  /** Standard materials (qty x (1 + scrap) x standard) and conversion for `qty` units of `product`. */
  private flush(product: string, qty: Fixed, at: EpochMs): Flush {
    return flushInto({ materials: [], materialsTotal: ZERO, conversion: ZERO, versions: NO_VERSIONS }, this.planFor(product, at), qty, this.places);
  }

  private completion(event: CompletionEvent, eventId: string, books: Books): Draft {
    const qty = Fixed.from(event.qty);
    const f = this.flush(event.product, qty, event.at);
    const b = new LineBuilder();
    const movements: DraftMovement[] = [];
    if (this.completionTrigger) {
      const relieve = this.trigger === 'purchase-completion-sale' ? Account.materialsInProcess : Account.accountsPayable;
      b.add(Account.finishedGoods, f.materialsTotal.plus(f.conversion));
      for (const m of f.materials) {
        b.cr(relieve, m.value);
        movements.push(this.materialMove(books, m.material, m.qty.negated()));
      }
      b.cr(Account.conversionCostsAllocated, f.conversion);
      movements.push(this.productMove(books, event.product, qty, f.materialsTotal.plus(f.conversion)));
    } else {
      movements.push(this.productMove(books, event.product, qty, undefined));
    }
    const allocated = this.completionTrigger ? f.conversion : ZERO;
    const actual: DraftActual = { kind: 'completion', product: event.product, qty, allocated };
    return this.finish(event, eventId, 'completion', b, movements, f.versions, books, actual);
  }

  private sale(event: SaleEvent, eventId: string, books: Books): Draft {
    const b = new LineBuilder();
    const movements: DraftMovement[] = [];
    const qty = Fixed.from(event.qty);
    const f = this.flush(event.product, qty, event.at);
    if (this.completionTrigger) {
      const holding = books.products.get(event.product) ?? NO_HOLDING;
      const relief = this.relief(event, qty, f, holding);
      b.add(Account.costOfGoodsSold, relief);
      b.cr(Account.finishedGoods, relief);
      movements.push(this.productMove(books, event.product, qty.negated(), relief.negated()));
    } else {
      const relieve = this.trigger === 'purchase-sale' ? Account.materialsInProcess : Account.accountsPayable;
      b.add(Account.costOfGoodsSold, f.materialsTotal.plus(f.conversion));
      for (const m of f.materials) {
        b.cr(relieve, m.value);
        movements.push(this.materialMove(books, m.material, m.qty.negated()));
      }
      b.cr(Account.conversionCostsAllocated, f.conversion);
      movements.push(this.productMove(books, event.product, qty.negated(), undefined));
    }
    if (event.unitPrice !== undefined) {
      const revenue = this.money(qty.times(Fixed.from(event.unitPrice)));
      b.add(Account.accountsReceivable, revenue);
      b.cr(Account.salesRevenue, revenue);
    }
    const actual: DraftActual = { kind: 'sale', product: event.product, qty, conversion: f.conversion };
    return this.finish(event, eventId, 'sale', b, movements, f.versions, books, actual);
  }

  private count(event: CountEvent, eventId: string, books: Books): Draft {
    const b = new LineBuilder();
    const counted = Fixed.from(event.qty);
    if (event.material !== undefined) {
      const book = books.materials.get(event.material) ?? ZERO;
      const diff = counted.minus(book);
      const std = this.plant.standardCostAt(event.material, event.at);
      const amount = this.money(diff.times(this.fixed(std.cost)));
      b.add(this.purchaseTrigger ? Account.materialsInProcess : Account.accountsPayable, amount);
      b.cr(Account.materialUsageVariance, amount);
      const movements = diff.isZero() ? NO_MOVEMENTS : [this.materialMove(books, event.material, diff)];
      return this.finish(event, eventId, 'count', b, movements, this.standardVersions(std.version), books);
    }
    const product = event.product!;
    const holding = books.products.get(product) ?? NO_HOLDING;
    const diff = counted.minus(holding.qty);
    if (!this.completionTrigger) {
      const movements = diff.isZero() ? NO_MOVEMENTS : [this.productMove(books, product, diff, undefined)];
      return this.finish(event, eventId, 'count', [], movements, NO_VERSIONS, books);
    }
    let amount: Fixed;
    let versions: EntryVersions = {};
    if (counted.isZero()) amount = holding.value.negated();
    else if (holding.qty.isPositive()) amount = diff.mulDivRound(holding.value, holding.qty, this.places);
    else {
      const f = this.flush(product, diff, event.at);
      amount = f.materialsTotal.plus(f.conversion);
      versions = f.versions;
    }
    b.add(Account.finishedGoods, amount);
    b.cr(Account.finishedGoodsCountVariance, amount);
    const movements = diff.isZero() && amount.isZero() ? NO_MOVEMENTS : [this.productMove(books, product, diff, amount)];
    return this.finish(event, eventId, 'count', b, movements, versions, books);
  }

  /**
   * Period close. Conversion costs control (actual) is closed against conversion costs
   * allocated (standard); the difference (under-allocated: debit) goes to
   *
   * - `writeoff`: cost of goods sold;
   * - `prorate`: finished goods and cost of goods sold in proportion to the standard conversion
   *   cost each received this period. Cost of goods sold's weight is the standard conversion of
   *   units sold since the last close. Each product's weight is the standard conversion
   *   allocated to it at completion since the last close minus that of its units sold since
   *   then, floored at zero (what it received this period and still holds), counted only for
   *   products with units on hand; finished goods' weight is the sum over products (for one
   *   product: allocated minus sold). RIP never holds conversion cost, so it gets nothing. In
   *   purchase-sale and sale, conversion is never inventoried and prorate equals writeoff.
   *   Parts are split with `allocate`, so they sum exactly; finished goods' part is spread over
   *   the products by the same weights, so a product that received no conversion this period
   *   gets none of this period's difference.
   *
   * The close entry's knownAt is the latest knownAt posted so far (a write-off is not known
   * before the invoices it closes).
   */
  private close(event: LedgerEvent, eventId: string, books: Books): Draft {
    const control = books.balance(Account.conversionCostsControl);
    const allocatedBalance = books.balance(Account.conversionCostsAllocated);
    const difference = control.plus(allocatedBalance);
    const b = new LineBuilder();
    b.cr(Account.conversionCostsAllocated, allocatedBalance);
    b.cr(Account.conversionCostsControl, control);
    const movements: DraftMovement[] = [];
    const weighted: [string, Fixed][] = [];
    let fgWeight = ZERO;
    if (this.plant.close === 'prorate' && this.completionTrigger) {
      for (const [id, p] of books.periodByProduct) {
        const weight = p.allocated.minus(p.sold);
        const held = books.products.get(id);
        if (weight.isPositive() && held !== undefined && held.qty.isPositive()) {
          weighted.push([id, weight]);
          fgWeight = fgWeight.plus(weight);
        }
      }
    }
    const cogsWeight = books.periodSold.isPositive() ? books.periodSold : ZERO;
    if (fgWeight.isZero()) {
      b.add(Account.costOfGoodsSold, difference);
    } else {
      // allocate (core/decimal) splits so that parts sum exactly; a close is rare, so Decimal here.
      const split = (total: Fixed, weights: readonly Fixed[]): Fixed[] =>
        allocate(total.toDecimal(), weights.map((w) => w.toDecimal()), this.places).map((part) => Fixed.from(part));
      const [fgPart, cogsPart] = split(difference, [fgWeight, cogsWeight]) as [Fixed, Fixed];
      b.add(Account.finishedGoods, fgPart);
      b.add(Account.costOfGoodsSold, cogsPart);
      const parts = split(fgPart, weighted.map(([, w]) => w));
      weighted.forEach(([id], i) => {
        const part = parts[i]!;
        if (!part.isZero()) movements.push(this.productMove(books, id, ZERO, part));
      });
    }
    const draft = this.finish(event, eventId, 'close', b, movements, NO_VERSIONS, books);
    // The write-off depends on every conversion figure of the period: it is known when the last of them is.
    return books.maxKnownAt > draft.knownAt ? { ...draft, knownAt: books.maxKnownAt } : draft;
  }

  /**
   * Spot-style hedge accounting in exchange_cash: a trade in the position's direction adds
   * qty x price to hedge_positions; a trade against it relieves the carrying value at the
   * average carrying price, and what is left between cash, fees and carrying value is realised
   * in hedge_gains_losses. Fees go to trading_fees.
   */
  private hedge(event: HedgeEvent, eventId: string, books: Books): Draft {
    const holding = books.hedges.get(event.instrument) ?? NO_HOLDING;
    const qty = Fixed.from(event.qty);
    const price = Fixed.from(event.price);
    const fee = event.fee ? this.money(Fixed.from(event.fee)) : ZERO;
    const amount = this.money(qty.times(price));
    let positionDelta: Fixed;
    const reduces = !holding.qty.isZero() && holding.qty.sign() !== qty.sign();
    if (!reduces) positionDelta = amount;
    else {
      const closing = Fixed.min(qty.abs(), holding.qty.abs());
      const relieved = closing.eq(holding.qty.abs()) ? holding.value : holding.value.mulDivRound(closing, holding.qty.abs(), this.places);
      const opening = qty.abs().minus(closing);
      const opened = opening.isZero() ? ZERO : this.money(qty.isNegative() ? opening.times(price).negated() : opening.times(price));
      positionDelta = opened.minus(relieved);
    }
    const cashDelta = amount.negated().minus(fee);
    const gainLoss = positionDelta.plus(cashDelta).plus(fee).negated();
    const b = new LineBuilder();
    b.add(Account.hedgePositions, positionDelta);
    b.add(Account.tradingFees, fee);
    b.add(Account.exchangeCash, cashDelta);
    b.add(Account.hedgeGainsLosses, gainLoss);
    const movements = [this.hedgeMove(books, event.instrument, qty, positionDelta)];
    return this.finish(event, eventId, 'hedge', b, movements, NO_VERSIONS, books);
  }

  private hedgeMark(event: HedgeMarkEvent, eventId: string, books: Books): Draft {
    const holding = books.hedges.get(event.instrument) ?? NO_HOLDING;
    const delta = this.money(holding.qty.times(Fixed.from(event.price))).minus(holding.value);
    const b = new LineBuilder();
    b.add(Account.hedgePositions, delta);
    b.cr(Account.hedgeGainsLosses, delta);
    const movements = delta.isZero() ? NO_MOVEMENTS : [this.hedgeMove(books, event.instrument, ZERO, delta)];
    return this.finish(event, eventId, 'hedge-mark', b, movements, NO_VERSIONS, books);
  }

  private reverse(event: LedgerEvent & { type: 'reverse' }, eventId: string, books: Books, ctx: EngineContext): Draft[] {
    const where: Where = { ...(event.source ?? {}), field: 'of' };
    const originals = ctx.entriesOf(event.of);
    if (originals.length === 0) throw new InputError(`reversal of unknown event ${JSON.stringify(event.of)}`, where);
    if (originals.some((e) => e.eventType === 'reverse')) throw new InputError(`${JSON.stringify(event.of)} is itself a reversal; post the original again under a new id instead`, where);
    if (originals.some((e) => ctx.isReversed(e.seq))) throw new InputError(`event ${JSON.stringify(event.of)} is already reversed`, where);
    // Movements are applied one original entry at a time so that `after` stays exact.
    const work = books.clone();
    const drafts: Draft[] = [];
    for (const original of originals) {
      const lines = original.lines.map((l) => ({ account: l.account, debit: l.credit, credit: l.debit }));
      const movements = original.movements.map((m) => {
        const value = m.value === undefined ? undefined : m.value.negated();
        if (m.kind === 'material') return this.materialMove(work, m.id, m.qty.negated());
        if (m.kind === 'product') return this.productMove(work, m.id, m.qty.negated(), value);
        return this.hedgeMove(work, m.id, m.qty.negated(), value!);
      });
      const draft = this.finish(event, eventId, 'reverse', lines, movements, original.versions, work, negateActual(original.actual), original.seq);
      drafts.push(draft);
      work.apply(draft);
    }
    return drafts;
  }

  private materialMove(books: Books, id: string, qty: Fixed): DraftMovement {
    return { kind: 'material', id, qty, after: (books.materials.get(id) ?? ZERO).plus(qty) };
  }
  private productMove(books: Books, id: string, qty: Fixed, value: Fixed | undefined): DraftMovement {
    const after = (books.products.get(id) ?? NO_HOLDING).qty.plus(qty);
    return value === undefined ? { kind: 'product', id, qty, after } : { kind: 'product', id, qty, after, value };
  }
  private hedgeMove(books: Books, id: string, qty: Fixed, value: Fixed): DraftMovement {
    return { kind: 'hedge', id, qty, after: (books.hedges.get(id) ?? NO_HOLDING).qty.plus(qty), value };
  }

  /** Builds the draft, checks it balances and applies the negative-stock policy. */
  private finish(
    event: LedgerEvent,
    eventId: string,
    eventType: EntryType,
    lines: LineBuilder | DraftLine[],
    movements: readonly DraftMovement[],
    versions: EntryVersions,
    books: Books,
    actual?: DraftActual,
    reverses?: number,
  ): Draft {
    let list: DraftLine[];
    if (lines instanceof LineBuilder) {
      if (!lines.debits.eq(lines.credits)) {
        throw new ProcuraError(ErrorCode.internal, `entry for ${eventId} does not balance: debits ${lines.debits.toFixed()}, credits ${lines.credits.toFixed()}`, event.source ?? {});
      }
      list = mergeLines(lines.lines);
    } else list = lines; // reversal: the swapped lines of a balanced entry
    let flags: string[] | undefined;
    for (const m of movements) {
      if (m.kind === 'hedge' || !m.qty.isNegative() || !m.after.isNegative()) continue;
      const before = m.after.minus(m.qty);
      const short = m.after.negated();
      const message = `${m.kind} ${m.id} short ${short.toFixed()} (book ${before.toFixed()}, needed ${m.qty.negated().toFixed()})`;
      if (this.plant.negativeStock === 'refuse') {
        throw new ProcuraError(
          ErrorCode.negativeStock,
          `${event.type} ${eventId} at ${formatTime(event.at)} would drive ${message}; refused (negativeStock: refuse)`,
          { ...(event.source ?? {}), field: 'qty' },
        );
      }
      (flags ??= []).push(`negative-stock: ${message}`);
    }
    // Every field in one literal, an absent one undefined: each draft has one hidden class. Fields
    // added only when present gave a hidden class per combination (an actual, a ref, a reason,
    // flags...), and the journal's push and the books' apply, optimised for the combinations met
    // first, were deoptimised ("wrong map") each time the next run met another.
    return {
      eventId,
      eventType,
      at: event.at,
      knownAt: event.knownAt,
      lines: list,
      movements,
      versions,
      actual: actual || undefined,
      ref: event.ref,
      reason: event.reason,
      flags,
      reverses,
      source: event.source || undefined,
    };
  }
}

function negateActual(actual: DraftActual | undefined): DraftActual | undefined {
  if (!actual) return undefined;
  switch (actual.kind) {
    case 'purchase':
      return { ...actual, qty: actual.qty.negated(), amount: actual.amount.negated() };
    case 'conversion':
      return { ...actual, amount: actual.amount.negated() };
    case 'completion':
      return { ...actual, qty: actual.qty.negated(), allocated: actual.allocated.negated() };
    case 'sale':
      return { ...actual, qty: actual.qty.negated(), conversion: actual.conversion.negated() };
  }
}

/** Merges lines of the same account and side (a BOM of several materials credits RIP once per material otherwise). */
function mergeLines(lines: DraftLine[]): DraftLine[] {
  if (lines.length <= 3) return lines;
  const merged: DraftLine[] = [];
  for (const line of lines) {
    const same = merged.findIndex((m) => m.account === line.account && m.debit.isZero() === line.debit.isZero());
    if (same < 0) merged.push(line);
    else {
      const m = merged[same]!;
      merged[same] = { account: m.account, debit: m.debit.plus(line.debit), credit: m.credit.plus(line.credit) };
    }
  }
  return merged;
}
