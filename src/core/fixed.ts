/**
 * Fixed: an exact decimal as a scaled integer, for the ledger's hot paths. A value is
 * `m / 10^e` with `m` a safe integer (|m| <= 2^53 - 1) and `e` >= 0 decimal places, which
 * covers money to the cent up to 90 trillion and quantities with their input's places. When a
 * result would not fit (a product or sum beyond 2^53), the value carries an exact Decimal
 * instead (`big`) and every operation on it goes through decimal.js: the arithmetic stays
 * exact, only slower. Results equal decimal.js's (40 significant digits, half-even) for every
 * operation used here, because a safe-integer operand has at most 16 digits: products have at
 * most 32, and quotients are rounded once, at the end, like the Decimal code rounds them.
 *
 * Immutable; zero has no sign (decimal.js's -0 never reaches the ledger's output: toFixed()
 * prints "0" for it, and sign tests compare with zero).
 */
import { Decimal } from './decimal.js';
import { POW10, bigPow10, decimalOfScaled, multipleOfTen } from './decimal-number.js';

const MAX = Number.MAX_SAFE_INTEGER;

const LIMIT38 = 10n ** 38n;

function pow10(n: number): number {
  return n <= 22 ? POW10[n]! : Number.POSITIVE_INFINITY;
}

/**
 * The Decimal `m / 10^e` built from its words, without going through text (the reverse of
 * `Fixed.from`; the same `d`, `e` and `s` as `new Decimal(text)`, checked by the tests): the
 * words are decimal-number.ts's `decimalOfScaled`, which `decimalOfNumber` builds prices with.
 */
function decimalOf(m: number, places: number): Decimal {
  return m === 0 ? new Decimal(0) : decimalOfScaled(Decimal, m, places);
}

export class Fixed {
  /** Scaled integer (0 when `big` is set). */
  readonly m: number;
  /** Decimal places of `m`. */
  readonly e: number;
  /** The exact value when it does not fit a safe integer. */
  readonly big: Decimal | undefined;

  private constructor(m: number, e: number, big: Decimal | undefined) {
    this.m = m;
    this.e = e;
    this.big = big;
  }

  static readonly ZERO = new Fixed(0, 0, undefined);
  static readonly ONE = new Fixed(1, 0, undefined);

  /** `m / 10^e`; `m` must be a safe integer. */
  static of(m: number, e = 0): Fixed {
    if (m === 0) return e === 0 ? Fixed.ZERO : new Fixed(0, e, undefined);
    return new Fixed(m, e, undefined);
  }

  private static big(d: Decimal): Fixed {
    return new Fixed(0, 0, d);
  }

  /** The exact value of a Decimal (fast when it fits, without going through text). */
  static from(d: Decimal): Fixed {
    const words = d.d;
    if (!words || !Number.isFinite(d.e)) return Fixed.big(d); // NaN/Infinity never reach the ledger; keep them visible
    if (words[0] === 0) return Fixed.ZERO;
    // decimal.js keeps base-1e7 words, most significant first, trailing zero words removed.
    let m = words[0]!;
    let digits = m >= 1e6 ? 7 : m >= 1e5 ? 6 : m >= 1e4 ? 5 : m >= 1e3 ? 4 : m >= 100 ? 3 : m >= 10 ? 2 : 1;
    for (let i = 1; i < words.length; i += 1) {
      m = m * 1e7 + words[i]!;
      digits += 7;
      if (m > MAX) return Fixed.big(d);
    }
    let e = digits - 1 - d.e; // decimal places of m
    if (e < 0) {
      const up = pow10(-e);
      m *= up;
      if (m > MAX) return Fixed.big(d);
      e = 0;
    }
    while (e > 0 && multipleOfTen(m)) {
      m /= 10;
      e -= 1;
    }
    return new Fixed(d.s < 0 ? -m : m, e, undefined);
  }

  /** Parses plain decimal text ("12.50", "-3"); throws on anything else. */
  static parse(text: string): Fixed {
    return Fixed.from(new Decimal(text));
  }

  /** The exact Decimal. */
  toDecimal(): Decimal {
    if (this.big) return this.big;
    return decimalOf(this.m, this.e);
  }

  isZero(): boolean {
    return this.big === undefined && this.m === 0;
  }
  /** Strictly below zero. */
  isNegative(): boolean {
    return this.big ? this.big.lt(0) : this.m < 0;
  }
  /** Strictly above zero. */
  isPositive(): boolean {
    return this.big ? this.big.gt(0) : this.m > 0;
  }
  /** -1, 0 or 1. */
  sign(): number {
    if (this.big) return this.big.isZero() ? 0 : this.big.s;
    return this.m > 0 ? 1 : this.m < 0 ? -1 : 0;
  }

  negated(): Fixed {
    if (this.big) return Fixed.big(this.big.negated());
    return this.m === 0 ? this : new Fixed(-this.m, this.e, undefined);
  }
  abs(): Fixed {
    return this.sign() < 0 ? this.negated() : this;
  }

  plus(o: Fixed): Fixed {
    if (this.big === undefined && o.big === undefined) {
      if (o.m === 0) return this;
      if (this.m === 0) return o;
      if (this.e === o.e) return Fixed.sum(this.m + o.m, this.e, this, o);
      if (this.e > o.e) {
        const b = o.m * pow10(this.e - o.e);
        if (b <= MAX && b >= -MAX) return Fixed.sum(this.m + b, this.e, this, o);
      } else {
        const a = this.m * pow10(o.e - this.e);
        if (a <= MAX && a >= -MAX) return Fixed.sum(a + o.m, o.e, this, o);
      }
    }
    return Fixed.from(this.toDecimal().plus(o.toDecimal()));
  }
  private static sum(m: number, e: number, a: Fixed, b: Fixed): Fixed {
    if (m <= MAX && m >= -MAX) return m === 0 ? Fixed.ZERO : new Fixed(m, e, undefined);
    return Fixed.from(a.toDecimal().plus(b.toDecimal()));
  }
  minus(o: Fixed): Fixed {
    // plus(o.negated()) without making the negated value first (the same cases, the same results).
    if (this.big === undefined && o.big === undefined) {
      if (o.m === 0) return this;
      if (this.m === 0) return new Fixed(-o.m, o.e, undefined);
      if (this.e === o.e) return Fixed.difference(this.m - o.m, this.e, this, o);
      if (this.e > o.e) {
        const b = o.m * pow10(this.e - o.e);
        if (b <= MAX && b >= -MAX) return Fixed.difference(this.m - b, this.e, this, o);
      } else {
        const a = this.m * pow10(o.e - this.e);
        if (a <= MAX && a >= -MAX) return Fixed.difference(a - o.m, o.e, this, o);
      }
    }
    return this.plus(o.negated());
  }
  private static difference(m: number, e: number, a: Fixed, b: Fixed): Fixed {
    if (m <= MAX && m >= -MAX) return m === 0 ? Fixed.ZERO : new Fixed(m, e, undefined);
    return a.plus(b.negated());
  }

  times(o: Fixed): Fixed {
    if (this.big === undefined && o.big === undefined) {
      const m = this.m * o.m;
      if (m <= MAX && m >= -MAX) {
        if (m === 0) return Fixed.ZERO;
        let e = this.e + o.e;
        let r = m;
        // Keep places small: products of quantities and prices add them up.
        while (e > 0 && multipleOfTen(r)) {
          r /= 10;
          e -= 1;
        }
        return new Fixed(r, e, undefined);
      }
    }
    return Fixed.from(this.toDecimal().times(o.toDecimal()));
  }

  /** Rounded to `places` decimal places, half to even (the ledger's money rounding). */
  round(places: number): Fixed {
    if (this.big) return Fixed.from(this.big.toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN));
    if (this.e <= places) return this;
    return Fixed.of(roundDiv(this.m, pow10(this.e - places)), places);
  }

  /**
   * round(this x b / c, places), half to even, with one rounding: what
   * `this.times(b).dividedBy(c).toDecimalPlaces(places)` gives in decimal.js.
   */
  mulDivRound(b: Fixed, c: Fixed, places: number): Fixed {
    if (this.big === undefined && b.big === undefined && c.big === undefined && c.m !== 0) {
      // value = (ma * mb / mc) * 10^(ec - ea - eb); wanted: that * 10^places.
      const shift = places + c.e - this.e - b.e;
      // All in safe integers when they fit (the usual case), else in BigInt.
      const product = this.m * b.m;
      if (product <= MAX && product >= -MAX && shift <= 22 && shift >= -22) {
        const n = shift >= 0 ? product * POW10[shift]! : product;
        const d = shift >= 0 ? c.m : c.m * POW10[-shift]!;
        if (n <= MAX && n >= -MAX && d <= MAX && d >= -MAX) return Fixed.of(d < 0 ? roundDiv(-n, -d) : roundDiv(n, d), places);
      }
      let num = BigInt(this.m) * BigInt(b.m);
      let den = BigInt(c.m);
      if (shift >= 0) num *= bigPow10(shift);
      else den *= bigPow10(-shift);
      // Beyond 38 digits decimal.js's 40-digit quotient could round differently: let it decide.
      if (num > LIMIT38 || num < -LIMIT38 || den > LIMIT38 || den < -LIMIT38) return Fixed.from(this.toDecimal().times(b.toDecimal()).dividedBy(c.toDecimal()).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN));
      const q = roundDivBig(num, den);
      if (q <= BigInt(MAX) && q >= -BigInt(MAX)) return Fixed.of(Number(q), places);
    }
    return Fixed.from(this.toDecimal().times(b.toDecimal()).dividedBy(c.toDecimal()).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN));
  }

  /** Compares with `o`: -1, 0 or 1. */
  cmp(o: Fixed): number {
    if (this.big === undefined && o.big === undefined) {
      if (this.e === o.e) return this.m < o.m ? -1 : this.m > o.m ? 1 : 0;
      const a = this.e > o.e ? this.m : this.m * pow10(o.e - this.e);
      const b = this.e > o.e ? o.m * pow10(this.e - o.e) : o.m;
      if (a <= MAX && a >= -MAX && b <= MAX && b >= -MAX) return a < b ? -1 : a > b ? 1 : 0;
    }
    return this.toDecimal().comparedTo(o.toDecimal());
  }
  eq(o: Fixed): boolean {
    return this.cmp(o) === 0;
  }
  gt(o: Fixed): boolean {
    return this.cmp(o) > 0;
  }
  lt(o: Fixed): boolean {
    return this.cmp(o) < 0;
  }
  lte(o: Fixed): boolean {
    return this.cmp(o) <= 0;
  }
  gte(o: Fixed): boolean {
    return this.cmp(o) >= 0;
  }
  static min(a: Fixed, b: Fixed): Fixed {
    return a.cmp(b) <= 0 ? a : b;
  }

  /** Plain decimal text without trailing zeros: what decimal.js's toFixed() prints ("0" for zero). */
  toFixed(): string {
    if (this.big) return this.big.toFixed();
    const m = this.m;
    if (m === 0) return '0';
    if (this.e === 0) return String(m);
    const negative = m < 0;
    let digits = String(negative ? -m : m);
    let e = this.e;
    while (e > 0 && digits.charCodeAt(digits.length - 1) === 48) {
      digits = digits.slice(0, -1);
      e -= 1;
    }
    let text: string;
    if (e === 0) text = digits;
    else if (digits.length > e) text = `${digits.slice(0, digits.length - e)}.${digits.slice(digits.length - e)}`;
    else text = `0.${'0'.repeat(e - digits.length)}${digits}`;
    return negative ? `-${text}` : text;
  }

  toString(): string {
    return this.toFixed();
  }
}

/** round(m / d) half to even, for safe integers m and d > 0. */
function roundDiv(m: number, d: number): number {
  if (!Number.isFinite(d)) return 0;
  let q = Math.trunc(m / d);
  let r = m - q * d;
  // m / d in floating point can land on the next integer: correct q so that |r| < d with r's sign = m's.
  if (m >= 0) {
    if (r < 0) {
      q -= 1;
      r += d;
    } else if (r >= d) {
      q += 1;
      r -= d;
    }
  } else if (r > 0) {
    q += 1;
    r -= d;
  } else if (r <= -d) {
    q -= 1;
    r += d;
  }
  const twice = 2 * Math.abs(r);
  if (twice > d || (twice === d && q % 2 !== 0)) q += m >= 0 ? 1 : -1;
  return q;
}

function roundDivBig(n: bigint, d: bigint): bigint {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  let q = n / d; // truncates toward zero
  const r = n - q * d;
  const twice = 2n * (r < 0n ? -r : r);
  if (twice > d || (twice === d && q % 2n !== 0n)) q += n >= 0n ? 1n : -1n;
  return q;
}

/**
 * A Fixed and its Decimal, kept together so that a value read again and again (a stock that did
 * not move, a fill at the last fill's price) gives the same Decimal object instead of a new one.
 */
export interface DecimalMemo {
  fixed: Fixed;
  decimal: Decimal;
}

/** The Fixed of a Decimal, kept while the same Decimal object is asked for. */
export function fixedOfDecimal(memo: DecimalMemo, value: Decimal): Fixed {
  if (memo.decimal !== value) {
    memo.decimal = value;
    memo.fixed = Fixed.from(value);
  }
  return memo.fixed;
}

/** value.toDecimal(), the same Decimal object while the value stands (compared by value, not by object). */
export function decimalOfValue(memo: DecimalMemo, value: Fixed): Decimal {
  if (memo.fixed !== value && !memo.fixed.eq(value)) {
    memo.fixed = value;
    memo.decimal = value.toDecimal();
  }
  return memo.decimal;
}

/** value.toDecimal(), the same Decimal object while the same Fixed object is asked for. */
export function decimalOfStock(memo: DecimalMemo, value: Fixed): Decimal {
  if (memo.fixed !== value) {
    memo.fixed = value;
    memo.decimal = value.toDecimal();
  }
  return memo.decimal;
}

/**
 * Equal values as one Decimal (a Decimal is immutable, so holders can share it): what a run
 * keeps many of with few values (its trades' prices and fees) is built once per value instead
 * of once per trade. Bounded: past `limit` values it forgets them all and starts again, so a
 * long run cannot grow it without limit (sharing is then only less complete, never wrong).
 */
export class DecimalCache {
  /** The Decimals by scaled integer, one map per number of decimal places (trailing zeros removed). */
  readonly #byPlaces: (Map<number, Decimal> | undefined)[] = [];
  #size = 0;
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  /**
   * value.toDecimal(), the same Decimal object as for any earlier equal value still remembered
   * (a value beyond a safe integer is its own `big`, not shared).
   */
  of(value: Fixed): Decimal {
    return value.big ?? this.ofScaled(value.m, value.e);
  }

  /** The Decimal `m / 10^places` (`m` a safe integer), shared as `of` shares it. */
  ofScaled(m: number, places: number): Decimal {
    let e = places;
    while (e > 0 && multipleOfTen(m)) {
      m /= 10;
      e -= 1;
    }
    let byM = this.#byPlaces[e];
    if (byM === undefined) this.#byPlaces[e] = byM = new Map();
    let d = byM.get(m);
    if (d === undefined) {
      if (this.#size >= this.#limit) {
        for (const map of this.#byPlaces) map?.clear();
        this.#size = 0;
      }
      d = decimalOf(m, e);
      byM.set(m, d);
      this.#size += 1;
    }
    return d;
  }
}
