/**
 * Benchmark plumbing. The machine is shared and noisy, so every figure is reported beside a
 * reference measured in the same run, and the ratio is what we track.
 */
import { performance } from 'node:perf_hooks';

export interface BenchRow {
  /** What was measured, e.g. "ledger replay, 1M events in memory". */
  readonly name: string;
  /** The measured rate or size, e.g. 182000. */
  readonly value: number;
  readonly unit: string;
  /** The same-run reference (a plain-number loop doing the same work), same unit. */
  readonly reference?: { readonly name: string; readonly value: number };
  /** 'higher' (a rate, the default) or 'lower' (a latency, a size) is better. */
  readonly better?: 'higher' | 'lower';
  /** A target in the issue, e.g. ">= 100000 events/s". */
  readonly target?: string;
  readonly note?: string;
  /** The same figures from CPU time instead of wall time, printed beside them. */
  readonly cpu?: { readonly value: number; readonly reference?: number };
}

export type BenchReport = (row: BenchRow) => void;

/** A bench module: `export const bench: Bench = async (report) => { ... }`. */
export type Bench = (report: BenchReport) => Promise<void>;

/** Wall and CPU time (user + system, all threads) of one run. */
export interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * Wall and CPU time of `fn`, best of `repeat` runs by wall time (the same rule for a figure and
 * its reference, so that neither gets more tries than the other).
 */
export async function measure(fn: () => unknown | Promise<unknown>, repeat = 1): Promise<Timing> {
  let best: Timing = { wallMs: Infinity, cpuMs: Infinity };
  for (let i = 0; i < repeat; i += 1) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await fn();
    const wallMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (wallMs < best.wallMs) best = { wallMs, cpuMs: (used.user + used.system) / 1000 };
  }
  return best;
}

/**
 * A rate row (`count` per second) from a figure's timing and its reference's, wall and CPU side by
 * side. Both timings must come from `measure` with the same `repeat`.
 */
export function rateRow(row: {
  readonly name: string;
  readonly count: number;
  readonly unit: string;
  readonly timing: Timing;
  readonly reference?: { readonly name: string; readonly count?: number; readonly timing: Timing };
  readonly target?: string;
  readonly note?: string;
}): BenchRow {
  const per = (count: number, ms: number): number => (count / ms) * 1000;
  const ref = row.reference;
  const refCount = ref?.count ?? row.count;
  return {
    name: row.name,
    value: per(row.count, row.timing.wallMs),
    unit: row.unit,
    ...(ref === undefined ? {} : { reference: { name: ref.name, value: per(refCount, ref.timing.wallMs) } }),
    cpu: ref === undefined ? { value: per(row.count, row.timing.cpuMs) } : { value: per(row.count, row.timing.cpuMs), reference: per(refCount, ref.timing.cpuMs) },
    ...(row.target === undefined ? {} : { target: row.target }),
    ...(row.note === undefined ? {} : { note: row.note }),
  };
}

/**
 * A cost row (lower is better: milliseconds, microseconds per item) from a figure's timing and
 * its reference's, each divided by its own `per` (1 by default), wall and CPU side by side.
 */
export function costRow(row: {
  readonly name: string;
  readonly unit: 'ms' | 's' | 'us';
  readonly per?: number;
  readonly timing: Timing;
  readonly reference?: { readonly name: string; readonly per?: number; readonly timing: Timing };
  readonly target?: string;
  readonly note?: string;
}): BenchRow {
  const scale = row.unit === 's' ? 1 / 1000 : row.unit === 'us' ? 1000 : 1;
  const of = (ms: number, per: number | undefined): number => (ms * scale) / (per ?? 1);
  const ref = row.reference;
  return {
    name: row.name,
    value: of(row.timing.wallMs, row.per),
    unit: row.unit === 'us' ? 'µs' : row.unit,
    better: 'lower',
    ...(ref === undefined ? {} : { reference: { name: ref.name, value: of(ref.timing.wallMs, ref.per) } }),
    cpu: ref === undefined ? { value: of(row.timing.cpuMs, row.per) } : { value: of(row.timing.cpuMs, row.per), reference: of(ref.timing.cpuMs, ref.per) },
    ...(row.target === undefined ? {} : { target: row.target }),
    ...(row.note === undefined ? {} : { note: row.note }),
  };
}

export function formatRow(row: BenchRow): string {
  const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));
  let line = `${row.name}: ${fmt(row.value)} ${row.unit}`;
  if (row.reference) {
    // Always "how many times worse than the reference": reference/measured for rates, measured/reference for costs.
    const lower = row.better === 'lower';
    const ratio = lower ? row.value / row.reference.value : row.reference.value / row.value;
    line += ` | reference (${row.reference.name}): ${fmt(row.reference.value)} ${row.unit} | ${lower ? 'measured/reference' : 'reference/measured'} = ${ratio.toFixed(2)}x`;
  }
  if (row.cpu) {
    line += ` | by CPU time: ${fmt(row.cpu.value)} ${row.unit}`;
    if (row.cpu.reference !== undefined) {
      const lower = row.better === 'lower';
      const ratio = lower ? row.cpu.value / row.cpu.reference : row.cpu.reference / row.cpu.value;
      line += `, reference ${fmt(row.cpu.reference)}, ${lower ? 'measured/reference' : 'reference/measured'} = ${ratio.toFixed(2)}x`;
    }
  }
  if (row.target) line += ` | target ${row.target}`;
  if (row.note) line += ` | ${row.note}`;
  return line;
}
