/**
 * The terminal's analysis says when a hedge rule's timing made the budget less certain than
 * hedging a constant ratio (static-hedge), and stays quiet when it did not.
 */
import { describe, expect, it } from 'vitest';
import { analysisLines, type BacktestResult } from '../../src/engine/results.js';
import type { BudgetFigures } from '../../src/engine/statistics.js';

const figures = (varianceRemoved: number | null): BudgetFigures => ({
  months: [],
  sdPerUnit: 1,
  sdPerUnitUnhedged: 2,
  worstMonth: undefined,
  cumulative: 0,
  varianceRemoved,
  dollarOffset: null,
  dollarOffsetEffective: null,
});

/** Just what analysisLines reads: the strategy's name, the plant's units and the budget figures. */
const result = (strategy: string, own: number | null, flat: number | null): BacktestResult =>
  ({
    run: { strategy },
    scenario: { product: 'ammonia', plant: { currency: 'USD', products: new Map([['ammonia', { unit: 't' }]]) } },
    analysis: { comparisons: [], budget: [{ run: strategy, figures: figures(own) }, { run: 'jit', figures: figures(null) }, { run: 'static-hedge', figures: figures(flat) }] },
  }) as unknown as BacktestResult;

describe('analysis lines', () => {
  it('say when a hedge rule removed less budget variance than static-hedge', () => {
    const lines = analysisLines(result('layered-hedge', 0.32, 0.4)).join('\n');
    expect(lines).toContain('layered-hedge removed less of the budget variance (32 %) than static-hedge, the constant ratio without timing (40 %)');
  });

  it('stay quiet when it removed as much or more, or does not hedge', () => {
    expect(analysisLines(result('layered-hedge', 0.45, 0.4)).join('\n')).not.toContain('removed less');
    expect(analysisLines(result('ma-procurement', null, 0.4)).join('\n')).not.toContain('removed less');
  });
});
