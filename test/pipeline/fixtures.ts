/** Shared test fixtures for the pipeline tests. */
import { Decimal } from '../../src/core/decimal.js';
import { DAY_MS } from '../../src/core/time.js';
import { parseRiskConfig, type RiskLimits } from '../../src/pipeline/risk.js';
import type { Intent, MarketRules } from '../../src/pipeline/types.js';

export const D = (text: string | number): Decimal => new Decimal(String(text));
export const T0 = Date.UTC(2024, 0, 1);
export const day = (n: number): number => T0 + n * DAY_MS;

export const RULES: MarketRules = { symbol: 'NG/USD', lotStep: D('0.1'), tickSize: D('0.01'), minQty: D('1'), minNotional: D('10') };

export function intent(overrides: Partial<Intent> = {}): Intent {
  return { at: T0, strategy: 'test', instrument: 'gas', side: 'buy', qty: D('10'), reason: 'procure', cause: { note: 'test' }, ...overrides };
}

export function limits(overrides: Record<string, unknown> = {}): RiskLimits {
  return parseRiskConfig({ maxOrderNotional: '10000', maxDailyNotional: '25000', ...overrides });
}
