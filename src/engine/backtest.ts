/**
 * The backtest runner: a simulated clock that steps one day at a time (00:00 UTC) over the
 * scenario's range. Each day it feeds the simulated venue and the desk every bar whose close
 * is known by then (market's `closeKnownAt`: a daily bar dated D is known on D+1, a monthly
 * bar on the 1st of the next month), then runs one desk step: fills, month-end closes,
 * deliveries, production with emergency purchases for shortfalls, carrying cost and the
 * decision point (see desk.ts). The live runner drives the same desk with the ccxt venue; only
 * the clock, the data source and the venue differ.
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { Random } from '../core/random.js';
import { DAY_MS, type EpochMs } from '../core/time.js';
import { Ledger } from '../ledger/index.js';
import { closeKnownAt, type PriceSeries } from '../market/index.js';
import { CostFeed, type CostSnapshot } from '../costfeed/index.js';
import { MemoryOrderStore, type Decision } from '../pipeline/index.js';
import { SimVenue, type SimBar } from '../venues/sim/sim-venue.js';
import { CARRYING, CONSUMED, CostRecorder, DailyRecorder, EMERGENCY, FEES, FIGURES, FINANCING, HEDGE_PNL, memoColumns, NumberMemo, readFigures, recordCosts, recordDay, SPEND, STANDARD, type CostRecord, type DailyRecord } from './daily-record.js';
import { Desk, type StepResult, type Stockout, type Trade } from './desk.js';
import { HedgeStrip } from './hedge-strip.js';
import type { Scenario } from './scenario.js';
import type { StrategyDefinition } from './strategy.js';

export type { Stockout, Trade } from './desk.js';
export type { CostRecord, CostSeries, DailyRecord, MaterialSeries } from './daily-record.js';

/**
 * Which daily series a run records: none (false), every column (true: a report's strategy, an
 * export), or only the cost columns a report compares between runs ('costs': a baseline of a
 * report alone; `RunResult.costRecord`).
 */
export type RecordMode = boolean | 'costs';

/** How to run: the range, the strategy, and whether to record daily series (for a report or an export; off in sweeps). */
export interface RunOptions {
  readonly record?: RecordMode;
  /** Keep `RunResult.daily` (the running totals the statistics need; default true). Sweeps, which read only the totals, turn it off. */
  readonly dailyCosts?: boolean;
  /** Override the scenario's range (sweeps use it for in-sample and out-of-sample). */
  readonly from?: EpochMs;
  readonly to?: EpochMs;
  /** Run another strategy on the same scenario (the baselines). */
  readonly strategy?: { readonly definition: StrategyDefinition<unknown>; readonly params: unknown };
  /**
   * How many of the latest decisions `RunResult.decisions` keeps (default 20; `Infinity` for
   * every one). No output reads them (the report, `--json` and `--export` read the trades, the
   * denials and the daily record): a run that kept 5,000, and every finished order with them,
   * had the scavenger copy about 30 MB more per main job (docs/benchmarks.md, round 11).
   */
  readonly decisions?: number;
  /**
   * Ends the run at its next await once aborted, rejecting with the signal's reason:
   * backtestWithBaselines runs a scenario's runs side by side and stops the others when one fails.
   */
  readonly signal?: AbortSignal;
}

export interface MaterialTotals {
  readonly id: string;
  readonly unit: string;
  readonly consumedQty: Decimal;
  readonly purchasedQty: Decimal;
  /** qty x price of every fill (procurement only), fees excluded. */
  readonly spend: Decimal;
  readonly fees: Decimal;
  readonly emergencyQty: Decimal;
  /** What the emergency purchases cost (premium included). */
  readonly emergencySpend: Decimal;
  readonly carryingCost: Decimal;
  /** Realised + marked-to-market hedge result, after hedge fees (positive = gain). */
  readonly hedgePnl: Decimal;
  /** Financing charged on the hedge's negative mark (a cost). */
  readonly hedgeFinancing: Decimal;
  readonly openingQty: Decimal;
  readonly openingPrice: Decimal;
  readonly closingQty: Decimal;
  readonly closingPrice: Decimal;
  /** (spend + fees + emergency + carrying + hedge financing - hedge P&L + opening value - closing value) / consumed. */
  readonly effectiveUnitCost: Decimal;
  /** Mean of the daily market price over the run, per material unit. */
  readonly averagePrice: Decimal;
  readonly standardCost: Decimal;
  readonly peakInventory: Decimal;
  readonly averageInventory: Decimal;
  readonly stockouts: number;
  /** Effective cost of what was consumed minus its value at the standard cost in force each day. */
  readonly varianceVsStandard: Decimal;
  /**
   * Dollar offset: (hedge P&L - hedge financing) / (cost before hedging - consumption at standard).
   * 1 means the hedge offset the whole departure from standard; null when nothing was hedged or nothing departed.
   */
  readonly hedgeEffectiveness: Decimal | null;
}

/** One material's running totals at the end of each day, as plain numbers (for the statistics; exact totals are in MaterialTotals). */
export interface MaterialDaily {
  readonly id: string;
  /** Cumulative purchases + fees + emergency purchases + carrying cost. */
  readonly paid: Float64Array;
  /** Cumulative financing of the hedge's negative mark. */
  readonly financing: Float64Array;
  /** Hedge P&L so far (realised + marked, after hedge fees). */
  readonly hedge: Float64Array;
  /** Realised hedge result so far, after fees (a contract's result counts when it rolls off or is reduced). */
  readonly hedgeRealized: Float64Array;
  /** Stock held: on hand + in transit (bought, paid, not yet delivered). */
  readonly held: Float64Array;
  /** Market price per material unit. */
  readonly price: Float64Array;
  /** Cumulative quantity consumed. */
  readonly consumed: Float64Array;
  /** Cumulative consumption valued at the standard cost in force each day. */
  readonly standard: Float64Array;
}

/**
 * The run's running totals at the end of each simulated day, index 0 being the opening (after
 * the opening stock, before the first day). The cost of a span (a, b] telescopes:
 * paid + financing - hedge over the span, plus the stock held at a minus the stock held at b,
 * both valued at the market price of their day; summed over the days it is the run's total.
 */
export interface DailyCosts {
  readonly t: Float64Array;
  /** Cumulative units of product made. */
  readonly units: Float64Array;
  /** Cumulative actual conversion cost incurred (posted monthly). */
  readonly conversion: Float64Array;
  readonly materials: readonly MaterialDaily[];
}

/** Share of days above which stockouts or skipped orders end the run with a warning. */
export const WARNING_SHARE = 0.02;

/** A run whose stockouts or skipped orders passed WARNING_SHARE of its days, with the likely cause. */
export interface RunWarning {
  readonly kind: 'stockouts' | 'skipped-orders' | 'skipped-hedge-orders';
  readonly material: string;
  /** Days with a stockout, procurement orders skipped, or hedge orders skipped. */
  readonly count: number;
  readonly days: number;
  readonly share: number;
  readonly cause: string;
  /** One sentence for the terminal and the report. */
  readonly message: string;
}

export interface RunResult {
  readonly strategy: string;
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly days: number;
  readonly materials: readonly MaterialTotals[];
  /** Effective cost of one unit of product: BOM x effective material costs + actual conversion per unit. */
  readonly productUnitCost: Decimal;
  /** The same with the closing stock valued at the period-average price instead of the last price. */
  readonly productUnitCostAtAveragePrice: Decimal;
  readonly productStandardCost: Decimal;
  readonly unitsProduced: Decimal;
  readonly totalSpend: Decimal;
  readonly totalFees: Decimal;
  readonly totalCarrying: Decimal;
  readonly hedgePnl: Decimal;
  readonly hedgeFinancing: Decimal;
  readonly counters: { readonly orders: number; readonly fills: number; readonly denials: number; readonly skips: number; readonly rejections: number };
  readonly stockouts: readonly Stockout[];
  readonly trades: readonly Trade[];
  /** The latest decisions (the pipeline's journal). */
  readonly decisions: readonly Decision[];
  /** Every risk denial, as recorded values. */
  readonly denials: readonly Decision[];
  readonly ledgerEntries: number;
  readonly ledgerBalances: ReadonlyMap<string, Decimal>;
  /** Every daily column, when the run was recorded with `record: true`. */
  readonly record: DailyRecord | undefined;
  /** The cost columns alone, when the run was recorded with `record: 'costs'` (a full `record` holds them too). */
  readonly costRecord: CostRecord | undefined;
  /** Daily running totals; a single zero row when the run was asked for no daily costs (`dailyCosts: false`). */
  readonly daily: DailyCosts;
  /** Stockouts or skipped orders above 2 % of the days, with their likely cause (empty when none). */
  readonly warnings: readonly RunWarning[];
}


interface Feed {
  readonly id: string;
  readonly series: PriceSeries;
  readonly factor: number;
  /** The venue instrument these bars go to. */
  readonly instrument: string;
  readonly hedgeOf: string | undefined;
  /** Strip hedges: the index bars go to the strip, and each tradeable contract gets a bar at its price (when `quotes`). */
  readonly strip: HedgeStrip | undefined;
  /**
   * Whether the strip's contracts get their bars: only when the strategy hedges (StrategyNeeds.
   * hedging; the desk refuses a hedge intent from one that does not say so). Pricing a dozen
   * contracts a day and giving each a bar was about 5 % of a run that never hedges.
   */
  readonly quotes: boolean;
  next: number;
}

const bar: { at: number; open: number; high: number; low: number; close: number; volume: number | undefined } = { at: 0, open: 0, high: 0, low: 0, close: 0, volume: undefined };

/** Decisions a run's result keeps unless RunOptions.decisions says otherwise. */
export const DEFAULT_KEPT_DECISIONS = 20;

/** Runs one strategy over the scenario. Deterministic for a given scenario, seed and options. */
export async function runBacktest(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const from = options.from ?? scenario.from;
  const to = options.to ?? scenario.to;
  const definition = options.strategy?.definition ?? scenario.strategy.definition;
  const params = options.strategy === undefined ? scenario.strategy.params : options.strategy.params;
  const needs = definition.needs(params);
  const plant = scenario.plant;
  const config = scenario.config;

  // Venue: one market per material (prices per material unit) and per hedge instrument.
  const instruments: Record<string, { lotStep: Decimal; tickSize: Decimal; minNotional: Decimal }> = {};
  const feeds: Feed[] = [];
  const strips = new Map<string, HedgeStrip>();
  const hedgeInstruments: Record<string, { material: string; factor: Decimal }> = {};
  for (const m of scenario.materials) {
    instruments[m.id] = m.rules;
    feeds.push({ id: m.id, series: m.series, factor: m.factorNumber, instrument: m.id, hedgeOf: undefined, strip: undefined, quotes: false, next: 0 });
    if (m.hedge !== undefined) {
      // A literal, not a spread: one hidden class for every run's setup (a spread's map changed
      // from run to run, and every strip method read through it deoptimized once per run).
      const s = m.hedge.strip;
      const strip = new HedgeStrip({ family: s.family, kind: s.kind, index: m.hedge.series, curve: s.curve, expiry: s.expiry, rollDaysBeforeExpiry: s.rollDaysBeforeExpiry, months: s.months, carry: s.carry, marginRate: s.marginRate });
      strips.set(m.id, strip);
      for (const contract of strip.instrumentsBetween(from, to)) {
        instruments[contract.instrument] = m.hedge.rules;
        hedgeInstruments[contract.instrument] = { material: m.id, factor: new Decimal(1) };
      }
      feeds.push({ id: m.hedge.instrument, series: m.hedge.series, factor: m.hedge.factorNumber, instrument: m.hedge.instrument, hedgeOf: m.id, strip, quotes: needs.hedging === true, next: 0 });
    }
  }
  const closeOnly = scenario.materials.every((m) => m.series.closeOnly);
  const venue = new SimVenue({
    instruments,
    marketFill: config.venue.marketFill ?? (closeOnly ? 'next-close' : 'next-open'),
    feeBps: config.venue.feeBps,
    feeFixed: config.venue.feeFixed,
    slippageBps: config.venue.slippageBps,
    ...(config.venue.participationRate === undefined ? {} : { participationRate: config.venue.participationRate }),
    feePlaces: plant.moneyPlaces,
  });

  const ledger = Ledger.inMemory(plant);
  let desk: Desk | undefined;
  const costFeed = new CostFeed({
    plant,
    ledger,
    plan: scenario.plan,
    prices: new Map(scenario.materials.map((m) => [m.id, { series: m.series, factor: m.factor }])),
    horizonDays: config.horizonDays,
    actualWindowDays: config.actualWindowDays,
    policy: Object.fromEntries(
      scenario.materials.map((m) => [m.id, { leadTimeDays: m.leadTimeDays, serviceLevel: m.serviceLevel, leadTimeCv: m.leadTimeCv, ...(m.demandCv === undefined ? {} : { demandCv: m.demandCv }) }]),
    ),
    onOrder: (material) => desk!.onOrder(material),
    leadTimes: (material) => desk!.leadTimes(material),
    hedgeInstruments,
  });
  desk = new Desk({
    runId: `bt-${scenario.hash.slice(0, 8)}-${definition.name}`,
    venue,
    limits: scenario.risk,
    ledger,
    plant,
    product: scenario.product,
    materials: scenario.materials.map((m) => ({
      id: m.id,
      unit: m.unit,
      factor: m.factor,
      leadTimeDays: m.leadTimeDays,
      openingQty: m.openingQty,
      hedge: m.hedge === undefined ? undefined : { instrument: m.hedge.instrument, factor: m.hedge.factor, strip: strips.get(m.id) },
    })),
    strategy: definition.create(params),
    needs,
    snapshot: (at) => costFeed.snapshot(at),
    schedule: scenario.schedule,
    plan: scenario.production,
    emergencyPremium: config.emergency.premium,
    conversion: { noise: config.conversion.noise, closeLagDays: config.conversion.closeLagDays, random: new Random(config.seed + 7919) },
    targetUnitCost: config.production.targetUnitCost,
    orderCosts: { fixed: config.venue.feeFixed, feeRate: config.venue.feeBps.dividedBy(10_000), slippageRate: config.venue.slippageBps.dividedBy(10_000) },
    // A backtest's client order ids never repeat and its risk check asks only for the latest
    // day's total, so the store can let finished orders go (MemoryOrderStoreOptions).
    orderStore: new MemoryOrderStore({ forgetFinished: true }),
    journalLimit: options.decisions ?? DEFAULT_KEPT_DECISIONS,
  });

  // Bars known before the start warm the averages up; the venue sees them too (nothing is open).
  feedBars(feeds, venue, desk, from);
  desk.receiveOpening(from);
  const keepDaily = options.dailyCosts !== false;
  // The loop's days: from, from + 1 day, ... up to to (the recorder grows if there are more).
  const recordDays = to >= from ? Math.floor((to - from) / DAY_MS) + 1 : 0;
  const recorder = options.record === true ? new DailyRecorder(scenario, recordDays) : undefined;
  const costRecorder = options.record === 'costs' ? new CostRecorder(scenario, recordDays) : undefined;
  const daily = newDaily(scenario, keepDaily ? Math.round((to - from) / DAY_MS) + 2 : 1);
  const memo = new NumberMemo(memoColumns(scenario.materials.length));
  const recordMemo = new NumberMemo(memoColumns(scenario.materials.length));
  const figures = new Float64Array(FIGURES * scenario.materials.length);
  if (keepDaily) {
    readDayFigures(figures, memo, scenario, desk);
    recordDaily(daily, memo, 0, scenario, desk, from - DAY_MS, figures);
  }
  const run = new DayRun(scenario, feeds, venue, desk, recorder, costRecorder, recordMemo, keepDaily ? daily : undefined, memo, figures);
  let days: number;
  try {
    days = await runDays(run, from, to, options.signal);
  } finally {
    // The run's feed is done: runs over the same plan after this one keep their shared figures (CostFeed.finish).
    costFeed.finish();
  }
  desk.markHedges(to);
  const record: DailyRecord | undefined = recorder?.finish();
  const costRecord: CostRecord | undefined = costRecorder?.finish();

  for (const m of scenario.materials) {
    const book = ledger.quantities().materials.get(m.id) ?? ZERO;
    if (!book.equals(desk.onHand(m.id))) throw new Error(`internal: ${m.id} on hand ${desk.onHand(m.id).toFixed()} differs from the ledger's ${book.toFixed()}`);
  }

  const materials = scenario.materials.map((m) => totals(scenario, desk, m.id, m.openingQty, to));
  const units = desk.unitsProduced;
  const conversionPerUnit = units.isZero() ? ZERO : desk.conversionIncurred.dividedBy(units);
  let productUnitCost = conversionPerUnit;
  for (const line of plant.bomAt(scenario.product, to).lines) {
    const m = materials.find((x) => x.id === line.material)!;
    productUnitCost = productUnitCost.plus(m.effectiveUnitCost.times(line.qty).times(line.scrap.plus(1)));
  }
  // Closing stock at the period-average price instead of the last: one end date must not decide the verdict.
  let endEffect = ZERO;
  for (const m of materials) endEffect = endEffect.plus(m.closingQty.times(m.closingPrice.minus(m.averagePrice)));
  const productUnitCostAtAveragePrice = units.isZero() ? productUnitCost : productUnitCost.plus(endEffect.dividedBy(units));
  const counters = desk.pipeline.counters();
  let hedgeFees = ZERO;
  for (const m of scenario.materials) if (m.hedge !== undefined) hedgeFees = hedgeFees.plus(desk.hedgeFees(m.id));
  return {
    strategy: definition.name,
    from,
    to,
    days,
    materials,
    productUnitCost,
    productUnitCostAtAveragePrice,
    productStandardCost: desk.productStandardCost(scenario.product),
    unitsProduced: units,
    totalSpend: materials.reduce((s, m) => s.plus(m.spend).plus(m.emergencySpend), ZERO),
    totalFees: materials.reduce((s, m) => s.plus(m.fees), ZERO).plus(hedgeFees),
    totalCarrying: materials.reduce((s, m) => s.plus(m.carryingCost), ZERO),
    hedgePnl: materials.reduce((s, m) => s.plus(m.hedgePnl), ZERO),
    hedgeFinancing: materials.reduce((s, m) => s.plus(m.hedgeFinancing), ZERO),
    counters: { orders: counters.orders, fills: counters.fills, denials: counters.denials, skips: counters.skips, rejections: counters.rejections },
    stockouts: desk.stockouts,
    trades: desk.trades,
    decisions: desk.pipeline.journal(),
    denials: desk.denials,
    ledgerEntries: ledger.size,
    ledgerBalances: ledger.balances(),
    record,
    costRecord,
    daily,
    warnings: runWarnings(scenario, desk, days, from, to, definition.name),
  };
}

/** What each day of a run reads (runDay): one object for the run. */
class DayRun {
  constructor(
    readonly scenario: Scenario,
    readonly feeds: readonly Feed[],
    readonly venue: SimVenue,
    readonly desk: Desk,
    readonly recorder: DailyRecorder | undefined,
    readonly costRecorder: CostRecorder | undefined,
    readonly recordMemo: NumberMemo,
    readonly daily: DailyCosts | undefined,
    readonly memo: NumberMemo,
    /** Each material's figures of the day (daily-record.ts readFigures), for the record and the running totals alike. */
    readonly figures: Float64Array,
  ) {}
}

/**
 * The run's days, `from` to `to` one day apart; returns how many. A function of its own, not
 * the loop of runBacktest: V8 compiles a loop's function once it has run hot, and runBacktest
 * with its set-up and totals around the loop took about 43 ms of the optimising compiler's
 * thread in the main job, late in the runs and for code that runs once (this loop compiles in
 * a few ms).
 */
async function runDays(run: DayRun, from: EpochMs, to: EpochMs, signal: AbortSignal | undefined): Promise<number> {
  let days = 0;
  for (let day = from; day <= to; day += DAY_MS) {
    days += 1;
    // A promise only on the days the step awaits something (see Desk.stepSoon).
    const waiting = runDay(run, day, days);
    if (waiting !== undefined) {
      await waiting;
      signal?.throwIfAborted();
    }
  }
  return days;
}

/**
 * One day of a run: the bars known by `day`, the desk's step, then the day's record and
 * running totals. A promise (of the same, done after the step) only on the days the step
 * awaits something; undefined, all done, on the others. A function of its own, not the body
 * of runBacktest's loop: V8 optimises this short function after a few hundred days of the first
 * run, while runBacktest (long, and called once a run) ran its loop in the interpreter until it
 * had been through most of two runs, then took about 200 ms of the compiler's thread.
 */
function runDay(run: DayRun, day: EpochMs, days: number): Promise<void> | undefined {
  feedBars(run.feeds, run.venue, run.desk, day);
  const stepped = run.desk.stepSoon(day);
  if (stepped instanceof Promise) return stepped.then((step) => recordDayEnd(run, step, day, days));
  recordDayEnd(run, stepped, day, days);
  return undefined;
}

/**
 * The day's record (when the run keeps one) and running totals (when it keeps them), after its
 * step. The record reads each material's figures of the day from the desk and leaves them in
 * `run.figures`, where the running totals take them; without a record they are read for the
 * running totals alone.
 */
function recordDayEnd(run: DayRun, step: StepResult, day: EpochMs, days: number): void {
  const daily = run.daily;
  if (run.recorder !== undefined) recordDay(run.recorder, run.recordMemo, run.scenario, run.desk, step.snapshot, day, run.figures);
  else if (run.costRecorder !== undefined) recordCosts(run.costRecorder, run.recordMemo, run.scenario, run.desk, day, run.figures);
  else if (daily !== undefined) readDayFigures(run.figures, run.memo, run.scenario, run.desk);
  if (daily !== undefined) recordDaily(daily, run.memo, days, run.scenario, run.desk, day, run.figures);
}

/** 16585 -> "16,585" (the terminal's one number format). */
const count = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** Stockouts and skipped orders above WARNING_SHARE of the days, each with the likely cause. */
function runWarnings(scenario: Scenario, desk: Desk, days: number, from: EpochMs, to: EpochMs, strategy: string): RunWarning[] {
  const out: RunWarning[] = [];
  for (const m of scenario.materials) {
    const book = desk.book(m.id);
    const series = m.series;
    // The longest wait for a fill: the longest gap between bars known in the run.
    let gapDays = 0;
    for (let i = 1; i < series.length; i += 1) {
      if (series.at[i]! < from - 31 * DAY_MS || series.at[i - 1]! > to) continue;
      gapDays = Math.max(gapDays, Math.round((series.at[i]! - series.at[i - 1]!) / DAY_MS));
    }
    const perDay = days === 0 ? ZERO : book.consumed.dividedBy(days);
    const stockoutShare = days === 0 ? 0 : book.stockouts / days;
    if (stockoutShare > WARNING_SHARE) {
      let cause: string;
      const leadDemand = perDay.times(Math.max(1, m.leadTimeDays));
      if (m.rules.lotStep.greaterThan(leadDemand)) {
        cause = `the lot step (${m.rules.lotStep.toFixed()} ${m.unit}) is larger than the lead-time demand (about ${leadDemand.toDecimalPlaces(0).toFixed()} ${m.unit})`;
      } else if (series.interval === 'monthly' || series.interval === 'weekly' || series.interval === 'yearly') {
        cause = `the ${m.id} prices are ${series.interval}: an order fills only when the next bar closes, up to ${gapDays} days later, and the reorder point covers ${m.leadTimeDays} days of lead time`;
      } else if (gapDays > m.leadTimeDays) {
        cause = `the ${m.id} price series has gaps of up to ${gapDays} days (an order fills on the next bar), longer than the ${m.leadTimeDays}-day lead time the reorder point covers`;
      } else {
        cause = `the buffer stock (service level ${m.serviceLevel.toFixed()}, ${m.leadTimeDays}-day lead time) does not cover the variability of demand and fills, or the strategy ${strategy} lets cover run down`;
      }
      out.push({ kind: 'stockouts', material: m.id, count: book.stockouts, days, share: stockoutShare, cause, message: `${strategy}: ${m.id} ran out of stock on ${book.stockouts} of ${days} days (${(stockoutShare * 100).toFixed(1)} %); likely cause: ${cause}.` });
    }
    const skipShare = days === 0 ? 0 : book.skips / days;
    if (skipShare > WARNING_SHARE) {
      const cause = m.rules.minNotional.greaterThan(0) && !m.rules.lotStep.greaterThan(perDay)
        ? `orders below the minimum notional (${m.rules.minNotional.toFixed()} ${scenario.plant.currency})`
        : `the lot step (${m.rules.lotStep.toFixed()} ${m.unit}) rounds small orders down to zero (a day's need is about ${perDay.toDecimalPlaces(0).toFixed()} ${m.unit})`;
      out.push({ kind: 'skipped-orders', material: m.id, count: book.skips, days, share: skipShare, cause, message: `${strategy}: ${book.skips} ${m.id} orders were skipped over ${days} days (${(skipShare * 100).toFixed(1)} % of days); likely cause: ${cause}.` });
    }
    const hedgeSkipShare = days === 0 ? 0 : book.hedgeSkips / days;
    if (m.hedge !== undefined && hedgeSkipShare > WARNING_SHARE) {
      const rules = m.hedge.rules;
      const cause = `the hedge lot step (${rules.lotStep.toFixed()} ${m.unit}${rules.minNotional.greaterThan(0) ? `, minimum notional ${rules.minNotional.toFixed()} ${scenario.plant.currency}` : ''}) rounds the day's change of the hedge target down to zero, so the hedged quantity lags what ${strategy} asked for`;
      out.push({ kind: 'skipped-hedge-orders', material: m.id, count: book.hedgeSkips, days, share: hedgeSkipShare, cause, message: `${strategy}: ${count(book.hedgeSkips)} ${m.hedge.instrument} hedge orders were skipped over ${count(days)} days (${hedgeSkipShare.toFixed(2)} a day); likely cause: ${cause}.` });
    }
  }
  return out;
}

function newDaily(scenario: Scenario, length: number): DailyCosts {
  const array = (): Float64Array => new Float64Array(length);
  return {
    t: array(),
    units: array(),
    conversion: array(),
    materials: scenario.materials.map((m) => ({ id: m.id, paid: array(), financing: array(), hedge: array(), hedgeRealized: array(), held: array(), price: array(), consumed: array(), standard: array() })),
  };
}

/** Every material's figures of the day (readFigures) into `figures`, for a day without a record; `memo`'s columns as recordDaily lays them out. */
function readDayFigures(figures: Float64Array, memo: NumberMemo, scenario: Scenario, desk: Desk): void {
  for (let k = 0; k < scenario.materials.length; k += 1) readFigures(figures, k * FIGURES, memo, 2 + 8 * k, desk, scenario.materials[k]!);
}

/** Row `i` of the running totals: the day's figures from `figures` (filled by the record or readDayFigures), the rest from the desk. */
function recordDaily(daily: DailyCosts, memo: NumberMemo, i: number, scenario: Scenario, desk: Desk, day: EpochMs, figures: Float64Array): void {
  daily.t[i] = day;
  daily.units[i] = desk.unitsProducedNumber;
  daily.conversion[i] = memo.of(1, desk.conversionIncurred);
  for (let k = 0; k < scenario.materials.length; k += 1) {
    const setup = scenario.materials[k]!;
    const m = daily.materials[k]!;
    const c = 2 + 8 * k;
    const f = k * FIGURES;
    m.paid[i] = figures[f + SPEND]! + figures[f + FEES]! + figures[f + EMERGENCY]! + figures[f + CARRYING]!;
    m.financing[i] = figures[f + FINANCING]!;
    m.hedge[i] = figures[f + HEDGE_PNL]!;
    m.hedgeRealized[i] = setup.hedge === undefined ? 0 : desk.hedgeRealizedNumber(setup.id);
    m.held[i] = desk.heldNumber(setup.id);
    m.price[i] = memo.of(c + 5, desk.marketUnitPrice(setup.id));
    m.consumed[i] = figures[f + CONSUMED]!;
    m.standard[i] = figures[f + STANDARD]!;
  }
}

/** Feeds the venue and the desk every bar whose close is known by `day`, in series order. */
function feedBars(feeds: readonly Feed[], venue: SimVenue, desk: Desk, day: EpochMs): void {
  for (const feed of feeds) {
    const series = feed.series;
    const factor = feed.factor;
    while (feed.next < series.length && closeKnownAt(series, feed.next) <= day) {
      const i = feed.next;
      feed.next += 1;
      bar.at = series.at[i]!;
      bar.open = series.open[i]! * factor;
      bar.high = series.high[i]! * factor;
      bar.low = series.low[i]! * factor;
      bar.close = series.close[i]! * factor;
      bar.volume = series.volume === undefined ? undefined : series.volume[i]! / factor;
      if (feed.strip !== undefined) {
        // The index bar prices every tradeable contract of the strip; each gets a close-only bar.
        const strip = feed.strip;
        strip.onIndexBar(i);
        if (!feed.quotes) continue;
        // strip.quotedOn(day), walked without building its list.
        const last = strip.lastQuotedMonth(day);
        for (let month = strip.firstQuotedMonth(day); month <= last; month += 1) {
          const price = strip.price(month) * factor;
          bar.open = price;
          bar.high = price;
          bar.low = price;
          bar.close = price;
          bar.volume = undefined;
          venue.onBar(bar as SimBar, strip.instrumentFor(month));
        }
        continue;
      }
      venue.onBar(bar as SimBar, feed.instrument);
      if (feed.hedgeOf === undefined) desk.onBar(feed.id, series.at[i]!, series.close[i]!);
      else desk.onHedgeBar(feed.id, series.close[i]!);
    }
  }
}

function totals(scenario: Scenario, desk: Desk, id: string, openingQty: Decimal, to: EpochMs): MaterialTotals {
  const book = desk.book(id);
  const setup = scenario.materials.find((m) => m.id === id)!;
  const closingPrice = desk.marketUnitPrice(id);
  const openingPrice = book.openingPrice ?? closingPrice;
  const hedgePnl = desk.hedgePnl(id);
  // Goods in transit at the end are paid for and still ours: count them as closing stock.
  const closingQty = desk.onHand(id).plus(desk.inTransit(id));
  const physical = book.spend.plus(book.fees).plus(book.emergencySpend).plus(book.carrying).plus(openingQty.times(openingPrice)).minus(closingQty.times(closingPrice));
  const cost = physical.plus(book.hedgeFinancing).minus(hedgePnl);
  const consumed = book.consumed;
  const effective = consumed.isZero() ? ZERO : cost.dividedBy(consumed);
  const standard = scenario.plant.standardCostAt(id, to).cost;
  const overrun = physical.minus(book.standardValueConsumed);
  return {
    id,
    unit: setup.unit,
    consumedQty: consumed,
    purchasedQty: book.purchased,
    spend: book.spend,
    fees: book.fees,
    emergencyQty: book.emergencyQty,
    emergencySpend: book.emergencySpend,
    carryingCost: book.carrying,
    hedgePnl,
    hedgeFinancing: book.hedgeFinancing,
    openingQty,
    openingPrice,
    closingQty,
    closingPrice,
    effectiveUnitCost: effective,
    averagePrice: book.priceDays === 0 ? ZERO : book.priceSum.dividedBy(book.priceDays),
    standardCost: standard,
    peakInventory: book.peak,
    averageInventory: book.priceDays === 0 ? ZERO : book.inventorySum.dividedBy(book.priceDays),
    stockouts: book.stockouts,
    varianceVsStandard: cost.minus(book.standardValueConsumed),
    hedgeEffectiveness: !desk.hasHedged(id) || overrun.isZero() ? null : hedgePnl.minus(book.hedgeFinancing).dividedBy(overrun),
  };
}
