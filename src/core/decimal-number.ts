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
import type { Fixed } from './fixed.js';

/** 10^n as doubles, n = 0..22 (each exact). */
export const POW10: readonly number[] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

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

/**
 * `x.toNumber()`, the same double, computed without text: by numberWithoutText when that
 * applies, else (long mantissas: a quotient's 40 digits) by numberOfWords; through text only
 * when neither can prove its double.
 */
export function toNumberExact(x: Decimal): number {
  const value = numberWithoutText(x) ?? numberOfWords(x as unknown as DecimalInternals);
  return value === undefined ? x.toNumber() : value;
}

// Double-double arithmetic (a value as an unevaluated sum hi + lo of two doubles, |lo| <= half
// an ulp of hi; Dekker 1971, Knuth's TwoSum): about 106 bits, enough to place a 40-digit decimal
// between two doubles' midpoints without BigInt or text.
let ddHi = 0;
let ddLo = 0;
/** Dekker's split constant 2^27 + 1. */
const SPLIT = 134217729;

/** ddHi + ddLo := a x b exactly (a and b doubles far from overflow). */
function twoProduct(a: number, b: number): void {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  ddHi = p;
  ddLo = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** (hi, lo) x (bh, bl), normalized into ddHi, ddLo (relative error a few units of 2^-106). */
function ddTimes(hi: number, lo: number, bh: number, bl: number): void {
  twoProduct(hi, bh);
  const p = ddHi;
  const e = ddLo + (hi * bl + lo * bh);
  ddHi = p + e;
  ddLo = e - (ddHi - p);
}

/** (hi, lo) x w + v for small exact doubles w and v (the words of a mantissa), normalized into ddHi, ddLo. */
function ddTimesPlus(hi: number, lo: number, w: number, v: number): void {
  twoProduct(hi, w);
  let p = ddHi;
  let e = ddLo + lo * w;
  // + v by TwoSum.
  const s = p + v;
  const bb = s - p;
  e += p - (s - bb) + (v - bb);
  p = s;
  ddHi = p + e;
  ddLo = e - (ddHi - p);
}

/** (ah, al) / (bh, bl), normalized into ddHi, ddLo: three quotient digits (relative error far below 2^-100). */
function ddDivide(ah: number, al: number, bh: number, bl: number): void {
  const q1 = ah / bh;
  ddTimes(bh, bl, q1, 0);
  let s = ah - ddHi;
  let bb = s - ah;
  let f = ah - (s - bb) + (-ddHi - bb) + al - ddLo;
  let rh = s + f;
  let rl = f - (rh - s);
  const q2 = rh / bh;
  ddTimes(bh, bl, q2, 0);
  s = rh - ddHi;
  bb = s - rh;
  f = rh - (s - bb) + (-ddHi - bb) + rl - ddLo;
  rh = s + f;
  rl = f - (rh - s);
  const q3 = rh / bh;
  // q1 + q2 + q3, renormalized.
  let hi = q1 + q2;
  let lo = q2 - (hi - q1);
  const t = hi + q3;
  bb = t - hi;
  lo += hi - (t - bb) + (q3 - bb);
  hi = t;
  ddHi = hi + lo;
  ddLo = lo - (ddHi - hi);
}

/** 10^n as a double-double, for 0 <= n <= 300, computed once each from BigInt (hi rounded to nearest, lo the rest rounded). */
const TEN_HI = new Float64Array(301);
const TEN_LO = new Float64Array(301);
const TEN_READY = new Uint8Array(301);
function tenTo(n: number): void {
  if (TEN_READY[n] === 0) {
    const exact = 10n ** BigInt(n);
    const hi = Number(exact);
    TEN_HI[n] = hi;
    TEN_LO[n] = Number(exact - BigInt(hi));
    TEN_READY[n] = 1;
  }
  ddHi = TEN_HI[n]!;
  ddLo = TEN_LO[n]!;
}

/** 2^-88: the margin, relative to the value, that the double-double result is trusted to. */
const MARGIN = 2 ** -88;

/**
 * The double nearest to a Decimal's exact value (its toNumber), from its base-1e7 words in
 * double-double arithmetic: the mantissa M (up to 49 digits) and M x 10^k or M / 10^-k, each
 * within a relative 2^-100 or so of the exact value V. hi + lo is then V to within
 * eps = |hi| x 2^-88 (a wide margin); the doubles nearest to (hi + lo - eps) and to
 * (hi + lo + eps) bound the double nearest to V (rounding is monotone), and when they are the
 * same double, that is V's. Undefined when they differ (V within eps of a midpoint between two
 * doubles, about 1 value in 2^35) or outside the range handled (NaN, infinities, tiny or huge
 * values): the caller converts through text.
 */
function numberOfWords(x: DecimalInternals): number | undefined {
  const { d, e, s } = x;
  if (d === null || d.length > 7) return undefined;
  const n = d.length;
  let hi = d[0]!;
  let lo = 0;
  for (let i = 1; i < n; i += 1) {
    ddTimesPlus(hi, lo, 1e7, d[i]!);
    hi = ddHi;
    lo = ddLo;
  }
  const k = e - (wordDigits(d[0]!) + 7 * (n - 1) - 1);
  if (k > 0) {
    if (k > 250) return undefined;
    tenTo(k);
    ddTimes(hi, lo, ddHi, ddLo);
  } else if (k < 0) {
    if (k < -250) return undefined;
    tenTo(-k);
    ddDivide(hi, lo, ddHi, ddLo);
  } else {
    ddHi = hi;
    ddLo = lo;
  }
  hi = ddHi;
  lo = ddLo;
  if (!(hi > 1e-250 && hi < 1e250)) return undefined;
  const eps = hi * MARGIN;
  const below = hi + (lo - eps);
  const above = hi + (lo + eps);
  if (below !== above) return undefined;
  return s < 0 ? -below : below;
}

/** 10^n as BigInts, n = 0..400: the one table of them (exact40, Fixed and the conversions here read it). */
export const BIG_POW10: readonly bigint[] = (() => {
  const table = [1n];
  for (let i = 1; i <= 400; i += 1) table.push(table[i - 1]! * 10n);
  return table;
})();

/** 10^n as a BigInt: from BIG_POW10, else computed. */
export function bigPow10(n: number): bigint {
  return n < BIG_POW10.length ? BIG_POW10[n]! : 10n ** BigInt(n);
}
const LOG2_10 = Math.log2(10);
/** 2^-s for s = 0..1000, and s as a BigInt (both exact). */
const TWO_NEG: number[] = [];
const BIG_S: bigint[] = [];
for (let i = 0; i <= 1000; i += 1) {
  TWO_NEG.push(2 ** -i);
  BIG_S.push(BigInt(i));
}

/**
 * The double nearest to c x 10^k (c a BigInt, exact; ties to even): what `Number(text)` and so
 * decimal.js's `toNumber` give for that value, -0 aside (c = 0 gives +0). Undefined where the
 * method below does not apply (tiny results, huge exponents): the caller converts through text.
 */
export function numberOfScaled(c: bigint, k: number): number | undefined {
  if (c === 0n) return 0;
  const negative = c < 0n;
  const m = negative ? -c : c;
  const f = Number(m);
  if (!(f < Number.POSITIVE_INFINITY)) return undefined;
  if (k < 0 && k >= -250 && f < 1e250) {
    const value = quotientByDoubleDouble(m, f, -k);
    if (value !== undefined) return negative ? -value : value;
  }
  // Digits of m to within one (the margin in scaledMagnitudeToNumber covers it).
  const digits = Math.max(1, Math.floor(Math.log10(f)) + 1);
  const value = scaledMagnitudeToNumber(m, digits, k);
  if (value === undefined) return undefined;
  return negative ? -value : value;
}

/**
 * The double nearest to m / 10^n (m > 0, f = Number(m) finite, 0 < n <= 250) in double-double
 * arithmetic, as numberOfWords does, without BigInt division: m is f + (m - f) exactly, the rest
 * below half an ulp of f, so f and Number(m - f) are m to within a relative 2^-106; the quotient
 * by 10^n (ddDivide) is within a relative 2^-100 or so, and the doubles nearest to it less and
 * plus the margin (2^-88 of it) bound the double nearest to the exact value. When they are the
 * same double, that is the one scaledMagnitudeToNumber gives; undefined when they differ (the
 * value within the margin of a midpoint between two doubles) or the quotient is near the ends of
 * the doubles' range: the caller then divides in BigInt. The cost feed's figures and the desk's
 * running sums are 40-digit quotients read as numbers every day; one BigInt subtraction here
 * replaced a shift, a division and a multiplication of 300-bit values.
 */
function quotientByDoubleDouble(m: bigint, f: number, n: number): number | undefined {
  const lo = f < 9007199254740992 ? 0 : Number(m - BigInt(f));
  tenTo(n);
  ddDivide(f, lo, ddHi, ddLo);
  const hi = ddHi;
  if (!(hi > 1e-250 && hi < 1e250)) return undefined;
  const eps = hi * MARGIN;
  const below = hi + (ddLo - eps);
  const above = hi + (ddLo + eps);
  return below === above ? below : undefined;
}

/**
 * The double nearest to m x 10^k for m > 0 with about `digits` digits (one more or less is
 * fine). For k >= 0 the BigInt m x 10^k itself is converted (Number(bigint) rounds to nearest,
 * ties to even). For k < 0 the quotient q = floor(m x 2^s / 10^-k) is taken with s chosen so
 * that q has at least 58 bits, its last bit set when the division left a remainder (a sticky
 * bit far below the 53 kept, so Number(q) rounds as the exact quotient would), then scaled by
 * 2^-s, which is exact while the result is a normal double.
 */
function scaledMagnitudeToNumber(m: bigint, digits: number, k: number): number | undefined {
  if (k >= 0) return k > 400 ? undefined : Number(m * BIG_POW10[k]!);
  const n = -k;
  if (n > 400) return undefined;
  // m >= 10^(digits - 2) and 10^n < 2^(n log2 10): the quotient is above 2^(s - (n - digits + 2) log2 10).
  const s = Math.max(0, Math.ceil((n - digits + 2) * LOG2_10) + 58);
  if (s > 1000) return undefined;
  const scaled = m << BIG_S[s]!;
  const d = BIG_POW10[n]!;
  const q = scaled / d;
  const value = Number(q * d === scaled ? q : q | 1n) * TWO_NEG[s]!;
  return value >= 1e-290 ? value : undefined;
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

/**
 * A Fixed's value as a double: what toNumber of its Decimal gives. m / 10^e with m a safe
 * integer and 10^e exact (e <= 22) is one correctly rounded IEEE division, the double nearest
 * to the exact value; anything else goes through toNumberExact.
 */
export function numberOfFixed(f: Fixed): number {
  if (f.big !== undefined) return toNumberExact(f.big);
  if (f.e <= 22) return f.m / POW10[f.e]!;
  return toNumberExact(f.toDecimal());
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
 * Whether the safe integer x is a multiple of ten, without `x % 10`: on a double beyond 32 bits
 * that is a call to fmod, about three times the cost of this in the loops that strip trailing
 * zeros (Fixed's, decimalOfScaled's). x / 10 is an integer exactly when ten divides x: then the
 * quotient is exact; otherwise x / 10 = k + f with f at least 0.1 from an integer and |k| <
 * 2^50, where doubles are at most 1/8 apart, so the rounded quotient is no integer either.
 */
export function multipleOfTen(x: number): boolean {
  const q = x / 10;
  return Math.floor(q) === q;
}

/**
 * The Decimal m / 10^places (m a nonzero safe integer, places >= 0) built from its words, as
 * decimal.js keeps them (see decimalOfNumber).
 */
export function decimalOfScaled(Ctor: new (value: string | number) => Decimal, m: number, places: number): Decimal {
  let whole = m < 0 ? -m : m;
  let p = places;
  while (multipleOfTen(whole)) {
    whole /= 10;
    p -= 1;
  }
  let n = 1;
  while (n < 16 && whole >= POW10[n]!) n += 1;
  const exponent = n - 1 - p;
  const first = (((exponent % 7) + 7) % 7) + 1;
  // The words (at most four for 16 digits) in locals, then one array of exactly their length: a
  // `[]` grown by push reserved 17 places (about 130 bytes a Decimal, kept as long as the Decimal).
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let count = 1;
  if (n <= first) w0 = whole * POW10[first - n]!;
  else {
    // Whole words from the top: a double division may land a unit off, corrected against the product.
    let r = n - first;
    let head = Math.floor(whole / POW10[r]!);
    if (head * POW10[r]! > whole) head -= 1;
    w0 = head;
    let rest = whole - head * POW10[r]!;
    while (r > 0) {
      let word: number;
      if (r >= 7) {
        r -= 7;
        word = Math.floor(rest / POW10[r]!);
        if (word * POW10[r]! > rest) word -= 1;
        rest -= word * POW10[r]!;
      } else {
        word = rest * POW10[7 - r]!;
        r = 0;
      }
      if (count === 1) w1 = word;
      else if (count === 2) w2 = word;
      else w3 = word;
      count += 1;
    }
  }
  // No trailing zero words (decimal.js drops them).
  if (count === 4 && w3 === 0) count = 3;
  if (count === 3 && w2 === 0) count = 2;
  if (count === 2 && w1 === 0) count = 1;
  // Each word is below 1e7: `| 0` makes it a small integer, so the array has decimal.js's own
  // elements kind (small integers). The words as computed (doubles) made a double array, and
  // decimal.js's code then met two kinds of word arrays (polymorphic, and deoptimized).
  const words = count === 1 ? [w0 | 0] : count === 2 ? [w0 | 0, w1 | 0] : count === 3 ? [w0 | 0, w1 | 0, w2 | 0] : [w0 | 0, w1 | 0, w2 | 0, w3 | 0];
  const out = new Ctor(0);
  // Same own properties, in the same order, as a constructed Decimal (one hidden class).
  const target = out as unknown as { s: number; e: number; d: number[] };
  target.s = m < 0 ? -1 : 1;
  target.e = exponent;
  target.d = words;
  return out;
}

/**
 * `new Decimal(String(x))` for a finite number, built from its digits without decimal.js's
 * parser (the desk turns every quoted price it reads into a Decimal this way): found without
 * the text when x has a few places (see shortPlaces), else read from the text. decimal.js keeps
 * base-1e7 words aligned on the decimal point, the first holding `exponent mod 7 + 1` digits,
 * trailing zero words removed, and `e` the exponent of the first digit. Zero, values that are
 * not finite and the text in exponent notation ("1e+21", "5e-300") go through the constructor. `Ctor` is the configured Decimal (construction does not round: the text's
 * 17 digits at most fit any precision procura uses). The tests compare it with the
 * constructor on random values.
 */
export function decimalOfNumber(Ctor: new (value: string | number) => Decimal, x: number): Decimal {
  // A number with a few places (most prices): its digits as a whole number, without the text.
  const places = Number.isFinite(x) && x !== 0 ? shortPlaces(x) : -1;
  if (places >= 0) return decimalOfScaled(Ctor, Math.round(x * POW10[places]!), places);
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

/**
 * The fewest decimal places p (0 to 15) at which one whole number m, and only one, has m / 10^p
 * read back as x (a double division of two exact operands rounds correctly, so that is the
 * decimal m x 10^-p rounding to x); -1 when there is none or more than one, or x x 10^p leaves
 * the safe integers. That decimal is then String(x)'s: the shortest text that reads back as x
 * has the fewest places of all those that do (they share the leading digit's position, so fewer
 * places is fewer digits), and with one candidate at those places it is the one. x x 10^p is
 * within a unit of the candidate (the product is rounded by at most half a unit below 2^53, and
 * every decimal that reads back as x is within half a unit of x x 10^p when only one can), so
 * the candidates are looked for among round(x x 10^p) and its two neighbours. Prices and rates
 * with a few places are found in a few steps, without the text String(x) makes.
 */
export function shortPlaces(x: number): number {
  for (let p = 0; p <= 15; p += 1) {
    const scale = POW10[p]!;
    const scaled = x * scale;
    if (!(scaled < 9e15 && scaled > -9e15)) return -1;
    const m = Math.round(scaled);
    const below = (m - 1) / scale === x;
    const at = m / scale === x;
    const above = (m + 1) / scale === x;
    if (below || at || above) return at && !below && !above ? p : -1;
  }
  return -1;
}

/**
 * An exact decimal value c x 10^e (the cost feed's exact40 values). Made by this class, not as
 * `{ c, e }` literals: every literal with the same two keys shares one hidden class, and a
 * single -0 (or other heap number) given as `e` anywhere turned that field into a boxed double
 * for all of them, so each value allocated a heap number beside it and kept it. A class has its
 * hidden class to itself, and its fields start undefined (ES2022 class fields), so `e` holds
 * small integers unboxed whatever it is once given.
 */
export class ExactValue {
  constructor(
    readonly c: bigint,
    readonly e: number,
  ) {}
}

/**
 * The exact value of `new Decimal(String(x))` as a coefficient and exponent, c x 10^e, for a
 * finite x (exact40's form; undefined for values that are not finite): the digits of x's
 * shortest text read as an integer, without a Decimal. Zero is c = 0n, e = 0.
 */
export function exactOfNumber(x: number): ExactValue | undefined {
  if (!Number.isFinite(x)) return undefined;
  if (x === 0) return new ExactValue(0n, 0);
  const places = shortPlaces(x);
  if (places >= 0) return new ExactValue(BigInt(Math.round(x * POW10[places]!)), 0 - places); // -0 would be a heap number
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
  return new ExactValue(negative ? -c : c, scale - fraction);
}

/**
 * `Number(x.toFixed(places))` (places 0..15) without the text: the double nearest to x rounded
 * to `places` decimals, half away from zero on x's exact value, as toFixed rounds. Let
 * y = x * 10^places, computed in floating point with an error of at most 2^-52 |y|. While
 * |y| < 2^52 and y's fraction is further than that error from one half, the exact product
 * rounds to the same integer N as y does, and N / 10^places (N and 10^places exact doubles, one
 * correctly rounded division) is the double nearest to the decimal toFixed prints, which is what
 * Number() parses it to. A near-tie, a zero (toFixed drops the sign of -0) or anything beyond
 * takes toFixed itself. The screening engine rounds every buy to the pipeline's 6 places with
 * it (a tenth of its day loop was this round trip through text).
 */
export function roundedAsToFixed(x: number, places: number): number {
  const scale = POW10[places]!;
  const y = x * scale;
  // On the magnitude: toFixed rounds |x| and puts the sign back, and m - floor(m) is exact for m >= 0.
  const m = y < 0 ? -y : y;
  if (m < 4503599627370496) {
    const floor = Math.floor(m);
    const fraction = m - floor;
    const margin = m * 2.3e-16;
    if (fraction - 0.5 > margin || 0.5 - fraction > margin) {
      const n = fraction > 0.5 ? floor + 1 : floor;
      if (n !== 0) return (y < 0 ? -n : n) / scale;
    }
  }
  return Number(x.toFixed(places));
}
