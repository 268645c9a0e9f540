/**
 * Moving averages and their crossover, in a batch form (a whole series, for backtests) and a
 * streaming form (one close at a time, for live runs) that give identical numbers on every bar.
 *
 * Semantics (issue 3): the state is 1 when the fast average is above the slow one, else 0,
 * defined from the first bar where both averages exist. That first bar sets the state
 * without an event; a cross up is a change 0 -> 1, a cross down 1 -> 0; equal averages keep
 * the previous state (and give 0 on the first defined bar, since fast is not above slow).
 *
 * Two engines compute the averages:
 * - `fast` (the default): running sums over Float64Array. It performs the same floating-point
 *   operations in the same order as technicalindicators 3.1 (SMA: `sum = sum - oldest + x`,
 *   `sum / period`; EMA: seeded with the SMA of the first `period` closes, then
 *   `(x - ema) * 2/(period+1) + ema`), so both agree to the last bit in practice; the tests
 *   compare them on the bundled real series and on random series (1e-9 relative).
 * - `technicalindicators`: the library's SMA.calculate / EMA.calculate, about 60x slower.
 *   One difference: technicalindicators treats an SMA seed of exactly 0 as "not ready" (a
 *   falsy check in its EMA), which mangles the EMA of a series starting with a window of
 *   zeros; the fast engine seeds with 0 like any other value.
 * The streaming form uses the fast engine's arithmetic.
 */
import { createRequire } from 'node:module';
import { InputError, type Where } from '../core/errors.js';

export const MovingAverageKind = { sma: 'sma', ema: 'ema' } as const;
export type MovingAverageKind = (typeof MovingAverageKind)[keyof typeof MovingAverageKind];

export const Engine = { fast: 'fast', technicalindicators: 'technicalindicators' } as const;
export type Engine = (typeof Engine)[keyof typeof Engine];

/** -1 before both averages exist, then 0 (fast not above slow) or 1 (fast above slow). */
export type SignalState = -1 | 0 | 1;
export const STATE_UNDEFINED = -1;

export type CrossDirection = 'up' | 'down';

export interface CrossoverParams {
  /** Fast window in bars, an integer >= 1 and < slow. */
  readonly fast: number;
  /** Slow window in bars, an integer > fast. */
  readonly slow: number;
  readonly ma: MovingAverageKind;
}

export interface Crossing {
  /** Bar index where the state changed. */
  readonly index: number;
  readonly direction: CrossDirection;
}

/** Batch result: arrays parallel to the input closes. */
export interface CrossoverResult {
  /** Fast average, NaN before it exists (bars 0 .. fast-2). */
  readonly fast: Float64Array;
  /** Slow average, NaN before it exists (bars 0 .. slow-2). */
  readonly slow: Float64Array;
  /** -1 before defined, then 0 or 1. */
  readonly state: Int8Array;
  readonly crossings: Crossing[];
  /** Index of the first bar with a defined state (slow - 1), or -1 when the series is too short. */
  readonly firstDefined: number;
}

/** One streaming step. */
export interface CrossoverUpdate {
  /** NaN before the fast average exists. */
  readonly fast: number;
  /** NaN before the slow average exists. */
  readonly slow: number;
  readonly state: SignalState;
  readonly crossing?: CrossDirection;
}

/**
 * Checks crossover parameters: integer windows >= 1, fast < slow, ma sma or ema. Throws
 * InputError naming the field (`fast`, `slow`, `ma`, prefixed by `where.field` when given).
 */
export function validateCrossover(params: CrossoverParams, where: Where = {}): void {
  const field = (name: string): string => (where.field ? `${where.field}.${name}` : name);
  for (const name of ['fast', 'slow'] as const) {
    const value = params[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new InputError(`window must be a whole number of bars >= 1, got ${String(value)}`, { ...where, field: field(name) });
    }
  }
  if (params.fast >= params.slow) {
    throw new InputError(`fast window (${params.fast}) must be shorter than the slow window (${params.slow})`, { ...where, field: field('fast') });
  }
  if (params.ma !== 'sma' && params.ma !== 'ema') {
    throw new InputError(`moving average must be sma or ema, got ${JSON.stringify(params.ma)}`, { ...where, field: field('ma') });
  }
}

/**
 * The moving average of `close` over `period` bars, NaN before it exists (the first
 * `period - 1` bars). Closes must be finite.
 */
export function movingAverage(close: Float64Array, period: number, kind: MovingAverageKind, engine: Engine = Engine.fast): Float64Array {
  if (engine === Engine.technicalindicators) return movingAverageReference(close, period, kind);
  return kind === 'sma' ? smaFast(close, period) : emaFast(close, period);
}

/** Simple moving average by running sum (same operation order as technicalindicators). */
export function smaFast(close: Float64Array, period: number): Float64Array {
  const n = close.length;
  const out = new Float64Array(n);
  const warm = Math.min(n, period - 1);
  out.fill(NaN, 0, warm);
  let sum = 0;
  // Split loops (warm-up, first value, steady state) keep the hot loop branch-free.
  for (let i = 0; i < warm; i += 1) sum = sum + close[i]!;
  if (n < period) return out;
  sum = sum + close[period - 1]!;
  out[period - 1] = sum / period;
  for (let i = period; i < n; i += 1) {
    sum = sum - close[i - period]! + close[i]!;
    out[i] = sum / period;
  }
  return out;
}

/** Exponential moving average seeded with the SMA of the first `period` closes (technicalindicators' convention). */
export function emaFast(close: Float64Array, period: number): Float64Array {
  const n = close.length;
  const out = new Float64Array(n);
  const warm = Math.min(n, period - 1);
  out.fill(NaN, 0, warm);
  const k = 2 / (period + 1);
  let sum = 0;
  for (let i = 0; i < warm; i += 1) sum = sum + close[i]!;
  if (n < period) return out;
  sum = sum + close[period - 1]!;
  let ema = sum / period;
  out[period - 1] = ema;
  for (let i = period; i < n; i += 1) {
    ema = (close[i]! - ema) * k + ema;
    out[i] = ema;
  }
  return out;
}

/**
 * technicalindicators, required on first use: only the reference engine needs it, and loading
 * it (one 150 kB CommonJS file) cost every backtest about 20 ms of start-up. The same module
 * an `import` gives (its package's main).
 */
let technicalIndicators: typeof import('technicalindicators') | undefined;

/** The same average computed by technicalindicators (SMA.calculate / EMA.calculate), NaN-padded to the input length. */
export function movingAverageReference(close: Float64Array, period: number, kind: MovingAverageKind): Float64Array {
  const { EMA, SMA } = (technicalIndicators ??= createRequire(import.meta.url)('technicalindicators') as typeof import('technicalindicators'));
  const values = Array.from(close);
  const result = kind === 'sma' ? SMA.calculate({ period, values }) : EMA.calculate({ period, values });
  const out = new Float64Array(close.length).fill(NaN);
  out.set(result, close.length - result.length);
  return out;
}

/**
 * Crossover signals over a whole series. Refuses bad windows (validateCrossover), fewer bars
 * than the slow window and non-finite closes, with InputError naming `where` (file) and the
 * field. Returns averages, the state on every bar and the list of crossings.
 */
export function crossover(close: Float64Array, params: CrossoverParams, options: { engine?: Engine; where?: Where } = {}): CrossoverResult {
  const where = options.where ?? {};
  validateCrossover(params, where);
  if (close.length < params.slow) {
    throw new InputError(`the slow window needs at least ${params.slow} bars, the series has ${close.length}`, { file: where.file, field: 'slow' });
  }
  for (let i = 0; i < close.length; i += 1) {
    if (!Number.isFinite(close[i]!)) throw new InputError(`close at bar ${i} is not a finite number: ${close[i]}`, { file: where.file, field: 'close' });
  }
  const engine = options.engine ?? Engine.fast;
  const fast = movingAverage(close, params.fast, params.ma, engine);
  const slow = movingAverage(close, params.slow, params.ma, engine);
  const { state, crossings, firstDefined } = crossoverStates(fast, slow);
  return { fast, slow, state, crossings, firstDefined };
}

/**
 * States and crossings from two averages (NaN where an average does not exist yet). Usable
 * with averages from any source; this is where the semantics live.
 */
export function crossoverStates(fast: Float64Array, slow: Float64Array): { state: Int8Array; crossings: Crossing[]; firstDefined: number } {
  const n = fast.length;
  const state = new Int8Array(n).fill(STATE_UNDEFINED);
  const crossings: Crossing[] = [];
  let previous: number = STATE_UNDEFINED;
  let firstDefined = -1;
  for (let i = 0; i < n; i += 1) {
    const f = fast[i]!;
    const s = slow[i]!;
    // NaN compares false both ways: the state stays undefined until both averages exist.
    if (f !== f || s !== s) continue;
    let next: number;
    if (f > s) next = 1;
    else if (f < s || previous === STATE_UNDEFINED) next = 0;
    else next = previous;
    if (previous === STATE_UNDEFINED) firstDefined = i;
    else if (next !== previous) crossings.push({ index: i, direction: next === 1 ? 'up' : 'down' });
    state[i] = next;
    previous = next;
  }
  return { state, crossings, firstDefined };
}

/** Running average over a ring buffer, one value at a time; NaN until `period` values arrived. */
class RunningAverage {
  readonly #period: number;
  readonly #ema: boolean;
  readonly #k: number;
  readonly #window: Float64Array;
  #count = 0;
  #sum = 0;
  #value = NaN;
  constructor(period: number, kind: MovingAverageKind) {
    this.#period = period;
    this.#ema = kind === 'ema';
    this.#k = 2 / (period + 1);
    this.#window = new Float64Array(kind === 'sma' ? period : 0);
  }
  push(x: number): number {
    const period = this.#period;
    const i = this.#count;
    this.#count = i + 1;
    if (this.#ema) {
      if (i < period) {
        this.#sum = this.#sum + x;
        if (i === period - 1) this.#value = this.#sum / period;
      } else {
        this.#value = (x - this.#value) * this.#k + this.#value;
      }
      return this.#value;
    }
    const slot = i % period;
    if (i < period) this.#sum = this.#sum + x;
    else this.#sum = this.#sum - this.#window[slot]! + x;
    this.#window[slot] = x;
    if (i >= period - 1) this.#value = this.#sum / period;
    return this.#value;
  }
}

/**
 * Streaming crossover for live runs: feed closes in time order with `update`; each call
 * returns that bar's averages, state and crossing (if any), identical to the batch form's
 * values at the same index.
 */
export class CrossoverStream {
  readonly params: CrossoverParams;
  readonly #fast: RunningAverage;
  readonly #slow: RunningAverage;
  #state: SignalState = STATE_UNDEFINED;
  #bars = 0;

  constructor(params: CrossoverParams, where: Where = {}) {
    validateCrossover(params, where);
    this.params = params;
    this.#fast = new RunningAverage(params.fast, params.ma);
    this.#slow = new RunningAverage(params.slow, params.ma);
  }

  /** Number of closes seen so far. */
  get bars(): number {
    return this.#bars;
  }

  /** The current state (-1 until both averages exist). */
  get state(): SignalState {
    return this.#state;
  }

  /** Adds the next close (must be finite) and returns the bar's signal. */
  update(close: number): CrossoverUpdate {
    if (!Number.isFinite(close)) throw new InputError(`close at bar ${this.#bars} is not a finite number: ${close}`, { field: 'close' });
    this.#bars += 1;
    const fast = this.#fast.push(close);
    const slow = this.#slow.push(close);
    if (fast !== fast || slow !== slow) return { fast, slow, state: this.#state };
    const previous = this.#state;
    let next: SignalState;
    if (fast > slow) next = 1;
    else if (fast < slow || previous === STATE_UNDEFINED) next = 0;
    else next = previous;
    this.#state = next;
    if (previous !== STATE_UNDEFINED && next !== previous) return { fast, slow, state: next, crossing: next === 1 ? 'up' : 'down' };
    return { fast, slow, state: next };
  }
}
