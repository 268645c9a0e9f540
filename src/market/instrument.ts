/**
 * Material -> instrument mapping: which price series (a CSV file and optional column) or
 * exchange symbol prices a material, and the factor that turns the quoted price into a price
 * per material unit. Examples:
 *
 *   { material: natgas, series: { file: backtests/data/natural-gas/daily.csv, cadence: daily }, priceUnit: "USD/MMBtu", factor: "1" }
 *   { material: copper, series: { file: ..., column: copper }, priceUnit: "USD/lb", unit: t, factor: "2204.62" }
 *   { material: natgas, symbol: { exchange: nymex, symbol: NG }, priceUnit: "USD/contract", unit: MMBtu, factor: "0.0001" }
 *
 * Price per material unit = quoted price x factor, as a Decimal (the boundary where an
 * indicator's plain number becomes money).
 */
import { resolve, isAbsolute, dirname } from 'node:path';
import { z } from 'zod';
import { Decimal } from '../core/decimal.js';
import { ConfigError, type Where } from '../core/errors.js';
import type { EpochMs } from '../core/time.js';
import { CADENCES, closeKnownAt, indexKnownAt, loadSeries, type Cadence, type PriceSeries } from './series.js';

const DECIMAL_TEXT = /^[-+]?\d+(\.\d+)?$/;

export const MaterialPricingSchema = z.strictObject({
  material: z.string().min(1),
  /** A CSV file, its column (wide tables) and its cadence (daily, weekly, monthly; inferred from the dates when absent). */
  series: z.strictObject({ file: z.string().min(1), column: z.string().min(1).optional(), cadence: z.enum(CADENCES).optional() }).optional(),
  symbol: z.strictObject({ exchange: z.string().min(1).optional(), symbol: z.string().min(1) }).optional(),
  /** How the source quotes, e.g. "USD/lb" (documentation; checked only for presence). */
  priceUnit: z.string().min(1),
  /** The material's unit, e.g. "t" (optional; the plant file is the authority). */
  unit: z.string().min(1).optional(),
  /** Quoted units per material unit, a positive decimal string (or number). */
  factor: z.union([z.string(), z.number()]),
});
export type MaterialPricingInput = z.input<typeof MaterialPricingSchema>;

export type PriceSource =
  | { readonly kind: 'series'; readonly file: string; readonly column: string | undefined; readonly cadence: Cadence | undefined }
  | { readonly kind: 'symbol'; readonly exchange: string | undefined; readonly symbol: string };

/** A validated, frozen mapping. */
export interface MaterialPricing {
  readonly material: string;
  readonly source: PriceSource;
  readonly priceUnit: string;
  readonly unit: string | undefined;
  readonly factor: Decimal;
}

/**
 * Validates one mapping. Throws ConfigError naming `where.file` and the field path
 * (`<where.field>.factor` etc.): unknown keys, neither or both of series/symbol, a factor
 * that is not a plain decimal, zero or negative.
 */
export function parseMaterialPricing(raw: unknown, where: Where = {}): MaterialPricing {
  const prefix = where.field ? `${where.field}.` : '';
  const parsed = MaterialPricingSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys.join(', ')] : [])].join('.');
    const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    throw new ConfigError(message, { ...where, field: `${prefix}${path}` || where.field });
  }
  const value = parsed.data;
  if ((value.series === undefined) === (value.symbol === undefined)) {
    throw new ConfigError('give exactly one of series (a CSV file) or symbol (an exchange symbol)', { ...where, field: `${prefix}series` });
  }
  const factorText = typeof value.factor === 'number' ? String(value.factor) : value.factor.trim();
  if (!DECIMAL_TEXT.test(factorText)) {
    throw new ConfigError(`factor must be a plain decimal like "2204.62", got ${JSON.stringify(value.factor)}`, { ...where, field: `${prefix}factor` });
  }
  const factor = new Decimal(factorText);
  if (factor.isZero() || factor.isNegative()) {
    throw new ConfigError(`factor must be greater than zero, got ${factorText}`, { ...where, field: `${prefix}factor` });
  }
  const source: PriceSource = value.series
    ? { kind: 'series', file: value.series.file, column: value.series.column, cadence: value.series.cadence }
    : { kind: 'symbol', exchange: value.symbol!.exchange, symbol: value.symbol!.symbol };
  return Object.freeze({ material: value.material, source: Object.freeze(source), priceUnit: value.priceUnit, unit: value.unit, factor });
}

/** Validates a list of mappings (`<field>[i]...` in errors); a material mapped twice is refused. */
export function parseMaterialPricingList(raw: unknown, where: Where = {}): MaterialPricing[] {
  const field = where.field ?? 'pricing';
  if (!Array.isArray(raw)) throw new ConfigError('expected a list of material price mappings', { ...where, field });
  const seen = new Set<string>();
  return raw.map((item, i) => {
    const pricing = parseMaterialPricing(item, { ...where, field: `${field}[${i}]` });
    if (seen.has(pricing.material)) throw new ConfigError(`material ${JSON.stringify(pricing.material)} is mapped twice`, { ...where, field: `${field}[${i}].material` });
    seen.add(pricing.material);
    return pricing;
  });
}

/** Price per material unit: the quoted price x factor, as a Decimal (from the number's shortest decimal text). */
export function pricePerMaterialUnit(pricing: Pick<MaterialPricing, 'factor'>, quotedPrice: number): Decimal {
  return new Decimal(String(quotedPrice)).times(pricing.factor);
}

/**
 * Loads the series behind a series mapping. A relative file resolves against `baseDir`
 * (the directory of the config that named it; default the working directory).
 */
export function loadPricingSeries(pricing: MaterialPricing, baseDir?: string): PriceSeries {
  if (pricing.source.kind !== 'series') {
    throw new ConfigError(`material ${pricing.material} is priced by exchange symbol ${pricing.source.symbol}, not a file`, { field: 'series' });
  }
  const file = isAbsolute(pricing.source.file) || baseDir === undefined ? pricing.source.file : resolve(baseDir, pricing.source.file);
  return loadSeries(file, { column: pricing.source.column, cadence: pricing.source.cadence });
}

/** Convenience for callers holding a config file path: the directory to resolve series files against. */
export function baseDirOf(configFile: string): string {
  return dirname(resolve(configFile));
}

/** A material price as of time t: the last bar at or before t, converted to the material unit. */
export interface MaterialPrice {
  readonly material: string;
  /** Price per material unit (quoted close x factor). */
  readonly price: Decimal;
  /** The quoted close it came from. */
  readonly quoted: number;
  /** Label time of the bar used. */
  readonly at: EpochMs;
  /** When its close became known (<= t). */
  readonly knownAt: EpochMs;
  readonly index: number;
  /** True when the quoted price is negative (WTI 2020-04-20): callers must not divide by it. */
  readonly negative: boolean;
}

/**
 * The material's price as known at `t`: the last bar whose close is known at t (see
 * `closeKnownAt`: a daily bar dated D is known from D+1 00:00 UTC), or undefined when none is.
 */
export function materialPriceAt(pricing: MaterialPricing, series: PriceSeries, t: EpochMs): MaterialPrice | undefined {
  const index = indexKnownAt(series, t);
  if (index < 0) return undefined;
  const quoted = series.close[index]!;
  return { material: pricing.material, price: pricePerMaterialUnit(pricing, quoted), quoted, at: series.at[index]!, knownAt: closeKnownAt(series, index), index, negative: quoted < 0 };
}
