/**
 * A hedge instrument as a strip of monthly contracts, priced as the market prices them, not
 * at spot. Each contract covers one month of consumption:
 *
 * - `swap`: an average-price swap settling in cash against the average of the hedge index's
 *   fixings (its bars) during the month. Before the month its price is the forward of the
 *   month (the futures curve's contract for that delivery month when the scenario gives a
 *   curve, else the cost-of-carry forward to mid-month); during the month, the fixings so far
 *   and the last spot for the fixings still to come; it settles when the month's last bar is
 *   known (00:00 on the 1st of the next month).
 * - `futures`: the exchange contract for delivery in the month after the covered one (its
 *   trading ends inside the covered month), priced from the curve file where it quotes that
 *   contract (extrapolated at the carry rate beyond its last contract) and by the
 *   cost-of-carry forward to the last trading day otherwise; closed at the price of the last
 *   bar known `rollDaysBeforeExpiry` business days before its last trading day.
 *
 * A strategy that keeps a hedge on the coming months therefore rolls: the contract of the
 * month in progress rolls off (closed or settled) and the next month's contract, bought at its
 * own forward price, takes over; the difference between the two prices (the roll yield) is
 * real profit or loss. When a curve stops quoting a contract it held before (the file ends),
 * the contract is priced by the carry model plus the last basis (curve - carry) seen for it,
 * so no price jumps at the switch.
 *
 * Prices are plain numbers in the index's quoted unit; `factor` converts to material units.
 * Nothing here looks past the last index bar it was given.
 */
import type { PriceSeries } from '../market/index.js';
import { EXPIRY_RULE_TEXT, businessDaysBefore, carryForward, frontMonth, lastTradeDay, monthLabel, monthOf, monthStart, netCarry, type CarryRates, type ExpiryRule, type FuturesCurve, type MonthIndex } from '../market/forward.js';
import { DAY_MS, formatDate, type EpochMs } from '../core/time.js';

export type HedgeKind = 'swap' | 'futures';

export interface HedgeStripSetup {
  /** Instrument family id; contracts are `<family>:<YYYY-MM>` (swaps: settlement month; futures: delivery month). */
  readonly family: string;
  readonly kind: HedgeKind;
  /** The hedge index (spot) the swaps fix against and the carry model starts from. */
  readonly index: PriceSeries;
  readonly curve: FuturesCurve | undefined;
  readonly expiry: ExpiryRule;
  /** Futures: business days before the last trading day a contract is closed. */
  readonly rollDaysBeforeExpiry: number;
  /** Contracts offered: the month in progress and the next `months - 1`. */
  readonly months: number;
  readonly carry: CarryRates;
  /** Annual rate charged on the negative mark (variation margin paid out, or a swap's credit charge). */
  readonly marginRate: number;
}

/** One tradeable contract as of the last known bar. */
export interface StripContract {
  readonly instrument: string;
  /** The month of consumption the contract covers. */
  readonly month: MonthIndex;
  /** Futures: the delivery month; swaps: the settlement month (= month). */
  readonly delivery: MonthIndex;
  /** When the desk closes (futures) or settles (swaps) it: 00:00 UTC. */
  readonly rollsOffAt: EpochMs;
  /** Price in the index's quoted unit. */
  readonly price: number;
}

const MID_MONTH_DAYS = 365.25 / 24;
/** Months whose prices HedgeStrip.price keeps per bar (from two months before the bar's). */
const PRICE_SLOTS = 64;
/** Months whose contract ids HedgeStrip.instrumentFor keeps, from the first asked for (a century). */
const MONTH_SLOTS = 1200;

export class HedgeStrip {
  readonly setup: HedgeStripSetup;
  readonly #daily: boolean;
  #bar = -1;
  #curveRow = -1;
  /** Curve row index dated exactly at the last index bar, or -1. */
  #curveAtBar = -1;
  #fixMonth: MonthIndex = Number.NaN;
  #fixSum = 0;
  #fixCount = 0;
  /** Settlement averages of past months (swaps), by month. */
  readonly #settled = new Map<MonthIndex, number>();
  /**
   * The curve's last quote of each delivery month, by month from #quotedBase: the index bar it
   * was seen at (-1: never), its curve row, and its basis against the carry model at that bar,
   * worked out when first read (NaN until then). A bar only notes which contracts the curve
   * quoted: a basis is read only where the curve has no quote (#forward), so most are never
   * worked out, and working one out later gives the same double (the same inputs, read back
   * from the series and the curve).
   */
  readonly #quotedBar: number[] = [];
  readonly #quotedRow: number[] = [];
  /** Doubles from the start (an array of numbers began as small integers and turned into doubles at its first NaN, deoptimising onIndexBar once per run); grown by doubling. */
  #basisValue = new Float64Array(16).fill(Number.NaN);
  #quotedBase = 0;

  constructor(setup: HedgeStripSetup) {
    this.setup = setup;
    this.#daily = setup.index.interval !== 'monthly' && setup.index.interval !== 'yearly' && setup.index.interval !== 'weekly';
  }

  /** The contract id covering consumption `month`. */
  instrumentFor(month: MonthIndex): string {
    const k = month - this.#instrumentBase;
    const id = k >= 0 && k < this.#instruments.length ? this.#instruments[k] : undefined;
    return id ?? this.#instrumentOf(month);
  }

  /** instrumentFor's id built, and kept by month from the first month asked for on (a run asks for a few hundred). */
  #instrumentOf(month: MonthIndex): string {
    const id = `${this.setup.family}:${monthLabel(this.deliveryOf(month))}`;
    if (this.#instruments.length === 0) this.#instrumentBase = month;
    const k = month - this.#instrumentBase;
    if (k >= 0 && k < MONTH_SLOTS) {
      while (this.#instruments.length <= k) this.#instruments.push(undefined);
      this.#instruments[k] = id;
    }
    return id;
  }

  /** instrumentFor's answers (asked for every contract every day), by month from #instrumentBase: an array, not a Map. */
  readonly #instruments: (string | undefined)[] = [];
  #instrumentBase = 0;

  deliveryOf(month: MonthIndex): MonthIndex {
    return this.setup.kind === 'futures' ? month + 1 : month;
  }

  /** When the contract covering `month` rolls off: futures close day, or the swap's settlement (1st of the next month). */
  rollsOffAt(month: MonthIndex): EpochMs {
    let at = this.#rollsOff.get(month);
    if (at === undefined) {
      at = this.setup.kind === 'swap' ? monthStart(month + 1) : businessDaysBefore(lastTradeDay(this.setup.expiry, month + 1), this.setup.rollDaysBeforeExpiry);
      this.#rollsOff.set(month, at);
    }
    return at;
  }

  /** rollsOffAt's answers (calendar facts, asked for every day). */
  readonly #rollsOff = new Map<MonthIndex, EpochMs>();

  /** Every contract id a run over [from, to] can trade (for the venue and the cost feed). */
  instrumentsBetween(from: EpochMs, to: EpochMs): { month: MonthIndex; instrument: string }[] {
    const out: { month: MonthIndex; instrument: string }[] = [];
    for (let m = monthOf(from) - 1; m <= monthOf(to) + this.setup.months; m += 1) out.push({ month: m, instrument: this.instrumentFor(m) });
    return out;
  }

  /** The months whose contracts are tradeable on `day`: from the first not yet rolled off, `months` of them (a shared array: do not modify). */
  monthsOn(day: EpochMs): readonly MonthIndex[] {
    if (day === this.#monthsDay) return this.#months;
    const first = this.firstMonthOn(day);
    const out: MonthIndex[] = [];
    for (let k = 0; k < this.setup.months; k += 1) out.push(first + k);
    this.#monthsDay = day;
    this.#months = Object.freeze(out);
    return this.#months;
  }

  /** The first month whose contract is tradeable on `day` (monthsOn(day)[0]). */
  firstMonthOn(day: EpochMs): MonthIndex {
    const first = monthOf(day);
    return this.rollsOffAt(first) <= day ? first + 1 : first;
  }

  #monthsDay = Number.NaN;
  #months: readonly MonthIndex[] = [];

  /** Index bars fed so far (the last is `index.at[lastBar]`). */
  get lastBar(): number {
    return this.#bar;
  }

  /** Feeds index bar `i` (bars must come in order, each once, when its close is known). */
  onIndexBar(i: number): void {
    if (i !== this.#bar + 1) throw new Error(`internal: hedge index bar ${i} after ${this.#bar}`);
    this.#bar = i;
    const t = this.setup.index.at[i]!;
    const spot = this.setup.index.close[i]!;
    const month = monthOf(t);
    this.#priceBase = month - 2;
    if (month !== this.#fixMonth) {
      if (this.#fixCount > 0) this.#settled.set(this.#fixMonth, this.#fixSum / this.#fixCount);
      this.#fixMonth = month;
      this.#fixSum = 0;
      this.#fixCount = 0;
    }
    this.#fixSum += spot;
    this.#fixCount += 1;
    const curve = this.setup.curve;
    this.#curveAtBar = -1;
    if (curve !== undefined) {
      while (this.#curveRow + 1 < curve.length && curve.at[this.#curveRow + 1]! <= t) this.#curveRow += 1;
      if (this.#curveRow >= 0 && curve.at[this.#curveRow] === t) {
        this.#curveAtBar = this.#curveRow;
        // Note where each contract was last quoted, for its basis when the curve stops quoting it.
        const front = this.#frontOf(t);
        for (let k = 0; k < curve.contracts.length; k += 1) {
          if (Number.isFinite(curve.contracts[k]![this.#curveRow]!)) this.#noteQuote(front, k, i, this.#curveRow);
        }
      }
    }
  }

  /**
   * The price of the contract covering `month`, as of the last index bar; NaN before any bar.
   * Every input changes only with the next index bar: the prices of this bar are kept, by month
   * from two before the bar's (a slot holds the bar it was priced at; no Map). This part is kept
   * small so that V8 inlines it into its callers (a dozen contracts a day, several times): a
   * double returned from a call that is not inlined is a new heap number each time.
   */
  price(month: MonthIndex): number {
    const bar = this.#bar;
    const k = month - this.#priceBase;
    if (bar >= 0 && k >= 0 && k < PRICE_SLOTS && this.#pricedAt[k] === bar) return this.#prices[k]!;
    // Read back from the typed array, not returned: a double returned from a call that is not
    // inlined is a new heap number (a dozen a day, every run, hedging or not).
    return this.#prices[this.#priceAtBar(month)]!;
  }

  /** price(month) worked out at the last index bar, into its slot when its month has one, else into the last (PRICE_SLOTS); returns that index. */
  #priceAtBar(month: MonthIndex): number {
    const bar = this.#bar;
    if (bar < 0) {
      this.#prices[PRICE_SLOTS] = Number.NaN;
      return PRICE_SLOTS;
    }
    const k = month - this.#priceBase;
    const t = this.setup.index.at[bar]!;
    const spot = this.setup.index.close[bar]!;
    const slot = k >= 0 && k < PRICE_SLOTS ? k : PRICE_SLOTS;
    this.#prices[slot] = this.setup.kind === 'swap' ? this.#swapPrice(month, t, spot) : this.#forward(month + 1, t, spot);
    if (slot !== PRICE_SLOTS) this.#pricedAt[slot] = bar;
    return slot;
  }

  /** The prices of the last bar by month from #priceBase, and one more slot for a month out of that range. */
  readonly #prices = new Float64Array(PRICE_SLOTS + 1);
  readonly #pricedAt = new Int32Array(PRICE_SLOTS).fill(-1);
  #priceBase = 0;

  /**
   * The contracts that get a price bar on `day`: those tradeable on the previous day (so an
   * order sent then can fill before its contract rolls off) through those tradeable today.
   */
  quotedOn(day: EpochMs): StripContract[] {
    const first = this.firstQuotedMonth(day);
    const last = this.lastQuotedMonth(day);
    const out: StripContract[] = [];
    for (let month = first; month <= last; month += 1) out.push({ instrument: this.instrumentFor(month), month, delivery: this.deliveryOf(month), rollsOffAt: this.rollsOffAt(month), price: this.price(month) });
    return out;
  }

  /** The first and last months quotedOn(day) gives bars to (the backtest's bar feed walks them without building the list). */
  firstQuotedMonth(day: EpochMs): MonthIndex {
    return this.firstMonthOn(day - DAY_MS);
  }
  lastQuotedMonth(day: EpochMs): MonthIndex {
    return this.firstMonthOn(day) + this.setup.months - 1;
  }

  /** The tradeable contracts on `day` with their prices as of the last known bar. */
  contractsOn(day: EpochMs): StripContract[] {
    return this.monthsOn(day).map((month) => ({ instrument: this.instrumentFor(month), month, delivery: this.deliveryOf(month), rollsOffAt: this.rollsOffAt(month), price: this.price(month) }));
  }

  #swapPrice(month: MonthIndex, t: EpochMs, spot: number): number {
    const barMonth = monthOf(t);
    if (barMonth > month) return this.#settled.get(month) ?? spot;
    if (barMonth === month) {
      if (!this.#daily) return spot; // a monthly bar is the month's average: the settlement itself
      // Fixings so far, and the last spot for the weekdays still to come in the month.
      let remaining = 0;
      for (let d = t + DAY_MS; d < monthStart(month + 1); d += DAY_MS) {
        const w = new Date(d).getUTCDay();
        if (w !== 0 && w !== 6) remaining += 1;
      }
      return (this.#fixSum + spot * remaining) / (this.#fixCount + remaining);
    }
    return this.#forward(month, t, spot);
  }

  /** Forward for `delivery` at bar time `t`: the curve's quote when it has one, else carry (plus the last basis seen). */
  #forward(delivery: MonthIndex, t: EpochMs, spot: number): number {
    const curve = this.setup.curve;
    if (curve !== undefined && this.#curveAtBar >= 0) {
      const front = this.#frontOf(t);
      const k = delivery - front;
      const row = this.#curveAtBar;
      if (k >= 0 && k < curve.contracts.length && Number.isFinite(curve.contracts[k]![row]!)) return curve.contracts[k]![row]!;
      if (k >= curve.contracts.length) {
        // Beyond the curve's last contract: carry from the farthest contract it quotes.
        for (let j = curve.contracts.length - 1; j >= 0; j -= 1) {
          const far = curve.contracts[j]![row]!;
          if (!Number.isFinite(far)) continue;
          const days = (this.#expiryOf(delivery) - this.#expiryOf(front + j)) / DAY_MS;
          return far * (1 + netCarry(this.setup.carry) * (days / 365));
        }
      }
    }
    return this.#carryTo(delivery, t, spot) + this.#basisOf(delivery);
  }

  /** Contract k + 1 (delivery front + k) quoted on curve row `row`, seen at index bar `bar`. */
  #noteQuote(front: MonthIndex, k: number, bar: number, row: number): void {
    // The front month never goes back (bars come in order), so the first front is the base.
    if (this.#quotedBar.length === 0) this.#quotedBase = front;
    const j = front + k - this.#quotedBase;
    while (this.#quotedBar.length <= j) {
      this.#quotedBar.push(-1);
      this.#quotedRow.push(-1);
    }
    if (this.#basisValue.length <= j) {
      const grown = new Float64Array(Math.max(2 * this.#basisValue.length, j + 1)).fill(Number.NaN);
      grown.set(this.#basisValue);
      this.#basisValue = grown;
    }
    this.#quotedBar[j] = bar;
    this.#quotedRow[j] = row;
    this.#basisValue[j] = Number.NaN;
  }

  /** The last basis (curve - carry model) seen for `delivery`, 0 when the curve never quoted it. */
  #basisOf(delivery: MonthIndex): number {
    const j = delivery - this.#quotedBase;
    if (!(j >= 0 && j < this.#quotedBar.length)) return 0;
    const bar = this.#quotedBar[j]!;
    if (bar < 0) return 0;
    let basis = this.#basisValue[j]!;
    if (Number.isNaN(basis)) {
      const t = this.setup.index.at[bar]!;
      const value = this.setup.curve!.contracts[delivery - frontMonth(this.setup.expiry, t)]![this.#quotedRow[j]!]!;
      basis = value - this.#carryTo(delivery, t, this.setup.index.close[bar]!);
      this.#basisValue[j] = basis;
    }
    return basis;
  }

  /** frontMonth(expiry, t), kept for the last t (every contract's price on a bar asks it for the bar's time). */
  #frontOf(t: EpochMs): MonthIndex {
    if (t !== this.#frontAt) {
      this.#front = frontMonth(this.setup.expiry, t);
      this.#frontAt = t;
    }
    return this.#front;
  }
  #frontAt = Number.NaN;
  #front: MonthIndex = Number.NaN;

  /** Carry-model forward from spot at `t` to the delivery's pricing date (futures: last trading day; swaps: mid-month). */
  #carryTo(delivery: MonthIndex, t: EpochMs, spot: number): number {
    return carryForward(spot, this.setup.carry, (this.#expiryOf(delivery) - t) / DAY_MS);
  }

  #expiryOf(delivery: MonthIndex): EpochMs {
    if (this.setup.kind === 'futures') return lastTradeDay(this.setup.expiry, delivery);
    return monthStart(delivery) + Math.round(MID_MONTH_DAYS * DAY_MS);
  }

  /** The instrument and its pricing, in words (for the run's assumptions). */
  describe(): string[] {
    const s = this.setup;
    const carry = `cost-of-carry forward = index x (1 + (financing ${pct(s.carry.financingRate)} + storage ${pct(s.carry.storageRate)} - convenience yield ${pct(s.carry.convenienceYield)}) x years to ${s.kind === 'futures' ? 'the last trading day' : 'mid-month'})`;
    const curve = s.curve === undefined ? undefined : `${s.curve.file} (${formatDate(s.curve.at[0]!)} .. ${formatDate(s.curve.at[s.curve.length - 1]!)}, contracts 1-${s.curve.contracts.length})`;
    const lines: string[] = [];
    if (s.kind === 'swap') {
      lines.push(`${s.family}: monthly average-price swaps on ${s.index.id}, settled in cash against the average of the month's ${this.#daily ? 'daily fixings' : 'monthly bar (a monthly average)'} on the 1st of the next month; the contract of each of the month in progress and the next ${s.months - 1} can be traded.`);
      lines.push(curve === undefined ? `${s.family} priced before its month at the ${carry}; during the month at the fixings so far and the last spot for the rest.` : `${s.family} priced before its month at the futures curve ${curve} for that delivery month (beyond its last contract: carried from the farthest at the carry rate; where the curve has no row: the ${carry} plus the contract's last basis to it); during the month at the fixings so far and the last spot for the rest.`);
    } else {
      lines.push(`${s.family}: futures; the contract for delivery in month m+1 covers consumption in month m and is closed at the price of the last known bar ${s.rollDaysBeforeExpiry} business days before its last trading day (${EXPIRY_RULE_TEXT[s.expiry]}; weekdays only, exchange holidays not modelled); the month in progress and the next ${s.months - 1} can be traded.`);
      lines.push(curve === undefined ? `${s.family} priced by the ${carry}.` : `${s.family} priced from the futures curve ${curve}; beyond its last contract carried from the farthest at the carry rate; where the curve has no quote the ${carry} plus the contract's last basis to it.`);
    }
    lines.push(`Rolling is real profit or loss: a contract rolls off at its own price and the next month's is bought at its forward price; with the forward above spot (contango) a long hedge on a flat market loses the carry, below it (backwardation) it earns it.`);
    lines.push(`The hedge's negative mark (variation margin paid out, or a swap's credit exposure) is financed at ${pct(s.marginRate)} a year, charged daily on the net negative mark of the open contracts and counted in the effective unit cost; a positive mark earns nothing.`);
    return lines;
  }
}

function pct(rate: number): string {
  return `${Number((rate * 100).toFixed(4))} %`;
}

/** Days from `t` to mid-month of `month` (used by tests and documentation). */
export function daysToMidMonth(t: EpochMs, month: MonthIndex): number {
  return (monthStart(month) + Math.round(MID_MONTH_DAYS * DAY_MS) - t) / DAY_MS;
}
