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
import { ExactValue, decimalOfNumber, numberOfFixed, numberOfScaled, toNumberExact } from '../core/decimal-number.js';
import { InputError, ProcuraError, type Where } from '../core/errors.js';
import { decimalOfStock, decimalOfValue, Fixed, fixedOfDecimal, type DecimalMemo } from '../core/fixed.js';
import { DAY_MS, formatDate, formatTime, startOfDay, type EpochMs } from '../core/time.js';
import { completionIsTrigger } from '../ledger/accounts.js';
import type { DraftActual } from '../ledger/engine.js';
import type { MovementQty } from '../ledger/columnar-journal.js';
import type { Actual, EntryType, JournalEntry } from '../ledger/journal.js';
import { postedEntriesOf, type PostedEntries } from '../ledger/movement-reader.js';
import type { BomVersion, Plant } from '../ledger/plant.js';
import { closeKnownAt, type PriceSeries } from '../market/series.js';
import { CarryClock, CarryLog } from './carry-clock.js';
import { dividedBy, fromDecimal, fromInteger, minus, plus, same, times, toDecimal as decimalOfX, X_ZERO, type X } from './exact40.js';
import { bomLineCost, carryingPerUnitDay, daysOfCover, sigmaFromSumsX, sigmaLeadTimeDemandOfTerms, zForServiceLevel } from './inventory-math.js';
import type { ProductionPlan } from './plan.js';
import { FixedFieldWindow, TimeWindow, type WindowSums } from './time-window.js';
import { snapshotToJson, type ConversionPeriod, type CostSnapshot, type CostSnapshotJson, type MaterialCost, type MaterialNumber, type MaterialNumbers, type ProductCost } from './snapshot.js';

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
  /** Position in the feed's material list (and in a snapshot's list of material views). */
  readonly index: number;
  readonly memo: MaterialMemo;
  /** sigma_L = leadTimeCv x L and its result object, while the receipt record is short (constant). */
  readonly cvLeadTime: { readonly sigma: SigmaFigure; readonly source: 'cv'; receipts: number };
  /** The last receipts' sums #sigmaLeadTime worked sigma_L out for, and that Figure (one object per material, refilled). */
  leadTimeMemo: { count: number; sumDays: number; sumSquaresDays: number; sigma: SigmaFigure } | undefined;
  /** What #sigmaDaily and #sigmaLeadTime answer, one object each per material, refilled per snapshot (a snapshot copies the fields). */
  readonly cvResult: SigmaResult;
  readonly historyResult: SigmaResult;
  readonly receiptsResult: { sigma: SigmaFigure; readonly source: 'receipts'; receipts: number };
  readonly unit: string;
  readonly policy: MaterialPolicy;
  readonly z: Decimal;
  /** The policy's figures as exact40 values (the sigma chain is computed on them, see exact40.ts). */
  readonly zX: X;
  readonly leadTimeX: X;
  readonly demandCvX: X;
  /** sqrt(policy.leadTimeDays), taken once: a 40-digit square root per snapshot was a sixth of a backtest's feed time. */
  readonly rootLeadTime: Decimal;
  readonly rootLeadTimeX: X;
  readonly price: MaterialPriceInput | undefined;
  /** Index of the last price bar known, -1 before the first. */
  priceIndex: number;
  priceCacheIndex: number;
  priceCache: Decimal;
  readonly clock: CarryClock;
  /** Fields: purchased qty, purchase amount, flushed qty (consumed at standard), count difference; scaled integers (exact sums, cheap to move). */
  window: FixedFieldWindow;
  /**
   * Backflushed consumption against the plan, by bucket (a day, or bucketDays days): items at
   * the bucket's start with fields [change of its consumption a, change of a^2, change of
   * a x planned p] (see #consume).
   */
  errors: TimeWindow<X>;
  /** Consumption backflushed per bucket (bucket number -> quantity: a small integer key, cheaper than the start time), for the buckets still in or ahead of the window. */
  readonly consumedByBucket: Map<number, X>;
  /** Buckets before this have left the history window for good (it only moves forward). */
  errorsFloor: EpochMs;
  /** How many shared steps this feed has taken for the material since its start (its place in SharedMaterial's sequence). */
  consumeCount: number;
  /** Stock on hand, summed as the journal holds it (exactly what summing the Decimals gives, see core/fixed.ts); a Decimal is made when a snapshot's reader asks. */
  onHand: Fixed;
  onHandMemo: DecimalMemo;
  /** The stock's movements, for sum of dq x C(at) (see CarryClock), worked out when read. */
  carry: CarryLog;
  /** Hedged quantity in the material's unit (instrument qty x factor, summed as scaled integers), and its Decimal when it changed. */
  hedgeQty: Fixed;
  hedgedMemo: DecimalMemo;
  /** The desk's on-order Decimal as a Fixed, for the Decimal it was read from (the desk hands the same object while the figure stands). */
  onOrderMemo: DecimalMemo;
  /** The last exposure worked out (see MaterialSnapshot.exposureQty): its Decimal is kept while the value stands. */
  exposureMemo: DecimalMemo;
  /** Prefix sums of planned consumption per plan day. */
  readonly prefix: readonly Fixed[];
  /** Planned consumption per bucket from the plan's first bucket, and prefix sums of its squares. */
  readonly bucketPlan: readonly Fixed[];
  /** bucketPlan as exact40 values, converted when first used. */
  readonly bucketPlanX: (X | undefined)[];
  readonly bucketPrefixSquares: readonly Fixed[];
  /** prefix and bucketPrefixSquares as exact40 values, converted when first used. */
  readonly prefixX: (X | undefined)[];
  readonly squaresX: (X | undefined)[];
  /** sigma_d worked out per history bucket and the errors window's starting sums, shared by every feed over the same plan object in this process (see SharedChain, SharedSums). */
  readonly shared: SharedMaterial;
  /** The history bucket this feed last asked sigma_d for, where the other feeds over the plan see it (see SharedMaterial.cursors). */
  readonly cursor: FeedCursor;
  /** Whether this feed runs beside others over the plan (decided at its first sigma_d from history; see forgetBehind). */
  sideBySide: boolean | undefined;
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
  incurred: Fixed;
  allocated: Fixed;
  /** Per product: standard conversion allocated and units (completed, or sold under sale triggers). */
  readonly products: Map<string, { allocated: Fixed; units: Fixed }>;
  /** The close's accounting time, once its close entry is known. */
  closeAt: EpochMs | undefined;
}

interface ProductState {
  readonly id: string;
  readonly unit: string;
  readonly clock: CarryClock;
  onHand: Fixed;
  onHandMemo: DecimalMemo;
  carry: CarryLog;
  /** The last replacement cost and what it was computed from (see ProductSnapshot.replacement). */
  replacementMemo: { bom: BomVersion; conversion: Decimal; prices: Decimal[]; value: Decimal } | undefined;
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
  /** The ledger's journal read column by column, when it is in memory (see ledger/movement-reader.ts); else entriesAfter. */
  readonly #posted: PostedEntries | undefined;
  readonly #plan: ProductionPlan;
  readonly #materials: MaterialState[] = [];
  readonly #materialIndex = new Map<string, MaterialState>();
  readonly #products: ProductState[] = [];
  readonly #productIndex = new Map<string, ProductState>();
  readonly #hedgeMap: ReadonlyMap<string, HedgeMapping>;
  /** Per hedge instrument read from the journal: its material's state and its factor as a Fixed (null: it covers no material of the feed). */
  readonly #hedgeTargets = new Map<string, { readonly state: MaterialState; readonly factor: Fixed } | null>();
  readonly #onOrder: ((material: string, at: EpochMs) => Decimal) | undefined;
  readonly #hedged: ((material: string, at: EpochMs) => Decimal) | undefined;
  readonly #allocatedAtCompletion: boolean;
  readonly #windowMs: number;
  readonly forecastErrorDays: number;
  /** Forecast errors are measured per bucket of this many days (1: per day; 7: Monday-to-Sunday weeks). */
  readonly bucketDays: number;
  readonly #rootBucketDaysX: X;
  /** Bucket number of the plan's first day. */
  readonly #firstBucket: number;
  readonly minHistoryDays: number;
  readonly minReceipts: number;
  readonly closedPeriods: number;
  readonly #leadTimes: ((material: string, at: EpochMs) => LeadTimeRecord | undefined) | undefined;

  // Cursors.
  #read = 0;
  /** Entries read but not yet known, with the conversion period each belongs to. */
  #pending: { entry: FeedEntry; period: number }[] = [];
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
  /** The snapshot's consumption history (see History), one object refilled per snapshot. */
  readonly #history: History = { from: 0, to: 0, buckets: 0, j0: 0, j1: 0, k0: 0, k1: 0 };
  /** sigma_L per material for the receipt sums it was computed from (they change only on a receipt). */

  constructor(options: CostFeedOptions) {
    const { plant } = options;
    this.plant = plant;
    this.#ledger = options.ledger;
    this.#posted = postedEntriesOf(options.ledger);
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
    this.#rootBucketDaysX = fromDecimal(new Decimal(this.bucketDays).sqrt());
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
    const planned = plannedSeriesOf(plant, options.plan, this.bucketDays, this.#firstBucket);
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
      const series = planned.get(material.id)!;
      const rootLeadTime = policy.leadTimeDays.sqrt();
      const sharedMaterial = sharedMaterialOf(options.plan, material.id);
      const state: MaterialState = {
        id: material.id,
        index: this.#materials.length,
        memo: emptyMemo(),
        cvLeadTime: { sigma: SigmaFigure.of(policy.leadTimeCv.times(policy.leadTimeDays)), source: 'cv', receipts: 0 },
        leadTimeMemo: undefined,
        cvResult: { sigma: NO_FIGURE, source: 'cv' },
        historyResult: { sigma: NO_FIGURE, source: 'history' },
        receiptsResult: { sigma: NO_FIGURE, source: 'receipts', receipts: 0 },
        unit: material.unit,
        policy,
        z: zForServiceLevel(policy.serviceLevel),
        zX: fromDecimal(zForServiceLevel(policy.serviceLevel)),
        leadTimeX: fromDecimal(policy.leadTimeDays),
        demandCvX: fromDecimal(policy.demandCv),
        rootLeadTime,
        rootLeadTimeX: fromDecimal(rootLeadTime),
        price: options.prices.get(material.id),
        priceIndex: -1,
        priceCacheIndex: -1,
        priceCache: ZERO,
        clock,
        window: new FixedFieldWindow(4),
        errors: new TimeWindow(3, sharedMaterial.errorStart),
        consumedByBucket: new Map(),
        errorsFloor: -Infinity,
        consumeCount: 0,
        onHand: Fixed.ZERO,
        onHandMemo: { fixed: Fixed.ZERO, decimal: ZERO },
        carry: new CarryLog(clock),
        hedgeQty: Fixed.ZERO,
        hedgedMemo: { fixed: Fixed.ZERO, decimal: ZERO },
        onOrderMemo: { fixed: Fixed.ZERO, decimal: ZERO },
        exposureMemo: { fixed: Fixed.ZERO, decimal: ZERO },
        prefix: series.prefix,
        bucketPlan: series.bucketPlan,
        bucketPlanX: series.bucketPlanX,
        bucketPrefixSquares: series.bucketPrefixSquares,
        prefixX: series.prefixX,
        squaresX: series.squaresX,
        shared: sharedMaterial,
        cursor: cursorOf(sharedMaterial),
        sideBySide: undefined,
      };
      this.#materials.push(state);
      this.#materialIndex.set(material.id, state);
    }
    for (const product of plant.products.values()) {
      const clock = new CarryClock(breaks, (t) => tryCost(() => carryingPerUnitDay(standardProductCost(plant, product.id, t), annualRate)));
      const state: ProductState = { id: product.id, unit: product.unit, clock, onHand: Fixed.ZERO, onHandMemo: { fixed: Fixed.ZERO, decimal: ZERO }, carry: new CarryLog(clock), replacementMemo: undefined };
      this.#products.push(state);
      this.#productIndex.set(product.id, state);
    }
  }

  /**
   * Says this feed will not be asked again (a backtest's run has ended): its cursors leave their
   * plan's, so the feeds over the plan after it no longer count it as one running beside them
   * (see besideOthers). Without it a finished run looked like a neighbour to a run starting
   * where it had stopped (a sweep's out-of-sample run right after its in-sample run), which then
   * let go of every shared figure behind it, and every later in-sample run worked out its sigma
   * chain again; a feed made only to read policies (the screening engine's) looked like one
   * waiting to set off. Asked again after this, the feed still answers the same (its figures
   * are memos matched on values), only without the sharing's bookkeeping.
   */
  finish(): void {
    for (const m of this.#materials) leave(m.shared, m.cursor);
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
    const day = startOfDay(at);
    const plan = this.#plan;
    const first = plan.firstDay ?? day;
    const h = this.horizonDays;
    const i0 = clampDay(plan, (day - first) / DAY_MS);
    const i1 = clampDay(plan, (day - first) / DAY_MS + h);
    // Consumption history: the whole buckets [fromBucket, currentBucket) before the one holding
    // today, from the bucket of the first backflush, at most forecastErrorDays of them.
    const b = this.bucketDays;
    const currentBucket = bucketOf(day, b);
    const fromBucket = this.#historyStart === undefined ? currentBucket : Math.min(currentBucket, Math.max(bucketOf(this.#historyStart, b), currentBucket - Math.floor(this.forecastErrorDays / b)));
    // The feed's own object, refilled (read during this call only).
    const history = this.#history;
    history.from = bucketStart(fromBucket, b);
    history.to = bucketStart(currentBucket, b);
    history.buckets = currentBucket - fromBucket;
    history.j0 = clampDay(plan, (bucketStart(fromBucket, b) - first) / DAY_MS);
    history.j1 = clampDay(plan, (bucketStart(currentBucket, b) - first) / DAY_MS);
    history.k0 = fromBucket - this.#firstBucket;
    history.k1 = currentBucket - this.#firstBucket;
    const historyDays = history.buckets * b;

    const views: MaterialSnapshot[] = [];
    for (const m of this.#materials) {
      const standardCost = plant.standardCostAt(m.id, at).cost;
      let marketPriceAt: EpochMs | null = null;
      if (m.price) {
        const series = m.price.series;
        let i = m.priceIndex;
        while (i + 1 < series.length && closeKnownAt(series, i + 1) <= priceTime) i += 1;
        m.priceIndex = i;
        // The price's Decimal is made when a reader asks (MaterialSnapshot.marketPrice): a backtest's desk prices from its own bars.
        marketPriceAt = series.at[i]!;
        const priceKnownAt = closeKnownAt(series, i) + this.priceLagMs;
        if (priceKnownAt > knownAt) knownAt = priceKnownAt;
      }
      m.window.moveTo(windowFrom, at);
      const onOrder = this.#onOrder ? this.#onOrder(m.id, at) : ZERO;
      const hedged = this.#hedged ? this.#hedged(m.id, at) : decimalOfStock(m.hedgedMemo, m.hedgeQty);
      // The same forecast (a flat plan) gives the same mean: the division is done once, and the
      // Decimal made only when the value changes (the difference is taken in scaled integers).
      const forecast = m.prefix[i1]!.minus(m.prefix[i0]!);
      const memo = m.memo;
      if (memo.forecastQty === undefined || memo.forecastFixed === undefined || !memo.forecastFixed.eq(forecast)) {
        memo.forecastFixed = forecast;
        memo.forecastQty = forecast.toDecimal();
        memo.mean = memo.forecastQty.dividedBy(h);
      }
      const forecastQty = memo.forecastQty;
      const mean = memo.mean!;
      if (memo.meanX === undefined || memo.meanXOf !== mean) {
        memo.meanXOf = mean;
        memo.meanX = fromDecimal(mean);
      }
      const meanX = memo.meanX;
      const sigmaDaily = this.#sigmaDaily(m, history, mean, meanX);
      const sigmaLead = this.#sigmaLeadTime(m, at);
      // Each derived figure is recomputed only when one of its inputs is a different object (a
      // Figure is kept while its value stands); with a fixed lead time sigma_LT = sigma_d x
      // sqrt(L), the root taken once. The arithmetic is decimal.js's, on exact40 values.
      if (memo.sigmaDaily !== sigmaDaily.sigma || memo.sigmaLead !== sigmaLead.sigma || memo.meanForLT !== mean) {
        memo.sigmaDaily = sigmaDaily.sigma;
        memo.sigmaLead = sigmaLead.sigma;
        memo.meanForLT = mean;
        let leadTerm: X | undefined;
        if (sigmaLead.sigma.x.c !== 0n) {
          // sigmaLeadTimeDemand(L, sigma_d, d, sigma_L), its d^2 x sigma_L^2 term kept while d and sigma_L stay.
          if (memo.leadTerm === undefined || memo.leadTermMean !== mean || memo.leadTermSigma !== sigmaLead.sigma) {
            memo.leadTermMean = mean;
            memo.leadTermSigma = sigmaLead.sigma;
            // times(times(meanX, meanX), times(sl, sl)), each square worked out once per mean and per
            // Figure, the product kept on sigma_L's Figure for the last d^2: runs whose receipts give
            // the same sigma_L share its Figure (leadTimeSigmaOf), and on a given day the plan's mean,
            // so they share the product too (half of the ammonia main job's), and leadChainOf then
            // finds it is the same object.
            if (memo.meanSquare === undefined || memo.meanSquareOf !== mean) {
              memo.meanSquareOf = mean;
              memo.meanSquare = times(meanX, meanX);
            }
            memo.leadTerm = sigmaLead.sigma.squareTimes(memo.meanSquare);
          }
          leadTerm = memo.leadTerm;
        }
        // Another chain is another sigma_d or lead term: its figures are taken as they are (the
        // reorder point follows), without comparing values first (sigma_d moves most days).
        const chain = leadChainOf(sigmaDaily.sigma, m, leadTerm);
        if (memo.chain !== chain) {
          memo.chain = chain;
          memo.reorderPoint = undefined;
        }
      }
      if (memo.reorderPoint === undefined || memo.meanForReorder !== mean) {
        // reorderPoint(mean, L, buffer) = mean x L + buffer; mean x L kept while the mean stays.
        if (memo.meanForReorder !== mean || memo.meanTimesLead === undefined) memo.meanTimesLead = times(meanX, m.leadTimeX);
        memo.meanForReorder = mean;
        memo.reorderPoint = reorderOf(memo.chain!, memo.meanTimesLead);
      }
      const view = new MaterialSnapshot(m, at, standardCost, m.price ? m.priceIndex : -1, marketPriceAt, onOrder, hedged, this.#hedged ? undefined : m.hedgeQty, forecastQty, memo.forecastFixed, mean, sigmaDaily, sigmaLead, memo.chain!.sigmaLT, memo.chain!.buffer, memo.reorderPoint);
      view.sigmaDailyHistoryFrom = historyDays > 0 ? history.from : null;
      view.sigmaDailyHistoryDays = historyDays;
      view.sigmaDailyBucketDays = b;
      views.push(view);
      materials[m.id] = view;
    }

    const conversion = this.#closedConversion();
    const products: Record<string, ProductCost> = {};
    for (const p of this.#products) {
      const view = new ProductSnapshot(p, at, plant.bomAt(p.id, at), plant.conversionCostAt(p.id, at).cost, conversion, views, this.#materialIndex);
      products[p.id] = view;
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

    return new FeedSnapshot(at, knownAt, plant.currency, h, this.actualWindowDays, this.#closedAt === -Infinity ? null : this.#closedAt, conversion.periods, conversion.incurred, products, materials, plant.moneyPlaces);
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
  #sigmaDaily(m: MaterialState, h: History, mean: Decimal, meanX: X): SigmaResult {
    const memo = m.memo;
    if (h.buckets * this.bucketDays < this.minHistoryDays) {
      if (memo.cvMean !== mean || memo.cvSigma === undefined) {
        memo.cvMean = mean;
        memo.cvSigma = new SigmaFigure(times(m.demandCvX, meanX));
      }
      const result = m.cvResult;
      result.sigma = memo.cvSigma;
      return result;
    }
    const cursor = m.cursor;
    if (cursor.first < 0) cursor.first = h.k1;
    cursor.bucket = h.k1;
    if (m.sideBySide === undefined) m.sideBySide = besideOthers(m.shared, cursor);
    if (m.sideBySide) forgetBehind(m.shared, h.k1 - SIDE_BY_SIDE_KEPT);
    m.errors.moveTo(h.from - 1, h.to - 1);
    if (m.sideBySide) forgetStart(m.shared, cursor);
    if (h.from > m.errorsFloor) {
      m.errorsFloor = h.from;
      // Buckets enter the map in order, except one first seen in a late-known entry; such a
      // bucket is forgotten a little later than it could be, which costs memory, never a figure.
      const fromBucket = h.k0 + this.#firstBucket; // the bucket h.from starts
      for (const bucket of m.consumedByBucket.keys()) {
        if (bucket >= fromBucket) break;
        m.consumedByBucket.delete(bucket);
      }
    }
    // The same operations, in the same order, as the decimal.js form:
    //   planned = prefix[j1] - prefix[j0]; plannedSquares = squares[k1] - squares[k0]
    //   sumErrors = sum(a) - planned; sumSquares = sum(a^2) - sum(a p) x 2 + plannedSquares
    //   sigma = sigmaFromSums(buckets, sumErrors, sumSquares) (/ sqrt(bucketDays))
    // The entry is matched on these inputs themselves (each held once per value: the plan's
    // prefix sums converted once, the window's sums as summed), before any of the arithmetic.
    const prefixTo = prefixXOf(m, h.j1);
    const prefixFrom = prefixXOf(m, h.j0);
    const squaresTo = squaresXOf(m, h.k1);
    const squaresFrom = squaresXOf(m, h.k0);
    const errors = m.errors.sums as SharedSums;
    const actual = errors.actual;
    const squares = errors.squares;
    const cross = errors.cross;
    const entry = m.shared.chains[h.k1];
    if (
      entry !== undefined &&
      entry.buckets === h.buckets &&
      entry.bucketDays === this.bucketDays &&
      identical(entry.actual, actual) &&
      identical(entry.squares, squares) &&
      identical(entry.cross, cross) &&
      identical(entry.prefixTo, prefixTo) &&
      identical(entry.prefixFrom, prefixFrom) &&
      identical(entry.squaresTo, squaresTo) &&
      identical(entry.squaresFrom, squaresFrom)
    ) {
      memo.historySigma = entry.sigma;
    } else {
      const planned = minus(prefixTo, prefixFrom);
      const plannedSquares = minus(squaresTo, squaresFrom);
      const sumErrors = minus(actual, planned);
      const sumSquares = plus(minus(squares, times(cross, TWO_X)), plannedSquares);
      let sigma = sigmaFromSumsX(h.buckets, sumErrors, sumSquares);
      if (this.bucketDays !== 1) sigma = dividedBy(sigma, this.#rootBucketDaysX);
      const previous = memo.historySigma;
      if (previous === undefined || !same(previous.x, sigma)) memo.historySigma = new SigmaFigure(sigma);
      m.shared.chains[h.k1] = { buckets: h.buckets, bucketDays: this.bucketDays, actual, squares, cross, prefixTo, prefixFrom, squaresTo, squaresFrom, sigma: memo.historySigma! };
    }
    const result = m.historyResult;
    result.sigma = memo.historySigma!;
    return result;
  }

  /** sigma_L of one material in days: from the desk's receipts when there are minReceipts of them, else leadTimeCv x L. */
  #sigmaLeadTime(m: MaterialState, at: EpochMs): { sigma: SigmaFigure; source: 'receipts' | 'cv'; receipts: number } {
    const record = this.#leadTimes?.(m.id, at);
    const receipts = record?.count ?? 0;
    if (record === undefined || receipts < this.minReceipts) {
      const cv = m.cvLeadTime;
      if (cv.receipts !== receipts) cv.receipts = receipts;
      return cv;
    }
    const cached = m.leadTimeMemo;
    if (cached !== undefined && cached.count === receipts && cached.sumDays === record.sumDays && cached.sumSquaresDays === record.sumSquaresDays) return receiptsResult(m, cached.sigma, receipts);
    // sigmaFromSums(receipts, new Decimal(sumDays), new Decimal(sumSquaresDays)), whole numbers read exactly.
    const exact = (n: number): X => (Number.isSafeInteger(n) ? fromInteger(n) : fromDecimal(new Decimal(n)));
    let value: X;
    let known: SigmaFigure | undefined;
    let memo = false;
    if (sameLeadTimes(receipts, record.sumDays, record.sumSquaresDays)) value = X_ZERO;
    else {
      // Worked out once per process for the same three whole numbers (see leadTimeSigmaOf).
      memo = leadTimeKeyed(receipts, record.sumDays, record.sumSquaresDays);
      known = memo ? leadTimeSigmaOf(receipts, record.sumDays, record.sumSquaresDays) : undefined;
      value = known !== undefined ? known.x : sigmaFromSumsX(receipts, exact(record.sumDays), exact(record.sumSquaresDays));
    }
    // The same value keeps its Figure, so the figures derived from it are not worked out again.
    const sigma = cached !== undefined && same(cached.sigma.x, value) ? cached.sigma : (known ?? new SigmaFigure(value));
    if (memo && known === undefined) rememberLeadTimeSigma(receipts, record.sumDays, record.sumSquaresDays, sigma);
    if (cached === undefined) m.leadTimeMemo = { count: receipts, sumDays: record.sumDays, sumSquaresDays: record.sumSquaresDays, sigma };
    else {
      cached.count = receipts;
      cached.sumDays = record.sumDays;
      cached.sumSquaresDays = record.sumSquaresDays;
      cached.sigma = sigma;
    }
    return receiptsResult(m, sigma, receipts);
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
    const sums = new Map<string, { allocated: Fixed; units: Fixed }>();
    // Summed as scaled integers: the same values as summing the Decimals (see core/fixed.ts).
    let incurred = Fixed.ZERO;
    let allocated = Fixed.ZERO;
    for (let k = Math.max(0, known.length - this.closedPeriods); k < known.length; k += 1) {
      const index = known[k]!;
      const period = this.#periods[index]!;
      periods.push({ from: index === 0 ? null : this.#closeAtOf(index - 1), to: period.closeAt! });
      incurred = incurred.plus(period.incurred);
      allocated = allocated.plus(period.allocated);
      for (const [id, p] of period.products) {
        const sum = sums.get(id);
        sums.set(id, sum === undefined ? { allocated: p.allocated, units: p.units } : { allocated: sum.allocated.plus(p.allocated), units: sum.units.plus(p.units) });
      }
    }
    const products = new Map<string, { allocated: Decimal; units: Decimal }>();
    for (const [id, p] of sums) products.set(id, { allocated: p.allocated.toDecimal(), units: p.units.toDecimal() });
    return { periods, incurred: incurred.toDecimal(), allocated: allocated.toDecimal(), products };
  }

  /** Accounting time of close k (read, maybe not known yet): a period starts where the previous close stood. */
  #closeAtOf(k: number): EpochMs | null {
    const seq = this.#closeSeqs[k];
    if (seq === undefined) return null;
    // Read from the journal's columns when it is in memory (not a whole entry materialised for its time).
    const posted = this.#posted;
    if (posted !== undefined && seq >= 1 && seq <= posted.last()) return posted.at(seq);
    return this.#ledger.entry(seq)?.at ?? null;
  }

  #period(index: number): PeriodState {
    while (this.#periods.length <= index) this.#periods.push({ incurred: Fixed.ZERO, allocated: Fixed.ZERO, products: new Map(), closeAt: undefined });
    return this.#periods[index]!;
  }

  /** Reads new journal entries and applies every entry known by `at`. */
  #catchUp(at: EpochMs): void {
    if (this.#pending.length > 0) {
      const still: { entry: FeedEntry; period: number }[] = [];
      for (const item of this.#pending) {
        if (item.entry.knownAt <= at) this.#apply(item.entry, item.period);
        else still.push(item);
      }
      this.#pending = still;
    }
    // The ledger refuses backdating, so `at` never decreases along the journal: reading stops at
    // the first entry dated after T, and `pending` only holds entries dated <= T but known later.
    // Entries are read from the ledger one by one (never the whole journal, never hashed).
    const posted = this.#posted;
    if (posted !== undefined) {
      // The same loop over the journal's columns: an entry's movements and actual are read only
      // once it is in time, as scaled integers turned into Decimals (no JournalEntry).
      const last = posted.last();
      for (let seq = this.#read + 1; seq <= last; seq += 1) {
        const entryAt = posted.at(seq);
        if (entryAt > at) break;
        const eventType = posted.eventType(seq);
        const reverses = posted.reverses(seq);
        const period = this.#periodOf(reverses ?? seq);
        if (eventType === 'close') this.#closeSeqs.push(seq);
        if (this.#historyStart === undefined && (eventType === 'completion' || eventType === 'sale')) this.#historyStart = startOfDay(entryAt);
        // Applied from the columns (no entry object); one known later waits as an object.
        if (posted.knownAt(seq) <= at) this.#applyPosted(posted, seq, entryAt, eventType, reverses, period);
        else this.#pending.push({ entry: postedEntry(posted, seq, entryAt, eventType, reverses), period });
        this.#read = seq;
      }
      return;
    }
    for (const journalEntry of this.#ledger.entriesAfter(this.#read)) {
      if (journalEntry.at > at) break;
      const entry = feedEntryOf(journalEntry);
      const period = this.#periodOf(entry.reverses ?? entry.seq);
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
  #periodOf(seq: number): number {
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

  #apply(entry: FeedEntry, period: number): void {
    if (entry.knownAt > this.#ledgerKnownAt) this.#ledgerKnownAt = entry.knownAt;
    // A reversal cancels its original where the original stood in time, so windows stay right.
    let type = entry.eventType;
    let t = entry.at;
    if (entry.reverses !== undefined) {
      const posted = this.#posted;
      if (posted !== undefined) {
        if (entry.reverses >= 1 && entry.reverses <= posted.last()) {
          type = posted.eventType(entry.reverses);
          t = posted.at(entry.reverses);
        }
      } else {
        const original = this.#ledger.entry(entry.reverses);
        if (original) {
          type = original.eventType;
          t = original.at;
        }
      }
    }
    for (const move of entry.movements) this.#applyMovement(move.kind, move.id, move.qty, type, t);
    const actual = entry.actual;
    if (actual) this.#applyActual(actual, t, period);
    if (entry.eventType === 'close') this.#applyClose(entry.at, period);
  }

  /** #apply for entry `seq` of an in-memory journal, read from its columns (the same steps, in the same order). */
  #applyPosted(posted: PostedEntries, seq: number, at: EpochMs, eventType: EntryType, reverses: number | undefined, period: number): void {
    const knownAt = posted.knownAt(seq);
    if (knownAt > this.#ledgerKnownAt) this.#ledgerKnownAt = knownAt;
    let type = eventType;
    let t = at;
    if (reverses !== undefined && reverses >= 1 && reverses <= posted.last()) {
      type = posted.eventType(reverses);
      t = posted.at(reverses);
    }
    const end = posted.moveEnd(seq);
    for (let k = posted.moveStart(seq); k < end; k += 1) this.#applyMovement(posted.moveKind(k), posted.moveId(k), posted.moveQty(k), type, t);
    // The actual field by field: only what is applied is read (no object for it, and no Fixed
    // for a conversion's quantity or for the completion or sale whose allocation is not counted).
    switch (posted.actualKind(seq)) {
      case undefined:
        break;
      case 'purchase':
        this.#applyPurchase(posted.actualName(seq), posted.actualQty(seq), posted.actualAmount(seq), t);
        break;
      case 'conversion':
        this.#applyConversion(posted.actualAmount(seq), period);
        break;
      case 'completion':
        if (this.#allocatedAtCompletion) this.#allocate(period, posted.actualName(seq), posted.actualAmount(seq), posted.actualQty(seq));
        break;
      case 'sale':
        if (!this.#allocatedAtCompletion) this.#allocate(period, posted.actualName(seq), posted.actualAmount(seq), posted.actualQty(seq));
        break;
    }
    if (eventType === 'close') this.#applyClose(at, period);
  }

  /** One movement of an entry of type `type` standing at time `t`. */
  #applyMovement(kind: MovementQty['kind'], id: string, qty: Fixed, type: EntryType, t: EpochMs): void {
    if (qty.isZero()) return;
    if (kind === 'material') {
      const m = this.#materialIndex.get(id);
      if (!m) return;
      m.onHand = m.onHand.plus(qty);
      m.carry.add(qty, t);
      if (type === 'count') m.window.insert(t, P_COUNT, qty);
      else if (type === 'completion' || type === 'sale') {
        m.window.insert(t, P_FLUSHED, qty, true);
        this.#consume(m, t, qty);
      }
    } else if (kind === 'product') {
      const p = this.#productIndex.get(id);
      if (!p) return;
      p.onHand = p.onHand.plus(qty);
      p.carry.add(qty, t);
    } else {
      // The instrument's material and factor, looked up and converted once per instrument (the map and the materials do not change).
      let target = this.#hedgeTargets.get(id);
      if (target === undefined) {
        const mapping = this.#hedgeMap.get(id) ?? (this.#materialIndex.has(id) ? { material: id, factor: ONE } : undefined);
        const m = mapping ? this.#materialIndex.get(mapping.material) : undefined;
        target = m && mapping ? { state: m, factor: Fixed.from(mapping.factor) } : null;
        this.#hedgeTargets.set(id, target);
      }
      // The same values as the Decimal qty x factor and sum (exact in scaled integers when they fit, else decimal.js's).
      if (target !== null) target.state.hedgeQty = target.state.hedgeQty.plus(qty.times(target.factor));
    }
  }

  /** The economic actual of an entry standing at time `t`, in conversion period `period`. */
  #applyActual(actual: DraftActual, t: EpochMs, period: number): void {
    switch (actual.kind) {
      case 'purchase':
        this.#applyPurchase(actual.material, actual.qty, actual.amount, t);
        break;
      case 'conversion':
        this.#applyConversion(actual.amount, period);
        break;
      case 'completion':
        if (this.#allocatedAtCompletion) this.#allocate(period, actual.product, actual.allocated, actual.qty);
        break;
      case 'sale':
        if (!this.#allocatedAtCompletion) this.#allocate(period, actual.product, actual.conversion, actual.qty);
        break;
    }
  }

  #applyPurchase(material: string, qty: Fixed, amount: Fixed, t: EpochMs): void {
    const window = this.#materialIndex.get(material)?.window;
    window?.insert(t, P_QTY, qty);
    window?.insert(t, P_AMOUNT, amount);
  }

  #applyConversion(amount: Fixed, period: number): void {
    const p = this.#period(period);
    p.incurred = p.incurred.plus(amount);
    if (p.closeAt !== undefined) this.#closedVersion += 1;
  }

  /** A close entry dated `at`, closing period `period`. */
  #applyClose(at: EpochMs, period: number): void {
    this.#closedVersion += 1;
    const p = this.#period(period);
    if (p.closeAt === undefined) {
      p.closeAt = at;
      const known = this.#closedKnown;
      let k = known.length;
      while (k > 0 && known[k - 1]! > period) k -= 1;
      known.splice(k, 0, period);
    }
    if (at > this.#closedAt) this.#closedAt = at;
  }

  #allocate(period: number, product: string, allocated: Fixed, units: Fixed): void {
    const p = this.#period(period);
    if (p.closeAt !== undefined) this.#closedVersion += 1;
    p.allocated = p.allocated.plus(allocated);
    const sum = p.products.get(product);
    if (sum === undefined) p.products.set(product, { allocated, units });
    else {
      // The period's own sums object (read only through #computeClosedConversion, which copies).
      sum.allocated = sum.allocated.plus(allocated);
      sum.units = sum.units.plus(units);
    }
  }

  /**
   * Adds q = -moved (a backflush moves stock out) to the consumption backflushed in the bucket
   * holding `at` and records the change of the error sums: a -> a + q changes a by q, a^2 by
   * 2aq + q^2 and a x p by q x p. A bucket already behind the history window (a late-known
   * entry) can never enter it again and is skipped. The step is taken from the plan's shared
   * steps when an earlier feed took it from the same a, moved and p (see ConsumeStep).
   */
  #consume(m: MaterialState, at: EpochMs, moved: Fixed): void {
    const bucket = bucketOf(at, this.bucketDays);
    const start = bucketStart(bucket, this.bucketDays);
    if (start < m.errorsFloor) return;
    const k = bucket - this.#firstBucket;
    const plan = m.bucketPlan[k];
    const planned = plan === undefined ? X_ZERO : (m.bucketPlanX[k] ??= exactOfFixed(plan));
    const a = m.consumedByBucket.get(bucket);
    const step = k >= 0 && moved.big === undefined ? consumeStepOf(m.shared, m.consumeCount++, k, a, moved, planned) : consumeStep(a, moved, planned);
    m.consumedByBucket.set(bucket, step.after);
    m.errors.insert(start, step.values);
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
      m.window = new FixedFieldWindow(4);
      m.errors = new TimeWindow(3, m.shared.errorStart);
      m.consumedByBucket.clear();
      m.errorsFloor = -Infinity;
      m.consumeCount = 0;
      m.onHand = Fixed.ZERO;
      m.carry = new CarryLog(m.clock);
      m.hedgeQty = Fixed.ZERO;
    }
    for (const p of this.#products) {
      p.onHand = Fixed.ZERO;
      p.carry = new CarryLog(p.clock);
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

/**
 * A material's planned consumption (see MaterialState: prefix sums per plan day, per bucket and
 * of the buckets' squares, and their exact40 values filled in when first used), a function of
 * the plant, the plan and the bucket width only. Both objects are immutable, so the feeds over
 * the same two in this process (a scenario's runs and their baselines) share one set: the
 * arrays were built again for every run (about 4 MB a 29-year run, living the whole run) and
 * each value converted to exact40 again.
 */
interface PlannedSeries {
  readonly prefix: readonly Fixed[];
  readonly bucketPlan: readonly Fixed[];
  readonly bucketPrefixSquares: readonly Fixed[];
  readonly prefixX: (X | undefined)[];
  readonly bucketPlanX: (X | undefined)[];
  readonly squaresX: (X | undefined)[];
}

/** Per plan, per plant, per bucket width: each material's PlannedSeries (dropped with the plan or the plant). */
const plannedSeriesCache = new WeakMap<ProductionPlan, WeakMap<Plant, Map<number, Map<string, PlannedSeries>>>>();

/** The PlannedSeries of every material of `plant` (firstBucket is the plan's first day's bucket for `bucketDays`). */
function plannedSeriesOf(plant: Plant, plan: ProductionPlan, bucketDays: number, firstBucket: number): ReadonlyMap<string, PlannedSeries> {
  let byPlant = plannedSeriesCache.get(plan);
  if (byPlant === undefined) plannedSeriesCache.set(plan, (byPlant = new WeakMap()));
  let byWidth = byPlant.get(plant);
  if (byWidth === undefined) byPlant.set(plant, (byWidth = new Map()));
  let series = byWidth.get(bucketDays);
  if (series === undefined) {
    series = new Map();
    for (const [id, { prefix }] of planConsumption(plant, plan)) {
      const buckets = bucketSums(prefix, plan, bucketDays, firstBucket);
      series.set(id, {
        prefix,
        bucketPlan: buckets.plan,
        bucketPrefixSquares: buckets.prefixSquares,
        prefixX: new Array<X | undefined>(prefix.length),
        bucketPlanX: new Array<X | undefined>(buckets.plan.length),
        squaresX: new Array<X | undefined>(buckets.prefixSquares.length),
      });
    }
    byWidth.set(bucketDays, series);
  }
  return series;
}

/** Planned consumption per bucket from `firstBucket` to the plan's last, and prefix sums of its squares. */
function bucketSums(prefix: readonly Fixed[], plan: ProductionPlan, days: number, firstBucket: number): { plan: Fixed[]; prefixSquares: Fixed[] } {
  if (plan.firstDay === undefined) return { plan: [], prefixSquares: [Fixed.ZERO] };
  const last = plan.firstDay + (plan.dayCount - 1) * DAY_MS;
  const count = bucketOf(last, days) - firstBucket + 1;
  const at = (t: EpochMs): Fixed => prefix[Math.min(plan.dayCount, Math.max(0, (t - plan.firstDay!) / DAY_MS))]!;
  const sums: Fixed[] = [];
  const prefixSquares: Fixed[] = [Fixed.ZERO];
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
  from: EpochMs;
  to: EpochMs;
  buckets: number;
  j0: number;
  j1: number;
  k0: number;
  k1: number;
}

/** A plan-day index clamped to the plan's days [0, dayCount]. */
function clampDay(plan: ProductionPlan, i: number): number {
  return i < 0 ? 0 : i > plan.dayCount ? plan.dayCount : i;
}

/** Per material: prefix sums of planned daily consumption (plan x BOM x (1 + scrap)). */
function planConsumption(plant: Plant, plan: ProductionPlan): Map<string, { prefix: Fixed[] }> {
  const n = plan.dayCount;
  const daily = new Map<string, Fixed[]>();
  for (const id of plant.materials.keys()) daily.set(id, new Array<Fixed>(n).fill(Fixed.ZERO));
  // bomLineCost(qty, scrap, planned) = qty x (scrap + 1) x planned: the first product is the
  // line's, worked out once per BOM line (the same operations in the same order). The products
  // and the day sums are scaled integers: the same values as the Decimal products and sums (a
  // safe-integer product or sum is exact, and so is decimal.js's of at most 32 digits; anything
  // larger goes through decimal.js, see core/fixed.ts).
  const lineFactors = new Map<object, Fixed>();
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
      let factor = lineFactors.get(line);
      if (factor === undefined) {
        factor = Fixed.from(line.qty.times(line.scrap.plus(1)));
        lineFactors.set(line, factor);
      }
      days[index] = days[index]!.plus(factor.times(Fixed.from(row.qty)));
    }
  }
  // Prefix sums in scaled integers: the same values as summing the Decimals (see core/fixed.ts).
  const out = new Map<string, { prefix: Fixed[] }>();
  for (const [id, days] of daily) {
    const prefix = new Array<Fixed>(n + 1);
    prefix[0] = Fixed.ZERO;
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

/**
 * Figures derived from a material's state, kept from one snapshot to the next and recomputed
 * only when an input changes (each input is an immutable Decimal, compared by identity, or for
 * the forecast and sigma_LT by value, so a flat plan divides once).
 */
interface MaterialMemo {
  /** The forecast as the prefix sums' difference, and its Decimal. */
  forecastFixed: Fixed | undefined;
  forecastQty: Decimal | undefined;
  mean: Decimal | undefined;
  /** The mean as an exact40 value, for the mean it was read from. */
  meanXOf: Decimal | undefined;
  meanX: X | undefined;
  sigmaDaily: SigmaFigure | undefined;
  sigmaLead: SigmaFigure | undefined;
  meanForLT: Decimal | undefined;
  /** sigma_LT and the buffer in force (see leadChainOf). */
  chain: LeadChain | undefined;
  meanForReorder: Decimal | undefined;
  /** mean x L for meanForReorder. */
  meanTimesLead: X | undefined;
  reorderPoint: Figure | undefined;
  /** demandCv x mean for the mean it was computed from (sigma_d while the history is short). */
  cvMean: Decimal | undefined;
  cvSigma: SigmaFigure | undefined;
  /** The last sigma_d from history (kept while the value stands). */
  historySigma: SigmaFigure | undefined;
  /** d^2 x sigma_L^2 for the d and sigma_L it was computed from. */
  leadTermMean: Decimal | undefined;
  leadTermSigma: SigmaFigure | undefined;
  leadTerm: X | undefined;
  /** meanX x meanX for the mean it was computed from. */
  meanSquareOf: Decimal | undefined;
  meanSquare: X | undefined;
}

function emptyMemo(): MaterialMemo {
  return {
    forecastFixed: undefined,
    forecastQty: undefined,
    mean: undefined,
    meanXOf: undefined,
    meanX: undefined,
    sigmaDaily: undefined,
    sigmaLead: undefined,
    meanForLT: undefined,
    chain: undefined,
    meanForReorder: undefined,
    meanTimesLead: undefined,
    reorderPoint: undefined,
    cvMean: undefined,
    cvSigma: undefined,
    historySigma: undefined,
    leadTermMean: undefined,
    leadTermSigma: undefined,
    leadTerm: undefined,
    meanSquareOf: undefined,
    meanSquare: undefined,
  };
}

const TWO_X: X = fromInteger(2);

/** sigma_d and where it came from (see #sigmaDaily). */
interface SigmaResult {
  sigma: SigmaFigure;
  readonly source: 'history' | 'cv';
}

/** prefix[i] of a material's planned consumption as an exact40 value (converted once). */
function prefixXOf(m: MaterialState, i: number): X {
  return (m.prefixX[i] ??= exactOfFixed(m.prefix[i]!));
}

/** The prefix sum of squared bucket plans at bucket index k (clamped to the plan), as an exact40 value. */
function squaresXOf(m: MaterialState, k: number): X {
  const last = m.bucketPrefixSquares.length - 1;
  const i = k < 0 ? 0 : k > last ? last : k;
  return (m.squaresX[i] ??= exactOfFixed(m.bucketPrefixSquares[i]!));
}

function receiptsResult(m: MaterialState, sigma: SigmaFigure, receipts: number): { sigma: SigmaFigure; source: 'receipts'; receipts: number } {
  const result = m.receiptsResult;
  result.sigma = sigma;
  result.receipts = receipts;
  return result;
}

/**
 * Whether `count` receipts with these sums all took the same whole number of days q (sum = q x
 * count, sum of squares = q^2 x count): then sigmaFromSumsX's mean is q and its variance
 * q^2 - q^2 exactly (each step exact, nothing to round), so sigma_L is zero without the
 * divisions and the square root. Whole safe-integer sums only; anything else is computed.
 */
function sameLeadTimes(count: number, sumDays: number, sumSquaresDays: number): boolean {
  if (count <= 0 || !Number.isSafeInteger(sumDays) || !Number.isSafeInteger(sumSquaresDays) || sumDays % count !== 0) return false;
  const q = sumDays / count;
  return BigInt(q) * BigInt(q) * BigInt(count) === BigInt(sumSquaresDays);
}

/**
 * An errors window's three sums (exact40 values, each rounded as decimal.js's plus and minus
 * round), never changed: the window moves from one SharedSums to the next by an item's values
 * ([change of a, of a^2, of a x p], see ConsumeStep). Each keeps the item it last moved by,
 * plus and minus, with the precision, and where that led. The errors windows of the feeds over
 * one plan start from shared zeros (SharedMaterial), and a scenario's runs backflush the same
 * consumption in the same order, so a run after the first moves over the same item arrays (the
 * shared steps) from the same SharedSums: one comparison per step instead of three BigInt sums,
 * and sums that #sigmaDaily matches against its shared entry by identity. A different item (or
 * precision) is summed and replaces the memo (and drops what the old path held after it).
 * The sums are the values themselves, not an object per sum with memos of its own: the plan's
 * shared steps are kept for every later run, and the first run builds them before V8 has
 * compiled this code, so every object here is one more to allocate, promote and mark.
 */
class SharedSums implements WindowSums<X> {
  private plusOf: readonly X[] | undefined = undefined;
  private plusNext: SharedSums | undefined = undefined;
  private plusPrecision = 0;
  private minusOf: readonly X[] | undefined = undefined;
  private minusNext: SharedSums | undefined = undefined;
  private minusPrecision = 0;
  constructor(
    readonly actual: X,
    readonly squares: X,
    readonly cross: X,
  ) {}
  sum(k: number): X {
    return k === E_ACTUAL ? this.actual : k === E_SQUARES ? this.squares : this.cross;
  }
  plusItem(values: readonly X[]): SharedSums {
    if (this.plusOf === values && this.plusPrecision === Decimal.precision) return this.plusNext!;
    // A zero field is skipped, as a window's own sums do (adding an exact zero changes nothing).
    const next = new SharedSums(plusUnlessZero(this.actual, values[E_ACTUAL]!), plusUnlessZero(this.squares, values[E_SQUARES]!), plusUnlessZero(this.cross, values[E_CROSS]!));
    this.plusOf = values;
    this.plusNext = next;
    this.plusPrecision = Decimal.precision;
    return next;
  }
  /** Lets go of the sums it led to (its memos): what only it held becomes garbage. */
  forgetNext(): void {
    this.plusOf = undefined;
    this.plusNext = undefined;
    this.minusOf = undefined;
    this.minusNext = undefined;
  }
  minusItem(values: readonly X[]): SharedSums {
    if (this.minusOf === values && this.minusPrecision === Decimal.precision) return this.minusNext!;
    const next = new SharedSums(minusUnlessZero(this.actual, values[E_ACTUAL]!), minusUnlessZero(this.squares, values[E_SQUARES]!), minusUnlessZero(this.cross, values[E_CROSS]!));
    this.minusOf = values;
    this.minusNext = next;
    this.minusPrecision = Decimal.precision;
    return next;
  }
}

function plusUnlessZero(sum: X, value: X): X {
  return value.c === 0n ? sum : plus(sum, value);
}

function minusUnlessZero(sum: X, value: X): X {
  return value.c === 0n ? sum : minus(sum, value);
}

/** The exact40 value of a Fixed (`0 - f.e`: -0 would be a heap number, where 0 is a small integer). */
function exactOfFixed(f: Fixed): X {
  return f.big !== undefined ? fromDecimal(f.big) : f.m === 0 ? X_ZERO : new ExactValue(BigInt(f.m), 0 - f.e);
}

function negate(x: X): X {
  return x.c === 0n ? x : new ExactValue(-x.c, x.e);
}

/**
 * A figure of the sigma chain: its exact40 value, and its Decimal made when first read (the
 * feed computes these every day; a reader asks for a few of them). Kept, and shared by the
 * snapshots, while the value stands. sigma_LT, the buffer and the reorder point are Figures;
 * sigma_d and sigma_L, from which the others are worked out, are SigmaFigures.
 */
class Figure {
  #decimal: Decimal | undefined;
  #number: number | undefined;
  /** `decimal`: the figure's value already held as a Decimal, if it was. */
  constructor(
    readonly x: X,
    decimal?: Decimal,
  ) {
    this.#decimal = decimal;
  }
  get decimal(): Decimal {
    return (this.#decimal ??= decimalOfX(this.x));
  }
  /**
   * The double nearest to the figure: what `toNumberExact(this.decimal)` gives, without making
   * the Decimal (the exact engine's rules read the reorder point and buffer stock as numbers
   * every day). `x` is the value itself unless the figure was made from a Decimal, whose own
   * digits are then converted.
   */
  get number(): number {
    if (this.#number === undefined) {
      const scaled = this.#decimal === undefined ? numberOfScaled(this.x.c, this.x.e) : undefined;
      this.#number = scaled ?? toNumberExact(this.decimal);
    }
    return this.#number;
  }
}

/**
 * sigma_d or sigma_L: a Figure that also keeps its square, the square times the lead time and
 * (sigma_d) the chain worked out from it. The figures derived from it are plain Figures, without
 * these four fields: the first run over a plan keeps about three of them a day for the later runs.
 */
class SigmaFigure extends Figure {
  #square: X | undefined;
  #scaledSquare: X | undefined;
  #scaledBy: X | undefined;
  /** sigma_LT and the buffer from this figure as sigma_d, for the last inputs and the ones before (see leadChainOf). */
  leadChain: LeadChain | undefined = undefined;
  previousChain: LeadChain | undefined = undefined;
  /** times(x, x), worked out once per figure (the figures of one day's chain are shared by the runs over one plan, see SharedChain). */
  get square(): X {
    return (this.#square ??= times(this.x, this.x));
  }
  /**
   * times(by, times(x, x)), kept for the last factor (compared by coefficient and exponent: the
   * same operands, the same result): L x sigma_d^2 on sigma_d's Figure, d^2 x sigma_L^2 on sigma_L's.
   */
  squareTimes(by: X): X {
    const last = this.#scaledBy;
    if (this.#scaledSquare === undefined || last === undefined || (last !== by && !identical(last, by))) {
      this.#scaledBy = by;
      this.#scaledSquare = times(by, this.square);
    }
    return this.#scaledSquare;
  }
  /** A figure already held as a Decimal. */
  static of(value: Decimal): SigmaFigure {
    return new SigmaFigure(fromDecimal(value), value);
  }
}

/**
 * sigma_LT and the buffer z x sigma_LT from sigma_d (with a fixed lead time, sigma_LT = sigma_d
 * x sqrt(L); else sigmaLeadTimeDemandWithX(L, sigma_d, leadTerm)), kept on sigma_d's Figure for
 * the last two inputs (compared by coefficient and exponent: the same operands, the same
 * results). Two, because the main job runs its strategies side by side: on a given day each
 * run meets the same sigma_d, and a run whose lead term repeats another's (in the ammonia main
 * job one run's does, every day) found the chain overwritten by a third run's in between.
 * sigma_d's Figures are shared by the runs over one plan (SharedChain), and a run's leadTerm
 * (d^2 x sigma_L^2) mostly repeats an earlier run's on the same day, so the square root is
 * taken once for them. The two Figures are immutable and shared by the feeds like sigma_d's.
 */
interface LeadChain {
  /** L for the variable lead time, sqrt(L) for the fixed one. */
  readonly lead: X;
  readonly leadTerm: X | undefined;
  readonly z: X;
  readonly sigmaLT: Figure;
  readonly buffer: Figure;
  /** The reorder point mean x L + buffer for the last mean x L (see reorderOf): two fields here, not an object of its own per chain. */
  reorderMeanTimesLead: X | undefined;
  reorder: Figure | undefined;
}

function leadChainOf(sigmaDaily: SigmaFigure, m: MaterialState, leadTerm: X | undefined): LeadChain {
  const lead = leadTerm === undefined ? m.rootLeadTimeX : m.leadTimeX;
  const last = sigmaDaily.leadChain;
  if (last !== undefined && chainOf(last, lead, m.zX, leadTerm)) return last;
  const previous = sigmaDaily.previousChain;
  if (previous !== undefined && chainOf(previous, lead, m.zX, leadTerm)) {
    // The two swap, so the last used is tried first.
    sigmaDaily.previousChain = last;
    sigmaDaily.leadChain = previous;
    return previous;
  }
  // sigmaLeadTimeDemandWithX(L, sigma_d, leadTerm), its L x sigma_d^2 kept on sigma_d's Figure.
  const sigmaLT = leadTerm === undefined ? times(sigmaDaily.x, lead) : sigmaLeadTimeDemandOfTerms(sigmaDaily.squareTimes(lead), leadTerm);
  const chain: LeadChain = { lead, leadTerm, z: m.zX, sigmaLT: new Figure(sigmaLT), buffer: new Figure(times(m.zX, sigmaLT)), reorderMeanTimesLead: undefined, reorder: undefined };
  sigmaDaily.previousChain = last;
  sigmaDaily.leadChain = chain;
  return chain;
}

/**
 * Whether `chain` was worked out from these inputs (compared by coefficient and exponent). The
 * lead term first: it is what differs from run to run (L and z are the policy's).
 */
function chainOf(chain: LeadChain, lead: X, z: X, leadTerm: X | undefined): boolean {
  return (chain.leadTerm === undefined ? leadTerm === undefined : leadTerm !== undefined && identical(chain.leadTerm, leadTerm)) && identical(chain.lead, lead) && identical(chain.z, z);
}

/**
 * reorderPoint(mean, L, buffer) = mean x L + buffer, kept on the chain for the last mean x L (the
 * plan's mean, and so mean x L, is the same for the runs over one plan on a given day).
 */
function reorderOf(chain: LeadChain, meanTimesLead: X): Figure {
  const last = chain.reorderMeanTimesLead;
  if (last !== undefined && identical(last, meanTimesLead)) return chain.reorder!;
  const figure = new Figure(plus(meanTimesLead, chain.buffer.x));
  chain.reorderMeanTimesLead = meanTimesLead;
  chain.reorder = figure;
  return figure;
}

/**
 * One history bucket's sigma_d for one material, kept for the other feeds over the same plan
 * object in this process: a scenario's runs (its strategy and its baselines) backflush the same
 * consumption unless a stockout cuts production, and so work out the same sigma_d every day
 * (on the ammonia main job the second to fourth runs find every day's here).
 * sigma_d is a function of the inputs stored beside it and of nothing else (exact40's
 * operations give one result for one representation of their operands), so an entry is used
 * only when each input has the same coefficient and exponent; anything else is worked out and
 * replaces the entry. A Figure is immutable (it only caches its Decimal, its double and the
 * chain below), so feeds can share it. What follows from sigma_d (sigma_LT, buffer, reorder
 * point) reads the desk's receipts, which differ from strategy to strategy: it is kept on sigma_d's
 * Figure for the last two inputs only (leadChainOf).
 */
interface SharedChain {
  /**
   * sigma_d from history: sigmaFromSumsX(buckets, sumErrors, sumSquares), over sqrt(bucketDays)
   * when not 1, where sumErrors = actual - (prefixTo - prefixFrom) and sumSquares = squares -
   * cross x 2 + (squaresTo - squaresFrom) (see #sigmaDaily): the entry keeps those inputs, so a
   * match costs comparisons and no arithmetic.
   */
  readonly buckets: number;
  readonly bucketDays: number;
  readonly actual: X;
  readonly squares: X;
  readonly cross: X;
  readonly prefixTo: X;
  readonly prefixFrom: X;
  readonly squaresTo: X;
  readonly squaresFrom: X;
  readonly sigma: SigmaFigure;
}

/**
 * One backflush into a bucket's consumption: from a (undefined: the bucket's first) by
 * q = -moved against the planned p, the consumption after it and the errors window's item
 * [q, q x (2a + q), q x p] (the decimal.js operations of the Decimal form, in the same order, on
 * exact40 values; (a + q)^2 - a^2 = q x (2a + q)). A function of a's, moved's and p's
 * representations and of the precision only, so feeds over one plan share it (SharedMaterial):
 * a run after the first finds its steps there, and its errors window sums the same item objects
 * as the first run's (see SharedSums).
 */
interface ConsumeStep {
  readonly before: X | undefined;
  /** moved's scaled integer and places (a Fixed without `big`). */
  readonly movedM: number;
  readonly movedE: number;
  readonly planned: X;
  readonly precision: number;
  readonly after: X;
  readonly values: readonly X[];
}

function consumeStep(a: X | undefined, moved: Fixed, planned: X): ConsumeStep {
  const q = negate(exactOfFixed(moved));
  const values = [q, a === undefined ? times(q, q) : times(q, plus(times(a, TWO_X), q)), times(q, planned)];
  return { before: a, movedM: moved.m, movedE: moved.e, planned, precision: Decimal.precision, after: a === undefined ? q : plus(a, q), values };
}

/**
 * The shared step of bucket k from a by moved against planned (moved without `big`), made and
 * kept if no feed took it yet. `n` is the feed's count of shared steps so far: a run that
 * backflushes as an earlier one did takes, as its n-th step, the step the earlier run took last
 * as its n-th, so that one is tried first, on its keys in SharedMaterial's flat arrays (read in
 * order, no object read to compare); then the bucket's steps.
 */
function consumeStepOf(shared: SharedMaterial, n: number, k: number, a: X | undefined, moved: Fixed, planned: X): ConsumeStep {
  const precision = Decimal.precision;
  const seq = shared.sequence;
  // a is the `after` of the bucket's previous shared step (or undefined): compared as objects.
  if (n < seq.step.length && seq.bucket[n] === k && seq.before[n] === a && seq.movedM[n] === moved.m && seq.movedE[n] === moved.e && seq.planned[n] === planned && seq.precision[n] === precision) return seq.step[n]!;
  let step: ConsumeStep | undefined;
  let steps = shared.consumed[k];
  if (steps !== undefined) {
    for (let i = 0; i < steps.length; i += 1) {
      const s = steps[i]!;
      if (s.before === a && s.movedM === moved.m && s.movedE === moved.e && s.planned === planned && s.precision === precision) {
        step = s;
        break;
      }
    }
  }
  if (step === undefined) {
    step = consumeStep(a, moved, planned);
    // A few steps per bucket (one per backflush in it); a bucket that keeps changing starts over.
    // A bucket's list starts as a one-element array literal (one slot; an empty array grows
    // to 17 at its first push): most buckets only ever hold one step, kept for every later run.
    if (steps === undefined || steps.length >= CONSUME_STEPS_MAX) shared.consumed[k] = [step];
    else steps.push(step);
  }
  rememberInSequence(seq, n, k, step);
  return step;
}

/** Puts `step` at place n of the sequence (n is at most its length: each feed counts from 0 by 1). */
function rememberInSequence(seq: StepSequence, n: number, k: number, step: ConsumeStep): void {
  if (n === seq.step.length) {
    seq.bucket.push(k);
    seq.before.push(step.before);
    seq.movedM.push(step.movedM);
    seq.movedE.push(step.movedE);
    seq.planned.push(step.planned);
    seq.precision.push(step.precision);
    seq.step.push(step);
  } else {
    seq.bucket[n] = k;
    seq.before[n] = step.before;
    seq.movedM[n] = step.movedM;
    seq.movedE[n] = step.movedE;
    seq.planned[n] = step.planned;
    seq.precision[n] = step.precision;
    seq.step[n] = step;
  }
}

/**
 * The shared steps in the order the last feed to take each place took them (ConsumeStep's keys
 * kept beside it in parallel arrays): the runs over one plan mostly backflush the same
 * consumption in the same order, so a feed's n-th step is mostly the one at place n. The steps
 * are spread over the old generation; these arrays are read in order (one object read per step).
 */
interface StepSequence {
  readonly bucket: number[];
  readonly before: (X | undefined)[];
  readonly movedM: number[];
  readonly movedE: number[];
  readonly planned: X[];
  readonly precision: number[];
  readonly step: ConsumeStep[];
}

const CONSUME_STEPS_MAX = 16;

/** What a sequence's place let go holds (see forgetBehind). */
const FORGOTTEN_STEP: ConsumeStep = { before: undefined, movedM: 0, movedE: 0, planned: X_ZERO, precision: 0, after: X_ZERO, values: [X_ZERO, X_ZERO, X_ZERO] };

/** What the feeds over one plan object share for one material (dropped with the plan). */
interface SharedMaterial {
  /** Per bucket index (as `chains`): the backflushes taken into it (ConsumeStep). */
  readonly consumed: (ConsumeStep[] | undefined)[];
  /** The same steps by their place in a feed's sequence of backflushes (see consumeStepOf). */
  readonly sequence: StepSequence;
  /** SharedChain entries by history bucket index (from the plan's first bucket: small, dense from the first full history on). */
  readonly chains: (SharedChain | undefined)[];
  /** The errors window's starting sums (three zeros): each feed's window starts from this object, so its sums can be the ones an earlier feed worked out (see SharedSums). */
  readonly errorStart: SharedSums;
  /** Where the last CURSORS_KEPT feeds over the plan stand (see besideOthers). */
  readonly cursors: FeedCursor[];
  /** Buckets below this have had their chains and steps let go (see forgetBehind); places in `sequence` below `placesForgotten` too. */
  bucketsForgotten: number;
  placesForgotten: number;
}

/** A feed's history bucket, as the other feeds over its plan see it (-1 before its first sigma_d from history), and its first one. */
interface FeedCursor {
  bucket: number;
  first: number;
}

const CURSORS_KEPT = 8;

/**
 * Feeds that run beside one another (the main job's four runs side by side) keep the shared
 * figures this many history buckets behind the one they ask for, and let older ones go: they
 * take each day's within days of each other (at most 32 apart on the ammonia main job), and
 * kept, every day's figures and steps (about 40 MB over 29 years) outlived the young
 * generation, each copied twice by the scavenger. A figure let go that a feed still asks for is
 * worked out again, the same value (every entry is a memo, matched on its inputs' values).
 */
const SIDE_BY_SIDE_KEPT = 64;

const sharedMaterials = new WeakMap<ProductionPlan, Map<string, SharedMaterial>>();

/** A new feed's cursor among the plan's (the oldest let go past CURSORS_KEPT feeds). */
function cursorOf(shared: SharedMaterial): FeedCursor {
  const cursor: FeedCursor = { bucket: -1, first: -1 };
  if (shared.cursors.length >= CURSORS_KEPT) shared.cursors.shift();
  shared.cursors.push(cursor);
  return cursor;
}

/** Takes a finished feed's cursor out of its plan's (a no-op when it was already let go). */
function leave(shared: SharedMaterial, cursor: FeedCursor): void {
  const i = shared.cursors.indexOf(cursor);
  if (i >= 0) shared.cursors.splice(i, 1);
}

/**
 * Whether another feed over the plan runs beside this one: it has not reached its history yet
 * (made with this one, waiting its turn) or stands within SIDE_BY_SIDE_KEPT buckets of it. A feed
 * run after another has finished finds it at its last bucket, far ahead, and keeps every figure
 * for the feeds after it (a sweep's runs, the engine bench's repeated runs).
 */
function besideOthers(shared: SharedMaterial, own: FeedCursor): boolean {
  for (const cursor of shared.cursors) {
    if (cursor !== own && (cursor.bucket < 0 || Math.abs(cursor.bucket - own.bucket) <= SIDE_BY_SIDE_KEPT)) return true;
  }
  return false;
}

/**
 * Lets go of the shared figures of the buckets before `bucket` (chains and steps) and of the
 * places in the sequence of steps taken into them: what the feeds beside one another still
 * need is reachable from where each of them stands.
 */
function forgetBehind(shared: SharedMaterial, bucket: number): void {
  let k = shared.bucketsForgotten;
  if (bucket < k - SIDE_BY_SIDE_KEPT) {
    // Far behind the line: feeds started again from the plan's start (another group); they let
    // go from there.
    shared.bucketsForgotten = 0;
    shared.placesForgotten = 0;
    return;
  }
  if (k >= bucket) return;
  const chains = shared.chains;
  const consumed = shared.consumed;
  const end = Math.min(bucket, Math.max(chains.length, consumed.length));
  for (; k < end; k += 1) {
    if (chains[k] !== undefined) chains[k] = undefined;
    if (consumed[k] !== undefined) consumed[k] = undefined;
  }
  shared.bucketsForgotten = bucket;
  const seq = shared.sequence;
  let n = shared.placesForgotten;
  for (; n < seq.step.length && seq.bucket[n]! < bucket; n += 1) {
    // A place let go never matches (no bucket is -1): consumeStepOf looks in the bucket's steps.
    seq.bucket[n] = -1;
    seq.before[n] = undefined;
    seq.planned[n] = X_ZERO;
    seq.step[n] = FORGOTTEN_STEP;
  }
  shared.placesForgotten = n;
}

/**
 * Lets go of the first sums' memos (errorStart's: the path of every window's sums from the
 * start, which would otherwise hold every sum of the run) once no feed beside this one is still
 * to set off from the start: each feed's window first moves from errorStart in the call that
 * sets its cursor, so a feed with a cursor has left it. Until then the path is kept, and a feed
 * that sets off later follows the earlier feeds' sums instead of summing its own: let go at
 * every feed's first step (as it was), the main job's second to fourth runs each summed their
 * own window, six exact40 sums a day (190,000 of its 560,000 plus and minus) and three BigInt
 * comparisons a day against the shared sigma_d. A feed kept waiting more than SIDE_BY_SIDE_KEPT
 * buckets (made and never run) holds the path no longer: a feed setting off later sums its own.
 */
function forgetStart(shared: SharedMaterial, own: FeedCursor): void {
  if (own.bucket - own.first > SIDE_BY_SIDE_KEPT || everyFeedSetOff(shared)) shared.errorStart.forgetNext();
}

/** Whether every feed over the plan (the last CURSORS_KEPT) has asked for sigma_d from history. */
function everyFeedSetOff(shared: SharedMaterial): boolean {
  for (const cursor of shared.cursors) if (cursor.bucket < 0) return false;
  return true;
}

/**
 * How many history buckets of sigma_d the feeds over `plan` keep for `material` (SharedChain
 * entries): for tests and diagnostics of the sharing between runs (0 before any feed asked).
 */
export function keptSigmaBuckets(plan: ProductionPlan, material: string): number {
  const shared = sharedMaterials.get(plan)?.get(material);
  let n = 0;
  if (shared !== undefined) for (const entry of shared.chains) if (entry !== undefined) n += 1;
  return n;
}

function sharedMaterialOf(plan: ProductionPlan, material: string): SharedMaterial {
  let byMaterial = sharedMaterials.get(plan);
  if (byMaterial === undefined) sharedMaterials.set(plan, (byMaterial = new Map()));
  let shared = byMaterial.get(material);
  if (shared === undefined) {
    shared = {
      chains: [],
      consumed: [],
      sequence: { bucket: [], before: [], movedM: [], movedE: [], planned: [], precision: [], step: [] },
      errorStart: new SharedSums(X_ZERO, X_ZERO, X_ZERO),
      cursors: [],
      bucketsForgotten: 0,
      placesForgotten: 0,
    };
    byMaterial.set(material, shared);
  }
  return shared;
}

/**
 * sigma_L from receipts, by count, then sum of days and sum of squares (whole numbers):
 * sigmaFromSumsX of them, a function of those three numbers and of Decimal.precision only,
 * kept for the process (a scenario's runs and their strategies see the same receipt records
 * often: 44 % of the ammonia main job's look-ups find one). An array by count of maps keyed by
 * one number holding both sums exactly (sumSquaresDays x 2^21 + sumDays, below 2^53 for the
 * sums leadTimeKeyed accepts): one map look-up; a text key cost about 2.4 µs a look-up (made and
 * hashed each time), and nested maps three look-ups. Emptied when the precision changes or it
 * holds LEAD_TIME_SIGMAS_MAX figures.
 */
const leadTimeSigmas: (Map<number, SigmaFigure> | undefined)[] = [];
let leadTimeSigmaCount = 0;
let leadTimeSigmasPrecision = Decimal.precision;
const LEAD_TIME_SIGMAS_MAX = 100_000;
const DAYS_KEY_SPAN = 2 ** 21;
const SQUARES_KEY_LIMIT = 2 ** 32;
const LEAD_TIME_COUNT_LIMIT = 1_000_000;

/** Whether the count indexes the array and the sums of days and of squares fit one key (see leadTimeSigmas): whole, not negative, below 2^21 and 2^32. */
function leadTimeKeyed(count: number, sumDays: number, sumSquaresDays: number): boolean {
  return Number.isInteger(count) && count >= 0 && count < LEAD_TIME_COUNT_LIMIT && Number.isInteger(sumDays) && Number.isInteger(sumSquaresDays) && sumDays >= 0 && sumDays < DAYS_KEY_SPAN && sumSquaresDays >= 0 && sumSquaresDays < SQUARES_KEY_LIMIT;
}

/**
 * The figure last found or kept for each count, beside its key (-1: none), tried before the
 * maps: a run that repeats an earlier one (the engine bench's runs, a sweep's equal sets) asks
 * for the same key at each count, and reads it here from two arrays walked in order instead of
 * hashing into a map of up to LEAD_TIME_SIGMAS_MAX figures. Emptied with the maps.
 */
const lastLeadTimeKeys: number[] = [];
const lastLeadTimeSigmas: (SigmaFigure | undefined)[] = [];

function forgetLeadTimeSigmas(): void {
  leadTimeSigmas.length = 0;
  leadTimeSigmaCount = 0;
  lastLeadTimeKeys.length = 0;
  lastLeadTimeSigmas.length = 0;
}

function noteLastLeadTimeSigma(count: number, key: number, sigma: SigmaFigure): void {
  while (lastLeadTimeKeys.length <= count) {
    lastLeadTimeKeys.push(-1);
    lastLeadTimeSigmas.push(undefined);
  }
  lastLeadTimeKeys[count] = key;
  lastLeadTimeSigmas[count] = sigma;
}

/** The kept sigma_L for `count` receipts and these sums (leadTimeKeyed), if any. */
function leadTimeSigmaOf(count: number, sumDays: number, sumSquaresDays: number): SigmaFigure | undefined {
  if (leadTimeSigmasPrecision !== Decimal.precision) {
    forgetLeadTimeSigmas();
    leadTimeSigmasPrecision = Decimal.precision;
  }
  const key = sumSquaresDays * DAYS_KEY_SPAN + sumDays;
  if (count < lastLeadTimeKeys.length && lastLeadTimeKeys[count] === key) return lastLeadTimeSigmas[count];
  const sigma = count < leadTimeSigmas.length ? leadTimeSigmas[count]?.get(key) : undefined;
  if (sigma !== undefined) noteLastLeadTimeSigma(count, key, sigma);
  return sigma;
}

function rememberLeadTimeSigma(count: number, sumDays: number, sumSquaresDays: number, sigma: SigmaFigure): void {
  if (leadTimeSigmaCount >= LEAD_TIME_SIGMAS_MAX) forgetLeadTimeSigmas();
  // Counts start at minReceipts and grow one by one: the array stays dense.
  while (leadTimeSigmas.length <= count) leadTimeSigmas.push(undefined);
  let bySums = leadTimeSigmas[count];
  if (bySums === undefined) leadTimeSigmas[count] = bySums = new Map();
  const key = sumSquaresDays * DAYS_KEY_SPAN + sumDays;
  bySums.set(key, sigma);
  noteLastLeadTimeSigma(count, key, sigma);
  leadTimeSigmaCount += 1;
}

/** The same coefficient and exponent (the same value in the same representation); the same object at once. */
function identical(a: X, b: X): boolean {
  return a === b || (a.c === b.c && a.e === b.e);
}

/** A placeholder in the per-material result objects before their first snapshot. */
const NO_FIGURE = new SigmaFigure(X_ZERO);

/**
 * One material's figures in a snapshot. The fields a strategy reads every day are plain
 * properties; the others (actual unit cost, usage factor, carrying per day and accrued, days
 * of cover, exposure) are computed when first read, from the values the feed held at the
 * snapshot's time (captured here: the feed's state moves on).
 */
class MaterialSnapshot implements MaterialCost, MaterialNumbers {
  /** The material's state: its constant figures (unit, policy, z, clock) are read from it. */
  readonly #state: MaterialState;
  readonly standardCost: Decimal;
  /** Index of the price bar known at the snapshot's time (-1: no price series); its Decimal is made when read. */
  readonly #priceIndex: number;
  #marketPrice: Decimal | null | undefined;
  readonly marketPriceAt: EpochMs | null;
  readonly carryingPerUnitDay: Decimal;
  readonly #onHand: Fixed;
  readonly onOrder: Decimal;
  readonly hedged: Decimal;
  /** `hedged` as the feed sums it (undefined when the hedged quantity comes from the options' callback). */
  readonly #hedgedFixed: Fixed | undefined;
  readonly forecastQty: Decimal;
  /** `forecastQty` as the prefix sums' difference it was made from. */
  readonly #forecastFixed: Fixed;
  readonly dailyConsumption: Decimal;
  readonly sigmaDailySource: 'history' | 'cv';
  sigmaDailyHistoryFrom: EpochMs | null = null;
  sigmaDailyHistoryDays = 0;
  sigmaDailyBucketDays = 1;
  readonly sigmaLeadTimeSource: 'receipts' | 'cv';
  readonly leadTimeReceipts: number;
  // The sigma chain's figures, as Decimals when read (see Figure).
  readonly #sigmaDaily: SigmaFigure;
  readonly #sigmaLead: SigmaFigure;
  readonly #sigmaLT: Figure;
  readonly #buffer: Figure;
  readonly #reorder: Figure;
  readonly #at: EpochMs;
  readonly #purchasedQty: Fixed;
  readonly #purchasedAmount: Fixed;
  readonly #flushed: Fixed;
  readonly #counted: Fixed;
  #actualPurchasedQty: Decimal | undefined;
  readonly #carry: CarryLog;
  readonly #carryCount: number;
  #actualUnitCost: Decimal | undefined;
  #usageFactor: Decimal | undefined;
  #carryingPerDay: Decimal | undefined;
  #carryingAccrued: Decimal | undefined;
  #daysOfCover: Decimal | null | undefined;
  #exposureQty: Decimal | undefined;
  #exposureValue: Decimal | undefined;

  constructor(
    m: MaterialState,
    at: EpochMs,
    standardCost: Decimal,
    priceIndex: number,
    marketPriceAt: EpochMs | null,
    onOrder: Decimal,
    hedged: Decimal,
    hedgedFixed: Fixed | undefined,
    forecastQty: Decimal,
    forecastFixed: Fixed,
    mean: Decimal,
    sigmaDaily: { readonly sigma: SigmaFigure; readonly source: 'history' | 'cv' },
    sigmaLead: { readonly sigma: SigmaFigure; readonly source: 'receipts' | 'cv'; readonly receipts: number },
    sigmaLT: Figure,
    buffer: Figure,
    reorder: Figure,
  ) {
    this.#state = m;
    this.standardCost = standardCost;
    this.#priceIndex = priceIndex;
    this.#marketPrice = undefined;
    this.marketPriceAt = marketPriceAt;
    // The window's sums are read now (the window moves on); the divisions wait until a reader asks.
    this.#purchasedQty = m.window.sum(P_QTY);
    this.#purchasedAmount = m.window.sum(P_AMOUNT);
    this.#flushed = m.window.sum(P_FLUSHED);
    this.#counted = m.window.sum(P_COUNT);
    this.carryingPerUnitDay = m.clock.rateAt(at);
    this.#onHand = m.onHand;
    this.#carry = m.carry;
    this.#carryCount = m.carry.length;
    this.#at = at;
    this.onOrder = onOrder;
    this.hedged = hedged;
    this.#hedgedFixed = hedgedFixed;
    this.forecastQty = forecastQty;
    this.#forecastFixed = forecastFixed;
    this.dailyConsumption = mean;
    this.#sigmaDaily = sigmaDaily.sigma;
    this.sigmaDailySource = sigmaDaily.source;
    this.#sigmaLead = sigmaLead.sigma;
    this.sigmaLeadTimeSource = sigmaLead.source;
    this.leadTimeReceipts = sigmaLead.receipts;
    this.#sigmaLT = sigmaLT;
    this.#buffer = buffer;
    this.#reorder = reorder;
  }

  get unit(): string {
    return this.#state.unit;
  }
  /** The market price per material unit known at the snapshot's time: bar close x factor (null without a price series). */
  get marketPrice(): Decimal | null {
    if (this.#marketPrice === undefined) this.#marketPrice = this.#priceIndex < 0 ? null : priceOf(this.#state, this.#priceIndex);
    return this.#marketPrice;
  }
  get demandCv(): Decimal {
    return this.#state.policy.demandCv;
  }
  get leadTimeDays(): Decimal {
    return this.#state.policy.leadTimeDays;
  }
  get leadTimeCv(): Decimal {
    return this.#state.policy.leadTimeCv;
  }
  get serviceLevel(): Decimal {
    return this.#state.policy.serviceLevel;
  }
  get z(): Decimal {
    return this.#state.z;
  }
  get onHand(): Decimal {
    return decimalOfStock(this.#state.onHandMemo, this.#onHand);
  }
  get sigmaDailyConsumption(): Decimal {
    return this.#sigmaDaily.decimal;
  }
  get sigmaLeadTimeDays(): Decimal {
    return this.#sigmaLead.decimal;
  }
  get sigmaLeadTimeDemand(): Decimal {
    return this.#sigmaLT.decimal;
  }
  get bufferStock(): Decimal {
    return this.#buffer.decimal;
  }
  get reorderPoint(): Decimal {
    return this.#reorder.decimal;
  }
  /** MaterialNumbers.numberOf: the figure's double without its Decimal. */
  numberOf(figure: MaterialNumber): number {
    switch (figure) {
      case 'onHand':
        return numberOfFixed(this.#onHand);
      case 'bufferStock':
        return this.#buffer.number;
      case 'reorderPoint':
        return this.#reorder.number;
      case 'sigmaLeadTimeDemand':
        return this.#sigmaLT.number;
      case 'exposureQty': {
        // The Decimal's value when it was made; else the same Fixed it would be made from, read
        // as a double (numberOfFixed is toNumber of the Fixed's Decimal), without the Decimal.
        if (this.#exposureQty !== undefined) return toNumberExact(this.#exposureQty);
        const open = this.#openExposure();
        return open.isNegative() ? 0 : numberOfFixed(open);
      }
    }
  }

  get actualPurchasedQty(): Decimal {
    return (this.#actualPurchasedQty ??= this.#purchasedQty.toDecimal());
  }
  get actualUnitCost(): Decimal {
    if (this.#actualUnitCost === undefined) {
      const q = this.actualPurchasedQty;
      this.#actualUnitCost = q.isPositive() && !q.isZero() ? this.#purchasedAmount.toDecimal().dividedBy(q) : this.standardCost;
    }
    return this.#actualUnitCost;
  }
  get usageFactor(): Decimal {
    if (this.#usageFactor === undefined) {
      const flushed = this.#flushed.toDecimal();
      this.#usageFactor = flushed.isPositive() && !flushed.isZero() ? flushed.minus(this.#counted.toDecimal()).dividedBy(flushed) : ONE;
    }
    return this.#usageFactor;
  }
  get carryingPerDay(): Decimal {
    return (this.#carryingPerDay ??= this.onHand.times(this.carryingPerUnitDay));
  }
  get carryingAccrued(): Decimal {
    return (this.#carryingAccrued ??= this.onHand.times(this.#state.clock.at(this.#at)).minus(this.#carry.baseAt(this.#carryCount)));
  }
  get daysOfCover(): Decimal | null {
    if (this.#daysOfCover === undefined) this.#daysOfCover = daysOfCover(this.onHand, this.onOrder, this.dailyConsumption);
    return this.#daysOfCover;
  }
  /**
   * exposureQty(forecastQty, onHand, onOrder, hedged), worked out on the Fixed forms of its
   * inputs: the same three subtractions in the same order give the same value (see core/fixed.ts:
   * each is exact, or done by decimal.js itself when an operand does not fit), and the same
   * clamp (decimal.js's difference is never -0 here, so its isNegative is the Fixed's). The
   * Decimal is made once per value (the daily record reads it every day).
   */
  get exposureQty(): Decimal {
    if (this.#exposureQty === undefined) {
      const open = this.#openExposure();
      this.#exposureQty = open.isNegative() ? ZERO : decimalOfValue(this.#state.exposureMemo, open);
    }
    return this.#exposureQty;
  }
  /** forecast - on hand - on order - hedged in Fixed, before the clamp at zero (exposureQty). */
  #openExposure(): Fixed {
    const onOrder = fixedOfDecimal(this.#state.onOrderMemo, this.onOrder);
    const hedged = this.#hedgedFixed ?? Fixed.from(this.hedged);
    return this.#forecastFixed.minus(this.#onHand).minus(onOrder).minus(hedged);
  }
  get exposureValue(): Decimal {
    return (this.#exposureValue ??= this.exposureQty.times(this.marketPrice ?? this.standardCost));
  }
  /** Actual unit cost x usage factor: what a product's actual cost multiplies a BOM line by. */
  actualPerUnit(): Decimal {
    return this.actualUnitCost.times(this.usageFactor);
  }
}

/** One product's figures in a snapshot; all but the plain fields are computed when first read. */
class ProductSnapshot implements ProductCost {
  readonly unit: string;
  readonly actualConversionSource: 'closed-periods' | 'standard';
  readonly conversionUnits: Decimal;
  readonly carryingPerUnitDay: Decimal;
  readonly #onHand: Fixed;
  readonly #state: ProductState;
  readonly #at: EpochMs;
  readonly #bom: BomVersion;
  readonly #standardConversion: Decimal;
  readonly #conversion: ClosedConversion;
  readonly #views: readonly MaterialSnapshot[];
  readonly #index: ReadonlyMap<string, MaterialState>;
  readonly #carry: CarryLog;
  readonly #carryCount: number;
  #standard: Decimal | undefined;
  #replacement: Decimal | undefined;
  #actualConversion: Decimal | undefined;
  #actual: Decimal | undefined;
  #carryingAccrued: Decimal | undefined;

  constructor(p: ProductState, at: EpochMs, bom: BomVersion, standardConversion: Decimal, conversion: ClosedConversion, views: readonly MaterialSnapshot[], index: ReadonlyMap<string, MaterialState>) {
    this.unit = p.unit;
    const made = conversion.products.get(p.id);
    this.actualConversionSource = ProductSnapshot.#measured(made, conversion) ? 'closed-periods' : 'standard';
    this.conversionUnits = made?.units ?? ZERO;
    this.carryingPerUnitDay = p.clock.rateAt(at);
    this.#onHand = p.onHand;
    this.#carry = p.carry;
    this.#carryCount = p.carry.length;
    this.#state = p;
    this.#at = at;
    this.#bom = bom;
    this.#standardConversion = standardConversion;
    this.#conversion = conversion;
    this.#views = views;
    this.#index = index;
  }

  get onHand(): Decimal {
    return decimalOfStock(this.#state.onHandMemo, this.#onHand);
  }

  /** Whether actual conversion is measured: units made and conversion allocated in the closed periods. */
  static #measured(made: { allocated: Decimal; units: Decimal } | undefined, conversion: ClosedConversion): made is { allocated: Decimal; units: Decimal } {
    return made !== undefined && made.units.isPositive() && !made.units.isZero() && conversion.allocated.isPositive() && !conversion.allocated.isZero();
  }

  #view(material: string): MaterialSnapshot {
    return this.#views[this.#index.get(material)!.index]!;
  }

  get standard(): Decimal {
    if (this.#standard === undefined) {
      let standard = this.#standardConversion;
      for (const line of this.#bom.lines) standard = standard.plus(bomLineCost(line.qty, line.scrap, this.#view(line.material).standardCost));
      this.#standard = standard;
    }
    return this.#standard;
  }

  /** Replacement cost, recomputed only when the BOM, the conversion cost or a line's price (by identity) changed since the last one. */
  get replacement(): Decimal {
    if (this.#replacement === undefined) {
      const memo = this.#state.replacementMemo;
      const lines = this.#bom.lines;
      let same = memo !== undefined && memo.bom === this.#bom && memo.conversion === this.#standardConversion;
      const prices: Decimal[] = [];
      for (let k = 0; k < lines.length; k += 1) {
        const view = this.#view(lines[k]!.material);
        const price = view.marketPrice ?? view.standardCost;
        prices.push(price);
        if (same && memo!.prices[k] !== price) same = false;
      }
      if (same) this.#replacement = memo!.value;
      else {
        let replacement = this.#standardConversion;
        for (let k = 0; k < lines.length; k += 1) replacement = replacement.plus(bomLineCost(lines[k]!.qty, lines[k]!.scrap, prices[k]!));
        this.#state.replacementMemo = { bom: this.#bom, conversion: this.#standardConversion, prices, value: replacement };
        this.#replacement = replacement;
      }
    }
    return this.#replacement;
  }

  // incurred x (this product's allocated / all allocated) / its units; one product: incurred / units.
  get actualConversion(): Decimal {
    if (this.#actualConversion === undefined) {
      const conversion = this.#conversion;
      const made = conversion.products.get(this.#state.id);
      this.#actualConversion = ProductSnapshot.#measured(made, conversion) ? conversion.incurred.times(made.allocated).dividedBy(conversion.allocated).dividedBy(made.units) : this.#standardConversion;
    }
    return this.#actualConversion;
  }

  get actual(): Decimal {
    if (this.#actual === undefined) {
      let actual = this.actualConversion;
      for (const line of this.#bom.lines) actual = actual.plus(bomLineCost(line.qty, line.scrap, this.#view(line.material).actualPerUnit()));
      this.#actual = actual;
    }
    return this.#actual;
  }

  get carryingAccrued(): Decimal {
    return (this.#carryingAccrued ??= this.onHand.times(this.#state.clock.at(this.#at)).minus(this.#carry.baseAt(this.#carryCount)));
  }
}

/** A snapshot: its fields, and toJSON on the prototype (one object a day instead of an object, a closure and a copy). */
class FeedSnapshot implements CostSnapshot {
  constructor(
    readonly at: EpochMs,
    readonly knownAt: EpochMs,
    readonly currency: string,
    readonly horizonDays: number,
    readonly actualWindowDays: number,
    readonly conversionClosedAt: EpochMs | null,
    readonly conversionPeriods: readonly ConversionPeriod[],
    readonly conversionIncurred: Decimal,
    readonly products: Readonly<Record<string, ProductCost>>,
    readonly materials: Readonly<Record<string, MaterialCost>>,
    moneyPlaces: number,
  ) {
    this.#moneyPlaces = moneyPlaces;
  }
  readonly #moneyPlaces: number;
  toJSON(): CostSnapshotJson {
    return snapshotToJson(this, this.#moneyPlaces);
  }
}

/** What the feed applies of a journal entry (a JournalEntry has these fields; so does postedEntry's answer). */
interface FeedEntry {
  readonly seq: number;
  readonly eventType: EntryType;
  readonly at: EpochMs;
  readonly knownAt: EpochMs;
  readonly reverses: number | undefined;
  /** Quantities and amounts as scaled integers, as the engine computed them (the feed sums those). */
  readonly movements: readonly MovementQty[];
  readonly actual: DraftActual | undefined;
}

/** An in-memory journal's entry `seq` as the feed applies it (movements and actual, nothing else, no Decimal). */
function postedEntry(posted: PostedEntries, seq: number, at: EpochMs, eventType: EntryType, reverses: number | undefined): FeedEntry {
  return { seq, eventType, at, knownAt: posted.knownAt(seq), reverses, movements: posted.movementQtys(seq), actual: posted.actualFixed(seq) };
}

/** A stored entry (decimal.js values) as the feed applies it. */
function feedEntryOf(entry: JournalEntry): FeedEntry {
  const movements = entry.movements.map((move) => ({ kind: move.kind, id: move.id, qty: Fixed.from(move.qty) }));
  return { seq: entry.seq, eventType: entry.eventType, at: entry.at, knownAt: entry.knownAt, reverses: entry.reverses, movements, actual: entry.actual === undefined ? undefined : fixedActual(entry.actual) };
}

function fixedActual(a: Actual): DraftActual {
  switch (a.kind) {
    case 'purchase':
      return { kind: 'purchase', material: a.material, qty: Fixed.from(a.qty), amount: Fixed.from(a.amount) };
    case 'conversion':
      return a.category !== undefined ? { kind: 'conversion', amount: Fixed.from(a.amount), category: a.category } : { kind: 'conversion', amount: Fixed.from(a.amount) };
    case 'completion':
      return { kind: 'completion', product: a.product, qty: Fixed.from(a.qty), allocated: Fixed.from(a.allocated) };
    case 'sale':
      return { kind: 'sale', product: a.product, qty: Fixed.from(a.qty), conversion: Fixed.from(a.conversion) };
  }
}

/**
 * A material's price per unit at bar `i`: close x factor, made once per bar (the same Decimal
 * object while the bar stands, so a product's replacement memo keeps it).
 */
function priceOf(m: MaterialState, i: number): Decimal {
  if (m.priceCacheIndex !== i) {
    const price = m.price!;
    m.priceCache = decimalOfNumber(Decimal, price.series.close[i]!).times(price.factor); // new Decimal(String(close)), without its parser
    m.priceCacheIndex = i;
  }
  return m.priceCache;
}
