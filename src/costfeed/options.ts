/**
 * The cost feed's options file (`procura cost --policy F`), YAML:
 *
 *   horizonDays: 30            # forecast horizon for consumption, buffer stock, exposure
 *   actualWindowDays: 90       # trailing window for actual costs
 *   priceLagDays: 0            # a bar stamped d is known from d + lag
 *   forecastErrorDays: 90      # days of backflushed consumption against plan for sigma_d
 *   forecastErrorBucketDays: 1 # compare per day (1) or per Monday-to-Sunday week (7) when the ERP backflushes weekly
 *   minHistoryDays: 30         # fewer days: sigma_d = demandCv x d
 *   minReceipts: 5             # fewer receipts in the desk's record: sigma_L = leadTimeCv x L
 *   closedPeriods: 3           # actual conversion over the last N closed periods
 *   defaults: { leadTimeDays: 5, serviceLevel: 0.95, demandCv: 0.1, leadTimeCv: 0.1 }
 *   materials:                 # per material; overrides the plant file and the defaults
 *     natgas: { leadTimeDays: 7, serviceLevel: 0.98, demandCv: 0.05, onOrder: "20000" }
 *   pricing:                   # material -> price series (files relative to this file)
 *     - { material: natgas, series: { file: ../backtests/data/natural-gas/daily.csv, cadence: daily }, priceUnit: USD/MMBtu, factor: "1" }
 *   hedgeInstruments:          # hedge instrument -> material units per instrument unit
 *     NG: { material: natgas, factor: "10000" }
 *
 * Every refusal is a ConfigError naming the file, line and field (an unknown material, a
 * factor of zero, a service level outside [0.5, 1), an unknown key).
 */
import { z } from 'zod';
import { loadYamlConfig, type LoadedConfig } from '../config/load.js';
import { Decimal } from '../core/decimal.js';
import { ProcuraError } from '../core/errors.js';
import { DAY_MS } from '../core/time.js';
import type { Plant } from '../ledger/plant.js';
import { baseDirOf, loadPricingSeries, MaterialPricingSchema, parseMaterialPricing } from '../market/instrument.js';
import type { HedgeMapping, MaterialPriceInput } from './cost-feed.js';

const DecimalText = z.union([z.string(), z.number()]).refine((v) => /^\d+(\.\d+)?$/.test(String(v).trim()), 'expected a plain decimal like "0.95"');
const PolicyShape = {
  leadTimeDays: DecimalText.optional(),
  serviceLevel: DecimalText.optional(),
  /** Coefficient of variation of daily demand, used while the consumption history is short. */
  demandCv: DecimalText.optional(),
  /** Coefficient of variation of the lead time, used while the receipt record is short. */
  leadTimeCv: DecimalText.optional(),
};
const PolicySchema = z.strictObject(PolicyShape);
type PolicyText = { leadTimeDays?: string; serviceLevel?: string; demandCv?: string; leadTimeCv?: string };

export const CostOptionsSchema = z.strictObject({
  horizonDays: z.number().int().min(1).optional(),
  actualWindowDays: z.number().int().min(1).optional(),
  priceLagDays: z.number().int().min(0).optional(),
  forecastErrorDays: z.number().int().min(1).optional(),
  forecastErrorBucketDays: z.number().int().min(1).optional(),
  minHistoryDays: z.number().int().min(1).optional(),
  minReceipts: z.number().int().min(1).optional(),
  closedPeriods: z.number().int().min(1).optional(),
  defaults: PolicySchema.optional(),
  materials: z.record(z.string(), z.strictObject({ ...PolicyShape, onOrder: DecimalText.optional() })).optional(),
  pricing: z.array(MaterialPricingSchema).optional(),
  hedgeInstruments: z.record(z.string(), z.strictObject({ material: z.string(), factor: DecimalText })).optional(),
});

/** The options file, validated and resolved (series loaded), ready to spread into CostFeedOptions. */
export interface CostOptions {
  readonly file: string;
  readonly horizonDays: number | undefined;
  readonly actualWindowDays: number | undefined;
  readonly priceLagMs: number | undefined;
  readonly forecastErrorDays: number | undefined;
  readonly forecastErrorBucketDays: number | undefined;
  readonly minHistoryDays: number | undefined;
  readonly minReceipts: number | undefined;
  readonly closedPeriods: number | undefined;
  readonly defaultPolicy: PolicyText | undefined;
  readonly policy: Record<string, PolicyText>;
  readonly onOrder: ReadonlyMap<string, Decimal>;
  readonly prices: ReadonlyMap<string, MaterialPriceInput>;
  readonly hedgeInstruments: Record<string, HedgeMapping>;
}

/** Reads and checks an options file against `plant`; price files resolve relative to the options file. */
export function loadCostOptions(file: string, plant: Plant): CostOptions {
  const loaded = loadYamlConfig(file, CostOptionsSchema);
  return resolveCostOptions(loaded, plant);
}

export function resolveCostOptions(loaded: LoadedConfig<z.output<typeof CostOptionsSchema>>, plant: Plant): CostOptions {
  const value = loaded.value;
  const serviceLevelOk = (path: (string | number)[], raw: string | number | undefined): void => {
    if (raw === undefined) return;
    const level = new Decimal(String(raw).trim());
    if (level.lessThan('0.5') || level.greaterThanOrEqualTo(1)) throw loaded.fail(path, `service level must be at least 0.5 and below 1, got ${level.toFixed()}`);
  };
  const cvOk = (path: (string | number)[], raw: string | number | undefined): void => {
    if (raw !== undefined && new Decimal(String(raw).trim()).greaterThan(5)) throw loaded.fail(path, `coefficient of variation must be between 0 and 5, got ${String(raw).trim()}`);
  };
  const policyText = (path: (string | number)[], entry: z.output<typeof PolicySchema>): PolicyText => {
    serviceLevelOk([...path, 'serviceLevel'], entry.serviceLevel);
    cvOk([...path, 'demandCv'], entry.demandCv);
    cvOk([...path, 'leadTimeCv'], entry.leadTimeCv);
    const out: PolicyText = {};
    for (const key of ['leadTimeDays', 'serviceLevel', 'demandCv', 'leadTimeCv'] as const) if (entry[key] !== undefined) out[key] = String(entry[key]).trim();
    return out;
  };
  const policy: Record<string, PolicyText> = {};
  const onOrder = new Map<string, Decimal>();
  for (const [id, entry] of Object.entries(value.materials ?? {})) {
    if (!plant.materials.has(id)) throw loaded.fail(['materials', id], `unknown material ${JSON.stringify(id)} (the plant has ${[...plant.materials.keys()].join(', ')})`);
    policy[id] = policyText(['materials', id], entry);
    if (entry.onOrder !== undefined) onOrder.set(id, new Decimal(String(entry.onOrder).trim()));
  }
  const prices = new Map<string, MaterialPriceInput>();
  (value.pricing ?? []).forEach((raw, i) => {
    let pricing;
    try {
      pricing = parseMaterialPricing(raw);
    } catch (error) {
      if (error instanceof ProcuraError) throw loaded.fail(['pricing', i, ...(error.where.field ?? '').split('.').filter(Boolean)], error.detail);
      throw error;
    }
    if (!plant.materials.has(pricing.material)) {
      throw loaded.fail(['pricing', i, 'material'], `price source for unknown material ${JSON.stringify(pricing.material)} (the plant has ${[...plant.materials.keys()].join(', ')})`);
    }
    if (prices.has(pricing.material)) throw loaded.fail(['pricing', i, 'material'], `material ${JSON.stringify(pricing.material)} is priced twice`);
    if (pricing.source.kind !== 'series') throw loaded.fail(['pricing', i, 'symbol'], 'the cost feed reads price files only; give series: { file }');
    prices.set(pricing.material, { series: loadPricingSeries(pricing, baseDirOf(loaded.file)), factor: pricing.factor });
  });
  const hedgeInstruments: Record<string, HedgeMapping> = {};
  for (const [instrument, mapping] of Object.entries(value.hedgeInstruments ?? {})) {
    if (!plant.materials.has(mapping.material)) throw loaded.fail(['hedgeInstruments', instrument, 'material'], `unknown material ${JSON.stringify(mapping.material)}`);
    const factor = new Decimal(String(mapping.factor).trim());
    if (factor.isZero()) throw loaded.fail(['hedgeInstruments', instrument, 'factor'], 'factor must be greater than zero, got 0');
    hedgeInstruments[instrument] = { material: mapping.material, factor };
  }
  const defaults = value.defaults;
  return {
    file: loaded.file,
    horizonDays: value.horizonDays,
    actualWindowDays: value.actualWindowDays,
    priceLagMs: value.priceLagDays === undefined ? undefined : value.priceLagDays * DAY_MS,
    forecastErrorDays: value.forecastErrorDays,
    forecastErrorBucketDays: value.forecastErrorBucketDays,
    minHistoryDays: value.minHistoryDays,
    minReceipts: value.minReceipts,
    closedPeriods: value.closedPeriods,
    defaultPolicy: defaults ? policyText(['defaults'], defaults) : undefined,
    policy,
    onOrder,
    prices,
    hedgeInstruments,
  };
}
