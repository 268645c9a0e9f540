/**
 * The input of the HTML backtest report: presentation data, already rounded and formatted
 * by the report builder (`build.ts`). The page does no arithmetic on money beyond drawing and
 * thinning the numbers it is given; table cells are strings printed verbatim (escaped).
 * Numbers are plain JavaScript numbers (finite, or null where a value does not exist, such as
 * a moving average before its window is full).
 *
 * Series are columnar: one array per column, all as long as the series' `t` (epoch
 * milliseconds, UTC, strictly increasing). This is the layout the charts draw from, and it
 * keeps 30 years of daily data for several materials small and fast.
 */
import type { EpochMs } from '../core/time.js';

/** The version of this shape, embedded in the report so a reader of the JSON can tell. */
export const REPORT_FORMAT_VERSION = 2;

export interface BacktestReportData {
  /** Heading and page title, e.g. "ammonia-henry-hub: ma-procurement". */
  title: string;
  scenario: ScenarioInfo;
  /** Currency of every price and cost, e.g. "USD"; used in chart captions. */
  currency: string;
  /** The product whose unit cost is compared, e.g. { id: "ammonia", unit: "t" }. */
  product: { id: string; unit: string };
  /** The runs compared: the strategy first, then the baselines (e.g. ["ma-procurement", "jit", "schedule"]). */
  runs: string[];
  /** The result in words, printed first. */
  headline: Headline;
  /**
   * Banner lines printed above the headline: the runs' warnings (stockouts or skipped orders
   * above 2 % of the days, each naming its likely cause), one sentence each; empty when none.
   */
  warnings: string[];
  /**
   * The simulated venue's assumptions (fills, fees, slippage, emergency premium, carrying
   * rate...), one sentence each, printed verbatim as a list.
   */
  assumptions: string[];
  /** The results table: one row per measure, one column per run. */
  summary: SummaryTable;
  /** The strategy's cumulative saving against each baseline, day by day. */
  savings: SavingsSeries;
  /** Rolling-window savings against each baseline; null when the result has none. */
  rolling: RollingSavings | null;
  /** One entry per material, in display order; each gets a price-and-trades and a days-of-cover chart. */
  materials: MaterialReport[];
  /** Every fill of the strategy's run and every emergency purchase, for the sortable, filterable trade list. */
  trades: TradeList;
  /** Hedge ratio against exposure and hedge P&L; null when no material has a hedge instrument. */
  hedge: HedgeReport | null;
  /** Cost against the standard in force, month by month. */
  budget: BudgetSeries;
  /** Per-year figures for the strategy and each baseline. */
  years: YearTable;
  /** The parameter sweep with its walk-forward split; null when no sweep was run. */
  sweep: SweepReport | null;
  /** Every risk denial, in time order. */
  denials: DenialRow[];
  /** Every stockout (covered by an emergency purchase), in time order. */
  stockouts: StockoutRow[];
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

/** The result in words: one sentence per baseline, e.g. "ma-procurement cost 2.50 USD per t of ammonia more than jit (1.08 %): 39,988,467 USD over the run." */
export interface Headline {
  /** The verdict in one line, e.g. "ma-procurement lost to jit and to schedule.". */
  lead: string;
  /**
   * Per baseline: the verdict of the point estimate, whether a block-bootstrap interval of
   * the saving excludes zero (null when the result has no interval), and the sentence.
   */
  sentences: { baseline: string; verdict: HeadlineVerdict; distinguishable: boolean | null; text: string }[];
}

export const HeadlineVerdict = { saved: 'saved', lost: 'lost', even: 'even' } as const;
export type HeadlineVerdict = (typeof HeadlineVerdict)[keyof typeof HeadlineVerdict];

export interface SummaryTable {
  /** Column headings for `values` (the label column has no heading). */
  columns: string[];
  /** One row per measure; `values` has one entry per column, null printed as a dash. */
  rows: { label: string; values: (string | null)[] }[];
}

/**
 * Cumulative saving in currency: the baseline's effective cost of what was consumed so far
 * minus the strategy's (positive = the strategy was cheaper). Stock still held is valued at
 * each day's market price, so the last point is the run's saving.
 */
export interface SavingsSeries {
  t: EpochMs[];
  baselines: { name: string; saving: (number | null)[] }[];
}

/** Savings over rolling windows (the result's analysis), per baseline and window length. */
export interface RollingSavings {
  /** How the windows were made, printed above the table. */
  description: string;
  baselines: {
    name: string;
    /** The window length, e.g. "12 months" or "horizon (30 days)". */
    window: string;
    /** Window end dates (epoch ms) and the saving in each window, in percent of the baseline's product cost. */
    t: EpochMs[];
    savingPercent: number[];
    median: number;
    p10: number;
    p90: number;
    /** Share of windows the strategy won, 0..1. */
    shareWon: number;
  }[];
}

export interface MaterialReport {
  /** Stable identifier (e.g. "natgas"); chart ids are derived from it: `price-natgas`. */
  id: string;
  /** Display name, e.g. "Natural gas (Henry Hub)". */
  name: string;
  /** Quantity unit, e.g. "MMBtu". */
  unit: string;
  price: PriceSeries;
  /** The strategy's decisions worth seeing on the price chart (not routine buys for consumption), in time order. */
  markers: TradeMarker[];
  /** How many fills of each kind the run made on this material, routine ones included. */
  tradeCounts: Partial<Record<TradeKind, number>>;
  cover: CoverSeries;
}

/** Bar closes and the two moving averages of the signal, in the series' quoted unit. */
export interface PriceSeries {
  t: EpochMs[];
  close: number[];
  /** Fast moving average; null until its window is full. */
  fastMa: (number | null)[];
  /** Slow moving average; null until its window is full. */
  slowMa: (number | null)[];
  /** Legend labels for the averages, e.g. "EMA 10" and "EMA 40". */
  fastLabel: string;
  slowLabel: string;
  /** How the series quotes, e.g. "USD/MMBtu" (the chart's unit caption). */
  priceUnit: string;
}

/**
 * Why a trade was made, as the analyst reads it: `buy-ahead` (bought ahead of need on the
 * signal), `forced-reorder` (stock position fell to the reorder point), `emergency` (a
 * stockout covered at a premium), `hedge` and `unwind` (the hedge instrument), `roll-off` (a
 * hedge contract settled when its month comes), `routine` (buys for consumption, as the
 * baselines make them). Routine buys and roll-offs are listed and counted, not drawn.
 */
export const TradeKind = {
  buyAhead: 'buy-ahead',
  forcedReorder: 'forced-reorder',
  emergency: 'emergency',
  hedge: 'hedge',
  unwind: 'unwind',
  rollOff: 'roll-off',
  routine: 'routine',
} as const;
export type TradeKind = (typeof TradeKind)[keyof typeof TradeKind];

/** One fill, drawn as a marker on the price chart; the marker's shape says its kind. */
export interface TradeMarker {
  /** Fill time; the marker sits on the last bar at or before it. */
  t: EpochMs;
  /** Fill price in the price chart's unit. */
  price: number;
  kind: TradeKind;
  side: 'buy' | 'sell';
  /** Filled quantity in the material's unit. */
  qty: number;
}

/**
 * Days of cover: stock divided by the planned daily consumption. `onHand` is the stock in the
 * warehouse, `position` adds what is on order; the reorder point is compared with the
 * position (it includes the demand over the lead time), the buffer with what is on hand.
 */
export interface CoverSeries {
  t: EpochMs[];
  onHand: (number | null)[];
  position: (number | null)[];
  buffer: (number | null)[];
  reorderPoint: (number | null)[];
  /** The material's lead time in days, quoted in the chart's explanation. */
  leadTimeDays: number;
}

/** The trade list, columnar; quantities and money as exact decimal strings. */
export interface TradeList {
  t: EpochMs[];
  material: string[];
  instrument: string[];
  kind: TradeKind[];
  side: ('buy' | 'sell')[];
  /** Material units. */
  qty: string[];
  /** Per material unit, in currency (fees excluded). */
  price: string[];
  fee: string[];
  /** qty x price, currency. */
  notional: string[];
}

export interface HedgeReport {
  /** Per hedged material: what was hedged against the exposure the forecast implies. */
  materials: {
    id: string;
    unit: string;
    t: EpochMs[];
    /** Forecast consumption over the horizon not covered by stock on hand or on order (before hedging). */
    exposure: number[];
    hedged: number[];
  }[];
  /** Cumulative hedge P&L (realised + marked to market, after fees) of every run that hedges. */
  pnl: { t: EpochMs[]; runs: { name: string; values: number[] }[] };
}

/** Cost against budget (the standard cost in force each day), per calendar month, per product unit. */
export interface BudgetSeries {
  /** The unit of the variance, e.g. "USD/t". */
  unit: string;
  /** First day of each month, epoch ms. */
  t: EpochMs[];
  /**
   * Per run: the month's material cost per product unit minus consumption at standard per
   * unit (positive = over budget); `unhedged` is the same run with its hedge result and
   * financing taken out (null when the run has no hedge result).
   */
  runs: { name: string; variance: number[]; unhedged: number[] | null }[];
  /** What the months add up to, per run: spread, worst month, cumulative overrun, and for hedged runs the variance removed and the dollar offset. */
  table: SummaryTable;
  /** One sentence per figure of the table, printed under it. */
  notes: string[];
}

/** A sortable table; `sort` holds the value each cell sorts by (null: sorts last). */
export interface SortableTable {
  columns: { label: string; numeric: boolean }[];
  rows: { cells: (string | null)[]; sort: (number | string | null)[]; className?: string }[];
}

/** Per-year figures (cost, saving, stockouts, carrying, hedge P&L) for each run. */
export interface YearTable extends SortableTable {
  /** What the figures mean, printed above the table. */
  description: string;
}

/**
 * The sweep: in-sample and out-of-sample product unit cost over a grid of two parameters
 * (heatmaps), the baselines on the same two spans, and the ranked table with baseline rows.
 */
export interface SweepReport {
  description: string;
  /** What a cell holds, e.g. "effective unit cost, USD per t of ammonia (lower is better)". */
  metric: string;
  /** The heatmap's axes; `y` is null for a one-parameter grid. */
  x: { name: string; values: number[] };
  y: { name: string; values: number[] } | null;
  /** Parameters beyond the two axes, held at each cell's best in-sample value (said in words); empty when none. */
  note: string;
  /** Cell values [y][x] (one row for a one-parameter grid); null where the strategy refused the set. */
  inSample: (number | null)[][];
  outOfSample: (number | null)[][];
  baselines: { name: string; inSample: number; outOfSample: number }[];
  /** The cell [y, x] of the set ranked first in sample (marked in both heatmaps); null when it is not on the grid. */
  bestInSample: [number, number] | null;
  table: SortableTable;
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
