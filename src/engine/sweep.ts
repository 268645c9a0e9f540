/**
 * Parameter sweeps: a grid of strategy parameters, each set run on an in-sample span (the
 * first `inSampleShare` of the range) and on the out-of-sample rest, ranked by in-sample
 * product unit cost. Showing both ranks side by side makes overfitting visible: a set that
 * wins in-sample and falls down the out-of-sample ranking was fitted to noise.
 *
 * Runs on worker threads (each loads the scenario once); `workers: 0` runs in-process.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Decimal } from '../core/decimal.js';
import { ConfigError } from '../core/errors.js';
import { DAY_MS, formatDate, type EpochMs } from '../core/time.js';
import { getStrategy, parseStrategyParams } from '../../strategies/index.js';
import { runBacktest } from './backtest.js';
import { baselinesFor } from './results.js';
import type { Scenario } from './scenario.js';

export interface SweepGrid {
  readonly axes: readonly { readonly name: string; readonly values: readonly number[] }[];
  /** Valid parameter sets (the scenario's parameters with the grid's values). */
  readonly sets: readonly Record<string, unknown>[];
  /** Grid points the strategy refused (e.g. fast >= slow), with the reason. */
  readonly refused: readonly { readonly params: Record<string, number>; readonly reason: string }[];
}

export interface SweepRow {
  readonly params: Record<string, unknown>;
  readonly inSample: string;
  readonly outOfSample: string;
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

/** Each baseline's in-sample and out-of-sample product unit cost (decimal strings); the strategy itself is left out when it is a baseline. */
export async function evaluateBaselines(scenario: Scenario): Promise<{ name: string; inSample: string; outOfSample: string }[]> {
  const split = splitDay(scenario);
  const out: { name: string; inSample: string; outOfSample: string }[] = [];
  for (const name of baselinesFor(scenario)) {
    if (name === scenario.strategy.definition.name) continue;
    const definition = getStrategy(name)!;
    const strategy = { definition, params: definition.params.parse({}) };
    const inSample = await runBacktest(scenario, { strategy, dailyCosts: false, to: split - DAY_MS });
    const outOfSample = await runBacktest(scenario, { strategy, dailyCosts: false, from: split });
    out.push({ name, inSample: inSample.productUnitCost.toFixed(6), outOfSample: outOfSample.productUnitCost.toFixed(6) });
  }
  return out;
}

/** One parameter set's in-sample and out-of-sample product unit cost (decimal strings). */
export async function evaluateSet(scenario: Scenario, params: Record<string, unknown>): Promise<{ inSample: string; outOfSample: string }> {
  const parsed = parseStrategyParams(scenario.strategy.definition, params);
  if (!parsed.ok) throw new ConfigError(`${parsed.field}: ${parsed.message}`, { field: '--sweep' });
  const strategy = { definition: scenario.strategy.definition, params: parsed.params };
  const split = splitDay(scenario);
  const inSample = await runBacktest(scenario, { strategy, dailyCosts: false, to: split - DAY_MS });
  const outOfSample = await runBacktest(scenario, { strategy, dailyCosts: false, from: split });
  return { inSample: inSample.productUnitCost.toFixed(6), outOfSample: outOfSample.productUnitCost.toFixed(6) };
}

export interface SweepOptions {
  /** The scenario file, for the workers to load. */
  readonly file: string;
  readonly overrides?: { strategy?: string | undefined; params?: Record<string, unknown> };
  readonly workers?: number | undefined;
  readonly progress?: boolean;
}

export async function runSweep(scenario: Scenario, grid: SweepGrid, options: SweepOptions): Promise<SweepResult> {
  const total = grid.sets.length;
  const results: ({ inSample: string; outOfSample: string } | undefined)[] = new Array(total);
  const { default: cliProgress } = await import('cli-progress');
  const bar = options.progress === true ? new cliProgress.SingleBar({ format: 'sweep [{bar}] {value}/{total} sets | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(total, 0);
  let done = 0;
  const tick = (): void => {
    done += 1;
    bar?.update(done);
  };
  const workers = Math.min(options.workers ?? availableParallelism(), total);
  try {
    if (workers <= 0) {
      for (let i = 0; i < total; i += 1) {
        results[i] = await evaluateSet(scenario, grid.sets[i]!);
        tick();
      }
    } else {
      await runOnWorkers(options, grid.sets, workers, (index, value) => {
        results[index] = value;
        tick();
      });
    }
  } finally {
    bar?.stop();
  }
  return gatherSweep(scenario, grid, results as { inSample: string; outOfSample: string }[]);
}

/**
 * The sweep's report from every set's result (in the grid's order), wherever the sets ran: on
 * this machine's threads (`runSweep`) or on the queue's workers (sweep-queue.ts). The baselines
 * run here; the ranking is the same code, so the same grid and seed give the same figures.
 */
export async function gatherSweep(scenario: Scenario, grid: SweepGrid, results: readonly { inSample: string; outOfSample: string }[]): Promise<SweepResult> {
  const split = splitDay(scenario);
  const baselines = await evaluateBaselines(scenario);
  const scored = grid.sets.map((params, i) => ({ params, inSample: results[i]!.inSample, outOfSample: results[i]!.outOfSample }));
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
  return {
    axes: grid.axes,
    rows,
    baselines,
    split,
    refused: grid.refused,
    json: {
      axes,
      split: formatDate(split),
      metric: 'product effective unit cost (lower is better)',
      rows: rows.map((r) => ({ params: Object.fromEntries(axes.map((a) => [a, r.params[a]])), inSample: r.inSample, outOfSample: r.outOfSample, inSampleRank: r.inSampleRank, outOfSampleRank: r.outOfSampleRank })),
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
  return {
    description: `Walk-forward sweep: ${sweep.rows.length} parameter sets ranked by in-sample product unit cost (before ${formatDate(sweep.split)}), with their out-of-sample cost and rank (from ${formatDate(sweep.split)}). ${sweep.refused.length} grid points refused by the strategy's checks.`,
    columns: [`in-sample cost${per}`, `out-of-sample cost${per}`, 'out-of-sample rank'],
    rows: [
      ...sweep.baselines.map((b) => ({ rank: null, params: `${b.name} (baseline)`, values: [new Decimal(b.inSample).toFixed(2), new Decimal(b.outOfSample).toFixed(2), null] })),
      ...sweep.rows.slice(0, 25).map((r) => ({
        rank: r.inSampleRank,
        params: axes.map((a) => `${a}=${String(r.params[a])}`).join(' '),
        values: [new Decimal(r.inSample).toFixed(2), new Decimal(r.outOfSample).toFixed(2), String(r.outOfSampleRank)],
      })),
    ],
  };
}

async function runOnWorkers(
  options: SweepOptions,
  sets: readonly Record<string, unknown>[],
  count: number,
  onResult: (index: number, value: { inSample: string; outOfSample: string }) => void,
): Promise<void> {
  let next = 0;
  const workerUrl = new URL('./sweep-worker.js', import.meta.url);
  const one = (): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const worker = new Worker(workerUrl, { workerData: { file: options.file, overrides: options.overrides ?? {} } });
      const send = (): void => {
        if (next >= sets.length) {
          void worker.terminate();
          resolvePromise();
          return;
        }
        const index = next;
        next += 1;
        worker.postMessage({ index, params: sets[index] });
      };
      worker.on('message', (message: { index: number; inSample?: string; outOfSample?: string; error?: string }) => {
        if (message.error !== undefined) {
          void worker.terminate();
          reject(new ConfigError(message.error, { field: '--sweep' }));
          return;
        }
        onResult(message.index, { inSample: message.inSample!, outOfSample: message.outOfSample! });
        send();
      });
      worker.on('error', reject);
      worker.on('online', send);
    });
  await Promise.all(Array.from({ length: count }, one));
}
