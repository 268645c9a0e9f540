/**
 * The exact engine and the main job (issue 10):
 * - one backtest of the bundled ammonia scenario (29 years of daily Henry Hub prices, one
 *   material) in process, as CPU per material-day, beside a plain Float64Array day loop over the
 *   same days (EMA crossover, consumption, reorder point, buys at the next close) timed the
 *   same way: in the steady state (best of five after two warm-up runs, what a sweep's runs
 *   see) and as the first run of a fresh process (what a one-off backtest sees, V8 compiling);
 * - the main job, `npm start` (four runs of 29 years and the HTML report), as a child process,
 *   beside `procura --help` (the command line's own start) timed the same way: wall time, and
 *   CPU time of the child from /proc/self/stat (Linux only); and the same job on worker threads
 *   (`--workers N`) beside it in one thread (`--workers 1`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBacktest, type RunResult } from '../src/engine/backtest.js';
import { loadScenario } from '../src/engine/scenario.js';
import { costRow, measure, type Bench, type Timing } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'procura.js');
const SCENARIO = join(ROOT, 'backtests', 'ammonia-henry-hub.yaml');
const TICK_MS = 10; // CLK_TCK 100
const REFERENCE_PASSES = 200;
/** Timed runs of the steady-state row (best of), after two warm-up runs. */
const STEADY_RUNS = 5;

/** CPU time of all waited-for children so far, ms (clock-tick resolution). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** Wall and CPU time of one child process (`node args`). */
function runChild(args: readonly string[]): Timing {
  const cpu = childrenCpuMs();
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpu };
}

/**
 * The reference day loop: the desk's day over plain numbers, as little as it can be: the EMA
 * pair on each close, the day's consumption, a reorder-point buy arriving after the lead time
 * at the next close, carrying on the stock held. Returns a checksum so the work is not dropped.
 */
function plainDays(close: Float64Array, days: number, perDay: number, leadDays: number): number {
  const af = 2 / 11;
  const as = 2 / 41;
  let f = close[0]!;
  let s = close[0]!;
  let onHand = perDay * 10;
  let cash = 0;
  const arriving = new Float64Array(days + leadDays + 1);
  let onOrder = 0;
  for (let d = 0; d < days; d += 1) {
    const c = close[Math.min(d, close.length - 1)]!;
    f += af * (c - f);
    s += as * (c - s);
    onHand += arriving[d]!;
    onOrder -= arriving[d]!;
    const need = perDay;
    if (need > onHand) {
      cash -= (need - onHand) * c * 1.1;
      onHand = need;
    }
    onHand -= need;
    cash -= onHand * c * (0.18 / 365);
    const reorderPoint = perDay * (leadDays + 3);
    if (onHand + onOrder <= reorderPoint || (f > s && onHand + onOrder < perDay * 30)) {
      const qty = perDay * 7;
      arriving[d + leadDays] = arriving[d + leadDays]! + qty;
      onOrder += qty;
      cash -= qty * c * 1.0005;
    }
  }
  return cash + onHand;
}

export const bench: Bench = async (report) => {
  // Exact engine, in process. Two rows, each beside the reference timed the same way: the first
  // run in a fresh process (V8 is still compiling the engine: its compiler threads are in the
  // CPU figure), and the steady state a sweep or a long job sees (two warm-up runs, then the
  // best of STEADY_RUNS; the reference is the best of as many timings of its passes).
  const scenario = loadScenario(SCENARIO);
  let result: RunResult | undefined;
  const first = await measure(async () => {
    result = await runBacktest(scenario);
  });
  const second = await measure(async () => {
    result = await runBacktest(scenario);
  });
  const steady = await measure(async () => {
    result = await runBacktest(scenario);
  }, STEADY_RUNS);
  const materialDays = result!.days * result!.materials.length;
  const close = Float64Array.from(scenario.materials[0]!.series.close);
  const perDay = result!.materials[0]!.consumedQty.toNumber() / result!.days;
  let sink = 0;
  const passes = (): void => {
    for (let pass = 0; pass < REFERENCE_PASSES; pass += 1) sink += plainDays(close, result!.days, perDay, scenario.materials[0]!.leadTimeDays);
  };
  // The loop takes about a millisecond: timed over REFERENCE_PASSES passes, per material-day of one.
  const referenceFirst = await measure(passes);
  const reference = await measure(passes, STEADY_RUNS);
  const runName = `of the ammonia scenario (${result!.days.toLocaleString('en-US')} days x ${result!.materials.length} material, ${result!.counters.orders} orders)`;
  const referenceName = (how: string): string => `plain Float64Array day loop over the same days (${REFERENCE_PASSES} passes, ${how})`;
  const checksum = Number.isFinite(sink) ? '' : ' (reference checksum not finite)';
  report(
    costRow({
      name: `exact engine, steady state: one backtest ${runName}, best of ${STEADY_RUNS} after 2 warm-up runs`,
      unit: 'us',
      per: materialDays,
      timing: steady,
      reference: { name: referenceName(`best of ${STEADY_RUNS}`), per: materialDays * REFERENCE_PASSES, timing: reference },
      target: '<= 20 µs CPU per material-day',
      note: `per material-day; run ${steady.wallMs.toFixed(0)} ms wall, ${steady.cpuMs.toFixed(0)} ms CPU${checksum}`,
    }),
  );
  report(
    costRow({
      name: `exact engine, first run in a fresh process (compilation included): one backtest ${runName}`,
      unit: 'us',
      per: materialDays,
      timing: first,
      reference: { name: referenceName('first timing'), per: materialDays * REFERENCE_PASSES, timing: referenceFirst },
      target: '<= 20 µs CPU per material-day',
      note: `per material-day; first run ${first.wallMs.toFixed(0)} ms wall, ${first.cpuMs.toFixed(0)} ms CPU; second run ${second.wallMs.toFixed(0)} ms wall, ${second.cpuMs.toFixed(0)} ms CPU (V8's optimising compiler runs on its own threads while the first runs go: CPU above wall)`,
    }),
  );

  // The main job, as `npm start` runs it, beside the command line's own start.
  runChild([BIN, '--help']); // warm the file cache
  const help = runChild([BIN, '--help']);
  const job = runChild([BIN, 'backtest', SCENARIO]);
  report(
    costRow({
      name: `main job (npm start: the ammonia scenario, its strategy and three baselines over 29 years, HTML report; threads only when cores are idle)`,
      unit: 's',
      timing: job,
      reference: { name: 'procura --help as a child process', timing: help },
      target: '<= 2 s',
      note: 'child process; CPU from /proc/self/stat (all its threads)',
    }),
  );
  // The same job on worker threads and in one thread: what the threads save in wall time, and cost in CPU.
  const threads = Math.max(2, availableParallelism());
  const onThreads = runChild([BIN, 'backtest', SCENARIO, '--workers', String(threads)]);
  const oneThread = runChild([BIN, 'backtest', SCENARIO, '--workers', '1']);
  report(
    costRow({
      name: `main job on ${threads} worker threads (--workers ${threads})`,
      unit: 's',
      timing: onThreads,
      reference: { name: 'the same job in one thread (--workers 1)', timing: oneThread },
      note: 'child processes; threads save wall time when a core is free, never CPU',
    }),
  );
};
