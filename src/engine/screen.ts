/**
 * The screening engine: the desk's day (desk.ts, backtest.ts, the cost feed) over plain
 * numbers, for sweeps. It runs the same scenario, the same day and the same strategy rule (the
 * strategy's `fast` form over a RuleContext, the rule the exact engine runs through
 * `ruleContextOf`), without the ledger, without Decimal and without per-day objects. Its
 * figures are screened: a sweep ranks sets by them and re-runs the best on the exact engine
 * (sweep.ts), which reports the exact figures.
 *
 * What it reproduces, each from the exact engine's code:
 * - production from the scenario's noisy production plan, backflushed each day; a shortfall
 *   is bought at once at the last price x (1 + emergency premium), rounded to 6 places (a
 *   stockout day);
 * - monthly conversion cost with the seeded noise (strategy-independent: computed once per span
 *   with the exact Decimal rules, so the product's conversion per unit is the exact figure);
 * - the cost feed's figures at each decision: mean daily consumption over the horizon from the
 *   plan, sigma_d of backflushed consumption against the plan (the last forecastErrorDays whole
 *   days, demandCv x mean while shorter than minHistoryDays), sigma_L from the run's own
 *   order-to-receipt record (leadTimeCv x L under minReceipts receipts), sigma_LT, buffer
 *   stock z x sigma_LT, reorder point, on order (in transit + open orders), exposure,
 *   carrying cost per unit-day at the standard cost in force, the price cap from the target unit
 *   cost, the schedule's firings and days to the next;
 * - the signal: the same CrossoverStream over each series from its first bar, the crossing
 *   pending since the last decision, the fast average's history;
 * - the pipeline: 6-place quantities, rounding down to the lot step, minimum notional skips,
 *   child orders within maxOrderNotional (up to maxChildOrders), the per-order and daily notional
 *   limits, the price cap on discretionary buys; the simulated venue's next-bar fill (open, or
 *   close for close-only series) with slippage and fees rounded to the fee places; deliveries
 *   due max(fill day, order day + lead time);
 * - carrying cost on the stock on hand each day, and the effective unit costs and the product
 *   unit cost as backtest.ts computes them.
 *
 * Not modelled (`screenSupport` says so and the sweep runs exact): hedging strategies (the
 * hedge strip's contracts, marks, roll-offs and financing), a participation rate (partial fills
 * by volume), a trading state other than active, a strategy without a fast form.
 */
import { Decimal, ZERO, roundMoney } from '../core/decimal.js';
import { roundedAsToFixed } from '../core/decimal-number.js';
import { Random } from '../core/random.js';
import { DAY_MS, type EpochMs } from '../core/time.js';
import { Ledger } from '../ledger/index.js';
import { CostFeed } from '../costfeed/index.js';
import { inverseNormalCdf } from '../costfeed/normal.js';
import { closeKnownAt } from '../market/index.js';
import { CrossoverStream } from '../market/index.js';
import { FAST_HISTORY_BARS, priceCapsFrom, standardProductCosts } from './desk.js';
import type { Scenario } from './scenario.js';
import type { FastStrategy, RuleContext, RuleContract, StrategyDefinition, StrategyNeeds } from './strategy.js';

/** One material's screened totals. */
export interface ScreenMaterial {
  readonly id: string;
  readonly consumed: number;
  readonly purchased: number;
  readonly spend: number;
  readonly fees: number;
  readonly emergencyQty: number;
  readonly emergencySpend: number;
  readonly carrying: number;
  readonly closingQty: number;
  readonly effectiveUnitCost: number;
  readonly stockouts: number;
  readonly orders: number;
  readonly skips: number;
  readonly denials: number;
}

/** A screened run: the figures that decide a sweep, in plain numbers. */
export interface ScreenResult {
  readonly strategy: string;
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly days: number;
  readonly productUnitCost: number;
  readonly orders: number;
  readonly stockouts: number;
  readonly skips: number;
  readonly denials: number;
  readonly materials: readonly ScreenMaterial[];
}

/**
 * Why a strategy cannot be screened on this scenario (one sentence), or undefined when it can.
 * Its sweeps then run every set on the exact engine.
 */
export function screenSupport(scenario: Scenario, definition: StrategyDefinition<unknown>, params: unknown): string | undefined {
  if (definition.fast === undefined) return `strategy ${definition.name} has no fast form (StrategyDefinition.fast)`;
  const needs = definition.needs(params);
  if (needs.hedging === true) return `strategy ${definition.name} hedges; the screening engine does not model hedge contracts`;
  if (scenario.config.venue.participationRate !== undefined) return 'the scenario sets a participation rate (partial fills by volume), which the screening engine does not model';
  if (scenario.risk.tradingState !== 'active') return `the scenario's trading state is ${scenario.risk.tradingState}`;
  return undefined;
}

/** Per material, the figures of a span that do not depend on the strategy. */
interface SpanMaterial {
  readonly id: string;
  /** Last bar known on each day (index into the series). */
  readonly lastBar: Int32Array;
  /** Market price per material unit on each day (last close x factor). */
  readonly price: Float64Array;
  /** The day (index) an order placed on day k fills on (the next bar's day); -1 beyond the span. */
  readonly fillDay: Int32Array;
  /** That bar's fill price before slippage (open or close x factor). */
  readonly fillBase: Float64Array;
  /** Consumption each day (production x BOM x (1 + scrap)). */
  readonly need: Float64Array;
  readonly carryingPerUnitDay: Float64Array;
  readonly standardCost: Float64Array;
  readonly priceCap: Float64Array;
  /** Forecast consumption over the horizon and its daily mean. */
  readonly forecastQty: Float64Array;
  readonly dailyConsumption: Float64Array;
  /** sigma_d (from the history or demandCv x mean). */
  readonly sigmaDaily: Float64Array;
  readonly emergencyPrice: Float64Array;
  readonly openingQty: number;
  readonly leadTimeDays: number;
  readonly z: number;
  readonly leadTimeCv: number;
  readonly lotStep: number;
  readonly minNotional: number;
  /** BOM quantity x (1 + scrap) at the span's end (the product unit cost's weight); 0 when not in that BOM. */
  readonly weight: number;
}

interface Span {
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly days: number;
  readonly materials: readonly SpanMaterial[];
  /** Index of the span's first day in the scenario's range (the schedule's days are kept over that range). */
  readonly offset: number;
  readonly marginAtRisk: Uint8Array;
  /** UTC calendar year of each day. */
  readonly year: Uint16Array;
  readonly conversionPerUnit: number;
  readonly units: number;
}

/** The plant's versions in force on a day (identity of the dated records) and their figures as numbers. */
interface PlantVersion {
  readonly bom: unknown;
  readonly conversion: unknown;
  readonly costs: readonly unknown[];
  readonly standards: readonly number[];
  readonly carrying: readonly number[];
  readonly caps: readonly number[];
  readonly productStandard: number;
  readonly conversionCost: number;
  /** The BOM's lines: material index (-1 when not a scenario material), quantity x (1 + scrap), standard cost. */
  readonly lines: readonly { readonly index: number; readonly weight: Decimal; readonly standard: number }[];
  /** Quantity x (1 + scrap) per scenario material (0 when not in the BOM). */
  readonly weights: readonly number[];
}

/** A series' crossover signal, per bar. */
interface Signal {
  readonly fast: Float64Array;
  readonly slow: Float64Array;
  readonly state: Int8Array;
  /** Index of the last bar at or before i with a crossing, -1 when none. */
  readonly lastCross: Int32Array;
  /** 1 up, -1 down on a crossing bar. */
  readonly cross: Int8Array;
  /** The walk-forward track record after each bar (desk.ts onBar, SignalView.track): scored rising predictions, hits, sum of rises. */
  readonly trackTrials: Int32Array | undefined;
  readonly trackHits: Int32Array | undefined;
  readonly trackRiseSum: Float64Array | undefined;
}

const NO_CONTRACTS: readonly RuleContract[] = Object.freeze([]);

/** Empty arrays a context reads before its first run. */
const NO_NUMBERS = new Float64Array(0);
const NO_FLAGS = new Uint8Array(0);
const NO_YEARS = new Uint16Array(0);

/**
 * The RuleContext one material's rule reads; one object per material, refilled each day. What
 * every rule reads at every decision (the inventory position, the reorder point, the price, the
 * signal's state) is written each day; the rest is read on demand (getters over the span's
 * arrays at day `k`, the bar, and the figures written that day): a rule reads a few of them on a
 * few days (ma-procurement: the carrying cost and the price cap on a rising signal only), and
 * writing them all each day was about a fifth of the day loop. A getter computes its figure from
 * the same values in the same order as the eager field did, so every rule sees the same numbers.
 */
class Context implements RuleContext {
  at = 0;
  material = '';
  materialIndex = 0;
  price = Number.NaN;
  signalState = -1;
  crossing = 0;
  fast = Number.NaN;
  trackTrials = 0;
  trackHits = 0;
  trackMeanRise = 0;
  onHand = 0;
  onOrder = 0;
  hedged = 0;
  dailyConsumption = 0;
  bufferStock = 0;
  reorderPoint = 0;
  sigmaLeadTimeDemand = 0;
  leadTimeDays = 0;
  sigmaLeadTimeDays = 0;
  horizonDays = 0;
  carryingAnnualRate = 0;
  storagePerUnitDay = 0;
  orderFixedCost = 0;
  orderFeeRate = 0;
  emergencyPremium = 0;
  contracts: readonly RuleContract[] = NO_CONTRACTS;
  /** The signal and the bar index the averages' history is read from (-1: no signal). */
  signal: Signal | undefined;
  bar = -1;
  seriesAt: Float64Array = NO_NUMBERS;
  /** The series' closes (lastPrice), the day's index in the span, and the span's arrays the getters read. */
  closes: Float64Array = NO_NUMBERS;
  k = 0;
  standardCosts: Float64Array = NO_NUMBERS;
  carryingCosts: Float64Array = NO_NUMBERS;
  priceCaps: Float64Array = NO_NUMBERS;
  forecastQtys: Float64Array = NO_NUMBERS;
  years: Uint16Array = NO_YEARS;
  margins: Uint8Array = NO_FLAGS;
  /** The schedule's firings and days to the next over the scenario's range (none: never fires), and the span's offset in it. */
  fired: Uint8Array | undefined;
  daysToNext: Float64Array = NO_NUMBERS;
  offset = 0;
  get year(): number {
    return this.years[this.k]!;
  }
  get lastPrice(): number {
    return this.closes[this.bar]!;
  }
  get barAt(): number {
    return this.seriesAt[this.bar]!;
  }
  get slow(): number {
    return this.signal === undefined ? Number.NaN : this.signal.slow[this.bar]!;
  }
  get exposureQty(): number {
    const exposure = this.forecastQtys[this.k]! - this.onHand - this.onOrder;
    return exposure > 0 ? exposure : 0;
  }
  get standardUnitCost(): number {
    return this.standardCosts[this.k]!;
  }
  get carryingPerUnitDay(): number {
    return this.carryingCosts[this.k]!;
  }
  get priceCap(): number {
    return this.priceCaps[this.k]!;
  }
  get marginAtRisk(): boolean {
    return this.margins[this.k] === 1;
  }
  get scheduleFired(): boolean {
    return this.fired !== undefined && this.fired[this.offset + this.k] === 1;
  }
  get daysToNextSchedule(): number {
    return this.scheduleFired ? this.daysToNext[this.offset + this.k]! : Number.NaN;
  }
  fastAgo(bars: number): number {
    const signal = this.signal;
    if (signal === undefined || !Number.isInteger(bars) || bars < 1 || bars >= FAST_HISTORY_BARS || bars > this.bar) return Number.NaN;
    return signal.fast[this.bar - bars]!;
  }
  barAtAgo(bars: number): number {
    const signal = this.signal;
    if (signal === undefined || !Number.isInteger(bars) || bars < 1 || bars >= FAST_HISTORY_BARS || bars > this.bar) return Number.NaN;
    return Number.isNaN(signal.fast[this.bar - bars]!) ? Number.NaN : this.seriesAt[this.bar - bars]!;
  }
}

/** Half-even rounding to `places` (the exact engine's roundMoney), in plain numbers. */
function roundTo(value: number, places: number): number {
  const scale = 10 ** places;
  const scaled = value * scale;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  let r: number;
  if (Math.abs(diff - 0.5) < 1e-9) r = floor % 2 === 0 ? floor : floor + 1;
  else r = Math.round(scaled);
  return r / scale;
}

/** Rounds down to a whole number of `step` (tolerating the last bit of a float quotient). */
function floorToStepNumber(value: number, step: number): number {
  if (step === 0) return value;
  return Math.floor(value / step + 1e-9) * step;
}

/** The pipeline's splitQuantity in plain numbers: child quantities within maxNotional, or undefined. */
function splitNumber(qty: number, price: number, maxNotional: number, maxChildren: number, step: number, minNotional: number): number[] | undefined {
  if (maxChildren < 2 || !(price > 0)) return undefined;
  for (let n = Math.max(2, Math.ceil((qty * price) / maxNotional - 1e-12)); n <= maxChildren; n += 1) {
    const baseQty = step === 0 ? qty / n : floorToStepNumber(qty / n, step);
    if (baseQty === 0 || baseQty * price < minNotional) return undefined;
    const extraSteps = step === 0 ? 0 : Math.round((qty - baseQty * n) / step);
    const largest = extraSteps > 0 ? baseQty + step : baseQty;
    if (largest * price > maxNotional) continue;
    return Array.from({ length: n }, (_, i) => (i < extraSteps ? baseQty + step : baseQty));
  }
  return undefined;
}

/**
 * One scenario prepared for screening: spans and signals are computed once and kept, so the
 * sets of a sweep pay only for their own day loop (sets sharing fast/slow/ma share a signal).
 */
export class ScreenScenario {
  readonly scenario: Scenario;
  readonly #spans = new Map<string, Span>();
  readonly #signals = new Map<string, Signal[]>();
  readonly #policy: { z: number; demandCv: number; leadTimeCv: number; leadTimeDays: number }[];
  // Run state, reused across runs (no per-run allocation beyond the queues' growth).
  readonly #contexts: Context[];
  #version: PlantVersion | undefined;
  #schedule: { fired: Uint8Array; daysToNext: Float64Array } | undefined;

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    // The cost feed resolves each material's policy (scenario, plant file, defaults) exactly as the exact engine's does.
    const feed = new CostFeed({
      plant: scenario.plant,
      ledger: Ledger.inMemory(scenario.plant),
      plan: scenario.plan,
      prices: new Map(scenario.materials.map((m) => [m.id, { series: m.series, factor: m.factor }])),
      horizonDays: scenario.config.horizonDays,
      actualWindowDays: scenario.config.actualWindowDays,
      policy: Object.fromEntries(
        scenario.materials.map((m) => [m.id, { leadTimeDays: m.leadTimeDays, serviceLevel: m.serviceLevel, leadTimeCv: m.leadTimeCv, ...(m.demandCv === undefined ? {} : { demandCv: m.demandCv }) }]),
      ),
    });
    this.#policy = scenario.materials.map((m) => {
      const p = feed.policyOf(m.id);
      return { z: Number(inverseNormalCdf(p.serviceLevel.toNumber()).toFixed(6)), demandCv: p.demandCv.toNumber(), leadTimeCv: p.leadTimeCv.toNumber(), leadTimeDays: p.leadTimeDays.toNumber() };
    });
    // Read for its policies only: it must not count as a run to the exact runs over the same plan (CostFeed.finish).
    feed.finish();
    this.#contexts = scenario.materials.map((m, i) => {
      const c = new Context();
      c.material = m.id;
      c.materialIndex = i;
      c.seriesAt = m.series.at;
      return c;
    });
  }

  /** The crossover signal of every material for these windows (cached; the oldest dropped past 64). */
  signals(signal: NonNullable<StrategyNeeds['signal']>): Signal[] {
    const track = signal.track;
    const key = `${signal.fast}/${signal.slow}/${signal.ma}/${track === undefined ? '' : `${track.trendBars}/${track.horizonBars}`}`;
    let out = this.#signals.get(key);
    if (out !== undefined) return out;
    out = this.scenario.materials.map((m) => {
      const close = m.series.close;
      const n = close.length;
      const stream = new CrossoverStream({ fast: signal.fast, slow: signal.slow, ma: signal.ma });
      const fast = new Float64Array(n);
      const slow = new Float64Array(n);
      const state = new Int8Array(n);
      const lastCross = new Int32Array(n);
      const cross = new Int8Array(n);
      let last = -1;
      for (let i = 0; i < n; i += 1) {
        const u = stream.update(close[i]!);
        fast[i] = u.fast;
        slow[i] = u.slow;
        state[i] = u.state;
        if (u.crossing !== undefined) {
          cross[i] = u.crossing === 'up' ? 1 : -1;
          last = i;
        }
        lastCross[i] = last;
      }
      if (track === undefined) return { fast, slow, state, lastCross, cross, trackTrials: undefined, trackHits: undefined, trackRiseSum: undefined };
      // The desk's track record, bar by bar: score the prediction made horizonBars ago against this close, then record this bar's.
      const trackTrials = new Int32Array(n);
      const trackHits = new Int32Array(n);
      const trackRiseSum = new Float64Array(n);
      const up = new Uint8Array(track.horizonBars);
      const then = new Float64Array(track.horizonBars);
      let trials = 0;
      let hits = 0;
      let riseSum = 0;
      for (let i = 0; i < n; i += 1) {
        const bars = i + 1;
        const k = i % track.horizonBars;
        const c = close[i]!;
        if (bars > track.horizonBars && up[k] === 1) {
          const before = then[k]!;
          trials += 1;
          if (c > before) hits += 1;
          if (before > 0) riseSum += c / before - 1;
        }
        const back = track.trendBars;
        const valid = Number.isInteger(back) && back >= 1 && back < FAST_HISTORY_BARS && back < bars && !Number.isNaN(fast[i - back]!);
        up[k] = valid && Number.isFinite(fast[i]!) && fast[i]! > fast[i - back]! ? 1 : 0;
        then[k] = c;
        trackTrials[i] = trials;
        trackHits[i] = hits;
        trackRiseSum[i] = riseSum;
      }
      return { fast, slow, state, lastCross, cross, trackTrials, trackHits, trackRiseSum };
    });
    if (this.#signals.size >= 64) this.#signals.delete(this.#signals.keys().next().value!);
    this.#signals.set(key, out);
    return out;
  }

  /** The strategy-independent figures of the span [from, to] (cached). */
  span(from: EpochMs, to: EpochMs): Span {
    const key = `${from}/${to}`;
    let span = this.#spans.get(key);
    if (span === undefined) {
      span = this.#prepare(from, to);
      this.#spans.set(key, span);
    }
    return span;
  }

  /** The plant's figures in force on `day` as plain numbers, recomputed only when a dated version takes effect. */
  #versionAt(day: EpochMs): PlantVersion {
    const s = this.scenario;
    const plant = s.plant;
    const product = s.product;
    const bom = plant.bomAt(product, day);
    const conversion = plant.conversionCostAt(product, day);
    const costs = s.materials.map((m) => plant.standardCostAt(m.id, day));
    const cached = this.#version;
    if (cached !== undefined && cached.bom === bom && cached.conversion === conversion && cached.costs.every((c, i) => c === costs[i])) return cached;
    const caps = priceCapsFrom(plant, product, s.config.production.targetUnitCost, day);
    const lines = bom.lines.map((l) => ({ index: s.materials.findIndex((m) => m.id === l.material), weight: l.qty.times(l.scrap.plus(1)), standard: plant.standardCostAt(l.material, day).cost.toNumber() }));
    const version: PlantVersion = {
      bom,
      conversion,
      costs,
      standards: costs.map((c) => c.cost.toNumber()),
      carrying: s.materials.map((m, i) => costs[i]!.cost.times(plant.carrying.annualRate).dividedBy(365).plus(plant.carrying.storagePerUnitDay.get(m.id) ?? ZERO).toNumber()),
      caps: s.materials.map((m) => {
        const cap = caps.get(m.id);
        return cap === undefined ? Number.NaN : cap.toNumber();
      }),
      productStandard: standardProductCosts(plant, day).get(product)!.toNumber(),
      conversionCost: conversion.cost.toNumber(),
      lines,
      weights: s.materials.map((_, i) => {
        const line = lines.find((l) => l.index === i);
        return line === undefined ? 0 : line.weight.toNumber();
      }),
    };
    this.#version = version;
    return version;
  }

  /** The schedule's firings, per day of the scenario's range (computed once, for strategies that read the schedule). */
  #scheduleDays(): { fired: Uint8Array; daysToNext: Float64Array } {
    if (this.#schedule !== undefined) return this.#schedule;
    const s = this.scenario;
    const n = Math.round((s.to - s.from) / DAY_MS) + 1;
    const fired = new Uint8Array(n);
    const daysToNext = new Float64Array(n).fill(Number.NaN);
    let next = s.schedule.firstFiringIn(s.from - DAY_MS, s.to + 400 * DAY_MS);
    for (let k = 0, day = s.from; k < n; k += 1, day += DAY_MS) {
      // The first firing after the previous decision: it fired today when it is at or before today.
      if (next === undefined) next = s.schedule.firstFiringIn(day - DAY_MS, day + 400 * DAY_MS);
      if (next !== undefined && next <= day) {
        fired[k] = 1;
        next = s.schedule.firstFiringIn(day, day + 400 * DAY_MS);
        if (next !== undefined) daysToNext[k] = Math.max(1, Math.ceil((next - day) / DAY_MS));
      }
    }
    this.#schedule = { fired, daysToNext };
    return this.#schedule;
  }

  #prepare(from: EpochMs, to: EpochMs): Span {
    const s = this.scenario;
    const plant = s.plant;
    const product = s.product;
    const config = s.config;
    let n = 0;
    for (let day = from; day <= to; day += DAY_MS) n += 1;
    const M = s.materials.length;
    const h = config.horizonDays;
    const plan = s.plan;
    const first = plan.firstDay ?? from;
    const premium = config.emergency.premium.toNumber();
    const closeOnly = s.materials.every((m) => m.series.closeOnly);
    const marketFill = config.venue.marketFill ?? (closeOnly ? 'next-close' : 'next-open');

    // Planned consumption per plan day, per material (prefix sums).
    const planPrefix = s.materials.map(() => new Float64Array(plan.dayCount + 1));
    for (let j = 0; j < plan.dayCount; j += 1) {
      const day = first + j * DAY_MS;
      const units = plan.qtyOn(product, day);
      const positive = units.greaterThan(0);
      const weights = positive ? this.#versionAt(day).weights : undefined;
      const u = units.toNumber();
      for (let i = 0; i < M; i += 1) planPrefix[i]![j + 1] = planPrefix[i]![j]! + (weights === undefined ? 0 : u * weights[i]!);
    }
    const clamp = (i: number): number => (i < 0 ? 0 : i > plan.dayCount ? plan.dayCount : i);

    // Production, conversion (the exact rules, Decimal: strategy-independent), the plant's figures of each day.
    const needs = s.materials.map(() => new Float64Array(n));
    const caps = s.materials.map(() => new Float64Array(n));
    const standards = s.materials.map(() => new Float64Array(n));
    const carrying = s.materials.map(() => new Float64Array(n));
    const productStandard = new Float64Array(n);
    const conversionStandard = new Float64Array(n);
    const random = new Random(config.seed + 7919);
    let monthUnits = ZERO;
    let units = ZERO;
    let conversion = ZERO;
    let firstProduction = -1;
    for (let k = 0, day = from; k < n; k += 1, day += DAY_MS) {
      if (new Date(day).getUTCDate() === 1) {
        const standard = plant.conversionCostAt(product, day - DAY_MS).cost;
        const noise = Math.max(-0.5, config.conversion.noise * random.normal());
        const amount = roundMoney(monthUnits.times(standard).times(new Decimal(noise.toFixed(6)).plus(1)), plant.moneyPlaces);
        conversion = conversion.plus(amount);
        monthUnits = ZERO;
      }
      const version = this.#versionAt(day);
      productStandard[k] = version.productStandard;
      conversionStandard[k] = version.conversionCost;
      for (let i = 0; i < M; i += 1) {
        standards[i]![k] = version.standards[i]!;
        carrying[i]![k] = version.carrying[i]!;
        caps[i]![k] = version.caps[i]!;
      }
      const made = s.production.qtyOn(product, day);
      if (!made.greaterThan(0)) continue;
      if (firstProduction < 0) firstProduction = k;
      const u = made.toNumber();
      for (let i = 0; i < M; i += 1) needs[i]![k] = u * version.weights[i]!;
      monthUnits = monthUnits.plus(made);
      units = units.plus(made);
    }
    const toWeights = this.#versionAt(to).weights;

    const materials: SpanMaterial[] = s.materials.map((m, i) => {
      const series = m.series;
      const factor = m.factorNumber;
      const lastBar = new Int32Array(n);
      const price = new Float64Array(n);
      let next = 0;
      let priced = -1;
      let value = Number.NaN;
      for (let k = 0, day = from; k < n; k += 1, day += DAY_MS) {
        while (next < series.length && closeKnownAt(series, next) <= day) next += 1;
        lastBar[k] = next - 1;
        if (next - 1 !== priced) {
          priced = next - 1;
          value = new Decimal(String(series.close[priced]!)).times(m.factor).toNumber();
        }
        price[k] = value;
      }
      const fillDay = new Int32Array(n).fill(-1);
      const fillBase = new Float64Array(n);
      let j = 0;
      for (let k = 0; k < n; k += 1) {
        if (j <= k) j = k + 1;
        while (j < n && lastBar[j]! <= lastBar[k]!) j += 1;
        if (j < n) {
          fillDay[k] = j;
          const b = lastBar[k]! + 1;
          fillBase[k] = (marketFill === 'next-open' ? series.open[b]! : series.close[b]!) * factor;
        }
      }
      // Forecast over the horizon, and sigma_d from the consumption history against the plan.
      const forecastQty = new Float64Array(n);
      const dailyConsumption = new Float64Array(n);
      const sigmaDaily = new Float64Array(n);
      const policy = this.#policy[i]!;
      const need = needs[i]!;
      const prefix = planPrefix[i]!;
      // Forecast errors of the span's days (actual consumption - plan), and running sums of them and their squares.
      const errorSum = new Float64Array(n + 1);
      const errorSquares = new Float64Array(n + 1);
      for (let d = 0, day = from; d < n; d += 1, day += DAY_MS) {
        const jd = (day - first) / DAY_MS;
        const planned = jd < 0 || jd >= plan.dayCount ? 0 : prefix[jd + 1]! - prefix[jd]!;
        const e = need[d]! - planned;
        errorSum[d + 1] = errorSum[d]! + e;
        errorSquares[d + 1] = errorSquares[d]! + e * e;
      }
      for (let k = 0, day = from; k < n; k += 1, day += DAY_MS) {
        const i0 = clamp((day - first) / DAY_MS);
        const i1 = clamp((day - first) / DAY_MS + h);
        const f = prefix[i1]! - prefix[i0]!;
        forecastQty[k] = f;
        const mean = f / h;
        dailyConsumption[k] = mean;
        // History: whole days [max(first backflush, today - 90), today), once at least 30 days long.
        const start = firstProduction < 0 || firstProduction > k ? k : Math.max(firstProduction, k - 90);
        const buckets = k - start;
        if (buckets < 30) {
          sigmaDaily[k] = policy.demandCv * mean;
          continue;
        }
        const meanError = (errorSum[k]! - errorSum[start]!) / buckets;
        const variance = (errorSquares[k]! - errorSquares[start]!) / buckets - meanError * meanError;
        sigmaDaily[k] = variance > 0 ? Math.sqrt(variance) : 0;
      }
      const emergencyPrice = new Float64Array(n);
      for (let k = 0; k < n; k += 1) emergencyPrice[k] = roundTo(price[k]! * (1 + premium), 6);
      return {
        id: m.id,
        lastBar,
        price,
        fillDay,
        fillBase,
        need,
        carryingPerUnitDay: carrying[i]!,
        standardCost: standards[i]!,
        priceCap: caps[i]!,
        forecastQty,
        dailyConsumption,
        sigmaDaily,
        emergencyPrice,
        openingQty: m.openingQty.toNumber(),
        leadTimeDays: m.leadTimeDays,
        z: policy.z,
        leadTimeCv: policy.leadTimeCv,
        lotStep: m.rules.lotStep.toNumber(),
        minNotional: m.rules.minNotional.toNumber(),
        weight: toWeights[i]!,
      };
    });

    // Replacement cost of the product at market above its standard cost.
    const marginAtRisk = new Uint8Array(n);
    for (let k = 0, day = from; k < n; k += 1, day += DAY_MS) {
      const version = this.#versionAt(day);
      let replacement = conversionStandard[k]!;
      for (const line of version.lines) replacement += line.weight.toNumber() * (line.index >= 0 ? materials[line.index]!.price[k]! : line.standard);
      marginAtRisk[k] = replacement > productStandard[k]! ? 1 : 0;
    }
    const year = new Uint16Array(n);
    for (let k = 0, day = from; k < n; k += 1, day += DAY_MS) year[k] = new Date(day).getUTCFullYear();
    const conversionPerUnit = units.isZero() ? 0 : conversion.dividedBy(units).toNumber();
    return { from, to, offset: Math.round((from - s.from) / DAY_MS), days: n, materials, marginAtRisk, year, conversionPerUnit, units: units.toNumber() };
  }

  /** Runs one strategy over [from, to] (default: the scenario's range). */
  run(definition: StrategyDefinition<unknown>, params: unknown, range: { from?: EpochMs; to?: EpochMs } = {}): ScreenResult {
    const why = screenSupport(this.scenario, definition, params);
    if (why !== undefined) throw new Error(`internal: cannot screen: ${why}`);
    const rule: FastStrategy = definition.fast!(params);
    const needs = definition.needs(params);
    const s = this.scenario;
    const config = s.config;
    const span = this.span(range.from ?? s.from, range.to ?? s.to);
    const n = span.days;
    const signals = needs.signal === undefined ? undefined : this.signals(needs.signal);
    const schedule = needs.schedule === true ? this.#scheduleDays() : undefined;
    const limits = s.risk;
    const maxOrder = limits.maxOrderNotional.toNumber();
    const maxDaily = limits.maxDailyNotional.toNumber();
    const maxChildren = limits.maxChildOrders;
    const feeRate = config.venue.feeBps.toNumber() / 10_000;
    const feeFixed = config.venue.feeFixed.toNumber();
    const slip = config.venue.slippageBps.toNumber() / 10_000;
    const feePlaces = s.plant.moneyPlaces;
    const h = config.horizonDays;
    const plant = s.plant;
    const M = span.materials.length;

    // Per material run state.
    const onHand = new Float64Array(M);
    const inTransit = new Float64Array(M);
    const openQty = new Float64Array(M);
    const spend = new Float64Array(M);
    const fees = new Float64Array(M);
    const purchased = new Float64Array(M);
    const emergencyQty = new Float64Array(M);
    const emergencySpend = new Float64Array(M);
    const carrying = new Float64Array(M);
    const consumed = new Float64Array(M);
    const stockouts = new Int32Array(M);
    const orders = new Int32Array(M);
    const skips = new Int32Array(M);
    const denials = new Int32Array(M);
    const receipts = new Float64Array(M);
    const receiptSum = new Float64Array(M);
    const receiptSquares = new Float64Array(M);
    // Open orders (day placed, qty) and deliveries (due day, qty, day ordered), FIFO per material.
    const open = span.materials.map(() => ({ day: [] as number[], qty: [] as number[], head: 0 }));
    const transit = span.materials.map(() => ({ due: [] as number[], qty: [] as number[], ordered: [] as number[], head: 0 }));

    const contexts = this.#contexts;
    for (let i = 0; i < M; i += 1) {
      const c = contexts[i]!;
      const m = span.materials[i]!;
      c.signal = signals?.[i];
      c.signalState = -1;
      c.crossing = 0;
      c.fast = Number.NaN;
      c.closes = this.scenario.materials[i]!.series.close;
      c.standardCosts = m.standardCost;
      c.carryingCosts = m.carryingPerUnitDay;
      c.priceCaps = m.priceCap;
      c.forecastQtys = m.forecastQty;
      c.years = span.year;
      c.margins = span.marginAtRisk;
      c.fired = schedule?.fired;
      c.daysToNext = schedule === undefined ? NO_NUMBERS : schedule.daysToNext;
      c.offset = span.offset;
      c.trackTrials = 0;
      c.trackHits = 0;
      c.trackMeanRise = 0;
      c.horizonDays = h;
      c.leadTimeDays = m.leadTimeDays;
      c.carryingAnnualRate = plant.carrying.annualRate.toNumber();
      c.storagePerUnitDay = (plant.carrying.storagePerUnitDay.get(m.id) ?? ZERO).toNumber();
      c.orderFixedCost = feeFixed;
      c.orderFeeRate = feeRate + slip;
      c.emergencyPremium = config.emergency.premium.toNumber();
      c.hedged = 0;
      c.contracts = NO_CONTRACTS;
      onHand[i] = m.openingQty > 0 ? m.openingQty : 0;
    }
    const rootLead = span.materials.map((m) => Math.sqrt(m.leadTimeDays));

    const previousBar = span.materials.map(() => -2);
    for (let k = 0, day = span.from; k < n; k += 1, day += DAY_MS) {
      let dayNotional = 0;
      for (let i = 0; i < M; i += 1) {
        const m = span.materials[i]!;
        // 1. Fills of the open orders on the first bar after them (the pipeline's sync).
        const o = open[i]!;
        const t = transit[i]!;
        while (o.head < o.day.length) {
          const placed = o.day[o.head]!;
          if (m.fillDay[placed] !== k) break;
          const qty = o.qty[o.head]!;
          o.head += 1;
          const price = m.fillBase[placed]! * (1 + slip);
          const fee = roundTo(qty * price * feeRate + feeFixed, feePlaces);
          purchased[i]! += qty;
          spend[i]! += qty * price;
          fees[i]! += fee;
          openQty[i]! -= qty;
          const due = Math.max(k, placed + m.leadTimeDays);
          t.due.push(due);
          t.qty.push(qty);
          t.ordered.push(placed);
          inTransit[i]! += qty;
        }
        // 2. Deliveries due, then production with emergency buys for a shortfall.
        while (t.head < t.due.length && t.due[t.head]! <= k) {
          const qty = t.qty[t.head]!;
          const days = k - t.ordered[t.head]!;
          t.head += 1;
          onHand[i]! += qty;
          inTransit[i]! -= qty;
          receipts[i]! += 1;
          receiptSum[i]! += days;
          receiptSquares[i]! += days * days;
        }
        if (t.head > 64 && t.head === t.due.length) {
          t.due.length = 0;
          t.qty.length = 0;
          t.ordered.length = 0;
          t.head = 0;
        }
        const need = m.need[k]!;
        if (need > 0) {
          if (need > onHand[i]! * (1 + 1e-12) + 1e-9) {
            const shortfall = need - onHand[i]!;
            stockouts[i]! += 1;
            emergencyQty[i]! += shortfall;
            emergencySpend[i]! += shortfall * m.emergencyPrice[k]!;
            onHand[i] = 0;
          } else onHand[i]! -= need;
          consumed[i]! += need;
        }
      }
      // 3. Carrying cost and the decision point, material by material.
      for (let i = 0; i < M; i += 1) {
        const m = span.materials[i]!;
        carrying[i]! += onHand[i]! * m.carryingPerUnitDay[k]!;
        const c = contexts[i]!;
        const bar = m.lastBar[k]!;
        const signal = c.signal;
        const price = m.price[k]!;
        c.at = day;
        c.k = k;
        c.price = price;
        c.bar = bar;
        if (signal !== undefined) {
          c.signalState = signal.state[bar]!;
          c.fast = signal.fast[bar]!;
          const last = signal.lastCross[bar]!;
          c.crossing = last >= 0 && last > previousBar[i]! ? signal.cross[last]! : 0;
          if (signal.trackTrials !== undefined) {
            const trials = signal.trackTrials[bar]!;
            c.trackTrials = trials;
            c.trackHits = signal.trackHits![bar]!;
            c.trackMeanRise = trials === 0 ? 0 : signal.trackRiseSum![bar]! / trials;
          }
        }
        previousBar[i] = bar;
        const mean = m.dailyConsumption[k]!;
        const onOrder = inTransit[i]! + openQty[i]!;
        let sigmaL = m.leadTimeCv * m.leadTimeDays;
        const count = receipts[i]!;
        if (count >= 5) {
          const meanDays = receiptSum[i]! / count;
          const variance = receiptSquares[i]! / count - meanDays * meanDays;
          sigmaL = variance > 1e-12 ? Math.sqrt(variance) : 0;
        }
        const sigmaD = m.sigmaDaily[k]!;
        const sigmaLT = sigmaL === 0 ? sigmaD * rootLead[i]! : Math.sqrt(m.leadTimeDays * sigmaD * sigmaD + mean * mean * sigmaL * sigmaL);
        const buffer = m.z * sigmaLT;
        c.onHand = onHand[i]!;
        c.onOrder = onOrder;
        c.dailyConsumption = mean;
        c.bufferStock = buffer;
        c.reorderPoint = mean * m.leadTimeDays + buffer;
        c.sigmaLeadTimeDemand = sigmaLT;
        c.sigmaLeadTimeDays = sigmaL;
        const decision = rule.decide(c);
        const buys = decision.buys;
        for (let b = 0; b < buys.length; b += 1) {
          const buy = buys[b]!;
          const wanted = roundedAsToFixed(buy.qty, 6);
          if (!(wanted > 0)) continue;
          const qty = floorToStepNumber(wanted, m.lotStep);
          if (qty <= 0 || qty * price < m.minNotional) {
            skips[i]! += 1;
            continue;
          }
          const capped = buy.discretionary && !Number.isNaN(m.priceCap[k]!) && price > m.priceCap[k]!;
          const children = qty * price > maxOrder ? splitNumber(qty, price, maxOrder, maxChildren, m.lotStep, m.minNotional) : undefined;
          const list = children ?? [qty];
          for (let j = 0; j < list.length; j += 1) {
            const childQty = list[j]!;
            const notional = childQty * price;
            if (notional > maxOrder || dayNotional + notional > maxDaily || capped) {
              denials[i]! += 1;
              break;
            }
            dayNotional += notional;
            orders[i]! += 1;
            openQty[i]! += childQty;
            const o = open[i]!;
            if (o.head > 64 && o.head === o.day.length) {
              o.day.length = 0;
              o.qty.length = 0;
              o.head = 0;
            }
            o.day.push(k);
            o.qty.push(childQty);
          }
        }
      }
    }

    const materials: ScreenMaterial[] = [];
    let productUnitCost = span.conversionPerUnit;
    let totalOrders = 0;
    let totalStockouts = 0;
    let totalSkips = 0;
    let totalDenials = 0;
    for (let i = 0; i < M; i += 1) {
      const m = span.materials[i]!;
      const openingPrice = m.price[0]!;
      const closingPrice = m.price[n - 1]!;
      const closingQty = onHand[i]! + inTransit[i]!;
      const opening = m.openingQty > 0 ? m.openingQty : 0;
      const cost = spend[i]! + fees[i]! + emergencySpend[i]! + carrying[i]! + opening * openingPrice - closingQty * closingPrice;
      const effective = consumed[i] === 0 ? 0 : cost / consumed[i]!;
      productUnitCost += effective * m.weight;
      totalOrders += orders[i]!;
      totalStockouts += stockouts[i]!;
      totalSkips += skips[i]!;
      totalDenials += denials[i]!;
      materials.push({
        id: m.id,
        consumed: consumed[i]!,
        purchased: purchased[i]!,
        spend: spend[i]!,
        fees: fees[i]!,
        emergencyQty: emergencyQty[i]!,
        emergencySpend: emergencySpend[i]!,
        carrying: carrying[i]!,
        closingQty,
        effectiveUnitCost: effective,
        stockouts: stockouts[i]!,
        orders: orders[i]!,
        skips: skips[i]!,
        denials: denials[i]!,
      });
    }
    return { strategy: definition.name, from: span.from, to: span.to, days: n, productUnitCost, orders: totalOrders, stockouts: totalStockouts, skips: totalSkips, denials: totalDenials, materials };
  }
}
