/**
 * The columnar journal: entries kept as columns of typed arrays (amounts and quantities as
 * scaled integers, `Fixed`'s mantissa and places), strings interned, rare fields in sparse
 * maps. About a hundred bytes an entry instead of a graph of objects; a JournalEntry (decimal.js
 * values) is materialised only when someone reads one.
 *
 * Hashes are not computed when entries are added: `seal` computes the chain up to an entry the
 * first time someone asks for a hash (a materialised entry's `hash`, `prevHash` and
 * `eventHash` are getters), so replay and backtests, which never look, never pay for it. A
 * durable store computes the hashes itself as it writes and records them with `setSealed`.
 *
 * The same class holds a posting's batch (what the ledger hands to a store) and the memory
 * store's whole journal.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { Fixed } from '../core/fixed.js';
import type { EpochMs } from '../core/time.js';
import type { Draft, DraftActual, DraftMovement } from './engine.js';
import { objectArray } from '../core/arrays.js';
import { Interned, f64, i32, u16, u32, u8, type Column } from './columns.js';
import { entryHash, eventRecordHash, GENESIS_HASH, type Actual, type EntryType, type EntryVersions, type EventRecord, type JournalEntry, type JournalLine, type Movement } from './journal.js';

const ENTRY_TYPES: readonly EntryType[] = ['purchase', 'conversion', 'completion', 'sale', 'count', 'close', 'reverse', 'hedge', 'hedge-mark', 'revaluation'];
const TYPE_CODE = new Map(ENTRY_TYPES.map((t, i) => [t, i]));
const KINDS = ['material', 'product', 'hedge'] as const;
const KIND_CODE = { material: 0, product: 1, hedge: 2 } as const;
const HAS_VALUE = 4;
const ACTUAL_KINDS = [undefined, 'purchase', 'conversion', 'completion', 'sale'] as const;
const ACTUAL_CODE = { purchase: 1, conversion: 2, completion: 3, sale: 4 } as const;

/** Strings and version objects shared by the journals of one ledger (so batches append without renumbering). */
export class JournalTables {
  readonly names = new Interned();
  readonly ids = new Interned();
  readonly files = new Interned();
  readonly versions: EntryVersions[] = [{}];
  private readonly versionIndex = new Map<EntryVersions, number>();
  private readonly versionKeys = new Map<string, number>();

  versionId(v: EntryVersions): number {
    const id = this.versionIndex.get(v);
    return id !== undefined ? id : this.newVersionId(v);
  }

  /**
   * versionId for an object not seen yet (a version change), in a function of its own: version
   * objects come in several shapes, and reading the first of a new shape inside versionId
   * threw its optimised code away ("wrong map").
   */
  private newVersionId(v: EntryVersions): number {
    const key = `${v.bom ?? ''}\u0000${v.standardCost ?? ''}\u0000${v.conversionCost ?? ''}`;
    let id = this.versionKeys.get(key);
    if (id === undefined) {
      id = this.versions.length;
      this.versions.push(Object.freeze({ ...v }));
      this.versionKeys.set(key, id);
    }
    if (this.versionIndex.size < 10_000) this.versionIndex.set(v, id);
    return id;
  }
}

/** Largest |m| packed (see FixedColumn): m·32 + e stays below 2^53, an exact double. */
const PACK_LIMIT = 2 ** 48;
/** Places packed (five bits). */
const PACK_PLACES = 32;
/** Rows whose pushed Fixed a FixedColumn keeps (a power of two; see FixedColumn.recent). */
const RECENT = 32;
const RECENT_MASK = RECENT - 1;

/**
 * A column of Fixed values, each packed into one float64: `m · 32 + e` (the mantissa and its
 * places; |m| < 2^48 and e < 32, so the packed value is an integer below 2^53, exact), read
 * back as m = floor(v / 32), e = v - 32·m (a division by a power of two, a floor and a
 * difference of integers below 2^53: exact).
 * One push and 8 bytes a value: the mantissa and places in two columns cost a second push and a
 * ninth byte for each of the million-odd values the main job's four runs write (and on this
 * kind of machine every fresh page of a journal costs a page fault). A value that does not fit
 * (a `big`, |m| >= 2^48 or e >= 32) is kept in `bigs`, its slot NaN.
 */
export class FixedColumn {
  private readonly v = f64();
  private readonly bigs = new Map<number, Fixed>();
  /**
   * The Fixed last pushed into each row modulo RECENT (made at the first push): `get` hands a
   * recent row's own object back when its packed value is the row's, instead of a new Fixed.
   * The cost feed reads back every movement and actual the day's postings wrote (about 330,000
   * Fixed objects in the main job, 1.6 % of what it allocates). Checked by value, so a slot
   * written by another row (one truncated, or appended over) is only a miss, never wrong.
   */
  private recent: Fixed[] | undefined = undefined;

  get length(): number {
    return this.v.length;
  }
  push(value: Fixed): void {
    const m = value.m;
    const e = value.e;
    if (value.big === undefined && e < PACK_PLACES && m < PACK_LIMIT && m > -PACK_LIMIT) {
      const i = this.v.length;
      this.v.push(m * PACK_PLACES + e);
      // Not a zero: one of -0 would come back with its sign, where get gives 0.
      if (m !== 0) (this.recent ??= new Array<Fixed>(RECENT).fill(Fixed.ZERO))[i & RECENT_MASK] = value;
    } else this.pushBig(value);
  }
  /** push(value.negated()), without making the negated value. */
  pushNegated(value: Fixed): void {
    const m = value.m;
    const e = value.e;
    if (value.big === undefined && e < PACK_PLACES && m < PACK_LIMIT && m > -PACK_LIMIT) this.v.push((m === 0 ? 0 : -m) * PACK_PLACES + e);
    else this.pushBig(value.negated());
  }
  /** A value that does not pack: kept whole, its slot NaN. */
  private pushBig(value: Fixed): void {
    this.bigs.set(this.v.length, value);
    this.v.push(NaN);
  }
  get(i: number): Fixed {
    const v = this.v.get(i);
    if (v !== v) return this.bigs.get(i)!;
    const recent = this.recent;
    if (recent !== undefined) {
      // A pushed value packs (big undefined, m and e in range), so m x 32 + e is exact: equal packed values, equal m and e.
      const r = recent[i & RECENT_MASK]!;
      if (r.m * PACK_PLACES + r.e === v && r.big === undefined) return r;
    }
    const m = Math.floor(v / PACK_PLACES);
    // `| 0`: the places as a small integer (a double there would turn Fixed's `e` field into a boxed double for every Fixed).
    return Fixed.of(m, (v - m * PACK_PLACES) | 0);
  }
  /** The value's text (what the canonical body writes). */
  text(i: number): string {
    return this.get(i).toFixed();
  }
  truncate(n: number): void {
    for (const k of [...this.bigs.keys()]) if (k >= n) this.bigs.delete(k);
    this.v.truncate(n);
  }
  appendFrom(other: FixedColumn, from: number, count: number): void {
    const base = this.v.length;
    for (const [k, v] of other.bigs) if (k >= from && k < from + count) this.bigs.set(base + k - from, v);
    this.v.appendFrom(other.v, from, count);
  }
  get bytes(): number {
    return this.v.bytes;
  }
}

const NO_INDEXES: readonly number[] = Object.freeze([]);

/** Positions remembered per entry type by NameSlots (the last one is an actual's name). */
const SLOTS_PER_TYPE = 8;
const ACTUAL_SLOT = SLOTS_PER_TYPE - 1;

/**
 * The interned ids of the names an entry writes (its lines' accounts, its movements' materials,
 * products and instruments, its actual's), remembered by entry type and position: entries of
 * one type name the same accounts in the same order (a completion finished goods, materials in
 * process, conversion costs allocated) and mostly the same materials and products, so the id
 * is usually the one the last such entry used, found by comparing the name with the one kept.
 * A backtest's entries write five or six names each, and a Map lookup for each was a tenth of
 * what writing them cost. Any other name (a miss, a position beyond the slots) is looked up.
 */
class NameSlots {
  private readonly names: (string | undefined)[] = new Array<string | undefined>(ENTRY_TYPES.length * SLOTS_PER_TYPE).fill(undefined);
  private readonly ids: number[] = new Array<number>(ENTRY_TYPES.length * SLOTS_PER_TYPE).fill(0);

  constructor(private readonly interned: Interned) {}

  /** The id of `name` (interned), `slot` being the entry type's first slot plus the position. */
  id(slot: number, name: string): number {
    if (this.names[slot] === name) return this.ids[slot]!;
    const id = this.interned.id(name);
    if (slot < this.names.length) {
      this.names[slot] = name;
      this.ids[slot] = id;
    }
    return id;
  }
}

/**
 * Sparse per-entry values (absent for most entries): the indexes that have one, in increasing
 * order, and their values. Entries are written in index order, so setting the newest entry's
 * value is two pushes; a Map grown by one key per entry (a backtest's fill references, about
 * 11,000 in a jit run) cost several times as much per key. A read searches (O(log n)),
 * starting from where the last read found its index (readers walk entries in order).
 */
class Sparse<T> {
  private readonly keys: number[] = [];
  private readonly values: T[] = objectArray();
  /** Position in `keys` of the last read's index (a hint: readers go forward). */
  private hint = 0;

  get size(): number {
    return this.keys.length;
  }
  get(i: number): T | undefined {
    const keys = this.keys;
    const n = keys.length;
    if (n === 0 || i > keys[n - 1]!) return undefined;
    const k = this.find(i);
    return k < n && keys[k] === i ? this.values[k] : undefined;
  }
  set(i: number, value: T): void {
    const keys = this.keys;
    const n = keys.length;
    if (n === 0 || i > keys[n - 1]!) {
      keys.push(i);
      this.values.push(value);
      return;
    }
    const k = this.find(i);
    if (keys[k] === i) this.values[k] = value;
    else {
      keys.splice(k, 0, i);
      this.values.splice(k, 0, value);
    }
  }
  /** Position of the first key >= i (i <= the last key). */
  private find(i: number): number {
    const keys = this.keys;
    let k = this.hint;
    // The next entry of a walk in order: the hint, or the key after it.
    if (k < keys.length && keys[k]! >= i && (k === 0 || keys[k - 1]! < i)) return k;
    if (k + 1 < keys.length && keys[k + 1]! >= i && keys[k]! < i) return (this.hint = k + 1);
    let lo = 0;
    let hi = keys.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    return (this.hint = lo);
  }
  /** The indexes from `n` on that have a value, less `n` (a shared empty list when none). */
  indexesFrom(n: number): readonly number[] {
    const keys = this.keys;
    if (keys.length === 0 || keys[keys.length - 1]! < n) return NO_INDEXES;
    const out: number[] = [];
    for (let k = this.find(n); k < keys.length; k += 1) out.push(keys[k]! - n);
    return out;
  }
  truncate(n: number): void {
    const keys = this.keys;
    if (keys.length === 0 || keys[keys.length - 1]! < n) return;
    const k = this.find(n);
    keys.length = k;
    this.values.length = k;
    this.hint = 0;
  }
  appendFrom(other: Sparse<T>, from: number, count: number, base: number, convert: (value: T) => T = (v) => v): void {
    const keys = other.keys;
    for (let k = 0; k < keys.length; k += 1) {
      const key = keys[k]!;
      if (key >= from && key < from + count) this.set(base + key - from, convert(other.values[k]!));
    }
  }
}

/** A movement's kind, id and quantity (see ColumnarJournal.movementQtysOf). */
export interface MovementQty {
  readonly kind: (typeof KINDS)[number];
  readonly id: string;
  readonly qty: Fixed;
}

function decimal(value: Fixed): Decimal {
  return value.toDecimal();
}

/** The columnar journal (see the module comment). Indexes are 0-based; seq = firstSeq + index. */
export class ColumnarJournal {
  readonly firstSeq: number;
  readonly tables: JournalTables;
  // entries
  private readonly at = f64();
  private readonly type = u8();
  /** > 0: interned event id; < 0: `#<-n>` (events posted without an id). */
  private readonly event = i32();
  private readonly lineEnd = u32();
  private readonly moveEnd = u32();
  private readonly version = u16();
  private readonly actualKind = u8();
  private readonly actualName = u16();
  private readonly actualQty = new FixedColumn();
  private readonly actualAmount = new FixedColumn();
  private readonly reason = u16();
  private readonly knownAt = new Sparse<number>();
  private readonly ref = new Sparse<string>();
  private readonly flags = new Sparse<readonly string[]>();
  private readonly reverses = new Sparse<number>();
  private readonly category = new Sparse<string>();
  private readonly plantHash = new Sparse<string>();
  /**
   * Where an imported event came from (interned file, line): sparse, as an event posted by a
   * backtest has none (two dense columns cost two pushes and six zero bytes an entry).
   */
  private readonly sourceFile = new Sparse<number>();
  private readonly sourceLine = new Sparse<number>();
  /** The event's own knownAt where the entry's differs (a close is known when its last figure is). */
  private readonly eventKnownAt = new Sparse<number>();
  // lines
  private readonly lineAccount = u16();
  private readonly lineAmount = new FixedColumn();
  // movements
  private readonly moveKind = u8();
  private readonly moveName = u16();
  private readonly moveQty = new FixedColumn();
  private readonly moveAfter = new FixedColumn();
  private readonly moveValue = new FixedColumn();
  // hash chain (filled by seal or setSealed): 32 bytes per sealed entry
  private readonly hashBytes = u8();
  private sealedCount = 0;
  private readonly eventHashes = new Sparse<string>();
  /** Digests of events posted with an id (what an idempotency key must keep meaning). */
  readonly digests = new Map<string, string>();
  /** Where sealing starts: the hash before the first entry. */
  private readonly previousHash: string;
  /** The ids of the names lines and movements (and actuals) write, by entry type and position (see NameSlots). */
  private readonly lineNames: NameSlots;
  private readonly moveNames: NameSlots;
  /** The entry begun last: its type's first slot, and the positions of its next line and movement. */
  private slotBase = 0;
  private linePos = 0;
  private movePos = 0;

  constructor(firstSeq = 1, tables = new JournalTables(), previousHash = GENESIS_HASH) {
    this.firstSeq = firstSeq;
    this.tables = tables;
    this.previousHash = previousHash;
    this.lineNames = new NameSlots(tables.names);
    this.moveNames = new NameSlots(tables.names);
  }

  get size(): number {
    return this.at.length;
  }

  /** Appends one entry computed by the engine; returns its index. */
  push(d: Draft): number {
    const i = this.beginEntry(d.at, d.knownAt, d.eventType, d.eventId);
    for (const l of d.lines) this.line(l.account, l.credit.isZero() ? l.debit : l.credit.negated());
    this.endLines();
    for (const m of d.movements) this.movement(m.kind, m.id, m.qty, m.after, m.value);
    this.endMovements();
    this.version.push(this.tables.versionId(d.versions));
    const a = d.actual;
    if (a) {
      switch (a.kind) {
        case 'purchase':
          this.actual(ACTUAL_CODE.purchase, a.material, a.qty, a.amount);
          break;
        case 'conversion':
          this.actual(ACTUAL_CODE.conversion, undefined, Fixed.ZERO, a.amount);
          if (a.category !== undefined) this.category.set(i, a.category);
          break;
        case 'completion':
          this.actual(ACTUAL_CODE.completion, a.product, a.qty, a.allocated);
          break;
        case 'sale':
          this.actual(ACTUAL_CODE.sale, a.product, a.qty, a.conversion);
          break;
      }
    } else {
      this.actual(0, undefined, Fixed.ZERO, Fixed.ZERO);
    }
    if (d.source) {
      this.sourceFile.set(i, this.tables.files.id(d.source.file));
      this.sourceLine.set(i, d.source.line);
    }
    this.reason.push(this.tables.names.id(d.reason));
    if (d.ref !== undefined) this.ref.set(i, d.ref);
    if (d.flags !== undefined) this.flags.set(i, d.flags);
    if (d.reverses !== undefined) this.reverses.set(i, d.reverses);
    return i;
  }

  /*
   * An entry written in parts, without a Draft (the engine's direct path for a backtest's
   * purchases, completions, sales, conversions and hedge marks, see Engine.writeEntry): beginEntry, its lines, endLines, its movements,
   * endMovements, then endEntry. `push` writes every entry through the same parts, so both
   * routes lay out the same columns.
   */

  /** Starts an entry; returns its index. A number n for `eventId` is the id "#n" (an event posted without an id), stored without making the text. */
  beginEntry(at: EpochMs, knownAt: EpochMs, eventType: EntryType, eventId: string | number): number {
    const i = this.at.length;
    this.at.push(at);
    if (knownAt !== at) this.knownAt.set(i, knownAt);
    const type = TYPE_CODE.get(eventType)!;
    this.type.push(type);
    this.slotBase = type * SLOTS_PER_TYPE;
    this.linePos = 0;
    this.movePos = 0;
    this.event.push(typeof eventId === 'number' ? -eventId : eventId.charCodeAt(0) === 35 /* # */ ? -Number(eventId.slice(1)) : this.tables.ids.id(eventId));
    return i;
  }
  /** A line of the entry begun last: the debit, or the credit negated. */
  line(account: string, signed: Fixed): void {
    this.lineAccount.push(this.lineNameId(account));
    this.lineAmount.push(signed);
  }
  /** line(account, amount.negated()): a credit of `amount`, without making the negated value. */
  creditLine(account: string, amount: Fixed): void {
    this.lineAccount.push(this.lineNameId(account));
    this.lineAmount.pushNegated(amount);
  }
  /** The interned id of the next line's account (see NameSlots). */
  private lineNameId(account: string): number {
    const pos = this.linePos;
    this.linePos = pos + 1;
    return pos < ACTUAL_SLOT ? this.lineNames.id(this.slotBase + pos, account) : this.tables.names.id(account);
  }
  endLines(): void {
    this.lineEnd.push(this.lineAccount.length);
  }
  /** A movement of the entry begun last. */
  movement(kind: DraftMovement['kind'], id: string, qty: Fixed, after: Fixed, value: Fixed | undefined): void {
    this.moveKind.push(KIND_CODE[kind] | (value !== undefined ? HAS_VALUE : 0));
    const pos = this.movePos;
    this.movePos = pos + 1;
    this.moveName.push(pos < ACTUAL_SLOT ? this.moveNames.id(this.slotBase + pos, id) : this.tables.names.id(id));
    this.moveQty.push(qty);
    this.moveAfter.push(after);
    this.moveValue.push(value ?? Fixed.ZERO);
  }
  endMovements(): void {
    this.moveEnd.push(this.moveKind.length);
  }
  /**
   * Ends the entry begun last (no source, flags or reversal: what the direct path writes; a
   * conversion's category is set after, with setCategory). `actualKind` undefined: no actual.
   */
  endEntry(i: number, versions: EntryVersions, actualKind: keyof typeof ACTUAL_CODE | undefined, name: string | undefined, qty: Fixed, amount: Fixed, reason: string | undefined, ref: string | undefined): void {
    this.version.push(this.tables.versionId(versions));
    this.actual(actualKind === undefined ? 0 : ACTUAL_CODE[actualKind], name, qty, amount);
    this.reason.push(this.tables.names.id(reason));
    if (ref !== undefined) this.ref.set(i, ref);
  }
  /** The category of entry i's conversion actual. */
  setCategory(i: number, category: string): void {
    this.category.set(i, category);
  }
  private actual(kind: number, name: string | undefined, qty: Fixed, amount: Fixed): void {
    this.actualKind.push(kind);
    this.actualName.push(name === undefined ? 0 : this.moveNames.id(this.slotBase + ACTUAL_SLOT, name));
    this.actualQty.push(qty);
    this.actualAmount.push(amount);
  }

  /**
   * Records what the chain needs of an event beyond its entries (which start at index
   * `firstEntry`): the digest of its id's content, and its own knownAt where its entry's differs.
   */
  recordEvent(id: string, digest: string, knownAt: EpochMs, firstEntry: number): void {
    if (digest) this.digests.set(id, digest);
    if (knownAt !== this.knownAtOf(firstEntry)) this.eventKnownAt.set(firstEntry, knownAt);
  }

  /** Marks entry i as the first posted under a plant version. */
  setPlantHash(i: number, hash: string): void {
    this.plantHash.set(i, hash);
  }

  // --- reading columns ---------------------------------------------------------------------

  seqOf(i: number): number {
    return this.firstSeq + i;
  }
  atOf(i: number): EpochMs {
    return this.at.get(i);
  }
  knownAtOf(i: number): EpochMs {
    return this.knownAt.get(i) ?? this.at.get(i);
  }
  eventTypeOf(i: number): EntryType {
    return ENTRY_TYPES[this.type.get(i)]!;
  }
  eventIdOf(i: number): string {
    const e = this.event.get(i);
    return e < 0 ? `#${-e}` : this.tables.ids.value(e)!;
  }
  /** Whether entry i's event was posted with an id (not `#<n>`): eventIdOf without making the text. */
  hasEventId(i: number): boolean {
    return this.event.get(i) > 0;
  }
  reversesOf(i: number): number | undefined {
    return this.reverses.get(i);
  }
  flagsOf(i: number): readonly string[] | undefined {
    return this.flags.get(i);
  }
  /** Indexes of the flagged entries from index `from` on, less `from`. */
  flaggedSince(from: number): readonly number[] {
    return this.flags.indexesFrom(from);
  }
  sourceOf(i: number): { file: string; line: number } | undefined {
    const f = this.sourceFile.get(i);
    return f === undefined ? undefined : { file: this.tables.files.value(f)!, line: this.sourceLine.get(i)! };
  }
  /** Whether entries i-1 and i belong to the same event. */
  sameEvent(i: number): boolean {
    return i > 0 && this.event.get(i) === this.event.get(i - 1) && this.type.get(i) !== 9 && this.type.get(i - 1) !== 9;
  }

  /** The record of the event entry i belongs to (what the events table keeps). */
  eventRecordOf(i: number): EventRecord {
    let first = i;
    while (first > 0 && this.event.get(first - 1) === this.event.get(i)) first -= 1;
    const id = this.eventIdOf(i);
    const source = this.sourceOf(i);
    return {
      id,
      type: this.eventTypeOf(i),
      at: this.atOf(i),
      knownAt: this.eventKnownAt.get(first) ?? this.knownAtOf(first),
      digest: this.digests.get(id) ?? '',
      ...(source ? { source } : {}),
    };
  }

  /** Records of the events of entries [from, size), in order (revaluations have none). */
  *eventRecords(from = 0): Iterable<EventRecord> {
    for (let i = from; i < this.size; i += 1) {
      if (this.type.get(i) === 9 || this.sameEvent(i)) continue;
      yield this.eventRecordOf(i);
    }
  }

  /** Entry i in the engine's arithmetic (for reversals within a posting). */
  draftOf(i: number): Draft & { seq: number } {
    const lines = [];
    const start = i === 0 ? 0 : this.lineEnd.get(i - 1);
    for (let k = start; k < this.lineEnd.get(i); k += 1) {
      const amount = this.lineAmount.get(k);
      const account = this.tables.names.value(this.lineAccount.get(k))!;
      lines.push(amount.isNegative() ? { account, debit: Fixed.ZERO, credit: amount.negated() } : { account, debit: amount, credit: Fixed.ZERO });
    }
    const movements: DraftMovement[] = [];
    const mStart = i === 0 ? 0 : this.moveEnd.get(i - 1);
    for (let k = mStart; k < this.moveEnd.get(i); k += 1) {
      const code = this.moveKind.get(k);
      const base = { kind: KINDS[code & 3]!, id: this.tables.names.value(this.moveName.get(k))!, qty: this.moveQty.get(k), after: this.moveAfter.get(k) };
      movements.push(code & HAS_VALUE ? { ...base, value: this.moveValue.get(k) } : base);
    }
    const actual = this.draftActual(i);
    const ref = this.ref.get(i);
    const reason = this.tables.names.value(this.reason.get(i));
    const flags = this.flags.get(i);
    const reverses = this.reverses.get(i);
    const source = this.sourceOf(i);
    return {
      seq: this.seqOf(i),
      eventId: this.eventIdOf(i),
      eventType: this.eventTypeOf(i),
      at: this.atOf(i),
      knownAt: this.knownAtOf(i),
      lines,
      movements,
      versions: this.tables.versions[this.version.get(i)]!,
      ...(actual ? { actual } : {}),
      ...(ref !== undefined ? { ref } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...(flags !== undefined ? { flags } : {}),
      ...(reverses !== undefined ? { reverses } : {}),
      ...(source ? { source } : {}),
    };
  }

  /** The economic actual behind entry i as the engine computed it (scaled integers), if any. */
  draftActual(i: number): DraftActual | undefined {
    const kind = ACTUAL_KINDS[this.actualKind.get(i)];
    if (kind === undefined) return undefined;
    const name = this.tables.names.value(this.actualName.get(i))!;
    const qty = this.actualQty.get(i);
    const amount = this.actualAmount.get(i);
    switch (kind) {
      case 'purchase':
        return { kind, material: name, qty, amount };
      case 'conversion': {
        const category = this.category.get(i);
        return category !== undefined ? { kind, amount, category } : { kind, amount };
      }
      case 'completion':
        return { kind, product: name, qty, allocated: amount };
      case 'sale':
        return { kind, product: name, qty, conversion: amount };
    }
  }

  /** Entry i as a JournalEntry (decimal.js values); its hashes are read (and computed) on access. */
  entry(i: number): JournalEntry {
    return new MaterialisedEntry(this, i);
  }

  /** Lines and movements of entry i as decimal.js values (what a materialised entry holds). */
  linesOf(i: number): JournalLine[] {
    const out: JournalLine[] = [];
    const start = i === 0 ? 0 : this.lineEnd.get(i - 1);
    for (let k = start; k < this.lineEnd.get(i); k += 1) {
      const amount = this.lineAmount.get(k);
      const account = this.tables.names.value(this.lineAccount.get(k))!;
      const value = decimal(amount.isNegative() ? amount.negated() : amount);
      out.push(amount.isNegative() ? { account, debit: ZERO, credit: value } : { account, debit: value, credit: ZERO });
    }
    return out;
  }
  movementsOf(i: number): Movement[] {
    const out: Movement[] = [];
    const start = i === 0 ? 0 : this.moveEnd.get(i - 1);
    for (let k = start; k < this.moveEnd.get(i); k += 1) {
      const code = this.moveKind.get(k);
      const base = { kind: KINDS[code & 3]!, id: this.tables.names.value(this.moveName.get(k))!, qty: decimal(this.moveQty.get(k)), after: decimal(this.moveAfter.get(k)) };
      out.push(code & HAS_VALUE ? { ...base, value: decimal(this.moveValue.get(k)) } : base);
    }
    return out;
  }
  /** Index of entry i's first movement (movements are numbered across the journal; see moveEndOf). */
  moveStartOf(i: number): number {
    return i === 0 ? 0 : this.moveEnd.get(i - 1);
  }
  /** One past the index of entry i's last movement. */
  moveEndOf(i: number): number {
    return this.moveEnd.get(i);
  }
  /** Kind of movement k (an index from moveStartOf). */
  moveKindOf(k: number): MovementQty['kind'] {
    return KINDS[this.moveKind.get(k) & 3]!;
  }
  /** Material, product or instrument id of movement k. */
  moveIdOf(k: number): string {
    return this.tables.names.value(this.moveName.get(k))!;
  }
  /** Exact quantity of movement k. */
  moveQtyOf(k: number): Fixed {
    return this.moveQty.get(k);
  }
  /**
   * Entry i's actual field by field (what draftActual reads, without its object): the kind
   * (undefined: none), the material or product, the quantity and the amount (allocated for a
   * completion, conversion for a sale), each read when asked (the cost feed reads only what it
   * applies).
   */
  actualKindOf(i: number): DraftActual['kind'] | undefined {
    return ACTUAL_KINDS[this.actualKind.get(i)];
  }
  actualNameOf(i: number): string {
    return this.tables.names.value(this.actualName.get(i))!;
  }
  actualQtyOf(i: number): Fixed {
    return this.actualQty.get(i);
  }
  actualAmountOf(i: number): Fixed {
    return this.actualAmount.get(i);
  }
  /** Kind, id and quantity (exact, as Fixed) of entry i's movements: what the cost feed applies, without `after` and `value` and without a Decimal. */
  movementQtysOf(i: number): MovementQty[] {
    const out: MovementQty[] = [];
    const start = i === 0 ? 0 : this.moveEnd.get(i - 1);
    for (let k = start; k < this.moveEnd.get(i); k += 1) out.push({ kind: KINDS[this.moveKind.get(k) & 3]!, id: this.tables.names.value(this.moveName.get(k))!, qty: this.moveQty.get(k) });
    return out;
  }
  actualOf(i: number): Actual | undefined {
    const a = this.draftActual(i);
    if (!a) return undefined;
    switch (a.kind) {
      case 'purchase':
        return { kind: 'purchase', material: a.material, qty: decimal(a.qty), amount: decimal(a.amount) };
      case 'conversion':
        return a.category !== undefined ? { kind: 'conversion', amount: decimal(a.amount), category: a.category } : { kind: 'conversion', amount: decimal(a.amount) };
      case 'completion':
        return { kind: 'completion', product: a.product, qty: decimal(a.qty), allocated: decimal(a.allocated) };
      case 'sale':
        return { kind: 'sale', product: a.product, qty: decimal(a.qty), conversion: decimal(a.conversion) };
    }
  }
  versionsOf(i: number): EntryVersions {
    return this.tables.versions[this.version.get(i)]!;
  }
  refOf(i: number): string | undefined {
    return this.ref.get(i);
  }
  reasonOf(i: number): string | undefined {
    return this.tables.names.value(this.reason.get(i));
  }
  plantHashOf(i: number): string | undefined {
    return this.plantHash.get(i);
  }

  // --- the canonical body and the hash chain ----------------------------------------------

  /**
   * The canonical JSON of entry i (what `entryBody` writes for the materialised entry), built
   * from the columns. `eventHash` is the hash of its event's record (absent for revaluations).
   */
  body(i: number, eventHash: string | undefined): string {
    let out = '{';
    const a = this.draftActual(i);
    if (a) {
      let actual: string;
      switch (a.kind) {
        case 'purchase':
          actual = `{"amount":"${a.amount.toFixed()}","kind":"purchase","material":${JSON.stringify(a.material)},"qty":"${a.qty.toFixed()}"}`;
          break;
        case 'conversion':
          actual = `{"amount":"${a.amount.toFixed()}",${a.category !== undefined ? `"category":${JSON.stringify(a.category)},` : ''}"kind":"conversion"}`;
          break;
        case 'completion':
          actual = `{"allocated":"${a.allocated.toFixed()}","kind":"completion","product":${JSON.stringify(a.product)},"qty":"${a.qty.toFixed()}"}`;
          break;
        case 'sale':
          actual = `{"conversion":"${a.conversion.toFixed()}","kind":"sale","product":${JSON.stringify(a.product)},"qty":"${a.qty.toFixed()}"}`;
          break;
      }
      out += `"actual":${actual},`;
    }
    out += `"at":${this.atOf(i)},`;
    if (eventHash !== undefined) out += `"eventHash":"${eventHash}",`;
    const event = this.event.get(i);
    out += `"eventId":${event < 0 ? `"#${-event}"` : this.tables.ids.quoted(event)},"eventType":"${this.eventTypeOf(i)}",`;
    const flags = this.flags.get(i);
    if (flags) out += `"flags":${JSON.stringify(flags)},`;
    out += `"knownAt":${this.knownAtOf(i)},"lines":[`;
    const lineStart = i === 0 ? 0 : this.lineEnd.get(i - 1);
    const lineEnd = this.lineEnd.get(i);
    for (let k = lineStart; k < lineEnd; k += 1) {
      const amount = this.lineAmount.get(k);
      const negative = amount.isNegative();
      const text = (negative ? amount.negated() : amount).toFixed();
      out += `${k > lineStart ? ',' : ''}{"account":${this.tables.names.quoted(this.lineAccount.get(k))},"credit":"${negative ? text : '0'}","debit":"${negative ? '0' : text}"}`;
    }
    out += '],"movements":[';
    const moveStart = i === 0 ? 0 : this.moveEnd.get(i - 1);
    const moveEnd = this.moveEnd.get(i);
    for (let k = moveStart; k < moveEnd; k += 1) {
      const code = this.moveKind.get(k);
      out += `${k > moveStart ? ',' : ''}{"after":"${this.moveAfter.text(k)}","id":${this.tables.names.quoted(this.moveName.get(k))},"kind":"${KINDS[code & 3]}","qty":"${this.moveQty.text(k)}"${code & HAS_VALUE ? `,"value":"${this.moveValue.text(k)}"` : ''}}`;
    }
    out += '],';
    const plantHash = this.plantHash.get(i);
    if (plantHash !== undefined) out += `"plantHash":${JSON.stringify(plantHash)},`;
    const reason = this.reasonOf(i);
    if (reason !== undefined) out += `"reason":${JSON.stringify(reason)},`;
    const ref = this.ref.get(i);
    if (ref !== undefined) out += `"ref":${JSON.stringify(ref)},`;
    const reverses = this.reverses.get(i);
    if (reverses !== undefined) out += `"reverses":${reverses},`;
    out += `"seq":${this.seqOf(i)},`;
    const source = this.sourceOf(i);
    if (source) out += `"source":{"file":${JSON.stringify(source.file)},"line":${source.line}},`;
    const v = this.versionsOf(i);
    const parts: string[] = [];
    if (v.bom !== undefined) parts.push(`"bom":${JSON.stringify(v.bom)}`);
    if (v.conversionCost !== undefined) parts.push(`"conversionCost":${JSON.stringify(v.conversionCost)}`);
    if (v.standardCost !== undefined) parts.push(`"standardCost":${JSON.stringify(v.standardCost)}`);
    out += `"versions":{${parts.join(',')}}}`;
    return out;
  }

  /** Number of entries whose hashes are known. */
  get sealed(): number {
    return this.sealedCount;
  }

  /** Records the hashes a store computed for entry i (entries are sealed in order). */
  setSealed(i: number, eventHash: string | undefined, hash: string): void {
    if (i !== this.sealedCount) throw new Error(`columnar journal: entry ${i} sealed out of order (next is ${this.sealedCount})`);
    if (eventHash !== undefined) this.eventHashes.set(i, eventHash);
    for (let k = 0; k < 64; k += 2) this.hashBytes.push((NIBBLE[hash.charCodeAt(k)]! << 4) | NIBBLE[hash.charCodeAt(k + 1)]!);
    this.sealedCount += 1;
  }

  /** Computes eventHash and the chained hash of every entry up to index `upTo` (exclusive). */
  seal(upTo: number): void {
    let prevHash = this.sealedCount === 0 ? this.previousHash : this.hashOf(this.sealedCount - 1);
    let eventHash: string | undefined = this.sealedCount > 0 ? this.eventHashes.get(this.sealedCount - 1) : undefined;
    for (let i = this.sealedCount; i < Math.min(upTo, this.size); i += 1) {
      if (this.type.get(i) === 9) eventHash = undefined;
      else if (!this.sameEvent(i) || eventHash === undefined) eventHash = eventRecordHash(this.eventRecordOf(i));
      const hash = entryHash(this.body(i, eventHash), prevHash);
      this.setSealed(i, eventHash, hash);
      prevHash = hash;
    }
  }

  /** The chained hash of entry i (sealing up to it when needed). */
  hashOf(i: number): string {
    if (i >= this.sealedCount) this.seal(i + 1);
    let hex = '';
    for (let k = 0; k < 32; k += 1) hex += HEX[this.hashBytes.get(32 * i + k)];
    return hex;
  }
  prevHashOf(i: number): string {
    return i === 0 ? this.previousHash : this.hashOf(i - 1);
  }
  eventHashOf(i: number): string | undefined {
    if (this.type.get(i) === 9) return undefined;
    if (i >= this.sealedCount) this.seal(i + 1);
    return this.eventHashes.get(i);
  }

  /** Drops entries from index `n` on (a rolled-back posting). */
  truncate(n: number): void {
    if (n >= this.size) return;
    const lines = n === 0 ? 0 : this.lineEnd.get(n - 1);
    const moves = n === 0 ? 0 : this.moveEnd.get(n - 1);
    for (const c of [this.at, this.type, this.event, this.lineEnd, this.moveEnd, this.version, this.actualKind, this.actualName, this.reason] as Column[]) c.truncate(n);
    this.actualQty.truncate(n);
    this.actualAmount.truncate(n);
    for (const s of [this.knownAt, this.ref, this.flags, this.reverses, this.category, this.plantHash, this.eventKnownAt, this.eventHashes, this.sourceFile, this.sourceLine] as Sparse<unknown>[]) s.truncate(n);
    this.lineAccount.truncate(lines);
    this.lineAmount.truncate(lines);
    for (const c of [this.moveKind, this.moveName] as Column[]) c.truncate(moves);
    this.moveQty.truncate(moves);
    this.moveAfter.truncate(moves);
    this.moveValue.truncate(moves);
    if (this.sealedCount > n) {
      this.sealedCount = n;
      this.hashBytes.truncate(32 * n);
    }
  }

  /**
   * Appends every entry of `batch` (a journal of the same ledger's tables, starting right after
   * this one), with what it knows of their events and hashes.
   */
  appendJournal(batch: ColumnarJournal): void {
    if (batch.tables !== this.tables) {
      for (let i = 0; i < batch.size; i += 1) {
        const at = this.push(batch.draftOf(i));
        const plantHash = batch.plantHash.get(i);
        if (plantHash !== undefined) this.plantHash.set(at, plantHash);
        const known = batch.eventKnownAt.get(i);
        if (known !== undefined) this.eventKnownAt.set(at, known);
      }
      for (const [id, digest] of batch.digests) this.digests.set(id, digest);
      return;
    }
    const base = this.size;
    const n = batch.size;
    const lineBase = this.lineAccount.length;
    const moveBase = this.moveKind.length;
    this.at.appendFrom(batch.at, 0, n);
    this.type.appendFrom(batch.type, 0, n);
    this.event.appendFrom(batch.event, 0, n);
    for (let i = 0; i < n; i += 1) {
      this.lineEnd.push(lineBase + batch.lineEnd.get(i));
      this.moveEnd.push(moveBase + batch.moveEnd.get(i));
    }
    this.version.appendFrom(batch.version, 0, n);
    this.actualKind.appendFrom(batch.actualKind, 0, n);
    this.actualName.appendFrom(batch.actualName, 0, n);
    this.actualQty.appendFrom(batch.actualQty, 0, n);
    this.actualAmount.appendFrom(batch.actualAmount, 0, n);
    this.sourceFile.appendFrom(batch.sourceFile, 0, n, base);
    this.sourceLine.appendFrom(batch.sourceLine, 0, n, base);
    this.reason.appendFrom(batch.reason, 0, n);
    this.knownAt.appendFrom(batch.knownAt, 0, n, base);
    this.ref.appendFrom(batch.ref, 0, n, base);
    this.flags.appendFrom(batch.flags, 0, n, base);
    this.reverses.appendFrom(batch.reverses, 0, n, base);
    this.category.appendFrom(batch.category, 0, n, base);
    this.plantHash.appendFrom(batch.plantHash, 0, n, base);
    this.eventKnownAt.appendFrom(batch.eventKnownAt, 0, n, base);
    const lines = batch.lineAccount.length;
    this.lineAccount.appendFrom(batch.lineAccount, 0, lines);
    this.lineAmount.appendFrom(batch.lineAmount, 0, lines);
    const moves = batch.moveKind.length;
    this.moveKind.appendFrom(batch.moveKind, 0, moves);
    this.moveName.appendFrom(batch.moveName, 0, moves);
    this.moveQty.appendFrom(batch.moveQty, 0, moves);
    this.moveAfter.appendFrom(batch.moveAfter, 0, moves);
    this.moveValue.appendFrom(batch.moveValue, 0, moves);
    for (const [id, digest] of batch.digests) this.digests.set(id, digest);
    // Hashes the batch already has (a durable store sealed it) are kept when they continue this chain.
    if (this.sealedCount === base && batch.sealedCount > 0) {
      this.hashBytes.appendFrom(batch.hashBytes, 0, 32 * batch.sealedCount);
      this.eventHashes.appendFrom(batch.eventHashes, 0, batch.sealedCount, base);
      this.sealedCount += batch.sealedCount;
    }
  }

  /** Bytes held by the columns (for the memory benchmark's cross-check). */
  get bytes(): number {
    const columns = [this.at, this.type, this.event, this.lineEnd, this.moveEnd, this.version, this.actualKind, this.actualName, this.reason, this.lineAccount, this.moveKind, this.moveName, this.hashBytes] as Column[];
    const fixed = [this.actualQty, this.actualAmount, this.lineAmount, this.moveQty, this.moveAfter, this.moveValue];
    return columns.reduce((t, c) => t + c.bytes, 0) + fixed.reduce((t, c) => t + c.bytes, 0);
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Value of a lower-case hex digit by its char code. */
const NIBBLE = new Uint8Array(128);
for (let i = 0; i < 16; i += 1) NIBBLE[i.toString(16).charCodeAt(0)] = i;

/** A journal entry read from columns: plain fields, with the hashes computed when first read. */
class MaterialisedEntry implements JournalEntry {
  readonly seq: number;
  readonly eventId: string;
  readonly eventType: EntryType;
  readonly at: EpochMs;
  readonly knownAt: EpochMs;
  readonly movements: readonly Movement[];
  readonly actual?: Actual;
  readonly ref?: string;
  readonly reason?: string;
  readonly flags?: readonly string[];
  readonly reverses?: number;
  readonly source?: { readonly file: string; readonly line: number };
  readonly plantHash?: string;
  readonly #journal: ColumnarJournal;
  readonly #index: number;

  constructor(journal: ColumnarJournal, i: number) {
    this.#journal = journal;
    this.#index = i;
    this.seq = journal.seqOf(i);
    this.eventId = journal.eventIdOf(i);
    this.eventType = journal.eventTypeOf(i);
    this.at = journal.atOf(i);
    this.knownAt = journal.knownAtOf(i);
    this.movements = journal.movementsOf(i);
    const actual = journal.actualOf(i);
    if (actual) this.actual = actual;
    const ref = journal.refOf(i);
    if (ref !== undefined) this.ref = ref;
    const reason = journal.reasonOf(i);
    if (reason !== undefined) this.reason = reason;
    const flags = journal.flagsOf(i);
    if (flags !== undefined) this.flags = flags;
    const reverses = journal.reversesOf(i);
    if (reverses !== undefined) this.reverses = reverses;
    const source = journal.sourceOf(i);
    if (source) this.source = source;
    const plantHash = journal.plantHashOf(i);
    if (plantHash !== undefined) this.plantHash = plantHash;
  }
  #lines: readonly JournalLine[] | undefined;
  #versions: EntryVersions | undefined;
  /** Read on access: most readers (the cost feed) need only the movements and the actual. */
  get lines(): readonly JournalLine[] {
    return (this.#lines ??= this.#journal.linesOf(this.#index));
  }
  get versions(): EntryVersions {
    return (this.#versions ??= this.#journal.versionsOf(this.#index));
  }
  get eventHash(): string | undefined {
    return this.#journal.eventHashOf(this.#index);
  }
  get hash(): string {
    return this.#journal.hashOf(this.#index);
  }
  get prevHash(): string {
    return this.#journal.prevHashOf(this.#index);
  }
}
