/**
 * The simulated venue: fills orders on bars, the way the backtester needs them and no
 * earlier. The engine feeds every bar with `onBar` after the bar closes; an order submitted
 * while bar k is the latest can fill only on bar k+1 or later. What it assumes is listed in
 * words by `assumptions()` and printed in every backtest report.
 *
 * Speed: with no working order, `onBar` does a few comparisons and stores two numbers; it
 * keeps no reference to the bar, so the engine may reuse one mutable bar object.
 */
import { z } from 'zod';
import { decimalSchema } from '../../config/schemas.js';
import { Decimal, ZERO, floorToStep, isMultipleOf, roundMoney } from '../../core/decimal.js';
import { POW10, decimalOfNumber, shortPlaces } from '../../core/decimal-number.js';
import { DecimalCache, Fixed } from '../../core/fixed.js';
import { ConfigError, InputError, type Where } from '../../core/errors.js';
import { formatTime, type EpochMs } from '../../core/time.js';
import type { Fill, MarketRules, OrderReport, OrderRequest, OrderStatus, Venue } from '../../pipeline/types.js';
import { gte, lt } from '../../pipeline/compare.js';

/** One bar. Prices are plain numbers; the venue converts to Decimal only at a fill. */
export interface SimBar {
  readonly at: EpochMs;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume?: number | undefined;
}

const positive = decimalSchema((v) => (v.greaterThan(0) ? undefined : `must be greater than zero, got ${v.toFixed()}`));
const nonNegative = decimalSchema((v) => (v.isNegative() && !v.isZero() ? `must not be negative, got ${v.toFixed()}` : undefined));
const share = decimalSchema((v) => (v.greaterThan(0) && v.lessThanOrEqualTo(1) ? undefined : `must be greater than 0 and at most 1, got ${v.toFixed()}`));

/** Trading rules of one simulated market. */
export const SimInstrumentSchema = z.strictObject({
  /** Defaults to the instrument id. */
  symbol: z.string().min(1).optional(),
  lotStep: positive,
  tickSize: positive,
  minQty: nonNegative.prefault('0'),
  minNotional: nonNegative.prefault('0'),
});

/** The simulated venue's configuration (input shape; decimals as strings, numbers or Decimals). Unknown keys are refused. */
export const SimVenueConfigSchema = z.strictObject({
  instruments: z.record(z.string().min(1), SimInstrumentSchema),
  /** Market orders fill at the next bar's open (default) or, for close-only series, its close. */
  marketFill: z.enum(['next-open', 'next-close']).default('next-open'),
  /** Fee in basis points of each fill's notional. */
  feeBps: nonNegative.prefault('0'),
  /** Fixed fee per order, charged with its first fill. */
  feeFixed: nonNegative.prefault('0'),
  /** Decimal places fees are rounded to (half-even), per fill. */
  feePlaces: z.int().min(0).max(12).default(2),
  /** Slippage on market orders in basis points of the price, against the taker. */
  slippageBps: nonNegative.prefault('0'),
  /** When bars carry volume: the largest share of a bar's volume one order may take; the rest waits for later bars. */
  participationRate: share.optional(),
  /** Expire what is left of an order after it has been working this many bars (default: never). */
  expireAfterBars: z.int().min(1).optional(),
});
export type SimVenueConfigInput = z.input<typeof SimVenueConfigSchema>;
export type SimVenueConfig = z.output<typeof SimVenueConfigSchema>;

type SimInstrument = SimVenueConfig['instruments'][string];

/** The configuration's fields besides the instruments, each instrument's rules taken as they are (see parseSimVenueConfig). */
const SimVenueSettingsSchema = SimVenueConfigSchema.extend({ instruments: z.record(z.string().min(1), z.custom<SimInstrument>()) });

/**
 * Instrument rules that parsed before, by the object given, with the fields it had then. A
 * backtest's venue lists every contract of its hedge strips (ammonia-henry-hub: 364
 * instruments, two rules objects), each run builds a new configuration around the same
 * objects, and zod parsing all of them was about 50 ms of the main job's four runs in a fresh
 * process; the rules are read again only when a field is no longer the one parsed.
 */
const parsedInstruments = new WeakMap<object, ParsedInstrument>();

interface ParsedInstrument {
  readonly symbol: unknown;
  readonly lotStep: unknown;
  readonly tickSize: unknown;
  readonly minQty: unknown;
  readonly minNotional: unknown;
  readonly keys: number;
  readonly parsed: SimInstrument;
}

/** The instruments' rules parsed before, as parsed then, or undefined when one of them is new or changed (or is not a record of objects). */
function knownInstruments(raw: unknown): Record<string, SimInstrument> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const instruments = (raw as { instruments?: unknown }).instruments;
  if (typeof instruments !== 'object' || instruments === null || Array.isArray(instruments)) return undefined;
  const out: Record<string, SimInstrument> = {};
  for (const [instrument, rules] of Object.entries(instruments)) {
    const known = typeof rules === 'object' && rules !== null ? parsedInstruments.get(rules) : undefined;
    if (known === undefined || instrument === '' || !sameFields(rules as Record<string, unknown>, known)) return undefined;
    out[instrument] = known.parsed;
  }
  return out;
}

function sameFields(rules: Record<string, unknown>, known: ParsedInstrument): boolean {
  if (rules['symbol'] !== known.symbol || rules['lotStep'] !== known.lotStep || rules['tickSize'] !== known.tickSize || rules['minQty'] !== known.minQty || rules['minNotional'] !== known.minNotional) return false;
  return ownKeyCount(rules) === known.keys;
}

/** How many own enumerable keys `fields` has (an unknown key added to known rules is parsed again). */
function ownKeyCount(fields: Record<string, unknown>): number {
  let keys = 0;
  for (const key in fields) if (Object.hasOwn(fields, key)) keys += 1;
  return keys;
}

/** Keeps each instrument's parsed rules by the object given (see parsedInstruments). */
function rememberInstruments(raw: unknown, config: SimVenueConfig): void {
  const instruments = (raw as { instruments: Record<string, unknown> }).instruments;
  for (const [instrument, rules] of Object.entries(instruments)) {
    if (typeof rules !== 'object' || rules === null) continue;
    const fields = rules as Record<string, unknown>;
    parsedInstruments.set(rules, { symbol: fields['symbol'], lotStep: fields['lotStep'], tickSize: fields['tickSize'], minQty: fields['minQty'], minNotional: fields['minNotional'], keys: ownKeyCount(fields), parsed: config.instruments[instrument]! });
  }
}

/**
 * Validates a simulated venue configuration; errors name the field (prefixed by `where.field`).
 * Instrument rules given as the same object with the same fields as in an earlier call are
 * not parsed again: the result holds the rules parsed then (Decimals are immutable; an
 * instrument's rules are shared by every configuration that names that object).
 */
export function parseSimVenueConfig(raw: unknown, where: Where = {}): SimVenueConfig {
  const instruments = knownInstruments(raw);
  if (instruments !== undefined) {
    const settings = SimVenueSettingsSchema.safeParse(raw);
    if (settings.success) {
      settings.data.instruments = instruments;
      return settings.data;
    }
  }
  const result = SimVenueConfigSchema.safeParse(raw);
  if (result.success) {
    rememberInstruments(raw, result.data);
    return result.data;
  }
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '';
  const field = [where.field, path, keys].filter((p) => p !== undefined && p !== '').join('.');
  throw new ConfigError(issue.code === 'unrecognized_keys' ? 'unknown key in venue settings' : issue.message, { ...where, field: field === '' ? undefined : field });
}

interface Book {
  readonly instrument: string;
  readonly rules: MarketRules;
  barCount: number;
  lastAt: EpochMs;
  lastClose: number;
  readonly working: SimOrder[];
}

interface SimOrder {
  readonly request: OrderRequest;
  readonly venueOrderId: string;
  readonly book: Book | undefined;
  /** The book's bar count at submission: fills only on bars after it. */
  readonly submittedBar: number;
  readonly limit: number;
  status: OrderStatus;
  filledQty: Decimal;
  /** Replaced, never written, by each fill: a report shares it (the first fill's array holds exactly that fill). */
  fills: readonly Fill[];
  barsWorked: number;
  reason: string | undefined;
}

const BPS = new Decimal(10_000);

/** A deterministic venue that fills on bars; see the module comment and `assumptions()`. */
export class SimVenue implements Venue {
  readonly name: string;
  readonly config: SimVenueConfig;
  readonly #books = new Map<string, Book>();
  readonly #only: Book | undefined;
  readonly #orders = new Map<string, SimOrder>();
  readonly #slippage: Decimal;
  readonly #feeRate: Decimal;
  /**
   * The slippage, fee rate and fixed fee as scaled integers, for the fill's arithmetic (see
   * #marketFill); undefined when one of them does not fit one (then every fill takes Decimal).
   */
  readonly #fixedFees: { readonly slippage: Fixed; readonly feeRate: Fixed; readonly feeFixed: Fixed } | undefined;
  /**
   * The fills' prices and fees as Decimals, one per value (core/fixed.ts's DecimalCache; a
   * Decimal is immutable): a run's trades keep them, and they repeat (one of ammonia's jit runs:
   * 6,681 prices with 925 values, 9,932 fees with 3,216), so equal values share one object
   * instead of each trade keeping its own for the scavenger to copy.
   */
  readonly #prices = new DecimalCache();
  readonly #fees = new DecimalCache();
  #orderCount = 0;
  /** Venue.changeCount: fills, expiries, cancels and restored orders so far. */
  #changes = 0;

  constructor(config: SimVenueConfigInput | SimVenueConfig, name = 'sim') {
    this.name = name;
    this.config = parseSimVenueConfig(config);
    for (const [instrument, raw] of Object.entries(this.config.instruments)) {
      const rules: MarketRules = { symbol: raw.symbol ?? instrument, lotStep: raw.lotStep, tickSize: raw.tickSize, minQty: raw.minQty, minNotional: raw.minNotional };
      this.#books.set(instrument, { instrument, rules, barCount: 0, lastAt: Number.NEGATIVE_INFINITY, lastClose: Number.NaN, working: [] });
    }
    this.#only = this.#books.size === 1 ? this.#books.values().next().value : undefined;
    this.#slippage = this.config.slippageBps.dividedBy(BPS);
    this.#feeRate = this.config.feeBps.dividedBy(BPS);
    const slippage = Fixed.from(this.#slippage);
    const feeRate = Fixed.from(this.#feeRate);
    const feeFixed = Fixed.from(this.config.feeFixed);
    this.#fixedFees = slippage.big === undefined && feeRate.big === undefined && feeFixed.big === undefined ? { slippage, feeRate, feeFixed } : undefined;
  }

  rules(instrument: string): MarketRules {
    const book = this.#books.get(instrument);
    if (book === undefined) throw new InputError(`the simulated venue has no instrument "${instrument}" (configured: ${[...this.#books.keys()].join(', ')})`);
    return book.rules;
  }

  /** Orders still working (open or partially filled) across all instruments. */
  get workingCount(): number {
    let count = 0;
    for (const book of this.#books.values()) count += book.working.length;
    return count;
  }

  /** The latest bar's close for `instrument`, or undefined before the first bar. */
  lastClose(instrument: string): number | undefined {
    const close = this.#books.get(instrument)?.lastClose;
    return close === undefined || Number.isNaN(close) ? undefined : close;
  }

  /**
   * Feeds one closed bar (bar times must increase per instrument). `instrument` may be left
   * out when exactly one is configured. Fills working orders submitted before this bar.
   */
  onBar(bar: SimBar, instrument?: string): void {
    const book = instrument === undefined ? this.#only : this.#books.get(instrument);
    if (book === undefined) {
      throw new InputError(instrument === undefined ? 'onBar needs an instrument when the simulated venue has several' : `the simulated venue has no instrument "${instrument}"`);
    }
    if (!(bar.at > book.lastAt)) {
      throw new InputError(`bar times must increase: ${formatTime(bar.at)} after ${formatTime(book.lastAt)} for "${book.instrument}"`);
    }
    book.barCount += 1;
    book.lastAt = bar.at;
    book.lastClose = bar.close;
    if (book.working.length !== 0) this.#match(book, bar);
  }

  async submit(order: OrderRequest): Promise<OrderReport> {
    return report(this.#accept(order));
  }

  /** `submit` at once (the pipeline's path: no promise per order). */
  submitNow(order: OrderRequest): OrderReport {
    return report(this.#accept(order));
  }

  /**
   * Puts back a working order that an earlier process sent and its store still holds (a
   * `--paper` run started by cron is a new process each tick, and its simulated venue starts
   * empty): the order works from the next bar on, as if sent now. An id the venue knows is left
   * alone.
   */
  restore(order: OrderRequest): void {
    this.#changes += 1;
    this.#accept(order);
  }

  /**
   * See Venue.changeCount: a report changes only by a fill, an expiry or a cancel (and an order
   * is put back by `restore`), each counted; an accepted order's report is the answer to its
   * submit. With monthly bars an order rests for weeks: the pipeline then skips the daily
   * lookups of every open order until a bar of some instrument changes one.
   */
  changeCount(): number {
    return this.#changes;
  }

  /**
   * See Venue.forget: drops a final order (a working one stays). The pipeline forgets each
   * order once it has saved the final report, so the map holds the orders still working and
   * those whose end the pipeline has not yet read, not every order of the run (the jit and
   * static-hedge runs of the ammonia scenario: about 11,000 each).
   */
  forget(clientOrderId: string): void {
    const sim = this.#orders.get(clientOrderId);
    if (sim !== undefined && sim.status !== 'open' && sim.status !== 'partially-filled') this.#orders.delete(clientOrderId);
  }

  #accept(order: OrderRequest): SimOrder {
    const known = this.#orders.get(order.clientOrderId);
    if (known !== undefined) return known; // same client order id: never a second order
    const book = this.#books.get(order.instrument);
    this.#orderCount += 1;
    const sim: SimOrder = {
      request: order,
      venueOrderId: `sim-${this.#orderCount}`,
      book,
      submittedBar: book?.barCount ?? 0,
      limit: order.limitPrice === undefined ? Number.NaN : order.limitPrice.toNumber(),
      status: 'open',
      filledQty: ZERO,
      fills: NO_FILLS,
      barsWorked: 0,
      reason: undefined,
    };
    const refusal = this.#refusal(order, book);
    if (refusal !== undefined) {
      sim.status = 'rejected';
      sim.reason = refusal;
    } else {
      book!.working.push(sim);
    }
    this.#orders.set(order.clientOrderId, sim);
    return sim;
  }

  async lookup(clientOrderId: string, _instrument: string): Promise<OrderReport | undefined> {
    const sim = this.#orders.get(clientOrderId);
    return sim === undefined ? undefined : report(sim);
  }

  /** `lookup` at once (the pipeline's path: no promise per order). */
  lookupNow(clientOrderId: string, _instrument: string): OrderReport | undefined {
    const sim = this.#orders.get(clientOrderId);
    return sim === undefined ? undefined : report(sim);
  }

  async cancel(clientOrderId: string, _instrument: string): Promise<OrderReport | undefined> {
    const sim = this.#orders.get(clientOrderId);
    if (sim === undefined) return undefined;
    if (sim.status === 'open' || sim.status === 'partially-filled') {
      this.#changes += 1;
      sim.status = 'cancelled';
      this.#remove(sim);
    }
    return report(sim);
  }

  /** Every assumption of the simulation, in words, for the backtest report. */
  assumptions(): string[] {
    const c = this.config;
    const lines = [
      `Orders fill only on bars after the one that was latest when they were submitted; nothing fills on the bar the decision was made on.`,
      c.marketFill === 'next-open'
        ? `Market orders fill at the next bar's open.`
        : `Market orders fill at the next bar's close (close-only series).`,
      `Limit orders fill when a later bar's range touches or crosses the limit (low <= limit for buys, high >= limit for sells), at the limit, or at the bar's open when the bar opens beyond it (gap through); touching the limit counts as a fill (no queue position is modelled).`,
      c.slippageBps.isZero()
        ? `No price slippage on market orders.`
        : `Market orders pay ${c.slippageBps.toString()} bps slippage against the taker (buys higher, sells lower, by that share of the price's magnitude); limit orders have no slippage.`,
      `Fees: ${c.feeBps.toString()} bps of each fill's notional plus ${c.feeFixed.toString()} fixed per order (charged with its first fill), rounded half-even to ${c.feePlaces} decimal places per fill, in the quote currency.`,
      c.participationRate === undefined
        ? `No volume limit: an order fills in full on the first bar that fills it.`
        : `When a bar has volume, one order takes at most ${c.participationRate.times(100).toString()} % of it (rounded down to the lot step); the rest waits for later bars. Bars without volume have no such limit.`,
      c.expireAfterBars === undefined
        ? `Orders stay working until filled or cancelled (no expiry).`
        : `Whatever is left of an order after ${c.expireAfterBars} bar(s) of working expires.`,
      `Orders are refused (status rejected) when the quantity is not a whole number of lot steps or below the minimum quantity, a limit price is not a whole number of ticks, or the notional (at the limit price, or the last close for market orders once a bar is known) is below the minimum notional.`,
      `A second submit with a known client order id returns the existing order; it never creates a second one.`,
      `There is no latency, no partial fill from book depth other than the volume share, no funding or borrowing cost, and no market impact beyond the slippage; results are deterministic.`,
    ];
    for (const book of this.#books.values()) {
      const r = book.rules;
      lines.push(`${book.instrument} (${r.symbol}): lot step ${r.lotStep.toString()}, tick ${r.tickSize.toString()}, min qty ${r.minQty.toString()}, min notional ${r.minNotional.toString()}.`);
    }
    return lines;
  }

  #refusal(order: OrderRequest, book: Book | undefined): string | undefined {
    if (book === undefined) return `unknown instrument "${order.instrument}"`;
    const rules = book.rules;
    // qty > 0, from the sign (greaterThan(0) builds a Decimal for the 0 and one for the copy it compares).
    if (!(order.qty.isPositive() && !order.qty.isZero())) return `quantity ${order.qty.toString()} must be greater than zero`;
    if (!isMultipleOf(order.qty, rules.lotStep)) return `quantity ${order.qty.toString()} is not a multiple of the lot step ${rules.lotStep.toString()}`;
    if (lt(order.qty, rules.minQty)) return `quantity ${order.qty.toString()} is below the minimum ${rules.minQty.toString()}`;
    if (order.type === 'limit') {
      if (order.limitPrice === undefined) return 'a limit order needs a limit price';
      if (!isMultipleOf(order.limitPrice, rules.tickSize)) return `limit price ${order.limitPrice.toString()} is not a multiple of the tick ${rules.tickSize.toString()}`;
    }
    // No notional is below a minimum of 0: the price is not even built then (most markets have no minimum).
    if (rules.minNotional.isZero()) return undefined;
    const price = order.limitPrice ?? (Number.isNaN(book.lastClose) ? undefined : decimalOfNumber(Decimal, book.lastClose));
    if (price !== undefined) {
      const notional = order.qty.times(price).abs();
      if (lt(notional, rules.minNotional)) return `notional ${notional.toString()} is below the minimum ${rules.minNotional.toString()}`;
    }
    return undefined;
  }

  #match(book: Book, bar: SimBar): void {
    const working = book.working;
    // One working order (the common case): no copy of the list to walk.
    if (working.length === 1) {
      this.#work(book, working[0]!, bar);
      return;
    }
    // Iterate over a copy: fills and expiries remove orders from the working list.
    for (const sim of working.slice()) this.#work(book, sim, bar);
  }

  /** One working order on one bar: a fill when the bar reaches its price, then the expiry. */
  #work(book: Book, sim: SimOrder, bar: SimBar): void {
    {
      if (sim.submittedBar >= book.barCount) return;
      sim.barsWorked += 1;
      const price = this.#fillPrice(sim, bar);
      if (price !== undefined) {
        // Nothing filled yet: the remainder is the order's quantity (q - 0 is q again while q has at most 40 digits).
        const remaining = sim.filledQty.isZero() && sim.request.qty.d.length <= 5 ? sim.request.qty : sim.request.qty.minus(sim.filledQty);
        let qty = remaining;
        if (this.config.participationRate !== undefined && bar.volume !== undefined && Number.isFinite(bar.volume)) {
          const cap = floorToStep(decimalOfNumber(Decimal, bar.volume).times(this.config.participationRate), book.rules.lotStep);
          if (lt(cap, qty)) qty = cap;
        }
        // The request's own quantity is above zero (#refusal refused any other).
        if (qty === sim.request.qty || qty.greaterThan(0)) this.#fill(sim, bar.at, qty, price);
      }
      if (sim.status === 'filled') return;
      if (this.config.expireAfterBars !== undefined && sim.barsWorked >= this.config.expireAfterBars) {
        this.#changes += 1;
        sim.status = 'expired';
        sim.reason = `${sim.request.qty.minus(sim.filledQty).toString()} left after ${sim.barsWorked} bar(s)`;
        this.#remove(sim);
      }
    }
  }

  /**
   * The price this bar fills the order at, or undefined when it does not reach it. A market
   * order's price is a scaled integer when the fees are (see #fixedFees) and the bar's price is
   * positive with few places: the same value as the Decimal arithmetic below, whose operands
   * have at most 16 digits each, so that every product and sum is exact in both.
   */
  #fillPrice(sim: SimOrder, bar: SimBar): Decimal | Fixed | undefined {
    const buy = sim.request.side === 'buy';
    if (sim.request.type === 'market') {
      const at = this.config.marketFill === 'next-open' ? bar.open : bar.close;
      const fees = this.#fixedFees;
      const fixed = fees === undefined ? undefined : fixedOfPositive(at);
      if (fixed !== undefined) {
        const slip = fixed.times(fees!.slippage);
        return buy ? fixed.plus(slip) : fixed.minus(slip);
      }
      const base = decimalOfNumber(Decimal, at);
      if (this.#slippage.isZero()) return base;
      const slip = (base.isNegative() ? base.abs() : base).times(this.#slippage);
      return buy ? base.plus(slip) : base.minus(slip);
    }
    const limit = sim.request.limitPrice!;
    if (buy) {
      if (!(bar.low <= sim.limit)) return undefined;
      return bar.open <= sim.limit ? decimalOfNumber(Decimal, bar.open) : limit;
    }
    if (!(bar.high >= sim.limit)) return undefined;
    return bar.open >= sim.limit ? decimalOfNumber(Decimal, bar.open) : limit;
  }

  /**
   * Books one fill. With the fees as scaled integers (#fixedFees) the notional, the fee and its
   * rounding are computed in Fixed (exact: a result that would not fit a safe integer is
   * computed by decimal.js inside Fixed, the same operation) and only the fill's price and fee
   * become Decimals; otherwise in Decimal. Both give the same values: every operand has at
   * most 16 digits, so each product and sum is exact under decimal.js's 40 digits, and the
   * rounding is half-even to `feePlaces` in both.
   */
  #fill(sim: SimOrder, at: EpochMs, qty: Decimal, priced: Decimal | Fixed): void {
    this.#changes += 1;
    const first = sim.fills.length === 0;
    const fees = this.#fixedFees;
    let price: Decimal;
    let fee: Decimal;
    if (fees !== undefined) {
      const priceFixed = priced instanceof Fixed ? priced : Fixed.from(priced);
      // A Decimal zero stays itself (decimal.js's -0 has a sign a Fixed does not keep).
      price = priced instanceof Fixed || !priced.isZero() ? this.#prices.of(priceFixed) : priced;
      const notional = Fixed.from(qty).times(priceFixed);
      const variable = notional.abs().times(fees.feeRate);
      fee = this.#fees.of((first ? variable.plus(fees.feeFixed) : variable).round(this.config.feePlaces));
    } else {
      price = priced as Decimal;
      // |qty x price| x rate: the product itself when it is not negative (abs copies it).
      const notional = qty.times(price);
      const variable = (notional.isNegative() ? notional.abs() : notional).times(this.#feeRate);
      fee = roundMoney(first ? variable.plus(this.config.feeFixed) : variable, this.config.feePlaces);
    }
    const fill: Fill = {
      clientOrderId: sim.request.clientOrderId,
      venueOrderId: sim.venueOrderId,
      tradeId: `${sim.venueOrderId}-${sim.fills.length + 1}`,
      at,
      qty,
      price,
      fee,
    };
    // A new array each fill, exactly as long as it must be (a push into an empty array reserved
    // 17 places: about 140 bytes an order, kept as long as the venue and the store keep it).
    sim.fills = first ? [fill] : [...sim.fills, fill];
    sim.filledQty = first && qty.d.length <= 5 ? qty : sim.filledQty.plus(qty);
    // The first fill of the whole quantity (the request's own Decimal) fills the order.
    if ((first && qty === sim.request.qty) || gte(sim.filledQty, sim.request.qty)) {
      sim.status = 'filled';
      this.#remove(sim);
    } else {
      sim.status = 'partially-filled';
    }
  }

  #remove(sim: SimOrder): void {
    const working = sim.book?.working;
    if (working === undefined) return;
    const index = working.indexOf(sim);
    if (index >= 0) working.splice(index, 1);
  }
}

/**
 * A positive price as a scaled integer m / 10^places, the digits of its shortest decimal text
 * found by decimal-number's `shortPlaces` (what `decimalOfNumber` builds the Decimal from, so
 * both paths start from the same value), or undefined when it has no such short form.
 */
function fixedOfPositive(x: number): Fixed | undefined {
  if (!(x > 0)) return undefined;
  const places = shortPlaces(x);
  return places < 0 ? undefined : Fixed.of(Math.round(x * POW10[places]!), places);
}

/** The fills of an order without any (shared, frozen: nothing writes an order's or a report's fills). */
const NO_FILLS: readonly Fill[] = Object.freeze([]);

function report(sim: SimOrder): OrderReport {
  const out: OrderReport = {
    clientOrderId: sim.request.clientOrderId,
    venueOrderId: sim.venueOrderId,
    status: sim.status,
    filledQty: sim.filledQty,
    // Every report shares the order's array of the moment (a fill replaces it, never writes it; the pipeline keeps it as the order's).
    fills: sim.fills,
  };
  return sim.reason === undefined ? out : { ...out, reason: sim.reason };
}
