import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseTime } from '../../src/core/time.js';
import {
  loadPricingSeries,
  materialPriceAt,
  parseMaterialPricing,
  parseMaterialPricingList,
  pricePerMaterialUnit,
} from '../../src/market/instrument.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).where.field;
  }
  throw new Error('expected a ConfigError');
};

describe('material -> instrument mapping', () => {
  it('converts a per-pound quote to a per-tonne price and a per-contract quote to per-MMBtu, in Decimal', () => {
    const copper = parseMaterialPricing({
      material: 'copper',
      series: { file: 'backtests/data/worldbank-pink-sheet/monthly-prices.csv', column: 'copper' },
      priceUnit: 'USD/lb',
      unit: 't',
      factor: '2204.62',
    });
    expect(pricePerMaterialUnit(copper, 4.1).toFixed()).toBe('9038.942');
    const gas = parseMaterialPricing({ material: 'natgas', symbol: { exchange: 'nymex', symbol: 'NG' }, priceUnit: 'USD/contract', factor: '0.0001' });
    expect(gas.source).toEqual({ kind: 'symbol', exchange: 'nymex', symbol: 'NG' });
    // 0.1 + 0.2 style float noise must not leak: 30000.3 per contract -> 3.00003 per MMBtu exactly.
    expect(pricePerMaterialUnit(gas, 30000.3).toFixed()).toBe('3.00003');
  });

  it('prices a material as known at a time from the bundled Henry Hub series, negatives flagged', () => {
    const natgas = parseMaterialPricing({ material: 'natgas', series: { file: 'backtests/data/natural-gas/daily.csv' }, priceUnit: 'USD/MMBtu', factor: '1' });
    const series = loadPricingSeries(natgas);
    const t = parseTime('2018-01-06', {});
    const price = materialPriceAt(natgas, series, t)!;
    // 2018-01-05 is empty in the file, so the last known close on the 6th is the 4th's.
    expect(new Date(price.at).toISOString().slice(0, 10)).toBe('2018-01-04');
    expect(price.price.toFixed()).toBe('4.65');
    expect(price.knownAt).toBeLessThanOrEqual(t);
    expect(materialPriceAt(natgas, series, parseTime('1997-01-07', {}))).toBeUndefined();
    const wti = parseMaterialPricing({ material: 'crude', series: { file: 'oil-prices/wti-daily.csv' }, priceUnit: 'USD/bbl', factor: '1' });
    const crude = materialPriceAt(wti, loadPricingSeries(wti, 'backtests/data'), parseTime('2020-04-21', {}))!;
    expect(crude.negative).toBe(true);
    expect(crude.price.toFixed()).toBe('-36.98');
  });

  it('refuses a zero or negative factor, naming the field', () => {
    const base = { material: 'copper', series: { file: 'x.csv' }, priceUnit: 'USD/lb' };
    expect(fieldOf(() => parseMaterialPricing({ ...base, factor: '0' }, { file: 'plant.yaml', field: 'pricing[0]' }))).toBe('pricing[0].factor');
    expect(fieldOf(() => parseMaterialPricing({ ...base, factor: '-2204.62' }))).toBe('factor');
    expect(fieldOf(() => parseMaterialPricing({ ...base, factor: '1e3' }))).toBe('factor');
    expect(() => parseMaterialPricing({ ...base, factor: 0 }, { file: 'plant.yaml' })).toThrow(/plant\.yaml: field "factor": factor must be greater than zero/);
  });

  it('refuses unknown keys, missing fields, both or neither source, duplicates', () => {
    expect(fieldOf(() => parseMaterialPricing({ material: 'a', series: { file: 'x' }, priceUnit: 'u', factor: '1', colour: 'red' }))).toBe('colour');
    expect(fieldOf(() => parseMaterialPricing({ material: 'a', series: { file: 'x' }, factor: '1' }))).toBe('priceUnit');
    expect(fieldOf(() => parseMaterialPricing({ material: 'a', priceUnit: 'u', factor: '1' }))).toBe('series');
    expect(fieldOf(() => parseMaterialPricing({ material: 'a', series: { file: 'x' }, symbol: { symbol: 'NG' }, priceUnit: 'u', factor: '1' }))).toBe('series');
    const one = { material: 'a', series: { file: 'x' }, priceUnit: 'u', factor: '1' };
    expect(parseMaterialPricingList([one], {})).toHaveLength(1);
    expect(fieldOf(() => parseMaterialPricingList([one, one], { field: 'pricing' }))).toBe('pricing[1].material');
  });
});
