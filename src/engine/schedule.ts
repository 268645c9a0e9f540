/**
 * Cron schedules on any clock. Live runs hand the expression to node-cron; backtests ask
 * this class whether the same expression fired between two simulated instants. Both use
 * node-cron's own parser and matcher (`parse`, `ScheduledTask.match`), so an expression
 * means the same thing in a backtest as it does live, timezone included.
 */
import { createTask, parse, validateDetailed, type ScheduledTask } from 'node-cron';
import { ConfigError, type Where } from '../core/errors.js';
import { DAY_MS, type EpochMs } from '../core/time.js';

/** Days per block of precomputed firings (firstFiringIn); blocks kept before the cache starts over. */
const BLOCK_DAYS = 256;
const BLOCK_LIMIT = 512;

export class CronSchedule {
  readonly expression: string;
  readonly timezone: string;
  readonly #task: ScheduledTask;
  readonly #times: ReadonlyArray<readonly [number, number, number]>;
  /**
   * In UTC only: the calendar days node-cron can fire on, from the parsed fields that are
   * plain numbers (a field with a token such as `L`, `5L` or `1#2` is left to node-cron).
   * node-cron fires only when every field matches, so a day outside these sets has no firing
   * and `firingsIn` skips it without asking. When the day-of-month and weekday fields are both
   * plain numbers too, every candidate left (a day these sets accept, at one of #times) is a
   * firing without asking either (#numeric); otherwise node-cron answers for each.
   */
  readonly #days: { readonly weekday?: ReadonlySet<number>; readonly month: ReadonlySet<number>; readonly dayOfMonth?: ReadonlySet<number> } | undefined;
  /**
   * True when every field is plain numbers and the clock is UTC: node-cron's matcher is then
   * `second, minute, hour, day of month, month and weekday each in its parsed list` (`parse`
   * gives the lists its TimeMatcher holds), read from the instant's UTC parts. A candidate
   * instant is a day #mayFireOn accepts at one of #times, so every one of those holds by
   * construction, and asking node-cron (an Intl formatting per candidate) would only say yes.
   */
  readonly #numeric: boolean;
  /** Every firing in [k x BLOCK_DAYS days, (k + 1) x BLOCK_DAYS days), ascending, by block k. */
  readonly #blocks = new Map<number, Float64Array>();
  #format: Intl.DateTimeFormat | undefined;

  private constructor(expression: string, timezone: string) {
    this.expression = expression;
    this.timezone = timezone;
    // A task that is never started: used only for node-cron's matcher.
    this.#task = createTask(expression, () => undefined, { timezone });
    void this.#task.destroy();
    const fields = parse(expression);
    const times: Array<[number, number, number]> = [];
    for (const hour of fields.hour) for (const minute of fields.minute) for (const second of fields.second) times.push([hour, minute, second]);
    this.#times = times;
    const numbers = (values: ReadonlyArray<number | string>): ReadonlySet<number> | undefined =>
      values.every((v) => typeof v === 'number') ? new Set(values as number[]) : undefined;
    this.#days = isUtc(timezone)
      ? { weekday: numbers(fields.dayOfWeek), month: new Set(fields.month), dayOfMonth: numbers(fields.dayOfMonth) }
      : undefined;
    this.#numeric = this.#days !== undefined && this.#days.weekday !== undefined && this.#days.dayOfMonth !== undefined;
  }

  /** Validates with node-cron; a bad expression or timezone is a ConfigError naming `where`. */
  static create(expression: string, timezone: string, where: Where): CronSchedule {
    const check = validateDetailed(expression);
    if (!check.valid) {
      const first = check.errors[0];
      throw new ConfigError(`invalid cron expression ${JSON.stringify(expression)}: ${first ? `${first.field}: ${first.message}` : 'not a cron expression'}`, where);
    }
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw new ConfigError(`unknown timezone ${JSON.stringify(timezone)}`, where);
    }
    return new CronSchedule(expression, timezone);
  }

  /** True when node-cron would fire at exactly `at` (second resolution). */
  matches(at: EpochMs): boolean {
    return this.#task.match(new Date(at));
  }

  /**
   * The first instant in (fromExclusive, toInclusive] at which the schedule fires, or
   * undefined. Several firings inside one bar count as one decision at that bar.
   *
   * A backtest asks this every simulated day (and, for the days to the next firing, up to 400
   * days ahead), so the firings are worked out once per block of BLOCK_DAYS days by
   * `firingsIn` and each question is a binary search in the blocks it spans. The answer is
   * the earliest matching instant: the first of `firingsIn(fromExclusive + 1, toInclusive + 1)`,
   * the walk over exactly that range (property-tested against it in test/engine/schedule.test.ts).
   * The blocks are the only cache: building one asks node-cron once per candidate instant and
   * works out each day's timezone offset once (in UTC it skips the days a numeric field rules
   * out without asking: a weekly schedule asks on one day in seven).
   */
  firstFiringIn(fromExclusive: EpochMs, toInclusive: EpochMs): EpochMs | undefined {
    if (toInclusive <= fromExclusive) return undefined;
    const span = BLOCK_DAYS * DAY_MS;
    const last = Math.floor(toInclusive / span);
    for (let k = Math.floor(fromExclusive / span); k <= last; k += 1) {
      const firings = this.#block(k);
      // The first firing after fromExclusive in this block.
      let lo = 0;
      let hi = firings.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (firings[mid]! <= fromExclusive) lo = mid + 1;
        else hi = mid;
      }
      if (lo < firings.length) return firings[lo]! <= toInclusive ? firings[lo] : undefined;
    }
    return undefined;
  }

  /** Every instant in [fromInclusive, toExclusive) at which node-cron fires, ascending. */
  firingsIn(fromInclusive: EpochMs, toExclusive: EpochMs): number[] {
    const out: number[] = [];
    if (toExclusive <= fromInclusive) return out;
    // Walk local calendar days, one day of margin either side for the timezone offset.
    const firstDay = Math.floor(fromInclusive / DAY_MS) * DAY_MS - DAY_MS;
    for (let day = firstDay; day < toExclusive + DAY_MS; day += DAY_MS) {
      if (this.#days !== undefined && !this.#mayFireOn(day)) continue;
      const offsetMs = this.#offsetMs(day + DAY_MS / 2);
      for (const [hour, minute, second] of this.#times) {
        const at = day + ((hour * 60 + minute) * 60 + second) * 1000 - offsetMs;
        if (at < fromInclusive || at >= toExclusive) continue;
        if (this.#numeric || this.matches(at)) out.push(at);
      }
    }
    // Days in order and times in order within a day are in order unless an offset change
    // makes two days overlap; sort and drop repeats so that the first is the earliest.
    out.sort((a, b) => a - b);
    return out.filter((at, i) => i === 0 || at !== out[i - 1]);
  }

  #block(k: number): Float64Array {
    let firings = this.#blocks.get(k);
    if (firings === undefined) {
      if (this.#blocks.size >= BLOCK_LIMIT) this.#blocks.clear();
      const span = BLOCK_DAYS * DAY_MS;
      firings = Float64Array.from(this.firingsIn(k * span, (k + 1) * span));
      this.#blocks.set(k, firings);
    }
    return firings;
  }

  /** False when the UTC calendar day starting at `day` is outside a numeric field (see #days). */
  #mayFireOn(day: EpochMs): boolean {
    const days = this.#days!;
    const date = new Date(day);
    return days.month.has(date.getUTCMonth() + 1)
      && (days.weekday === undefined || days.weekday.has(date.getUTCDay()))
      && (days.dayOfMonth === undefined || days.dayOfMonth.has(date.getUTCDate()));
  }

  /** The timezone's offset from UTC at `at`, in ms (UTC+2 -> +7,200,000). */
  #offsetMs(at: EpochMs): number {
    if (isUtc(this.timezone)) return 0;
    this.#format ??= new Intl.DateTimeFormat('en-US', {
      timeZone: this.timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    const parts = this.#format.formatToParts(new Date(at));
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return local - Math.floor(at / 1000) * 1000;
  }
}

function isUtc(timezone: string): boolean {
  return timezone === 'UTC' || timezone === 'Etc/UTC';
}
