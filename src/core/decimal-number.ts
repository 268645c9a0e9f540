/**
 * Decimal -> number without going through text. decimal.js's `toNumber` prints the value and
 * parses it back (finiteToString, digitsToString, Number()): about 6 % of a backtest's CPU was
 * spent there, turning the desk's exact figures into the plain numbers rules and statistics read.
 *
 * `toNumberExact(x)` returns exactly what `x.toNumber()` returns (the double nearest to the
 * exact value, -0 for negative zero) by the classic fast path of decimal-to-binary conversion
 * (Clinger 1990): when the value is an integer mantissa M below 2^53 times 10^k with |k| <= 22,
 * M and 10^|k| are both exact doubles, so the one IEEE multiplication or division M x 10^k or
 * M / 10^-k is correctly rounded, the same double `Number(text)` gives. Anything else (more
 * than 15-16 significant digits, larger exponents, NaN, infinities) falls back to `toNumber`.
 */
import type { Decimal } from './decimal.js';

const POW10: readonly number[] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** decimal.js's internal representation: digits in base-1e7 words, the decimal exponent of the first digit, the sign. */
interface DecimalInternals {
  readonly d: readonly number[] | null;
  readonly e: number;
  readonly s: number;
}

/** Digits in one of decimal.js's base-1e7 words (1..7; 1 for 0); also read by inventory-math's square root. */
export function wordDigits(w: number): number {
  return w < 1e3 ? (w < 10 ? 1 : w < 100 ? 2 : 3) : w < 1e5 ? (w < 1e4 ? 4 : 5) : w < 1e6 ? 6 : 7;
}

/** `x.toNumber()`, the same double, computed without text when that is provably exact (see the module comment). */
export function toNumberExact(x: Decimal): number {
  const value = numberWithoutText(x);
  return value === undefined ? x.toNumber() : value;
}

/** `x.toNumber()` when the fast path applies (see the module comment), else undefined (the caller converts through text). */
export function numberWithoutText(x: Decimal): number | undefined {
  const { d, e, s } = x as unknown as DecimalInternals;
  if (d === null || d.length > 3) return undefined;
  let m = d[0]!;
  for (let i = 1; i < d.length; i += 1) m = m * 1e7 + d[i]!;
  // Exact while the true mantissa is a safe integer; a larger one rounds to >= 2^53 and is caught here.
  if (!(m <= Number.MAX_SAFE_INTEGER)) return undefined;
  // The value is m x 10^k: m's last digit sits k places from the units.
  let k = e - (wordDigits(d[0]!) + 7 * (d.length - 1) - 1);
  while (k < -22 && m !== 0 && m % 10 === 0) {
    m /= 10;
    k += 1;
  }
  let value: number;
  if (k >= 0 && k <= 22) value = m * POW10[k]!;
  else if (k < 0 && k >= -22) value = m / POW10[-k]!;
  else return undefined;
  return s < 0 ? -value : value;
}

const remembered = new WeakMap<Decimal, number>();

/**
 * `x.toNumber()`: without text when that is exact (numberWithoutText), else converted once per
 * Decimal instance and remembered (long quotients such as average or unit prices, which the
 * desk keeps as the same instance from day to day and reads daily).
 */
export function toNumberRemembered(x: Decimal): number {
  let n = numberWithoutText(x);
  if (n !== undefined) return n;
  n = remembered.get(x);
  if (n === undefined) {
    n = x.toNumber();
    remembered.set(x, n);
  }
  return n;
}

/**
 * `new Decimal(String(x))` for a finite number, built from the text's digits without
 * decimal.js's parser (the desk turns every quoted price it reads into a Decimal this way):
 * decimal.js keeps base-1e7 words aligned on the decimal point, the first holding
 * `exponent mod 7 + 1` digits, trailing zero words removed, and `e` the exponent of the first
 * digit. Zero, exponent notation ("1e+21", "5e-7") and values that are not finite go through
 * the constructor. `Ctor` is the configured Decimal (construction does not round: the text's
 * 17 digits at most fit any precision procura uses). The tests compare it with the
 * constructor on random values.
 */
export function decimalOfNumber(Ctor: new (value: string | number) => Decimal, x: number): Decimal {
  const text = String(x);
  if (x === 0 || !Number.isFinite(x) || text.includes('e')) return new Ctor(text);
  const negative = x < 0;
  const start = negative ? 1 : 0;
  const dot = text.indexOf('.');
  const intEnd = dot < 0 ? text.length : dot;
  // The significant digits: from the first nonzero one to the last nonzero one.
  let first = start;
  while (first < text.length && (text.charCodeAt(first) === 48 || text.charCodeAt(first) === 46)) first += 1;
  let last = text.length - 1;
  while (last > first && (text.charCodeAt(last) === 48 || text.charCodeAt(last) === 46)) last -= 1;
  // Exponent of the first significant digit.
  const exponent = first < intEnd ? intEnd - first - 1 : intEnd - first;
  // Digits into words: `head` in the first, then 7 each, the last padded with zeros.
  const words: number[] = [];
  let room = (((exponent % 7) + 7) % 7) + 1;
  let word = 0;
  for (let i = first; i <= last; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 46) continue;
    word = word * 10 + (code - 48);
    room -= 1;
    if (room === 0) {
      words.push(word);
      word = 0;
      room = 7;
    }
  }
  if (room !== 7) words.push(word * POW10[room]!);
  const out = new Ctor(0);
  // Same own properties, in the same order, as a constructed Decimal (one hidden class).
  const target = out as unknown as { s: number; e: number; d: number[] };
  target.s = negative ? -1 : 1;
  target.e = exponent;
  target.d = words;
  return out;
}

const BIG_POW10: readonly bigint[] = POW10.map((p) => BigInt(p));

/**
 * The exact value of `new Decimal(String(x))` as a coefficient and exponent, c x 10^e, for a
 * finite x (exact40's form; undefined for values that are not finite): the digits of x's
 * shortest text read as an integer, without a Decimal. Zero is { c: 0n, e: 0 }.
 */
export function exactOfNumber(x: number): { c: bigint; e: number } | undefined {
  if (!Number.isFinite(x)) return undefined;
  if (x === 0) return { c: 0n, e: 0 };
  const text = String(x);
  const negative = x < 0;
  let end = text.length;
  let scale = 0;
  const mark = text.indexOf('e');
  if (mark >= 0) {
    scale = Number(text.slice(mark + 1));
    end = mark;
  }
  // Digits as one or two safe integers (at most 17 digits in all), counting those after the point.
  let high = 0;
  let low = 0;
  let lowDigits = 0;
  let fraction = 0;
  let inFraction = false;
  for (let i = negative ? 1 : 0; i < end; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      inFraction = true;
      continue;
    }
    if (inFraction) fraction += 1;
    if (high < 1e8) high = high * 10 + (code - 48);
    else {
      low = low * 10 + (code - 48);
      lowDigits += 1;
    }
  }
  const c = lowDigits === 0 ? BigInt(high) : BigInt(high) * BIG_POW10[lowDigits]! + BigInt(low);
  return { c: negative ? -c : c, e: scale - fraction };
}
