/**
 * The strategy interface. Strategies live in `strategies/`, import only this file and the
 * value types it re-exports, and return intents; the one order pipeline turns intents into
 * orders. A strategy sees only as-of views: the bar that just closed, the signal on it, the
 * cost feed and positions as known at that instant. It never sees a later bar or a cost
 * before its knownAt, because the engine builds the context from nothing else.
 */
import type { z } from 'zod';
import type { Decimal } from '../core/decimal.js';
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
}

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
}

/** A running strategy: stateful, one per run, called once per material per decision point. */
export interface Strategy {
  readonly name: string;
  decide(context: StrategyContext): readonly Intent[];
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
}

/** Helper so strategy files get their parameter type inferred. */
export function defineStrategy<P>(definition: StrategyDefinition<P>): StrategyDefinition<P> {
  return definition;
}
