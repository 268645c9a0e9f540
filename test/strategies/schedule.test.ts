import { describe, expect, it } from 'vitest';
import schedule from '../../strategies/schedule.js';
import { parseStrategyParams } from '../../strategies/index.js';
import { makeContext, qtyOf, simulate } from './context.js';

const create = (raw: unknown = {}) => {
  const parsed = parseStrategyParams(schedule, raw);
  if (!parsed.ok) throw new Error(parsed.message);
  return schedule.create(parsed.params);
};

describe('schedule', () => {
  it('buys the consumption until the next firing when the schedule fires', () => {
    const intents = create().decide(makeContext({ onHand: 100, scheduleFired: true, daysToNextSchedule: 7 }));
    expect(intents).toHaveLength(1);
    expect(intents[0]).toMatchObject({ strategy: 'schedule', side: 'buy', reason: 'procure' });
    expect(intents[0]!.qty?.toString()).toBe('70');
    expect(intents[0]!.cause.cost).toMatchObject({ tranche: '70', bufferTopUp: '0', trancheDays: '7' });
  });

  it('buys nothing between firings while the position is above the reorder point', () => {
    expect(create().decide(makeContext({ onHand: 41, scheduleFired: false, daysToNextSchedule: 3 }))).toEqual([]);
  });

  it('between firings places only a forced reorder at the reorder point', () => {
    const intents = create().decide(makeContext({ onHand: 30, onOrder: 10, reorderPoint: 40, scheduleFired: false }));
    expect(intents.map((i) => i.reason)).toEqual(['forced-reorder']);
    // up to reorder point 40 + 7 days x 10
    expect(intents[0]!.qty?.toString()).toBe('70');
  });

  it('tops the tranche up when the position is below the buffer stock', () => {
    const intents = create().decide(makeContext({ onHand: 10, bufferStock: 20, scheduleFired: true, daysToNextSchedule: 7 }));
    expect(intents.map((i) => [i.reason, i.qty?.toString()])).toEqual([['procure', '80']]);
  });

  it('adds a forced reorder when a short tranche still leaves the position at the reorder point', () => {
    const intents = create().decide(makeContext({ onHand: 10, bufferStock: 20, reorderPoint: 40, scheduleFired: true, daysToNextSchedule: 1 }));
    // tranche 10 + top-up 10 -> position 30 <= 40: forced up to 40 + 70 = 110, i.e. 80 more
    expect(intents.map((i) => [i.reason, i.qty?.toString()])).toEqual([
      ['procure', '20'],
      ['forced-reorder', '80'],
    ]);
  });

  it('prints the causes of a topped-up tranche and of the forced reorder after it, every figure in order', () => {
    const [procure, forced] = create().decide(makeContext({ onHand: 10, onOrder: 0, dailyConsumption: 10, bufferStock: 20, reorderPoint: 40, scheduleFired: true, daysToNextSchedule: 1 }));
    expect(Object.entries(procure!.cause.cost ?? {})).toEqual([
      ['onHand', '10'],
      ['onOrder', '0'],
      ['dailyConsumption', '10'],
      ['reorderPoint', '40'],
      ['bufferStock', '20'],
      ['trancheDays', '1'],
      ['tranche', '10'],
      ['bufferTopUp', '10'],
      ['marketUnitPrice', procure!.cause.cost?.['marketUnitPrice']],
    ]);
    expect(procure!.cause.note).toBe('schedule fired: 1 days of consumption until the next firing, topped up to the buffer stock');
    expect(forced!.cause.cost).toMatchObject({ onHand: '10', reorderPoint: '40', bufferStock: '20', planned: '20', orderUpToLevel: '110' });
    expect(forced!.cause.note).toBe('position 30 at or below reorder point 40: buy up to reorder point + 7 days of consumption');
  });

  it('falls back to fallbackTrancheDays when the next firing is unknown', () => {
    const intents = create({ fallbackTrancheDays: 14 }).decide(makeContext({ onHand: 100, scheduleFired: true, daysToNextSchedule: undefined }));
    expect(qtyOf(intents).toString()).toBe('140');
    expect(intents[0]!.cause.note).toMatch(/fallbackTrancheDays/);
  });

  it('over a quarter of weekly firings buys equal tranches only when fired and never stocks out', () => {
    const fired = (day: number) => day % 7 === 0;
    const days = simulate(create(), {
      days: 91,
      openingOnHand: 100,
      dailyConsumption: 10,
      leadTimeDays: 2,
      contextFor: (day) => ({ scheduleFired: fired(day), daysToNextSchedule: 7 - (day % 7) }),
    });
    for (const day of days) {
      expect(day.onHandAfterConsumption.isNegative()).toBe(false);
      const procured = day.intents.filter((i) => i.reason === 'procure');
      if (!fired(day.day)) expect(procured).toEqual([]);
      else expect(procured).toHaveLength(1);
    }
    const tranches = days.filter((d) => fired(d.day) && d.day >= 14).map((d) => qtyOf(d.intents).toString());
    expect(new Set(tranches)).toEqual(new Set(['70']));
  });
});
