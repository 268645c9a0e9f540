/**
 * The backtest runner: a simulated day-by-day clock that merges price bars, production,
 * deliveries, period closes, schedule firings and venue fills in time order, and drives the
 * one order pipeline with the simulated venue. The live runner drives the same pipeline with
 * the ccxt venue; only the clock, the data source and the venue differ.
 *
 * Each simulated day D (00:00 UTC) runs in this order:
 *   1. every bar whose close is known by D (market's `closeKnownAt`: a daily bar dated D-1,
 *      a monthly bar on the 1st of the next month) goes to the simulated venue, which fills
 *      orders sent before that bar; the pipeline applies the fills;
 *   2. on the 1st of a month: last month's actual conversion cost is posted and the period is
 *      closed, with knownAt = D + closeLagDays (the cost feed cannot see it earlier); hedges
 *      are marked to market;
 *   3. deliveries due today are received (a purchase at the fill price, fee included);
 *      goods arrive `leadTimeDays` after the order was decided, or when the fill becomes
 *      known if that is later (a Friday order filled on Monday's bar);
 *   4. production: the plan's quantity is completed and sold, backflushing its materials; a
 *      shortfall is a stockout, recorded and covered by an emergency spot purchase at the last
 *      known price x (1 + premium), never a silent negative; all of the day's events post in
 *      one ledger transaction;
 *   5. carrying cost accrues on what is on hand;
 *   6. the decision point: the cost feed's snapshot as of D and each material's signal on the
 *      last known bar form the strategy's context; intents go through the pipeline.
 * Orders fill no earlier than the next bar. With intraday bars (1-minute data) step 1 feeds every bar of the day and
 * a crossing since the previous decision point is reported at the next one.
 */
import { Decimal, ONE, ZERO, roundMoney } from '../core/decimal.js';
import { Random } from '../core/random.js';
import { DAY_MS, formatDate, startOfDay, type EpochMs } from '../core/time.js';
import { Ledger, type LedgerEvent } from '../ledger/index.js';
import { closeKnownAt, crossover, type CrossoverResult } from '../market/index.js';
import { CostFeed, type CostSnapshot } from '../costfeed/index.js';
import { Pipeline, type Decision, type FillSink, type Intent } from '../pipeline/index.js';
import { SimVenue, type SimBar } from '../venues/sim/sim-venue.js';
import type { PreparedMaterial, Scenario } from './scenario.js';
import type { CostView, HedgeView, InventoryView, SignalView, Strategy, StrategyContext, StrategyDefinition } from './strategy.js';

/** What a run records beside its totals, for the report (off in sweeps). */
export interface RunOptions {
  readonly record?: boolean;
  /** Override the scenario's range (sweeps use it for in-sample and out-of-sample). */
  readonly from?: EpochMs;
  readonly to?: EpochMs;
  /** Run another strategy on the same scenario (the baselines). */
  readonly strategy?: { readonly definition: StrategyDefinition<unknown>; readonly params: unknown };
}

export interface Stockout {
  readonly at: EpochMs;
  readonly material: string;
  readonly qty: Decimal;
  readonly emergencyCost: Decimal;
}

export interface Trade {
  readonly at: EpochMs;
  readonly instrument: string;
  readonly material: string;
  readonly side: 'buy' | 'sell';
  readonly qty: Decimal;
  /** Per material unit. */
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly reason: string;
  readonly clientOrderId: string;
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
  readonly openingQty: Decimal;
  readonly openingPrice: Decimal;
  readonly closingQty: Decimal;
  readonly closingPrice: Decimal;
  /** (spend + fees + emergency + carrying - hedge P&L + opening value - closing value) / consumed. */
  readonly effectiveUnitCost: Decimal;
  /** Mean of the daily market price over the run, per material unit. */
  readonly averagePrice: Decimal;
  readonly standardCost: Decimal;
  readonly peakInventory: Decimal;
  readonly averageInventory: Decimal;
  readonly stockouts: number;
  /** (effective - standard) x consumed. */
  readonly varianceVsStandard: Decimal;
  /** Hedge P&L / (consumed x (effective before hedge - standard)): the share of the overrun the hedge recovered; null without a hedge or an overrun. */
  readonly hedgeEffectiveness: Decimal | null;
}

export interface DailyRecord {
  readonly t: number[];
  readonly close: Map<string, number[]>;
  readonly fast: Map<string, (number | null)[]>;
  readonly slow: Map<string, (number | null)[]>;
  readonly onHand: Map<string, number[]>;
  readonly buffer: Map<string, (number | null)[]>;
  readonly reorderPoint: Map<string, (number | null)[]>;
  readonly unitCost: Map<string, (number | null)[]>;
  readonly hedgePnl: number[];
}

export interface RunResult {
  readonly strategy: string;
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly days: number;
  readonly materials: readonly MaterialTotals[];
  /** Effective cost of one unit of product: BOM x effective material costs + actual conversion per unit. */
  readonly productUnitCost: Decimal;
  readonly productStandardCost: Decimal;
  readonly unitsProduced: Decimal;
  readonly totalSpend: Decimal;
  readonly totalFees: Decimal;
  readonly totalCarrying: Decimal;
  readonly hedgePnl: Decimal;
  readonly counters: { readonly orders: number; readonly fills: number; readonly denials: number; readonly skips: number; readonly rejections: number };
  readonly stockouts: readonly Stockout[];
  readonly trades: readonly Trade[];
  readonly decisions: readonly Decision[];
  readonly ledgerEntries: number;
  readonly ledgerBalances: ReadonlyMap<string, Decimal>;
  readonly record: DailyRecord | undefined;
}

interface MaterialRun {
  readonly setup: PreparedMaterial;
  readonly signal: CrossoverResult | undefined;
  readonly hedgeSignalIndex: { next: number };
  next: number;
  lastIndex: number;
  /** The crossing seen since the previous decision point. */
  pendingCrossing: 'up' | 'down' | undefined;
  onHand: Decimal;
  inTransit: { due: EpochMs; qty: Decimal; price: Decimal; fee: Decimal; ref: string; reason: string }[];
  consumed: Decimal;
  purchased: Decimal;
  spend: Decimal;
  fees: Decimal;
  emergencyQty: Decimal;
  emergencySpend: Decimal;
  carrying: Decimal;
  priceSum: Decimal;
  priceDays: number;
  peak: Decimal;
  inventorySum: Decimal;
  stockouts: number;
  openingPrice: Decimal | undefined;
}

const bar: { at: number; open: number; high: number; low: number; close: number; volume: number | undefined } = { at: 0, open: 0, high: 0, low: 0, close: 0, volume: undefined };

/** Runs one strategy over the scenario. Deterministic for a given scenario, seed and options. */
export async function runBacktest(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const from = options.from ?? scenario.from;
  const to = options.to ?? scenario.to;
  const definition = options.strategy?.definition ?? scenario.strategy.definition;
  const params = options.strategy === undefined ? scenario.strategy.params : options.strategy.params;
  const needs = definition.needs(params);
  const strategy: Strategy = definition.create(params);
  const plant = scenario.plant;
  const config = scenario.config;
  const product = scenario.product;
  const record = options.record === true ? newRecord(scenario) : undefined;

  // Venue: one market per material (prices per material unit) and per hedge instrument.
  const instruments: Record<string, { lotStep: Decimal; tickSize: Decimal; minNotional: Decimal }> = {};
  for (const m of scenario.materials) {
    instruments[m.id] = m.rules;
    if (m.hedge !== undefined) instruments[m.hedge.instrument] = m.hedge.rules;
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
  const runs: MaterialRun[] = scenario.materials.map((setup) => ({
    setup,
    signal: needs.signal === undefined ? undefined : crossover(setup.series.close, needs.signal, { where: { file: setup.series.file } }),
    hedgeSignalIndex: { next: 0 },
    next: 0,
    lastIndex: -1,
    pendingCrossing: undefined,
    onHand: ZERO,
    inTransit: [],
    consumed: ZERO,
    purchased: ZERO,
    spend: ZERO,
    fees: ZERO,
    emergencyQty: ZERO,
    emergencySpend: ZERO,
    carrying: ZERO,
    priceSum: ZERO,
    priceDays: 0,
    peak: ZERO,
    inventorySum: ZERO,
    stockouts: 0,
    openingPrice: undefined,
  }));
  const byInstrument = new Map<string, MaterialRun>();
  for (const run of runs) {
    byInstrument.set(run.setup.id, run);
    if (run.setup.hedge !== undefined) byInstrument.set(run.setup.hedge.instrument, run);
  }

  const trades: Trade[] = [];
  const stockouts: Stockout[] = [];
  let today = from;
  let pendingEvents: LedgerEvent[] = [];
  const sink: FillSink = {
    onFill(order, fill, intent) {
      const run = byInstrument.get(order.request.instrument)!;
      const hedge = run.setup.hedge;
      const isHedge = hedge !== undefined && order.request.instrument === hedge.instrument;
      trades.push({ at: fill.at, instrument: order.request.instrument, material: run.setup.id, side: order.request.side, qty: fill.qty, price: fill.price, fee: fill.fee, reason: intent.reason, clientOrderId: order.request.clientOrderId });
      if (isHedge) {
        pendingEvents.push({
          type: 'hedge', at: today, knownAt: today, instrument: hedge.instrument,
          qty: order.request.side === 'buy' ? fill.qty : fill.qty.negated(), price: fill.price, fee: fill.fee,
          ref: order.request.clientOrderId, reason: intent.reason,
        });
        return;
      }
      run.purchased = run.purchased.plus(fill.qty);
      run.spend = run.spend.plus(fill.qty.times(fill.price));
      run.fees = run.fees.plus(fill.fee);
      // Lead time runs from the order, not the fill; goods never arrive before the fill is known.
      const due = Math.max(today, startOfDay(order.request.at) + run.setup.leadTimeDays * DAY_MS);
      run.inTransit.push({ due, qty: fill.qty, price: fill.price, fee: fill.fee, ref: order.request.clientOrderId, reason: intent.reason });
    },
  };
  const pipeline = new Pipeline({ runId: `bt-${scenario.hash.slice(0, 8)}-${definition.name}`, venue, limits: scenario.risk, sink, journalLimit: 5000 });

  const hedgeInstruments: Record<string, { material: string; factor: Decimal }> = {};
  for (const m of scenario.materials) if (m.hedge !== undefined) hedgeInstruments[m.hedge.instrument] = { material: m.id, factor: ONE };
  const costFeed = new CostFeed({
    plant,
    ledger,
    plan: scenario.plan,
    prices: new Map(scenario.materials.map((m) => [m.id, { series: m.series, factor: m.factor }])),
    horizonDays: config.horizonDays,
    actualWindowDays: config.actualWindowDays,
    policy: Object.fromEntries(scenario.materials.map((m) => [m.id, { leadTimeDays: m.leadTimeDays, serviceLevel: m.serviceLevel }])),
    onOrder: (material) => onOrderOf(byInstrument.get(material)!, pipeline),
    hedgeInstruments,
  });

  // Opening inventory: received at the start, at the first known market price.
  const opening: LedgerEvent[] = [];
  for (const run of runs) {
    advanceBars(run, venue, from, false);
    const price = marketUnitPrice(run);
    run.openingPrice = price;
    if (run.setup.openingQty.greaterThan(0)) {
      opening.push({ type: 'purchase', id: `opening-${run.setup.id}`, at: from, knownAt: from, material: run.setup.id, qty: run.setup.openingQty, unitPrice: roundMoney(price, 6), paidFrom: 'accounts_payable', reason: 'opening' });
      run.onHand = run.setup.openingQty;
    }
  }
  if (opening.length > 0) ledger.post(opening);

  const random = new Random(config.seed + 7919);
  const premium = config.emergency.premium.plus(1);
  let monthUnits = ZERO;
  let unitsProduced = ZERO;
  let conversionIncurred = ZERO;
  let lastDecision = from - DAY_MS;
  let days = 0;
  const productStandard = standardProductCost(scenario, from);
  const cap = priceCaps(scenario, from);

  for (let day = from; day <= to; day += DAY_MS) {
    today = day;
    days += 1;
    // 1. Bars known by today; fills on them.
    for (const run of runs) {
      if (run.next < run.setup.series.length && closeKnownAt(run.setup.series, run.next) <= day) {
        advanceBars(run, venue, day, true);
        if (pipeline.openOrderCount > 0) await pipeline.sync();
      }
    }
    // 2. Month start: last month's conversion cost, the close (known later), hedge marks.
    const date = new Date(day);
    if (date.getUTCDate() === 1 && day > from) {
      const standardConversion = plant.conversionCostAt(product, day - DAY_MS).cost;
      const noise = Math.max(-0.5, config.conversion.noise * random.normal());
      const amount = roundMoney(monthUnits.times(standardConversion).times(new Decimal(noise.toFixed(6)).plus(1)), plant.moneyPlaces);
      if (amount.greaterThan(0)) pendingEvents.push({ type: 'conversion', at: day, knownAt: day, amount, category: 'labour and overhead' });
      conversionIncurred = conversionIncurred.plus(amount);
      monthUnits = ZERO;
      pendingEvents.push({ type: 'close', at: day, knownAt: day + config.conversion.closeLagDays * DAY_MS });
      for (const run of runs) {
        const hedge = run.setup.hedge;
        if (hedge !== undefined && !pipeline.positions.qty(hedge.instrument).isZero()) {
          pendingEvents.push({ type: 'hedge-mark', at: day, knownAt: day, instrument: hedge.instrument, price: roundMoney(hedgeUnitPrice(run), 6) });
        }
      }
    }
    // 3. Deliveries due.
    for (const run of runs) {
      if (run.inTransit.length === 0) continue;
      const due = run.inTransit.filter((d) => d.due <= day);
      if (due.length === 0) continue;
      run.inTransit = run.inTransit.filter((d) => d.due > day);
      for (const delivery of due) {
        pendingEvents.push({ type: 'purchase', at: day, knownAt: day, material: run.setup.id, qty: delivery.qty, unitPrice: delivery.price, fee: delivery.fee, paidFrom: 'accounts_payable', ref: delivery.ref, reason: delivery.reason });
        run.onHand = run.onHand.plus(delivery.qty);
      }
    }
    // 4. Production, with emergency purchases for any shortfall.
    const units = scenario.plan.qtyOn(product, day);
    if (units.greaterThan(0)) {
      const bom = plant.bomAt(product, day);
      for (const line of bom.lines) {
        const run = byInstrument.get(line.material)!;
        const need = units.times(line.qty).times(line.scrap.plus(1));
        if (need.greaterThan(run.onHand)) {
          const shortfall = need.minus(run.onHand);
          const price = roundMoney(marketUnitPrice(run).times(premium), 6);
          const cost = shortfall.times(price);
          pendingEvents.push({ type: 'purchase', at: day, knownAt: day, material: run.setup.id, qty: shortfall, unitPrice: price, paidFrom: 'accounts_payable', reason: 'emergency', ref: `stockout-${formatDate(day)}-${run.setup.id}` });
          stockouts.push({ at: day, material: run.setup.id, qty: shortfall, emergencyCost: cost });
          run.stockouts += 1;
          run.emergencyQty = run.emergencyQty.plus(shortfall);
          run.emergencySpend = run.emergencySpend.plus(cost);
          run.onHand = need;
        }
        run.onHand = run.onHand.minus(need);
        run.consumed = run.consumed.plus(need);
      }
      pendingEvents.push({ type: 'completion', at: day, knownAt: day, product, qty: units });
      pendingEvents.push({ type: 'sale', at: day, knownAt: day, product, qty: units });
      monthUnits = monthUnits.plus(units);
      unitsProduced = unitsProduced.plus(units);
    }
    if (pendingEvents.length > 0) {
      const events = pendingEvents;
      pendingEvents = [];
      ledger.post(events);
    }
    // 5 and 6. Carrying cost and the decision point.
    const snapshot = costFeed.snapshot(day);
    const fired = needs.schedule === true && scenario.schedule.firstFiringIn(lastDecision, day) !== undefined;
    for (const run of runs) {
      const id = run.setup.id;
      const materialCost = snapshot.materials[id]!;
      run.carrying = run.carrying.plus(run.onHand.times(materialCost.carryingPerUnitDay));
      const price = marketUnitPrice(run);
      run.priceSum = run.priceSum.plus(price);
      run.priceDays += 1;
      if (run.onHand.greaterThan(run.peak)) run.peak = run.onHand;
      run.inventorySum = run.inventorySum.plus(run.onHand);
      const context = buildContext(scenario, run, snapshot, day, fired, pipeline, cap.get(id), productStandard, price);
      run.pendingCrossing = undefined;
      for (const intent of strategy.decide(context)) await submitIntent(pipeline, intent, run, context);
    }
    lastDecision = day;
    if (record !== undefined) recordDay(record, runs, snapshot, day, pipeline);
  }

  // Final marks so the hedge result is complete, then the totals.
  const finalEvents: LedgerEvent[] = [];
  for (const run of runs) {
    const hedge = run.setup.hedge;
    if (hedge !== undefined && !pipeline.positions.qty(hedge.instrument).isZero()) {
      finalEvents.push({ type: 'hedge-mark', at: to, knownAt: to, instrument: hedge.instrument, price: roundMoney(hedgeUnitPrice(run), 6) });
    }
  }
  if (finalEvents.length > 0) ledger.post(finalEvents);
  for (const run of runs) {
    const book = ledger.quantities().materials.get(run.setup.id) ?? ZERO;
    if (!book.equals(run.onHand)) throw new Error(`internal: ${run.setup.id} on hand ${run.onHand.toFixed()} differs from the ledger's ${book.toFixed()}`);
  }

  const materials = runs.map((run) => totals(scenario, run, pipeline, to));
  const conversionPerUnit = unitsProduced.isZero() ? ZERO : conversionIncurred.dividedBy(unitsProduced);
  const bom = plant.bomAt(product, to);
  let productUnitCost = conversionPerUnit;
  for (const line of bom.lines) {
    const m = materials.find((x) => x.id === line.material)!;
    productUnitCost = productUnitCost.plus(m.effectiveUnitCost.times(line.qty).times(line.scrap.plus(1)));
  }
  const counters = pipeline.counters();
  return {
    strategy: definition.name,
    from,
    to,
    days,
    materials,
    productUnitCost,
    productStandardCost: productStandard.get(product) ?? ZERO,
    unitsProduced,
    totalSpend: materials.reduce((s, m) => s.plus(m.spend).plus(m.emergencySpend), ZERO),
    totalFees: materials.reduce((s, m) => s.plus(m.fees), ZERO).plus(hedgeFees(scenario, pipeline)),
    totalCarrying: materials.reduce((s, m) => s.plus(m.carryingCost), ZERO),
    hedgePnl: materials.reduce((s, m) => s.plus(m.hedgePnl), ZERO),
    counters: { orders: counters.orders, fills: counters.fills, denials: counters.denials, skips: counters.skips, rejections: counters.rejections },
    stockouts,
    trades,
    decisions: pipeline.journal(),
    ledgerEntries: ledger.entries().length,
    ledgerBalances: ledger.balances(),
    record,
  };
}

/** Feeds the venue every bar known by `day`; remembers the latest crossing for the next decision. */
function advanceBars(run: MaterialRun, venue: SimVenue, day: EpochMs, feedVenue: boolean): void {
  const series = run.setup.series;
  const factor = run.setup.factorNumber;
  const hedge = run.setup.hedge;
  while (run.next < series.length && closeKnownAt(series, run.next) <= day) {
    const i = run.next;
    run.next += 1;
    run.lastIndex = i;
    if (run.signal !== undefined && i > 0) {
      const before = run.signal.state[i - 1]!;
      const after = run.signal.state[i]!;
      if (before !== -1 && after !== before) run.pendingCrossing = after === 1 ? 'up' : 'down';
    }
    if (!feedVenue) continue;
    bar.at = series.at[i]!;
    bar.open = series.open[i]! * factor;
    bar.high = series.high[i]! * factor;
    bar.low = series.low[i]! * factor;
    bar.close = series.close[i]! * factor;
    bar.volume = series.volume === undefined ? undefined : series.volume[i]! / factor;
    venue.onBar(bar as SimBar, run.setup.id);
    if (hedge !== undefined) {
      const hs = hedge.series;
      while (run.hedgeSignalIndex.next < hs.length && closeKnownAt(hs, run.hedgeSignalIndex.next) <= day) {
        const j = run.hedgeSignalIndex.next;
        run.hedgeSignalIndex.next += 1;
        bar.at = hs.at[j]!;
        bar.open = hs.open[j]! * hedge.factorNumber;
        bar.high = hs.high[j]! * hedge.factorNumber;
        bar.low = hs.low[j]! * hedge.factorNumber;
        bar.close = hs.close[j]! * hedge.factorNumber;
        bar.volume = undefined;
        venue.onBar(bar as SimBar, hedge.instrument);
      }
    }
  }
}

/** The last known close in material units (quoted x factor). */
function marketUnitPrice(run: MaterialRun): Decimal {
  if (run.lastIndex < 0) throw new Error(`internal: no ${run.setup.id} price known yet`);
  return new Decimal(String(run.setup.series.close[run.lastIndex]!)).times(run.setup.factor);
}

function hedgeUnitPrice(run: MaterialRun): Decimal {
  const hedge = run.setup.hedge!;
  const index = run.hedgeSignalIndex.next - 1;
  if (index < 0) return marketUnitPrice(run);
  return new Decimal(String(hedge.series.close[index]!)).times(hedge.factor);
}

function onOrderOf(run: MaterialRun, pipeline: Pipeline): Decimal {
  let qty = ZERO;
  for (const d of run.inTransit) qty = qty.plus(d.qty);
  if (pipeline.openOrderCount > 0) {
    for (const order of pipeline.openOrders()) {
      if (order.request.instrument === run.setup.id && order.request.side === 'buy') qty = qty.plus(order.request.qty.minus(order.filledQty));
    }
  }
  return qty;
}

function buildContext(
  scenario: Scenario,
  run: MaterialRun,
  snapshot: CostSnapshot,
  day: EpochMs,
  fired: boolean,
  pipeline: Pipeline,
  priceCap: Decimal | undefined,
  productStandard: ReadonlyMap<string, Decimal>,
  price: Decimal,
): StrategyContext {
  const m = snapshot.materials[run.setup.id]!;
  const i = run.lastIndex;
  const state = run.signal === undefined ? -1 : run.signal.state[i]!;
  const signal: SignalView = {
    state: state === -1 ? undefined : (state as 0 | 1),
    crossing: run.pendingCrossing,
    fast: run.signal === undefined ? Number.NaN : run.signal.fast[i]!,
    slow: run.signal === undefined ? Number.NaN : run.signal.slow[i]!,
  };
  const inventory: InventoryView = {
    onHand: m.onHand,
    onOrder: m.onOrder,
    hedged: m.hedged,
    dailyConsumption: m.dailyConsumption,
    daysOfCover: m.daysOfCover === null ? Number.POSITIVE_INFINITY : m.daysOfCover.toNumber(),
    bufferStock: m.bufferStock,
    reorderPoint: m.reorderPoint,
    leadTimeDays: run.setup.leadTimeDays,
    exposureQty: m.exposureQty,
    horizonDays: snapshot.horizonDays,
  };
  const product = scenario.product;
  const cost: CostView = {
    standardUnitCost: m.standardCost,
    marketUnitPrice: price,
    carryingPerUnitDay: m.carryingPerUnitDay,
    productReplacementCost: new Map([[product, snapshot.products[product]!.replacement]]),
    productStandardCost: productStandard,
    priceCap,
    knownAt: snapshot.knownAt,
  };
  const hedgeSetup = run.setup.hedge;
  const hedge: HedgeView | undefined =
    hedgeSetup === undefined
      ? undefined
      : { instrument: hedgeSetup.instrument, position: pipeline.positions.qty(hedgeSetup.instrument), lastPrice: hedgeUnitPrice(run).toNumber() };
  let daysToNext: number | undefined;
  if (fired) {
    const next = scenario.schedule.firstFiringIn(day, day + 400 * DAY_MS);
    daysToNext = next === undefined ? undefined : Math.max(1, Math.ceil((next - day) / DAY_MS));
  }
  return {
    at: day,
    material: run.setup.id,
    instrument: run.setup.id,
    lastPrice: run.setup.series.close[i]!,
    signal,
    inventory,
    cost,
    hedge,
    scheduleFired: fired,
    daysToNextSchedule: daysToNext,
  };
}

async function submitIntent(pipeline: Pipeline, intent: Intent, run: MaterialRun, context: StrategyContext): Promise<Decision> {
  const hedge = run.setup.hedge;
  if (hedge !== undefined && intent.instrument === hedge.instrument) {
    const price = hedgeUnitPrice(run);
    return pipeline.submit(intent, {
      referencePrice: price,
      lastPrice: price,
      exposure: context.inventory.exposureQty.plus(context.inventory.hedged),
      hedgePosition: pipeline.positions.qty(hedge.instrument),
    });
  }
  return pipeline.submit(intent, { referencePrice: context.cost.marketUnitPrice, lastPrice: context.cost.marketUnitPrice, priceCap: intent.side === 'buy' && intent.reason !== 'forced-reorder' ? context.cost.priceCap : undefined });
}

/** Standard cost of one unit of each product (BOM x (1 + scrap) x standard + standard conversion). */
function standardProductCost(scenario: Scenario, at: EpochMs): Map<string, Decimal> {
  const plant = scenario.plant;
  const out = new Map<string, Decimal>();
  for (const product of plant.products.keys()) {
    let cost = plant.conversionCostAt(product, at).cost;
    for (const line of plant.bomAt(product, at).lines) cost = cost.plus(plant.standardCostAt(line.material, at).cost.times(line.qty).times(line.scrap.plus(1)));
    out.set(product, cost);
  }
  return out;
}

/**
 * The price cap per material unit derived from the product's target unit cost: the price at
 * which this material alone would use up the target, every other material at standard.
 */
function priceCaps(scenario: Scenario, at: EpochMs): Map<string, Decimal> {
  const caps = new Map<string, Decimal>();
  const target = scenario.config.production.targetUnitCost;
  if (target === undefined) return caps;
  const plant = scenario.plant;
  const lines = plant.bomAt(scenario.product, at).lines;
  const conversion = plant.conversionCostAt(scenario.product, at).cost;
  for (const line of lines) {
    let others = conversion;
    for (const other of lines) {
      if (other !== line) others = others.plus(plant.standardCostAt(other.material, at).cost.times(other.qty).times(other.scrap.plus(1)));
    }
    const cap = target.minus(others).dividedBy(line.qty.times(line.scrap.plus(1)));
    caps.set(line.material, cap.greaterThan(0) ? cap : ZERO);
  }
  return caps;
}

function hedgeFees(scenario: Scenario, pipeline: Pipeline): Decimal {
  let fees = ZERO;
  for (const m of scenario.materials) if (m.hedge !== undefined) fees = fees.plus(pipeline.positions.get(m.hedge.instrument).fees);
  return fees;
}

function totals(scenario: Scenario, run: MaterialRun, pipeline: Pipeline, to: EpochMs): MaterialTotals {
  const closingPrice = marketUnitPrice(run);
  const openingPrice = run.openingPrice ?? closingPrice;
  let hedgePnl = ZERO;
  const hedge = run.setup.hedge;
  if (hedge !== undefined) {
    const position = pipeline.positions.get(hedge.instrument);
    hedgePnl = position.realizedPnl.plus(pipeline.positions.unrealizedPnl(hedge.instrument, hedgeUnitPrice(run))).minus(position.fees);
  }
  // Goods in transit at the end are paid for and still ours: count them as closing stock.
  let closingQty = run.onHand;
  for (const d of run.inTransit) closingQty = closingQty.plus(d.qty);
  const physical = run.spend.plus(run.fees).plus(run.emergencySpend).plus(run.carrying).plus(run.setup.openingQty.times(openingPrice)).minus(closingQty.times(closingPrice));
  const cost = physical.minus(hedgePnl);
  const consumed = run.consumed;
  const effective = consumed.isZero() ? ZERO : cost.dividedBy(consumed);
  const standard = scenario.plant.standardCostAt(run.setup.id, to).cost;
  const overrun = consumed.isZero() ? ZERO : physical.minus(standard.times(consumed));
  return {
    id: run.setup.id,
    unit: run.setup.unit,
    consumedQty: consumed,
    purchasedQty: run.purchased,
    spend: run.spend,
    fees: run.fees,
    emergencyQty: run.emergencyQty,
    emergencySpend: run.emergencySpend,
    carryingCost: run.carrying,
    hedgePnl,
    openingQty: run.setup.openingQty,
    openingPrice,
    closingQty,
    closingPrice,
    effectiveUnitCost: effective,
    averagePrice: run.priceDays === 0 ? ZERO : run.priceSum.dividedBy(run.priceDays),
    standardCost: standard,
    peakInventory: run.peak,
    averageInventory: run.priceDays === 0 ? ZERO : run.inventorySum.dividedBy(run.priceDays),
    stockouts: run.stockouts,
    varianceVsStandard: effective.minus(standard).times(consumed),
    hedgeEffectiveness: hedge === undefined || !overrun.greaterThan(0) ? null : hedgePnl.dividedBy(overrun),
  };
}

function newRecord(scenario: Scenario): DailyRecord {
  const map = <T>(): Map<string, T[]> => new Map(scenario.materials.map((m) => [m.id, [] as T[]]));
  return { t: [], close: map(), fast: map(), slow: map(), onHand: map(), buffer: map(), reorderPoint: map(), unitCost: map(), hedgePnl: [] };
}

function recordDay(record: DailyRecord, runs: readonly MaterialRun[], snapshot: CostSnapshot, day: EpochMs, pipeline: Pipeline): void {
  record.t.push(day);
  let hedgeTotal = 0;
  for (const run of runs) {
    const id = run.setup.id;
    const i = run.lastIndex;
    const m = snapshot.materials[id]!;
    record.close.get(id)!.push(run.setup.series.close[i]!);
    const fast = run.signal?.fast[i];
    const slow = run.signal?.slow[i];
    record.fast.get(id)!.push(fast === undefined || Number.isNaN(fast) ? null : fast);
    record.slow.get(id)!.push(slow === undefined || Number.isNaN(slow) ? null : slow);
    record.onHand.get(id)!.push(run.onHand.toNumber());
    record.buffer.get(id)!.push(m.bufferStock.toNumber());
    record.reorderPoint.get(id)!.push(m.reorderPoint.toNumber());
    // Cumulative effective unit cost so far: what was paid (and is held) for what was consumed.
    let hedgePnl = 0;
    const hedge = run.setup.hedge;
    if (hedge !== undefined) {
      const position = pipeline.positions.get(hedge.instrument);
      hedgePnl = position.realizedPnl.plus(pipeline.positions.unrealizedPnl(hedge.instrument, hedgeUnitPrice(run))).minus(position.fees).toNumber();
      hedgeTotal += hedgePnl;
    }
    const price = run.setup.series.close[i]! * run.setup.factorNumber;
    let held = run.onHand.toNumber();
    for (const d of run.inTransit) held += d.qty.toNumber();
    const consumed = run.consumed.toNumber();
    const paid = run.spend.toNumber() + run.fees.toNumber() + run.emergencySpend.toNumber() + run.carrying.toNumber() + run.setup.openingQty.toNumber() * (run.openingPrice?.toNumber() ?? price);
    record.unitCost.get(id)!.push(consumed > 0 ? (paid - hedgePnl - held * price) / consumed : null);
  }
  record.hedgePnl.push(hedgeTotal);
}
