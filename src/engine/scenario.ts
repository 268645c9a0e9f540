/**
 * Backtest scenarios: one YAML file in `backtests/` names the plant, the production plan, the
 * price series per material (and hedge instrument), the strategy and its parameters, fees and
 * slippage, the schedule, the date range, opening inventory and the random seed. Loading it
 * checks everything a run needs before the run starts, and every refusal names the file, the
 * line and the field. Paths inside a scenario are relative to the scenario file.
 */
import { existsSync } from 'node:fs';
import { didYouMean } from '../core/did-you-mean.js';
import { z } from 'zod';
import { Decimal, ZERO } from '../core/decimal.js';
import { InputError } from '../core/errors.js';
import { DAY_MS, formatDate, type EpochMs } from '../core/time.js';
import { loadYamlConfig, type ConfigPath, type LoadedConfig } from '../config/load.js';
import { DateSchema, DecimalSchema, NonNegativeDecimalSchema, PositiveDecimalSchema, loadPlant, type Plant } from '../ledger/index.js';
import { CADENCES, closeKnownAt, indexKnownAt, loadSeries, type Cadence, type PriceSeries } from '../market/index.js';
import { ProductionPlan, loadPlan, perturbPlan, planFromRate } from '../costfeed/index.js';
import { RiskConfigSchema, parseRiskConfig, type RiskLimits } from '../pipeline/index.js';
import { CronSchedule } from './schedule.js';
import { getStrategy, parseStrategyParams, strategyNames } from '../../strategies/index.js';
import type { StrategyDefinition, StrategyNeeds } from './strategy.js';
import type { HedgeStripSetup } from './hedge-strip.js';
import { loadFuturesCurve } from '../market/forward.js';

const ShareSchema = DecimalSchema.refine((v) => v.greaterThanOrEqualTo(0) && v.lessThan(1), 'must be at least 0 and below 1');

const SeriesRefSchema = z.strictObject({
  /** CSV file, relative to the scenario. */
  file: z.string().min(1),
  /** Column of a wide table (World Bank). */
  column: z.string().min(1).optional(),
  /**
   * The bar length: daily, weekly or monthly. The file's dates must fit it (a file that does
   * not is refused with its line); when absent it is inferred from the median step and the
   * run prints that it was inferred.
   */
  cadence: z.enum(CADENCES).optional(),
});

const MaterialSetupSchema = z.strictObject({
  prices: SeriesRefSchema,
  /** How the series quotes, e.g. "USD/MMBtu" (shown in reports). */
  priceUnit: z.string().min(1).optional(),
  /** Quoted units per material unit: price per material unit = quoted price x factor. */
  factor: PositiveDecimalSchema.prefault('1'),
  leadTimeDays: z.int().min(0).max(365).default(5),
  serviceLevel: DecimalSchema.refine((v) => v.greaterThanOrEqualTo('0.5') && v.lessThan(1), 'must be at least 0.5 and below 1').prefault('0.95'),
  /** Coefficient of variation of daily demand the cost feed uses until it has 30 days of consumption against the plan (default 0.1). */
  demandCv: DecimalSchema.refine((v) => v.greaterThanOrEqualTo(0) && v.lessThanOrEqualTo(5), 'must be between 0 and 5').optional(),
  /**
   * Coefficient of variation of the lead time the cost feed uses until the desk has 5 receipts.
   * The simulated venue delivers exactly leadTimeDays after the order's day, so 0 by default.
   */
  leadTimeCv: DecimalSchema.refine((v) => v.greaterThanOrEqualTo(0) && v.lessThanOrEqualTo(5), 'must be between 0 and 5').prefault('0'),
  /** Opening inventory in days of planned consumption (ignored when openingQty is given). */
  openingCoverDays: z.number().min(0).max(3650).default(15),
  openingQty: NonNegativeDecimalSchema.optional(),
  /** The market's lot step, tick size and minimum notional (material units and currency). */
  lotStep: PositiveDecimalSchema.prefault('1'),
  tickSize: PositiveDecimalSchema.prefault('0.0001'),
  minNotional: NonNegativeDecimalSchema.prefault('0'),
});

const RateSchema = DecimalSchema.refine((v) => v.greaterThan(-1) && v.lessThan(1), 'must be a yearly rate above -1 and below 1 (0.04 = 4 %)');

/** Default cost-of-carry rates when a scenario names none (written in the run's assumptions). */
export const DEFAULT_CARRY = { financingRate: '0.04', storageRate: '0', convenienceYield: '0' } as const;

const HedgeSetupSchema = z.strictObject({
  /** Instrument family id; the contracts are `<instrument>:<YYYY-MM>`. */
  instrument: z.string().min(1).regex(/^[^:\s]+$/, 'must not contain ":" or spaces'),
  /** `swap`: monthly average-price swaps; `futures`: exchange contracts closed before expiry. */
  kind: z.enum(['swap', 'futures']).default('swap'),
  /** The hedge index (spot) the swaps fix against and the carry model starts from; defaults to the material's series. */
  prices: SeriesRefSchema.optional(),
  /** A futures curve file (date, contract1..contractN), quoted in the index's unit. */
  curve: z.strictObject({ file: z.string().min(1) }).optional(),
  /** The exchange's last-trading-day rule for the curve's contracts (and for carry-model futures). */
  expiry: z.enum(['cl', 'ng', 'ho', 'rb', 'month-end']).optional(),
  /** Futures: close a contract this many business days before its last trading day. */
  rollDaysBeforeExpiry: z.int().min(0).max(15).default(5),
  /** How many monthly contracts can be traded: the month in progress and the next months - 1. */
  months: z.int().min(1).max(36).default(3),
  /** Cost of carry for the forward when there is no curve (yearly rates as shares). */
  carry: z
    .strictObject({ financingRate: RateSchema.prefault(DEFAULT_CARRY.financingRate), storageRate: RateSchema.prefault(DEFAULT_CARRY.storageRate), convenienceYield: RateSchema.prefault(DEFAULT_CARRY.convenienceYield) })
    .prefault({}),
  /** Yearly rate charged on the hedge's negative mark (default: the carry's financing rate). */
  marginRate: RateSchema.optional(),
  factor: PositiveDecimalSchema.optional(),
  lotStep: PositiveDecimalSchema.prefault('1'),
  tickSize: PositiveDecimalSchema.prefault('0.0001'),
  minNotional: NonNegativeDecimalSchema.prefault('0'),
});

const ProductionSchema = z.strictObject({
  product: z.string().min(1),
  /** A plan file (CSV: date, product, quantity), relative to the scenario... */
  plan: z.string().min(1).optional(),
  /** ...or a constant rate per day with seeded noise. */
  ratePerDay: PositiveDecimalSchema.optional(),
  /**
   * Standard deviation of actual daily production around the plan, as a share of the planned
   * quantity (seeded). The desk and the cost feed know the plan (the rate, or the plan file);
   * the plant makes the noisy quantities, and the difference is the forecast error the cost
   * feed sizes safety stock from.
   */
  noise: z.number().min(0).max(1).default(0),
  /** The product's target unit cost: the price cap for buys is derived from it. */
  targetUnitCost: PositiveDecimalSchema.optional(),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  plant: z.string().min(1),
  from: DateSchema,
  to: DateSchema,
  seed: z.int().default(1),
  production: ProductionSchema,
  materials: z.record(z.string().min(1), MaterialSetupSchema),
  hedges: z.record(z.string().min(1), HedgeSetupSchema).default({}),
  strategy: z.strictObject({ name: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }),
  schedule: z.strictObject({ cron: z.string().min(1), timezone: z.string().default('UTC') }).prefault({ cron: '0 9 * * 1' }),
  venue: z
    .strictObject({
      /** Market orders fill at the next bar's open, or its close (the default for close-only series). */
      marketFill: z.enum(['next-open', 'next-close']).optional(),
      feeBps: NonNegativeDecimalSchema.prefault('0'),
      feeFixed: NonNegativeDecimalSchema.prefault('0'),
      slippageBps: NonNegativeDecimalSchema.prefault('0'),
      participationRate: DecimalSchema.optional(),
    })
    .prefault({}),
  /** Stockouts are covered by an emergency spot purchase at the market price x (1 + premium). */
  emergency: z.strictObject({ premium: ShareSchema.prefault('0.25') }).prefault({}),
  risk: RiskConfigSchema.partial().prefault({}),
  /** Forecast horizon for consumption, buffer stock and exposure. */
  horizonDays: z.int().min(1).max(730).default(30),
  /** Trailing window for actual costs in the cost feed. */
  actualWindowDays: z.int().min(1).max(3650).default(90),
  /** Actual conversion cost = standard x (1 + noise x N(0,1)) per month; closed `closeLagDays` after month end. */
  conversion: z.strictObject({ noise: z.number().min(0).max(1).default(0.03), closeLagDays: z.int().min(0).max(60).default(5) }).prefault({}),
  /** Share of the range used in-sample by sweeps (walk-forward split). */
  inSampleShare: z.number().gt(0).lt(1).default(0.7),
  /** Where the HTML report goes, relative to the scenario file. */
  report: z.string().min(1).optional(),
});
export type ScenarioInput = z.output<typeof ScenarioSchema>;

export interface PreparedMaterial {
  readonly id: string;
  readonly unit: string;
  readonly series: PriceSeries;
  readonly priceUnit: string;
  readonly factor: Decimal;
  readonly factorNumber: number;
  readonly leadTimeDays: number;
  readonly serviceLevel: Decimal;
  readonly demandCv: Decimal | undefined;
  readonly leadTimeCv: Decimal;
  readonly openingQty: Decimal;
  readonly rules: { readonly lotStep: Decimal; readonly tickSize: Decimal; readonly minNotional: Decimal };
  readonly hedge: PreparedHedge | undefined;
}

export interface PreparedHedge {
  readonly instrument: string;
  readonly series: PriceSeries;
  readonly factor: Decimal;
  readonly factorNumber: number;
  readonly rules: { readonly lotStep: Decimal; readonly tickSize: Decimal; readonly minNotional: Decimal };
  /** Everything the strip needs except its index, which a run feeds (one HedgeStrip per run). */
  readonly strip: Omit<HedgeStripSetup, 'index'>;
}

/** A scenario with everything loaded and checked: what a run needs and nothing it must read again. */
export interface Scenario {
  readonly file: string;
  readonly config: ScenarioInput;
  /** sha256 of the scenario's data; stamped on every result. */
  readonly hash: string;
  /** Every data file the scenario read (plant, price series, plan, curves), absolute paths in reading order. */
  readonly inputs: readonly string[];
  readonly plant: Plant;
  /** The production plan as the desk and the cost feed know it (the forecast). */
  readonly plan: ProductionPlan;
  /** What the plant actually makes each day: the plan with the scenario's noise. */
  readonly production: ProductionPlan;
  readonly product: string;
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly materials: readonly PreparedMaterial[];
  readonly strategy: { readonly definition: StrategyDefinition<unknown>; readonly params: unknown; readonly needs: StrategyNeeds };
  readonly schedule: CronSchedule;
  readonly risk: RiskLimits;
  readonly reportPath: string | undefined;
}

/** Loads and checks a scenario file. Every problem is a ConfigError with file, line and field. */
export function loadScenario(file: string, overrides: { strategy?: string; params?: Record<string, unknown> } = {}): Scenario {
  const loaded = loadYamlConfig(file, ScenarioSchema);
  return prepareScenario(loaded, overrides);
}

export function prepareScenario(loaded: LoadedConfig<ScenarioInput>, overrides: { strategy?: string; params?: Record<string, unknown> } = {}): Scenario {
  const config = loaded.value;
  const file = loaded.file;
  const path = loaded.resolvePath;
  const fail = loaded.fail;
  const within = loaded.within;

  const strategyName = overrides.strategy ?? config.strategy.name;
  const rawParams = overrides.strategy !== undefined && overrides.strategy !== config.strategy.name ? {} : { ...config.strategy.params, ...(overrides.params ?? {}) };
  const { plant, product, definition, params, needs, bomMaterials } = resolveDesk(loaded, { plant: config.plant, product: config.production.product, strategy: strategyName, params: rawParams });
  const inputs: string[] = [path(config.plant)];
  const from = config.from;
  const to = config.to;
  if (to <= from) throw fail(['to'], `the range must end after it starts (${formatDate(from)} .. ${formatDate(to)})`);

  // Materials: every material the product's BOM consumes must be priced.
  for (const id of Object.keys(config.materials)) {
    if (!plant.materials.has(id)) throw fail(['materials', id], `unknown material "${id}" (the plant has: ${[...plant.materials.keys()].join(', ')})`);
  }
  for (const id of bomMaterials) {
    if (!(id in config.materials)) throw fail(['materials'], `material "${id}" is in the ${product} BOM but has no price series here`);
  }
  for (const id of Object.keys(config.hedges)) {
    if (!(id in config.materials)) throw fail(['hedges', id], `hedge for "${id}", which is not a material of this scenario`);
  }
  if (needs.hedging === true && Object.keys(config.hedges).length === 0) {
    throw fail(['hedges'], `strategy ${strategyName} hedges, but the scenario names no hedge instrument`);
  }

  const loadRef = (at: ConfigPath, ref: { file: string; column?: string | undefined; cadence?: Cadence | undefined }): PriceSeries => {
    const seriesFile = path(ref.file);
    if (!existsSync(seriesFile)) throw fail([...at, 'file'], `price file not found: ${seriesFile}`);
    inputs.push(seriesFile);
    try {
      return loadSeries(seriesFile, { column: ref.column, cadence: ref.cadence });
    } catch (error) {
      // The file's own line is the place to look; say where the cadence was declared too.
      if (error instanceof InputError && ref.cadence !== undefined && /declared/.test(error.detail)) {
        throw new InputError(`${error.detail} (cadence: ${ref.cadence} is set in ${file} at ${[...at, 'cadence'].join('.')})`, error.where);
      }
      throw error;
    }
  };

  const slowWindow = needs.signal?.slow ?? 1;
  const days = Math.round((to - from) / DAY_MS) + 1;
  // The plan (a file or a constant rate) and the noisy production the plant makes against it.
  let plan: ProductionPlan;
  let made: ProductionPlan;
  const production = config.production;
  if (production.plan !== undefined) {
    const planFile = path(production.plan);
    if (!existsSync(planFile)) throw fail(['production', 'plan'], `plan file not found: ${planFile}`);
    inputs.push(planFile);
    plan = loadPlan(planFile, plant);
    made = perturbPlan(plan, plant, { noise: production.noise, seed: config.seed });
  } else if (production.ratePerDay !== undefined) {
    // The plan runs past the range by the horizon, so forecasts near the end see a full horizon.
    const rate = { product, from, days: days + config.horizonDays + 1, ratePerDay: production.ratePerDay, seed: config.seed };
    plan = planFromRate({ ...rate, noise: 0, file: `${file} (production plan)` }, plant);
    made = planFromRate({ ...rate, noise: production.noise, file: `${file} (production)` }, plant);
  } else {
    throw fail(['production'], 'give either plan (a CSV file) or ratePerDay');
  }

  const materials: PreparedMaterial[] = [];
  for (const [id, setup] of Object.entries(config.materials)) {
    const at: ConfigPath = ['materials', id];
    const series = loadRef([...at, 'prices'], setup.prices);
    const firstKnown = closeKnownAt(series, 0);
    const lastKnown = closeKnownAt(series, series.length - 1);
    if (from < firstKnown) throw fail(['from'], `the range starts ${formatDate(from)}, before the first ${id} price is known (${formatDate(firstKnown)}, ${series.file})`);
    if (to > lastKnown + 31 * DAY_MS) throw fail(['to'], `the range ends ${formatDate(to)}, after the ${id} prices end (${formatDate(lastKnown)}, ${series.file})`);
    // The bars known by the end: closeKnownAt does not decrease along a series, so they are the
    // ones up to the last known at `to` (a binary search, not a walk over every bar).
    const barsBeforeEnd = indexKnownAt(series, to) + 1;
    if (barsBeforeEnd < slowWindow) throw fail(['strategy', 'params', 'slow'], `the slow window (${slowWindow} bars) is longer than the ${barsBeforeEnd} ${id} bars up to ${formatDate(to)}`);
    const cadence = cadenceDays(series.interval);
    if (cadence !== undefined && setup.leadTimeDays < cadence) {
      throw fail(
        ['materials', id, 'leadTimeDays'],
        `${setup.leadTimeDays} days is shorter than the ${series.interval} price series can meet: an order fills on the next bar and its price is known only when that bar closes (up to ${cadence} days later); set leadTimeDays to at least ${cadence} or use a finer series (${series.file})`,
      );
    }
    const material = plant.materials.get(id)!;
    const daily = plan.rows.length === 0 ? ZERO : dailyNeed(plant, plan, product, id, from);
    const openingQty = setup.openingQty ?? daily.times(setup.openingCoverDays).toDecimalPlaces(6);
    let hedge: PreparedHedge | undefined;
    const hedgeSetup = config.hedges[id];
    if (hedgeSetup !== undefined) {
      const hedgeSeries = hedgeSetup.prices === undefined ? series : loadRef(['hedges', id, 'prices'], hedgeSetup.prices);
      const factor = hedgeSetup.factor ?? setup.factor;
      if (hedgeSetup.instrument === id || hedgeSetup.instrument in config.materials) throw fail(['hedges', id, 'instrument'], `hedge instrument "${hedgeSetup.instrument}" clashes with a material id`);
      let curve;
      if (hedgeSetup.curve !== undefined && hedgeSetup.expiry === undefined) throw fail(['hedges', id, 'expiry'], 'a curve needs its exchange expiry rule (cl, ng, ho, rb or month-end) to tell which delivery month contract n is');
      if (hedgeSetup.curve !== undefined) {
        const curveFile = path(hedgeSetup.curve.file);
        if (!existsSync(curveFile)) throw fail(['hedges', id, 'curve', 'file'], `curve file not found: ${curveFile}`);
        inputs.push(curveFile);
        curve = loadFuturesCurve(curveFile);
      }
      const carry = { financingRate: hedgeSetup.carry.financingRate.toNumber(), storageRate: hedgeSetup.carry.storageRate.toNumber(), convenienceYield: hedgeSetup.carry.convenienceYield.toNumber() };
      hedge = {
        instrument: hedgeSetup.instrument,
        series: hedgeSeries,
        factor,
        factorNumber: factor.toNumber(),
        rules: { lotStep: hedgeSetup.lotStep, tickSize: hedgeSetup.tickSize, minNotional: hedgeSetup.minNotional },
        strip: {
          family: hedgeSetup.instrument,
          kind: hedgeSetup.kind,
          curve,
          expiry: hedgeSetup.expiry ?? 'month-end',
          rollDaysBeforeExpiry: hedgeSetup.rollDaysBeforeExpiry,
          months: hedgeSetup.months,
          carry,
          marginRate: hedgeSetup.marginRate?.toNumber() ?? carry.financingRate,
        },
      };
    }
    materials.push({
      id,
      unit: material.unit,
      series,
      priceUnit: setup.priceUnit ?? `${plant.currency}/${material.unit}`,
      factor: setup.factor,
      factorNumber: setup.factor.toNumber(),
      leadTimeDays: setup.leadTimeDays,
      serviceLevel: setup.serviceLevel,
      demandCv: setup.demandCv,
      leadTimeCv: setup.leadTimeCv,
      openingQty,
      rules: { lotStep: setup.lotStep, tickSize: setup.tickSize, minNotional: setup.minNotional },
      hedge,
    });
  }

  const schedule = within(['schedule', 'cron'], () => CronSchedule.create(config.schedule.cron, config.schedule.timezone, {}));
  const risk = parseRiskConfig(
    {
      maxOrderNotional: config.risk.maxOrderNotional ?? '1000000000',
      maxDailyNotional: config.risk.maxDailyNotional ?? '1000000000',
      ...Object.fromEntries(Object.entries(config.risk).filter(([, v]) => v !== undefined)),
    },
    { file },
  );
  return {
    file,
    config,
    hash: loaded.hash,
    inputs,
    plant,
    plan,
    production: made,
    product,
    from,
    to,
    materials,
    strategy: { definition: definition as StrategyDefinition<unknown>, params, needs },
    schedule,
    risk,
    reportPath: config.report === undefined ? undefined : path(config.report),
  };
}

/** The plant, product and strategy a desk runs, resolved and checked (shared by scenarios and live configs). */
export interface DeskSetup {
  readonly plant: Plant;
  readonly product: string;
  readonly definition: StrategyDefinition<unknown>;
  readonly params: unknown;
  readonly needs: StrategyNeeds;
  /** Every material any version of the product's BOM consumes. */
  readonly bomMaterials: ReadonlySet<string>;
}

/**
 * Loads the plant a configuration names (`plant:`, relative to the file), checks the product
 * (`production.product`) and the strategy (`strategy.name`, `strategy.params`), each refusal
 * naming the field of `loaded`.
 */
export function resolveDesk(loaded: LoadedConfig<unknown>, input: { plant: string; product: string; strategy: string; params: Record<string, unknown> }): DeskSetup {
  const fail = loaded.fail;
  const plantFile = loaded.resolvePath(input.plant);
  if (!existsSync(plantFile)) throw fail(['plant'], `plant file not found: ${plantFile}`);
  const plant = loadPlant(plantFile);
  const product = input.product;
  const productSetup = plant.products.get(product);
  if (productSetup === undefined) throw fail(['production', 'product'], `unknown product "${product}" (the plant has: ${[...plant.products.keys()].join(', ')})`);
  const definition = getStrategy(input.strategy);
  if (definition === undefined) throw fail(['strategy', 'name'], `unknown strategy "${input.strategy}"${didYouMean(input.strategy, strategyNames())} (known: ${strategyNames().join(', ')})`);
  const parsed = parseStrategyParams(definition, input.params);
  if (!parsed.ok) throw fail(['strategy', 'params', ...(parsed.field === '' ? [] : parsed.field.split('.'))], parsed.message);
  const bomMaterials = new Set<string>();
  for (const version of productSetup.bom) for (const line of version.lines) bomMaterials.add(line.material);
  return { plant, product, definition: definition as StrategyDefinition<unknown>, params: parsed.params, needs: definition.needs(parsed.params), bomMaterials };
}

/**
 * The longest wait, in days, between deciding an order on a series of this interval and
 * knowing its fill price: a bar is known when it closes, and a monthly bar covers up to 31
 * days. Undefined for intervals without a fixed length (irregular, unknown).
 */
export function cadenceDays(interval: PriceSeries['interval']): number | undefined {
  switch (interval) {
    case 'minute':
    case 'hourly':
      return 0;
    case 'daily':
      return 1;
    case 'weekly':
      return 7;
    case 'monthly':
      return 31;
    case 'yearly':
      return 366;
    default:
      return undefined;
  }
}

/** Planned consumption of `material` on the plan's first day, as a rough daily need (for opening stock). */
function dailyNeed(plant: Plant, plan: ProductionPlan, product: string, material: string, at: EpochMs): Decimal {
  const bom = plant.bomAt(product, at);
  const line = bom.lines.find((l) => l.material === material);
  if (line === undefined) return ZERO;
  let total = ZERO;
  let count = 0;
  for (let day = at; day < at + 30 * DAY_MS; day += DAY_MS) {
    total = total.plus(plan.qtyOn(product, day));
    count += 1;
  }
  return total.dividedBy(count).times(line.qty).times(line.scrap.plus(1));
}
