/**
 * Figures that luck cannot move, computed from two runs' daily running totals (DailyCosts):
 * the saving over rolling windows, a block-bootstrap interval of the full-period saving, and
 * the monthly budget figures a treasurer judges a hedge by. Plain numbers (double precision)
 * throughout: these are statistics about the exact totals, which stay Decimal in MaterialTotals.
 *
 * A span (a, b] is the days after index a up to and including index b of the daily arrays
 * (index 0 is the opening); its cost telescopes (see DailyCosts), so the costs of consecutive
 * spans add up to the run's total.
 */
import { Random } from '../core/random.js';
import { formatDate } from '../core/time.js';
import type { DailyCosts, MaterialDaily } from './backtest.js';

/** Linear-interpolated quantile of ascending `sorted` values (q in [0, 1]); NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (h - lo);
}

/** Material cost over the span (a, b]: paid + financing - hedge result + stock held at a - stock held at b, at market. */
export function materialCost(m: MaterialDaily, a: number, b: number, hedged = true): number {
  let cost = m.paid[b]! - m.paid[a]! + m.held[a]! * m.price[a]! - m.held[b]! * m.price[b]!;
  if (hedged) cost += m.financing[b]! - m.financing[a]! - (m.hedge[b]! - m.hedge[a]!);
  return cost;
}

/**
 * The hedge result as a budget sees it at the end of day k: realised results only. A
 * contract's result counts when it rolls off, in the month it covers, as hedge accounting
 * releases a cash-flow hedge when the hedged purchase reaches the cost; a swap settles at
 * 00:00 on the 1st of the next month, so the next day's opening roll-offs belong to day k.
 * Contracts still open when the run ends cover months after it and are left out.
 */
function budgetHedge(m: MaterialDaily, k: number): number {
  return m.hedgeRealized[Math.min(k + 1, m.hedgeRealized.length - 1)]!;
}

/** Product cost over (a, b]: every material's cost plus the conversion cost incurred. */
export function productCost(daily: DailyCosts, a: number, b: number, hedged = true): number {
  let cost = daily.conversion[b]! - daily.conversion[a]!;
  for (const m of daily.materials) cost += materialCost(m, a, b, hedged);
  return cost;
}

/**
 * Daily product cost (index k = day k, k >= 1; index 0 unused): productCost(daily, k - 1, k)
 * for every day, bit for bit, one material at a time over all days (each day's cost adds the
 * same terms in the same order) instead of a call per day and material.
 */
export function dailyProductCost(daily: DailyCosts): Float64Array {
  const n = daily.t.length;
  const out = new Float64Array(n);
  const conversion = daily.conversion;
  for (let k = 1; k < n; k += 1) out[k] = conversion[k]! - conversion[k - 1]!;
  for (const m of daily.materials) {
    const { paid, held, price, financing, hedge } = m;
    for (let k = 1; k < n; k += 1) {
      const a = k - 1;
      let cost = paid[k]! - paid[a]! + held[a]! * price[a]! - held[k]! * price[k]!;
      cost += financing[k]! - financing[a]! - (hedge[k]! - hedge[a]!);
      out[k] = out[k]! + cost;
    }
  }
  return out;
}

/** A span of day indices (a, b]. */
export interface Span {
  readonly a: number;
  readonly b: number;
}

/**
 * Windows of `months` calendar months (or of `days` days), one starting on each 1st of a
 * month inside the run, kept when they end by the run's last day.
 */
export function monthlyStepWindows(t: Float64Array, length: { months: number } | { days: number }): Span[] {
  const n = t.length - 1;
  const out: Span[] = [];
  const indexOf = (day: number): number => Math.round((day - t[0]!) / 86_400_000);
  const first = new Date(t[1]!);
  let startMonth = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + (first.getUTCDate() === 1 ? 0 : 1), 1);
  for (;;) {
    const start = new Date(startMonth);
    const end = 'months' in length ? Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + length.months, 1) - 86_400_000 : startMonth + (length.days - 1) * 86_400_000;
    const a = indexOf(startMonth) - 1;
    const b = indexOf(end);
    if (b > n) break;
    out.push({ a, b });
    startMonth = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  }
  return out;
}

export interface WindowFigures {
  readonly label: string;
  readonly lengthDays: number;
  readonly count: number;
  /** Savings in percent of the baseline's cost; NaN when there is no window. */
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
  /** Share of windows where the run cost less than the baseline (0..1). */
  readonly shareWon: number;
  readonly windows: readonly { readonly from: string; readonly to: string; readonly savingPercent: number }[];
}

/** The run's saving against `base` over each window, in percent of the baseline's product cost. */
export function windowFigures(label: string, base: DailyCosts, run: DailyCosts, spans: readonly Span[]): WindowFigures {
  const windows = spans.map(({ a, b }) => {
    const baseCost = productCost(base, a, b);
    const saving = baseCost === 0 ? 0 : ((baseCost - productCost(run, a, b)) / baseCost) * 100;
    return { from: formatDate(base.t[a + 1]!), to: formatDate(base.t[b]!), savingPercent: saving };
  });
  const sorted = windows.map((w) => w.savingPercent).sort((x, y) => x - y);
  const lengthDays = spans.length === 0 ? 0 : Math.round(spans.reduce((s, w) => s + (w.b - w.a), 0) / spans.length);
  return {
    label,
    lengthDays,
    count: windows.length,
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    shareWon: windows.length === 0 ? Number.NaN : windows.filter((w) => w.savingPercent > 0).length / windows.length,
    windows,
  };
}

export interface BootstrapInterval {
  /** The full-period saving in percent of the baseline's cost. */
  readonly savingPercent: number;
  readonly low: number;
  readonly high: number;
  readonly level: number;
  readonly blockDays: number;
  readonly replicates: number;
  readonly seed: number;
  /** False when the interval contains zero: the run is not distinguishable from the baseline. */
  readonly distinguishable: boolean;
}

/**
 * Moving-block bootstrap (Kunsch 1989), circular, of the saving ratio sum(base - run) /
 * sum(base) over the daily product costs: blocks of ceil(n^(1/3)) consecutive days drawn with
 * replacement keep the days' autocorrelation (inventory bought one day is consumed over the
 * next ones). Percentile interval at `level`; a fixed seed makes it reproducible.
 */
export function blockBootstrap(baseDaily: Float64Array, runDaily: Float64Array, options: { seed: number; replicates?: number; level?: number }): BootstrapInterval {
  return blockBootstraps([baseDaily], runDaily, options)[0]!;
}

/** Lanes of the bootstrap's loop: baselines summed side by side over one draw of blocks. */
const LANES = 3;

/**
 * blockBootstrap of the run against each of `baseDailies`, each interval bit for bit the one
 * blockBootstrap gives alone. Baselines of the same length draw the same blocks from the same
 * seed, so up to three of them share one stream of random starts and one pass over the days:
 * each keeps its own sums, adding the same days in the same order as alone, and its sums are
 * independent chains of additions that the processor overlaps (alone, each sum waits for the
 * previous addition: about 20 ms a baseline over 29 years and 1,000 replicates, against about
 * 30 ms for three side by side).
 */
export function blockBootstraps(baseDailies: readonly Float64Array[], runDaily: Float64Array, options: { seed: number; replicates?: number; level?: number }): BootstrapInterval[] {
  const out: BootstrapInterval[] = new Array<BootstrapInterval>(baseDailies.length);
  const byLength = new Map<number, number[]>();
  baseDailies.forEach((base, i) => {
    const group = byLength.get(base.length);
    if (group === undefined) byLength.set(base.length, [i]);
    else group.push(i);
  });
  for (const group of byLength.values()) {
    for (let g = 0; g < group.length; g += LANES) {
      const lanes = group.slice(g, g + LANES);
      const intervals = bootstrapLanes(
        lanes.map((i) => baseDailies[i]!),
        runDaily,
        options,
      );
      lanes.forEach((i, lane) => (out[i] = intervals[lane]!));
    }
  }
  return out;
}

/** The bootstrap of up to LANES baselines of one length in one pass (unused lanes sum zeros). */
function bootstrapLanes(baseDailies: readonly Float64Array[], runDaily: Float64Array, options: { seed: number; replicates?: number; level?: number }): BootstrapInterval[] {
  const n = baseDailies[0]!.length - 1;
  const replicates = options.replicates ?? 1000;
  const level = options.level ?? 0.95;
  const block = Math.max(1, Math.ceil(Math.cbrt(n)));
  // Day k of lane j is diff at (k * LANES + j) * 2 and base after it; the days, then their first
  // `block` again: a circular block is then one straight run of indexes (no modulo per day).
  const stride = 2 * LANES;
  const days = new Float64Array((n + block) * stride);
  const sumDiff = new Float64Array(LANES);
  const sumBase = new Float64Array(LANES);
  baseDailies.forEach((baseDaily, j) => {
    let d = 0;
    let s = 0;
    for (let k = 0; k < n; k += 1) {
      const base = baseDaily[k + 1]!;
      const diff = base - runDaily[k + 1]!;
      days[k * stride + 2 * j] = diff;
      days[k * stride + 2 * j + 1] = base;
      d += diff;
      s += base;
    }
    sumDiff[j] = d;
    sumBase[j] = s;
  });
  // block <= n whenever n >= 1 (and with n = 0 nothing is drawn).
  days.copyWithin(n * stride, 0, block * stride);
  const random = new Random(options.seed);
  const stats0 = new Float64Array(replicates);
  const stats1 = new Float64Array(replicates);
  const stats2 = new Float64Array(replicates);
  for (let r = 0; r < replicates; r += 1) drawReplicate(days, n, block, random, r, stats0, stats1, stats2);
  return [stats0, stats1, stats2].slice(0, baseDailies.length).map((stats, j) => {
    stats.sort();
    const low = quantile(stats, (1 - level) / 2);
    const high = quantile(stats, 1 - (1 - level) / 2);
    return { savingPercent: sumBase[j] === 0 ? 0 : (sumDiff[j]! / sumBase[j]!) * 100, low, high, level, blockDays: block, replicates, seed: options.seed, distinguishable: !(low <= 0 && high >= 0) };
  });
}

/**
 * Replicate `r` of bootstrapLanes: blocks of `block` days from random starts until `n` days
 * are drawn, each lane's saving ratio into its stats. A function of its own, not the body of
 * bootstrapLanes' loop: the main job bootstraps once, cold, and V8 compiled the whole of
 * bootstrapLanes on the stack (OSR), twice, where it now compiles this short function (on the
 * stack in the first replicate, then for the next ones): the first bootstrap of a process
 * about 0.87x the CPU (eight interleaved process pairs of a 29-year bootstrap of three baselines).
 */
function drawReplicate(days: Float64Array, n: number, block: number, random: Random, r: number, stats0: Float64Array, stats1: Float64Array, stats2: Float64Array): void {
  const stride = 2 * LANES;
  let d0 = 0;
  let s0 = 0;
  let d1 = 0;
  let s1 = 0;
  let d2 = 0;
  let s2 = 0;
  let taken = 0;
  while (taken < n) {
    const start = Math.floor(random.float() * n);
    const len = Math.min(block, n - taken);
    for (let i = start * stride, end = (start + len) * stride; i < end; i += stride) {
      d0 += days[i]!;
      s0 += days[i + 1]!;
      d1 += days[i + 2]!;
      s1 += days[i + 3]!;
      d2 += days[i + 4]!;
      s2 += days[i + 5]!;
    }
    taken += len;
  }
  stats0[r] = s0 === 0 ? 0 : (d0 / s0) * 100;
  stats1[r] = s1 === 0 ? 0 : (d1 / s1) * 100;
  stats2[r] = s2 === 0 ? 0 : (d2 / s2) * 100;
}

export interface MonthFigures {
  readonly month: string;
  readonly units: number;
  /** Material cost per product unit, hedged (as run) and unhedged (hedge result and financing removed). */
  readonly unitCost: number;
  readonly unhedgedUnitCost: number;
  /** Consumption at the standard in force, per product unit. */
  readonly standardUnitCost: number;
}

export interface BudgetFigures {
  /** Per calendar month with production (partial first and last months included). */
  readonly months: readonly MonthFigures[];
  /** Standard deviation of the monthly budget variance per product unit (unit cost - standard), hedged and unhedged. */
  readonly sdPerUnit: number;
  readonly sdPerUnitUnhedged: number;
  /** The month whose cost overran the standard most, and by how much per product unit and in total. */
  readonly worstMonth: { readonly month: string; readonly perUnit: number; readonly total: number } | undefined;
  /** Sum of the monthly budget variances (currency; positive: over budget). */
  readonly cumulative: number;
  /** 1 - Var(hedged) / Var(unhedged) of the monthly variance per unit; null without a hedge result. */
  readonly varianceRemoved: number | null;
  /** Hedge result net of financing / (unhedged cost - standard), cumulative; null without a hedge result. */
  readonly dollarOffset: number | null;
  readonly dollarOffsetEffective: boolean | null;
}

/**
 * Monthly budget figures of one run: the material cost of each calendar month per product
 * unit against consumption at the standard in force, hedged and with the hedge removed (the
 * same run, its hedge result and financing taken out: the strategies' physical buying never
 * depends on the hedge position). Stock is valued at market at each month's end; hedge
 * results count when realised (see budgetHedge), so the months add up to the run less the
 * mark of the contracts still open at its end. Conversion cost is left out: hedging does not
 * touch it.
 */
export function budgetFigures(daily: DailyCosts): BudgetFigures {
  const n = daily.t.length - 1;
  const months: MonthFigures[] = [];
  let a = 0;
  let totalHedge = 0;
  let totalOverrun = 0;
  const monthOf = utcMonths();
  for (let k = 1; k <= n; k += 1) {
    const last = k === n || monthOf(daily.t[k + 1]!) !== monthOf(daily.t[k]!);
    if (!last) continue;
    const units = daily.units[k]! - daily.units[a]!;
    if (units > 0) {
      let hedged = 0;
      let unhedged = 0;
      let standard = 0;
      for (const m of daily.materials) {
        const physical = materialCost(m, a, k, false);
        hedged += physical + m.financing[k]! - m.financing[a]! - (budgetHedge(m, k) - budgetHedge(m, a));
        unhedged += physical;
        standard += m.standard[k]! - m.standard[a]!;
      }
      months.push({ month: formatDate(daily.t[k]!).slice(0, 7), units, unitCost: hedged / units, unhedgedUnitCost: unhedged / units, standardUnitCost: standard / units });
    }
    a = k;
  }
  for (const m of daily.materials) {
    totalHedge += m.hedge[n]! - m.hedge[0]! - (m.financing[n]! - m.financing[0]!);
    totalOverrun += materialCost(m, 0, n, false) - (m.standard[n]! - m.standard[0]!);
  }
  const dev = months.map((m) => m.unitCost - m.standardUnitCost);
  const devUnhedged = months.map((m) => m.unhedgedUnitCost - m.standardUnitCost);
  const hasHedge = daily.materials.some((m) => m.hedge[n] !== 0 || m.financing[n] !== 0);
  let worst: BudgetFigures['worstMonth'];
  months.forEach((m, i) => {
    const perUnit = dev[i]!;
    if (worst === undefined || perUnit > worst.perUnit) worst = { month: m.month, perUnit, total: perUnit * m.units };
  });
  const varHedged = variance(dev);
  const varUnhedged = variance(devUnhedged);
  const offset = !hasHedge || totalOverrun === 0 ? null : totalHedge / totalOverrun;
  return {
    months,
    sdPerUnit: Math.sqrt(varHedged),
    sdPerUnitUnhedged: Math.sqrt(varUnhedged),
    worstMonth: worst,
    cumulative: months.reduce((s, m, i) => s + dev[i]! * m.units, 0),
    varianceRemoved: !hasHedge || !(varUnhedged > 0) ? null : 1 - varHedged / varUnhedged,
    dollarOffset: offset,
    dollarOffsetEffective: offset === null ? null : Math.abs(offset) >= 0.8 && Math.abs(offset) <= 1.25,
  };
}

/**
 * getUTCMonth of a time, for times that mostly stay in one month from call to call (a run's
 * days): the month is worked out with a Date once and kept for every time inside it, instead
 * of a Date per call (a budget reads two a day, about 85,000 for the main job's four runs).
 */
function utcMonths(): (at: number) => number {
  // The month last worked out and its times [from, to); none at first.
  let month = Number.NaN;
  let from = 0;
  let to = 0;
  return (at) => {
    if (at >= from && at < to) return month;
    const date = new Date(at);
    month = date.getUTCMonth();
    date.setUTCHours(0, 0, 0, 0);
    from = date.setUTCDate(1);
    to = date.setUTCMonth(month + 1);
    return month;
  };
}

/** Population variance; NaN when empty. */
export function variance(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / values.length;
}
