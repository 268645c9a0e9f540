/**
 * Hand-built strategy contexts for the strategy tests: a factory with sensible defaults
 * (one material, 10 units a day, a 2-day lead time, buffer 20, reorder point 40), a
 * fast-check arbitrary of whole contexts, and a tiny day-by-day inventory simulator that
 * applies a strategy's buys with their lead time, to show the reorder rules never stock out.
 */
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import type { HedgeView, Intent, SignalView, Strategy, StrategyContext } from '../../src/engine/strategy.js';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 0, 1);

type Qty = Decimal | string | number;
const dec = (value: Qty): Decimal => (value instanceof Decimal ? value : new Decimal(value));

export interface ContextSpec {
  at?: number;
  material?: string;
  instrument?: string;
  lastPrice?: number;
  signal?: Partial<SignalView>;
  /** Past bars of the fast average, oldest first, not including the current bar (SignalView.fastAgo). */
  fastHistory?: readonly { at: number; fast: number }[];
  onHand?: Qty;
  onOrder?: Qty;
  hedged?: Qty;
  dailyConsumption?: Qty;
  bufferStock?: Qty;
  reorderPoint?: Qty;
  /** Default: bufferStock / 1.644854 (the buffer at a 95 % service level). */
  sigmaLeadTimeDemand?: Qty;
  leadTimeDays?: number;
  sigmaLeadTimeDays?: number;
  exposureQty?: Qty;
  horizonDays?: number;
  standardUnitCost?: Qty;
  marketUnitPrice?: Qty;
  carryingPerUnitDay?: Qty;
  priceCap?: Qty | undefined;
  hedge?: { instrument?: string; position?: Qty; lastPrice?: number; contracts?: readonly { month: string; monthsAhead: number; position?: Qty; price?: Qty; exposureQty: Qty }[] } | undefined;
  carryingAnnualRate?: Qty;
  storagePerUnitDay?: Qty;
  orderFixedCost?: Qty;
  orderFeeRate?: Qty;
  emergencyPremium?: Qty;
  scheduleFired?: boolean;
  daysToNextSchedule?: number | undefined;
}

/** A context with defaults for everything not given. `hedge` given (even `{}`) adds a hedge view. */
export function makeContext(spec: ContextSpec = {}): StrategyContext {
  const at = spec.at ?? T0;
  const onHand = dec(spec.onHand ?? 100);
  const onOrder = dec(spec.onOrder ?? 0);
  const dailyConsumption = dec(spec.dailyConsumption ?? 10);
  const marketUnitPrice = dec(spec.marketUnitPrice ?? 3);
  const hedge = spec.hedge === undefined ? undefined : hedgeViewOf(spec);
  return {
    at,
    material: spec.material ?? 'natgas',
    instrument: spec.instrument ?? 'NG-SPOT',
    lastPrice: spec.lastPrice ?? 3,
    signal: { state: 0, crossing: undefined, fast: 3, slow: 3, barAt: at - DAY, fastAgo: historyOf(spec.fastHistory ?? []), track: undefined, ...spec.signal },
    inventory: {
      onHand,
      onOrder,
      hedged: dec(spec.hedged ?? hedge?.position ?? 0),
      dailyConsumption,
      daysOfCover: dailyConsumption.isZero() ? Infinity : onHand.plus(onOrder).dividedBy(dailyConsumption).toNumber(),
      bufferStock: dec(spec.bufferStock ?? 20),
      reorderPoint: dec(spec.reorderPoint ?? 40),
      sigmaLeadTimeDemand: spec.sigmaLeadTimeDemand !== undefined ? dec(spec.sigmaLeadTimeDemand) : dec(spec.bufferStock ?? 20).dividedBy('1.644854'),
      leadTimeDays: spec.leadTimeDays ?? 2,
      sigmaLeadTimeDays: spec.sigmaLeadTimeDays ?? 0,
      exposureQty: dec(spec.exposureQty ?? 0),
      horizonDays: spec.horizonDays ?? 30,
    },
    cost: {
      standardUnitCost: dec(spec.standardUnitCost ?? '3.5'),
      marketUnitPrice,
      carryingPerUnitDay: dec(spec.carryingPerUnitDay ?? '0.002'),
      productReplacementCost: new Map([['ammonia', marketUnitPrice.times(33).plus(95)]]),
      productStandardCost: new Map([['ammonia', dec(spec.standardUnitCost ?? '3.5').times(33).plus(95)]]),
      priceCap: spec.priceCap === undefined ? undefined : dec(spec.priceCap),
      knownAt: at,
      carryingAnnualRate: dec(spec.carryingAnnualRate ?? '0.12'),
      storagePerUnitDay: dec(spec.storagePerUnitDay ?? '0.001'),
      orderFixedCost: dec(spec.orderFixedCost ?? 0),
      orderFeeRate: dec(spec.orderFeeRate ?? 0),
      emergencyPremium: dec(spec.emergencyPremium ?? '0.25'),
    },
    hedge,
    scheduleFired: spec.scheduleFired ?? false,
    daysToNextSchedule: spec.daysToNextSchedule,
  };
}

/**
 * The hedge view of a spec: a single instrument whose one contract covers exposure + hedged
 * (as the desk builds it for a live spot hedge), or the strip contracts given.
 */
function hedgeViewOf(spec: ContextSpec): HedgeView {
  const h = spec.hedge!;
  const instrument = h.instrument ?? 'NG-FUT';
  const lastPrice = h.lastPrice ?? 3;
  if (h.contracts === undefined) {
    const position = dec(h.position ?? 0);
    const hedged = dec(spec.hedged ?? position);
    return { instrument, position, lastPrice, contracts: [{ instrument, month: undefined, monthsAhead: undefined, position, price: new Decimal(String(lastPrice)), exposureQty: dec(spec.exposureQty ?? 0).plus(hedged) }] };
  }
  const contracts = h.contracts.map((c) => ({ instrument: `${instrument}:${c.month}`, month: c.month, monthsAhead: c.monthsAhead, position: dec(c.position ?? 0), price: dec(c.price ?? lastPrice), exposureQty: dec(c.exposureQty) }));
  return { instrument, position: contracts.reduce((s, c) => s.plus(c.position), new Decimal(0)), lastPrice, contracts };
}

/** Intents as plain JSON (Decimals as strings), for exact comparisons. */
export function plain(intents: readonly Intent[]): unknown {
  return JSON.parse(JSON.stringify(intents));
}

/** Sum of the qty of the intents with the given reason (all reasons when omitted). */
export function qtyOf(intents: readonly Intent[], reason?: Intent['reason']): Decimal {
  return intents.filter((i) => reason === undefined || i.reason === reason).reduce((acc, i) => acc.plus(i.qty ?? 0), new Decimal(0));
}

/** SignalView.fastAgo over a history (oldest first): `bars` back from the current bar. */
export function historyOf(history: readonly { at: number; fast: number }[]): SignalView['fastAgo'] {
  return (bars) => (Number.isInteger(bars) && bars >= 1 && bars <= history.length ? history[history.length - bars] : undefined);
}

/** Recursively freezes a context (and its Decimals); Maps cannot be frozen, so callers compare them separately. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** A signal's track record: trials, a hit share and the mean rise after a rising prediction. */
const trackArb = fc.record({ trials: fc.integer({ min: 0, max: 400 }), share: fc.double({ min: 0, max: 1, noNaN: true }), meanRiseAfterUp: fc.double({ min: -0.05, max: 0.3, noNaN: true }) }).map(({ trials, share, meanRiseAfterUp }) => ({
  trials,
  hits: Math.round(trials * share),
  trendBars: 5,
  horizonBars: 20,
  meanRiseAfterUp,
}));

const signalArb: fc.Arbitrary<Partial<SignalView>> = fc.oneof(
  fc.constant({ state: undefined, crossing: undefined, fast: Number.NaN, slow: Number.NaN }),
  fc.record({
    state: fc.constantFrom(0 as const, 1 as const),
    crossing: fc.constantFrom(undefined, 'up' as const, 'down' as const),
    fast: fc.double({ min: 1, max: 200, noNaN: true }),
    slow: fc.double({ min: 1, max: 200, noNaN: true }),
    track: fc.option(trackArb, { nil: undefined }),
  }),
);

const qtyArb = (max: number) => fc.integer({ min: 0, max }).map(String);
const priceArb = fc.integer({ min: 1, max: 20_000 }).map((cents) => new Decimal(cents).dividedBy(100).toString());

/** Random context specs (without `at`): any signal, inventory, cost, hedge and schedule state. */
export const contextSpecArb: fc.Arbitrary<ContextSpec> = fc.record({
  material: fc.constantFrom('natgas', 'cocoa'),
  signal: signalArb,
  onHand: qtyArb(5_000),
  onOrder: qtyArb(2_000),
  hedged: qtyArb(3_000),
  dailyConsumption: qtyArb(200),
  bufferStock: qtyArb(500),
  reorderPoint: qtyArb(1_500),
  leadTimeDays: fc.integer({ min: 0, max: 30 }),
  exposureQty: fc.integer({ min: -1_000, max: 10_000 }).map(String),
  standardUnitCost: priceArb,
  marketUnitPrice: priceArb,
  carryingPerUnitDay: fc.integer({ min: 0, max: 500 }).map((m) => new Decimal(m).dividedBy(1000).toString()),
  priceCap: fc.option(priceArb, { nil: undefined }),
  hedge: fc.option(
    fc.record({
      position: qtyArb(5_000),
      lastPrice: fc.double({ min: 1, max: 200, noNaN: true }),
      // Either a single instrument (undefined) or a strip of monthly contracts.
      contracts: fc.option(
        fc.array(fc.record({ position: qtyArb(3_000), price: priceArb, exposureQty: qtyArb(6_000) }), { minLength: 1, maxLength: 4 }).map((list) =>
          list.map((c, k) => ({ ...c, month: `2024-${String(k + 1).padStart(2, '0')}`, monthsAhead: k })),
        ),
        { nil: undefined },
      ),
    }),
    { nil: undefined },
  ),
  sigmaLeadTimeDemand: qtyArb(400),
  sigmaLeadTimeDays: fc.constantFrom(0, 0.5),
  orderFixedCost: fc.integer({ min: 0, max: 200 }).map(String),
  emergencyPremium: fc.integer({ min: 0, max: 60 }).map((p) => new Decimal(p).dividedBy(100).toString()),
  scheduleFired: fc.boolean(),
  daysToNextSchedule: fc.option(fc.integer({ min: 1, max: 31 }), { nil: undefined }),
});

/** A sequence of contexts one day apart, starting at T0, each signal carrying the fast averages of the days before it. */
export const contextSequenceArb = (maxLength: number): fc.Arbitrary<StrategyContext[]> =>
  fc.array(contextSpecArb, { minLength: 1, maxLength }).map((specs) => {
    const history: { at: number; fast: number }[] = [];
    return specs.map((spec, day) => {
      const at = T0 + day * DAY;
      const context = makeContext({ ...spec, at, fastHistory: [...history] });
      if (Number.isFinite(context.signal.fast)) history.push({ at: context.signal.barAt, fast: context.signal.fast });
      return context;
    });
  });

export interface SimulationDay {
  readonly day: number;
  /** On hand after the day's consumption, before the day's deliveries could help. */
  readonly onHandAfterConsumption: Decimal;
  readonly intents: readonly Intent[];
  readonly position: Decimal;
}

/**
 * Runs `strategy` over `days` days of constant consumption: each day the orders due arrive,
 * production consumes, then the strategy decides on the resulting position and its buys
 * arrive `leadTimeDays` later (the next morning at the earliest). Returns the day-by-day record.
 */
export function simulate(
  strategy: Strategy,
  options: {
    days: number;
    openingOnHand: Qty;
    dailyConsumption?: Qty;
    leadTimeDays?: number;
    bufferStock?: Qty;
    reorderPoint?: Qty;
    contextFor?: (day: number) => ContextSpec;
  },
): SimulationDay[] {
  const daily = dec(options.dailyConsumption ?? 10);
  const lead = options.leadTimeDays ?? 2;
  let onHand = dec(options.openingOnHand);
  const arrivals = new Map<number, Decimal>();
  const record: SimulationDay[] = [];
  for (let day = 0; day < options.days; day += 1) {
    onHand = onHand.plus(arrivals.get(day) ?? 0);
    arrivals.delete(day);
    onHand = onHand.minus(daily);
    const onHandAfterConsumption = onHand;
    const onOrder = [...arrivals.values()].reduce((acc, q) => acc.plus(q), new Decimal(0));
    const context = makeContext({
      dailyConsumption: daily,
      leadTimeDays: lead,
      bufferStock: options.bufferStock ?? 20,
      reorderPoint: options.reorderPoint ?? daily.times(lead).plus(options.bufferStock ?? 20),
      ...options.contextFor?.(day),
      at: T0 + day * DAY,
      onHand,
      onOrder,
    });
    const intents = strategy.decide(context);
    const bought = qtyOf(intents.filter((i) => i.instrument === context.instrument));
    const due = day + Math.max(1, lead);
    if (!bought.isZero()) arrivals.set(due, (arrivals.get(due) ?? new Decimal(0)).plus(bought));
    record.push({ day, onHandAfterConsumption, intents, position: onHand.plus(onOrder).plus(bought) });
  }
  return record;
}
