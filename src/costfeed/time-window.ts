/**
 * Running sums over a trailing time window, for as-of queries that move forward in time.
 * Items are kept sorted by their time; the window is (from, to]. Moving the window forward
 * adds and subtracts only the items that cross its edges, so a 30-year daily run costs
 * O(items) in total, not O(items x days). An item inserted late (a figure known after newer
 * ones) lands in its place by time and is counted at once if it falls inside the window.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { POW10 } from '../core/decimal-number.js';
import { Fixed } from '../core/fixed.js';
import type { EpochMs } from '../core/time.js';

/** The exact numbers a window sums: Decimal, or Fixed (core/fixed.ts) where the values are scaled integers. */
export interface Summable<N> {
  plus(o: N): N;
  minus(o: N): N;
  isZero(): boolean;
}

/**
 * What a window keeps its sums in. It moves to the next sums by an item's values, field by
 * field (a zero value leaves its field as it was): the same object changed in place, or
 * another one (sums that are shared and never change, see cost-feed.ts's SharedSums).
 */
export interface WindowSums<N> {
  /** Sum of field `k`. */
  sum(k: number): N;
  plusItem(values: readonly N[]): WindowSums<N>;
  minusItem(values: readonly N[]): WindowSums<N>;
}

/** Sums kept in one array and changed in place (the window's own); TimeWindow makes one only from a Summable zero, so every value here is Summable. */
class ArraySums<N> implements WindowSums<N> {
  readonly #sums: (N & Summable<N>)[];
  constructor(
    readonly width: number,
    zero: N & Summable<N>,
  ) {
    this.#sums = new Array<N & Summable<N>>(width).fill(zero);
  }
  sum(k: number): N {
    return this.#sums[k]!;
  }
  // A zero field is skipped: most items set one field of several, and adding an exact zero to
  // an exact sum leaves its value (and so every figure) as it was.
  plusItem(values: readonly N[]): this {
    const sums = this.#sums;
    for (let k = 0; k < this.width; k += 1) {
      const value = values[k] as N & Summable<N>;
      if (!value.isZero()) sums[k] = sums[k]!.plus(value) as N & Summable<N>;
    }
    return this;
  }
  minusItem(values: readonly N[]): this {
    const sums = this.#sums;
    for (let k = 0; k < this.width; k += 1) {
      const value = values[k] as N & Summable<N>;
      if (!value.isZero()) sums[k] = sums[k]!.minus(value) as N & Summable<N>;
    }
    return this;
  }
}

/**
 * Items behind a window are let go once there are more than this many: each batch costs a copy
 * of the items still kept (a trailing window's, about a hundred for the cost feed's), and an item
 * kept for thousands of days (the batch was 4096) outlived the young generation, to be copied
 * twice by the scavenger with what it holds (a backflush's three exact values).
 */
const FORGET_BATCH = 128;

/** Where an item at `at` goes among `times` (ascending): after every item at or before it, so the end when none is later. */
function placeOf(times: readonly EpochMs[], at: EpochMs): number {
  const n = times.length;
  if (n === 0 || times[n - 1]! <= at) return n;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isWindowSums<N>(zero: N | WindowSums<N>): zero is WindowSums<N> {
  return typeof (zero as Partial<WindowSums<N>>).plusItem === 'function';
}

export class TimeWindow<N = Decimal> {
  readonly #at: EpochMs[] = [];
  readonly #values: (readonly N[])[] = [];
  #sums: WindowSums<N>;
  /** Items before `#lo` are at or before `from`; items in [#lo, #hi) are inside the window. */
  #lo = 0;
  #hi = 0;
  #from = -Infinity;
  #to = -Infinity;

  /** `zero` starts every field's sum (a Summable value); or the sums to start from (shared sums of any values, see WindowSums). */
  constructor(
    readonly width: number,
    zero: (N & Summable<N>) | WindowSums<N> = ZERO as unknown as N & Summable<N>,
  ) {
    this.#sums = isWindowSums(zero) ? zero : new ArraySums(width, zero);
  }

  /** Sum of field `k` over the items inside the window. */
  sum(k: number): N {
    return this.#sums.sum(k);
  }

  /** The sums over the items inside the window, as they stand (an ArraySums changes as the window moves). */
  get sums(): WindowSums<N> {
    return this.#sums;
  }

  /** Adds an item at time `at` with one value per field; the window keeps `values` and only reads it (other windows may hold the same array; nobody may change it). */
  insert(at: EpochMs, values: readonly N[]): void {
    const n = this.#at.length;
    const position = placeOf(this.#at, at);
    if (position === n) {
      // The usual case (items arrive in time order): an append, not a splice.
      this.#at.push(at);
      this.#values.push(values);
    } else {
      this.#at.splice(position, 0, at);
      this.#values.splice(position, 0, values);
    }
    if (at <= this.#from) {
      this.#lo += 1;
      this.#hi += 1;
    } else if (at <= this.#to) {
      this.#hi += 1;
      this.#sums = this.#sums.plusItem(values);
    }
  }

  /** Moves the window to (from, to]. Both bounds must not decrease (callers rebuild to go back). */
  moveTo(from: EpochMs, to: EpochMs): void {
    const at = this.#at;
    const values = this.#values;
    const n = at.length;
    let sums = this.#sums;
    let lo = this.#lo;
    let hi = this.#hi;
    while (lo < n && at[lo]! <= from) {
      if (lo < hi) sums = sums.minusItem(values[lo]!);
      lo += 1;
    }
    if (hi < lo) hi = lo;
    while (hi < n && at[hi]! <= to) {
      sums = sums.plusItem(values[hi]!);
      hi += 1;
    }
    this.#sums = sums;
    this.#from = from;
    this.#to = to;
    // Forget what has left the window for good, in batches (keeps memory flat over long runs).
    if (lo > FORGET_BATCH) {
      at.splice(0, lo);
      values.splice(0, lo);
      hi -= lo;
      lo = 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }
}

/**
 * A TimeWindow of Fixed values whose items each set one field (a purchase's quantity and amount
 * are two items at one time), kept in flat lists instead of an array per item: the cost feed's
 * window holds an item for every backflush and purchase while it is in the window (90 days by
 * default), so each item's array and negated quantity outlived the young generation. A value
 * is kept as its scaled integer and places (`m` and `e`, in number arrays), not as the Fixed the
 * journal handed over (made fresh for each read, it lived as long as its item and was copied
 * twice by the scavenger); a value that does not fit a scaled integer (`big`) is kept whole.
 * An item may be negated: it adds `-value` to its field, summed as `minus(value)`, which is
 * what Fixed's plus of the negated value gives (fixed.ts), and taken out as `plus(value)`
 * (`minus` of the negated value; for a value held as a Decimal, done as written, since
 * decimal.js rounds a negation to the precision). Each field sees the same values in the same
 * order as a TimeWindow over the items' arrays, so every sum is the same.
 *
 * The sums are kept the same way, as a Fixed's `m` and `e` per field, and moved by Fixed's own
 * arithmetic on them (the same operations, on the same numbers, as Fixed.plus and Fixed.minus:
 * the same `m` and `e`); whatever does not fit a scaled integer goes through Fixed itself. A
 * backtest moves its window every day and reads a snapshot's sums only when asked for the
 * actual unit cost or the usage factor (its own rules never do): a Fixed per item crossing
 * an edge and per sum moved was made and dropped for nothing. A sum's Fixed is made when read,
 * and kept while the sum stands.
 */
export class FixedFieldWindow {
  readonly #at: EpochMs[] = [];
  /** The item's field k, or ~k (negative) when it adds -value. */
  readonly #code: number[] = [];
  readonly #m: number[] = [];
  readonly #e: number[] = [];
  /** The value itself where it has `big` (undefined for the others). */
  readonly #big: (Fixed | undefined)[] = [];
  /** Each field's sum: a Fixed's `m` and `e`, or the Fixed itself when it has `big`. */
  readonly #sumM: number[];
  readonly #sumE: number[];
  readonly #sumBig: (Fixed | undefined)[];
  /** The Fixed of each field's sum as it stands, once made (undefined: made when read). */
  readonly #sumFixed: (Fixed | undefined)[];
  #lo = 0;
  #hi = 0;
  #from = -Infinity;
  #to = -Infinity;

  constructor(readonly width: number) {
    this.#sumM = new Array<number>(width).fill(0);
    this.#sumE = new Array<number>(width).fill(0);
    this.#sumBig = new Array<Fixed | undefined>(width).fill(undefined);
    this.#sumFixed = new Array<Fixed | undefined>(width).fill(Fixed.ZERO);
  }

  /** Sum of field `k` over the items inside the window. */
  sum(k: number): Fixed {
    const big = this.#sumBig[k];
    if (big !== undefined) return big;
    return (this.#sumFixed[k] ??= Fixed.of(this.#sumM[k]!, this.#sumE[k]!));
  }

  /** Adds `value` (or -value, `negated`) to field `k` at time `at`; the window keeps `value`. */
  insert(at: EpochMs, k: number, value: Fixed, negated = false): void {
    if (value.isZero()) return; // adds nothing to any sum, now or later
    const code = negated ? ~k : k;
    const times = this.#at;
    const n = times.length;
    const position = placeOf(times, at);
    const big = value.big === undefined ? undefined : value;
    if (position === n) {
      times.push(at);
      this.#code.push(code);
      this.#m.push(value.m);
      this.#e.push(value.e);
      this.#big.push(big);
    } else {
      times.splice(position, 0, at);
      this.#code.splice(position, 0, code);
      this.#m.splice(position, 0, value.m);
      this.#e.splice(position, 0, value.e);
      this.#big.splice(position, 0, big);
    }
    if (at <= this.#from) {
      this.#lo += 1;
      this.#hi += 1;
    } else if (at <= this.#to) {
      this.#hi += 1;
      this.#add(code, position);
    }
  }

  /** Moves the window to (from, to]. Both bounds must not decrease (callers rebuild to go back). */
  moveTo(from: EpochMs, to: EpochMs): void {
    const at = this.#at;
    const codes = this.#code;
    const n = at.length;
    let lo = this.#lo;
    let hi = this.#hi;
    while (lo < n && at[lo]! <= from) {
      if (lo < hi) this.#subtract(codes[lo]!, lo);
      lo += 1;
    }
    if (hi < lo) hi = lo;
    while (hi < n && at[hi]! <= to) {
      this.#add(codes[hi]!, hi);
      hi += 1;
    }
    this.#from = from;
    this.#to = to;
    if (lo > FORGET_BATCH) {
      at.splice(0, lo);
      codes.splice(0, lo);
      this.#m.splice(0, lo);
      this.#e.splice(0, lo);
      this.#big.splice(0, lo);
      hi -= lo;
      lo = 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }

  /** Field k's sum as a Fixed (made for the operations that do not fit a scaled integer). */
  #sumOf(k: number): Fixed {
    return this.#sumBig[k] ?? Fixed.of(this.#sumM[k]!, this.#sumE[k]!);
  }

  /** Item i's value into its field: sum + value, or sum - value for a negated item. */
  #add(code: number, i: number): void {
    if (code >= 0) this.#move(code, i, false);
    else this.#move(~code, i, true);
  }

  /** Item i's value out of its field: sum - value, or sum + value for a negated item (minus the negated value for one held as a Decimal). */
  #subtract(code: number, i: number): void {
    if (code >= 0) this.#move(code, i, true);
    else if (this.#big[i] === undefined) this.#move(~code, i, false);
    else this.#store(~code, this.#sumOf(~code).minus(this.#big[i]!.negated()));
  }

  /**
   * Field k's sum plus (or minus) item i's value: Fixed.plus and Fixed.minus on the scaled
   * integers (the item's m is never 0: zero items are not kept), the same operations in the
   * same order, so the same m and e; anything that does not fit is done by Fixed itself.
   */
  #move(k: number, i: number, minus: boolean): void {
    const big = this.#big[i];
    if (big === undefined && this.#sumBig[k] === undefined) {
      const vm = this.#m[i]!;
      const ve = this.#e[i]!;
      const sm = this.#sumM[k]!;
      const se = this.#sumE[k]!;
      if (sm === 0) {
        // Fixed.plus returns the value itself; Fixed.minus its negation.
        this.#set(k, minus ? -vm : vm, ve);
        return;
      }
      let m = Number.NaN;
      let e = se;
      if (se === ve) m = minus ? sm - vm : sm + vm;
      else if (se > ve) {
        const b = vm * scaleOf(se - ve);
        if (b <= MAX_SAFE && b >= -MAX_SAFE) m = minus ? sm - b : sm + b;
      } else {
        const a = sm * scaleOf(ve - se);
        if (a <= MAX_SAFE && a >= -MAX_SAFE) m = minus ? a - vm : a + vm;
        e = ve;
      }
      if (m <= MAX_SAFE && m >= -MAX_SAFE) {
        if (m === 0) this.#set(k, 0, 0);
        else this.#set(k, m, e);
        return;
      }
    }
    const sum = this.#sumOf(k);
    const value = big ?? Fixed.of(this.#m[i]!, this.#e[i]!);
    this.#store(k, minus ? sum.minus(value) : sum.plus(value));
  }

  #set(k: number, m: number, e: number): void {
    this.#sumM[k] = m;
    this.#sumE[k] = e;
    this.#sumBig[k] = undefined;
    this.#sumFixed[k] = undefined;
  }

  #store(k: number, sum: Fixed): void {
    if (sum.big !== undefined) {
      this.#sumBig[k] = sum;
      this.#sumM[k] = 0;
      this.#sumE[k] = 0;
    } else {
      this.#sumBig[k] = undefined;
      this.#sumM[k] = sum.m;
      this.#sumE[k] = sum.e;
    }
    this.#sumFixed[k] = sum;
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** 10^n for aligning places, as Fixed aligns them (Infinity beyond 10^22: never fits). */
function scaleOf(n: number): number {
  return n <= 22 ? POW10[n]! : Number.POSITIVE_INFINITY;
}
