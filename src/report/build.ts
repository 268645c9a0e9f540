/**
 * Builds the report's presentation data from a recorded backtest result: the headline in
 * words, the warning banner, the cumulative savings, the per-material price-and-trades and
 * days-of-cover series, the hedge and budget series, the trade list, and the per-year table
 * (per-period differences of the recorded cumulative series, see periods.ts).
 */
import { Decimal } from '../core/decimal.js';
import { formatLocale, groupThousands } from '../cli/format.js';
import { formatDate } from '../core/time.js';
import type { RunResult } from '../engine/backtest.js';
import { denialsOf, savings, summaryTable, warningsOf, type BacktestResult } from '../engine/results.js';
import { engineNote } from '../engine/sweep-note.js';
import type { SweepResult } from '../engine/sweep.js';
import { costRecordOf, runsOf } from './daily-frame.js';
import { periodFigures, type PeriodFigures } from './periods.js';
import { tradeKindOf } from './trade-kind.js';
import {
  HeadlineVerdict,
  TradeKind,
  type BacktestReportData,
  type BudgetSeries,
  type RollingSavings,
  type Headline,
  type HedgeReport,
  type MaterialReport,
  type SavingsSeries,
  type SortableTable,
  type SweepReport,
  type TradeList,
  type TradeMarker,
  type YearTable,
} from './types.js';

export interface BuildOptions {
  /** A sweep run on the same scenario, shown as heatmaps and a table. */
  readonly sweep?: SweepResult | undefined;
}

/** The report's data for a result whose runs were recorded (`backtestWithBaselines(scenario, { record: 'report' })`, or `true`). */
export async function buildReportData(result: BacktestResult, options: BuildOptions = {}): Promise<BacktestReportData> {
  const s = result.scenario;
  const run = result.run;
  const currency = s.plant.currency;
  const productUnit = s.plant.products.get(s.product)!.unit;
  const runs = runsOf(result);
  const years = periodFigures(result, 'year');
  const needs = s.strategy.needs;
  const maLabel = needs.signal === undefined ? undefined : needs.signal.ma.toUpperCase();
  return {
    title: `${s.config.name}: ${run.strategy}`,
    scenario: { name: s.config.name, file: s.file, configHash: s.hash, seed: s.config.seed, from: formatDate(run.from), to: formatDate(run.to), strategy: strategyLine(result) },
    currency,
    product: { id: s.product, unit: productUnit },
    runs: runs.map(([name]) => name),
    headline: headline(result),
    warnings: warningsOf(result).map((w) => w.message),
    assumptions: [...result.assumptions],
    summary: groupedSummary(summaryTable(result)),
    savings: savingsSeries(result),
    rolling: rollingSavings(result),
    materials: s.materials.map((m): MaterialReport => {
      const record = run.record!.materials.get(m.id)!;
      const t = run.record!.t;
      const perDay = (values: readonly number[], i: number): number | null => {
        const d = record.dailyConsumption[i]!;
        return d > 0 ? round(values[i]! / d, 2) : null;
      };
      const counts: Partial<Record<TradeKind, number>> = {};
      const markers: TradeMarker[] = [];
      for (const trade of run.trades) {
        if (trade.material !== m.id) continue;
        const kind = tradeKindOf(trade);
        counts[kind] = (counts[kind] ?? 0) + 1;
        if (kind === TradeKind.routine || kind === TradeKind.rollOff) continue;
        // Prices on the chart are in the series' quoted unit: divide the per-material-unit price by the unit factor.
        const factor = trade.instrument === m.id ? m.factor : (m.hedge?.factor ?? m.factor);
        markers.push({ t: trade.at, price: round(trade.price.dividedBy(factor).toNumber(), 6), kind, side: trade.side, qty: trade.qty.toNumber() });
      }
      for (const stockout of run.stockouts) {
        if (stockout.material !== m.id) continue;
        counts.emergency = (counts.emergency ?? 0) + 1;
        const unitPrice = stockout.qty.isZero() ? 0 : stockout.emergencyCost.dividedBy(stockout.qty).dividedBy(m.factor).toNumber();
        markers.push({ t: stockout.at, price: round(unitPrice, 6), kind: TradeKind.emergency, side: 'buy', qty: stockout.qty.toNumber() });
      }
      markers.sort((a, b) => a.t - b.t);
      return {
        id: m.id,
        name: m.id,
        unit: m.unit,
        price: {
          t,
          close: record.close,
          fastMa: record.fast,
          slowMa: record.slow,
          fastLabel: maLabel === undefined ? 'fast (none)' : `${maLabel} ${needs.signal!.fast}`,
          slowLabel: maLabel === undefined ? 'slow (none)' : `${maLabel} ${needs.signal!.slow}`,
          priceUnit: m.priceUnit,
        },
        markers,
        tradeCounts: counts,
        cover: {
          t,
          onHand: t.map((_, i) => perDay(record.onHand, i)),
          position: t.map((_, i) => {
            const d = record.dailyConsumption[i]!;
            return d > 0 ? round((record.onHand[i]! + record.onOrder[i]!) / d, 2) : null;
          }),
          buffer: t.map((_, i) => perDay(record.buffer, i)),
          reorderPoint: t.map((_, i) => perDay(record.reorderPoint, i)),
          leadTimeDays: m.leadTimeDays,
        },
      };
    }),
    trades: tradeList(run),
    hedge: hedgeReport(result),
    budget: budgetSeries(result),
    years: yearTable(result, years),
    sweep: options.sweep === undefined ? null : sweepReport(result, options.sweep),
    denials: denialsOf(run).map((d) => ({ ...d })),
    stockouts: run.stockouts.map((x) => ({
      date: formatDate(x.at),
      material: x.material,
      qty: `${formatNumber(x.qty.toNumber(), 0)} ${s.materials.find((m) => m.id === x.material)?.unit ?? ''}`.trim(),
      emergencyCost: formatNumber(x.emergencyCost.toNumber(), 2),
    })),
  };
}

const round = (value: number, places: number): number => {
  const f = 10 ** places;
  return Math.round(value * f) / f;
};

/** The summary's numbers with thousands separators, as the terminal prints them ("1,233", not "1233"). */
function groupedSummary(table: ReturnType<typeof summaryTable>): ReturnType<typeof summaryTable> {
  return { columns: table.columns, rows: table.rows.map((r) => ({ label: r.label, values: r.values.map((v) => (v === null ? null : groupThousands(v))) })) };
}

function formatNumber(value: number, places: number): string {
  const text = formatLocale(value, places);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

function strategyLine(result: BacktestResult): string {
  const params = result.scenario.strategy.params as Record<string, unknown>;
  return [result.run.strategy, ...Object.entries(params).map(([k, v]) => `${k}=${String(v)}`)].join(' ');
}

/**
 * The result in words: one sentence per baseline, with the block-bootstrap interval of the
 * saving when the result has one (an interval holding zero is "not distinguishable"), the
 * closing-stock check when valuing the closing stock at the period-average price would flip
 * the sign, and a one-line verdict.
 */
export function headline(result: BacktestResult): Headline {
  const s = result.scenario;
  const currency = s.plant.currency;
  const unit = s.plant.products.get(s.product)!.unit;
  const name = result.run.strategy;
  const comparisons = result.analysis?.comparisons ?? [];
  // Two decimals, or three significant digits for a figure that would round to zero.
  const pct = (v: number): string => `${v > 0 ? '+' : ''}${v !== 0 && Math.abs(v) < 0.005 ? Number(v.toPrecision(3)).toString() : formatNumber(v, 2)} %`;
  const sentences = savings(result).map((x) => {
    const perUnit = x.perUnit.toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN);
    const verdict = perUnit.isZero() ? HeadlineVerdict.even : perUnit.isPositive() ? HeadlineVerdict.saved : HeadlineVerdict.lost;
    const amount = `${formatNumber(perUnit.abs().toNumber(), 2)} ${currency} per ${unit} of ${s.product}`;
    const share = `${formatNumber(x.percent.abs().toNumber(), 2)} %`;
    const total = `${formatNumber(x.total.abs().toNumber(), 0)} ${currency}`;
    let text =
      verdict === HeadlineVerdict.even
        ? `${name} cost the same as ${x.baseline} (to the cent per ${unit}).`
        : verdict === HeadlineVerdict.saved
          ? `${name} saved ${amount} against ${x.baseline} (${share}): ${total} over the run.`
          : `${name} cost ${amount} more than ${x.baseline} (${share}): ${total} more over the run.`;
    const c = comparisons.find((k) => k.baseline === x.baseline);
    const f = c?.fullPeriod;
    if (f !== undefined) {
      const interval = `${Math.round(f.level * 100)} % interval ${pct(f.low)} to ${pct(f.high)}`;
      text += f.distinguishable ? ` The ${interval} excludes zero: the difference is not luck.` : ` The ${interval} holds zero: not distinguishable from ${x.baseline}.`;
    }
    if (c?.closingStock.signsDiffer === true) {
      text += ` With the closing stock valued at the period-average price instead of the last, it would be ${pct(c.closingStock.atAveragePrice)}: the verdict depends on the end date.`;
    }
    return { baseline: x.baseline, verdict, distinguishable: f === undefined ? null : f.distinguishable, text };
  });
  const won = sentences.filter((x) => x.verdict === HeadlineVerdict.saved).map((x) => x.baseline);
  const lost = sentences.filter((x) => x.verdict === HeadlineVerdict.lost).map((x) => x.baseline);
  const list = (names: string[]): string => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`);
  let lead =
    sentences.length === 0
      ? `${name} is itself the baseline: nothing to compare.`
      : lost.length === 0 && won.length === 0
        ? `${name} cost the same as ${list(sentences.map((x) => x.baseline))}.`
        : lost.length === 0
          ? `${name} beat ${list(won)}.`
          : won.length === 0
            ? `${name} lost to ${list(lost)}.`
            : `${name} beat ${list(won)} and lost to ${list(lost)}.`;
  if (sentences.length > 0 && sentences.every((x) => x.distinguishable === false)) {
    lead = `${lead.slice(0, -1)}, by less than the bootstrap can tell from noise.`;
  }
  return { lead, sentences };
}

/** Cumulative saving of the strategy against each baseline, in currency, summed over materials. */
export function savingsSeries(result: BacktestResult): SavingsSeries {
  const run = result.run;
  const record = run.record!;
  const cost = (name: string, r: RunResult): number[] => {
    const total = new Array<number>(record.t.length).fill(0);
    for (const m of costRecordOf(name, r).materials.values()) for (let i = 0; i < total.length; i += 1) total[i]! += m.costCents[i]!;
    return total;
  };
  const mine = cost(run.strategy, run);
  return {
    t: record.t,
    baselines: runsOf(result)
      .slice(1)
      .map(([name, baseline]) => {
        const theirs = cost(name, baseline);
        const days = costRecordOf(name, baseline).t.length;
        if (days !== record.t.length) throw new Error(`internal: ${name} recorded ${days} days, the strategy ${record.t.length}`);
        return { name, saving: theirs.map((c, i) => (c - mine[i]!) / 100) };
      }),
  };
}

function tradeList(run: RunResult): TradeList {
  const rows: { t: number; material: string; instrument: string; kind: TradeKind; side: 'buy' | 'sell'; qty: string; price: string; fee: string; notional: string }[] = [];
  for (const t of run.trades) rows.push({ t: t.at, material: t.material, instrument: t.instrument, kind: tradeKindOf(t), side: t.side, qty: t.qty.toFixed(), price: t.price.toFixed(), fee: t.fee.toFixed(), notional: t.qty.times(t.price).toFixed() });
  for (const s of run.stockouts) {
    const price = s.qty.isZero() ? s.emergencyCost : s.emergencyCost.dividedBy(s.qty).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN);
    rows.push({ t: s.at, material: s.material, instrument: s.material, kind: TradeKind.emergency, side: 'buy', qty: s.qty.toFixed(), price: price.toFixed(), fee: '0', notional: s.emergencyCost.toFixed() });
  }
  rows.sort((a, b) => a.t - b.t);
  return {
    t: rows.map((r) => r.t),
    material: rows.map((r) => r.material),
    instrument: rows.map((r) => r.instrument),
    kind: rows.map((r) => r.kind),
    side: rows.map((r) => r.side),
    qty: rows.map((r) => r.qty),
    price: rows.map((r) => r.price),
    fee: rows.map((r) => r.fee),
    notional: rows.map((r) => r.notional),
  };
}

function hedgeReport(result: BacktestResult): HedgeReport | null {
  const hedged = result.scenario.materials.filter((m) => m.hedge !== undefined);
  if (hedged.length === 0) return null;
  const record = result.run.record!;
  const runs = runsOf(result).filter(([, r], k) => k === 0 || r.materials.some((m) => !m.hedgePnl.isZero()));
  return {
    materials: hedged.map((m) => {
      const x = record.materials.get(m.id)!;
      return {
        id: m.id,
        unit: m.unit,
        t: record.t,
        exposure: record.t.map((_, i) => round(Math.max(0, x.forecastQty[i]! - x.onHand[i]! - x.onOrder[i]!), 3)),
        hedged: x.hedged.map((v) => round(v, 3)),
      };
    }),
    pnl: {
      t: record.t,
      runs: runs.map(([name, r]) => {
        const total = new Array<number>(record.t.length).fill(0);
        for (const x of costRecordOf(name, r).materials.values()) for (let i = 0; i < total.length; i += 1) total[i]! += x.hedgePnlCents[i]!;
        return { name, values: total.map((c) => c / 100) };
      }),
    },
  };
}

/** Rolling-window savings from the result's analysis (issue 8's windows), null when it has none. */
export function rollingSavings(result: BacktestResult): RollingSavings | null {
  const comparisons = result.analysis?.comparisons ?? [];
  const rows = comparisons.flatMap((c) =>
    c.windows
      .filter((w) => w.count > 0)
      .map((w) => ({
        name: c.baseline,
        window: w.label,
        t: w.windows.map((x) => Date.parse(`${x.to}T00:00:00Z`)),
        savingPercent: w.windows.map((x) => round(x.savingPercent, 4)),
        median: round(w.median, 4),
        p10: round(w.p10, 4),
        p90: round(w.p90, 4),
        shareWon: round(w.shareWon, 4),
      })),
  );
  if (rows.length === 0) return null;
  return {
    description: `The strategy's saving over rolling windows starting on each 1st of a month, in percent of the baseline's product cost in the window (above 0: the strategy was cheaper). The distribution says whether the full-period figure is typical or made by a few windows; the chart draws the ${rows.some((r) => r.window === '12 months') ? '12-month windows' : `${rows[0]!.window} windows (the run is shorter than 12 months)`}, each at its end date.`,
    baselines: rows,
  };
}

/** Monthly budget variance per product unit from the result's analysis, and its table. */
export function budgetSeries(result: BacktestResult): BudgetSeries {
  const s = result.scenario;
  const unit = `${s.plant.currency}/${s.plant.products.get(s.product)!.unit}`;
  const budget = result.analysis?.budget ?? [];
  const months = [...new Set(budget.flatMap((b) => b.figures.months.map((m) => m.month)))].sort();
  const hedging = budget.some((b) => b.figures.varianceRemoved !== null);
  const pctText = (v: number | null): string | null => (v === null || !Number.isFinite(v) ? null : `${formatNumber(v * 100, 1)} %`);
  return {
    unit,
    t: months.map((k) => Date.UTC(Number(k.slice(0, 4)), Number(k.slice(5, 7)) - 1, 1)),
    runs: budget.map(({ run, figures }) => {
      const at = new Map(figures.months.map((m) => [m.month, m]));
      const value = (pick: (m: (typeof figures.months)[number]) => number): number[] => months.map((k) => {
        const m = at.get(k);
        return m === undefined ? 0 : round(pick(m), 4);
      });
      return {
        name: run,
        variance: value((m) => m.unitCost - m.standardUnitCost),
        unhedged: figures.varianceRemoved === null ? null : value((m) => m.unhedgedUnitCost - m.standardUnitCost),
      };
    }),
    table: {
      columns: [`sd (${unit})`, `worst month (${unit})`, `cumulative overrun (${s.plant.currency})`, ...(hedging ? [`sd unhedged (${unit})`, 'variance removed', 'dollar offset'] : [])],
      rows: budget.map(({ run, figures: b }) => ({
        label: run,
        values: [
          formatNumber(b.sdPerUnit, 2),
          b.worstMonth === undefined ? null : `${b.worstMonth.month}: ${b.worstMonth.perUnit > 0 ? '+' : ''}${formatNumber(b.worstMonth.perUnit, 2)}`,
          formatNumber(b.cumulative, 0),
          ...(hedging
            ? [
                b.varianceRemoved === null ? null : formatNumber(b.sdPerUnitUnhedged, 2),
                pctText(b.varianceRemoved),
                b.dollarOffset === null ? null : `${pctText(b.dollarOffset)}${b.dollarOffsetEffective ? '' : ' (outside 80-125 %)'}`,
              ]
            : []),
        ],
      })),
    },
    notes: [
      'sd: standard deviation of the monthly variance per unit (cost minus standard); worst month: the largest overrun per unit; cumulative overrun: the monthly overruns summed.',
      ...(hedging
        ? [
            'sd unhedged: the same spread for the run with its hedge result and financing taken out; variance removed = 1 - Var(monthly variance) / Var(that unhedged variance): the share of budget uncertainty the hedge took away.',
            'dollar offset = hedge result net of financing / (cost before hedging - consumption at standard), over the run; 80-125 % is "highly effective" in hedge accounting (IFRS 9 / ASC 815).',
          ]
        : []),
    ],
  };
}

/** Per-year rows (and a whole-run row) for each run; the strategy's rows carry its saving against each baseline. */
function yearTable(result: BacktestResult, years: readonly PeriodFigures[]): YearTable {
  const currency = result.scenario.plant.currency;
  const runs = runsOf(result).map(([name]) => name);
  const strategy = runs[0]!;
  const baselines = runs.slice(1);
  const byKey = new Map(years.map((y) => [`${y.run} ${y.period ?? 'all'}`, y]));
  const money = (v: number): string => formatNumber(v, 0);
  // Without a hedge instrument every hedge figure is zero: the column would only be noise.
  const hedged = result.scenario.materials.some((m) => m.hedge !== undefined);
  const columns: SortableTable['columns'] = [
    { label: 'Year', numeric: true },
    { label: 'Run', numeric: false },
    { label: `Effective cost (${currency})`, numeric: true },
    ...baselines.map((b) => ({ label: `Saving vs ${b} (${currency})`, numeric: true })),
    ...baselines.map((b) => ({ label: `Saving vs ${b} (%)`, numeric: true })),
    { label: 'Stockout days', numeric: true },
    { label: `Carrying (${currency})`, numeric: true },
    ...(hedged ? [{ label: `Hedge P&L (${currency})`, numeric: true }] : []),
  ];
  const rows: SortableTable['rows'] = [];
  for (const y of years) {
    const key = y.period ?? 'all';
    const savingsOf = baselines.map((b) => {
      if (y.run !== strategy) return null;
      const other = byKey.get(`${b} ${key}`);
      return other === undefined ? null : { amount: round(other.cost - y.cost, 2), percent: other.cost === 0 ? null : round((100 * (other.cost - y.cost)) / Math.abs(other.cost), 2) };
    });
    rows.push({
      cells: [
        y.period ?? 'whole run',
        y.run,
        money(y.cost),
        ...savingsOf.map((x) => (x === null ? null : money(x.amount))),
        ...savingsOf.map((x) => (x === null || x.percent === null ? null : `${formatNumber(x.percent, 2)} %`)),
        formatNumber(y.stockoutDays, 0),
        money(y.carrying),
        ...(hedged ? [money(y.hedgePnl)] : []),
      ],
      sort: [
        y.period === null ? 99_999 : Number(y.period),
        runs.indexOf(y.run),
        y.cost,
        ...savingsOf.map((x) => (x === null ? null : x.amount)),
        ...savingsOf.map((x) => (x === null ? null : x.percent)),
        y.stockoutDays,
        y.carrying,
        ...(hedged ? [y.hedgePnl] : []),
      ],
      ...(y.period === null ? { className: 'total' } : y.run === strategy ? { className: 'strategy' } : {}),
    });
  }
  return {
    description: `Each calendar year's effective cost of what was consumed (purchases, fees, emergency purchases and carrying, less hedge P&L, with the stock held at the year's end valued at that day's price), for ${strategy} and each baseline; the saving is the baseline's cost minus ${strategy}'s (positive = ${strategy} was cheaper). Stockout days count material-days.${hedged ? '' : ' No material has a hedge instrument, so there is no hedge P&L column.'} A group-by over the daily series that \`procura backtest --export\` writes; the whole-run rows match the summary.`,
    columns,
    rows,
  };
}

/** A confirmed set's screened figures against its exact ones, in percent; null for a set not re-run. */
function deviationText(row: SweepResult['rows'][number]): string | null {
  if (row.screened === undefined) return null;
  const pct = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
  return `${pct(row.screened.deviationPercent.inSample)} / ${pct(row.screened.deviationPercent.outOfSample)}`;
}

/** The sweep as two heatmaps (in-sample, out-of-sample) over its first two parameters, with the baselines, and its table. */
export function sweepReport(result: BacktestResult, sweep: SweepResult): SweepReport {
  const s = result.scenario;
  const currency = s.plant.currency;
  const unit = s.plant.products.get(s.product)!.unit;
  const axes = sweep.axes;
  const x = axes[0]!;
  const y = axes[1] ?? null;
  const extra = axes.slice(2);
  const cell = (span: 'inSample' | 'outOfSample'): (number | null)[][] => {
    const grid: (number | null)[][] = (y === null ? [0] : y.values).map(() => x.values.map(() => null));
    // With more than two parameters, each cell shows the set that ranked best in sample among those sharing its two values.
    const best = new Map<string, number>();
    for (const row of sweep.rows) {
      const xi = x.values.indexOf(Number(row.params[x.name]));
      const yi = y === null ? 0 : y.values.indexOf(Number(row.params[y.name]));
      if (xi < 0 || yi < 0) continue;
      const key = `${yi} ${xi}`;
      const rank = best.get(key);
      if (rank !== undefined && rank <= row.inSampleRank) continue;
      best.set(key, row.inSampleRank);
      grid[yi]![xi] = round(Number(row[span]), 4);
    }
    return grid;
  };
  const names = axes.map((a) => a.name);
  const top = sweep.rows.find((r) => r.inSampleRank === 1);
  const topX = top === undefined ? -1 : x.values.indexOf(Number(top.params[x.name]));
  const topY = top === undefined ? -1 : y === null ? 0 : y.values.indexOf(Number(top.params[y.name]));
  const format = (v: string): string => formatNumber(Number(v), 2);
  const table: SortableTable = {
    columns: [
      { label: 'In-sample rank', numeric: true },
      ...names.map((n) => ({ label: n, numeric: true })),
      { label: `In-sample cost (${currency}/${unit})`, numeric: true },
      { label: `Out-of-sample cost (${currency}/${unit})`, numeric: true },
      { label: 'Out-of-sample rank', numeric: true },
      { label: 'Figures', numeric: false },
      { label: 'Screened \u2212 exact, in / out of sample (%)', numeric: false },
    ],
    rows: [
      ...sweep.baselines.map((b) => ({
        cells: ['baseline', ...names.map(() => b.name), format(b.inSample), format(b.outOfSample), null, 'exact', null],
        sort: [null, ...names.map(() => null), Number(b.inSample), Number(b.outOfSample), null, 'exact', null] as (number | string | null)[],
        className: 'baseline',
      })),
      ...sweep.rows.map((r) => ({
        cells: [String(r.inSampleRank), ...names.map((n) => String(r.params[n])), format(r.inSample), format(r.outOfSample), String(r.outOfSampleRank), r.figures, deviationText(r)],
        sort: [r.inSampleRank, ...names.map((n) => Number(r.params[n])), Number(r.inSample), Number(r.outOfSample), r.outOfSampleRank, r.figures, r.screened === undefined ? null : r.screened.deviationPercent.inSample] as (number | string | null)[],
      })),
    ],
  };
  return {
    description: `Walk-forward sweep of ${s.strategy.definition.name}: ${sweep.rows.length} parameter sets, each run in sample (${formatDate(s.from)} to ${formatDate(sweep.split - 86_400_000)}) and out of sample (${formatDate(sweep.split)} to ${formatDate(s.to)}), ranked by in-sample cost.${sweep.refused.length === 0 ? '' : ` ${sweep.refused.length} grid points were refused by the strategy's checks (blank cells).`} ${engineNote(sweep.engine, sweep.engine.confirmed)}`,
    metric: `effective unit cost, ${currency} per ${unit} of ${s.product} (lower is better)`,
    x: { name: x.name, values: [...x.values] },
    y: y === null ? null : { name: y.name, values: [...y.values] },
    note: extra.length === 0 ? '' : `The grid has ${axes.length} parameters; each cell shows the set with the best in-sample rank among those with its ${x.name} and ${y!.name} (over ${extra.map((a) => a.name).join(', ')}).`,
    inSample: cell('inSample'),
    outOfSample: cell('outOfSample'),
    baselines: sweep.baselines.map((b) => ({ name: b.name, inSample: round(Number(b.inSample), 4), outOfSample: round(Number(b.outOfSample), 4) })),
    bestInSample: topX < 0 || topY < 0 ? null : [topY, topX],
    table,
  };
}
