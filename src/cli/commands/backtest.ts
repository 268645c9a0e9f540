/**
 * `procura backtest SCENARIO`: runs a scenario's strategy and the jit and schedule baselines
 * (and static-hedge when the scenario hedges), prints the summary, writes the HTML report; `--sweep` runs a
 * parameter grid on worker threads with a walk-forward split.
 */
import { availableParallelism, loadavg } from 'node:os';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, InputError, ProcuraError } from '../../core/errors.js';
import { cadenceLabel } from '../../market/series.js';
import { loadScenario } from '../../engine/scenario.js';
import { analysisLines, backtestWithBaselines, baselinesFor, resultJson, savings, summaryTable, warningsOf } from '../../engine/results.js';
import { action, formatTable, printJson } from '../run.js';
import { formatNumber, groupThousands } from '../format.js';
import { progressBar, type Progress } from '../progress.js';

interface BacktestOptions {
  json?: boolean;
  report?: string | false;
  export?: string;
  strategy?: string;
  param?: string[];
  sweep?: string;
  workers?: string;
  queue?: string;
  chunk?: string;
  progress?: boolean;
  exact?: boolean;
  confirm?: string;
}

export function register(program: Command): void {
  program
    .command('backtest')
    .description('Run a backtest scenario (strategy vs the jit and schedule baselines, and static-hedge when it hedges) and write its HTML report')
    .argument('<scenario>', 'scenario file (YAML), e.g. backtests/ammonia-henry-hub.yaml')
    .option('--json', 'print the results as JSON')
    .option('--report <file>', 'write the HTML report here (default: the scenario\'s `report`)')
    .option('--no-report', 'do not write the HTML report')
    .option('--export <dir>', 'write the daily series and the trades of every run as CSV into this directory (and as JSON with --json)')
    .option('--strategy <name>', 'run another strategy on the same scenario')
    .option('--param <key=value...>', 'override a strategy parameter (repeatable)')
    .option('--sweep <grid>', 'parameter grid, e.g. fast=10:60:10,slow=50:200:25 (ranked, walk-forward)')
    .option('--workers <n>', 'worker threads for --sweep (default: CPU count), and for the strategy and its baselines, which run concurrently (default: CPU count when the other cores are idle and a run is at least 15,000 material-days, else 1)')
    .option('--confirm <n>', 'with --sweep: re-run the n best screened sets (and the baselines) on the exact engine (default 10)')
    .option('--exact', 'with --sweep: run every set on the exact engine instead of screening them')
    .option('--queue <url>', 'run the --sweep sets on the PostgreSQL queue at this postgres:// URL (procura worker processes take them)')
    .option('--chunk <sets>', 'with --queue: parameter sets per job (default: from the grid and the workers running, see docs/scaling.md)')
    .option('--no-progress', 'no progress bar on stderr')
    .action(
      action(async (file: string, options: BacktestOptions) => {
        const params = parseParams(options.param ?? []);
        const workers = options.workers === undefined ? undefined : parseWorkers(options.workers);
        const scenario = blameFlags(() => loadScenario(file, { ...(options.strategy === undefined ? {} : { strategy: options.strategy }), params }), options.strategy, options.param ?? []);
        // The sweep's modules (and its screening engine) load only for --sweep.
        const sweeps = options.sweep === undefined ? undefined : await import('../../engine/sweep.js');
        const sweepGrid = options.sweep === undefined ? undefined : sweeps!.parseSweepSpec(options.sweep, scenario);
        const progress = options.progress !== false && process.stderr.isTTY === true;
        if (options.queue !== undefined && sweepGrid === undefined) throw new ConfigError('--queue runs the sets of a --sweep: give --sweep too', { field: '--queue' });
        if (options.chunk !== undefined && options.queue === undefined) throw new ConfigError('--chunk sizes the jobs of a --queue sweep: give --queue too', { field: '--chunk' });
        const chunk = options.chunk === undefined ? undefined : Number(options.chunk);
        if (chunk !== undefined && !(Number.isInteger(chunk) && chunk >= 1)) throw new ConfigError(`expected a whole number of sets >= 1, got ${JSON.stringify(options.chunk)}`, { field: '--chunk' });
        if (options.queue !== undefined && options.workers !== undefined) throw new ConfigError('--workers counts this machine\'s threads; with --queue the sets run on procura worker processes: drop one of them', { field: '--workers' });
        if (sweepGrid === undefined && (options.exact === true || options.confirm !== undefined)) throw new ConfigError('--exact and --confirm choose how a --sweep runs its sets: give --sweep too', { field: options.exact === true ? '--exact' : '--confirm' });
        if (options.exact === true && options.confirm !== undefined) throw new ConfigError('--exact runs every set exactly, so there is nothing to --confirm: drop one of them', { field: '--confirm' });
        const confirm = options.confirm === undefined ? undefined : parseConfirm(options.confirm);
        const overrides = { strategy: options.strategy, params };
        let sweep;
        // A local sweep's threads also run the strategy and its baselines over the whole period
        // (for the summary and the report): those runs do not depend on the sweep, so they are
        // queued on its threads at once (thread-pool.ts: a thread with no job left in one batch
        // takes the next batch's) and fill the threads' idle ends instead of following the sweep
        // (three runs on two threads after it left one thread idle for most of a run).
        const pool = sweepGrid !== undefined && options.queue === undefined ? sweeps!.sweepPool({ file: resolve(file), overrides, workers }, sweepGrid.sets.length) : undefined;
        const reportPath = options.report === false ? undefined : typeof options.report === 'string' ? resolve(options.report) : scenario.reportPath;
        const exportDir = options.export === undefined ? undefined : resolve(options.export);
        // Daily series cost time and memory: record them only for a report or an export, and for
        // a report alone only the columns it reads (every one of the strategy's, the baselines' costs).
        const record = exportDir !== undefined ? true : reportPath !== undefined ? 'report' : false;
        // The runs are independent: on worker threads when cores are free and the runs are long
        // enough to pay for a thread (same figures, same order); --workers N asks for N threads.
        const threads = { file: resolve(file), overrides, workers: workers ?? freeThreads(), ...(workers === undefined ? {} : { minMaterialDays: 0 }), pool };
        // The runs' progress bar shows once the sweep's bars are done; until then it only counts.
        let bar: Progress | undefined;
        let progressed = { done: 0, total: 1 + baselinesFor(scenario).filter((name) => name !== scenario.strategy.definition.name).length };
        const onProgress = (done: number, total: number): void => {
          progressed = { done, total };
          bar?.update(done, total);
        };
        const queued = pool === undefined ? undefined : backtestWithBaselines(scenario, { record, threads, onProgress });
        // Awaited below; handled here so that a run failing while the sweep goes is not an unhandled rejection.
        void queued?.catch(() => undefined);
        try {
          if (sweepGrid !== undefined && options.queue !== undefined) {
            const { parseStoreAddress } = await import('../../store/address.js');
            const queue = parseStoreAddress(options.queue, { field: '--queue' });
            if (queue.kind !== 'postgres') throw new ConfigError(`expected a postgres:// URL, got ${JSON.stringify(options.queue)}`, { field: '--queue' });
            const { runQueuedSweep } = await import('../../engine/sweep-queue.js');
            sweep = await runQueuedSweep(scenario, sweepGrid, { file, overrides, queue, progress, chunk, evaluation: options.exact === true ? 'exact' : 'screen', confirm, stopOnSignal: true });
          } else if (sweepGrid !== undefined) {
            sweep = await sweeps!.runSweep(scenario, sweepGrid, { file: resolve(file), overrides, workers, progress, exact: options.exact, confirm, pool });
          }
          // The single run, or the exact rerun after a sweep: the strategy and each baseline.
          const shown = await progressBar(sweep === undefined ? 'backtest' : 'rerun', 'runs', { enabled: options.progress !== false });
          bar = shown;
          shown.update(progressed.done, progressed.total);
          // The report's modules and the export's (which builds danfo frames: danfo is about a
          // second of CPU to load) load only when asked for, and start loading now, so that on
          // worker threads the load overlaps the runs instead of following them.
          const reportModules = reportPath === undefined ? undefined : Promise.all([import('../../report/build.js'), import('../../report/html.js')]);
          const exportModule = exportDir === undefined ? undefined : import('../../report/export.js');
          // Handled here so that a load failing while the runs go is not an unhandled rejection; awaited below.
          void reportModules?.catch(() => undefined);
          void exportModule?.catch(() => undefined);
          const result = await (queued ?? backtestWithBaselines(scenario, { record, threads, onProgress }))
            .catch(async (error: unknown) => {
              // A failed run is the error to report, not a module load that raced it.
              await Promise.allSettled([reportModules, exportModule]);
              throw error;
            })
            .finally(() => shown.stop());
          await pool?.close();
          const exported = exportModule === undefined ? [] : await (await exportModule).exportBacktest(result, exportDir!, { json: options.json === true });
          if (reportModules !== undefined) {
            const [{ buildReportData }, { writeReport }] = await reportModules;
            writeReport(reportPath!, await buildReportData(result, { sweep }));
          }
          // Stockouts or skipped orders above 2 % of the days: on stderr whatever the output format.
          const warnings = warningsOf(result);
          const warn = (): void => {
            for (const w of warnings) process.stderr.write(`warning: ${w.message}\n`);
          };
          if (options.json === true) {
            warn();
            printJson({ ...(resultJson(result) as object), ...(sweep === undefined ? {} : { sweep: sweep.json }), report: reportPath ?? null, ...(exportDir === undefined ? {} : { export: exported }) });
            return;
          }
          const summary = summaryTable(result);
          const s = scenario.config;
          process.stdout.write(`${s.name}: ${s.description ?? ''}\n`);
          process.stdout.write(`${result.run.from === scenario.from ? '' : ''}${new Date(scenario.from).toISOString().slice(0, 10)} .. ${new Date(scenario.to).toISOString().slice(0, 10)}, seed ${s.seed}, strategy ${result.run.strategy} ${JSON.stringify(scenario.strategy.params)}\n`);
          for (const m of scenario.materials) process.stdout.write(`${m.id} prices: ${cadenceLabel(m.series)}, ${relative(process.cwd(), m.series.file)}\n`);
          process.stdout.write('\n');
          process.stdout.write(`${formatTable(['', ...summary.columns], summary.rows.map((r) => [r.label, ...r.values.map((v) => (v === undefined || v === null ? '-' : groupThousands(v)))]))}\n\n`);
          for (const x of savings(result)) {
            const verb = x.perUnit.isNegative() ? 'costs more than' : 'saves against';
            // The point figure alone would call noise a saving: say what the interval says.
            const f = result.analysis.comparisons.find((c) => c.baseline === x.baseline)?.fullPeriod;
            const verdict = f === undefined ? '' : f.distinguishable ? (f.savingPercent > 0 ? '' : `: loses to ${x.baseline}`) : `: not distinguishable from ${x.baseline} (${Math.round(f.level * 100)} % interval contains zero)`;
            process.stdout.write(`${result.run.strategy} ${verb} ${x.baseline}: ${formatNumber(x.perUnit.abs(), 2)} ${scenario.plant.currency} per ${scenario.product} unit (${x.percent.abs().toFixed(2)} %), ${formatNumber(x.total.abs(), 0)} ${scenario.plant.currency} over the run${verdict}\n`);
          }
          process.stdout.write(`\n${analysisLines(result).join('\n')}\n`);
          if (sweep !== undefined) {
            const table = sweeps!.sweepTable(sweep, `${scenario.plant.currency}/${scenario.plant.products.get(scenario.product)!.unit}`);
            process.stdout.write(`\n${table.description}\n${formatTable(['rank', 'params', ...table.columns], table.rows.map((r) => [r.rank === null ? '-' : String(r.rank), r.params, ...r.values.map((v) => (v === undefined || v === null ? '-' : groupThousands(v)))]))}\n`);
          }
          if (reportPath !== undefined) process.stdout.write(`\nreport: ${reportPath}\n`);
          if (exported.length > 0) process.stdout.write(`${reportPath === undefined ? '\n' : ''}export: ${exported.map((p) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p))).join(', ')}\n`);
          warn();
        } finally {
          // Closed as soon as the runs are done (above), or here when a step failed.
          await pool?.close();
        }
      }),
    );
}

/** `--confirm N`: a whole number of sets, at least 0. */
function parseConfirm(raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new InputError(`expected a whole number of sets to re-run exactly, got ${JSON.stringify(raw)}`, { field: '--confirm' });
  return Number(raw);
}

/**
 * Threads for the strategy and its baselines when --workers is not given: the CPU count when
 * the other cores are idle (load average over the last minute at most the CPU count - 1),
 * else one. On a busy machine the threads only compete for the same cores: measured at load
 * 15-20 on 2 cores, the main job took 2.7x the wall time and 1.4x the CPU of one thread.
 */
function freeThreads(): number {
  const cores = availableParallelism();
  return cores > 1 && loadavg()[0]! <= cores - 1 ? cores : 1;
}

/** `--workers N`: a whole number of threads, at least 1. */
function parseWorkers(raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new InputError(`expected a whole number of worker threads, at least 1, got ${JSON.stringify(raw)}`, { field: '--workers' });
  return Number(raw);
}

/**
 * Runs `load`; a refusal of a strategy parameter or name that came from the command line names
 * the flag (`--param fast`), not the scenario's line, which the user did not write.
 */
function blameFlags<T>(load: () => T, strategy: string | undefined, pairs: readonly string[]): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ProcuraError)) throw error;
    const field = error.where.field ?? '';
    if (strategy !== undefined && field === 'strategy.name') throw new ProcuraError(error.code, error.detail, { field: '--strategy' });
    if (pairs.length > 0 && field.startsWith('strategy.params')) {
      const key = field.slice('strategy.params.'.length).split('.')[0] ?? '';
      const given = pairs.find((pair) => pair.slice(0, pair.indexOf('=')) === key);
      if (given !== undefined) throw new ProcuraError(error.code, error.detail, { field: `--param ${given}` });
      throw new ProcuraError(error.code, `${error.detail} (with --param ${pairs.join(' --param ')})`, { field: '--param' });
    }
    throw error;
  }
}

function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`expected key=value, got ${JSON.stringify(pair)}`, { field: '--param' });
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    out[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  }
  return out;
}
