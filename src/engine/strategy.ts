/**
 * The strategy interface. Strategies live in `strategies/`, import only this file and the
 * value types it re-exports, and return intents; the one order pipeline turns intents into
 * orders. A strategy sees only as-of views: the bar that just closed, the signal on it, the
 * cost feed and positions as known at that instant. It never sees a later bar or a cost
 * before its knownAt, because the engine builds the context from nothing else.
 *
 * One rule, both engines: a strategy's decision is written once as a rule over plain numbers
 * (`FastStrategy` over `RuleContext`). The exact engine runs it through `ruleContextOf` (this
 * context as numbers) and turns its quantities into exact Decimal intents (strategies/common.ts
 * `ruleStrategy`, `intentsOf`); the screening engine of a sweep gets the same rule from
 * `StrategyDefinition.fast` and feeds it from its own plain-number day. See docs/strategies.md.
 */
import type { z } from 'zod';
import type { Decimal } from '../core/decimal.js';
import type { MaterialNumber } from '../costfeed/index.js';
import { toNumberExact, toNumberRemembered } from '../core/decimal-number.js';
import type { EpochMs } from '../core/time.js';
import type { Intent, IntentCause, IntentReason, Side } from '../pipeline/types.js';

export type { Decimal, EpochMs, Intent, IntentCause, IntentReason, Side };
/** The inverse standard normal CDF (plain numbers), for strategies that turn a probability into a safety factor. */
export { inverseNormalCdf } from '../costfeed/normal.js';

/** The moving-average crossover on the material's price series, at the bar that just closed. */
export interface SignalView {
  /** 1 fast above slow, 0 otherwise, undefined until both averages exist. */
  readonly state: 0 | 1 | undefined;
  /** Set on the bar where the state changed. */
  readonly crossing: 'up' | 'down' | undefined;
  readonly fast: number;
  readonly slow: number;
  /** Label time of the bar these values are on (its close is known by the decision time). */
  readonly barAt: EpochMs;
  /**
   * The fast average `bars` closed bars before this one, with that bar's label time
   * (undefined when not known). The desk keeps this history from the bars it was fed, so a
   * live run restarted from its stored candles sees the same history as a backtest.
   */
  fastAgo(bars: number): { readonly at: EpochMs; readonly fast: number } | undefined;
  /**
   * The signal's own walk-forward track record, when the strategy asked for one
   * (StrategyNeeds.signal.track): over the bars seen so far, how often a rising fast average
   * (fast now above fast `trendBars` bars earlier) was followed by a higher close
   * `horizonBars` bars later. Each prediction is scored only once that later bar has closed,
   * so the record as of a decision uses nothing after it.
   */
  readonly track: SignalTrack | undefined;
}

export interface SignalTrack {
  /** Rising predictions already scored. */
  readonly trials: number;
  /** Of them, followed by a higher close `horizonBars` later. */
  readonly hits: number;
  readonly trendBars: number;
  readonly horizonBars: number;
  /** Mean relative change of the close over the horizon after a rising prediction (scored ones). */
  readonly meanRiseAfterUp: number;
}

/** The inventory position of one material, as known now (from the ledger, open orders and hedges). */
export interface InventoryView {
  readonly onHand: Decimal;
  /** Bought, not yet delivered (open orders and goods in transit). */
  readonly onOrder: Decimal;
  /** Quantity covered by hedge positions. */
  readonly hedged: Decimal;
  /** Forecast consumption per day from the production plan and the BOM. */
  readonly dailyConsumption: Decimal;
  /** (on hand + on order) / daily consumption; Infinity when nothing is consumed. */
  readonly daysOfCover: number;
  /** The cost feed's buffer stock: z(service level) x sigmaLeadTimeDemand. */
  readonly bufferStock: Decimal;
  /** Lead-time demand + buffer stock. */
  readonly reorderPoint: Decimal;
  /**
   * sigma_LT: standard deviation of demand over the lead time, in material units,
   * sqrt(L x sigma_d^2 + d^2 x sigma_L^2), sigma_d from consumption against plan and sigma_L
   * from order-to-receipt times (see docs/cost-feed.md). A strategy sizing its own safety
   * stock multiplies it by its own z.
   */
  readonly sigmaLeadTimeDemand: Decimal;
  readonly leadTimeDays: number;
  /**
   * sigma_L: standard deviation of the order-to-receipt times in days (0 while every delivery
   * came exactly `leadTimeDays` after its order; in a backtest only a fill that waited for a late
   * bar makes it positive).
   */
  readonly sigmaLeadTimeDays: number;
  /** Forecast consumption over the horizon that is neither on hand, on order nor hedged. */
  readonly exposureQty: Decimal;
  readonly horizonDays: number;
  /**
   * Optional, for the exact engine's rule context (`ruleContextOf`): one of these figures as the
   * double nearest to it, what `toNumberExact` of its Decimal gives, without making the Decimal.
   */
  numberOf?(figure: InventoryNumber): number;
}

/** The InventoryView figures `numberOf` gives as doubles: the cost feed's MaterialNumbers figures. */
export type InventoryNumber = MaterialNumber;

/** Cost figures a strategy may weigh, per material unit unless named otherwise. */
export interface CostView {
  readonly standardUnitCost: Decimal;
  /** Today's market price converted to the material's unit. */
  readonly marketUnitPrice: Decimal;
  /** Carrying cost of one unit for one day (value x annual rate / 365 + storage). */
  readonly carryingPerUnitDay: Decimal;
  /** Replacement cost of one unit of each product that consumes this material (BOM x market + conversion). */
  readonly productReplacementCost: ReadonlyMap<string, Decimal>;
  /** Standard cost of one unit of each of those products (BOM x standard + standard conversion). */
  readonly productStandardCost: ReadonlyMap<string, Decimal>;
  /** The price cap per material unit derived from the products' target unit cost (undefined: no cap). */
  readonly priceCap: Decimal | undefined;
  /** knownAt of the newest ledger figure behind these numbers. */
  readonly knownAt: EpochMs;
  /** The plant's carrying rate per year (cost of capital + insurance), applied to the value held. */
  readonly carryingAnnualRate: Decimal;
  /** Storage per unit per day. */
  readonly storagePerUnitDay: Decimal;
  /** The venue's fixed fee per order (the order cost of an EOQ), in currency. */
  readonly orderFixedCost: Decimal;
  /** The venue's fee on notional, as a share (0.0002 = 2 bps), plus slippage. */
  readonly orderFeeRate: Decimal;
  /** A stockout is covered at market x (1 + this premium). */
  readonly emergencyPremium: Decimal;
}

/** One hedge contract a strategy may hold, as known now. */
export interface HedgeContractView {
  /** Instrument id to use in intents. */
  readonly instrument: string;
  /** `YYYY-MM` of the consumption month the contract covers; undefined for a single instrument hedging the whole horizon (a live spot hedge). */
  readonly month: string | undefined;
  /** Months after the month in progress (0: this month); undefined for the single instrument. */
  readonly monthsAhead: number | undefined;
  /** Position in material units. */
  readonly position: Decimal;
  /** Its price per material unit (the forward, futures or swap price, not spot). */
  readonly price: Decimal;
  /**
   * The forecast consumption of its month that stock on hand and on order do not cover (stock
   * covers the earliest days first; for the month in progress, the days already consumed count
   * too, as the contract settles on, or tracks, the whole month). For the single instrument:
   * the horizon's exposure plus what is hedged, the quantity a ratio applies to.
   */
  readonly exposureQty: Decimal;
}

export interface HedgeView {
  /** The hedge instrument (the family id of a strip of monthly contracts). */
  readonly instrument: string;
  /** Total hedge position in material units, all contracts. */
  readonly position: Decimal;
  /** Price of the nearest contract in the index's quoted unit. */
  readonly lastPrice: number;
  /** The contracts that can be traded now, nearest first. */
  readonly contracts: readonly HedgeContractView[];
}

/** Everything a strategy sees at one decision point for one material. */
export interface StrategyContext {
  /** Close time of the bar just seen (the simulated or real clock's now). */
  readonly at: EpochMs;
  readonly material: string;
  /** The procurement instrument id for this material (use it in intents). */
  readonly instrument: string;
  /** Last close in the series' own unit. */
  readonly lastPrice: number;
  readonly signal: SignalView;
  readonly inventory: InventoryView;
  readonly cost: CostView;
  readonly hedge: HedgeView | undefined;
  /** True when the run's cron schedule fired since the previous decision point. */
  readonly scheduleFired: boolean;
  /** Days until the schedule next fires (for tranche sizing), when known. */
  readonly daysToNextSchedule: number | undefined;
  /**
   * The tradeable hedge contracts as a rule reads them (RuleContext.contracts), when the engine
   * has their figures as numbers without building `hedge`'s Decimals: the same numbers, in the
   * same order, as converting `hedge.contracts`. Absent, or undefined: they come from `hedge`.
   * Like RuleContext.contracts they are read during the decision only: the engine may refill
   * the same array and objects at its next decision point.
   */
  ruleContracts?(): readonly RuleContract[] | undefined;
}

/** A running strategy: stateful, one per run, called once per material per decision point. */
export interface Strategy {
  readonly name: string;
  decide(context: StrategyContext): readonly Intent[];
}

/**
 * The numbers a strategy's rule reads at one decision point for one material: the figures of
 * StrategyContext as plain numbers, flat. Both engines feed it: the exact engine from its
 * exact figures (`ruleContextOf`), the screening engine from its own day over plain numbers.
 * A strategy's rule is written ONCE against it (`FastStrategy`) and both engines run that
 * rule: the exact engine turns the rule's quantities into exact Decimal intents
 * (`intentsOf` in strategies/common.ts), the screening engine uses them as they are.
 *
 * Conventions: a figure that may be missing is NaN (never undefined), flags are booleans,
 * the signal's state and crossing are small integers. The screening engine reuses one object
 * per material per day, so a rule must not keep a reference to it (nor to `contracts`) past
 * its `decide` call; per-material state is kept by `materialIndex`.
 */
export interface RuleContext {
  /** Close time of the bar just seen. */
  readonly at: EpochMs;
  /** UTC calendar year of `at` (budget years). */
  readonly year: number;
  readonly material: string;
  /** The material's position in the scenario (0, 1, ...): rules keep per-material state by it. */
  readonly materialIndex: number;
  /** Last close in the series' own unit. */
  readonly lastPrice: number;
  /** Today's market price per material unit (CostView.marketUnitPrice). */
  readonly price: number;
  /** 1 fast above slow, 0 otherwise, -1 until both averages exist. */
  readonly signalState: number;
  /** 1 on the bar the state turned up, -1 on the bar it turned down, 0 otherwise. */
  readonly crossing: number;
  readonly fast: number;
  readonly slow: number;
  /** Label time of the bar the signal is on. */
  readonly barAt: EpochMs;
  /** The fast average `bars` closed bars before this one; NaN when not known (see SignalView.fastAgo). */
  fastAgo(bars: number): number;
  /** The label time of that bar; NaN when not known. */
  barAtAgo(bars: number): number;
  /** SignalView.track as numbers: scored rising predictions (0 without a track record). */
  readonly trackTrials: number;
  /** Of them, followed by a higher close. */
  readonly trackHits: number;
  /** Mean relative rise after a rising prediction (0 without a record or trials). */
  readonly trackMeanRise: number;
  readonly onHand: number;
  readonly onOrder: number;
  readonly hedged: number;
  readonly dailyConsumption: number;
  readonly bufferStock: number;
  readonly reorderPoint: number;
  readonly sigmaLeadTimeDemand: number;
  readonly leadTimeDays: number;
  readonly sigmaLeadTimeDays: number;
  readonly exposureQty: number;
  readonly horizonDays: number;
  readonly standardUnitCost: number;
  readonly carryingPerUnitDay: number;
  /** The price cap per material unit; NaN when there is none. */
  readonly priceCap: number;
  /** True when some product consuming the material costs more to make at market than at standard. */
  readonly marginAtRisk: boolean;
  readonly carryingAnnualRate: number;
  readonly storagePerUnitDay: number;
  readonly orderFixedCost: number;
  readonly orderFeeRate: number;
  readonly emergencyPremium: number;
  readonly scheduleFired: boolean;
  /** Days until the schedule next fires; NaN when not known. */
  readonly daysToNextSchedule: number;
  /** The hedge contracts that can be traded now, nearest first (empty without a hedge instrument). */
  readonly contracts: readonly RuleContract[];
}

/** One tradeable hedge contract as a rule sees it (see HedgeContractView). */
export interface RuleContract {
  /** Months after the month in progress; NaN for a single instrument hedging the whole horizon. */
  readonly monthsAhead: number;
  /** Calendar year of the consumption month it covers; NaN for the single instrument. */
  readonly year: number;
  readonly position: number;
  readonly price: number;
  readonly exposureQty: number;
}

/** A buy a rule decided: quantity in material units (the pipeline rounds it down to the lot). */
export interface RuleBuy {
  readonly qty: number;
  readonly reason: 'procure' | 'forced-reorder';
  /** Bought ahead of need: capped by the price cap from the target unit cost. */
  readonly discretionary: boolean;
}

/** What a rule decided for one material at one decision point. */
export interface RuleDecision {
  /** Procurement buys on the material's own instrument, in the order they are sent. */
  readonly buys: readonly RuleBuy[];
  /**
   * Per contract of `RuleContext.contracts` (same order): the position to trade to, or NaN to
   * leave it. Undefined: no hedge decision. A target above the position is a buy (`hedge`),
   * below it a sell (`unwind`).
   */
  readonly hedgeTargets?: readonly number[] | undefined;
}

/**
 * A strategy's rule over RuleContext (one instance per run, stateful like `Strategy`, state per
 * `materialIndex`). The exact engine runs it through the strategy's `create` (see
 * strategies/common.ts `ruleStrategy`); the screening engine gets it from `fast`. A strategy
 * without one says so by leaving `StrategyDefinition.fast` out; its sweeps then run exact.
 */
export interface FastStrategy {
  decide(context: RuleContext): RuleDecision;
}

const NO_CONTRACTS: readonly RuleContract[] = Object.freeze([]);

/**
 * The RuleContext of an exact StrategyContext: the same figures as plain numbers (each Decimal
 * correctly rounded to the nearest double), the exact engine's side of "one rule, both
 * engines". `materialIndex` is the material's position in the scenario.
 *
 * Each figure is converted when the rule first reads it and kept (a rule reads a handful of
 * the thirty; converting them all, and building the strip's contracts, was about 4 % of a
 * backtest). The context's Decimals are immutable and the snapshot behind them is fixed when
 * it is taken, so a figure read late is the figure read early.
 */
export function ruleContextOf(context: StrategyContext, materialIndex = 0): RuleContext {
  return new ExactRuleContext(context, materialIndex);
}

class ExactRuleContext implements RuleContext {
  readonly at: EpochMs;
  readonly material: string;
  readonly materialIndex: number;
  readonly lastPrice: number;
  readonly signalState: number;
  readonly crossing: number;
  readonly fast: number;
  readonly slow: number;
  readonly barAt: EpochMs;
  readonly trackTrials: number;
  readonly trackHits: number;
  readonly trackMeanRise: number;
  readonly leadTimeDays: number;
  readonly horizonDays: number;
  readonly scheduleFired: boolean;
  readonly daysToNextSchedule: number;
  readonly #context: StrategyContext;
  #year: number | undefined;
  #price: number | undefined;
  #onHand: number | undefined;
  #onOrder: number | undefined;
  #hedged: number | undefined;
  #dailyConsumption: number | undefined;
  #bufferStock: number | undefined;
  #reorderPoint: number | undefined;
  #sigmaLeadTimeDemand: number | undefined;
  #sigmaLeadTimeDays: number | undefined;
  #exposureQty: number | undefined;
  #standardUnitCost: number | undefined;
  #carryingPerUnitDay: number | undefined;
  #priceCap: number | undefined;
  #marginAtRisk: boolean | undefined;
  #carryingAnnualRate: number | undefined;
  #storagePerUnitDay: number | undefined;
  #orderFixedCost: number | undefined;
  #orderFeeRate: number | undefined;
  #emergencyPremium: number | undefined;
  #contracts: readonly RuleContract[] | undefined;

  constructor(context: StrategyContext, materialIndex: number) {
    const signal = context.signal;
    const track = signal.track;
    this.#context = context;
    this.at = context.at;
    this.material = context.material;
    this.materialIndex = materialIndex;
    this.lastPrice = context.lastPrice;
    this.signalState = signal.state === undefined ? -1 : signal.state;
    this.crossing = signal.crossing === 'up' ? 1 : signal.crossing === 'down' ? -1 : 0;
    this.fast = signal.fast;
    this.slow = signal.slow;
    this.barAt = signal.barAt;
    this.trackTrials = track?.trials ?? 0;
    this.trackHits = track?.hits ?? 0;
    this.trackMeanRise = track?.meanRiseAfterUp ?? 0;
    this.leadTimeDays = context.inventory.leadTimeDays;
    this.horizonDays = context.inventory.horizonDays;
    this.scheduleFired = context.scheduleFired;
    this.daysToNextSchedule = context.daysToNextSchedule ?? Number.NaN;
  }

  fastAgo(bars: number): number {
    return this.#context.signal.fastAgo(bars)?.fast ?? Number.NaN;
  }
  barAtAgo(bars: number): number {
    return this.#context.signal.fastAgo(bars)?.at ?? Number.NaN;
  }
  get year(): number {
    return (this.#year ??= new Date(this.at).getUTCFullYear());
  }
  get price(): number {
    return (this.#price ??= toNumberExact(this.#context.cost.marketUnitPrice));
  }
  get onHand(): number {
    return (this.#onHand ??= numberOfFigure(this.#context.inventory, 'onHand'));
  }
  get onOrder(): number {
    return (this.#onOrder ??= toNumberExact(this.#context.inventory.onOrder));
  }
  get hedged(): number {
    return (this.#hedged ??= toNumberExact(this.#context.inventory.hedged));
  }
  get dailyConsumption(): number {
    // The feed keeps the same Decimal while the plan's mean stands (a 40-digit quotient): converted once per instance.
    return (this.#dailyConsumption ??= toNumberRemembered(this.#context.inventory.dailyConsumption));
  }
  get bufferStock(): number {
    return (this.#bufferStock ??= numberOfFigure(this.#context.inventory, 'bufferStock'));
  }
  get reorderPoint(): number {
    return (this.#reorderPoint ??= numberOfFigure(this.#context.inventory, 'reorderPoint'));
  }
  get sigmaLeadTimeDemand(): number {
    return (this.#sigmaLeadTimeDemand ??= numberOfFigure(this.#context.inventory, 'sigmaLeadTimeDemand'));
  }
  get sigmaLeadTimeDays(): number {
    return (this.#sigmaLeadTimeDays ??= this.#context.inventory.sigmaLeadTimeDays);
  }
  get exposureQty(): number {
    return (this.#exposureQty ??= toNumberExact(this.#context.inventory.exposureQty));
  }
  get standardUnitCost(): number {
    return (this.#standardUnitCost ??= toNumberExact(this.#context.cost.standardUnitCost));
  }
  get carryingPerUnitDay(): number {
    // The feed keeps the same Decimal while the plant's carrying terms stand (a 40-digit quotient): converted once per instance.
    return (this.#carryingPerUnitDay ??= toNumberRemembered(this.#context.cost.carryingPerUnitDay));
  }
  get priceCap(): number {
    if (this.#priceCap === undefined) {
      const cap = this.#context.cost.priceCap;
      this.#priceCap = cap === undefined ? Number.NaN : toNumberExact(cap);
    }
    return this.#priceCap;
  }
  // Only cost-aware reads the margin, only hedging rules the contracts (pricing the strip's
  // contracts every day for every strategy was ~15 % of a backtest).
  get marginAtRisk(): boolean {
    return (this.#marginAtRisk ??= marginAtRiskOf(this.#context.cost));
  }
  get carryingAnnualRate(): number {
    return (this.#carryingAnnualRate ??= toNumberExact(this.#context.cost.carryingAnnualRate));
  }
  get storagePerUnitDay(): number {
    return (this.#storagePerUnitDay ??= toNumberExact(this.#context.cost.storagePerUnitDay));
  }
  get orderFixedCost(): number {
    return (this.#orderFixedCost ??= toNumberExact(this.#context.cost.orderFixedCost));
  }
  get orderFeeRate(): number {
    return (this.#orderFeeRate ??= toNumberExact(this.#context.cost.orderFeeRate));
  }
  get emergencyPremium(): number {
    return (this.#emergencyPremium ??= toNumberExact(this.#context.cost.emergencyPremium));
  }
  get contracts(): readonly RuleContract[] {
    if (this.#contracts === undefined) {
      // The engine's own numbers when it has them (the desk's strip: no Decimal view built on a day without a hedge order).
      const context = this.#context;
      this.#contracts = (context.ruleContracts === undefined ? undefined : context.ruleContracts()) ?? contractsOf(context.hedge);
    }
    return this.#contracts;
  }
}

/** An inventory figure as a double: through the view's `numberOf` when it has one (no Decimal made), else from its Decimal. */
function numberOfFigure(inventory: InventoryView, figure: InventoryNumber): number {
  return inventory.numberOf !== undefined ? inventory.numberOf(figure) : toNumberExact(inventory[figure]);
}

/** True when some product consuming the material costs more to make at market than at standard. */
function marginAtRiskOf(cost: CostView): boolean {
  for (const [product, replacement] of cost.productReplacementCost) {
    const standard = cost.productStandardCost.get(product);
    if (standard !== undefined && replacement.greaterThan(standard)) return true;
  }
  return false;
}

/** The hedge view's tradeable contracts as plain numbers (none without a hedge instrument). */
function contractsOf(hedge: HedgeView | undefined): readonly RuleContract[] {
  if (hedge === undefined) return NO_CONTRACTS;
  return hedge.contracts.map((c) => new ExactRuleContract(c));
}

/** A HedgeContractView as a RuleContract, each figure converted when first read (a ratio rule reads two of the five). */
class ExactRuleContract implements RuleContract {
  readonly monthsAhead: number;
  readonly #view: HedgeContractView;
  #year: number | undefined;
  #position: number | undefined;
  #price: number | undefined;
  #exposureQty: number | undefined;
  constructor(view: HedgeContractView) {
    this.#view = view;
    this.monthsAhead = view.monthsAhead ?? Number.NaN;
  }
  get year(): number {
    return (this.#year ??= this.#view.month === undefined ? Number.NaN : Number(this.#view.month.slice(0, 4)));
  }
  get position(): number {
    return (this.#position ??= toNumberExact(this.#view.position));
  }
  get price(): number {
    return (this.#price ??= toNumberExact(this.#view.price));
  }
  get exposureQty(): number {
    return (this.#exposureQty ??= toNumberExact(this.#view.exposureQty));
  }
}

/** What the engine needs from a strategy's parameters to prepare the context. */
export interface StrategyNeeds {
  readonly signal?: {
    readonly fast: number;
    readonly slow: number;
    readonly ma: 'sma' | 'ema';
    /** Keep the signal's walk-forward track record (SignalView.track) over this trend and horizon, in bars. */
    readonly track?: { readonly trendBars: number; readonly horizonBars: number } | undefined;
  };
  /**
   * The strategy sends hedge intents. Only a strategy that says so may: the desk refuses a hedge
   * intent from any other, a backtest gives the hedge contracts their bars only for one that
   * hedges, and the screening engine, which has no hedge contracts, takes the others.
   */
  readonly hedging?: boolean;
  /** The strategy acts on the run's cron schedule (the engine then fills scheduleFired and daysToNextSchedule). */
  readonly schedule?: boolean;
}

/**
 * A strategy module's default export. `params` validates the strategy's own parameters
 * (a zod schema with strict objects, so a typo is refused with its line).
 */
export interface StrategyDefinition<P = unknown> {
  readonly name: string;
  readonly description: string;
  readonly params: z.ZodType<P>;
  /** Consistency checks beyond the schema: return a message and the offending field, or undefined. */
  check?(params: P): { field: string; message: string } | undefined;
  needs(params: P): StrategyNeeds;
  create(params: P): Strategy;
  /**
   * The strategy's rule over plain numbers for the screening engine: the same rule `create`
   * runs in the exact engine, a fresh (stateful) instance per call. Absent: the strategy has
   * no fast form and its sweeps run on the exact engine.
   */
  fast?(params: P): FastStrategy;
}

/** Helper so strategy files get their parameter type inferred. */
export function defineStrategy<P>(definition: StrategyDefinition<P>): StrategyDefinition<P> {
  return definition;
}
