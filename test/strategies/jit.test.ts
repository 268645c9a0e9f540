import { describe, expect, it } from 'vitest';
import jit from '../../strategies/jit.js';
import { parseStrategyParams } from '../../strategies/index.js';
import { makeContext, qtyOf, simulate, T0 } from './context.js';

const create = () => {
  const parsed = parseStrategyParams(jit, {});
  if (!parsed.ok) throw new Error(parsed.message);
  return jit.create(parsed.params);
};

describe('jit', () => {
  it('in steady state buys exactly one day of consumption every day, and never stocks out', () => {
    const days = simulate(create(), { days: 30, openingOnHand: 30, dailyConsumption: 10, leadTimeDays: 2, bufferStock: 0 });
    for (const day of days) {
      expect(qtyOf(day.intents).toString()).toBe('10');
      expect(day.intents.every((i) => i.reason === 'procure' && i.side === 'buy')).toBe(true);
      expect(day.onHandAfterConsumption.isNegative()).toBe(false);
    }
  });

  it('brings the position to one day plus lead-time demand plus the buffer stock, no more', () => {
    const intents = create().decide(makeContext({ onHand: 0, onOrder: 5, dailyConsumption: 10, leadTimeDays: 2, bufferStock: 7 }));
    expect(intents).toHaveLength(1);
    const intent = intents[0]!;
    expect(intent.qty?.toString()).toBe('32');
    expect(intent).toMatchObject({ at: T0, strategy: 'jit', instrument: 'NG-SPOT', side: 'buy', reason: 'procure' });
    expect(Object.keys(intent.cause.cost ?? {})).toEqual(['onHand', 'onOrder', 'dailyConsumption', 'reorderPoint', 'bufferStock', 'jitLevel', 'leadTimeDays', 'marketUnitPrice']);
    expect(intent.cause.cost).toMatchObject({ onHand: '0', onOrder: '5', dailyConsumption: '10', bufferStock: '7', jitLevel: '37', leadTimeDays: '2' });
    expect(intent.cause.note).toBe('jit: keep position at 1 + 2 days of consumption + buffer');
  });

  it('follows a change in consumption the day it is forecast', () => {
    const strategy = create();
    expect(qtyOf(strategy.decide(makeContext({ onHand: 20, dailyConsumption: 10, leadTimeDays: 2, bufferStock: 0 }))).toString()).toBe('10');
    expect(qtyOf(strategy.decide(makeContext({ onHand: 20, dailyConsumption: 12, leadTimeDays: 2, bufferStock: 0 }))).toString()).toBe('16');
  });

  it('buys nothing when the position already covers the level or nothing is consumed, whatever the signal', () => {
    const strategy = create();
    expect(strategy.decide(makeContext({ onHand: 30, bufferStock: 0, signal: { state: 1, crossing: 'up' } }))).toEqual([]);
    expect(strategy.decide(makeContext({ onHand: 0, dailyConsumption: 0, bufferStock: 0 }))).toEqual([]);
  });

  it('needs no signal', () => {
    expect(jit.needs({})).toEqual({});
  });
});
