/**
 * The cost feed's output: one CostSnapshot per time asked, Decimals throughout, and its JSON
 * form with decimal strings. JSON is where figures leave the feed, so that is where they are
 * rounded (half-even): money totals to the plant's money places (2 for USD), unit costs and
 * prices to money places + 2, carrying per unit-day to money places + 6, quantities and
 * days to 6 places, z to 6; counts as integers, sources as words.
 */
import type { Decimal } from '../core/decimal.js';
import { formatTime, type EpochMs } from '../core/time.js';

/** Per-unit costs of one product. */
export interface ProductCost {
  readonly unit: string;
  /** BOM x (1 + scrap) x standard material costs + standard conversion cost. */
  readonly standard: Decimal;
  /** BOM x (1 + scrap) x actual material unit costs x usage factor + actual conversion per unit. */
  readonly actual: Decimal;
  /**
   * The conversion part of `actual`: actual conversion incurred over the closed periods
   * (`CostSnapshot.conversionPeriods`) x this product's share of the conversion allocated in
   * them / its units (completed, or sold under sale triggers). For one product: incurred /
   * units. The standard conversion cost when no period is closed or no unit was made in them.
   */
  readonly actualConversion: Decimal;
  /** `closed-periods`, or `standard` when actualConversion fell back to the standard. */
  readonly actualConversionSource: 'closed-periods' | 'standard';
  /** Units completed (sold, under sale triggers) in the closed periods. */
  readonly conversionUnits: Decimal;
  /** BOM x (1 + scrap) x market prices (standard where a material has no price) + standard conversion. */
  readonly replacement: Decimal;
  /** standard x annual rate / 365. */
  readonly carryingPerUnitDay: Decimal;
  /** Finished units on the books. */
  readonly onHand: Decimal;
  /** Carrying cost accrued on the finished units held so far. */
  readonly carryingAccrued: Decimal;
}

/** The MaterialCost figures `MaterialNumbers.numberOf` gives as doubles. */
export type MaterialNumber = 'onHand' | 'bufferStock' | 'reorderPoint' | 'sigmaLeadTimeDemand' | 'exposureQty';

/**
 * What a MaterialCost may offer besides (the feed's snapshots do): one of these figures as the
 * double nearest to it, what `toNumberExact` of its Decimal gives, without making the Decimal;
 * the exact engine's rule context reads them so every day.
 */
export interface MaterialNumbers {
  numberOf(figure: MaterialNumber): number;
}

/** Cost and inventory position of one material. */
export interface MaterialCost {
  readonly unit: string;
  readonly standardCost: Decimal;
  /** Last price bar known, x factor (per material unit); null when the material has no price source. */
  readonly marketPrice: Decimal | null;
  readonly marketPriceAt: EpochMs | null;
  /** Purchase cost (price + fees, so price variance included) / qty over the trailing window; standard when nothing was bought in it. */
  readonly actualUnitCost: Decimal;
  /** Quantity purchased in the trailing window (zero: actualUnitCost fell back to standard). */
  readonly actualPurchasedQty: Decimal;
  /** (flushed - count difference) / flushed over the window: 1.02 means counts found 2 % more used than the BOM says. */
  readonly usageFactor: Decimal;
  /** standard cost x annual rate / 365 + storage per unit-day. */
  readonly carryingPerUnitDay: Decimal;
  /** onHand x carryingPerUnitDay: what holding today's stock costs per day at today's rate. */
  readonly carryingPerDay: Decimal;
  /** Carrying cost accrued on the book stock, from each movement's time to now. */
  readonly carryingAccrued: Decimal;
  readonly onHand: Decimal;
  readonly onOrder: Decimal;
  readonly hedged: Decimal;
  /** Planned consumption over the horizon (plan x BOM x (1 + scrap)). */
  readonly forecastQty: Decimal;
  /** Mean planned consumption per day over the horizon (d). */
  readonly dailyConsumption: Decimal;
  /**
   * sigma_d: standard deviation of daily demand around the plan. From history: the population
   * standard deviation of (consumption backflushed on a day - consumption planned for it) over
   * the whole days of `sigmaDailyHistoryDays` ending yesterday; from `cv`: demandCv x d.
   */
  readonly sigmaDailyConsumption: Decimal;
  /** `history` (enough days of backflushed consumption) or `cv` (history shorter than the minimum). */
  readonly sigmaDailySource: 'history' | 'cv';
  /** First day of the history window (null before any backflush). */
  readonly sigmaDailyHistoryFrom: EpochMs | null;
  /** Whole days in the history window: whole buckets, the last one ending before today's bucket. */
  readonly sigmaDailyHistoryDays: number;
  /** Errors are measured per bucket of this many days (1: per day; 7: Monday-to-Sunday weeks), then scaled to a day by 1 / sqrt(bucket). */
  readonly sigmaDailyBucketDays: number;
  /** The configured coefficient of variation of daily demand, used when history is short. */
  readonly demandCv: Decimal;
  /** L: the lead time of the policy. */
  readonly leadTimeDays: Decimal;
  /** sigma_L in days: from the desk's order-to-receipt record (`receipts`) or leadTimeCv x L (`cv`). */
  readonly sigmaLeadTimeDays: Decimal;
  readonly sigmaLeadTimeSource: 'receipts' | 'cv';
  /** Receipts in the desk's record (0 when the feed has no record). */
  readonly leadTimeReceipts: number;
  /** The configured coefficient of variation of the lead time, used when receipts are few. */
  readonly leadTimeCv: Decimal;
  /** sigma_LT = sqrt(L x sigma_d^2 + d^2 x sigma_L^2): demand standard deviation over the lead time, material units. */
  readonly sigmaLeadTimeDemand: Decimal;
  readonly serviceLevel: Decimal;
  /** Inverse normal of the service level, rounded to 6 decimals. */
  readonly z: Decimal;
  /** z x sigmaLeadTimeDemand. */
  readonly bufferStock: Decimal;
  /** mean x lead time + buffer stock. */
  readonly reorderPoint: Decimal;
  /** (onHand + onOrder) / dailyConsumption; null when nothing is planned. */
  readonly daysOfCover: Decimal | null;
  /** max(0, forecastQty - onHand - onOrder - hedged). */
  readonly exposureQty: Decimal;
  /** exposureQty x market price (standard cost when there is no price). */
  readonly exposureValue: Decimal;
}

/** One closed period: (from, to], `to` the close's accounting time. */
export interface ConversionPeriod {
  readonly from: EpochMs | null;
  readonly to: EpochMs;
}

export interface CostSnapshot {
  /** The time asked for. */
  readonly at: EpochMs;
  /** The newest knownAt of the figures used (ledger entries, price bars). Never after `at`. */
  readonly knownAt: EpochMs;
  readonly currency: string;
  readonly horizonDays: number;
  readonly actualWindowDays: number;
  /** `at` of the latest period close known: actual conversion is measured up to it. */
  readonly conversionClosedAt: EpochMs | null;
  /**
   * The closed periods actual conversion covers, oldest first: the last `closedPeriods` closes
   * known at `at`, each from the previous close (null: from the ledger's start) to its close.
   */
  readonly conversionPeriods: readonly ConversionPeriod[];
  /** Actual conversion cost incurred in those periods. */
  readonly conversionIncurred: Decimal;
  readonly products: Readonly<Record<string, ProductCost>>;
  readonly materials: Readonly<Record<string, MaterialCost>>;
  /** The JSON form (decimal strings, ISO times), used by JSON.stringify. */
  toJSON(): CostSnapshotJson;
}

type Jsonify<T> = { [K in keyof T]: T[K] extends Decimal ? string : T[K] extends Decimal | null ? string | null : T[K] extends EpochMs | null ? string | null : T[K] };
/** Counts stay numbers in JSON. */
type MaterialJson = Jsonify<Omit<MaterialCost, 'sigmaDailyHistoryDays' | 'sigmaDailyBucketDays' | 'leadTimeReceipts'>> & { sigmaDailyHistoryDays: number; sigmaDailyBucketDays: number; leadTimeReceipts: number };

export interface CostSnapshotJson {
  readonly at: string;
  readonly knownAt: string;
  readonly currency: string;
  readonly horizonDays: number;
  readonly actualWindowDays: number;
  readonly conversionClosedAt: string | null;
  readonly conversionPeriods: { from: string | null; to: string }[];
  readonly conversionIncurred: string;
  readonly products: Record<string, Jsonify<ProductCost>>;
  readonly materials: Record<string, MaterialJson>;
}

/** Decimal places of each field in the JSON form, relative to nothing (absolute) or to the money places (`m+k`). */
type Spec = number | `m+${number}` | 'time' | 'text' | 'count';

const MATERIAL_PLACES: Record<keyof MaterialCost, Spec> = {
  unit: 'text',
  standardCost: 'm+2',
  marketPrice: 'm+2',
  marketPriceAt: 'time',
  actualUnitCost: 'm+2',
  actualPurchasedQty: 6,
  usageFactor: 6,
  carryingPerUnitDay: 'm+6',
  carryingPerDay: 'm+0',
  carryingAccrued: 'm+0',
  onHand: 6,
  onOrder: 6,
  hedged: 6,
  forecastQty: 6,
  dailyConsumption: 6,
  sigmaDailyConsumption: 6,
  sigmaDailySource: 'text',
  sigmaDailyHistoryFrom: 'time',
  sigmaDailyHistoryDays: 'count',
  sigmaDailyBucketDays: 'count',
  demandCv: 6,
  leadTimeDays: 6,
  sigmaLeadTimeDays: 6,
  sigmaLeadTimeSource: 'text',
  leadTimeReceipts: 'count',
  leadTimeCv: 6,
  sigmaLeadTimeDemand: 6,
  serviceLevel: 6,
  z: 6,
  bufferStock: 6,
  reorderPoint: 6,
  daysOfCover: 6,
  exposureQty: 6,
  exposureValue: 'm+0',
};

const PRODUCT_PLACES: Record<keyof ProductCost, Spec> = {
  unit: 'text',
  standard: 'm+2',
  actual: 'm+2',
  actualConversion: 'm+2',
  actualConversionSource: 'text',
  conversionUnits: 6,
  replacement: 'm+2',
  carryingPerUnitDay: 'm+6',
  onHand: 6,
  carryingAccrued: 'm+0',
};

/** Field names of a material in output order (for tables and CSV). */
export const MATERIAL_FIELDS = Object.keys(MATERIAL_PLACES) as (keyof MaterialCost)[];
export const PRODUCT_FIELDS = Object.keys(PRODUCT_PLACES) as (keyof ProductCost)[];

/** Formats one field's value as it appears in JSON and CSV. */
export function formatField(value: unknown, spec: Spec, moneyPlaces: number): string | null {
  if (value === null || value === undefined) return null;
  if (spec === 'text' || spec === 'count') return String(value);
  if (spec === 'time') return formatTime(value as EpochMs);
  const places = typeof spec === 'number' ? spec : moneyPlaces + Number(spec.slice(2));
  return (value as Decimal).toFixed(places);
}

export function formatMaterialField(field: keyof MaterialCost, value: unknown, moneyPlaces: number): string | null {
  return formatField(value, MATERIAL_PLACES[field], moneyPlaces);
}

export function formatProductField(field: keyof ProductCost, value: unknown, moneyPlaces: number): string | null {
  return formatField(value, PRODUCT_PLACES[field], moneyPlaces);
}

/** The JSON form of a snapshot (see the module comment for the rounding). */
export function snapshotToJson(snapshot: Omit<CostSnapshot, 'toJSON'>, moneyPlaces: number): CostSnapshotJson {
  const products: Record<string, Record<string, string | null>> = {};
  for (const [id, p] of Object.entries(snapshot.products)) {
    const out: Record<string, string | null> = {};
    for (const field of PRODUCT_FIELDS) out[field] = formatProductField(field, p[field], moneyPlaces);
    products[id] = out;
  }
  const materials: Record<string, Record<string, string | number | null>> = {};
  for (const [id, m] of Object.entries(snapshot.materials)) {
    const out: Record<string, string | number | null> = {};
    for (const field of MATERIAL_FIELDS) out[field] = MATERIAL_PLACES[field] === 'count' ? (m[field] as number) : formatMaterialField(field, m[field], moneyPlaces);
    materials[id] = out;
  }
  return {
    at: formatTime(snapshot.at),
    knownAt: formatTime(snapshot.knownAt),
    currency: snapshot.currency,
    horizonDays: snapshot.horizonDays,
    actualWindowDays: snapshot.actualWindowDays,
    conversionClosedAt: snapshot.conversionClosedAt === null ? null : formatTime(snapshot.conversionClosedAt),
    conversionPeriods: snapshot.conversionPeriods.map((p) => ({ from: p.from === null ? null : formatTime(p.from), to: formatTime(p.to) })),
    conversionIncurred: snapshot.conversionIncurred.toFixed(moneyPlaces),
    products: products as unknown as CostSnapshotJson['products'],
    materials: materials as unknown as CostSnapshotJson['materials'],
  };
}
