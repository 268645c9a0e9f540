/**
 * The input of the HTML backtest report: presentation data, already rounded and formatted
 * by the backtester. The report does no arithmetic on money; it draws the numbers it is
 * given and prints the strings verbatim (escaped). Numbers are plain JavaScript numbers
 * (finite, or null where a value does not exist yet, such as a moving average before its
 * window is full); tables hold strings.
 *
 * Series are columnar: one array per column, all the same length as the series' `t`
 * (epoch milliseconds, UTC, strictly increasing). This is the layout the charts draw
 * from, and it keeps 30 years of daily data for several materials small and fast.
 */
import type { EpochMs } from '../core/time.js';

/** The version of this shape, embedded in the report so a reader of the JSON can tell. */
export const REPORT_FORMAT_VERSION = 1;

export interface BacktestReportData {
  /** Heading and page title, e.g. "Ammonia plant on Henry Hub gas: ma-procurement". */
  title: string;
  scenario: ScenarioInfo;
  /** Currency of every price and cost in the charts, e.g. "USD"; used in axis labels. */
  currency: string;
  /**
   * The simulated venue's assumptions (fills, fees, slippage, emergency premium, carrying
   * rate...), one sentence each, printed verbatim as a list.
   */
  assumptions: string[];
  /**
   * The results table. `columns` are the strategies compared (e.g. ["ma-procurement",
   * "jit", "schedule"]); each row is one measure (effective unit cost per material and per
   * product unit, period-average price, standard cost, total spend, fees, carrying cost,
   * hedge P&L, hedge effectiveness, stockouts, peak and average inventory, cost variance
   * against standard, orders, denials) with one formatted value per column, null for "not
   * applicable". Rows are printed in the given order.
   */
  summary: SummaryTable;
  /** One entry per material, in display order; each gets a price, an inventory and a unit-cost chart. */
  materials: MaterialReport[];
  /** Cumulative hedge result over the whole run; null when the strategy does not hedge (no chart). */
  hedgePnl: HedgePnlSeries | null;
  /** The ranked parameter sweep with its walk-forward split; null when no sweep was run. */
  sweep: SweepTable | null;
  /** Every risk denial, in time order. */
  denials: DenialRow[];
  /** Every stockout (covered by an emergency purchase), in time order. */
  stockouts: StockoutRow[];
  /**
   * Warnings about the run, shown at the top (stockouts or skipped orders above 2 % of the
   * days, each naming its likely cause), one sentence each; absent or empty when none.
   */
  warnings?: string[];
}

export interface ScenarioInfo {
  /** Scenario name from the scenario file. */
  name: string;
  /** Path of the scenario file as given on the command line. */
  file: string;
  /** Hash of the validated, frozen configuration (hex), stamped on every result. */
  configHash: string;
  /** Random seed of the run. */
  seed: number;
  /** First simulated day, `YYYY-MM-DD`. */
  from: string;
  /** Last simulated day, `YYYY-MM-DD`. */
  to: string;
  /** Strategy and its parameters as one line, e.g. "ma-procurement fast=20 slow=100 maxCoverDays=60". */
  strategy: string;
}

export interface SummaryTable {
  /** Column headings for `values` (the label column has no heading). */
  columns: string[];
  /** One row per measure; `values` has one entry per column, null printed as a dash. */
  rows: { label: string; values: (string | null)[] }[];
}

export interface MaterialReport {
  /** Stable identifier (e.g. "natgas"); chart ids are derived from it: `price-natgas`. */
  id: string;
  /** Display name, e.g. "Natural gas (Henry Hub)". */
  name: string;
  /** Quantity unit, e.g. "MMBtu"; prices are in currency per unit. */
  unit: string;
  price: PriceSeries;
  /** Procurement and hedge fills on this material, in time order. */
  trades: TradeMarker[];
  inventory: InventorySeries;
  unitCost: UnitCostSeries;
}

/** Bar closes and the two moving averages of the signal. */
export interface PriceSeries {
  t: EpochMs[];
  close: number[];
  /** Fast moving average; null until its window is full. */
  fastMa: (number | null)[];
  /** Slow moving average; null until its window is full. */
  slowMa: (number | null)[];
  /** Legend labels for the averages, e.g. "MA 20" and "MA 100". */
  fastLabel: string;
  slowLabel: string;
}

export const TradeSide = { buy: 'buy', sell: 'sell' } as const;
export type TradeSide = (typeof TradeSide)[keyof typeof TradeSide];

/** One fill, drawn as a marker on the price chart (buys up, sells down). */
export interface TradeMarker {
  /** Fill time; the marker sits on the last bar at or before it. */
  t: EpochMs;
  /** Fill price (currency per unit). */
  price: number;
  side: TradeSide;
  /** The intent's reason: `procure`, `hedge`, `unwind`, `forced-reorder`. Shown on hover. */
  reason: string;
  /** Filled quantity in the material's unit. */
  qty: number;
}

/** End-of-day stock against the levels the strategy keeps. */
export interface InventorySeries {
  t: EpochMs[];
  onHand: number[];
  /** Buffer (safety) stock level; null where not defined. */
  buffer: (number | null)[];
  /** Reorder point; null where not defined. */
  reorderPoint: (number | null)[];
}

/** Cumulative effective unit cost (total cost so far / quantity consumed so far). */
export interface UnitCostSeries {
  t: EpochMs[];
  /** The strategy under test; null before anything was consumed. */
  strategy: (number | null)[];
  /** The just-in-time baseline. */
  jit: (number | null)[];
  /** The scheduled-tranches baseline. */
  schedule: (number | null)[];
}

/** Cumulative hedge result: realised plus marked-to-market, in currency. */
export interface HedgePnlSeries {
  t: EpochMs[];
  cumulative: number[];
}

/** A parameter sweep ranked best first, with in-sample and out-of-sample measures side by side. */
export interface SweepTable {
  /** How the split and ranking were made, printed above the table. */
  description: string;
  /** Headings for `values`, e.g. ["IS unit cost", "IS stockouts", "OOS unit cost", "OOS stockouts"]. */
  columns: string[];
  rows: { rank: number; params: string; values: (string | null)[] }[];
}

export interface DenialRow {
  /** `YYYY-MM-DD` or an ISO time. */
  date: string;
  /** Material or hedge instrument of the denied intent. */
  subject: string;
  /** The risk check that denied it, e.g. "max-notional-per-day". */
  rule: string;
  /** The check's message with the offending values. */
  detail: string;
}

export interface StockoutRow {
  /** `YYYY-MM-DD`. */
  date: string;
  material: string;
  /** Quantity short, formatted with its unit. */
  qty: string;
  /** Cost of the emergency purchase that covered it, formatted; null if not covered. */
  emergencyCost: string | null;
}
