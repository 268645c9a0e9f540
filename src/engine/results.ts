/**
 * A backtest's results: the strategy's run beside the jit and schedule baselines (and
 * static-hedge when the scenario hedges) on the same scenario, as a summary table, as JSON
 * (decimal strings) and as the HTML report's data.
 */
import { dirname, relative } from 'node:path';
import { formatLocale } from '../cli/format.js';
import { ProcuraError, type ErrorCode, type Where } from '../core/errors.js';
import { Decimal, ZERO } from '../core/decimal.js';
import { DAY_MS, formatDate, type EpochMs } from '../core/time.js';
import { toPlainJson } from '../pipeline/index.js';
import { getStrategy } from '../../strategies/index.js';
import { runBacktest, type MaterialTotals, type RecordMode, type RunResult, type RunWarning } from './backtest.js';
import type { Scenario } from './scenario.js';
import type { PoolBatch } from './thread-pool.js';
import { HedgeStrip } from './hedge-strip.js';
import { blockBootstraps, budgetFigures, dailyProductCost, monthlyStepWindows, windowFigures, type BootstrapInterval, type BudgetFigures, type WindowFigures } from './statistics.js';

export interface BacktestResult {
  readonly scenario: Scenario;
  readonly run: RunResult;
  /** The baselines on the same scenario (the strategy's own run when it is that baseline). */
  readonly baselines: ReadonlyMap<string, RunResult>;
  readonly assumptions: readonly string[];
  /** Rolling windows, bootstrap interval, budget figures, closing-stock check: plain data. */
  readonly analysis: Analysis;
}

export const BASELINES = ['jit', 'schedule'] as const;

/** The baselines a scenario is judged against: jit and schedule, and static-hedge when it has a hedge instrument. */
export function baselinesFor(scenario: Scenario): string[] {
  return scenario.materials.some((m) => m.hedge !== undefined) ? [...BASELINES, 'static-hedge'] : [...BASELINES];
}

/** The strategy against one baseline, in figures luck cannot move. */
export interface Comparison {
  readonly baseline: string;
  /** Full-period saving in percent of the baseline's product cost, with its block-bootstrap interval. */
  readonly fullPeriod: BootstrapInterval;
  /** Rolling windows: 12 months and the scenario's horizon, monthly steps. */
  readonly windows: readonly WindowFigures[];
  /** The saving with the closing stock valued at the last price and at the period-average price (percent). */
  readonly closingStock: { readonly atLastPrice: number; readonly atAveragePrice: number; readonly signsDiffer: boolean };
}

export interface Analysis {
  readonly comparisons: readonly Comparison[];
  /** Monthly budget figures per run (the strategy first, then the baselines). */
  readonly budget: readonly { readonly run: string; readonly figures: BudgetFigures }[];
}

/** Where a worker thread loads the scenario from: the file and the command line's overrides. */
export interface WorkerSetup {
  readonly file: string;
  readonly overrides: { strategy?: string; params?: Record<string, unknown> };
}

/** A worker's answer to a RunJob: the run's result in transfer form (core/transfer.ts), or its error. */
export interface RunAnswer {
  readonly index: number;
  readonly result?: unknown;
  readonly error?: string | { readonly message: string; readonly code?: ErrorCode; readonly detail?: string; readonly where?: Where };
}

/**
 * Threads already running whose workers take RunJobs too: a sweep's pool (sweep.ts), whose
 * threads have just run the exact engine, so the runs after the sweep go there warm instead of
 * in this thread cold. A job goes to it as `{ index, run: RunJob }`.
 */
export interface RunPool {
  readonly size: number;
  run<J>(batch: PoolBatch<J, RunAnswer>): Promise<void>;
}

/** One run for a worker: the scenario's own strategy (`strategy: null`) or a baseline by name. */
export interface RunJob {
  readonly index: number;
  readonly strategy: string | null;
  readonly record: RecordMode;
}

/**
 * Below this many material-days per run the runs stay in process unless threads are asked for
 * by number (`--workers N`). Each worker thread loads the modules and the scenario again and,
 * above all, compiles the engine again (V8's optimising compiler is about 2.3 s of CPU of the
 * main job, on a helper thread), so a thread costs about 3 s of CPU before it saves any.
 * Measured on the idle 2-core machine (2026-11-30 13:51): the ammonia main job, 10,585
 * material-days a run, took 7.2 s wall / 10.1 s CPU in one thread and 7.7-8.0 s / 14.3-14.8 s
 * on two, so it stays in one, as does plastics-wti (13,378 a run: 9.5 s in one, 11.6 s on two,
 * 15:05); chocolate-worldbank, 23,008 a run, took 16.5 s wall in one and 13.5 s on two. Only
 * where the runs go depends on it, never a figure.
 */
export const THREAD_MIN_MATERIAL_DAYS = 15_000;

/** How many threads backtestWithBaselines uses for `jobs` runs of `materialDays` each (1: in process). */
export function threadsFor(materialDays: number, jobs: number, threads: { workers: number; minMaterialDays?: number } | undefined): number {
  if (threads === undefined || materialDays < (threads.minMaterialDays ?? THREAD_MIN_MATERIAL_DAYS)) return 1;
  return Math.max(1, Math.min(threads.workers, jobs));
}

/** Runs one job on a loaded scenario (in process, or in a worker thread); `signal` ends it early (RunOptions.signal). */
export function runOne(scenario: Scenario, job: Omit<RunJob, 'index'>, signal?: AbortSignal): Promise<RunResult> {
  const options = signal === undefined ? { record: job.record } : { record: job.record, signal };
  if (job.strategy === null) return runBacktest(scenario, options);
  const definition = getStrategy(job.strategy);
  if (definition === undefined) throw new Error(`internal: no baseline strategy ${job.strategy}`);
  return runBacktest(scenario, { ...options, strategy: { definition, params: definition.params.parse({}) } });
}

/**
 * Runs the jobs in this thread side by side: each run goes on while another waits (at the days
 * its desk awaits an order's answer, a few hundred a run), so V8 meets every strategy's values
 * from the first simulated months and compiles the shared engine once for all of them. One run
 * after another, it compiled the engine for the first strategy, then deoptimised and compiled
 * it again as each next one reached it with values of new shapes. Measured on the ammonia main
 * job's four runs in one fresh process (idle 2-core machine, 2026-12-01 05:48, six alternating
 * pairs): 2.11-2.24 s wall / 3.13-3.36 s CPU against 2.44-2.71 s / 3.81-4.33 s one after
 * another; 64 deoptimisations against 177, 1,074 optimised compilations against 1,518, the same
 * peak memory (258 MB against 269). The runs share nothing that a run writes (the scenario's
 * plan and the process's caches are memos of pure functions, filled on first read), so each
 * result is the one the run gives alone (tested). The first run to fail fails the whole job and
 * the others stop at their next await.
 */
async function runSideBySide(scenario: Scenario, jobs: readonly Omit<RunJob, 'index'>[], progress: () => void): Promise<RunResult[]> {
  const stop = new AbortController();
  return Promise.all(
    jobs.map((job) =>
      runOne(scenario, job, stop.signal).then(
        (result) => {
          progress();
          return result;
        },
        (error: unknown) => {
          stop.abort(error);
          throw error;
        },
      ),
    ),
  );
}

/**
 * Runs the scenario's strategy and its baselines. `record: true` keeps the daily series a
 * report or an export needs (the report builder refuses a result without them); `record:
 * 'report'` keeps what a report alone reads: every column of the strategy's, and only the cost
 * columns of the baselines' (`RunResult.costRecord`: the report compares their costs, hedge
 * results and stockouts, and draws the rest for the strategy only; the baselines' other
 * columns, the cost feed's buffer and reorder point and exposure above all, were 0.5-1 % of
 * the main job's main thread). Without either the runs keep their totals and the running totals the
 * analysis needs, which is all the summary and --json print.
 *
 * In process the runs go side by side (runSideBySide: about 0.3 s less for the main job than
 * one after another). `onProgress` counts runs finished.
 *
 * `threads` (with `workers` > 1, more than one run and at least THREAD_MIN_MATERIAL_DAYS
 * material-days a run, or `minMaterialDays`: see threadsFor) runs them concurrently on that many
 * worker threads, each loading the scenario from `threads.file` once; the runs are
 * independent and deterministic, so the results are the same figures in the same order as
 * in process (tested). It saves wall time only: each thread does the same work.
 */
export async function backtestWithBaselines(
  scenario: Scenario,
  options: { record?: boolean | 'report'; onProgress?: (done: number, total: number) => void; threads?: WorkerSetup & { workers: number; minMaterialDays?: number; pool?: RunPool | undefined } } = {},
): Promise<BacktestResult> {
  const record = options.record ?? false;
  const own = scenario.strategy.definition.name;
  const names = baselinesFor(scenario);
  // The strategy first, then each baseline that is not the strategy itself.
  const baselineRecord: RecordMode = record === 'report' ? 'costs' : record;
  const jobs: { strategy: string | null; record: RecordMode }[] = [{ strategy: null, record: record !== false }, ...names.filter((b) => b !== own).map((b) => ({ strategy: b, record: baselineRecord }))];
  const total = jobs.length;
  let done = 0;
  const progress = (): void => options.onProgress?.((done += 1), total);
  let results: RunResult[];
  const materialDays = ((scenario.to - scenario.from) / DAY_MS + 1) * scenario.materials.length;
  const pool = options.threads?.pool;
  const workers = pool !== undefined ? pool.size : threadsFor(materialDays, total, options.threads);
  if (pool !== undefined || workers > 1) {
    results = await runOnThreads(options.threads!, jobs, workers, progress, pool);
  } else {
    results = await runSideBySide(scenario, jobs, progress);
  }
  const run = results[0]!;
  const baselines = new Map<string, RunResult>();
  let next = 1;
  for (const name of names) baselines.set(name, name === own ? run : results[next++]!);
  return { scenario, run, baselines, assumptions: assumptionsOf(scenario), analysis: analyse(scenario, run, baselines) };
}

/**
 * What a run costs relative to the others, for the order worker threads take them in: measured
 * CPU of one 29-year ammonia run (docs/benchmarks.md, 2026-11-30 12:54): static-hedge 2.6 s (it
 * trades a hedge strip every day), jit 1.9 s (an order a day), schedule and a discretionary
 * strategy about 1.2 s each. Only the order depends on it, never a figure.
 */
const RUN_COST: Readonly<Record<string, number>> = { 'static-hedge': 4, jit: 3, schedule: 2 };

/** A run's relative cost (RUN_COST) by its strategy: a baseline's name, or null for the scenario's own. */
export function runCost(strategy: string | null): number {
  return strategy === null ? 1.5 : (RUN_COST[strategy] ?? 1.5);
}

/** Job indices, the costliest first (stable, so equal costs keep their listed order). */
export function dispatchOrder(jobs: readonly { strategy: string | null }[]): number[] {
  return jobs.map((_, i) => i).sort((a, b) => runCost(jobs[b]!.strategy) - runCost(jobs[a]!.strategy) || a - b);
}

/** The jobs on `count` worker threads (thread-pool.ts) or on `pool`'s, the costliest first; results in job order. */
async function runOnThreads(setup: WorkerSetup, jobs: readonly { strategy: string | null; record: RecordMode }[], count: number, progress: () => void, pool?: RunPool): Promise<RunResult[]> {
  // Loaded here, not with this module: the main job runs in process (threadsFor), and node:worker_threads alone is a few ms of its start-up.
  const [{ runOnThreadPool }, { fromTransfer }] = await Promise.all([import('./thread-pool.js'), import('../core/transfer.js')]);
  const results: RunResult[] = new Array<RunResult>(jobs.length);
  const batch: PoolBatch<{ strategy: string | null; record: RecordMode }, RunAnswer> = {
    jobs,
    order: dispatchOrder(jobs),
    // A run-worker takes the job itself; a sweep's worker takes it as `run` beside its own kinds of job.
    message: (index, job) => (pool === undefined ? ({ index, ...job } satisfies RunJob) : { index, run: { index, ...job } satisfies RunJob }),
    answer: (message) => {
      if (message.error !== undefined) {
        const e = message.error;
        if (typeof e === 'string') return new Error(e);
        return e.code !== undefined && e.detail !== undefined ? new ProcuraError(e.code, e.detail, e.where ?? {}) : new Error(e.message);
      }
      results[message.index] = fromTransfer(message.result) as RunResult;
      progress();
      return undefined;
    },
  };
  if (pool !== undefined) await pool.run(batch);
  else await runOnThreadPool({ ...batch, url: new URL('./run-worker.js', import.meta.url), workerData: { file: setup.file, overrides: setup.overrides } satisfies WorkerSetup, count, what: 'a backtest worker thread' });
  return results;
}

/** The analysis of a run against its baselines (see Analysis). */
export function analyse(scenario: Scenario, run: RunResult, baselines: ReadonlyMap<string, RunResult>): Analysis {
  const runDaily = dailyProductCost(run.daily);
  const horizon = scenario.config.horizonDays;
  const others = [...baselines].filter(([, base]) => base !== run);
  // One bootstrap pass for every baseline: they share the seed and the days (blockBootstraps).
  const fullPeriods = blockBootstraps(
    others.map(([, base]) => dailyProductCost(base.daily)),
    runDaily,
    { seed: scenario.config.seed },
  );
  const comparisons = others.map(([name, base], i): Comparison => {
    const windows = [
      windowFigures('12 months', base.daily, run.daily, monthlyStepWindows(base.daily.t, { months: 12 })),
      windowFigures(`horizon (${horizon} days)`, base.daily, run.daily, monthlyStepWindows(base.daily.t, { days: horizon })),
    ];
    const atLast = savingPercent(base.productUnitCost, run.productUnitCost);
    const atAverage = savingPercent(base.productUnitCostAtAveragePrice, run.productUnitCostAtAveragePrice);
    return {
      baseline: name,
      fullPeriod: fullPeriods[i]!,
      windows,
      closingStock: { atLastPrice: atLast, atAveragePrice: atAverage, signsDiffer: Math.sign(atLast) !== Math.sign(atAverage) },
    };
  });
  const budget = orderedRuns({ run, baselines }).map(([name, r]) => ({ run: name, figures: budgetFigures(r.daily) }));
  return { comparisons, budget };
}

function savingPercent(base: Decimal, run: Decimal): number {
  return base.isZero() ? 0 : base.minus(run).dividedBy(base).times(100).toNumber();
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
    `Production is the plan${c.production.noise === 0 ? '' : ` x (1 + ${c.production.noise} x N(0,1))`} every calendar day; the desk and the cost feed know only the plan, and size safety stock from the consumption they see against it and from the order-to-receipt times of their deliveries. A shortfall is a stockout covered at once by an emergency purchase at the last known price + ${c.emergency.premium.times(100).toFixed()} %.`,
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

const formatNumber = formatLocale;

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
  add('hedge dollar offset (80-125 %: effective)', (r) => percent(r.materials.find((m) => m.hedgeEffectiveness !== null)?.hedgeEffectiveness ?? null));
  add('orders', (r) => String(r.counters.orders));
  add('fills', (r) => String(r.counters.fills));
  add('risk denials', (r) => String(r.counters.denials));
  add('skipped (lot/notional)', (r) => String(r.counters.skips));
  return { columns, rows };
}

function orderedRuns(result: Pick<BacktestResult, 'run' | 'baselines'>): [string, RunResult][] {
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

const signed = (value: number, places = 2): string => {
  const digits = Math.abs(value) < 0.1 && value !== 0 ? places + 1 : places;
  return `${value > 0 ? '+' : ''}${value.toFixed(digits)}`;
};
const pctText = (share: number): string => `${Math.round(share * 100)} %`;

/** The analysis in words and small tables, for the terminal (each figure explained in one line). */
export function analysisLines(result: BacktestResult): string[] {
  const lines: string[] = [];
  const name = result.run.strategy;
  const currency = result.scenario.plant.currency;
  const product = result.scenario.product;
  const unit = result.scenario.plant.products.get(product)!.unit;
  for (const c of result.analysis.comparisons) {
    const f = c.fullPeriod;
    const verdict = f.distinguishable ? (f.savingPercent > 0 ? `saves against ${c.baseline}` : `costs more than ${c.baseline}`) : `not distinguishable from ${c.baseline}`;
    lines.push(`${name} against ${c.baseline}: ${signed(f.savingPercent)} % over the run, ${Math.round(f.level * 100)} % interval ${signed(f.low)} % .. ${signed(f.high)} %: ${verdict}`);
    for (const w of c.windows) {
      if (w.count === 0) {
        lines.push(`  rolling ${w.label}: no complete window in the run`);
        continue;
      }
      lines.push(`  rolling ${w.label}, ${w.count} windows: median ${signed(w.median)} %, 10th percentile ${signed(w.p10)} %, 90th ${signed(w.p90)} %, won ${pctText(w.shareWon)} of them`);
    }
    if (c.closingStock.signsDiffer) {
      lines.push(`  closing stock valued at the period-average price instead of the last price: ${signed(c.closingStock.atAveragePrice)} % instead of ${signed(c.closingStock.atLastPrice)} %: the verdict depends on the end date`);
    }
  }
  if (result.analysis.comparisons.length > 0) {
    const f = result.analysis.comparisons[0]!.fullPeriod;
    lines.push(`  (saving in % of the baseline's product cost; interval: block bootstrap of the daily cost differences, ${f.blockDays}-day blocks, ${f.replicates} resamples, seed ${f.seed}; windows start on each 1st of a month)`);
  }
  lines.push('');
  lines.push(`Budget: monthly material cost per ${product} unit against the standard in force (${currency}/${unit})`);
  const hedging = result.analysis.budget.some(({ figures: b }) => b.varianceRemoved !== null);
  const rows = result.analysis.budget.map(({ run, figures: b }) => [
    run,
    b.sdPerUnit.toFixed(2),
    b.worstMonth === undefined ? '-' : `${b.worstMonth.month} ${signed(b.worstMonth.perUnit)}`,
    Math.round(b.cumulative).toLocaleString('en-US'),
    ...(hedging
      ? [
          b.varianceRemoved === null ? '-' : b.sdPerUnitUnhedged.toFixed(2),
          b.varianceRemoved === null ? '-' : pctText(b.varianceRemoved),
          b.dollarOffset === null ? '-' : `${pctText(b.dollarOffset)}${b.dollarOffsetEffective ? '' : ' (outside 80-125 %)'}`,
        ]
      : []),
  ]);
  lines.push(formatColumns(['run', 'sd', 'worst month', `cumulative (${currency})`, ...(hedging ? ['sd unhedged', 'variance removed', 'dollar offset'] : [])], rows));
  lines.push(`  sd: standard deviation of the monthly (cost - standard) per unit; worst month: the largest overrun; cumulative: the overruns summed.`);
  if (hedging) {
    lines.push(`  variance removed = 1 - Var(monthly variance) / Var(the same run with its hedge result and financing removed): the share of budget uncertainty the hedge took away.`);
    lines.push(`  dollar offset = hedge result net of financing / (cost before hedging - consumption at standard), over the run: 80-125 % is "highly effective" in hedge accounting (IFRS 9 / ASC 815).`);
    // A hedge rule's timing is judged against hedging without timing: say when it removed less.
    const own = result.analysis.budget.find((b) => b.run === name)?.figures.varianceRemoved;
    const flat = result.analysis.budget.find((b) => b.run === 'static-hedge')?.figures.varianceRemoved;
    if (name !== 'static-hedge' && own !== null && own !== undefined && flat !== null && flat !== undefined && own < flat) {
      lines.push(`  ${name} removed less of the budget variance (${pctText(own)}) than static-hedge, the constant ratio without timing (${pctText(flat)}): its timing did not make the budget more certain.`);
    }
  }
  return lines;
}

function formatColumns(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  return [line(header), ...rows.map(line)].join('\n');
}

/** The analysis as plain JSON (numbers rounded to 6 significant places where they are statistics). */
export function analysisJson(analysis: Analysis): unknown {
  const r = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(6)));
  return {
    comparisons: analysis.comparisons.map((c) => ({
      baseline: c.baseline,
      fullPeriod: { ...c.fullPeriod, savingPercent: r(c.fullPeriod.savingPercent), low: r(c.fullPeriod.low), high: r(c.fullPeriod.high) },
      windows: c.windows.map((w) => ({ ...w, median: r(w.median), p10: r(w.p10), p90: r(w.p90), shareWon: r(w.shareWon), windows: w.windows.map((x) => ({ ...x, savingPercent: r(x.savingPercent) })) })),
      closingStock: { atLastPrice: r(c.closingStock.atLastPrice), atAveragePrice: r(c.closingStock.atAveragePrice), signsDiffer: c.closingStock.signsDiffer },
    })),
    budget: analysis.budget.map(({ run, figures: b }) => ({
      run,
      sdPerUnit: r(b.sdPerUnit),
      sdPerUnitUnhedged: r(b.sdPerUnitUnhedged),
      worstMonth: b.worstMonth === undefined ? null : { month: b.worstMonth.month, perUnit: r(b.worstMonth.perUnit), total: r(b.worstMonth.total) },
      cumulative: r(b.cumulative),
      varianceRemoved: r(b.varianceRemoved),
      dollarOffset: r(b.dollarOffset),
      dollarOffsetEffective: b.dollarOffsetEffective,
      months: b.months.map((m) => ({ month: m.month, units: r(m.units), unitCost: r(m.unitCost), unhedgedUnitCost: r(m.unhedgedUnitCost), standardUnitCost: r(m.standardUnitCost) })),
    })),
  };
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
    productUnitCostAtAveragePrice: r.productUnitCostAtAveragePrice.toFixed(6),
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
    warnings: r.warnings.map((w) => ({ ...w, share: Number(w.share.toFixed(4)) })),
    ledger: { entries: r.ledgerEntries, balances: Object.fromEntries([...r.ledgerBalances].map(([k, v]) => [k, v.toFixed()])) },
  });
  return {
    scenario: { name: s.config.name, file: s.file, configHash: s.hash, plantHash: s.plant.hash, seed: s.config.seed, from: formatDate(s.from), to: formatDate(s.to), strategy: s.strategy.definition.name, params: s.strategy.params, prices: pricesJson(s) },
    assumptions: result.assumptions,
    result: runJson(result.run),
    baselines: Object.fromEntries([...result.baselines].filter(([, r]) => r !== result.run).map(([name, r]) => [name, runJson(r)])),
    savings: savings(result).map((x) => ({ baseline: x.baseline, perUnit: x.perUnit.toFixed(4), total: x.total.toFixed(2), percent: x.percent.toFixed(2) })),
    analysis: analysisJson(result.analysis),
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

/** Every run's warnings (the strategy's first, then the baselines'). */
export function warningsOf(result: Pick<BacktestResult, 'run' | 'baselines'>): RunWarning[] {
  return orderedRuns(result).flatMap(([, r]) => r.warnings);
}

export function formatDay(at: EpochMs): string {
  return formatDate(at);
}

/** Each material's price file (relative to the scenario) with its cadence and whether it was declared or inferred. */
function pricesJson(s: Scenario): Array<{ material: string; file: string; cadence: string; cadenceSource: string }> {
  return s.materials.map((m) => ({ material: m.id, file: relative(dirname(s.file), m.series.file), cadence: m.series.interval, cadenceSource: m.series.intervalSource }));
}
