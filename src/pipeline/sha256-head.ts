/**
 * The first 96 bits of a short ASCII text's SHA-256 in base 36: what a client order id is
 * made of (`BigInt('0x' + sha256Hex(text).slice(0, 24)).toString(36)`), computed in JavaScript.
 *
 * Why not node:crypto: a backtest derives an id for every order (about 25,000 in the main job),
 * and the crypto call crosses into C++, encodes the text, writes 64 hex characters, and the id
 * then takes a slice, a `0x` text, a BigInt parse and a BigInt's base-36 text: six strings
 * and a BigInt of garbage an order, and the id's part of the main job's CPU was 2.6 %. Here the
 * text is written piece by piece into a reused word array (startText, addText, addInteger), its
 * one or two 64-byte blocks hashed there (finishText), and the three words the id keeps become
 * base 36 in 24-bit limbs (every intermediate below 2^53, so exact in doubles): one string an
 * id, about 1.5 % of the main job's CPU.
 *
 * Texts with a character beyond ASCII (their UTF-8 bytes differ from their code units) or
 * longer than MAX_LENGTH give undefined: the caller takes node:crypto for them.
 */

/** The longest text hashed here: four blocks (64 bytes each, 9 of the last taken by the padding). */
export const MAX_LENGTH = 4 * 64 - 9;

/** SHA-256's round constants (FIPS 180-4, 4.2.2). */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** The padded message's words (reused: the hash is synchronous). */
const message = new Int32Array((MAX_LENGTH + 9) / 4);
/** One block's message schedule (reused). */
const schedule = new Int32Array(64);
/** The hash state h0..h7 (reused). */
const state = new Int32Array(8);

/** The text written so far: its length in bytes, and whether every character was ASCII. */
let length = 0;
let ascii = true;

/**
 * `prefix` then the first 96 bits of the SHA-256 of `head + tail` in base 36; undefined for a
 * text this does not hash (see the module comment).
 */
export function sha256Head96Base36(prefix: string, head: string, tail = ''): string | undefined {
  startText();
  addText(head);
  addText(tail);
  return finishText(prefix);
}

/**
 * Starts a text to hash, written piece by piece with addText and addInteger and hashed by
 * finishText: a caller that keeps the parts of its texts (client-order-id.ts) writes them as
 * they are, without joining them into a string first (a join of 13 characters or more is a cons
 * string, which every character read walks) or writing a number's digits as a string.
 */
export function startText(): void {
  message.fill(0);
  length = 0;
  ascii = true;
}

/** Adds a string's characters to the text (a character beyond ASCII makes finishText give undefined). */
export function addText(text: string): void {
  const from = length;
  const n = text.length;
  length += n;
  if (length > MAX_LENGTH) return;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) ascii = false;
    writeByte(from + i, code);
  }
}

/** The decimal digits of a safe integer, least significant first (reused). */
const digits: number[] = [];

/**
 * Adds a safe integer's decimal text, as String(n) writes it (a '-' for a negative one; -0 is
 * 0). A magnitude of 2^31 or more (a time in ms) is split at 10^9 into two parts below 2^31,
 * whose digits are then taken in integer arithmetic (a double's % is a library call).
 */
export function addInteger(n: number): void {
  const magnitude = n < 0 ? -n : n;
  let count = 0;
  if (magnitude < 0x80000000) count = digitsOf(magnitude, 0, 1);
  else {
    const low = magnitude % 1e9;
    count = digitsOf(low, 0, 9);
    count = digitsOf((magnitude - low) / 1e9, count, 1);
  }
  const from = length;
  const sign = n < 0 ? 1 : 0;
  length += sign + count;
  if (length > MAX_LENGTH) return;
  if (sign === 1) writeByte(from, 0x2d);
  for (let i = 0; i < count; i++) writeByte(from + sign + i, 0x30 + digits[count - 1 - i]!);
}

/** Puts the digits of `value` (below 2^31), least significant first, into digits from `at`, at least `width` of them (zeros in front); the count so far. */
function digitsOf(value: number, at: number, width: number): number {
  let rest = value | 0;
  let count = at;
  const end = at + width;
  do {
    const digit = rest % 10;
    digits[count++] = digit;
    rest = (rest - digit) / 10;
  } while (rest !== 0 || count < end);
  return count;
}

/** `prefix` then the first 96 bits of the text's SHA-256 in base 36; undefined for a text beyond ASCII or longer than MAX_LENGTH. */
export function finishText(prefix: string): string | undefined {
  if (!ascii || length > MAX_LENGTH) return undefined;
  const blocks = (length + 9 + 63) >>> 6;
  const words = blocks * 16;
  writeByte(length, 0x80);
  // The length in bits, big-endian in the last two words (below 2^32 here: the high word stays 0).
  message[words - 1] = length * 8;
  state[0] = 0x6a09e667;
  state[1] = 0xbb67ae85;
  state[2] = 0x3c6ef372;
  state[3] = 0xa54ff53a;
  state[4] = 0x510e527f;
  state[5] = 0x9b05688c;
  state[6] = 0x1f83d9ab;
  state[7] = 0x5be0cd19;
  for (let block = 0; block < blocks; block++) compress(block * 16);
  return base36Of96(prefix, state[0]! >>> 0, state[1]! >>> 0, state[2]! >>> 0);
}

/** Puts a byte at its big-endian place in the message's words (the message was zeroed by startText). */
function writeByte(at: number, byte: number): void {
  message[at >> 2]! |= byte << (24 - ((at & 3) << 3));
}

/** SHA-256's compression of the message block starting at word `offset` into `state`. */
function compress(offset: number): void {
  const w = schedule;
  for (let t = 0; t < 16; t++) w[t] = message[offset + t]!;
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** 36^5, a group of five base-36 digits: a remainder below it times 2^24 plus a 24-bit limb stays below 2^50 (exact in a double). */
const GROUP = 36 ** 5;

/** The character codes of the digits 0-9 and a-z. */
const DIGIT_CODES = Array.from('0123456789abcdefghijklmnopqrstuvwxyz', (c) => c.charCodeAt(0));

/** The number's groups of five digits, least significant first (reused; 36^20 > 2^96, so four at most). */
const groups = [0, 0, 0, 0];
/** The text's character codes, prefix then digits (reused; its length set to the text's). */
const codes: number[] = [];

/**
 * (Exported for its test.) `prefix` then the unsigned 96-bit number hi * 2^64 + mid * 2^32 + lo
 * in base 36 (as BigInt's toString(36): lowercase, no leading zeros), as one flat string.
 */
export function base36Of96(prefix: string, hi: number, mid: number, lo: number): string {
  // Four 24-bit limbs, most significant first, divided by 36^5 until zero; each remainder is a group.
  let l0 = hi >>> 8;
  let l1 = ((hi & 0xff) << 16) | (mid >>> 16);
  let l2 = ((mid & 0xffff) << 8) | (lo >>> 24);
  let l3 = lo & 0xffffff;
  let n = 0;
  do {
    let r = l0;
    l0 = Math.floor(r / GROUP);
    r = (r - l0 * GROUP) * 0x1000000 + l1;
    l1 = Math.floor(r / GROUP);
    r = (r - l1 * GROUP) * 0x1000000 + l2;
    l2 = Math.floor(r / GROUP);
    r = (r - l2 * GROUP) * 0x1000000 + l3;
    l3 = Math.floor(r / GROUP);
    groups[n++] = r - l3 * GROUP;
  } while ((l0 | l1 | l2 | l3) !== 0);
  // The leading group without its leading zeros (one 0 when the number is zero), then the others with theirs.
  const leading = groups[n - 1]!;
  let width = 1;
  for (let top = 36; top <= leading && width < 5; top *= 36) width += 1;
  const p = prefix.length;
  codes.length = p + width + (n - 1) * 5;
  for (let i = 0; i < p; i++) codes[i] = prefix.charCodeAt(i);
  let end = p + width;
  writeDigits(leading, end, width);
  for (let g = n - 2; g >= 0; g--) {
    end += 5;
    writeDigits(groups[g]!, end, 5);
  }
  return String.fromCharCode.apply(null, codes);
}

/** Writes `value`'s last `width` base-36 digits into codes, the last one at end - 1. */
function writeDigits(value: number, end: number, width: number): void {
  let r = value;
  for (let i = 1; i <= width; i++) {
    const digit = r % 36;
    codes[end - i] = DIGIT_CODES[digit]!;
    r = (r - digit) / 36;
  }
}
