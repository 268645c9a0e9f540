/**
 * layered-hedge against hand-worked shares: the ramp, the tilt within bounds, the budget lock,
 * layers that are never taken off, and one order per layer.
 */
import { describe, expect, it } from 'vitest';
import layered, { layeredShare } from '../../strategies/layered-hedge.js';
import { makeContext } from './context.js';

const P = layered.params.parse({});

describe('layered-hedge shares', () => {
  it('ramp from nearShare this month to farShare at the end of the programme', () => {
    expect(layeredShare(0, 0, false, P)).toBeCloseTo(0.75, 12);
    expect(layeredShare(11, 0, false, P)).toBeCloseTo(0.25, 12);
    expect(layeredShare(6, 0, false, P)).toBeCloseTo(0.75 - (0.5 * 6) / 11, 12); // 47.7 %
    expect(layeredShare(12, 0, false, P)).toBe(0);
  });

  it('tilt with the trend within bounds: rising, more and one month earlier; falling, less', () => {
    expect(layeredShare(1, 1, false, P)).toBeCloseTo(0.9, 12); // the month-0 share x 1.2, capped at maxShare 0.9
    expect(layeredShare(12, 1, false, P)).toBeCloseTo(0.25 * 1.2, 12); // a month further out than without the tilt
    expect(layeredShare(0, -1, false, P)).toBeCloseTo(0.6, 12);
    expect(layeredShare(11, -1, false, { ...P, minShare: 0.22 })).toBeCloseTo(0.22, 12);
  });

  it('lock at least lockShare of the budget while the price is at or below standard', () => {
    expect(layeredShare(11, -1, true, P)).toBeCloseTo(0.75, 12);
    expect(layeredShare(0, 0, true, P)).toBeCloseTo(0.75, 12);
    expect(layeredShare(12, 0, true, P)).toBe(0);
  });
});

describe('layered-hedge intents', () => {
  const contracts = (positions: number[]) => positions.map((position, k) => ({ month: `2024-${String(k + 1).padStart(2, '0')}`, monthsAhead: k, position, exposureQty: 1000 }));
  const decide = (positions: number[], spec: Parameters<typeof makeContext>[0] = {}) =>
    layered
      .create(P)
      .decide(makeContext({ onHand: 1000, marketUnitPrice: 4, standardUnitCost: '3.5', signal: { state: undefined, fast: Number.NaN, slow: Number.NaN }, hedge: { contracts: contracts(positions) }, ...spec }))
      .filter((i) => i.instrument !== 'NG-SPOT');

  it('adds one layer per contract up to its month\'s share, with the figures in the cause', () => {
    const intents = decide([0, 0, 0]);
    expect(intents.map((i) => [i.instrument, i.reason, i.targetQty!.toString()])).toEqual([
      ['NG-FUT:2024-01', 'hedge', '750'],
      ['NG-FUT:2024-02', 'hedge', (1000 * Number((0.75 - 0.5 / 11).toFixed(6))).toString()],
      ['NG-FUT:2024-03', 'hedge', (1000 * Number((0.75 - 1 / 11).toFixed(6))).toString()],
    ]);
    expect(intents[1]!.cause.cost).toMatchObject({ contractMonth: '2024-02', monthsAhead: '1', budgetLock: 'false' });
  });

  it('never takes a layer off: only a position above the exposure is cut back to it', () => {
    expect(decide([740, 900, 640])).toEqual([]); // 740 and 640 within a 5 % layer of 750 and 659; 900 above target but below exposure
    const cut = decide([1200, 0, 0])[0]!;
    expect([cut.instrument, cut.reason, cut.side, cut.targetQty!.toString()]).toEqual(['NG-FUT:2024-01', 'unwind', 'sell', '1000']);
  });

  it('locks more of the budget at or below standard', () => {
    const intents = decide([0, 0, 0], { marketUnitPrice: 3, standardUnitCost: '3.5' });
    expect(intents.map((i) => i.targetQty!.toString())).toEqual(['750', '750', '750']);
    expect(intents[2]!.cause.note).toMatch(/budget lock/);
  });

  it('locks the budget on the first decision under a new standard, whatever the price, and not before', () => {
    const strategy = layered.create(P);
    const at = (standardUnitCost: string, day: number) =>
      strategy
        .decide(makeContext({ at: Date.UTC(2024, 0, day), onHand: 1000, marketUnitPrice: 4, standardUnitCost, signal: { state: undefined, fast: Number.NaN, slow: Number.NaN }, hedge: { contracts: contracts([0, 0, 0]) } }))
        .filter((i) => i.instrument !== 'NG-SPOT');
    // Price above standard, same standard: the ramp.
    expect(at('3.5', 1).map((i) => i.targetQty!.toString())).toEqual(['750', (1000 * Number((0.75 - 0.5 / 11).toFixed(6))).toString(), (1000 * Number((0.75 - 1 / 11).toFixed(6))).toString()]);
    expect(at('3.5', 2)[2]!.cause.cost).toMatchObject({ budgetLock: 'false', newBudget: 'false' });
    // A new standard (still below the price): every month to lockShare.
    const locked = at('3.8', 3);
    expect(locked.map((i) => i.targetQty!.toString())).toEqual(['750', '750', '750']);
    expect(locked[2]!.cause.note).toMatch(/new standard 3\.8: budget lock/);
    // The next day the standard is no longer new.
    expect(at('3.8', 4)[2]!.cause.cost).toMatchObject({ newBudget: 'false' });
  });

  it('locks only the months of the budget year in progress (a month of next year waits for its own standard)', () => {
    const across = [10, 11, 12].map((k) => ({ month: k < 12 ? `2024-${String(k + 1).padStart(2, '0')}` : '2025-01', monthsAhead: k - 10, position: 0, exposureQty: 1000 }));
    const cheap = { onHand: 1000, marketUnitPrice: 3, standardUnitCost: '3.5', at: Date.UTC(2024, 10, 15), signal: { state: undefined, fast: Number.NaN, slow: Number.NaN }, hedge: { contracts: across } };
    const intents = layered.create(P).decide(makeContext(cheap)).filter((i) => i.instrument !== 'NG-SPOT');
    // November and December 2024 locked to 75 %; January 2025 on the ramp (two months ahead).
    expect(intents.map((i) => [i.instrument, i.targetQty!.toString()])).toEqual([
      ['NG-FUT:2024-11', '750'],
      ['NG-FUT:2024-12', '750'],
      ['NG-FUT:2025-01', (1000 * Number((0.75 - 1 / 11).toFixed(6))).toString()],
    ]);
    expect(intents[2]!.cause.cost).toMatchObject({ budgetLock: 'false' });
    // Without the budget year, every month is locked.
    const all = layered.create(layered.params.parse({ lockWithinYear: false })).decide(makeContext(cheap)).filter((i) => i.instrument !== 'NG-SPOT');
    expect(all.map((i) => i.targetQty!.toString())).toEqual(['750', '750', '750']);
  });
});
