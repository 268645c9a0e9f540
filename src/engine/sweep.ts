/**
 * Parameter sweeps: a grid of strategy parameters, each set run on an in-sample span (the
 * first `inSampleShare` of the range) and on the out-of-sample rest, ranked by in-sample
 * product unit cost. Showing both ranks side by side makes overfitting visible: a set that
 * wins in-sample and falls down the out-of-sample ranking was fitted to noise.
 *
 * Sets are screened on the screening engine (screen.ts, plain numbers, the strategy's fast
 * rule), then the best `confirm` by screened in-sample cost (default 10) and the baselines are
 * re-run on the exact engine; the report gives the exact figures of those, marks the others
 * "screened", and says how far each confirmed set's screened figure was from its exact one.
 * `exact: true` (`--exact`), or a strategy the screening engine cannot run (no fast form, a
 * hedging strategy), runs every set on the exact engine, and the report says why.
 *
 * Runs on worker threads (each loads the scenario once); `workers: 0` runs in-process.
 */
import { availableParallelism } from 'node:os';
import { Decimal } from '../core/decimal.js';
import { ConfigError } from '../core/errors.js';
import { DAY_MS, formatDate, type EpochMs } from '../core/time.js';
import { getStrategy, parseStrategyParams } from '../../strategies/index.js';
import { runBacktest, type RunOptions } from './backtest.js';
import { ScreenScenario, screenSupport } from './screen.js';
import { baselinesFor, dispatchOrder, runCost, type RunAnswer } from './results.js';
import type { Scenario } from './scenario.js';
import { WorkerPool } from './thread-pool.js';
import { engineNote } from './sweep-note.js';

export interface SweepGrid {
  readonly axes: readonly { readonly name: string; readonly values: readonly number[] }[];
  /** Valid parameter sets (the scenario's parameters with the grid's values). */
  readonly sets: readonly Record<string, unknown>[];
  /** Grid points the strategy refused (e.g. fast >= slow), with the reason. */
  readonly refused: readonly { readonly params: Record<string, number>; readonly reason: string }[];
}

export interface SweepRow {
  readonly params: Record<string, unknown>;
  /** Exact figures, or screened ones (see `figures`). */
  readonly inSample: string;
  readonly outOfSample: string;
  /** 'screened': from the screening engine, not re-run exactly; 'exact': from the exact engine. */
  readonly figures: 'exact' | 'screened';
  /** For a screened set re-run exactly: its screened figures and their deviation from the exact ones (percent). */
  readonly screened?: { readonly inSample: string; readonly outOfSample: string; readonly deviationPercent: { readonly inSample: number; readonly outOfSample: number } } | undefined;
  readonly inSampleRank: number;
  readonly outOfSampleRank: number;
}

export interface SweepResult {
  /** The grid's parameters and their values, in the order given. */
  readonly axes: SweepGrid['axes'];
  readonly rows: readonly SweepRow[];
  /** The baselines on the same in-sample and out-of-sample spans (decimal strings), so a set can be judged against them. */
  readonly baselines: readonly { readonly name: string; readonly inSample: string; readonly outOfSample: string }[];
  readonly split: EpochMs;
  readonly refused: SweepGrid['refused'];
  /** The engine the sets ran on, and how many were confirmed exactly after screening. */
  readonly engine: SweepEngine & { readonly confirmed: number };
  readonly json: unknown;
}

/** Parses `fast=10:60:10,slow=50:200:25` (name=start:stop:step, inclusive; or name=a|b|c). */
export function parseSweepSpec(spec: string, scenario: Scenario): SweepGrid {
  const axes: { name: string; values: number[] }[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^([A-Za-z][\w]*)=(.+)$/.exec(part);
    if (!match) throw new ConfigError(`expected name=start:stop:step, got ${JSON.stringify(part)}`, { field: '--sweep' });
    const name = match[1]!;
    const range = match[2]!;
    let values: number[];
    if (range.includes('|')) values = range.split('|').map(Number);
    else {
      const [start, stop, step] = range.split(':').map(Number);
      if (start === undefined || stop === undefined || step === undefined || !(step > 0) || stop < start) {
        throw new ConfigError(`${name}: expected start:stop:step with step > 0 and stop >= start, got ${JSON.stringify(range)}`, { field: '--sweep' });
      }
      values = [];
      for (let v = start; v <= stop + 1e-9; v += step) values.push(Number(v.toFixed(10)));
    }
    if (values.some((v) => !Number.isFinite(v))) throw new ConfigError(`${name}: not a number in ${JSON.stringify(range)}`, { field: '--sweep' });
    axes.push({ name, values });
  }
  if (axes.length === 0) throw new ConfigError('empty grid', { field: '--sweep' });
  const base = scenario.strategy.params as Record<string, unknown>;
  const sets: Record<string, unknown>[] = [];
  const refused: { params: Record<string, number>; reason: string }[] = [];
  const point: Record<string, number> = {};
  const walk = (k: number): void => {
    if (k === axes.length) {
      const candidate = { ...base, ...point };
      const parsed = parseStrategyParams(scenario.strategy.definition, candidate);
      if (parsed.ok) sets.push(candidate);
      else refused.push({ params: { ...point }, reason: `${parsed.field}: ${parsed.message}` });
      return;
    }
    for (const value of axes[k]!.values) {
      point[axes[k]!.name] = value;
      walk(k + 1);
    }
  };
  walk(0);
  if (sets.length === 0) throw new ConfigError(`no valid parameter set in the grid (${refused[0]?.reason ?? 'empty'})`, { field: '--sweep' });
  return { axes, sets, refused };
}

/** The in-sample / out-of-sample split day. */
export function splitDay(scenario: Scenario): EpochMs {
  const days = Math.round((scenario.to - scenario.from) / DAY_MS);
  return scenario.from + Math.max(1, Math.floor(days * scenario.config.inSampleShare)) * DAY_MS;
}

/** One set's (or baseline's) in-sample and out-of-sample product unit cost, as decimal strings. */
export interface SetResult {
  readonly inSample: string;
  readonly outOfSample: string;
}

/** How a sweep's sets are run: screened (then the best confirmed exactly) or all exact. */
export type SweepMode = 'screen' | 'exact';

/** The engine a sweep ran its sets on, and why it is exact when it is. */
export interface SweepEngine {
  readonly mode: SweepMode;
  /** Why every set ran exact (undefined when screened). */
  readonly reason: string | undefined;
  /** Sets re-run on the exact engine after screening (0 when every set ran exact). */
  readonly confirm: number;
}

/** Default number of screened sets re-run exactly (`--confirm`). */
export const DEFAULT_CONFIRM = 10;

/** Screened or exact: screened unless asked for exact or the strategy cannot be screened (with the reason). */
export function sweepEngine(scenario: Scenario, options: { exact?: boolean | undefined; confirm?: number | undefined } = {}): SweepEngine {
  if (options.exact === true) return { mode: 'exact', reason: 'asked for every set on the exact engine (--exact)', confirm: 0 };
  const why = screenSupport(scenario, scenario.strategy.definition, scenario.strategy.params);
  if (why !== undefined) return { mode: 'exact', reason: `${why}: every set runs on the exact engine`, confirm: 0 };
  return { mode: 'screen', reason: undefined, confirm: options.confirm ?? DEFAULT_CONFIRM };
}

/** One ScreenScenario per loaded scenario (its spans and signals are reused by every set). */
const screens = new WeakMap<Scenario, ScreenScenario>();
function screenOf(scenario: Scenario): ScreenScenario {
  let screen = screens.get(scenario);
  if (screen === undefined) {
    screen = new ScreenScenario(scenario);
    screens.set(scenario, screen);
  }
  return screen;
}

/** One half of a run on the exact engine: in-sample (to the split) or out-of-sample (from it). */
export type Half = 'in' | 'out';

/**
 * A strategy's in-sample and out-of-sample product unit cost on the exact engine, or only the
 * `half` asked for (the other then '').
 */
async function exactHalves(scenario: Scenario, strategy: NonNullable<RunOptions['strategy']>, half?: Half): Promise<SetResult> {
  const split = splitDay(scenario);
  const inSample = half === 'out' ? '' : (await runBacktest(scenario, { strategy, dailyCosts: false, to: split - DAY_MS })).productUnitCost.toFixed(6);
  const outOfSample = half === 'in' ? '' : (await runBacktest(scenario, { strategy, dailyCosts: false, from: split })).productUnitCost.toFixed(6);
  return { inSample, outOfSample };
}

/** A baseline's in-sample and out-of-sample product unit cost on the exact engine (or one `half` of it). */
export async function evaluateBaseline(scenario: Scenario, name: string, half?: Half): Promise<{ name: string } & SetResult> {
  const definition = getStrategy(name)!;
  return { name, ...(await exactHalves(scenario, { definition, params: definition.params.parse({}) }, half)) };
}

/** The baselines a sweep is judged against (the strategy itself left out when it is one). */
export function sweepBaselines(scenario: Scenario): string[] {
  return baselinesFor(scenario).filter((name) => name !== scenario.strategy.definition.name);
}

/** Each baseline's in-sample and out-of-sample product unit cost (decimal strings), exact. */
export async function evaluateBaselines(scenario: Scenario): Promise<{ name: string; inSample: string; outOfSample: string }[]> {
  const out: { name: string; inSample: string; outOfSample: string }[] = [];
  for (const name of sweepBaselines(scenario)) out.push(await evaluateBaseline(scenario, name));
  return out;
}

/**
 * One parameter set's in-sample and out-of-sample product unit cost (decimal strings), on the
 * exact engine or screened (the screening engine, screen.ts).
 */
export async function evaluateSet(scenario: Scenario, params: Record<string, unknown>, mode: SweepMode = 'exact', half?: Half): Promise<SetResult> {
  const parsed = parseStrategyParams(scenario.strategy.definition, params);
  if (!parsed.ok) throw new ConfigError(`${parsed.field}: ${parsed.message}`, { field: '--sweep' });
  const definition = scenario.strategy.definition;
  const split = splitDay(scenario);
  if (mode === 'screen') {
    const screen = screenOf(scenario);
    const inSample = screen.run(definition, parsed.params, { to: split - DAY_MS });
    const outOfSample = screen.run(definition, parsed.params, { from: split });
    return { inSample: inSample.productUnitCost.toFixed(6), outOfSample: outOfSample.productUnitCost.toFixed(6) };
  }
  return exactHalves(scenario, { definition, params: parsed.params }, half);
}

export interface SweepOptions {
  /** The scenario file, for the workers to load. */
  readonly file: string;
  readonly overrides?: { strategy?: string | undefined; params?: Record<string, unknown> };
  readonly workers?: number | undefined;
  readonly progress?: boolean;
  /** Run every set on the exact engine (`--exact`). */
  readonly exact?: boolean | undefined;
  /** Screened sets re-run exactly, best in-sample first (`--confirm`, default 10). */
  readonly confirm?: number | undefined;
  /** Threads to run on (sweepPool), kept open after the sweep for the caller to close; default: the sweep's own. */
  readonly pool?: SweepPool | undefined;
  /** Called with the wall time of each phase in milliseconds (benchmarks). */
  readonly onPhase?: ((phase: 'sets' | 'confirm', ms: number) => void) | undefined;
}

/**
 * A unit of work for a sweep thread: a set on one engine, or a baseline (exact); an exact one
 * may be one `half` of its run (see halvesOf), the other figure then ''.
 */
export type Job = ({ readonly kind: 'set'; readonly params: Record<string, unknown>; readonly mode: SweepMode } | { readonly kind: 'baseline'; readonly name: string }) & { readonly half?: Half };

/** Each screened set's group on the threads: the signal its parameters ask for (sets without one share a group). */
function signalGroups(scenario: Scenario, jobs: readonly Job[]): (index: number) => string {
  const definition = scenario.strategy.definition;
  const keys = jobs.map((job) => {
    if (job.kind !== 'set') return '';
    const parsed = parseStrategyParams(definition, job.params);
    return parsed.ok ? JSON.stringify(definition.needs(parsed.params).signal ?? null) : '';
  });
  return (index) => keys[index]!;
}

/** Runs one job in this thread (what a sweep worker does with a message). */
export async function runJob(scenario: Scenario, job: Job): Promise<SetResult> {
  return job.kind === 'set' ? evaluateSet(scenario, job.params, job.mode, job.half) : evaluateBaseline(scenario, job.name, job.half);
}

/**
 * Exact jobs on the threads as halves: each job's in-sample and out-of-sample runs as two jobs,
 * the costliest first (longest-processing-time first): the strategy's relative cost (results.ts
 * runCost) times the half's share of the days. A whole job left one thread idle at the end of
 * the confirmation while the other ran its last set (0.4-0.6 s of a 7 s confirmation in three
 * petchem sweeps); halves come out more even. `merge` puts each job's two figures back
 * together, in job order.
 */
function halvesOf(scenario: Scenario, jobs: readonly Job[]): { halves: Job[]; order: number[]; merge: (results: readonly SetResult[]) => SetResult[] } {
  const halves = jobs.flatMap((job) => [{ ...job, half: 'in' as const }, { ...job, half: 'out' as const }]);
  const share = scenario.config.inSampleShare;
  const weight = (h: number): number => {
    const job = jobs[h >> 1]!;
    return runCost(job.kind === 'baseline' ? job.name : null) * (h % 2 === 0 ? share : 1 - share);
  };
  const order = halves.map((_, h) => h).sort((a, b) => weight(b) - weight(a) || a - b);
  const merge = (results: readonly SetResult[]): SetResult[] => jobs.map((_, i) => ({ inSample: results[2 * i]!.inSample, outOfSample: results[2 * i + 1]!.outOfSample }));
  return { halves, order, merge };
}

export async function runSweep(scenario: Scenario, grid: SweepGrid, options: SweepOptions): Promise<SweepResult> {
  const engine = sweepEngine(scenario, options);
  const total = grid.sets.length;
  // One pool of threads for the sets and the exact runs after them: the confirmation reuses
  // threads that have already imported the engine and loaded the scenario.
  const pool = options.pool ?? sweepPool(options, total);
  try {
    const started = performance.now();
    const results = await runJobs(scenario, options, grid.sets.map((params) => ({ kind: 'set', params, mode: engine.mode }) as Job), engine.mode === 'screen' ? 'screen' : 'sweep', pool);
    options.onPhase?.('sets', performance.now() - started);
    if (engine.mode === 'exact') {
      const confirmStarted = performance.now();
      const baselines = await runJobs(scenario, options, sweepBaselines(scenario).map((name) => ({ kind: 'baseline', name }) as Job), 'baselines', pool);
      options.onPhase?.('confirm', performance.now() - confirmStarted);
      return gatherSweep(scenario, grid, results, { engine, baselines: sweepBaselines(scenario).map((name, i) => ({ name, ...baselines[i]! })) });
    }
    return await confirmSweep(scenario, grid, results, engine, options, pool);
  } finally {
    if (options.pool === undefined) await pool?.close();
  }
}

/**
 * After screening: re-runs the `engine.confirm` best sets by screened in-sample cost and the
 * baselines on the exact engine (on worker threads), and gathers the sweep with the exact
 * figures of those sets and the screened figures of the rest, marked. Shared by local and
 * queued sweeps.
 */
export async function confirmSweep(scenario: Scenario, grid: SweepGrid, screened: readonly SetResult[], engine: SweepEngine, options: SweepOptions, pool?: SweepPool): Promise<SweepResult> {
  const started = performance.now();
  const order = screened.map((r, i) => ({ i, cost: new Decimal(r.inSample) })).sort((a, b) => a.cost.comparedTo(b.cost) || a.i - b.i);
  const chosen = order.slice(0, Math.min(engine.confirm, order.length)).map((o) => o.i);
  const names = sweepBaselines(scenario);
  const jobs: Job[] = [...chosen.map((i) => ({ kind: 'set', params: grid.sets[i]!, mode: 'exact' }) as Job), ...names.map((name) => ({ kind: 'baseline', name }) as Job)];
  // A queued sweep confirms here, on threads of its own.
  const own = pool === undefined ? sweepPool(options, jobs.length) : undefined;
  let exact: SetResult[];
  try {
    exact = await runJobs(scenario, options, jobs, 'confirm', pool ?? own);
  } finally {
    await own?.close();
  }
  options.onPhase?.('confirm', performance.now() - started);
  const results = [...screened];
  const confirmed: (SetResult | undefined)[] = new Array(grid.sets.length).fill(undefined);
  chosen.forEach((i, k) => {
    confirmed[i] = screened[i];
    results[i] = exact[k]!;
  });
  const baselines = names.map((name, k) => ({ name, ...exact[chosen.length + k]! }));
  return gatherSweep(scenario, grid, results, { engine, baselines, screened: confirmed });
}

/** What the sweep's gathering knows beyond the sets' figures (none: an exact sweep whose baselines run here). */
export interface GatherExtra {
  readonly engine?: SweepEngine | undefined;
  readonly baselines?: readonly { readonly name: string; readonly inSample: string; readonly outOfSample: string }[] | undefined;
  /** Per set: its screened figures when it was confirmed exactly (its result is then exact), undefined otherwise. */
  readonly screened?: readonly (SetResult | undefined)[] | undefined;
}

/** (screened - exact) / exact in percent, 4 places. */
function deviation(screened: string, exact: string): number {
  const e = new Decimal(exact);
  return e.isZero() ? 0 : Number(new Decimal(screened).minus(e).dividedBy(e).times(100).toFixed(4));
}

/**
 * The sweep's report from every set's result (in the grid's order), wherever the sets ran: on
 * this machine's threads (`runSweep`) or on the queue's workers (sweep-queue.ts). The baselines
 * run here unless given; the ranking is the same code, so the same grid and seed give the same
 * figures. With a screened sweep, a set's figures are exact when it was confirmed, screened
 * otherwise, and the rows say which; the ranks are by the figures shown.
 */
export async function gatherSweep(scenario: Scenario, grid: SweepGrid, results: readonly SetResult[], extra: GatherExtra = {}): Promise<SweepResult> {
  const split = splitDay(scenario);
  const engine: SweepEngine = extra.engine ?? { mode: 'exact', reason: undefined, confirm: 0 };
  const baselines = extra.baselines === undefined ? await evaluateBaselines(scenario) : [...extra.baselines];
  const scored = grid.sets.map((params, i) => {
    const screenedOf = extra.screened?.[i];
    const figures: 'exact' | 'screened' = engine.mode === 'exact' || screenedOf !== undefined ? 'exact' : 'screened';
    return {
      params,
      inSample: results[i]!.inSample,
      outOfSample: results[i]!.outOfSample,
      figures,
      screened:
        screenedOf === undefined
          ? undefined
          : { inSample: screenedOf.inSample, outOfSample: screenedOf.outOfSample, deviationPercent: { inSample: deviation(screenedOf.inSample, results[i]!.inSample), outOfSample: deviation(screenedOf.outOfSample, results[i]!.outOfSample) } },
    };
  });
  const rankBy = (key: 'inSample' | 'outOfSample'): Map<Record<string, unknown>, number> => {
    const sorted = [...scored].sort((a, b) => new Decimal(a[key]).comparedTo(new Decimal(b[key])));
    return new Map(sorted.map((row, i) => [row.params, i + 1]));
  };
  const inRank = rankBy('inSample');
  const outRank = rankBy('outOfSample');
  const rows = scored
    .map((row) => ({ ...row, inSampleRank: inRank.get(row.params)!, outOfSampleRank: outRank.get(row.params)! }))
    .sort((a, b) => a.inSampleRank - b.inSampleRank);
  const axes = grid.axes.map((a) => a.name);
  const confirmed = rows.filter((r) => r.screened !== undefined).length;
  return {
    axes: grid.axes,
    rows,
    baselines,
    split,
    refused: grid.refused,
    engine: { ...engine, confirmed },
    json: {
      axes,
      split: formatDate(split),
      metric: 'product effective unit cost (lower is better)',
      engine: { sets: engine.mode === 'screen' ? 'screened' : 'exact', confirmed, reason: engine.reason ?? null, note: engineNote(engine, confirmed) },
      rows: rows.map((r) => ({
        params: Object.fromEntries(axes.map((a) => [a, r.params[a]])),
        inSample: r.inSample,
        outOfSample: r.outOfSample,
        inSampleRank: r.inSampleRank,
        outOfSampleRank: r.outOfSampleRank,
        figures: r.figures,
        ...(r.screened === undefined ? {} : { screened: r.screened }),
      })),
      baselines,
      refused: grid.refused,
    },
  };
}

/**
 * The sweep as the terminal's table (top 25 by in-sample rank), with the baselines' costs on
 * the same spans as the first rows (rank null) so a set can be judged against them. `unit`
 * names the cost's unit in the headings, e.g. "USD/t".
 */
export function sweepTable(sweep: SweepResult, unit?: string): { description: string; columns: string[]; rows: { rank: number | null; params: string; values: (string | null)[] }[] } {
  const axes = sweep.axes.map((a) => a.name);
  const per = unit === undefined ? '' : ` (${unit})`;
  const pct = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(3)} %`;
  return {
    description: `Walk-forward sweep: ${sweep.rows.length} parameter sets ranked by in-sample product unit cost (before ${formatDate(sweep.split)}), with their out-of-sample cost and rank (from ${formatDate(sweep.split)}). ${sweep.refused.length} grid points refused by the strategy's checks.\n${engineNote(sweep.engine, sweep.engine.confirmed)}`,
    columns: [`in-sample cost${per}`, `out-of-sample cost${per}`, 'out-of-sample rank', 'figures', 'screened - exact (in / out)'],
    rows: [
      ...sweep.baselines.map((b) => ({ rank: null, params: `${b.name} (baseline)`, values: [new Decimal(b.inSample).toFixed(2), new Decimal(b.outOfSample).toFixed(2), null, 'exact', null] })),
      ...sweep.rows.slice(0, 25).map((r) => ({
        rank: r.inSampleRank,
        params: axes.map((a) => `${a}=${String(r.params[a])}`).join(' '),
        values: [
          new Decimal(r.inSample).toFixed(2),
          new Decimal(r.outOfSample).toFixed(2),
          String(r.outOfSampleRank),
          r.figures,
          r.screened === undefined ? null : `${pct(r.screened.deviationPercent.inSample)} / ${pct(r.screened.deviationPercent.outOfSample)}`,
        ],
      })),
    ],
  };
}

/** The threads a sweep's jobs run on, kept between its batches; undefined: in this thread (`workers` 0). */
export type SweepPool = WorkerPool<SweepAnswer>;
/** A sweep thread's answer: a job's figures or its error text; to a main-job run (`{ index, run }`), a RunAnswer. */
type SweepAnswer = { index: number; inSample?: string; outOfSample?: string; error?: RunAnswer['error']; result?: unknown };

/**
 * The threads of a sweep (at most `workers`, default the CPU count, and at most one per set);
 * undefined for none (`workers` 0). `runSweep` starts and closes its own unless given one
 * (`SweepOptions.pool`); the command line keeps it for the runs after the sweep (results.ts
 * RunPool), which then find the exact engine compiled on those threads.
 */
export function sweepPool(options: Pick<SweepOptions, 'file' | 'overrides' | 'workers'>, jobs: number): SweepPool | undefined {
  const count = Math.min(options.workers ?? availableParallelism(), jobs);
  if (count <= 0) return undefined;
  return new WorkerPool<SweepAnswer>({ url: new URL('./sweep-worker.js', import.meta.url), workerData: { file: options.file, overrides: options.overrides ?? {} }, count, what: 'a sweep worker thread' });
}

/** Runs jobs on worker threads (or in-process with `workers: 0`), results in the jobs' order, with a progress bar. */
async function runJobs(scenario: Scenario, options: SweepOptions, whole: readonly Job[], label: string, pool: SweepPool | undefined): Promise<SetResult[]> {
  // Exact jobs go to the threads as halves (halvesOf); screened sets, and jobs run here, whole.
  const halved = pool !== undefined && whole.length > 0 && whole.every((job) => job.kind === 'baseline' || job.mode === 'exact') ? halvesOf(scenario, whole) : undefined;
  const jobs = halved?.halves ?? whole;
  const total = jobs.length;
  const results: (SetResult | undefined)[] = new Array(total);
  if (total === 0) return [];
  const { default: cliProgress } = await import('cli-progress');
  const bar = options.progress === true ? new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} | {eta_formatted} left`, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(total, 0);
  let done = 0;
  try {
    if (pool === undefined) {
      for (let i = 0; i < total; i += 1) {
        results[i] = await runJob(scenario, jobs[i]!);
        done += 1;
        bar?.update(done);
      }
    } else {
      await pool.run<Job>({
        jobs,
        // A confirmation's baselines cost more than a set (jit orders every day): handed out first,
        // so that one of them does not run alone at the end. Sets keep their order.
        order: halved?.order ?? dispatchOrder(jobs.map((job) => ({ strategy: job.kind === 'baseline' ? job.name : null }))),
        // Screened sets of one signal go to one thread while it can take them: it computes the
        // signal once (ScreenScenario.signals), where handing sets out in grid order had every
        // thread compute every signal.
        ...(jobs.every((job) => job.kind === 'set' && job.mode === 'screen') ? { group: signalGroups(scenario, jobs) } : {}),
        message: (index, job) => ({ index, job }),
        answer: (message) => {
          if (message.error !== undefined) return new ConfigError(typeof message.error === 'string' ? message.error : message.error.message, { field: '--sweep' });
          results[message.index] = { inSample: message.inSample!, outOfSample: message.outOfSample! };
          done += 1;
          bar?.update(done);
          return undefined;
        },
      });
    }
  } finally {
    bar?.stop();
  }
  return halved === undefined ? (results as SetResult[]) : halved.merge(results as SetResult[]);
}
