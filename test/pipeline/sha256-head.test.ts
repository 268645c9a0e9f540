import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MAX_LENGTH, addInteger, addText, base36Of96, finishText, sha256Head96Base36, startText } from '../../src/pipeline/sha256-head.js';

/** The definition: node:crypto's SHA-256, its first 24 hex digits as a BigInt in base 36. */
const reference = (prefix: string, text: string) => `${prefix}${BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 24)}`).toString(36)}`;

const ascii = (minLength: number, maxLength: number) =>
  fc.array(fc.integer({ min: 0, max: 0x7f }), { minLength, maxLength }).map((codes) => String.fromCharCode(...codes));

describe('sha256Head96Base36', () => {
  it('is node:crypto’s first 96 bits in base 36 for every ASCII text up to MAX_LENGTH, one to four blocks (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('pc-', '', 'x'), ascii(0, MAX_LENGTH), (prefix, text) => {
        expect(sha256Head96Base36(prefix, text)).toBe(reference(prefix, text));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes a text given in two parts as the joined text, wherever it is split (property)', () => {
    fc.assert(
      fc.property(ascii(0, MAX_LENGTH), fc.nat(), (text, at) => {
        const split = at % (text.length + 1);
        expect(sha256Head96Base36('pc-', text.slice(0, split), text.slice(split))).toBe(reference('pc-', text));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a text written in pieces, safe integers as String writes them, as the joined text (property)', () => {
    const piece = fc.oneof(
      ascii(0, 30).map((text) => ({ text, integer: undefined })),
      fc.oneof(fc.constantFrom(0, -0, 9, 10, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_704_067_200_000), fc.maxSafeInteger()).map((integer) => ({ text: undefined, integer })),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        startText();
        let joined = '';
        for (const { text, integer } of pieces) {
          if (text !== undefined) addText(text);
          else addInteger(integer!);
          joined += text ?? String(integer);
        }
        expect(finishText('pc-')).toBe(joined.length > MAX_LENGTH ? undefined : reference('pc-', joined));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes the lengths at the padding’s block edges', () => {
    for (const length of [0, 1, 54, 55, 56, 63, 64, 65, 118, 119, 120, 127, 128, 183, 184, 191, 192, MAX_LENGTH]) {
      const text = 'a"9-,['.repeat(50).slice(0, length);
      expect(text.length).toBe(length);
      expect(sha256Head96Base36('pc-', text)).toBe(reference('pc-', text));
    }
  });

  it('leaves a text beyond ASCII or longer than MAX_LENGTH to node:crypto (property)', () => {
    fc.assert(
      fc.property(ascii(0, 40), fc.integer({ min: 0x80, max: 0xffff }), ascii(0, 40), (before, code, after) => {
        expect(sha256Head96Base36('pc-', `${before}${String.fromCharCode(code)}${after}`)).toBeUndefined();
        expect(sha256Head96Base36('pc-', before, `${String.fromCharCode(code)}${after}`)).toBeUndefined();
      }),
    );
    expect(sha256Head96Base36('pc-', 'a'.repeat(MAX_LENGTH + 1))).toBeUndefined();
  });
});

describe('base36Of96', () => {
  const word = fc.oneof(fc.constantFrom(0, 1, 35, 36, 0xffff, 0x10000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
  it('writes a 96-bit number as BigInt’s toString(36) does: no leading zeros, 0 for zero (property)', () => {
    fc.assert(
      fc.property(word, word, word, (hi, mid, lo) => {
        const expected = ((BigInt(hi) << 64n) | (BigInt(mid) << 32n) | BigInt(lo)).toString(36);
        expect(base36Of96('pc-', hi, mid, lo)).toBe(`pc-${expected}`);
      }),
      { numRuns: 1000 },
    );
    expect(base36Of96('', 0, 0, 0)).toBe('0');
    expect(base36Of96('', 0, 0, 36 ** 4)).toBe('10000');
  });
});
