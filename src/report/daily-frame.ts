/**
 * A backtest's daily series and trades as danfojs-node data frames: what `procura backtest
 * --export DIR` writes (CSV, and JSON with --json) and what the report's per-year table is a
 * group-by over. Long format: one row per run (the strategy and each baseline), day and
 * material, so a reader's pandas, R or spreadsheet can filter and pivot it as they like.
 *
 * danfo (and TensorFlow.js under it, a second or more to load) is imported lazily, only by
 * the commands that build a frame: a backtest that writes neither a report nor an export
 * never loads it.
 */
import { Decimal } from '../core/decimal.js';
import { formatDate, formatTime } from '../core/time.js';
import type { CostRecord, DailyRecord, MaterialDaily } from '../engine/backtest.js';
import type { BacktestResult } from '../engine/results.js';
import type { RunResult } from '../engine/backtest.js';
import { tradeKindOf } from './trade-kind.js';

type Danfo = typeof import('danfojs-node');
let danfo: Promise<Danfo> | undefined;
/** danfojs-node, loaded on first use. */
export function loadDanfo(): Promise<Danfo> {
  danfo ??= import('danfojs-node');
  return danfo;
}
type DataFrame = InstanceType<Danfo['DataFrame']>;

/** A column of an export: its name and what it holds (the docs' column reference is this list). */
export interface ColumnDoc {
  readonly name: string;
  readonly doc: string;
}

/** The daily file's columns, in order. */
export const DAILY_COLUMNS: readonly ColumnDoc[] = [
  { name: 'date', doc: 'simulated day, YYYY-MM-DD (UTC); every figure is the state at the end of that day' },
  { name: 'run', doc: 'the strategy under test or a baseline (jit, schedule, ...)' },
  { name: 'material', doc: 'material id from the plant file' },
  { name: 'close', doc: "last known close of the material's price series, in the series' quoted unit" },
  { name: 'fast_ma', doc: 'fast moving average of the close (empty until its window is full, or when the strategy uses no signal)' },
  { name: 'slow_ma', doc: 'slow moving average of the close (same)' },
  { name: 'signal', doc: '1 when the fast average is above the slow one, 0 when not, empty without both' },
  { name: 'unit_price', doc: 'the close per material unit (close x the series unit factor), currency' },
  { name: 'on_hand', doc: 'stock on hand, material units' },
  { name: 'on_order', doc: 'open buy orders plus goods in transit, material units' },
  { name: 'daily_consumption', doc: 'mean planned consumption per day over the horizon (the cost feed\'s d), material units' },
  { name: 'cover_days', doc: 'on_hand / daily_consumption' },
  { name: 'position_cover_days', doc: '(on_hand + on_order) / daily_consumption' },
  { name: 'buffer', doc: 'buffer (safety) stock, material units' },
  { name: 'reorder_point', doc: 'reorder point = lead-time demand + buffer, material units' },
  { name: 'buffer_days', doc: 'buffer / daily_consumption' },
  { name: 'reorder_point_days', doc: 'reorder_point / daily_consumption (lead time + buffer_days)' },
  { name: 'forecast_qty', doc: 'planned consumption over the horizon, material units' },
  { name: 'hedged_qty', doc: 'quantity hedged, material units' },
  { name: 'exposure_qty', doc: 'forecast_qty - on_hand - on_order - hedged_qty, floored at 0: the exposure left open' },
  { name: 'hedge_ratio', doc: 'hedged_qty / (forecast_qty - on_hand - on_order), empty when that is not positive' },
  { name: 'consumed_qty', doc: 'quantity consumed by production that day, material units' },
  { name: 'stockout', doc: '1 on a day with a stockout (covered by an emergency purchase), else 0' },
  { name: 'spend', doc: 'fills x price that day (procurement, fees excluded), currency' },
  { name: 'fees', doc: 'procurement fees that day, currency' },
  { name: 'emergency', doc: 'emergency purchases that day (premium included), currency' },
  { name: 'carrying', doc: 'carrying cost accrued that day, currency' },
  { name: 'hedge_pnl', doc: 'change of the hedge result that day (realised + marked to market, after hedge fees; positive = gain), currency' },
  { name: 'cost', doc: 'effective cost that day: spend + fees + emergency + carrying - hedge_pnl + the change in value of stock held (on hand and in transit) at the day\'s price; summed over days it is the effective cost of what was consumed' },
  { name: 'standard_value', doc: 'that day\'s consumption at the standard cost in force, currency (cost - standard_value is the budget variance)' },
  { name: 'cost_to_date', doc: 'cumulative cost since the start, currency' },
  { name: 'unit_cost_to_date', doc: 'cost_to_date / quantity consumed since the start: the cumulative effective unit cost, currency per material unit' },
  { name: 'hedge_pnl_to_date', doc: 'cumulative hedge result, currency' },
];

/** The trades file's columns, in order. */
export const TRADE_COLUMNS: readonly ColumnDoc[] = [
  { name: 'time', doc: 'fill time, ISO 8601 UTC (emergency purchases: the day of the stockout)' },
  { name: 'run', doc: 'the strategy under test or a baseline' },
  { name: 'material', doc: 'the material the trade is for' },
  { name: 'instrument', doc: 'what was traded: the material itself or its hedge instrument' },
  { name: 'kind', doc: 'buy-ahead, forced-reorder, emergency, hedge, unwind, roll-off (a hedge contract settled when its month comes) or routine (buys for consumption)' },
  { name: 'reason', doc: "the intent's reason as the pipeline recorded it (procure, forced-reorder, hedge, unwind, roll-off, emergency)" },
  { name: 'side', doc: 'buy or sell' },
  { name: 'qty', doc: 'filled quantity, material units (exact decimal)' },
  { name: 'price', doc: 'fill price per material unit, currency, fees excluded (exact decimal; emergency purchases: premium included)' },
  { name: 'fee', doc: 'fee, currency (exact decimal)' },
  { name: 'notional', doc: 'qty x price, currency (exact decimal)' },
  { name: 'client_order_id', doc: "the pipeline's client order id (empty for emergency purchases)" },
];

type Cell = number | string | null;

const round = (value: number, places: number): number => {
  const f = 10 ** places;
  return Math.round(value * f) / f;
};
const money = (centsValue: number): number => centsValue / 100;
const days = (qty: number, perDay: number): number | null => (perDay > 0 ? round(qty / perDay, 3) : null);

/** The runs of a result, strategy first, each once (a baseline that is the strategy itself is left out). */
export function runsOf(result: BacktestResult): [string, RunResult][] {
  const out: [string, RunResult][] = [[result.run.strategy, result.run]];
  for (const [name, run] of result.baselines) if (run !== result.run) out.push([name, run]);
  return out;
}

/** The run's cost columns (a full record holds them too); an internal error when the backtest recorded nothing. */
export function costRecordOf(name: string, run: RunResult): CostRecord {
  const record = run.record ?? run.costRecord;
  if (record === undefined) throw new Error(`internal: the ${name} run was not recorded (run the backtest with record: true or 'report')`);
  return record;
}

/** The run's daily record; an internal error when the backtest ran without `record: true`. */
export function recordOf(name: string, run: RunResult): DailyRecord {
  if (run.record === undefined) throw new Error(`internal: the ${name} run was not recorded (run the backtest with record: true)`);
  return run.record;
}

/**
 * The daily series of every run as plain columns (`DAILY_COLUMNS`), rows ordered by run, day,
 * material. Quantities are rounded to 3 places (consumption to 6, so it sums to the total), prices to 6, money to the cent (exact: it is
 * the difference of cumulative cents).
 */
export function dailyColumns(result: BacktestResult): Record<string, Cell[]> {
  const columns: Record<string, Cell[]> = Object.fromEntries(DAILY_COLUMNS.map((c) => [c.name, [] as Cell[]]));
  const push = (name: string, value: Cell): void => {
    columns[name]!.push(value);
  };
  for (const [name, run] of runsOf(result)) {
    const record = recordOf(name, run);
    const ids = [...record.materials.keys()];
    const dates = record.t.map((t) => formatDate(t));
    for (let i = 0; i < record.t.length; i += 1) {
      for (const id of ids) {
        const m = record.materials.get(id)!;
        const prev = (column: readonly number[]): number => (i === 0 ? 0 : column[i - 1]!);
        const delta = (column: readonly number[]): number => money(column[i]! - prev(column));
        const d = m.dailyConsumption[i]!;
        const fast = m.fast[i]!;
        const slow = m.slow[i]!;
        const onHand = m.onHand[i]!;
        const onOrder = m.onOrder[i]!;
        const open = m.forecastQty[i]! - onHand - onOrder;
        const consumed = m.consumedQty[i]!;
        push('date', dates[i]!);
        push('run', name);
        push('material', id);
        push('close', round(m.close[i]!, 6));
        push('fast_ma', fast === null ? null : round(fast, 6));
        push('slow_ma', slow === null ? null : round(slow, 6));
        push('signal', fast === null || slow === null ? null : fast > slow ? 1 : 0);
        push('unit_price', round(m.unitPrice[i]!, 6));
        push('on_hand', round(onHand, 3));
        push('on_order', round(onOrder, 3));
        push('daily_consumption', round(d, 3));
        push('cover_days', days(onHand, d));
        push('position_cover_days', days(onHand + onOrder, d));
        push('buffer', round(m.buffer[i]!, 3));
        push('reorder_point', round(m.reorderPoint[i]!, 3));
        push('buffer_days', days(m.buffer[i]!, d));
        push('reorder_point_days', days(m.reorderPoint[i]!, d));
        push('forecast_qty', round(m.forecastQty[i]!, 3));
        push('hedged_qty', round(m.hedged[i]!, 3));
        push('exposure_qty', round(m.exposure[i]!, 3));
        push('hedge_ratio', open > 0 ? round(m.hedged[i]! / open, 4) : null);
        push('consumed_qty', round(consumed - (i === 0 ? 0 : m.consumedQty[i - 1]!), 6));
        push('stockout', m.stockouts[i]! - (i === 0 ? 0 : m.stockouts[i - 1]!) > 0 ? 1 : 0);
        push('spend', delta(m.spendCents));
        push('fees', delta(m.feesCents));
        push('emergency', delta(m.emergencyCents));
        push('carrying', delta(m.carryingCents));
        push('hedge_pnl', delta(m.hedgePnlCents));
        push('cost', delta(m.costCents));
        push('standard_value', delta(m.standardCents));
        push('cost_to_date', money(m.costCents[i]!));
        push('unit_cost_to_date', consumed > 0 ? round(money(m.costCents[i]!) / consumed, 6) : null);
        push('hedge_pnl_to_date', money(m.hedgePnlCents[i]!));
      }
    }
  }
  return columns;
}

/** Every fill of every run and every emergency purchase as plain columns (`TRADE_COLUMNS`), by run then time. */
export function tradeColumns(result: BacktestResult): Record<string, Cell[]> {
  const columns: Record<string, Cell[]> = Object.fromEntries(TRADE_COLUMNS.map((c) => [c.name, [] as Cell[]]));
  for (const [name, run] of runsOf(result)) {
    const rows: { at: number; cells: Cell[] }[] = [];
    for (const t of run.trades) {
      rows.push({
        at: t.at,
        cells: [formatTime(t.at), name, t.material, t.instrument, tradeKindOf(t), t.reason, t.side, t.qty.toFixed(), t.price.toFixed(), t.fee.toFixed(), t.qty.times(t.price).toFixed(), t.clientOrderId],
      });
    }
    for (const s of run.stockouts) {
      const price = s.qty.isZero() ? s.emergencyCost : s.emergencyCost.dividedBy(s.qty).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN);
      rows.push({ at: s.at, cells: [formatTime(s.at), name, s.material, s.material, 'emergency', 'emergency', 'buy', s.qty.toFixed(), price.toFixed(), '0', s.emergencyCost.toFixed(), null] });
    }
    rows.sort((a, b) => a.at - b.at);
    for (const row of rows) TRADE_COLUMNS.forEach((c, k) => columns[c.name]!.push(row.cells[k]!));
  }
  return columns;
}

/** The daily series as a danfo DataFrame (columns as `dailyColumns`). */
export async function dailyFrame(result: BacktestResult): Promise<DataFrame> {
  const { DataFrame } = await loadDanfo();
  return new DataFrame(dailyColumns(result), { columns: DAILY_COLUMNS.map((c) => c.name) });
}

/** The trades as a danfo DataFrame (columns as `tradeColumns`). */
export async function tradeFrame(result: BacktestResult): Promise<DataFrame> {
  const { DataFrame } = await loadDanfo();
  const columns = tradeColumns(result);
  // danfo refuses an empty frame built from columns; an empty trade list still gets its header.
  return new DataFrame(columns, { columns: TRADE_COLUMNS.map((c) => c.name) });
}
