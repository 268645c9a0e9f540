/**
 * The cost feed: the ledger's figures published as dated market data. For a plant, its
 * ledger, a production plan and material prices, `snapshot(T)` answers, using only what was
 * known at T (ledger entries with knownAt <= T, price bars whose close is known by T - priceLagMs,
 * per market's closeKnownAt: a daily bar dated D is known on D+1):
 *
 * - per product: unit cost at standard, at actual and at replacement, and carrying cost per
 *   unit-day;
 * - per material: standard cost, market price, actual unit cost, carrying cost per unit-day and
 *   accrued on the stock, and the inventory position (on hand, on order, hedged, forecast
 *   consumption, buffer stock, reorder point, days of cover, unhedged exposure).
 *
 * Safety stock is sized from forecast error and lead-time variability, not from the plan's own
 * day-to-day spread (a flat plan has none): sigma_d from the ledger's backflushed consumption
 * against the plan, day by day, sigma_L from the desk's record of order-to-receipt times, each
 * falling back to a configured coefficient of variation while its history is short, and
 * sigma_LT = sqrt(L x sigma_d^2 + d^2 x sigma_L^2). Actual conversion is measured over whole
 * closed periods (the last `closedPeriods` closes known), never a window that cuts one.
 *
 * Cheap forward steps: a backtest calls snapshot() once per simulated day for 30 years. The
 * feed keeps cursors (the next journal entry to read, entries read but not yet known, price
 * bar indices, trailing-window sums) and moves them forward; the plan's consumption is turned
 * into prefix sums once. Asking for an earlier T than the previous call rebuilds the cursors
 * from scratch (correct, just slower).
 */
import { Decimal, ONE, ZERO } from '../core/decimal.js';
import { InputError, ProcuraError, type Where } from '../core/errors.js';
import { DAY_MS, formatDate, formatTime, startOfDay, type EpochMs } from '../core/time.js';
import { completionIsTrigger } from '../ledger/accounts.js';
import type { JournalEntry } from '../ledger/journal.js';
import type { Plant } from '../ledger/plant.js';
import { closeKnownAt, type PriceSeries } from '../market/series.js';
import { CarryClock } from './carry-clock.js';
import { bomLineCost, carryingPerUnitDay, daysOfCover, exposureQty, reorderPoint, sigmaFromSums, sigmaLeadTimeDemand, zForServiceLevel } from './inventory-math.js';
import type { ProductionPlan } from './plan.js';
import { TimeWindow } from './time-window.js';
import { snapshotToJson, type ConversionPeriod, type CostSnapshot, type MaterialCost, type ProductCost } from './snapshot.js';

/** Lead time, service level and the fallback coefficients of variation of one material. */
export interface MaterialPolicy {
  readonly leadTimeDays: Decimal;
  /** Cycle service level: probability of no stockout during a lead time, in [0.5, 1). */
  readonly serviceLevel: Decimal;
  /** sigma_d = demandCv x mean daily consumption while the consumption history is short. */
  readonly demandCv: Decimal;
  /** sigma_L = leadTimeCv x lead time while the receipt record is short. */
  readonly leadTimeCv: Decimal;
}

/** Built-in defaults when neither the options nor the plant file give a policy. */
export const DEFAULT_POLICY: MaterialPolicy = Object.freeze({
  leadTimeDays: new Decimal(5),
  serviceLevel: new Decimal('0.95'),
  demandCv: new Decimal('0.1'),
  leadTimeCv: new Decimal('0.1'),
});

/**
 * The desk's record of order-to-receipt times of one material, in whole days from the order's
 * day to the receipt's (sums, so the feed reads it in O(1)).
 */
export interface LeadTimeRecord {
  readonly count: number;
  readonly sumDays: number;
  readonly sumSquaresDays: number;
}

/** A price source for one material: quoted price x factor = price per material unit. */
export interface MaterialPriceInput {
  readonly series: PriceSeries;
  readonly factor: Decimal;
}

/** Which material a hedge instrument covers, and how many material units one instrument unit is. */
export interface HedgeMapping {
  readonly material: string;
  readonly factor: Decimal;
}

/** What the feed reads from the ledger: its journal entries in seq order (an append-only list). */
export interface LedgerEntrySource {
  /** Entries with seq > `seq`, in order, read lazily (the feed stops at the first one dated after its time). */
  entriesAfter(seq: number): Iterable<JournalEntry>;
  /** One entry by seq (a reversal's original). */
  entry(seq: number): JournalEntry | undefined;
}

type PolicyInput = {
  readonly leadTimeDays?: Decimal | number | string;
  readonly serviceLevel?: Decimal | number | string;
  readonly demandCv?: Decimal | number | string;
  readonly leadTimeCv?: Decimal | number | string;
};

export interface CostFeedOptions {
  readonly plant: Plant;
  readonly ledger: LedgerEntrySource;
  readonly plan: ProductionPlan;
  /** Material id -> price series and unit factor. Materials without one are valued at standard for replacement and exposure. */
  readonly prices: ReadonlyMap<string, MaterialPriceInput>;
  /** Forecast horizon for consumption, buffer stock and exposure (days, default 30). */
  readonly horizonDays?: number;
  /** Trailing window for actual costs (days, default 90). */
  readonly actualWindowDays?: number;
  /**
   * Per-material lead time and service level. Precedence: this, then the plant file's
   * material fields, then `defaultPolicy`, then DEFAULT_POLICY (5 days, 0.95).
   */
  readonly policy?: Readonly<Record<string, PolicyInput>>;
  readonly defaultPolicy?: PolicyInput;
  /** Quantity bought but not yet delivered, as known at `at` (default zero). */
  readonly onOrder?: (material: string, at: EpochMs) => Decimal;
  /** Quantity hedged, as known at `at`; default: the ledger's hedge positions mapped through `hedgeInstruments`. */
  readonly hedged?: (material: string, at: EpochMs) => Decimal;
  /** Hedge instrument -> material; an instrument named like a material covers it 1:1 unless mapped here. */
  readonly hedgeInstruments?: Readonly<Record<string, HedgeMapping>>;
  /** Extra publication lag on top of a bar's close time (market's closeKnownAt); default 0. */
  readonly priceLagMs?: number;
  /** Whole days of backflushed consumption sigma_d is measured over (default 90). */
  readonly forecastErrorDays?: number;
  /** Fewer days of history than this and sigma_d = demandCv x d (default 30). */
  readonly minHistoryDays?: number;
  /** The desk's order-to-receipt record as known at `at`; none: sigma_L = leadTimeCv x L. */
  readonly leadTimes?: (material: string, at: EpochMs) => LeadTimeRecord | undefined;
  /** Fewer receipts than this and sigma_L = leadTimeCv x L (default 5). */
  readonly minReceipts?: number;
  /** How many of the last closed periods actual conversion covers (default 3). */
  readonly closedPeriods?: number;
  /** Measure forecast errors per bucket of this many days (default 1; 7 for ledgers that backflush weekly). */
  readonly forecastErrorBucketDays?: number;
}

interface MaterialState {
  readonly id: string;
  readonly unit: string;
  readonly policy: MaterialPolicy;
  readonly z: Decimal;
  /** sqrt(policy.leadTimeDays), taken once: a 40-digit square root per snapshot was a sixth of a backtest's feed time. */
  readonly rootLeadTime: Decimal;
  readonly price: MaterialPriceInput | undefined;
  /** Index of the last price bar known, -1 before the first. */
  priceIndex: number;
  priceCacheIndex: number;
  priceCache: Decimal;
  readonly clock: CarryClock;
  /** Fields: purchased qty, purchase amount, flushed qty (consumed at standard), count difference. */
  window: TimeWindow;
  /**
   * Backflushed consumption against the plan, by bucket (a day, or bucketDays days): items at
   * the bucket's start with fields [change of its consumption a, change of a^2, change of
   * a x planned p] (see #consume).
   */
  errors: TimeWindow;
  /** Consumption backflushed per bucket (bucket start -> quantity), for the buckets still in or ahead of the window. */
  readonly consumedByBucket: Map<EpochMs, Decimal>;
  /** Buckets before this have left the history window for good (it only moves forward). */
  errorsFloor: EpochMs;
  onHand: Decimal;
  /** sum of dq x C(at) over movements (see CarryClock). */
  carryBase: Decimal;
  hedgeQty: Decimal;
  /** Prefix sums of planned consumption per plan day. */
  readonly prefix: readonly Decimal[];
  /** Planned consumption per bucket from the plan's first bucket, and prefix sums of its squares. */
  readonly bucketPlan: readonly Decimal[];
  readonly bucketPrefixSquares: readonly Decimal[];
}

/** Sums over the closed periods the feed reports (see #closedConversion). */
interface ClosedConversion {
  readonly periods: ConversionPeriod[];
  readonly incurred: Decimal;
  readonly allocated: Decimal;
  readonly products: Map<string, { allocated: Decimal; units: Decimal }>;
}

/** A conversion period: the entries posted between two closes, in journal order. */
interface PeriodState {
  incurred: Decimal;
  allocated: Decimal;
  /** Per product: standard conversion allocated and units (completed, or sold under sale triggers). */
  readonly products: Map<string, { allocated: Decimal; units: Decimal }>;
  /** The close's accounting time, once its close entry is known. */
  closeAt: EpochMs | undefined;
}

interface ProductState {
  readonly id: string;
  readonly unit: string;
  readonly clock: CarryClock;
  onHand: Decimal;
  carryBase: Decimal;
}

const P_QTY = 0;
const P_AMOUNT = 1;
const P_FLUSHED = 2;
const P_COUNT = 3;
const E_ACTUAL = 0;
const E_SQUARES = 1;
const E_CROSS = 2;

/**
 * The cost feed. Construct once per run; call `snapshot(at)` as the clock moves. See the
 * module comment for what it computes and docs/cost-feed.md for the definitions.
 */
export class CostFeed {
  readonly plant: Plant;
  readonly horizonDays: number;
  readonly actualWindowDays: number;
  readonly priceLagMs: number;
  readonly #ledger: LedgerEntrySource;
  readonly #plan: ProductionPlan;
  readonly #materials: MaterialState[] = [];
  readonly #materialIndex = new Map<string, MaterialState>();
  readonly #products: ProductState[] = [];
  readonly #productIndex = new Map<string, ProductState>();
  readonly #hedgeMap: ReadonlyMap<string, HedgeMapping>;
  readonly #onOrder: ((material: string, at: EpochMs) => Decimal) | undefined;
  readonly #hedged: ((material: string, at: EpochMs) => Decimal) | undefined;
  readonly #allocatedAtCompletion: boolean;
  readonly #windowMs: number;
  readonly forecastErrorDays: number;
  /** Forecast errors are measured per bucket of this many days (1: per day; 7: Monday-to-Sunday weeks). */
  readonly bucketDays: number;
  readonly #rootBucketDays: Decimal;
  /** Bucket number of the plan's first day. */
  readonly #firstBucket: number;
  readonly minHistoryDays: number;
  readonly minReceipts: number;
  readonly closedPeriods: number;
  readonly #leadTimes: ((material: string, at: EpochMs) => LeadTimeRecord | undefined) | undefined;

  // Cursors.
  #read = 0;
  /** Entries read but not yet known, with the conversion period each belongs to. */
  #pending: { entry: JournalEntry; period: number }[] = [];
  #lastAt = -Infinity;
  #ledgerKnownAt = -Infinity;
  #closedAt = -Infinity;
  /** Day of the first backflush (completion or sale) read: the consumption history starts there. */
  #historyStart: EpochMs | undefined;
  /** Seqs of the close entries read, in order: period k holds the entries between close k-1 and close k. */
  #closeSeqs: number[] = [];
  #periods: PeriodState[] = [];
  /** Indices of the periods whose close is known, ascending. */
  #closedKnown: number[] = [];
  /** Bumped whenever a period whose close is known changes, or a close becomes known: #closedConversion's cache key. */
  #closedVersion = 0;
  #closedCache: { version: number; value: ClosedConversion } | undefined;
  /** sigma_L per material for the receipt sums it was computed from (they change only on a receipt). */
  readonly #leadTimeCache = new Map<MaterialState, { record: LeadTimeRecord; count: number; sumDays: number; sumSquaresDays: number; sigma: Decimal }>();

  constructor(options: CostFeedOptions) {
    const { plant } = options;
    this.plant = plant;
    this.#ledger = options.ledger;
    this.#plan = options.plan;
    this.horizonDays = wholeDays(options.horizonDays ?? 30, 'horizonDays');
    this.actualWindowDays = wholeDays(options.actualWindowDays ?? 90, 'actualWindowDays');
    this.#windowMs = this.actualWindowDays * DAY_MS;
    this.priceLagMs = options.priceLagMs ?? 0;
    this.forecastErrorDays = wholeDays(options.forecastErrorDays ?? 90, 'forecastErrorDays');
    this.bucketDays = wholeDays(options.forecastErrorBucketDays ?? 1, 'forecastErrorBucketDays');
    if (this.bucketDays > this.forecastErrorDays) {
      throw new InputError(`a forecast-error bucket of ${this.bucketDays} days does not fit in forecastErrorDays ${this.forecastErrorDays}`, { field: 'forecastErrorBucketDays' });
    }
    this.#rootBucketDays = new Decimal(this.bucketDays).sqrt();
    this.#firstBucket = options.plan.firstDay === undefined ? 0 : bucketOf(options.plan.firstDay, this.bucketDays);
    this.minHistoryDays = wholeDays(options.minHistoryDays ?? 30, 'minHistoryDays');
    this.minReceipts = wholeDays(options.minReceipts ?? 5, 'minReceipts', 'a whole number');
    this.closedPeriods = wholeDays(options.closedPeriods ?? 3, 'closedPeriods', 'a whole number of periods');
    this.#leadTimes = options.leadTimes;
    this.#onOrder = options.onOrder;
    this.#hedged = options.hedged;
    this.#allocatedAtCompletion = completionIsTrigger(plant.trigger);

    for (const [material, input] of options.prices) {
      if (!plant.materials.has(material)) {
        throw new InputError(`price file given for material ${JSON.stringify(material)}, which the plant does not have (materials: ${[...plant.materials.keys()].join(', ')})`, {
          file: input.series.file,
          field: 'material',
        });
      }
      if (!input.factor.isPositive() || input.factor.isZero()) {
        throw new InputError(`unit conversion factor for ${material} must be greater than zero, got ${input.factor.toFixed()}`, { file: input.series.file, field: 'factor' });
      }
      if (input.series.length === 0) throw new InputError(`no price bars for ${material}`, { file: input.series.file });
    }
    for (const id of Object.keys(options.policy ?? {})) {
      if (!plant.materials.has(id)) throw new InputError(`policy for unknown material ${JSON.stringify(id)}`, { field: `policy.${id}` });
    }
    const hedgeMap = new Map<string, HedgeMapping>();
    for (const [instrument, mapping] of Object.entries(options.hedgeInstruments ?? {})) {
      if (!plant.materials.has(mapping.material)) {
        throw new InputError(`hedge instrument ${instrument} maps to unknown material ${JSON.stringify(mapping.material)}`, { field: `hedgeInstruments.${instrument}.material` });
      }
      hedgeMap.set(instrument, mapping);
    }
    this.#hedgeMap = hedgeMap;

    const breaks = versionDates(plant);
    const annualRate = plant.carrying.annualRate;
    const consumption = planConsumption(plant, options.plan);
    const defaults = resolvePolicy(options.defaultPolicy, DEFAULT_POLICY, 'defaultPolicy');
    for (const material of plant.materials.values()) {
      const fromPlant = resolvePolicy(
        { ...defaults, ...(material.leadTimeDays !== undefined ? { leadTimeDays: material.leadTimeDays } : {}), ...(material.serviceLevel !== undefined ? { serviceLevel: material.serviceLevel } : {}) },
        defaults,
        `materials.${material.id}`,
      );
      const policy = resolvePolicy(options.policy?.[material.id], fromPlant, `policy.${material.id}`);
      const storage = plant.carrying.storagePerUnitDay.get(material.id) ?? ZERO;
      const clock = new CarryClock(breaks, (t) => tryCost(() => carryingPerUnitDay(plant.standardCostAt(material.id, t).cost, annualRate, storage)));
      const series = consumption.get(material.id)!;
      const buckets = bucketSums(series.prefix, options.plan, this.bucketDays, this.#firstBucket);
      const state: MaterialState = {
        id: material.id,
        unit: material.unit,
        policy,
        z: zForServiceLevel(policy.serviceLevel),
        rootLeadTime: policy.leadTimeDays.sqrt(),
        price: options.prices.get(material.id),
        priceIndex: -1,
        priceCacheIndex: -1,
        priceCache: ZERO,
        clock,
        window: new TimeWindow(4),
        errors: new TimeWindow(3),
        consumedByBucket: new Map(),
        errorsFloor: -Infinity,
        onHand: ZERO,
        carryBase: ZERO,
        hedgeQty: ZERO,
        prefix: series.prefix,
        bucketPlan: buckets.plan,
        bucketPrefixSquares: buckets.prefixSquares,
      };
      this.#materials.push(state);
      this.#materialIndex.set(material.id, state);
    }
    for (const product of plant.products.values()) {
      const clock = new CarryClock(breaks, (t) => tryCost(() => carryingPerUnitDay(standardProductCost(plant, product.id, t), annualRate)));
      const state: ProductState = { id: product.id, unit: product.unit, clock, onHand: ZERO, carryBase: ZERO };
      this.#products.push(state);
      this.#productIndex.set(product.id, state);
    }
  }

  /** The policy in force for a material (after the precedence rules). */
  policyOf(material: string): MaterialPolicy {
    const state = this.#materialIndex.get(material);
    if (!state) throw new InputError(`unknown material ${JSON.stringify(material)}`);
    return state.policy;
  }

  /**
   * The cost feed as known at `at`. Throws InputError when `at` is before the first price bar
   * of a priced material, or (with no prices at all) before the first ledger figure is known.
   */
  snapshot(at: EpochMs): CostSnapshot {
    if (!Number.isFinite(at)) throw new InputError(`not a time: ${String(at)}`, { field: 'at' });
    if (at < this.#lastAt) this.#reset();
    this.#lastAt = at;
    const priceTime = at - this.priceLagMs;
    for (const m of this.#materials) {
      if (m.price && priceTime < closeKnownAt(m.price.series, 0)) {
        const series = m.price.series;
        throw new InputError(`time ${formatTime(at)} is before any price data for ${m.id} (the first bar, ${formatTime(series.at[0]!)}, is known from ${formatTime(closeKnownAt(series, 0))})`, {
          file: series.file,
          line: firstDataLine(series),
          field: series.column ?? 'date',
        });
      }
    }
    this.#catchUp(at);

    let knownAt = this.#ledgerKnownAt;
    const windowFrom = at - this.#windowMs;
    const plant = this.plant;
    const materials: Record<string, MaterialCost> = {};
    const unitCosts = new Map<string, { standard: Decimal; market: Decimal; actual: () => Decimal }>();
    const day = startOfDay(at);
    const plan = this.#plan;
    const first = plan.firstDay ?? day;
    const h = this.horizonDays;
    const clampDay = (i: number): number => (i < 0 ? 0 : i > plan.dayCount ? plan.dayCount : i);
    const i0 = clampDay((day - first) / DAY_MS);
    const i1 = clampDay((day - first) / DAY_MS + h);
    // Consumption history: the whole buckets [fromBucket, currentBucket) before the one holding
    // today, from the bucket of the first backflush, at most forecastErrorDays of them.
    const b = this.bucketDays;
    const currentBucket = bucketOf(day, b);
    const fromBucket = this.#historyStart === undefined ? currentBucket : Math.min(currentBucket, Math.max(bucketOf(this.#historyStart, b), currentBucket - Math.floor(this.forecastErrorDays / b)));
    const history: History = {
      from: bucketStart(fromBucket, b),
      to: bucketStart(currentBucket, b),
      buckets: currentBucket - fromBucket,
      j0: clampDay((bucketStart(fromBucket, b) - first) / DAY_MS),
      j1: clampDay((bucketStart(currentBucket, b) - first) / DAY_MS),
      k0: fromBucket - this.#firstBucket,
      k1: currentBucket - this.#firstBucket,
    };
    const historyDays = history.buckets * b;

    for (const m of this.#materials) {
      const standardCost = plant.standardCostAt(m.id, at).cost;
      let marketPrice: Decimal | null = null;
      let marketPriceAt: EpochMs | null = null;
      if (m.price) {
        const series = m.price.series;
        let i = m.priceIndex;
        while (i + 1 < series.length && closeKnownAt(series, i + 1) <= priceTime) i += 1;
        m.priceIndex = i;
        if (m.priceCacheIndex !== i) {
          m.priceCache = new Decimal(String(series.close[i]!)).times(m.price.factor);
          m.priceCacheIndex = i;
        }
        marketPrice = m.priceCache;
        marketPriceAt = series.at[i]!;
        const priceKnownAt = closeKnownAt(series, i) + this.priceLagMs;
        if (priceKnownAt > knownAt) knownAt = priceKnownAt;
      }
      m.window.moveTo(windowFrom, at);
      // The window's sums are read now (the window moves on); the divisions wait until a reader asks.
      const purchasedQty = m.window.sum(P_QTY);
      const purchasedAmount = m.window.sum(P_AMOUNT);
      const flushed = m.window.sum(P_FLUSHED);
      const counted = m.window.sum(P_COUNT);
      let actualUnitCostValue: Decimal | undefined;
      let usageFactorValue: Decimal | undefined;
      const actualUnitCostOf = (): Decimal => (actualUnitCostValue ??= purchasedQty.isPositive() && !purchasedQty.isZero() ? purchasedAmount.dividedBy(purchasedQty) : standardCost);
      const usageFactorOf = (): Decimal => (usageFactorValue ??= flushed.isPositive() && !flushed.isZero() ? flushed.minus(counted).dividedBy(flushed) : ONE);
      const onOrder = this.#onOrder ? this.#onOrder(m.id, at) : ZERO;
      const hedged = this.#hedged ? this.#hedged(m.id, at) : m.hedgeQty;
      const forecastQty = m.prefix[i1]!.minus(m.prefix[i0]!);
      const mean = forecastQty.dividedBy(h);
      const sigmaDaily = this.#sigmaDaily(m, history, mean);
      const sigmaLead = this.#sigmaLeadTime(m, at);
      const policy = m.policy;
      // With a fixed lead time sigma_LT = sigma_d x sqrt(L), the square root of L taken once.
      const sigmaLT = sigmaLead.sigma.isZero() ? sigmaDaily.sigma.times(m.rootLeadTime) : sigmaLeadTimeDemand(policy.leadTimeDays, sigmaDaily.sigma, mean, sigmaLead.sigma);
      const buffer = m.z.times(sigmaLT);
      const exposure = exposureQty(forecastQty, m.onHand, onOrder, hedged);
      const perUnitDay = m.clock.rateAt(at);
      const valuePrice = marketPrice ?? standardCost;
      unitCosts.set(m.id, { standard: standardCost, market: valuePrice, actual: () => actualUnitCostOf().times(usageFactorOf()) });
      const onHand = m.onHand;
      const carryBase = m.carryBase;
      const clock = m.clock;
      let carryingAccruedValue: Decimal | undefined;
      let exposureValueValue: Decimal | undefined;
      let carryingPerDayValue: Decimal | undefined;
      materials[m.id] = {
        unit: m.unit,
        standardCost,
        marketPrice,
        marketPriceAt,
        get actualUnitCost() {
          return actualUnitCostOf();
        },
        actualPurchasedQty: purchasedQty,
        get usageFactor() {
          return usageFactorOf();
        },
        carryingPerUnitDay: perUnitDay,
        get carryingPerDay() {
          return (carryingPerDayValue ??= onHand.times(perUnitDay));
        },
        get carryingAccrued() {
          return (carryingAccruedValue ??= onHand.times(clock.at(at)).minus(carryBase));
        },
        onHand,
        onOrder,
        hedged,
        forecastQty,
        dailyConsumption: mean,
        sigmaDailyConsumption: sigmaDaily.sigma,
        sigmaDailySource: sigmaDaily.source,
        sigmaDailyHistoryFrom: historyDays > 0 ? history.from : null,
        sigmaDailyHistoryDays: historyDays,
        sigmaDailyBucketDays: b,
        demandCv: policy.demandCv,
        leadTimeDays: policy.leadTimeDays,
        sigmaLeadTimeDays: sigmaLead.sigma,
        sigmaLeadTimeSource: sigmaLead.source,
        leadTimeReceipts: sigmaLead.receipts,
        leadTimeCv: policy.leadTimeCv,
        sigmaLeadTimeDemand: sigmaLT,
        serviceLevel: policy.serviceLevel,
        z: m.z,
        bufferStock: buffer,
        reorderPoint: reorderPoint(mean, m.policy.leadTimeDays, buffer),
        daysOfCover: daysOfCover(m.onHand, onOrder, mean),
        exposureQty: exposure,
        get exposureValue() {
          return (exposureValueValue ??= exposure.times(valuePrice));
        },
      };
    }

    const conversion = this.#closedConversion();
    const products: Record<string, ProductCost> = {};
    for (const p of this.#products) {
      const bom = plant.bomAt(p.id, at);
      const standardConversion = plant.conversionCostAt(p.id, at).cost;
      let standard = standardConversion;
      let replacement = standardConversion;
      const made = conversion.products.get(p.id);
      // incurred x (this product's allocated / all allocated) / its units; one product: incurred / units.
      const measured = made !== undefined && made.units.isPositive() && !made.units.isZero() && conversion.allocated.isPositive() && !conversion.allocated.isZero();
      for (const line of bom.lines) {
        const cost = unitCosts.get(line.material)!;
        standard = standard.plus(bomLineCost(line.qty, line.scrap, cost.standard));
        replacement = replacement.plus(bomLineCost(line.qty, line.scrap, cost.market));
      }
      // The actual figures and the accrued carrying are computed when read (the desk reads neither).
      let actualConversionValue: Decimal | undefined;
      let actualValue: Decimal | undefined;
      let carryingAccruedValue: Decimal | undefined;
      const actualConversionOf = (): Decimal => (actualConversionValue ??= measured ? conversion.incurred.times(made.allocated).dividedBy(conversion.allocated).dividedBy(made.units) : standardConversion);
      const actualOf = (): Decimal => {
        if (actualValue === undefined) {
          let actual = actualConversionOf();
          for (const line of bom.lines) actual = actual.plus(bomLineCost(line.qty, line.scrap, unitCosts.get(line.material)!.actual()));
          actualValue = actual;
        }
        return actualValue;
      };
      const perUnitDay = p.clock.rateAt(at);
      const onHand = p.onHand;
      const carryBase = p.carryBase;
      const clock = p.clock;
      products[p.id] = {
        unit: p.unit,
        standard,
        get actual() {
          return actualOf();
        },
        get actualConversion() {
          return actualConversionOf();
        },
        actualConversionSource: measured ? 'closed-periods' : 'standard',
        conversionUnits: made?.units ?? ZERO,
        replacement,
        carryingPerUnitDay: perUnitDay,
        onHand,
        get carryingAccrued() {
          return (carryingAccruedValue ??= onHand.times(clock.at(at)).minus(carryBase));
        },
      };
    }

    if (knownAt === -Infinity) {
      const first = this.#ledger.entry(1);
      const where: Where = first?.source ? { file: first.source.file, line: first.source.line, field: 'knownAt' } : { file: plant.file, field: 'materials' };
      throw new InputError(
        first
          ? `time ${formatTime(at)} is before any data: the ledger's first figure is known at ${formatTime(first.knownAt)} and no prices are given`
          : `time ${formatTime(at)}: nothing is known (no ledger entries and no prices)`,
        where,
      );
    }

    const snapshot: Omit<CostSnapshot, 'toJSON'> = {
      at,
      knownAt,
      currency: plant.currency,
      horizonDays: h,
      actualWindowDays: this.actualWindowDays,
      conversionClosedAt: this.#closedAt === -Infinity ? null : this.#closedAt,
      conversionPeriods: conversion.periods,
      conversionIncurred: conversion.incurred,
      products,
      materials,
    };
    const places = plant.moneyPlaces;
    return Object.assign(snapshot, { toJSON: () => snapshotToJson(snapshot, places) });
  }

  /**
   * sigma_d of one material. Per bucket (a day, or bucketDays days) the forecast error is
   * e = a - p, a the consumption backflushed in the bucket and p the consumption planned for
   * it; over the history's buckets, from running sums, sum e = sum a - sum p and sum e^2 =
   * sum a^2 - 2 sum a p + sum p^2 (the a-sums cover only buckets with consumption, the p-sums
   * come from the plan's prefix sums). sigma_d = the population standard deviation of e /
   * sqrt(bucketDays) (days taken as independent). History shorter than minHistoryDays:
   * demandCv x the mean planned consumption.
   */
  #sigmaDaily(m: MaterialState, h: History, mean: Decimal): { sigma: Decimal; source: 'history' | 'cv' } {
    if (h.buckets * this.bucketDays < this.minHistoryDays) return { sigma: m.policy.demandCv.times(mean), source: 'cv' };
    m.errors.moveTo(h.from - 1, h.to - 1);
    if (h.from > m.errorsFloor) {
      m.errorsFloor = h.from;
      // Buckets enter the map in order, except one first seen in a late-known entry; such a
      // bucket is forgotten a little later than it could be, which costs memory, never a figure.
      for (const start of m.consumedByBucket.keys()) {
        if (start >= h.from) break;
        m.consumedByBucket.delete(start);
      }
    }
    const squaresAt = (k: number): Decimal => m.bucketPrefixSquares[k < 0 ? 0 : k >= m.bucketPrefixSquares.length ? m.bucketPrefixSquares.length - 1 : k]!;
    const planned = m.prefix[h.j1]!.minus(m.prefix[h.j0]!);
    const plannedSquares = squaresAt(h.k1).minus(squaresAt(h.k0));
    const sumErrors = m.errors.sum(E_ACTUAL).minus(planned);
    const sumSquares = m.errors.sum(E_SQUARES).minus(m.errors.sum(E_CROSS).times(2)).plus(plannedSquares);
    const sigma = sigmaFromSums(h.buckets, sumErrors, sumSquares);
    return { sigma: this.bucketDays === 1 ? sigma : sigma.dividedBy(this.#rootBucketDays), source: 'history' };
  }

  /** sigma_L of one material in days: from the desk's receipts when there are minReceipts of them, else leadTimeCv x L. */
  #sigmaLeadTime(m: MaterialState, at: EpochMs): { sigma: Decimal; source: 'receipts' | 'cv'; receipts: number } {
    const record = this.#leadTimes?.(m.id, at);
    const receipts = record?.count ?? 0;
    if (record === undefined || receipts < this.minReceipts) return { sigma: m.policy.leadTimeCv.times(m.policy.leadTimeDays), source: 'cv', receipts };
    const cached = this.#leadTimeCache.get(m);
    if (cached !== undefined && cached.count === receipts && cached.sumDays === record.sumDays && cached.sumSquaresDays === record.sumSquaresDays) return { sigma: cached.sigma, source: 'receipts', receipts };
    const sigma = sigmaFromSums(receipts, new Decimal(record.sumDays), new Decimal(record.sumSquaresDays));
    this.#leadTimeCache.set(m, { record, count: receipts, sumDays: record.sumDays, sumSquaresDays: record.sumSquaresDays, sigma });
    return { sigma, source: 'receipts', receipts };
  }

  /** Sums over the last `closedPeriods` periods whose close is known (oldest first). */
  #closedConversion(): ClosedConversion {
    const cache = this.#closedCache;
    if (cache !== undefined && cache.version === this.#closedVersion) return cache.value;
    const value = this.#computeClosedConversion();
    this.#closedCache = { version: this.#closedVersion, value };
    return value;
  }

  /** #closedConversion without its cache (the result is shared by the snapshots until a closed period changes: read only). */
  #computeClosedConversion(): ClosedConversion {
    const known = this.#closedKnown;
    const periods: ConversionPeriod[] = [];
    const products = new Map<string, { allocated: Decimal; units: Decimal }>();
    let incurred = ZERO;
    let allocated = ZERO;
    for (let k = Math.max(0, known.length - this.closedPeriods); k < known.length; k += 1) {
      const index = known[k]!;
      const period = this.#periods[index]!;
      periods.push({ from: index === 0 ? null : this.#closeAtOf(index - 1), to: period.closeAt! });
      incurred = incurred.plus(period.incurred);
      allocated = allocated.plus(period.allocated);
      for (const [id, p] of period.products) {
        const sum = products.get(id);
        products.set(id, sum === undefined ? { ...p } : { allocated: sum.allocated.plus(p.allocated), units: sum.units.plus(p.units) });
      }
    }
    return { periods, incurred, allocated, products };
  }

  /** Accounting time of close k (read, maybe not known yet): a period starts where the previous close stood. */
  #closeAtOf(k: number): EpochMs | null {
    const seq = this.#closeSeqs[k];
    return seq === undefined ? null : (this.#ledger.entry(seq)?.at ?? null);
  }

  #period(index: number): PeriodState {
    while (this.#periods.length <= index) this.#periods.push({ incurred: ZERO, allocated: ZERO, products: new Map(), closeAt: undefined });
    return this.#periods[index]!;
  }

  /** Reads new journal entries and applies every entry known by `at`. */
  #catchUp(at: EpochMs): void {
    if (this.#pending.length > 0) {
      const still: { entry: JournalEntry; period: number }[] = [];
      for (const item of this.#pending) {
        if (item.entry.knownAt <= at) this.#apply(item.entry, item.period);
        else still.push(item);
      }
      this.#pending = still;
    }
    // The ledger refuses backdating, so `at` never decreases along the journal: reading stops at
    // the first entry dated after T, and `pending` only holds entries dated <= T but known later.
    // Entries are read from the ledger one by one (never the whole journal, never hashed).
    for (const entry of this.#ledger.entriesAfter(this.#read)) {
      if (entry.at > at) break;
      const period = this.#periodOf(entry);
      if (entry.eventType === 'close') this.#closeSeqs.push(entry.seq);
      if (this.#historyStart === undefined && (entry.eventType === 'completion' || entry.eventType === 'sale')) this.#historyStart = startOfDay(entry.at);
      if (entry.knownAt <= at) this.#apply(entry, period);
      else this.#pending.push({ entry, period });
      this.#read = entry.seq;
    }
  }

  /**
   * The conversion period an entry belongs to: the number of closes before it in journal
   * order (a close closes the period of the entries before it). A reversal belongs to its
   * original's period, so a corrected period is measured corrected.
   */
  #periodOf(entry: JournalEntry): number {
    const seq = entry.reverses ?? entry.seq;
    const closes = this.#closeSeqs;
    let lo = 0;
    let hi = closes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (closes[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #apply(entry: JournalEntry, period: number): void {
    if (entry.knownAt > this.#ledgerKnownAt) this.#ledgerKnownAt = entry.knownAt;
    // A reversal cancels its original where the original stood in time, so windows stay right.
    const original = entry.reverses !== undefined ? this.#ledger.entry(entry.reverses) : undefined;
    const type = original ? original.eventType : entry.eventType;
    const t = original ? original.at : entry.at;
    for (const move of entry.movements) {
      if (move.qty.isZero()) continue;
      if (move.kind === 'material') {
        const m = this.#materialIndex.get(move.id);
        if (!m) continue;
        m.onHand = m.onHand.plus(move.qty);
        m.carryBase = m.carryBase.plus(move.qty.times(m.clock.at(t)));
        if (type === 'count') m.window.insert(t, [ZERO, ZERO, ZERO, move.qty]);
        else if (type === 'completion' || type === 'sale') {
          m.window.insert(t, [ZERO, ZERO, move.qty.negated(), ZERO]);
          this.#consume(m, t, move.qty.negated());
        }
      } else if (move.kind === 'product') {
        const p = this.#productIndex.get(move.id);
        if (!p) continue;
        p.onHand = p.onHand.plus(move.qty);
        p.carryBase = p.carryBase.plus(move.qty.times(p.clock.at(t)));
      } else {
        const mapping = this.#hedgeMap.get(move.id) ?? (this.#materialIndex.has(move.id) ? { material: move.id, factor: ONE } : undefined);
        const m = mapping ? this.#materialIndex.get(mapping.material) : undefined;
        if (m && mapping) m.hedgeQty = m.hedgeQty.plus(move.qty.times(mapping.factor));
      }
    }
    const actual = entry.actual;
    if (actual) {
      switch (actual.kind) {
        case 'purchase':
          this.#materialIndex.get(actual.material)?.window.insert(t, [actual.qty, actual.amount, ZERO, ZERO]);
          break;
        case 'conversion': {
          const p = this.#period(period);
          p.incurred = p.incurred.plus(actual.amount);
          if (p.closeAt !== undefined) this.#closedVersion += 1;
          break;
        }
        case 'completion':
          if (this.#allocatedAtCompletion) this.#allocate(period, actual.product, actual.allocated, actual.qty);
          break;
        case 'sale':
          if (!this.#allocatedAtCompletion) this.#allocate(period, actual.product, actual.conversion, actual.qty);
          break;
      }
    }
    if (entry.eventType === 'close') {
      this.#closedVersion += 1;
      const p = this.#period(period);
      if (p.closeAt === undefined) {
        p.closeAt = entry.at;
        const known = this.#closedKnown;
        let k = known.length;
        while (k > 0 && known[k - 1]! > period) k -= 1;
        known.splice(k, 0, period);
      }
      if (entry.at > this.#closedAt) this.#closedAt = entry.at;
    }
  }

  #allocate(period: number, product: string, allocated: Decimal, units: Decimal): void {
    const p = this.#period(period);
    if (p.closeAt !== undefined) this.#closedVersion += 1;
    p.allocated = p.allocated.plus(allocated);
    const sum = p.products.get(product);
    p.products.set(product, sum === undefined ? { allocated, units } : { allocated: sum.allocated.plus(allocated), units: sum.units.plus(units) });
  }

  /**
   * Adds `qty` to the consumption backflushed in the bucket holding `at` and records the
   * change of the error sums: a -> a + q changes a by q, a^2 by 2aq + q^2 and a x p by q x p.
   * A bucket already behind the history window (a late-known entry) can never enter it again
   * and is skipped.
   */
  #consume(m: MaterialState, at: EpochMs, qty: Decimal): void {
    const bucket = bucketOf(at, this.bucketDays);
    const start = bucketStart(bucket, this.bucketDays);
    if (start < m.errorsFloor) return;
    const planned = m.bucketPlan[bucket - this.#firstBucket] ?? ZERO;
    const a = m.consumedByBucket.get(start);
    m.consumedByBucket.set(start, a === undefined ? qty : a.plus(qty));
    // (a + q)^2 - a^2 = q x (2a + q)
    m.errors.insert(start, [qty, a === undefined ? qty.times(qty) : qty.times(a.times(2).plus(qty)), qty.times(planned)]);
  }

  #reset(): void {
    this.#read = 0;
    this.#pending = [];
    this.#ledgerKnownAt = -Infinity;
    this.#closedAt = -Infinity;
    this.#historyStart = undefined;
    this.#closeSeqs = [];
    this.#periods = [];
    this.#closedKnown = [];
    this.#closedVersion += 1;
    for (const m of this.#materials) {
      m.priceIndex = -1;
      m.window = new TimeWindow(4);
      m.errors = new TimeWindow(3);
      m.consumedByBucket.clear();
      m.errorsFloor = -Infinity;
      m.onHand = ZERO;
      m.carryBase = ZERO;
      m.hedgeQty = ZERO;
    }
    for (const p of this.#products) {
      p.onHand = ZERO;
      p.carryBase = ZERO;
    }
  }
}

/** Standard cost of one unit of product at `at`: BOM x (1 + scrap) x standard costs + standard conversion. */
export function standardProductCost(plant: Plant, product: string, at: EpochMs): Decimal {
  let total = plant.conversionCostAt(product, at).cost;
  for (const line of plant.bomAt(product, at).lines) total = total.plus(bomLineCost(line.qty, line.scrap, plant.standardCostAt(line.material, at).cost));
  return total;
}

function tryCost(fn: () => Decimal): Decimal | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ProcuraError) return undefined;
    throw error;
  }
}

/** Every date at which some version (standard cost, conversion cost, BOM) of the plant takes effect. */
function versionDates(plant: Plant): EpochMs[] {
  const dates: EpochMs[] = [];
  for (const m of plant.materials.values()) for (const v of m.standardCost) if (v.from !== null) dates.push(v.from);
  for (const p of plant.products.values()) {
    for (const v of p.conversionCost) if (v.from !== null) dates.push(v.from);
    for (const v of p.bom) if (v.from !== null) dates.push(v.from);
  }
  return dates;
}

/** The bucket number of a time: buckets of `days` days counted from Monday 1970-01-05 (so 7-day buckets are Monday-to-Sunday weeks). */
function bucketOf(at: EpochMs, days: number): number {
  return Math.floor((Math.floor(at / DAY_MS) - 4) / days);
}

/** Start (UTC midnight) of bucket `k`. */
function bucketStart(k: number, days: number): EpochMs {
  return (k * days + 4) * DAY_MS;
}

/** Planned consumption per bucket from `firstBucket` to the plan's last, and prefix sums of its squares. */
function bucketSums(prefix: readonly Decimal[], plan: ProductionPlan, days: number, firstBucket: number): { plan: Decimal[]; prefixSquares: Decimal[] } {
  if (plan.firstDay === undefined) return { plan: [], prefixSquares: [ZERO] };
  const last = plan.firstDay + (plan.dayCount - 1) * DAY_MS;
  const count = bucketOf(last, days) - firstBucket + 1;
  const at = (t: EpochMs): Decimal => prefix[Math.min(plan.dayCount, Math.max(0, (t - plan.firstDay!) / DAY_MS))]!;
  const sums: Decimal[] = [];
  const prefixSquares: Decimal[] = [ZERO];
  for (let k = 0; k < count; k += 1) {
    const start = bucketStart(firstBucket + k, days);
    const p = at(start + days * DAY_MS).minus(at(start));
    sums.push(p);
    prefixSquares.push(p.isZero() ? prefixSquares[k]! : prefixSquares[k]!.plus(p.times(p)));
  }
  return { plan: sums, prefixSquares };
}

/** The consumption history of one snapshot: buckets [from, to), as plan-day indices j and bucket indices k from the plan's first bucket. */
interface History {
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly buckets: number;
  readonly j0: number;
  readonly j1: number;
  readonly k0: number;
  readonly k1: number;
}

/** Per material: prefix sums of planned daily consumption (plan x BOM x (1 + scrap)). */
function planConsumption(plant: Plant, plan: ProductionPlan): Map<string, { prefix: Decimal[] }> {
  const n = plan.dayCount;
  const daily = new Map<string, Decimal[]>();
  for (const id of plant.materials.keys()) daily.set(id, new Array<Decimal>(n).fill(ZERO));
  for (const row of plan.rows) {
    if (row.qty.isZero()) continue;
    let bom;
    try {
      bom = plant.bomAt(row.product, row.day);
    } catch (error) {
      if (error instanceof ProcuraError) throw new InputError(`${error.detail} (planned ${row.product} on ${formatDate(row.day)})`, { file: plan.file, field: 'date' });
      throw error;
    }
    const index = (row.day - plan.firstDay!) / DAY_MS;
    for (const line of bom.lines) {
      const days = daily.get(line.material)!;
      days[index] = days[index]!.plus(bomLineCost(line.qty, line.scrap, row.qty));
    }
  }
  const out = new Map<string, { prefix: Decimal[] }>();
  for (const [id, days] of daily) {
    const prefix = new Array<Decimal>(n + 1);
    prefix[0] = ZERO;
    for (let i = 0; i < n; i += 1) {
      const q = days[i]!;
      prefix[i + 1] = q.isZero() ? prefix[i]! : prefix[i]!.plus(q);
    }
    out.set(id, { prefix });
  }
  return out;
}

function toDecimal(value: Decimal | number | string, field: string): Decimal {
  if (value instanceof Decimal) return value;
  const text = String(value).trim();
  if (!/^[-+]?\d+(\.\d+)?$/.test(text)) throw new InputError(`expected a plain decimal, got ${JSON.stringify(value)}`, { field });
  return new Decimal(text);
}

function resolvePolicy(input: PolicyInput | undefined, fallback: MaterialPolicy, field: string): MaterialPolicy {
  const leadTimeDays = input?.leadTimeDays !== undefined ? toDecimal(input.leadTimeDays, `${field}.leadTimeDays`) : fallback.leadTimeDays;
  const serviceLevel = input?.serviceLevel !== undefined ? toDecimal(input.serviceLevel, `${field}.serviceLevel`) : fallback.serviceLevel;
  const demandCv = input?.demandCv !== undefined ? toDecimal(input.demandCv, `${field}.demandCv`) : fallback.demandCv;
  const leadTimeCv = input?.leadTimeCv !== undefined ? toDecimal(input.leadTimeCv, `${field}.leadTimeCv`) : fallback.leadTimeCv;
  if (leadTimeDays.isNegative()) throw new InputError(`lead time must not be negative, got ${leadTimeDays.toFixed()}`, { field: `${field}.leadTimeDays` });
  if (serviceLevel.lessThan('0.5') || serviceLevel.greaterThanOrEqualTo(1)) {
    throw new InputError(`service level must be at least 0.5 and below 1, got ${serviceLevel.toFixed()}`, { field: `${field}.serviceLevel` });
  }
  for (const [name, cv] of [['demandCv', demandCv], ['leadTimeCv', leadTimeCv]] as const) {
    if (cv.isNegative() || cv.greaterThan(5)) throw new InputError(`coefficient of variation must be between 0 and 5, got ${cv.toFixed()}`, { field: `${field}.${name}` });
  }
  return Object.freeze({ leadTimeDays, serviceLevel, demandCv, leadTimeCv });
}

function wholeDays(value: number, field: string, what = 'a whole number of days'): number {
  if (!Number.isInteger(value) || value < 1) throw new InputError(`expected ${what} >= 1, got ${value}`, { field });
  return value;
}

/** 1-based line of the first price bar in its file (header on line 1; leading rows skipped for missing values moved it down). */
function firstDataLine(series: PriceSeries): number {
  let line = 2;
  const missing = new Set(series.missing.lines);
  while (missing.has(line)) line += 1;
  return line;
}
