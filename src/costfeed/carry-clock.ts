/**
 * Cumulative carrying cost of one unit held from a fixed origin: C(t) = integral of the
 * carrying rate per unit-day up to t. The rate is a step function (it changes only when a
 * standard-cost, conversion-cost or BOM version takes effect), so C is piecewise linear.
 *
 * Why: the carrying cost accrued on a stock that moved by dq_i at times t_i is
 * sum_i dq_i x (C(T) - C(t_i)) = Q x C(T) - sum_i dq_i x C(t_i). The feed keeps Q and the
 * second sum as movements become known, so the accrual at any T costs one C(T) evaluation,
 * and a movement known late (t_i < knownAt) is still charged from t_i.
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { Fixed } from '../core/fixed.js';
import { DAY_MS, type EpochMs } from '../core/time.js';

const DAY = new Decimal(DAY_MS);

export class CarryClock {
  /** Times where the rate changes, increasing; the first is the origin (C = 0 there). */
  readonly #breaks: EpochMs[];
  /** rates[k] applies from breaks[k] (and before breaks[0] for k = 0). */
  readonly #rates: Decimal[];
  readonly #cumulative: Decimal[];
  readonly #before: Decimal;
  /** rates[k] / DAY_MS, so evaluating C(t) multiplies instead of dividing. */
  readonly #perMs: Decimal[];

  /**
   * `breaks`: the times the rate may change (sorted or not, duplicates allowed);
   * `rateAt(t)`: the carrying cost per unit-day in effect at t, or undefined when none is
   * defined yet (treated as zero).
   */
  constructor(breaks: readonly EpochMs[], rateAt: (at: EpochMs) => Decimal | undefined) {
    const sorted = [...new Set(breaks)].sort((a, b) => a - b);
    if (sorted.length === 0) sorted.push(0);
    this.#breaks = sorted;
    this.#rates = sorted.map((t) => rateAt(t) ?? ZERO);
    // Before the first break: the rate in force just before it, if any, else the first rate.
    this.#before = rateAt(sorted[0]! - 1) ?? this.#rates[0]!;
    this.#perMs = this.#rates.map((r) => r.dividedBy(DAY));
    this.#cumulative = [ZERO];
    for (let k = 1; k < sorted.length; k += 1) {
      const days = new Decimal(sorted[k]! - sorted[k - 1]!).dividedBy(DAY);
      this.#cumulative.push(this.#cumulative[k - 1]!.plus(this.#rates[k - 1]!.times(days)));
    }
  }

  /** C(t): carrying cost of one unit held from the origin to t (negative before the origin). */
  at(t: EpochMs): Decimal {
    // The same instant is asked for several times in a row (each movement of a day's entries, then the snapshot).
    if (t === this.#lastT) return this.#lastC!;
    const c = this.#at(t);
    this.#lastT = t;
    this.#lastC = c;
    return c;
  }

  #lastT = Number.NaN;
  #lastC: Decimal | undefined;

  #at(t: EpochMs): Decimal {
    const breaks = this.#breaks;
    if (t < breaks[0]!) return this.#before.times(new Decimal(t - breaks[0]!).dividedBy(DAY));
    let k = breaks.length - 1;
    while (breaks[k]! > t) k -= 1;
    const elapsed = t - breaks[k]!;
    return elapsed === 0 ? this.#cumulative[k]! : this.#cumulative[k]!.plus(this.#perMs[k]!.times(elapsed));
  }

  /** The rate per unit-day in effect at t. */
  rateAt(t: EpochMs): Decimal {
    const breaks = this.#breaks;
    if (t < breaks[0]!) return this.#before;
    let k = breaks.length - 1;
    while (breaks[k]! > t) k -= 1;
    return this.#rates[k]!;
  }
}

/**
 * The movements of one item's stock, for its accrued carrying cost: sum of dq x C(at) over
 * them (see CarryClock), taken only when someone reads it. A backtest applies a few movements
 * a day and never reads the accrued figure, so the products are not worked out as movements
 * arrive; when read, they are summed in movement order (the order the feed applied them),
 * each sum kept for later reads. Quantities are kept as the journal holds them (scaled
 * integers, `m` and `e` of a Fixed, in two number arrays) and turned into Decimals only then:
 * a Fixed kept per movement for the whole run (several a day, each read fresh from the
 * journal) outlived the young generation, and the scavenger copied every one twice.
 */
export class CarryLog {
  /** Each movement's scaled integer and places; a quantity that does not fit one (`big`) is kept whole in `#big` at its index. */
  readonly #m: number[] = [];
  readonly #e: number[] = [];
  #big: Map<number, Fixed> | undefined;
  readonly #at: EpochMs[] = [];
  /** prefix[n]: the sum over the first n movements (computed up to where it was read). */
  readonly #prefix: Decimal[] = [ZERO];

  constructor(readonly clock: CarryClock) {}

  /** Movements recorded so far: a snapshot keeps this count and asks for `baseAt(count)`. */
  get length(): number {
    return this.#at.length;
  }

  add(qty: Fixed, at: EpochMs): void {
    if (qty.big !== undefined) (this.#big ??= new Map()).set(this.#at.length, qty);
    this.#m.push(qty.m);
    this.#e.push(qty.e);
    this.#at.push(at);
  }

  /** sum of dq x C(at) over the first `n` movements. */
  baseAt(n: number): Decimal {
    const prefix = this.#prefix;
    while (prefix.length <= n) {
      const i = prefix.length - 1;
      const qty = this.#big?.get(i) ?? Fixed.of(this.#m[i]!, this.#e[i]!);
      prefix.push(prefix[i]!.plus(qty.toDecimal().times(this.clock.at(this.#at[i]!))));
    }
    return prefix[n]!;
  }
}
