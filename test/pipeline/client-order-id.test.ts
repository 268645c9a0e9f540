import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CLIENT_ORDER_ID_PATTERN, clientOrderIdOf, deriveClientOrderId, type ClientOrderIdInput } from '../../src/pipeline/client-order-id.js';

const inputs = fc.record({
  runId: fc.string({ maxLength: 80 }),
  at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  instrument: fc.string({ minLength: 1, maxLength: 40 }),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  sequence: fc.nat(1000),
});

describe('client order ids', () => {
  it("match Binance's rule and start with pc- (property)", () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const id = deriveClientOrderId(input);
        expect(id).toMatch(CLIENT_ORDER_ID_PATTERN);
        expect(id.startsWith('pc-')).toBe(true);
        expect(id.length).toBeLessThanOrEqual(36);
      }),
    );
  });

  it('are the same for the same inputs, whatever the object key order (property)', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const reordered: ClientOrderIdInput = { sequence: input.sequence, side: input.side, instrument: input.instrument, at: input.at, runId: input.runId };
        expect(deriveClientOrderId(reordered)).toBe(deriveClientOrderId(input));
      }),
    );
  });

  it('change when any input changes (property)', () => {
    fc.assert(
      fc.property(inputs, fc.constantFrom('runId', 'at', 'instrument', 'side', 'sequence'), (input, field) => {
        const changed: ClientOrderIdInput = {
          ...input,
          runId: field === 'runId' ? `${input.runId}x` : input.runId,
          at: field === 'at' ? input.at + 1 : input.at,
          instrument: field === 'instrument' ? `${input.instrument}x` : input.instrument,
          side: field === 'side' ? (input.side === 'buy' ? 'sell' : 'buy') : input.side,
          sequence: field === 'sequence' ? input.sequence + 1 : input.sequence,
        };
        expect(deriveClientOrderId(changed)).not.toBe(deriveClientOrderId(input));
      }),
    );
  });

  it('hash the JSON text of the inputs whatever came before: the halves kept from earlier ids never leak into a later one (property)', () => {
    // The definition itself: sha256 of JSON.stringify([runId, at, instrument, side, sequence]), first 96 bits in base 36.
    const reference = (i: ClientOrderIdInput) => `pc-${BigInt(`0x${createHash('sha256').update(JSON.stringify([i.runId, i.at, i.instrument, i.side, i.sequence])).digest('hex').slice(0, 24)}`).toString(36)}`;
    // Runs of ids sharing a run and a time, or an instrument, side and sequence, as a backtest derives them; some strings need escapes.
    const few = <T>(...values: T[]) => fc.constantFrom(...values);
    const sameish = fc.record({
      runId: fc.oneof(few('run-1', 'run-2', 'a"b', 'back\\slash'), fc.string({ maxLength: 12 })),
      at: fc.oneof(few(0, 1_704_067_200_000, 1_704_153_600_000), fc.integer({ min: 0, max: 4_102_444_800_000 })),
      instrument: fc.oneof(few('gas', 'oil', 'new\nline'), fc.string({ minLength: 1, maxLength: 12 })),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      sequence: fc.oneof(few(0, 1), fc.nat(1000)),
    });
    fc.assert(
      fc.property(fc.array(sameish, { minLength: 1, maxLength: 30 }), (list) => {
        for (const i of list) {
          expect(clientOrderIdOf(i.runId, i.at, i.instrument, i.side, i.sequence)).toBe(reference(i));
          expect(deriveClientOrderId(i)).toBe(reference(i));
        }
      }),
    );
  });

  it('hash the JSON text of the inputs for any time: negative, fractional, beyond the safe integers, not finite (property)', () => {
    const reference = (i: ClientOrderIdInput) => `pc-${BigInt(`0x${createHash('sha256').update(JSON.stringify([i.runId, i.at, i.instrument, i.side, i.sequence])).digest('hex').slice(0, 24)}`).toString(36)}`;
    const times = fc.oneof(fc.integer({ min: -4_102_444_800_000, max: 4_102_444_800_000 }), fc.double(), fc.constantFrom(-0, 2 ** 53, -(2 ** 53), 1e21, Number.NaN, Number.POSITIVE_INFINITY));
    fc.assert(
      fc.property(fc.constantFrom('run-1', 'bt-1a2b3c4d-jit', 'rün'), times, fc.constantFrom('gas', 'NG:2024-03', 'ölx'), fc.constantFrom('buy' as const, 'sell' as const), fc.nat(3), (runId, at, instrument, side, sequence) => {
        const input = { runId, at, instrument, side, sequence };
        expect(clientOrderIdOf(runId, at, instrument, side, sequence)).toBe(reference(input));
      }),
    );
  });

  it('is pinned for a known input (stable across releases and restarts)', () => {
    // sha256('["run-1",1704067200000,"natgas","buy",0]'), first 96 bits in base 36.
    expect(deriveClientOrderId({ runId: 'run-1', at: 1_704_067_200_000, instrument: 'natgas', side: 'buy', sequence: 0 })).toBe('pc-2wpj2uc8zexlj1moifu');
  });
});
