/**
 * decimal.js's arithmetic (procura's Decimal: `precision` significant digits, half-even)
 * redone on BigInt coefficients, for the feed's daily sigma figures: the same operations in the
 * same order give the same values, digit for digit, without building a Decimal per step.
 *
 * A value is `c x 10^e` (c a BigInt, any sign). Every operation here is exact and then rounded
 * once to `precision` significant digits, half to even, which is what decimal.js does for
 * plus, minus, times and dividedBy (each result "correctly rounded"); squareRoot is rounded the
 * same way (see inventory-math.ts). Tests compare every function with decimal.js on random
 * values, ties and extremes (test/costfeed/exact40.test.ts).
 *
 * Only for procura's Decimal configuration (half-even): `exactArithmetic()` says whether it
 * applies, and callers keep the decimal.js path otherwise.
 */
import { Decimal } from '../core/decimal.js';
import { BIG_POW10, ExactValue, bigPow10 as pow10, wordDigits } from '../core/decimal-number.js';

/**
 * A decimal value `c x 10^e`, rounded to at most `precision` significant digits. This module
 * makes every value as an ExactValue (core/decimal-number.ts says why a class, not literals).
 */
export interface X {
  readonly c: bigint;
  readonly e: number;
}

const WORD = 10_000_000n;

/** 10^n / 2 for n >= 1 (half of what rounding drops n digits with); index 0 unused. */
const HALF_POW10: bigint[] = BIG_POW10.map((p) => p / 2n);

const NEG_POW10: bigint[] = BIG_POW10.map((p) => -p);

/** -(10^n), from a table (no BigInt made per call). */
function negativePow10(n: number): bigint {
  return n < NEG_POW10.length ? NEG_POW10[n]! : -(10n ** BigInt(n));
}


export const X_ZERO: X = new ExactValue(0n, 0);

/** Whether the configured Decimal rounds as this module does (half-even). */
export function exactArithmetic(): boolean {
  return Decimal.rounding === Decimal.ROUND_HALF_EVEN;
}

/** 10^n as doubles, n = 0..308 (each the double nearest to it, read from its text). */
const POW10_DOUBLE: number[] = Array.from({ length: 309 }, (_, n) => Number(`1e${n}`));

/** Decimal digits of c > 0. */
export function digitsOf(c: bigint): number {
  // A float estimate, then corrected against exact powers of ten.
  const f = Number(c);
  let n = f === Number.POSITIVE_INFINITY ? c.toString().length : Math.floor(Math.log10(f)) + 1;
  if (n < 1) n = 1;
  // Number(c) is within a relative 2^-53 of c and each table double within 2^-53 of its power:
  // a double clear of both powers by a relative 1e-9 puts c between them, with no BigInt compared.
  if (n < POW10_DOUBLE.length && f >= POW10_DOUBLE[n - 1]! * 1.000000001 && f <= POW10_DOUBLE[n]! * 0.999999999) return n;
  while (n > 1 && c < pow10(n - 1)) n -= 1;
  while (c >= pow10(n)) n += 1;
  return n;
}

/**
 * `c x 10^e` (c >= 0) with more digits than fit rounded to `precision` significant digits,
 * half to even; `sticky` says a nonzero part below c was already dropped (so c is not exact).
 */
function roundMagnitude(c: bigint, e: number, sticky: boolean, precision: number): X {
  // Most results fit: one comparison instead of counting digits.
  if (!sticky && c < pow10(precision)) return new ExactValue(c, e);
  const n = digitsOf(c);
  if (n <= precision) {
    if (sticky) throw new Error('exact40: sticky bit on a value that was not rounded');
    return new ExactValue(c, e);
  }
  const drop = n - precision;
  const scale = pow10(drop);
  let kept = c / scale;
  // The dropped part against half of scale (5 x 10^(drop - 1)), half to even; taken as
  // c - kept x scale (a product is cheaper than the second division c % scale would be).
  const rest = c - kept * scale;
  const half = drop < HALF_POW10.length ? HALF_POW10[drop]! : scale / 2n;
  if (rest > half || (rest === half && (sticky || (kept & 1n) === 1n))) kept += 1n;
  // 99..9 rounded up is 10^precision: one more digit, trailing zero.
  if (kept === pow10(precision)) return new ExactValue(kept / 10n, e + drop + 1);
  return new ExactValue(kept, e + drop);
}

function round(c: bigint, e: number, sticky: boolean, precision: number): X {
  if (c < 0n) {
    // Most results fit: kept as they are, without negating twice.
    if (!sticky && c > negativePow10(precision)) return new ExactValue(c, e);
    const r = roundMagnitude(-c, e, sticky, precision);
    return new ExactValue(-r.c, r.e);
  }
  return roundMagnitude(c, e, sticky, precision);
}

/** The exact value of a finite Decimal, read from its base-1e7 words (no text). */
export function fromDecimal(value: Decimal): X {
  const { d: words, e: firstExponent, s: sign } = value as unknown as { d: number[]; e: number; s: number };
  if (words[0] === 0) return X_ZERO;
  let c = BigInt(words[0]!);
  let digits = wordDigits(words[0]!);
  for (let k = 1; k < words.length; k += 1) {
    c = c * WORD + BigInt(words[k]!);
    digits += 7;
  }
  return new ExactValue(sign < 0 ? -c : c, firstExponent - (digits - 1));
}

/** The exact value of a whole number. */
export function fromInteger(n: number): X {
  return new ExactValue(BigInt(n), 0);
}

/** x + y, as `Decimal.plus`. */
export function plus(x: X, y: X): X {
  if (x.c === 0n) return y.c === 0n ? X_ZERO : round(y.c, y.e, false, Decimal.precision);
  if (y.c === 0n) return round(x.c, x.e, false, Decimal.precision);
  // Aligned on the smaller exponent; a coefficient already there is not multiplied by 1.
  const c = x.e === y.e ? x.c + y.c : x.e < y.e ? x.c + y.c * pow10(y.e - x.e) : x.c * pow10(x.e - y.e) + y.c;
  return c === 0n ? X_ZERO : round(c, x.e < y.e ? x.e : y.e, false, Decimal.precision);
}

/** x - y, as `Decimal.minus` (plus of the negated y, without making it). */
export function minus(x: X, y: X): X {
  if (y.c === 0n) return x.c === 0n ? X_ZERO : round(x.c, x.e, false, Decimal.precision);
  if (x.c === 0n) return round(-y.c, y.e, false, Decimal.precision);
  const c = x.e === y.e ? x.c - y.c : x.e < y.e ? x.c - y.c * pow10(y.e - x.e) : x.c * pow10(x.e - y.e) - y.c;
  return c === 0n ? X_ZERO : round(c, x.e < y.e ? x.e : y.e, false, Decimal.precision);
}

/** x times y, as `Decimal.times`. */
export function times(x: X, y: X): X {
  if (x.c === 0n || y.c === 0n) return X_ZERO;
  return round(x.c * y.c, x.e + y.e, false, Decimal.precision);
}

/** x divided by y (y not zero), as `Decimal.dividedBy` (correctly rounded). */
export function dividedBy(x: X, y: X): X {
  if (y.c === 0n) throw new RangeError('exact40: division by zero');
  if (x.c === 0n) return X_ZERO;
  const precision = Decimal.precision;
  const negative = x.c < 0n !== y.c < 0n;
  const a = x.c < 0n ? -x.c : x.c;
  const b = y.c < 0n ? -y.c : y.c;
  const da = digitsOf(a);
  const db = digitsOf(b);
  // Scale a so the quotient has precision digits (or one more): a x 10^k / b >= 10^(precision - 1).
  // The quotient is then rounded from the remainder, which is what is dropped: up when it is
  // more than half of b, or exactly half and the quotient is odd (half to even).
  const k = precision + db - da;
  if (k >= 0) {
    const scaled = a * pow10(k);
    const q = scaled / b;
    const top = pow10(precision);
    if (q < top) {
      const rest = scaled - q * b;
      let c = q;
      if (rest !== 0n) {
        const twice = rest * 2n;
        if (twice > b || (twice === b && (q & 1n) === 1n)) c = q + 1n;
      }
      const e = x.e - y.e - k;
      // 99..9 rounded up is 10^precision: one more digit, trailing zero.
      if (c === top) return new ExactValue(negative ? -(c / 10n) : c / 10n, e + 1);
      return new ExactValue(negative ? -c : c, e);
    }
  }
  // Scale a so the quotient has at least precision + 1 digits: a x 10^k / b >= 10^precision.
  const k1 = Math.max(0, precision + 1 + db - da);
  const scaled = a * pow10(k1);
  const q = scaled / b;
  const sticky = q * b !== scaled;
  const r = roundMagnitude(q, x.e - y.e - k1, sticky, precision);
  return negative ? new ExactValue(-r.c, r.e) : r;
}

/** The sign of x: -1, 0 or 1. */
export function sign(x: X): number {
  return x.c < 0n ? -1 : x.c > 0n ? 1 : 0;
}

/** Whether x and y are the same value. */
export function same(x: X, y: X): boolean {
  if (x.e === y.e) return x.c === y.c;
  if (x.c === 0n || y.c === 0n) return x.c === y.c;
  return x.e < y.e ? x.c === y.c * pow10(y.e - x.e) : y.c === x.c * pow10(x.e - y.e);
}

/**
 * The square root of x > 0 rounded to `precision` significant digits half-even, as decimal.js's
 * `sqrt` (which rounds correctly). The coefficient, padded with zeros to 2 x precision - 1 or
 * 2 x precision digits (an even exponent), is an integer N whose root has exactly `precision`
 * digits: floor(sqrt(N)) = r, rounded up when sqrt(N) > r + 1/2, that is when N - r^2 > r
 * (N - r^2 is a whole number and r^2 + r + 1/4 is not; for the same reason there is no tie to
 * break). A coefficient already wider than that takes the general form below.
 */
export function squareRootOf(x: X): X {
  const precision = Decimal.precision;
  const digits = digitsOf(x.c);
  let pad = 2 * precision - digits;
  if ((x.e - pad) % 2 !== 0) pad -= 1;
  if (pad < 0) return squareRootWide(x, digits, precision);
  const n = x.c * pow10(pad);
  const root = integerSqrt(n);
  const square = lastSquare >= 0n ? lastSquare : root * root;
  const exponent = (x.e - pad) / 2;
  if (n - square <= root) return new ExactValue(root, exponent);
  const up = root + 1n;
  // 99..9 rounded up is 10^precision: one more digit, trailing zero.
  return up === pow10(precision) ? new ExactValue(up / 10n, exponent + 1) : new ExactValue(up, exponent);
}

/**
 * squareRootOf for a coefficient of more than 2 x precision - 1 digits: an integer square root
 * of the coefficient scaled to 2 x (precision + 2) digits at least, rounded with a sticky bit
 * for the discarded part.
 */
function squareRootWide(x: X, digitsOfC: number, precision: number): X {
  let coefficient = x.c;
  let exponent = x.e;
  let digits = digitsOfC;
  if (exponent % 2 !== 0) {
    coefficient *= 10n;
    exponent -= 1;
    digits += 1;
  }
  const want = 2 * (precision + 2);
  if (digits < want) {
    const pad = want - digits + ((want - digits) % 2);
    coefficient *= pow10(pad);
    exponent -= pad;
  }
  const root = integerSqrt(coefficient);
  // integerSqrt's last step compared root^2 with the coefficient: that square is reused.
  const exact = (lastSquare >= 0n ? lastSquare : root * root) === coefficient;
  return roundMagnitude(root, exponent >> 1, !exact, precision); // exponent is even
}

/** root x root for the root integerSqrt returned last (-1n when it did not compute it). */
let lastSquare = 0n;

/** floor(sqrt(n)) for n >= 0, by Newton's method from a floating-point start above the root. */
export function integerSqrt(n: bigint): bigint {
  lastSquare = n < 2n ? n : -1n;
  if (n < 2n) return n;
  const f = Number(n);
  let x: bigint;
  if (f < 1e96) {
    // A start above the root by a relative 1e-12 at most: two Newton steps (each keeps it at or
    // above floor(sqrt(n)) and squares the relative error, halved) leave it within root x 1.3e-49
    // of it, below 1 for roots under 1e48 (the feed's roots have precision + 2 = 42 digits);
    // then it steps down to the floor.
    x = BigInt(Math.ceil(Math.sqrt(f) * (1 + 1e-12))) + 1n;
    x = (x + n / x) >> 1n;
    x = (x + n / x) >> 1n;
    let square = x * x;
    while (square > n) {
      x -= 1n;
      square = x * x;
    }
    lastSquare = square;
    return x;
  }
  if (f < 1e300) x = BigInt(Math.ceil(Math.sqrt(f) * (1 + 1e-12))) + 1n;
  else {
    // Beyond a double: start from 2^ceil(bits / 2), above the root.
    x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  }
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * The Decimal of x, with the same `s`, `e` and `d` as decimal.js gives the same value (its
 * base-1e7 words aligned on the decimal point, the first holding `exponent mod 7 + 1` digits,
 * no trailing zero words); zero is decimal.js's positive zero.
 */
export function toDecimal(x: X): Decimal {
  const out = new Decimal(0);
  if (x.c === 0n) return out;
  const negative = x.c < 0n;
  let text = (negative ? -x.c : x.c).toString();
  let end = text.length;
  while (end > 1 && text.charCodeAt(end - 1) === 48) end -= 1;
  // `| 0` keeps the exponent a small integer whatever x.e is stored as: an X whose `e` field
  // holds a boxed double (any X literal given -0 makes it so for all) reads back a heap number,
  // and one heap number stored as a Decimal's `e` makes that field a boxed double in every
  // Decimal made after it (each then allocates a heap number beside its words).
  const exponent = (text.length - 1 + x.e) | 0;
  text = text.slice(0, end);
  const first = (((exponent % 7) + 7) % 7) + 1;
  // Each word is below 1e7: `| 0` keeps it a small integer, so the array has decimal.js's own
  // elements kind (small integers); products pushed as doubles made a double array, and
  // decimal.js's code then met two kinds of word arrays (polymorphic, and deoptimized).
  const words: number[] = [];
  if (text.length <= first) words.push((Number(text) * 10 ** (first - text.length)) | 0);
  else {
    words.push(Number(text.slice(0, first)) | 0);
    for (let k = first; k < text.length; k += 7) {
      const chunk = text.slice(k, k + 7);
      words.push((Number(chunk) * 10 ** (7 - chunk.length)) | 0);
    }
  }
  const target = out as unknown as { s: number; e: number; d: number[] };
  target.s = negative ? -1 : 1;
  target.e = exponent;
  target.d = words;
  return out;
}
