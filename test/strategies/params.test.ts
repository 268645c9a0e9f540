import { describe, expect, it } from 'vitest';
import { getStrategy, parseStrategyParams, strategies, strategyNames } from '../../strategies/index.js';

const refused = (name: string, raw: unknown) => {
  const result = parseStrategyParams(getStrategy(name)!, raw);
  if (result.ok) throw new Error(`${name} accepted ${JSON.stringify(raw)}`);
  return result;
};

describe('strategy parameters', () => {
  it('registers every shipped strategy by name', () => {
    expect(strategyNames()).toEqual(['cost-aware', 'jit', 'layered-hedge', 'ma-hedge', 'ma-procurement', 'schedule', 'static-hedge']);
    for (const name of strategyNames()) expect(getStrategy(name)!.name).toBe(name);
    expect(getStrategy('ma-procurment')).toBeUndefined();
    expect(getStrategy('toString')).toBeUndefined();
    expect(Object.isFrozen(strategies)).toBe(true);
  });

  it('fills the documented defaults', () => {
    const defaults = (name: string) => {
      const result = parseStrategyParams(getStrategy(name)!, undefined);
      if (!result.ok) throw new Error(result.message);
      return result.params;
    };
    expect(defaults('jit')).toEqual({});
    expect(defaults('schedule')).toEqual({ orderUpToDays: 7, fallbackTrancheDays: 30 });
    expect(defaults('ma-procurement')).toEqual({ fast: 20, slow: 50, ma: 'sma', orderUpToDays: 7, maxCoverDays: 60, trendBars: 5, buyWhileUp: false });
    expect(defaults('ma-hedge')).toEqual({
      fast: 20,
      slow: 50,
      ma: 'sma',
      baseRatio: 0.5,
      upRatio: 0.8,
      downRatio: 0.3,
      marginAtRiskStep: 0.1,
      maxRatio: 1,
      rebalanceBand: 0.05,
    });
  });

  it('refuses a slow window not longer than the fast one, naming slow', () => {
    for (const name of ['ma-procurement', 'ma-hedge']) {
      expect(refused(name, { fast: 50, slow: 20 })).toMatchObject({ field: 'slow', message: 'slow window (20) must be longer than fast window (50)' });
      expect(refused(name, { fast: 30, slow: 30 }).field).toBe('slow');
    }
  });

  it('refuses a ratio above 1 or below 0, naming the ratio', () => {
    expect(refused('ma-hedge', { upRatio: 1.2 }).field).toBe('upRatio');
    expect(refused('ma-hedge', { maxRatio: 1.5 }).field).toBe('maxRatio');
    expect(refused('ma-hedge', { rebalanceBand: -0.1 }).field).toBe('rebalanceBand');
  });

  it('refuses ratios out of order: downRatio <= baseRatio <= upRatio <= maxRatio', () => {
    expect(refused('ma-hedge', { downRatio: 0.6 })).toMatchObject({ field: 'downRatio', message: 'downRatio (0.6) must not exceed baseRatio (0.5)' });
    expect(refused('ma-hedge', { baseRatio: 0.9 }).field).toBe('upRatio');
    expect(refused('ma-hedge', { maxRatio: 0.7 }).field).toBe('maxRatio');
  });

  it('refuses an unknown key, naming it, in every strategy', () => {
    for (const name of strategyNames()) {
      const refusal = refused(name, { fats: 10 });
      expect(refusal.field).toBe('fats');
      expect(refusal.message).toMatch(new RegExp(`^unknown parameter "fats" for strategy ${name}(; did you mean "fast"\\?)?$`));
    }
  });

  it('refuses non-positive day counts and wrong types, naming the field', () => {
    expect(refused('ma-procurement', { maxCoverDays: 0 }).field).toBe('maxCoverDays');
    expect(refused('ma-procurement', { trendBars: 1.5 }).field).toBe('trendBars');
    expect(refused('ma-procurement', { orderUpToDays: 90, maxCoverDays: 60 }).field).toBe('orderUpToDays');
    expect(refused('ma-procurement', { buyWhileUp: 'yes' }).field).toBe('buyWhileUp');
    expect(refused('ma-procurement', { ma: 'wma' }).field).toBe('ma');
    expect(refused('schedule', { orderUpToDays: 0 }).field).toBe('orderUpToDays');
    expect(refused('schedule', { fallbackTrancheDays: -1 }).field).toBe('fallbackTrancheDays');
  });
});
