/**
 * The daily series a backtest keeps when a report or an export asks for them. Runs that only
 * print totals (and every sweep run) pass `record: false` and skip this work entirely; a
 * baseline run for a report alone keeps only the cost columns the report compares between runs
 * (`record: 'costs'`, CostSeries).
 *
 * Columnar: one array per column, each as long as `t` (00:00 UTC of each simulated day, after
 * that day's step). Prices and quantities are plain numbers (what charts and data frames
 * take). Money is kept CUMULATIVE, in whole cents of the plant's currency, each day rounded
 * from the exact running totals the desk keeps: the difference between any two days is then
 * exact to the cent, and a year's figure is that year's last value minus the previous year's
 * last, with no drift from summing floating-point days.
 */
import type { CostSnapshot, MaterialCost, MaterialNumbers } from '../costfeed/index.js';
import type { Decimal } from '../core/decimal.js';
import { toNumberExact, toNumberRemembered } from '../core/decimal-number.js';
import type { EpochMs } from '../core/time.js';
import type { Desk } from './desk.js';
import type { Scenario } from './scenario.js';

export interface DailyRecord {
  readonly t: EpochMs[];
  /** One entry per material, in the scenario's order. */
  readonly materials: ReadonlyMap<string, MaterialSeries>;
}

/** A material's day-end state; `...Cents` columns are cumulative money since the start. */
export interface MaterialSeries {
  /** Last known close, in the series' quoted unit (what the moving averages are computed on). */
  readonly close: number[];
  /** Last known close per material unit (close x the series' unit factor). */
  readonly unitPrice: number[];
  /** Fast and slow moving averages of the close; null until their windows are full (or without a signal). */
  readonly fast: (number | null)[];
  readonly slow: (number | null)[];
  /** Stock on hand and on order (open buy orders and goods in transit), material units. */
  readonly onHand: number[];
  readonly onOrder: number[];
  /** Mean planned consumption per day over the horizon (the cost feed's d). */
  readonly dailyConsumption: number[];
  /** Buffer (safety) stock and reorder point (lead-time demand + buffer), material units. */
  readonly buffer: number[];
  readonly reorderPoint: number[];
  /** Planned consumption over the horizon, the quantity hedged, and the exposure left open (forecast - on hand - on order - hedged, floored at 0). */
  readonly forecastQty: number[];
  readonly hedged: number[];
  readonly exposure: number[];
  /** Cumulative quantity consumed by production. */
  readonly consumedQty: number[];
  /** Cumulative days with a stockout. */
  readonly stockouts: number[];
  /** Cumulative: fills x price (procurement), fees, emergency purchases, carrying cost. */
  readonly spendCents: number[];
  readonly feesCents: number[];
  readonly emergencyCents: number[];
  readonly carryingCents: number[];
  /** Hedge result so far: realised + marked to market, after hedge fees (positive = gain). */
  readonly hedgePnlCents: number[];
  /** Financing charged on the hedge's negative mark so far (a cost). */
  readonly financingCents: number[];
  /**
   * Effective cost of what was consumed so far: spend + fees + emergency + carrying + hedge
   * financing - hedge P&L + opening stock at its price - stock held (on hand and in transit)
   * at today's price.
   * Divided by consumedQty it is the cumulative effective unit cost; its difference between
   * two runs is what one saved against the other so far.
   */
  readonly costCents: number[];
  /** What was consumed so far valued at the standard cost in force each day. */
  readonly standardCents: number[];
}

/**
 * The columns a report compares between runs: the savings (costCents), the hedge results
 * (hedgePnlCents) and the per-year table (cost, standard value, carrying, hedge result,
 * stockout days). A baseline run for a report alone records only these (`record: 'costs'`):
 * the others are read for the strategy under test and by an export.
 */
export type CostSeries = Pick<MaterialSeries, 'stockouts' | 'carryingCents' | 'hedgePnlCents' | 'costCents' | 'standardCents'>;

/** A daily record of the cost columns only (what `record: 'costs'` keeps); a full DailyRecord is one too. */
export interface CostRecord {
  readonly t: EpochMs[];
  readonly materials: ReadonlyMap<string, CostSeries>;
}

/** A material's column names. */
type Column = keyof MaterialSeries;
type CostColumn = keyof CostSeries;

/**
 * An object of every column, each `value(column)`, written as one literal in MaterialSeries' order. Built
 * key by key (`out[column] = ...`), an object of 22 keys went over V8's limit of fast properties
 * added by computed keys and was left a dictionary: every read of a column (recordDay writes 22
 * a day in each run, the report reads them per day) was a hash look-up.
 */
function byColumn<T>(value: (column: Column) => T): Record<Column, T> {
  return {
    close: value('close'),
    unitPrice: value('unitPrice'),
    fast: value('fast'),
    slow: value('slow'),
    onHand: value('onHand'),
    onOrder: value('onOrder'),
    dailyConsumption: value('dailyConsumption'),
    buffer: value('buffer'),
    reorderPoint: value('reorderPoint'),
    forecastQty: value('forecastQty'),
    hedged: value('hedged'),
    exposure: value('exposure'),
    consumedQty: value('consumedQty'),
    stockouts: value('stockouts'),
    spendCents: value('spendCents'),
    feesCents: value('feesCents'),
    emergencyCents: value('emergencyCents'),
    carryingCents: value('carryingCents'),
    hedgePnlCents: value('hedgePnlCents'),
    financingCents: value('financingCents'),
    costCents: value('costCents'),
    standardCents: value('standardCents'),
  };
}

/** The same for the cost columns (CostSeries). */
function byCostColumn<T>(value: (column: CostColumn) => T): Record<CostColumn, T> {
  return {
    stockouts: value('stockouts'),
    carryingCents: value('carryingCents'),
    hedgePnlCents: value('hedgePnlCents'),
    costCents: value('costCents'),
    standardCents: value('standardCents'),
  };
}

/**
 * A daily record while a run writes it: each column a Float64Array of the run's length (known
 * before the first day), written in place, and made into the record's plain arrays once at the
 * end (`finish`). Pushed day by day, the columns' backing stores were copied each time they
 * grew, and each copy lived long enough to be copied again by the garbage collector. `shape`
 * makes an object of the recorder's columns (byColumn or byCostColumn); `fast` and `slow` hold
 * NaN where the record has null.
 */
class ColumnRecorder<C extends Column> {
  readonly #ids: readonly string[];
  readonly #shape: <T>(value: (column: C) => T) => Record<C, T>;
  #t: Float64Array;
  #columns: Record<C, Float64Array>[];
  #days = 0;
  constructor(scenario: Scenario, days: number, shape: <T>(value: (column: C) => T) => Record<C, T>) {
    const capacity = Math.max(1, days);
    this.#ids = scenario.materials.map((m) => m.id);
    this.#shape = shape;
    this.#t = new Float64Array(capacity);
    this.#columns = scenario.materials.map(() => shape(() => new Float64Array(capacity)));
  }

  /** Days written so far. */
  get days(): number {
    return this.#days;
  }

  /** Starts day `day`: its row index, the columns grown first if the run is longer than planned. */
  row(day: EpochMs): number {
    const i = this.#days;
    if (i === this.#t.length) this.#grow(2 * i);
    this.#t[i] = day;
    this.#days = i + 1;
    return i;
  }

  /** The columns of the scenario's k-th material. */
  columns(k: number): Record<C, Float64Array> {
    return this.#columns[k]!;
  }

  /** Plain arrays of the days written (null in `fast` and `slow` where NaN), by material id. */
  protected finishColumns(): { t: EpochMs[]; materials: Map<string, Record<C, (number | null)[]>> } {
    const n = this.#days;
    const materials = new Map<string, Record<C, (number | null)[]>>();
    for (let k = 0; k < this.#ids.length; k += 1) {
      const columns = this.#columns[k]!;
      materials.set(this.#ids[k]!, this.#shape((column) => (column === 'fast' || column === 'slow' ? nullsForNaN(columns[column], n) : numbersOf(columns[column], n))));
    }
    return { t: numbersOf(this.#t, n), materials };
  }

  #grow(capacity: number): void {
    const grown = (from: Float64Array): Float64Array => {
      const to = new Float64Array(capacity);
      to.set(from);
      return to;
    };
    this.#t = grown(this.#t);
    this.#columns = this.#columns.map((columns) => this.#shape((column) => grown(columns[column])));
  }
}

/** Every column of MaterialSeries (recordDay writes them). */
export class DailyRecorder extends ColumnRecorder<Column> {
  constructor(scenario: Scenario, days: number) {
    super(scenario, days, byColumn);
  }

  /** The record. */
  finish(): DailyRecord {
    return this.finishColumns() as DailyRecord;
  }
}

/** The cost columns only (CostSeries; recordCosts writes them). */
export class CostRecorder extends ColumnRecorder<CostColumn> {
  constructor(scenario: Scenario, days: number) {
    super(scenario, days, byCostColumn);
  }

  /** The record. */
  finish(): CostRecord {
    return this.finishColumns() as CostRecord;
  }
}

/** The first n values as a plain array, allocated once at its length (Array.from of a typed array grows its result as it iterates). */
function numbersOf(values: Float64Array, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i += 1) out[i] = values[i]!;
  return out;
}

/** The same, null where NaN (the moving averages before their windows fill). */
function nullsForNaN(values: Float64Array, n: number): (number | null)[] {
  const out = new Array<number | null>(n);
  for (let i = 0; i < n; i += 1) {
    const value = values[i]!;
    out[i] = Number.isNaN(value) ? null : value;
  }
  return out;
}

const cents = (value: number): number => Math.round(value * 100);

/**
 * Decimal -> number, remembered per column: many running totals (spend, fees, emergencies,
 * financing, hedged quantities) change on a few days only, and decimal.js's toNumber goes
 * through text. The same Decimal (they are immutable) gives the same number.
 */
export class NumberMemo {
  /**
   * Both laid out for `columns` columns at once (an array of undefined, a typed array): filled
   * column by column, past their ends, the arrays changed elements kind (holes, then doubles)
   * and the code reading them was deoptimised each time. A column past them is converted each time.
   */
  readonly #from: (Decimal | undefined)[];
  readonly #to: Float64Array;
  constructor(columns: number) {
    this.#from = new Array<Decimal | undefined>(columns).fill(undefined);
    this.#to = new Float64Array(columns);
  }
  of(column: number, value: Decimal): number {
    if (column >= this.#to.length) return toNumberExact(value);
    if (this.#from[column] !== value) {
      this.#from[column] = value;
      this.#to[column] = toNumberExact(value);
    }
    return this.#to[column]!;
  }
}

/** The columns recordDay and a run's daily totals ask a NumberMemo for: at most 16 per material, and 2 more. */
export function memoColumns(materials: number): number {
  return 16 * materials + 2;
}

/** `value.toNumber()` (toNumberRemembered: without text when exact, else once per Decimal instance). */
export const numberOf = toNumberRemembered;

/**
 * A material's figures of the day that both the daily record and the run's running totals
 * (backtest.ts, DailyCosts) write, as doubles: FIGURES of them per material in a run's
 * Float64Array, the k-th material's from k x FIGURES. recordDay and recordCosts read them from
 * the desk (readFigures) and leave them there; the running totals written after them take
 * them from there instead of asking the desk for the same figures again (a book look-up and
 * six desk reads per material and day). The same doubles either way: each is read once.
 */
export const SPEND = 0;
export const FEES = 1;
export const EMERGENCY = 2;
export const CARRYING = 3;
export const FINANCING = 4;
export const HEDGE_PNL = 5;
export const STANDARD = 6;
export const CONSUMED = 7;
export const FIGURES = 8;

/**
 * Reads the `setup` material's figures of the day into `figures` from `at`: spend, fees and
 * emergency purchases through `memo` (its columns `column`, `column + 1` and `column + 2`),
 * carrying, hedge financing, hedge result (0 without a hedge), standard value and quantity consumed.
 */
export function readFigures(figures: Float64Array, at: number, memo: NumberMemo, column: number, desk: Desk, setup: Scenario['materials'][number]): void {
  const id = setup.id;
  const book = desk.book(id);
  figures[at + SPEND] = memo.of(column, book.spend);
  figures[at + FEES] = memo.of(column + 1, book.fees);
  figures[at + EMERGENCY] = memo.of(column + 2, book.emergencySpend);
  figures[at + CARRYING] = desk.carryingNumber(id);
  figures[at + FINANCING] = desk.hedgeFinancingNumber(id);
  figures[at + HEDGE_PNL] = setup.hedge === undefined ? 0 : desk.hedgePnlNumber(id);
  figures[at + STANDARD] = desk.standardValueNumber(id);
  figures[at + CONSUMED] = desk.consumedNumber(id);
}

/**
 * The opening stock at its price (the day's price while the desk has none), as recordDay and
 * recordCosts add it each day: both Decimals stand for the whole run, so `memo` (its columns
 * `column` and `column + 1`) converts each once, where numberOf looked each up every day.
 */
function openingValue(memo: NumberMemo, column: number, openingQty: Decimal, openingPrice: Decimal | undefined, price: number): number {
  return memo.of(column, openingQty) * (openingPrice === undefined ? price : memo.of(column + 1, openingPrice));
}

/** Writes the day's end state (after the desk's step for `day`), leaving each material's figures in `figures` (readFigures). */
export function recordDay(recorder: DailyRecorder, memo: NumberMemo, scenario: Scenario, desk: Desk, snapshot: CostSnapshot, day: EpochMs, figures: Float64Array): void {
  const i = recorder.row(day);
  let c = 0;
  const materials = scenario.materials;
  for (let k = 0; k < materials.length; k += 1) {
    const setup = materials[k]!;
    const id = setup.id;
    const out = recorder.columns(k);
    const view = desk.barView(id);
    const m = snapshot.materials[id]!;
    const book = desk.book(id);
    const price = view.close * setup.factorNumber;
    // Doubles the desk and the feed hold without their Decimals (the same values as toNumberExact
    // of the Decimals; a zero goes through the Decimal, whose -0 they do not keep).
    const onHandNumber = desk.onHandNumber(id);
    const onHand = onHandNumber !== 0 ? onHandNumber : memo.of(c, desk.onHand(id));
    const numbers = (m as MaterialCost & Partial<MaterialNumbers>).numberOf !== undefined ? (m as MaterialCost & MaterialNumbers) : undefined;
    const buffer = numbers === undefined ? 0 : numbers.numberOf('bufferStock');
    const reorderPoint = numbers === undefined ? 0 : numbers.numberOf('reorderPoint');
    const exposure = numbers === undefined ? 0 : numbers.numberOf('exposureQty');
    const held = onHand + memo.of(c + 1, desk.inTransit(id));
    out.close[i] = view.close;
    out.unitPrice[i] = price;
    out.fast[i] = view.fast;
    out.slow[i] = view.slow;
    out.onHand[i] = onHand;
    out.onOrder[i] = memo.of(c + 2, desk.onOrder(id));
    out.dailyConsumption[i] = memo.of(c + 3, m.dailyConsumption);
    out.buffer[i] = buffer !== 0 ? buffer : memo.of(c + 4, m.bufferStock);
    out.reorderPoint[i] = reorderPoint !== 0 ? reorderPoint : memo.of(c + 5, m.reorderPoint);
    out.forecastQty[i] = memo.of(c + 6, m.forecastQty);
    out.hedged[i] = memo.of(c + 7, m.hedged);
    out.exposure[i] = exposure !== 0 ? exposure : memo.of(c + 8, m.exposureQty);
    const f = k * FIGURES;
    readFigures(figures, f, memo, c + 10, desk, setup);
    out.consumedQty[i] = figures[f + CONSUMED]!;
    out.stockouts[i] = book.stockouts;
    out.spendCents[i] = cents(figures[f + SPEND]!);
    out.feesCents[i] = cents(figures[f + FEES]!);
    out.emergencyCents[i] = cents(figures[f + EMERGENCY]!);
    out.carryingCents[i] = cents(figures[f + CARRYING]!);
    out.hedgePnlCents[i] = cents(figures[f + HEDGE_PNL]!);
    const opening = openingValue(memo, c + 13, setup.openingQty, book.openingPrice, price);
    out.financingCents[i] = cents(figures[f + FINANCING]!);
    out.costCents[i] = cents(costOfDay(figures, f, opening, held, price));
    out.standardCents[i] = cents(figures[f + STANDARD]!);
    c += 16;
  }
}

/**
 * The material's cost to date as of the day (the cost column): what was paid (spend, fees,
 * emergency buys, carrying, hedge financing, less the hedge result) plus the opening stock's
 * value, less what is held at the day's price. One expression for recordDay and recordCosts,
 * summed in this order, so the two record the same cents.
 */
function costOfDay(figures: Float64Array, f: number, opening: number, held: number, price: number): number {
  return figures[f + SPEND]! + figures[f + FEES]! + figures[f + EMERGENCY]! + figures[f + CARRYING]! + figures[f + FINANCING]! - figures[f + HEDGE_PNL]! + opening - held * price;
}

/**
 * Writes the day's cost columns (CostSeries) alone: recordDay's figures for them, in the same
 * arithmetic, without reading what only the other columns need (the cost feed's buffer, reorder
 * point and exposure, the open orders, the moving averages).
 */
export function recordCosts(recorder: CostRecorder, memo: NumberMemo, scenario: Scenario, desk: Desk, day: EpochMs, figures: Float64Array): void {
  const i = recorder.row(day);
  let c = 0;
  const materials = scenario.materials;
  for (let k = 0; k < materials.length; k += 1) {
    const setup = materials[k]!;
    const id = setup.id;
    const out = recorder.columns(k);
    const view = desk.barView(id);
    const book = desk.book(id);
    const price = view.close * setup.factorNumber;
    const onHandNumber = desk.onHandNumber(id);
    const onHand = onHandNumber !== 0 ? onHandNumber : memo.of(c, desk.onHand(id));
    const held = onHand + memo.of(c + 1, desk.inTransit(id));
    out.stockouts[i] = book.stockouts;
    const f = k * FIGURES;
    readFigures(figures, f, memo, c + 10, desk, setup);
    out.carryingCents[i] = cents(figures[f + CARRYING]!);
    out.hedgePnlCents[i] = cents(figures[f + HEDGE_PNL]!);
    const opening = openingValue(memo, c + 13, setup.openingQty, book.openingPrice, price);
    out.costCents[i] = cents(costOfDay(figures, f, opening, held, price));
    out.standardCents[i] = cents(figures[f + STANDARD]!);
    c += 16;
  }
}
