/**
 * The daily series a backtest keeps when a report or an export asks for them. Runs that only
 * print totals (and every sweep run) pass `record: false` and skip this work entirely.
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
import { numberArray, objectArray } from './arrays.js';
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

/** An empty record for the scenario's materials. */
export function newDailyRecord(scenario: Scenario): DailyRecord {
  const materials = new Map<string, MaterialSeries>();
  for (const m of scenario.materials) {
    // Columns start in the elements kind their values need (see arrays.ts): doubles, and values or null for the averages.
    const n = numberArray;
    materials.set(m.id, {
      close: n(), unitPrice: n(), fast: objectArray(), slow: objectArray(), onHand: n(), onOrder: n(), dailyConsumption: n(), buffer: n(), reorderPoint: n(),
      forecastQty: n(), hedged: n(), exposure: n(), consumedQty: n(), stockouts: [],
      spendCents: n(), feesCents: n(), emergencyCents: n(), carryingCents: n(), hedgePnlCents: n(), financingCents: n(), costCents: n(), standardCents: n(),
    });
  }
  return { t: numberArray(), materials };
}

const cents = (value: number): number => Math.round(value * 100);

/**
 * Decimal -> number, remembered per column: many running totals (spend, fees, emergencies,
 * financing, hedged quantities) change on a few days only, and decimal.js's toNumber goes
 * through text. The same Decimal (they are immutable) gives the same number.
 */
export class NumberMemo {
  readonly #from: (Decimal | undefined)[] = [];
  readonly #to: number[] = [];
  of(column: number, value: Decimal): number {
    if (this.#from[column] !== value) {
      this.#from[column] = value;
      this.#to[column] = toNumberExact(value);
    }
    return this.#to[column]!;
  }
}

/** `value.toNumber()` (toNumberRemembered: without text when exact, else once per Decimal instance). */
export const numberOf = toNumberRemembered;

/** Appends the day's end state (after the desk's step for `day`). */
export function recordDay(record: DailyRecord, memo: NumberMemo, scenario: Scenario, desk: Desk, snapshot: CostSnapshot, day: EpochMs): void {
  record.t.push(day);
  let c = 0;
  for (const setup of scenario.materials) {
    const id = setup.id;
    const out = record.materials.get(id)!;
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
    const held = onHand + memo.of(c + 1, desk.inTransit(id));
    out.close.push(view.close);
    out.unitPrice.push(price);
    out.fast.push(Number.isNaN(view.fast) ? null : view.fast);
    out.slow.push(Number.isNaN(view.slow) ? null : view.slow);
    out.onHand.push(onHand);
    out.onOrder.push(memo.of(c + 2, desk.onOrder(id)));
    out.dailyConsumption.push(memo.of(c + 3, m.dailyConsumption));
    out.buffer.push(buffer !== 0 ? buffer : memo.of(c + 4, m.bufferStock));
    out.reorderPoint.push(reorderPoint !== 0 ? reorderPoint : memo.of(c + 5, m.reorderPoint));
    out.forecastQty.push(memo.of(c + 6, m.forecastQty));
    out.hedged.push(memo.of(c + 7, m.hedged));
    out.exposure.push(memo.of(c + 8, m.exposureQty));
    out.consumedQty.push(desk.consumedNumber(id));
    out.stockouts.push(book.stockouts);
    const spend = memo.of(c + 10, book.spend);
    const fees = memo.of(c + 11, book.fees);
    const emergency = memo.of(c + 12, book.emergencySpend);
    const carrying = desk.carryingNumber(id);
    const hedgePnl = setup.hedge === undefined ? 0 : desk.hedgePnlNumber(id);
    const financing = desk.hedgeFinancingNumber(id);
    out.spendCents.push(cents(spend));
    out.feesCents.push(cents(fees));
    out.emergencyCents.push(cents(emergency));
    out.carryingCents.push(cents(carrying));
    out.hedgePnlCents.push(cents(hedgePnl));
    const opening = numberOf(setup.openingQty) * (book.openingPrice === undefined ? price : numberOf(book.openingPrice));
    out.financingCents.push(cents(financing));
    out.costCents.push(cents(spend + fees + emergency + carrying + financing - hedgePnl + opening - held * price));
    out.standardCents.push(cents(desk.standardValueNumber(id)));
    c += 16;
  }
}
