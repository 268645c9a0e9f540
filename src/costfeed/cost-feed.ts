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
import {
  bomLineCost,
  bufferStockFromRoot,
  carryingPerUnitDay,
  daysOfCover,
  exposureQty,
  meanAndSigma,
  reorderPoint,
  zForServiceLevel,
} from './inventory-math.js';
import type { ProductionPlan } from './plan.js';
import { TimeWindow } from './time-window.js';
import { snapshotToJson, type CostSnapshot, type MaterialCost, type ProductCost } from './snapshot.js';

/** Lead time and service level of one material. */
export interface MaterialPolicy {
  readonly leadTimeDays: Decimal;
  /** Cycle service level: probability of no stockout during a lead time, in [0.5, 1). */
  readonly serviceLevel: Decimal;
}

/** Built-in defaults when neither the options nor the plant file give a policy. */
export const DEFAULT_POLICY: MaterialPolicy = Object.freeze({ leadTimeDays: new Decimal(5), serviceLevel: new Decimal('0.95') });

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

type PolicyInput = { readonly leadTimeDays?: Decimal | number | string; readonly serviceLevel?: Decimal | number | string };

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
  onHand: Decimal;
  /** sum of dq x C(at) over movements (see CarryClock). */
  carryBase: Decimal;
  hedgeQty: Decimal;
  readonly prefix: readonly Decimal[];
  readonly prefixSquares: readonly Decimal[];
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
const C_ACTUAL = 0;
const C_ALLOCATED = 1;

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

  // Cursors.
  #read = 0;
  #pending: JournalEntry[] = [];
  #lastAt = -Infinity;
  #ledgerKnownAt = -Infinity;
  #closedAt = -Infinity;
  #conversion = new TimeWindow(2);

  constructor(options: CostFeedOptions) {
    const { plant } = options;
    this.plant = plant;
    this.#ledger = options.ledger;
    this.#plan = options.plan;
    this.horizonDays = wholeDays(options.horizonDays ?? 30, 'horizonDays');
    this.actualWindowDays = wholeDays(options.actualWindowDays ?? 90, 'actualWindowDays');
    this.#windowMs = this.actualWindowDays * DAY_MS;
    this.priceLagMs = options.priceLagMs ?? 0;
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
        { leadTimeDays: material.leadTimeDays ?? defaults.leadTimeDays, serviceLevel: material.serviceLevel ?? defaults.serviceLevel },
        defaults,
        `materials.${material.id}`,
      );
      const policy = resolvePolicy(options.policy?.[material.id], fromPlant, `policy.${material.id}`);
      const storage = plant.carrying.storagePerUnitDay.get(material.id) ?? ZERO;
      const clock = new CarryClock(breaks, (t) => tryCost(() => carryingPerUnitDay(plant.standardCostAt(material.id, t).cost, annualRate, storage)));
      const series = consumption.get(material.id)!;
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
        onHand: ZERO,
        carryBase: ZERO,
        hedgeQty: ZERO,
        prefix: series.prefix,
        prefixSquares: series.prefixSquares,
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
    // Actual conversion is a period figure: measured up to the latest close known, standard before any.
    const closed = this.#closedAt !== -Infinity;
    if (closed) this.#conversion.moveTo(windowFrom, this.#closedAt);
    const plant = this.plant;
    const materials: Record<string, MaterialCost> = {};
    const unitCosts = new Map<string, { standard: Decimal; market: Decimal; actual: Decimal }>();
    const day = startOfDay(at);
    const plan = this.#plan;
    const first = plan.firstDay ?? day;
    const h = this.horizonDays;
    const clampDay = (i: number): number => (i < 0 ? 0 : i > plan.dayCount ? plan.dayCount : i);
    const i0 = clampDay((day - first) / DAY_MS);
    const i1 = clampDay((day - first) / DAY_MS + h);

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
      const purchasedQty = m.window.sum(P_QTY);
      const actualUnitCost = purchasedQty.isPositive() && !purchasedQty.isZero() ? m.window.sum(P_AMOUNT).dividedBy(purchasedQty) : standardCost;
      const flushed = m.window.sum(P_FLUSHED);
      const usageFactor = flushed.isPositive() && !flushed.isZero() ? flushed.minus(m.window.sum(P_COUNT)).dividedBy(flushed) : ONE;
      const onOrder = this.#onOrder ? this.#onOrder(m.id, at) : ZERO;
      const hedged = this.#hedged ? this.#hedged(m.id, at) : m.hedgeQty;
      const forecastQty = m.prefix[i1]!.minus(m.prefix[i0]!);
      const { mean, sigma } = meanAndSigma(h, forecastQty, m.prefixSquares[i1]!.minus(m.prefixSquares[i0]!));
      // bufferStock(z, sigma, leadTimeDays) with the lead time's square root taken once (the same figure).
      const buffer = bufferStockFromRoot(m.z, sigma, m.rootLeadTime);
      const exposure = exposureQty(forecastQty, m.onHand, onOrder, hedged);
      const perUnitDay = m.clock.rateAt(at);
      const valuePrice = marketPrice ?? standardCost;
      unitCosts.set(m.id, { standard: standardCost, market: valuePrice, actual: actualUnitCost.times(usageFactor) });
      materials[m.id] = {
        unit: m.unit,
        standardCost,
        marketPrice,
        marketPriceAt,
        actualUnitCost,
        actualPurchasedQty: purchasedQty,
        usageFactor,
        carryingPerUnitDay: perUnitDay,
        carryingPerDay: m.onHand.times(perUnitDay),
        carryingAccrued: m.onHand.times(m.clock.at(at)).minus(m.carryBase),
        onHand: m.onHand,
        onOrder,
        hedged,
        forecastQty,
        dailyConsumption: mean,
        sigmaDailyConsumption: sigma,
        leadTimeDays: m.policy.leadTimeDays,
        serviceLevel: m.policy.serviceLevel,
        z: m.z,
        bufferStock: buffer,
        reorderPoint: reorderPoint(mean, m.policy.leadTimeDays, buffer),
        daysOfCover: daysOfCover(m.onHand, onOrder, mean),
        exposureQty: exposure,
        exposureValue: exposure.times(valuePrice),
      };
    }

    const allocated = this.#conversion.sum(C_ALLOCATED);
    const conversionRatio = closed && allocated.isPositive() && !allocated.isZero() ? this.#conversion.sum(C_ACTUAL).dividedBy(allocated) : null;
    const products: Record<string, ProductCost> = {};
    for (const p of this.#products) {
      const bom = plant.bomAt(p.id, at);
      const conversion = plant.conversionCostAt(p.id, at).cost;
      let standard = conversion;
      let replacement = conversion;
      const actualConversion = conversionRatio === null ? conversion : conversion.times(conversionRatio);
      let actual = actualConversion;
      for (const line of bom.lines) {
        const cost = unitCosts.get(line.material)!;
        standard = standard.plus(bomLineCost(line.qty, line.scrap, cost.standard));
        replacement = replacement.plus(bomLineCost(line.qty, line.scrap, cost.market));
        actual = actual.plus(bomLineCost(line.qty, line.scrap, cost.actual));
      }
      const perUnitDay = p.clock.rateAt(at);
      products[p.id] = {
        unit: p.unit,
        standard,
        actual,
        actualConversion,
        replacement,
        carryingPerUnitDay: perUnitDay,
        onHand: p.onHand,
        carryingAccrued: p.onHand.times(p.clock.at(at)).minus(p.carryBase),
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
      products,
      materials,
    };
    const places = plant.moneyPlaces;
    return Object.assign(snapshot, { toJSON: () => snapshotToJson(snapshot, places) });
  }

  /** Reads new journal entries and applies every entry known by `at`. */
  #catchUp(at: EpochMs): void {
    if (this.#pending.length > 0) {
      const still: JournalEntry[] = [];
      for (const entry of this.#pending) {
        if (entry.knownAt <= at) this.#apply(entry);
        else still.push(entry);
      }
      this.#pending = still;
    }
    // The ledger refuses backdating, so `at` never decreases along the journal: reading stops at
    // the first entry dated after T, and `pending` only holds entries dated <= T but known later.
    // Entries are read from the ledger one by one (never the whole journal, never hashed).
    for (const entry of this.#ledger.entriesAfter(this.#read)) {
      if (entry.at > at) break;
      if (entry.knownAt <= at) this.#apply(entry);
      else this.#pending.push(entry);
      this.#read = entry.seq;
    }
  }

  #apply(entry: JournalEntry): void {
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
        else if (type === 'completion' || type === 'sale') m.window.insert(t, [ZERO, ZERO, move.qty.negated(), ZERO]);
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
        case 'conversion':
          this.#conversion.insert(t, [actual.amount, ZERO]);
          break;
        case 'completion':
          if (this.#allocatedAtCompletion) this.#conversion.insert(t, [ZERO, actual.allocated]);
          break;
        case 'sale':
          if (!this.#allocatedAtCompletion) this.#conversion.insert(t, [ZERO, actual.conversion]);
          break;
      }
    }
    if (entry.eventType === 'close' && entry.at > this.#closedAt) this.#closedAt = entry.at;
  }

  #reset(): void {
    this.#read = 0;
    this.#pending = [];
    this.#ledgerKnownAt = -Infinity;
    this.#closedAt = -Infinity;
    this.#conversion = new TimeWindow(2);
    for (const m of this.#materials) {
      m.priceIndex = -1;
      m.window = new TimeWindow(4);
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

/** Per material: prefix sums of planned daily consumption (plan x BOM x (1 + scrap)) and of its squares. */
function planConsumption(plant: Plant, plan: ProductionPlan): Map<string, { prefix: Decimal[]; prefixSquares: Decimal[] }> {
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
  const out = new Map<string, { prefix: Decimal[]; prefixSquares: Decimal[] }>();
  for (const [id, days] of daily) {
    const prefix = new Array<Decimal>(n + 1);
    const prefixSquares = new Array<Decimal>(n + 1);
    prefix[0] = ZERO;
    prefixSquares[0] = ZERO;
    for (let i = 0; i < n; i += 1) {
      const q = days[i]!;
      prefix[i + 1] = q.isZero() ? prefix[i]! : prefix[i]!.plus(q);
      prefixSquares[i + 1] = q.isZero() ? prefixSquares[i]! : prefixSquares[i]!.plus(q.times(q));
    }
    out.set(id, { prefix, prefixSquares });
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
  if (leadTimeDays.isNegative()) throw new InputError(`lead time must not be negative, got ${leadTimeDays.toFixed()}`, { field: `${field}.leadTimeDays` });
  if (serviceLevel.lessThan('0.5') || serviceLevel.greaterThanOrEqualTo(1)) {
    throw new InputError(`service level must be at least 0.5 and below 1, got ${serviceLevel.toFixed()}`, { field: `${field}.serviceLevel` });
  }
  return Object.freeze({ leadTimeDays, serviceLevel });
}

function wholeDays(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InputError(`expected a whole number of days >= 1, got ${value}`, { field });
  return value;
}

/** 1-based line of the first price bar in its file (header on line 1; leading rows skipped for missing values moved it down). */
function firstDataLine(series: PriceSeries): number {
  let line = 2;
  const missing = new Set(series.missing.lines);
  while (missing.has(line)) line += 1;
  return line;
}
