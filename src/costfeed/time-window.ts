/**
 * Running sums over a trailing time window, for as-of queries that move forward in time.
 * Items are kept sorted by their time; the window is (from, to]. Moving the window forward
 * adds and subtracts only the items that cross its edges, so a 30-year daily run costs
 * O(items) in total, not O(items x days). An item inserted late (a figure known after newer
 * ones) lands in its place by time and is counted at once if it falls inside the window.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import type { EpochMs } from '../core/time.js';

/** The exact numbers a window sums: Decimal, or Fixed (core/fixed.ts) where the values are scaled integers. */
export interface Summable<N> {
  plus(o: N): N;
  minus(o: N): N;
  isZero(): boolean;
}

export class TimeWindow<N extends Summable<N> = Decimal> {
  readonly #at: EpochMs[] = [];
  readonly #values: (readonly N[])[] = [];
  readonly #sums: N[];
  /** Items before `#lo` are at or before `from`; items in [#lo, #hi) are inside the window. */
  #lo = 0;
  #hi = 0;
  #from = -Infinity;
  #to = -Infinity;

  /** `zero` starts every field's sum; or one start per field (ExactSum's shared zeros, see cost-feed.ts). */
  constructor(
    readonly width: number,
    zero: N | readonly N[] = ZERO as unknown as N,
  ) {
    this.#sums = Array.isArray(zero) ? (zero as readonly N[]).slice(0, width) : new Array<N>(width).fill(zero as N);
  }

  /** Sum of field `k` over the items inside the window. */
  sum(k: number): N {
    return this.#sums[k]!;
  }

  /** Adds an item at time `at` with one value per field; the window keeps `values` and only reads it (other windows may hold the same array; nobody may change it). */
  insert(at: EpochMs, values: readonly N[]): void {
    const n = this.#at.length;
    let position = n;
    if (n > 0 && this.#at[n - 1]! > at) {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.#at[mid]! <= at) lo = mid + 1;
        else hi = mid;
      }
      position = lo;
    }
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
      for (let k = 0; k < this.width; k += 1) if (!values[k]!.isZero()) this.#sums[k] = this.#sums[k]!.plus(values[k]!);
    }
  }

  /** Moves the window to (from, to]. Both bounds must not decrease (callers rebuild to go back). */
  moveTo(from: EpochMs, to: EpochMs): void {
    const at = this.#at;
    const n = at.length;
    while (this.#lo < n && at[this.#lo]! <= from) {
      if (this.#lo < this.#hi) this.#subtract(this.#lo);
      this.#lo += 1;
    }
    if (this.#hi < this.#lo) this.#hi = this.#lo;
    while (this.#hi < n && at[this.#hi]! <= to) {
      this.#add(this.#hi);
      this.#hi += 1;
    }
    this.#from = from;
    this.#to = to;
    // Forget what has left the window for good, in batches (keeps memory flat over long runs).
    if (this.#lo > 4096) {
      at.splice(0, this.#lo);
      this.#values.splice(0, this.#lo);
      this.#hi -= this.#lo;
      this.#lo = 0;
    }
  }

  // A zero field is skipped: most items set one field of several, and adding an exact zero to
  // an exact sum leaves its value (and so every figure) as it was.
  #add(index: number): void {
    const values = this.#values[index]!;
    for (let k = 0; k < this.width; k += 1) if (!values[k]!.isZero()) this.#sums[k] = this.#sums[k]!.plus(values[k]!);
  }

  #subtract(index: number): void {
    const values = this.#values[index]!;
    for (let k = 0; k < this.width; k += 1) if (!values[k]!.isZero()) this.#sums[k] = this.#sums[k]!.minus(values[k]!);
  }
}
