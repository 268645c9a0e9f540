/**
 * A backtest's results: the strategy's run beside the jit and schedule baselines on the same
 * scenario, as a summary table, as JSON (decimal strings) and as the HTML report's data.
 */
import { dirname, relative } from 'node:path';
import { Decimal, ZERO } from '../core/decimal.js';
import { formatDate, type EpochMs } from '../core/time.js';
import { toPlainJson } from '../pipeline/index.js';
import type { BacktestReportData } from '../report/types.js';
import { getStrategy } from '../../strategies/index.js';
import { runBacktest, type MaterialTotals, type RunResult } from './backtest.js';
import type { Scenario } from './scenario.js';
import { HedgeStrip } from './hedge-strip.js';

export interface BacktestResult {
  readonly scenario: Scenario;
  readonly run: RunResult;
  /** jit and schedule on the same scenario (absent when the strategy is that baseline itself). */
  readonly baselines: ReadonlyMap<string, RunResult>;
  readonly assumptions: readonly string[];
}

export const BASELINES = ['jit', 'schedule'] as const;

/** Runs the scenario's strategy and both baselines, recording daily series for the report. */
export async function backtestWithBaselines(scenario: Scenario, options: { record?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<BacktestResult> {
  const record = options.record ?? true;
  const total = 1 + BASELINES.filter((b) => b !== scenario.strategy.definition.name).length;
  let done = 0;
  const run = await runBacktest(scenario, { record });
  options.onProgress?.((done += 1), total);
  const baselines = new Map<string, RunResult>();
  for (const name of BASELINES) {
    if (name === scenario.strategy.definition.name) {
      baselines.set(name, run);
      continue;
    }
    const definition = getStrategy(name)!;
    const parsed = definition.params.parse({});
    baselines.set(name, await runBacktest(scenario, { record, strategy: { definition, params: parsed } }));
    options.onProgress?.((done += 1), total);
  }
  return { scenario, run, baselines, assumptions: assumptionsOf(scenario) };
}

/** Everything the run assumed, in words, printed in the report and the JSON. */
export function assumptionsOf(scenario: Scenario): string[] {
  const c = scenario.config;
  const closeOnly = scenario.materials.every((m) => m.series.closeOnly);
  const fill = c.venue.marketFill ?? (closeOnly ? 'next-close' : 'next-open');
  return [
    `Decisions are taken once per simulated day at 00:00 UTC, from the bars whose close is known by then (a daily bar dated D is known on D+1, a monthly bar on the 1st of the next month).`,
    `Market orders fill at the ${fill === 'next-open' ? "next bar's open" : "next bar's close (the series are close-only)"}, never on the bar they were decided on; limit orders fill when a later bar's range crosses the limit.`,
    `Fees: ${c.venue.feeBps.toFixed()} bps of notional + ${c.venue.feeFixed.toFixed()} ${scenario.plant.currency} per order; slippage ${c.venue.slippageBps.toFixed()} bps against the buyer${c.venue.participationRate === undefined ? '' : `; at most ${c.venue.participationRate.times(100).toFixed()} % of a bar's volume per order`}.`,
    `Lot steps: ${scenario.materials.map((m) => `${m.id} ${m.rules.lotStep.toFixed()} ${m.unit}`).join(', ')}; quantities are rounded down to them and orders that round to zero are skipped (recorded).`,
    `Bought material arrives ${scenario.materials.map((m) => `${m.id} ${m.leadTimeDays} days`).join(', ')} after the order was decided (or when its fill becomes known, if later) and is received at the fill price, fee included.`,
    `Production follows the plan every calendar day; a shortfall is a stockout covered at once by an emergency purchase at the last known price + ${c.emergency.premium.times(100).toFixed()} %.`,
    `Carrying cost accrues daily on stock on hand at standard value x ${scenario.plant.carrying.annualRate.times(100).toFixed()} % / 365 + storage per unit-day.`,
    `Actual conversion cost is standard x (1 + ${c.conversion.noise} x N(0,1)) per month, closed (written off) on the 1st and known ${c.conversion.closeLagDays} days later.`,
    `Effective unit cost = (purchases + fees + emergency purchases + carrying + hedge financing - hedge P&L + opening stock at the first price - closing stock at the last price) / quantity consumed.`,
    ...(scenario.materials.some((m) => m.hedge !== undefined)
      ? [
          ...scenario.materials.filter((m) => m.hedge !== undefined).flatMap((m) => new HedgeStrip({ ...m.hedge!.strip, index: m.hedge!.series }).describe().map((line) => `Hedge of ${m.id}: ${line}`)),
          `Hedge orders go through the same venue (fills at the next bar, fees and slippage as above); hedge contracts are marked monthly and at the end; dollar offset = hedge P&L / (cost before hedging - consumption valued at the standard in force each day).`,
        ]
      : ['No hedge instrument: hedge P&L is zero.']),
    `The price cap derived from the target unit cost (${c.production.targetUnitCost === undefined ? 'none set' : `${c.production.targetUnitCost.toFixed()} ${scenario.plant.currency} per ${scenario.product} unit`}) applies to discretionary buying ahead only; buys for consumption (every baseline buy, forced reorders) are never capped.`,
    `Random seed ${c.seed} (production noise and conversion noise); the same scenario and seed always give the same result.`,
  ];
}

const money = (d: Decimal, places = 0): string => formatNumber(d.toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN).toNumber(), places);
const unitCost = (d: Decimal): string => formatNumber(d.toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN).toNumber(), 4);
const qty = (d: Decimal): string => formatNumber(d.toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toNumber(), 0);

function formatNumber(value: number, places: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: places, maximumFractionDigits: places });
}

function percent(d: Decimal | null): string | null {
  return d === null ? null : `${d.times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_EVEN).toFixed(1)} %`;
}

/** The summary table: one row per figure, one column per strategy (strategy first, then the baselines). */
export function summaryTable(result: BacktestResult): { columns: string[]; rows: { label: string; values: (string | null)[] }[] } {
  const runs = orderedRuns(result);
  const columns = runs.map(([name]) => name);
  const rows: { label: string; values: (string | null)[] }[] = [];
  const add = (label: string, f: (r: RunResult) => string | null): void => {
    rows.push({ label, values: runs.map(([, r]) => f(r)) });
  };
  const currency = result.scenario.plant.currency;
  const product = result.scenario.product;
  add(`${product} effective unit cost (${currency}/${result.scenario.plant.products.get(product)!.unit})`, (r) => unitCost(r.productUnitCost));
  add(`${product} standard cost`, (r) => unitCost(r.productStandardCost));
  for (const m of result.run.materials) {
    const of = (r: RunResult): MaterialTotals => r.materials.find((x) => x.id === m.id)!;
    add(`${m.id} effective unit cost (${currency}/${m.unit})`, (r) => unitCost(of(r).effectiveUnitCost));
    add(`${m.id} period-average price`, (r) => unitCost(of(r).averagePrice));
    add(`${m.id} standard cost`, (r) => unitCost(of(r).standardCost));
    add(`${m.id} consumed (${m.unit})`, (r) => qty(of(r).consumedQty));
    add(`${m.id} peak inventory`, (r) => qty(of(r).peakInventory));
    add(`${m.id} average inventory`, (r) => qty(of(r).averageInventory));
    add(`${m.id} stockouts (days)`, (r) => String(of(r).stockouts));
    add(`${m.id} emergency purchases (${m.unit})`, (r) => qty(of(r).emergencyQty));
    add(`${m.id} cost variance vs standard (${currency})`, (r) => money(of(r).varianceVsStandard));
  }
  add(`total spend (${currency})`, (r) => money(r.totalSpend));
  add(`fees (${currency})`, (r) => money(r.totalFees));
  add(`carrying cost (${currency})`, (r) => money(r.totalCarrying));
  const hedged = result.scenario.materials.some((m) => m.hedge !== undefined);
  add(`hedge P&L (${currency})`, (r) => money(r.hedgePnl));
  if (hedged) add(`hedge financing (${currency})`, (r) => money(r.hedgeFinancing));
  add('hedge effectiveness', (r) => percent(r.materials.find((m) => m.hedgeEffectiveness !== null)?.hedgeEffectiveness ?? null));
  add('orders', (r) => String(r.counters.orders));
  add('fills', (r) => String(r.counters.fills));
  add('risk denials', (r) => String(r.counters.denials));
  add('skipped (lot/notional)', (r) => String(r.counters.skips));
  return { columns, rows };
}

function orderedRuns(result: BacktestResult): [string, RunResult][] {
  const out: [string, RunResult][] = [[result.run.strategy, result.run]];
  for (const [name, run] of result.baselines) if (run !== result.run) out.push([name, run]);
  return out;
}

/** Savings of the strategy against each baseline, per product unit and in total. */
export function savings(result: BacktestResult): { baseline: string; perUnit: Decimal; total: Decimal; percent: Decimal }[] {
  const out: { baseline: string; perUnit: Decimal; total: Decimal; percent: Decimal }[] = [];
  for (const [name, baseline] of result.baselines) {
    if (baseline === result.run) continue;
    const perUnit = baseline.productUnitCost.minus(result.run.productUnitCost);
    out.push({
      baseline: name,
      perUnit,
      total: perUnit.times(result.run.unitsProduced),
      percent: baseline.productUnitCost.isZero() ? ZERO : perUnit.dividedBy(baseline.productUnitCost).times(100),
    });
  }
  return out;
}

/** Plain JSON (decimal strings, ISO dates), stable for scripts. */
export function resultJson(result: BacktestResult): unknown {
  const s = result.scenario;
  const runJson = (r: RunResult): unknown => ({
    strategy: r.strategy,
    from: formatDate(r.from),
    to: formatDate(r.to),
    days: r.days,
    unitsProduced: r.unitsProduced.toFixed(),
    productUnitCost: r.productUnitCost.toFixed(6),
    productStandardCost: r.productStandardCost.toFixed(6),
    totalSpend: r.totalSpend.toFixed(2),
    totalFees: r.totalFees.toFixed(2),
    totalCarrying: r.totalCarrying.toFixed(2),
    hedgePnl: r.hedgePnl.toFixed(2),
    hedgeFinancing: r.hedgeFinancing.toFixed(2),
    counters: r.counters,
    materials: r.materials.map((m) => ({
      ...(toPlainJson(m) as Record<string, unknown>),
      effectiveUnitCost: m.effectiveUnitCost.toFixed(6),
      averagePrice: m.averagePrice.toFixed(6),
      averageInventory: m.averageInventory.toFixed(3),
      carryingCost: m.carryingCost.toFixed(2),
      varianceVsStandard: m.varianceVsStandard.toFixed(2),
      hedgeEffectiveness: m.hedgeEffectiveness === null ? null : m.hedgeEffectiveness.toFixed(4),
    })),
    stockouts: r.stockouts.map((x) => ({ date: formatDate(x.at), material: x.material, qty: x.qty.toFixed(), emergencyCost: x.emergencyCost.toFixed(2) })),
    denials: denialsOf(r).map((d) => ({ ...d })),
    ledger: { entries: r.ledgerEntries, balances: Object.fromEntries([...r.ledgerBalances].map(([k, v]) => [k, v.toFixed()])) },
  });
  return {
    scenario: { name: s.config.name, file: s.file, configHash: s.hash, plantHash: s.plant.hash, seed: s.config.seed, from: formatDate(s.from), to: formatDate(s.to), strategy: s.strategy.definition.name, params: s.strategy.params, prices: pricesJson(s) },
    assumptions: result.assumptions,
    result: runJson(result.run),
    baselines: Object.fromEntries([...result.baselines].filter(([, r]) => r !== result.run).map(([name, r]) => [name, runJson(r)])),
    savings: savings(result).map((x) => ({ baseline: x.baseline, perUnit: x.perUnit.toFixed(4), total: x.total.toFixed(2), percent: x.percent.toFixed(2) })),
  };
}

export interface DenialRow {
  readonly date: string;
  readonly subject: string;
  readonly rule: string;
  readonly detail: string;
}

/** Risk denials recorded in the run's decisions (values, not errors). */
export function denialsOf(run: RunResult): DenialRow[] {
  const rows: DenialRow[] = [];
  for (const decision of run.denials) {
    for (const verdict of decision.risk) {
      if (verdict.allowed) continue;
      rows.push({ date: formatDate(decision.at), subject: `${decision.intent.side} ${decision.intent.instrument} (${decision.intent.reason})`, rule: verdict.check, detail: verdict.reason });
    }
  }
  return rows;
}

/** The HTML report's data. */
export function reportData(result: BacktestResult, sweep: BacktestReportData['sweep'] = null): BacktestReportData {
  const s = result.scenario;
  const run = result.run;
  const record = run.record;
  if (record === undefined) throw new Error('internal: the report needs a recorded run');
  const jit = result.baselines.get('jit')?.record;
  const schedule = result.baselines.get('schedule')?.record;
  const needs = s.strategy.needs;
  const maLabel = needs.signal === undefined ? undefined : needs.signal.ma.toUpperCase();
  return {
    title: `${s.config.name}: ${run.strategy}`,
    scenario: { name: s.config.name, file: s.file, configHash: s.hash, seed: s.config.seed, from: formatDate(run.from), to: formatDate(run.to), strategy: run.strategy },
    currency: s.plant.currency,
    assumptions: [...result.assumptions],
    summary: summaryTable(result),
    materials: s.materials.map((m) => ({
      id: m.id,
      name: m.id,
      unit: m.unit,
      price: {
        t: record.t,
        close: record.close.get(m.id)!,
        fastMa: record.fast.get(m.id)!,
        slowMa: record.slow.get(m.id)!,
        fastLabel: maLabel === undefined ? 'fast (none)' : `${maLabel} ${needs.signal!.fast}`,
        slowLabel: maLabel === undefined ? 'slow (none)' : `${maLabel} ${needs.signal!.slow}`,
      },
      // Routine buys for consumption (jit-like, every day) would bury the chart: mark the decisions
      // worth seeing (buying ahead, forced reorders, emergencies, hedges); the table counts all fills.
      trades: run.trades
        .filter((t) => t.material === m.id && (t.reason !== 'procure' || t.discretionary))
        .map((t) => ({ t: t.at, price: t.price.dividedBy(t.instrument === m.id ? m.factor : (m.hedge?.factor ?? m.factor)).toNumber(), side: t.side, reason: t.instrument === m.id ? t.reason : `${t.reason} (${t.instrument})`, qty: t.qty.toNumber() })),
      inventory: { t: record.t, onHand: record.onHand.get(m.id)!, buffer: record.buffer.get(m.id)!, reorderPoint: record.reorderPoint.get(m.id)! },
      unitCost: {
        t: record.t,
        strategy: record.unitCost.get(m.id)!,
        jit: jit?.unitCost.get(m.id) ?? record.t.map(() => null),
        schedule: schedule?.unitCost.get(m.id) ?? record.t.map(() => null),
      },
    })),
    hedgePnl: s.materials.some((m) => m.hedge !== undefined) ? { t: record.t, cumulative: record.hedgePnl } : null,
    sweep,
    denials: denialsOf(run).map((d) => ({ ...d })),
    stockouts: run.stockouts.map((x) => ({ date: formatDate(x.at), material: x.material, qty: x.qty.toFixed(), emergencyCost: x.emergencyCost.toFixed(2) })),
  };
}

export function formatDay(at: EpochMs): string {
  return formatDate(at);
}

/** Each material's price file (relative to the scenario) with its cadence and whether it was declared or inferred. */
function pricesJson(s: Scenario): Array<{ material: string; file: string; cadence: string; cadenceSource: string }> {
  return s.materials.map((m) => ({ material: m.id, file: relative(dirname(s.file), m.series.file), cadence: m.series.interval, cadenceSource: m.series.intervalSource }));
}
