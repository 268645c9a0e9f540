/**
 * The desk: what a procurement desk does each day, written once and driven by both the
 * backtester (simulated clock, simulated venue, in-memory ledger) and the live runner (wall
 * clock, ccxt venue, SQLite ledger). Only the composition root chooses those; the desk never
 * asks which mode it is in, so a backtest and a live run fed the same bars send the same
 * intents and orders.
 *
 * The caller feeds closed bars with `onBar` (the venue gets them separately: the simulated
 * venue needs bars to fill, a real exchange has its own prices), then calls `step(at)` (the
 * backtester calls `stepSoon(at)`, the same step without a promise on the days it awaits nothing):
 *   1. the pipeline looks up open orders and applies new fills (procurement fills become
 *      deliveries due `leadTimeDays` after the order; hedge fills post at once);
 *   2. for each day boundary crossed since the last step: on the 1st of a month, the
 *      simulated conversion cost and the period close (known `closeLagDays` later) and the
 *      hedge marks; deliveries due; the plan's production, backflushed, with an emergency
 *      purchase for any shortfall (a recorded stockout); all of a day's events post in one
 *      ledger transaction;
 *   3. carrying cost accrues on what is on hand;
 *   4. the decision point: the cost feed's snapshot as of `at` and each material's signal on
 *      its last closed bar form the strategy's context; its intents go through the pipeline.
 *
 * Production and conversion are simulated only when the desk is given a plan (backtests, and
 * live runs of plants without an ERP feed); otherwise the ledger is fed from outside
 * (`procura ledger post`) and the desk only reads it.
 */
import { Decimal, ZERO, roundMoney } from '../core/decimal.js';
import { Fixed } from '../core/fixed.js';
import { decimalOfNumber, ExactValue, exactOfNumber, numberOfFixed, numberOfScaled, toNumberExact } from '../core/decimal-number.js';
import type { Random } from '../core/random.js';
import { DAY_MS, formatDate, formatTime, startOfDay, type EpochMs } from '../core/time.js';
import { X_ZERO, dividedBy, exactArithmetic, fromDecimal, minus, plus, sign, times, toDecimal, type X } from '../costfeed/exact40.js';
import { type BomLine, type Ledger, type LedgerEvent, type Plant } from '../ledger/index.js';
import { CrossoverStream } from '../market/index.js';
import type { CostSnapshot, LeadTimeRecord, MaterialCost, MaterialNumbers, ProductionPlan } from '../costfeed/index.js';
import { Pipeline, type Decision, type FillSink, type OrderStore, type Position, type Positions, type RiskLimits, type Venue } from '../pipeline/index.js';
import { baseMoved, type Fill, type Intent } from '../pipeline/types.js';
import type { CronSchedule } from './schedule.js';
import { numberOf } from './daily-record.js';
import type { HedgeStrip } from './hedge-strip.js';
import { monthLabel, monthOf, monthStart, type MonthIndex } from '../market/forward.js';
import { objectArray } from '../core/arrays.js';
import type { CostView, HedgeContractView, HedgeView, InventoryNumber, InventoryView, RuleContract, SignalView, Strategy, StrategyContext, StrategyNeeds } from './strategy.js';

/** A material as the desk trades it. Prices in bars are quoted units; x factor = per material unit. */
export interface DeskMaterial {
  readonly id: string;
  readonly unit: string;
  readonly factor: Decimal;
  readonly leadTimeDays: number;
  /** Opening stock received at the first step (backtests); none when undefined or zero. */
  readonly openingQty?: Decimal | undefined;
  /**
   * The hedge instrument. With a `strip` (backtests) it is a family of monthly contracts priced
   * by the strip (forward, futures or swap prices; see hedge-strip.ts), each rolled off by the
   * desk when its month comes; without one (live) a single instrument priced by its own bars.
   */
  readonly hedge?: { readonly instrument: string; readonly factor: Decimal; readonly strip?: HedgeStrip | undefined } | undefined;
}

/** A delivery bought and not yet received. */
export interface Delivery {
  readonly material: string;
  readonly due: EpochMs;
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly ref: string;
  readonly reason: string;
  /** The ledger event id its purchase posts with (set when the desk runs with `eventIds`). */
  readonly id?: string | undefined;
  /** When it was ordered: receipt day - order day goes into the desk's lead-time record. */
  readonly orderedAt?: EpochMs | undefined;
}

/** Where the desk keeps what must survive a restart (live runs persist it beside the ledger). */
export interface DeskState {
  deliveries(): Delivery[];
  addDelivery(delivery: Delivery): void;
  /** Removes and returns deliveries due at or before `day`. */
  takeDue(day: EpochMs): Delivery[];
  /** The last day whose production and closes were posted (undefined before the first). */
  lastDay(): EpochMs | undefined;
  setLastDay(day: EpochMs): void;
  /**
   * The record of order-to-receipt times of a material's deliveries (whole days from the
   * order's day to the receipt's), for the cost feed's sigma_L; undefined before the first.
   * Kept with the state so a restarted live run sizes safety stock as an uninterrupted one.
   */
  leadTimes(material: string): LeadTimeRecord | undefined;
  recordReceipt(material: string, days: number): void;
}

/**
 * units > 0 (NaN is not), without the Decimal that greaterThan(0) builds for its argument. A
 * function of its own: when a field of Decimal's hidden class is generalised during a run (a
 * heap number stored as some Decimal's exponent did it), the plan's Decimals, made before, are
 * each moved to the new class at their first read, a miss of this read's inline cache on every
 * plan day. In the desk's production each miss set back V8's count towards optimising the whole
 * method (91 times in one main job: it stayed in the interpreter through the first run).
 */
function positiveUnits(units: Decimal): boolean {
  return units.s > 0 && !units.isZero();
}

/** A lead-time record with one more receipt of `days`. */
export function addReceipt(record: LeadTimeRecord | undefined, days: number): LeadTimeRecord {
  return record === undefined ? { count: 1, sumDays: days, sumSquaresDays: days * days } : { count: record.count + 1, sumDays: record.sumDays + days, sumSquaresDays: record.sumSquaresDays + days * days };
}

/** A month's forecast need for a material: days[k] = the need from its day k to its end; start and end are 00:00 UTC of its 1st and of the next month's. */
interface MonthNeeds {
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly days: readonly Fixed[];
}

/**
 * One walk of a strip's tradeable contracts at one decision point (see Desk.#walkStrip): per
 * contract, nearest first, its instrument, month, position, exposure and price entry with the
 * quoted price of the walk. The rule's numbers and the hedge view's Decimals are both made from it.
 */
interface StripLayout {
  /** The first tradeable month and the month in progress it was laid out for. */
  readonly first: MonthIndex;
  readonly current: MonthIndex;
  readonly instruments: readonly string[];
  readonly months: readonly MonthIndex[];
  /** Each month's forecast need by day (with a plan), looked up on the first walk that needs it. */
  readonly needs: (MonthNeeds | undefined)[];
  /** The same for the months from the month in progress to the first tradeable one (their consumption uses up cover first). */
  readonly before: (MonthNeeds | undefined)[];
}

interface StripWalk {
  readonly current: MonthIndex;
  readonly instruments: string[];
  readonly months: MonthIndex[];
  readonly positions: Decimal[];
  readonly exposures: Fixed[];
  readonly prices: ContractPrice[];
  readonly quoted: number[];
}

/** A decision point's submissions (Desk.#submitFrom): its figures, and the intents and decisions so far. */
class SubmitRun {
  readonly intents: Intent[] = objectArray();
  readonly decisions: Decision[] = objectArray();
  constructor(
    readonly at: EpochMs,
    readonly fillsBefore: number,
    readonly snapshot: CostSnapshot,
    readonly fired: boolean,
  ) {}
}

/** A step's intents and decisions when its strategy sent none (shared, frozen). */
const NO_INTENTS: readonly Intent[] = Object.freeze([]);
const NO_DECISIONS: readonly Decision[] = Object.freeze([]);

/** What MemoryDeskState.takeDue returns on the days nothing is due (never written to). */
const NONE_DUE: Delivery[] = objectArray();

export class MemoryDeskState implements DeskState {
  /** One array for the run, kept in place (see arrays.ts: a filtered copy's hidden class changed with its length). */
  readonly #deliveries: Delivery[] = objectArray();
  #lastDay: EpochMs | undefined;
  deliveries(): Delivery[] {
    return this.#deliveries;
  }
  addDelivery(delivery: Delivery): void {
    this.#deliveries.push(delivery);
  }
  takeDue(day: EpochMs): Delivery[] {
    const all = this.#deliveries;
    let first = 0;
    while (first < all.length && all[first]!.due > day) first += 1;
    if (first === all.length) return NONE_DUE;
    // The due ones in their order, the others kept in theirs.
    const due: Delivery[] = objectArray();
    let kept = first;
    for (let i = first; i < all.length; i += 1) {
      const d = all[i]!;
      if (d.due <= day) due.push(d);
      else all[kept++] = d;
    }
    all.length = kept;
    return due;
  }
  lastDay(): EpochMs | undefined {
    return this.#lastDay;
  }
  setLastDay(day: EpochMs): void {
    this.#lastDay = day;
  }
  readonly #receipts = new Map<string, LeadTimeRecord>();
  leadTimes(material: string): LeadTimeRecord | undefined {
    return this.#receipts.get(material);
  }
  recordReceipt(material: string, days: number): void {
    this.#receipts.set(material, addReceipt(this.#receipts.get(material), days));
  }
}

/**
 * The desk's state with a count of the changes to its deliveries (the desk is the only writer
 * while it runs), so figures summed over the deliveries are summed again only after a change.
 */
class TrackedDeskState implements DeskState {
  readonly #inner: DeskState;
  version = 0;
  constructor(inner: DeskState) {
    this.#inner = inner;
  }
  deliveries(): Delivery[] {
    return this.#inner.deliveries();
  }
  addDelivery(delivery: Delivery): void {
    this.version += 1;
    this.#inner.addDelivery(delivery);
  }
  takeDue(day: EpochMs): Delivery[] {
    const due = this.#inner.takeDue(day);
    if (due.length > 0) this.version += 1;
    return due;
  }
  lastDay(): EpochMs | undefined {
    return this.#inner.lastDay();
  }
  setLastDay(day: EpochMs): void {
    this.#inner.setLastDay(day);
  }
  leadTimes(material: string): LeadTimeRecord | undefined {
    return this.#inner.leadTimes(material);
  }
  recordReceipt(material: string, days: number): void {
    this.#inner.recordReceipt(material, days);
  }
}

export interface Stockout {
  readonly at: EpochMs;
  readonly material: string;
  readonly qty: Decimal;
  readonly emergencyCost: Decimal;
}

export interface Trade {
  readonly at: EpochMs;
  readonly instrument: string;
  readonly material: string;
  readonly side: 'buy' | 'sell';
  readonly qty: Decimal;
  /** Per material unit. */
  readonly price: Decimal;
  readonly fee: Decimal;
  readonly reason: string;
  /** The intent bought ahead of need (see Intent.discretionary). */
  readonly discretionary: boolean;
  readonly clientOrderId: string;
}

/** Running totals per material (what the results are computed from). */
export interface MaterialBook {
  consumed: Decimal;
  /** What was consumed, valued at the standard cost in force on each day. */
  standardValueConsumed: Decimal;
  purchased: Decimal;
  spend: Decimal;
  fees: Decimal;
  emergencyQty: Decimal;
  emergencySpend: Decimal;
  carrying: Decimal;
  priceSum: Decimal;
  priceDays: number;
  peak: Decimal;
  inventorySum: Decimal;
  stockouts: number;
  openingPrice: Decimal | undefined;
  /** Financing charged on the hedge's negative mark (strip hedges). */
  hedgeFinancing: Decimal;
  /** Procurement intents the pipeline skipped (rounded to zero by the lot step, or below the minimum notional). */
  skips: number;
  /** Hedge orders of this material's instrument skipped (rounded to zero by the lot step, or below the minimum notional). */
  hedgeSkips: number;
}

export interface DeskOptions {
  readonly runId: string;
  readonly venue: Venue;
  readonly limits: RiskLimits;
  readonly orderStore?: OrderStore | undefined;
  readonly ledger: Ledger;
  readonly plant: Plant;
  readonly product: string;
  readonly materials: readonly DeskMaterial[];
  readonly strategy: Strategy;
  readonly needs: StrategyNeeds;
  /** The cost feed as of a time (one incremental feed in backtests; rebuilt per tick live). */
  readonly snapshot: (at: EpochMs) => CostSnapshot;
  readonly schedule?: CronSchedule | undefined;
  /** Simulate production from this plan (and emergency purchases for shortfalls). */
  readonly plan?: ProductionPlan | undefined;
  readonly emergencyPremium?: Decimal | undefined;
  /** Simulate monthly conversion costs and closes. */
  readonly conversion?: { readonly noise: number; readonly closeLagDays: number; readonly random: Random } | undefined;
  /** The product's target unit cost: discretionary buys (buying ahead) are capped at the price it implies. */
  readonly targetUnitCost?: Decimal | undefined;
  readonly state?: DeskState | undefined;
  /** Keep at most this many pipeline decisions in memory. */
  readonly journalLimit?: number | undefined;
  /** Keep orders the venue does not know after the submit attempts `new` (see PipelineOptions.keepOrdersInDoubt); live runs set it. */
  readonly keepOrdersInDoubt?: boolean | undefined;
  /** Called for each decision (live runs log them). */
  readonly onDecision?: ((decision: Decision) => void) | undefined;
  /**
   * Give every ledger event the desk posts a deterministic id (`fill:<instrument>:<tradeId>`,
   * `day:<date>:<type>:<subject>`, `day:<date>:emergency:<material>:<product>` (two desks making
   * different products from one material each buy their own shortfall), `mark:<time>:<instrument>`), so a step re-run after a crash
   * posts nothing twice (the ledger skips an id it already has). Live runs set it; backtests
   * leave it off and their ledgers are unchanged.
   */
  readonly eventIds?: boolean | undefined;
  /** Positions to start from (live runs rebuild them from stored fills after a restart); default flat. */
  readonly positions?: Positions | undefined;
  /** What an order costs at the venue: fixed fee per order, fee and slippage as shares of notional (strategies weigh them; futures roll-offs pay the fees). */
  readonly orderCosts?: { readonly fixed: Decimal; readonly feeRate: Decimal; readonly slippageRate: Decimal } | undefined;
}

const NO_ID: { id?: string } = Object.freeze({});
const X_365: X = new ExactValue(365n, 0);
let lastRate = Number.NaN;
let lastRateX: X = X_ZERO;
/** exactOfNumber(rate): the exact value decimal.js's times(rate) multiplies by (the margin rate is the same every day). */
function exactRate(rate: number): X {
  if (!Object.is(rate, lastRate)) {
    lastRateX = exactOfNumber(rate)!;
    lastRate = rate;
  }
  return lastRateX;
}

/** How many past bars of the fast average the desk keeps for strategies (SignalView.fastAgo). */
export const FAST_HISTORY_BARS = 256;

interface MaterialSlot {
  readonly setup: DeskMaterial;
  readonly stream: CrossoverStream | undefined;
  /** Ring of the last FAST_HISTORY_BARS fast averages and their bar times; `bars` counts pushes. */
  readonly fastRing: Float64Array;
  readonly atRing: Float64Array;
  bars: number;
  readonly fastAgo: (bars: number) => { at: EpochMs; fast: number } | undefined;
  /** The signal's walk-forward record (see SignalView.track): pending predictions by bar, and the tallies. */
  readonly track: { readonly trendBars: number; readonly horizonBars: number; readonly up: Uint8Array; readonly close: Float64Array; trials: number; hits: number; riseSum: number } | undefined;
  /** Last closed bar: time, close (quoted), and the averages on it. */
  barAt: EpochMs;
  close: number;
  /** marketUnitPrice's last figure and the close it was built from. */
  unitPrice: Decimal | undefined;
  unitPriceOf: number;
  /** Hedge prices per material unit by quoted price (a day asks for the same few contracts many times). */
  readonly hedgePrices: Map<number, Decimal>;
  /** Strip contract prices per material unit by month, with the quoted price each was built from (see contractPriceOf). */
  readonly contractPrices: Map<number, ContractPrice>;
  fast: number;
  slow: number;
  state: -1 | 0 | 1;
  hedgeClose: number;
  hedgeSeen: boolean;
  pendingCrossing: 'up' | 'down' | undefined;
  /**
   * Book stock on hand as a Decimal (see onHandOf); undefined after a day's production, which
   * works in onHandFixed: the Decimal is then built only when something reads it (most days
   * nothing does in a run without the daily record).
   */
  onHand: Decimal | undefined;
  /** Desk.inTransit's last sum, and the deliveries' version it was summed at (see TrackedDeskState). */
  transit: Decimal;
  transitVersion: number;
  readonly book: MaterialBook;
  /** Strip contracts this material's hedge can trade or still holds, with the month each covers (changed only through addContract and #dropContract). */
  readonly contracts: Map<string, number>;
  /** `contracts` as arrays, in its order (see contractListOf); undefined after a change. */
  contractList: ContractList | undefined;
  /** The strip's contracts as the last rule read them (see ruleContractsOf): the array and its objects are refilled at each walk a rule reads. */
  readonly ruleContracts: StripRuleContract[];
  /** How the hedge reads of a decision point are built (see HedgeReads); undefined without a hedge. */
  readonly hedgeBuilders: HedgeBuilders | undefined;
  /** Realised result after fees of strip contracts already rolled off (and dropped from `contracts`), and their fees. */
  closedHedgePnl: Decimal;
  closedHedgeFees: Decimal;
  /** Forecast consumption per day of a month, cached (strip exposure). */
  readonly monthNeeds: Map<number, MonthNeeds>;
  /** The cost figures of CostView that do not change during a run. */
  readonly costs: FixedCosts;
  /** What the hedge financing reads of each strip contract's position, by instrument (see #figures). */
  readonly figures: Map<string, ContractFigures>;
  /** The hedge financing so far (book.hedgeFinancing): financing + (-mark) x rate / 365 each day (see step). */
  readonly financing: ExactAccrual;
  /** The strip's tradeable contracts as #walkStrip last laid them out (the same until the first month or the month in progress moves). */
  stripLayout: StripLayout | undefined;
  /** The first tradeable strip month whose contracts #hedgeView registered last, and the size of `contracts` then. */
  registeredFirst: number;
  registeredSize: number;
  /** heldNumber's last figure and the on-hand Fixed and in-transit Decimal it was made from. */
  held: number;
  heldOnHand: Fixed | undefined;
  heldTransit: Decimal | undefined;
  /** book.consumed and book.standardValueConsumed as Fixed (summed each day), and their Decimals once built (undefined: not since the last change). */
  consumed: Fixed;
  consumedDecimal: Decimal | undefined;
  /** book.purchased, book.spend and book.fees as Fixed (summed per fill by #onFill), and their Decimals once built (undefined: not since the last fill). */
  purchased: Fixed;
  purchasedDecimal: Decimal | undefined;
  spend: Fixed;
  spendDecimal: Decimal | undefined;
  fees: Fixed;
  feesDecimal: Decimal | undefined;
  standardValue: Fixed;
  standardValueDecimal: Decimal | undefined;
  /**
   * book.priceSum, book.inventorySum and book.peak as Fixed (see step), and onHand and the unit
   * price as Fixed with the Decimals they were read from. While `onHand` is undefined,
   * onHandFixed is the stock on hand (see onHandOf).
   */
  priceSum: Fixed;
  inventorySum: Fixed;
  peak: Fixed;
  onHandFixed: Fixed;
  onHandFixedOf: Decimal | undefined;
  priceFixed: Fixed;
  priceFixedOf: Decimal | undefined;
  /** Desk.onOrder's last sum while orders were open, and the transit figure and open order records it was made from. */
  onOrderTransit: Decimal | undefined;
  onOrderFrom: readonly Decimal[];
  onOrderSum: Decimal;
  /**
   * book.carrying: carrying + onHand x carryingPerUnitDay each day (see #accrueCarrying); the
   * day's carryingPerUnitDay in exact40 with the Decimal it was read from (it changes with the
   * plant's versions only).
   */
  readonly carrying: ExactAccrual;
  carryRateX: X;
  carryRateOf: Decimal | undefined;
  /**
   * When #markClearlyPositive last found every contract flat: the desk's hedge fill count, the
   * registered first month and the number of contracts then. While all three stand no position
   * can have opened (a position opens only by a fill; a roll-off closes), so the walk is skipped.
   */
  flatFills: number;
  flatFirst: number;
  flatSize: number;
  /**
   * hedgePnlNumber's last strip total and what it was worked out from: the desk's hedge fill count,
   * the strip's index bar (every contract price changes with it only), the closed total and the
   * contracts (their number and the first registered month). The daily record and the daily
   * costs both ask for it after each step; while all of these stand the total is the same, and
   * while all but the bar stand and no contract was open (`pnlOpen` false: the total read no
   * price), too: a run that never hedges, or holds no hedge for a while, does not walk its
   * contracts every day.
   */
  pnlNumber: number;
  pnlFills: number;
  pnlBar: number;
  pnlClosed: Decimal | undefined;
  pnlSize: number;
  pnlFirst: number;
  pnlOpen: boolean;
  /** hedgeRealizedNumber's last strip total and what it was worked out from: pnl's keys but the bar (it reads no price). */
  realizedNumber: number;
  realizedFills: number;
  realizedClosed: Decimal | undefined;
  realizedSize: number;
  realizedFirst: number;
}

/**
 * A hedge position as the daily figures read it, read once per position (an immutable record,
 * replaced by each fill): whether it ever traded, its realised result after fees, whether it is
 * open, its quantity and average price in doubles (the daily P&L and the financing's screen)
 * and exactly (the financing's mark), and its unrealised result at the quoted price it was last
 * computed from (NaN: none yet).
 */
interface ContractFigures {
  /** The position these figures were read from (a flat record for a contract that never traded). */
  position: Position;
  /**
   * The desk's hedge fill count (Desk.#hedgeFills) when `position` was last read: a hedge
   * position changes only by a fill of a hedge instrument, so while the count stands the figures
   * stand, and the position is not asked for again.
   */
  fills: number;
  traded: boolean;
  /** numberOf(realizedPnl) - numberOf(fees). */
  result: number;
  open: boolean;
  /** numberOf(qty) and numberOf(avgPrice) when open, else NaN. */
  q: number;
  a: number;
  exact: { readonly qty: X; readonly avgPrice: X } | undefined;
  quoted: number;
  pnl: X;
}

/** What Desk.#lineUse keeps per BOM line (one record per line, updated in place when the day's units change). */
interface LineUse {
  units: Decimal;
  /** needFixed's Decimal, built when a stockout reads it. */
  need: Decimal | undefined;
  needFixed: Fixed;
  /** The line's qty and 1 + scrap as Fixed (the same every day). */
  readonly qtyFixed: Fixed;
  readonly scrapFactor: Fixed;
  /** The standard cost need x standard was last worked out at (undefined: not since `units` changed), and standardValue = needFixed x standardFixed. */
  standard: Decimal | undefined;
  standardValue: Fixed | undefined;
  /** The last standard cost read as Fixed, and the Decimal it was read from (kept across changes of `units`). */
  standardFixed: Fixed;
  standardFixedOf: Decimal | undefined;
}

/** CostView's figures that are fixed for a run (the plant's carrying terms, the venue's order costs), per material. */
interface FixedCosts {
  readonly carryingAnnualRate: Decimal;
  readonly storagePerUnitDay: Decimal;
  readonly orderFixedCost: Decimal;
  readonly orderFeeRate: Decimal;
  readonly emergencyPremium: Decimal;
}

/** What one step did. */
export interface StepResult {
  readonly at: EpochMs;
  readonly intents: readonly Intent[];
  readonly decisions: readonly Decision[];
  readonly fills: number;
  readonly snapshot: CostSnapshot;
}

/** See the module comment. */
export class Desk {
  readonly pipeline: Pipeline;
  readonly ledger: Ledger;
  readonly trades: Trade[] = objectArray();
  readonly stockouts: Stockout[] = objectArray();
  /** Every decision a risk check denied (the pipeline's journal keeps only the latest). */
  readonly denials: Decision[] = objectArray();
  readonly #options: DeskOptions;
  readonly #slots: MaterialSlot[];
  readonly #byInstrument = new Map<string, MaterialSlot>();
  readonly #state: TrackedDeskState;
  #productStandard = new Map<string, Decimal>();
  #priceCaps = new Map<string, Decimal>();
  /** The plant versions (standard costs, conversion costs, BOMs) the two maps above were computed from, and the plant's product ids they are listed by. */
  #costVersions: readonly unknown[] = objectArray();
  readonly #products: readonly string[];
  #pending: LedgerEvent[] = objectArray();
  #postAt: EpochMs = 0;
  /** Units made this month and so far, in Fixed (exact sums of the plan's quantities, as decimal.js's are); the Decimal built when read. */
  #monthUnits = Fixed.ZERO;
  #unitsProduced = Fixed.ZERO;
  #unitsProducedDecimal: Decimal | undefined = ZERO;
  /** The day's planned units as Fixed, and the Decimal they were read from. */
  #unitsFixed = Fixed.ZERO;
  #unitsFixedOf: Decimal | undefined;
  #conversionIncurred = ZERO;
  #lastDecision: EpochMs | undefined;
  /** options.needs.schedule, read once: each strategy's needs object has a shape of its own (a run after another strategy's deoptimized step). */
  readonly #needsSchedule: boolean;
  /** options.needs.hedging, read once: only a strategy that says it hedges may send hedge intents. */
  readonly #hedges: boolean;
  /** The month #dayEvents last saw: [from, to), 00:00 UTC of its 1st and of the next month's. */
  #monthFrom = Number.NaN;
  #monthTo = Number.NaN;
  /**
   * Fills of hedge instruments so far (counted by the pipeline's fill sink, which each fill of
   * the positions tracker goes through): a hedge position changes only with one (or a roll-off,
   * which drops the contract's figures), so the hedge figures kept by it stand while it does. The
   * pipeline's fill count also counts the material's own fills, which a jit run has most days.
   */
  #hedgeFills = 0;

  constructor(options: DeskOptions) {
    this.#options = options;
    this.ledger = options.ledger;
    this.#state = new TrackedDeskState(options.state ?? new MemoryDeskState());
    const signal = options.needs.signal;
    this.#needsSchedule = options.needs.schedule === true;
    this.#hedges = options.needs.hedging === true;
    this.#products = [...options.plant.products.keys()];
    this.#slots = options.materials.map((setup) => {
      const fastRing = new Float64Array(FAST_HISTORY_BARS);
      const atRing = new Float64Array(FAST_HISTORY_BARS);
      const slot: MaterialSlot = {
      setup,
      stream: signal === undefined ? undefined : new CrossoverStream(signal),
      fastRing,
      atRing,
      bars: 0,
      track: signal?.track === undefined ? undefined : { trendBars: signal.track.trendBars, horizonBars: signal.track.horizonBars, up: new Uint8Array(signal.track.horizonBars), close: new Float64Array(signal.track.horizonBars), trials: 0, hits: 0, riseSum: 0 },
      fastAgo: (back) => {
        if (!Number.isInteger(back) || back < 1 || back >= FAST_HISTORY_BARS || back >= slot.bars) return undefined;
        const i = (slot.bars - 1 - back) % FAST_HISTORY_BARS;
        const fast = fastRing[i]!;
        return Number.isNaN(fast) ? undefined : { at: atRing[i]!, fast };
      },
      barAt: Number.NaN,
      close: Number.NaN,
      unitPrice: undefined,
      unitPriceOf: Number.NaN,
      hedgePrices: new Map(),
      contractPrices: new Map(),
      fast: Number.NaN,
      slow: Number.NaN,
      state: -1,
      hedgeClose: Number.NaN,
      hedgeSeen: false,
      pendingCrossing: undefined,
      onHand: options.ledger.quantities().materials.get(setup.id) ?? ZERO,
      transit: ZERO,
      transitVersion: -1,
      book: {
        // Summed per fill in Fixed (exact, as decimal.js's sums and products of these short figures are), built when read.
        get purchased(): Decimal {
          return (slot.purchasedDecimal ??= slot.purchased.toDecimal());
        },
        get spend(): Decimal {
          return (slot.spendDecimal ??= slot.spend.toDecimal());
        },
        get fees(): Decimal {
          return (slot.feesDecimal ??= slot.fees.toDecimal());
        },
        emergencyQty: ZERO, emergencySpend: ZERO,
        get carrying(): Decimal {
          return slot.carrying.decimal;
        },
        priceDays: 0, peak: ZERO, stockouts: 0, openingPrice: undefined, skips: 0, hedgeSkips: 0,
        // Summed each day in Fixed (exact, as decimal.js's sums of these short figures are), read at the end.
        get consumed(): Decimal {
          return (slot.consumedDecimal ??= slot.consumed.toDecimal());
        },
        get standardValueConsumed(): Decimal {
          return (slot.standardValueDecimal ??= slot.standardValue.toDecimal());
        },
        get priceSum(): Decimal {
          return slot.priceSum.toDecimal();
        },
        get inventorySum(): Decimal {
          return slot.inventorySum.toDecimal();
        },
        get hedgeFinancing(): Decimal {
          return slot.financing.decimal;
        },
      },
      contracts: new Map(),
      contractList: undefined,
      ruleContracts: [],
      hedgeBuilders:
        setup.hedge === undefined
          ? undefined
          : { strip: setup.hedge.strip !== undefined, walk: (inventory, at) => this.#walkStrip(slot, inventory, at), view: (inventory, at, reads) => this.#buildHedgeView(slot, inventory, at, reads) },
      closedHedgePnl: ZERO,
      closedHedgeFees: ZERO,
      monthNeeds: new Map(),
      figures: new Map(),
      financing: new ExactAccrual(),
      stripLayout: undefined,
      registeredFirst: Number.NaN,
      registeredSize: -1,
      held: 0,
      heldOnHand: undefined,
      heldTransit: undefined,
      consumed: Fixed.ZERO,
      consumedDecimal: ZERO,
      purchased: Fixed.ZERO,
      purchasedDecimal: ZERO,
      spend: Fixed.ZERO,
      spendDecimal: ZERO,
      fees: Fixed.ZERO,
      feesDecimal: ZERO,
      standardValue: Fixed.ZERO,
      standardValueDecimal: ZERO,
      priceSum: Fixed.ZERO,
      inventorySum: Fixed.ZERO,
      peak: Fixed.ZERO,
      onHandFixed: Fixed.ZERO,
      onHandFixedOf: undefined,
      priceFixed: Fixed.ZERO,
      priceFixedOf: undefined,
      onOrderTransit: undefined,
      onOrderFrom: [],
      onOrderSum: ZERO,
      carrying: new ExactAccrual(),
      carryRateX: X_ZERO,
      carryRateOf: undefined,
      flatFills: -1,
      flatFirst: Number.NaN,
      flatSize: -1,
      pnlNumber: Number.NaN,
      pnlFills: -1,
      pnlBar: -1,
      pnlClosed: undefined,
      pnlSize: -1,
      pnlFirst: Number.NaN,
      pnlOpen: true,
      realizedNumber: Number.NaN,
      realizedFills: -1,
      realizedClosed: undefined,
      realizedSize: -1,
      realizedFirst: Number.NaN,
      costs: {
        carryingAnnualRate: options.plant.carrying.annualRate,
        storagePerUnitDay: options.plant.carrying.storagePerUnitDay.get(setup.id) ?? ZERO,
        orderFixedCost: options.orderCosts?.fixed ?? ZERO,
        orderFeeRate: options.orderCosts === undefined ? ZERO : options.orderCosts.feeRate.plus(options.orderCosts.slippageRate),
        emergencyPremium: options.emergencyPremium ?? ZERO,
      },
      };
      return slot;
    });
    for (const slot of this.#slots) {
      this.#byInstrument.set(slot.setup.id, slot);
      if (slot.setup.hedge !== undefined) this.#byInstrument.set(slot.setup.hedge.instrument, slot);
    }
    this.#financing = this.#slots.some((slot) => slot.setup.hedge?.strip !== undefined);
    const sink: FillSink = {
      onFill: (order, fill, intent) => {
        const instrument = order.request.instrument;
        if (this.#byInstrument.get(instrument)?.setup.id !== instrument) this.#hedgeFills += 1;
        return this.#onFill(instrument, order.request.side, order.request.at, order.request.clientOrderId, fill, intent);
      },
    };
    this.pipeline = new Pipeline({ runId: options.runId, venue: options.venue, limits: options.limits, store: options.orderStore, sink, journalLimit: options.journalLimit ?? 5000, keepOrdersInDoubt: options.keepOrdersInDoubt === true, ...(options.positions === undefined ? {} : { positions: options.positions }) });
  }

  /** A closed bar of a material's price series (quoted units). Bars must come in time order. */
  onBar(material: string, at: EpochMs, close: number): void {
    const slot = this.#byInstrument.get(material);
    if (slot === undefined) throw new Error(`internal: no material ${material} on this desk`);
    slot.barAt = at;
    slot.close = close;
    if (slot.stream === undefined) return;
    const update = slot.stream.update(close);
    slot.fast = update.fast;
    slot.slow = update.slow;
    slot.state = update.state;
    const i = slot.bars % FAST_HISTORY_BARS;
    slot.fastRing[i] = update.fast;
    slot.atRing[i] = at;
    slot.bars += 1;
    if (update.crossing !== undefined) slot.pendingCrossing = update.crossing;
    const track = slot.track;
    if (track !== undefined) {
      // Score the prediction made horizonBars ago against this close, then record this bar's.
      // The ring holds the last horizonBars bars: slot k was written horizonBars bars ago.
      const k = (slot.bars - 1) % track.horizonBars;
      if (slot.bars > track.horizonBars && track.up[k] === 1) {
        const then = track.close[k]!;
        track.trials += 1;
        if (close > then) track.hits += 1;
        if (then > 0) track.riseSum += close / then - 1;
      }
      const before = slot.fastAgo(track.trendBars);
      track.up[k] = before !== undefined && Number.isFinite(update.fast) && update.fast > before.fast ? 1 : 0;
      track.close[k] = close;
    }
  }

  /** A closed bar of a hedge instrument's series (quoted units). */
  onHedgeBar(instrument: string, close: number): void {
    const slot = this.#byInstrument.get(instrument);
    if (slot === undefined) throw new Error(`internal: no hedge instrument ${instrument} on this desk`);
    slot.hedgeClose = close;
    slot.hedgeSeen = true;
  }

  /** The last closed bar's values for a material (reports record them). */
  barView(material: string): { at: EpochMs; close: number; fast: number; slow: number } {
    const slot = this.#byInstrument.get(material)!;
    return { at: slot.barAt, close: slot.close, fast: slot.fast, slow: slot.slow };
  }

  /** Book stock on hand (material units). */
  onHand(material: string): Decimal {
    return onHandOf(this.#byInstrument.get(material)!);
  }

  /**
   * onHand's toNumberExact from its Fixed (m / 10^e, one correctly rounded division, as the
   * Decimal's conversion), without reading the Decimal's words; 0 for zero (a Decimal -0's
   * sign is not kept: callers that print zeros read the Decimal).
   */
  onHandNumber(material: string): number {
    const slot = this.#byInstrument.get(material)!;
    refreshOnHandFixed(slot);
    return numberOfFixed(slot.onHandFixed);
  }

  /** Deliveries bought and not yet received (summed again only when a delivery was added or taken since). */
  inTransit(material: string): Decimal {
    const slot = this.#byInstrument.get(material);
    const version = this.#state.version;
    if (slot !== undefined && slot.transitVersion === version) return slot.transit;
    // The sum in Fixed (exact, as decimal.js's sum of these short quantities is; a long one goes
    // through decimal.js inside Fixed), made a Decimal once: with long lead times many deliveries
    // are in transit, and a Decimal plus each was a visible share of a run.
    let sum: Fixed | undefined;
    for (const d of this.#state.deliveries()) if (d.material === material) sum = (sum ?? Fixed.ZERO).plus(Fixed.from(d.qty));
    const qty = sum === undefined ? ZERO : sum.toDecimal();
    if (slot !== undefined) {
      slot.transit = qty;
      slot.transitVersion = version;
    }
    return qty;
  }

  /**
   * toNumber of onHand + inTransit (the daily costs' stock held), summed exactly in Fixed (as
   * decimal.js sums these short quantities) without a Decimal, and kept while both stand.
   */
  heldNumber(material: string): number {
    const slot = this.#byInstrument.get(material)!;
    const transit = this.inTransit(material);
    refreshOnHandFixed(slot);
    if (slot.heldOnHand !== slot.onHandFixed || slot.heldTransit !== transit) {
      slot.held = numberOfFixed(slot.onHandFixed.plus(Fixed.from(transit)));
      slot.heldOnHand = slot.onHandFixed;
      slot.heldTransit = transit;
    }
    return slot.held;
  }

  /** The record of order-to-receipt times of a material's deliveries (see DeskState.leadTimes). */
  leadTimes(material: string): LeadTimeRecord | undefined {
    return this.#state.leadTimes(material);
  }

  /**
   * Quantity on order: open buy orders plus goods in transit. The feed and the daily record ask
   * each day; the sum is kept with the transit figure and the ordered quantity and filled
   * quantity of each open buy it was made from (a record replaced by a status change keeps
   * both Decimals; orders of other instruments do not count) and made again only when one of
   * those changed.
   */
  onOrder(material: string): Decimal {
    const transit = this.inTransit(material);
    if (this.pipeline.openOrderCount === 0) return transit;
    const orders = this.pipeline.openOrders();
    const slot = this.#byInstrument.get(material);
    if (slot !== undefined && slot.onOrderTransit === transit && sameOpenBuys(orders, material, slot.onOrderFrom)) return slot.onOrderSum;
    // transit + each (ordered - filled), summed exactly in Fixed (as decimal.js sums these short
    // quantities; a long one goes through decimal.js inside Fixed) and made a Decimal once.
    let sum: Fixed | undefined;
    const parts: Decimal[] = [];
    for (const order of orders) {
      if (order.request.instrument === material && order.request.side === 'buy') {
        sum = (sum ?? Fixed.from(transit)).plus(Fixed.from(order.request.qty).minus(Fixed.from(order.filledQty)));
        parts.push(order.request.qty, order.filledQty);
      }
    }
    const qty = sum === undefined ? transit : sum.toDecimal();
    if (slot !== undefined) {
      slot.onOrderTransit = transit;
      slot.onOrderFrom = parts;
      slot.onOrderSum = qty;
    }
    return qty;
  }

  /** Standard cost of one product unit as of the last step. */
  productStandardCost(product: string): Decimal {
    return this.#productStandard.get(product) ?? ZERO;
  }

  book(material: string): Readonly<MaterialBook> {
    return this.#byInstrument.get(material)!.book;
  }

  get unitsProduced(): Decimal {
    return (this.#unitsProducedDecimal ??= this.#unitsProduced.toDecimal());
  }

  /** unitsProduced as a double (its toNumber), without the Decimal (the daily costs read it each day). */
  get unitsProducedNumber(): number {
    return numberOfFixed(this.#unitsProduced);
  }

  /** book.consumed and book.standardValueConsumed as doubles (their toNumber), without the Decimals (the daily series read them each day). */
  consumedNumber(material: string): number {
    return numberOfFixed(this.#byInstrument.get(material)!.consumed);
  }
  standardValueNumber(material: string): number {
    return numberOfFixed(this.#byInstrument.get(material)!.standardValue);
  }

  get conversionIncurred(): Decimal {
    return this.#conversionIncurred;
  }

  /** The material's last close per material unit. */
  marketUnitPrice(material: string): Decimal {
    const slot = this.#byInstrument.get(material)!;
    if (Number.isNaN(slot.close)) throw new Error(`internal: no ${material} price known yet`);
    // Asked several times a day (step, daily series, emergency buys): built once per close.
    if (slot.unitPriceOf !== slot.close || slot.unitPrice === undefined) {
      slot.unitPrice = unitPriceOf(slot.close, slot.setup.factor);
      slot.unitPriceOf = slot.close;
    }
    return slot.unitPrice;
  }

  /** The hedge instrument's last close per material unit (the material's price until it has its own). */
  hedgeUnitPrice(material: string): Decimal {
    const slot = this.#byInstrument.get(material)!;
    const hedge = slot.setup.hedge;
    if (hedge === undefined || !slot.hedgeSeen) return this.marketUnitPrice(material);
    return hedgeUnitPriceOf(slot, slot.hedgeClose, hedge.factor);
  }

  /** Price per material unit of a hedge contract: a strip contract at the strip's price, else the single instrument's. */
  contractUnitPrice(material: string, instrument: string): Decimal {
    const slot = this.#byInstrument.get(material)!;
    const hedge = slot.setup.hedge;
    const month = slot.contracts.get(instrument);
    if (hedge?.strip === undefined || month === undefined) return this.hedgeUnitPrice(material);
    return contractPriceOf(slot, month, hedge.strip.price(month), hedge.factor).unit;
  }

  /** The hedge instruments a material has traded (the strip's contracts, or the single instrument). */
  hedgeInstrumentsOf(material: string): string[] {
    const slot = this.#byInstrument.get(material)!;
    const hedge = slot.setup.hedge;
    if (hedge === undefined) return [];
    return hedge.strip === undefined ? [hedge.instrument] : [...slot.contracts.keys()];
  }

  /** Fees paid on the material's hedge trades (roll-offs included). */
  hedgeFees(material: string): Decimal {
    let total = this.#byInstrument.get(material)!.closedHedgeFees;
    for (const instrument of this.hedgeInstrumentsOf(material)) total = total.plus(this.pipeline.positions.get(instrument).fees);
    return total;
  }

  /** True once the material's hedge instrument has traded at all. */
  hasHedged(material: string): boolean {
    if (!this.#byInstrument.get(material)!.closedHedgePnl.isZero()) return true;
    for (const instrument of this.hedgeInstrumentsOf(material)) {
      const position = this.pipeline.positions.get(instrument);
      if (!(position.boughtQty.isZero() && position.soldQty.isZero())) return true;
    }
    return false;
  }

  /** Hedge result for a material: realised + marked to the last hedge prices, after fees (financing not included). */
  hedgePnl(material: string): Decimal {
    let total = this.#byInstrument.get(material)!.closedHedgePnl;
    for (const instrument of this.hedgeInstrumentsOf(material)) {
      const position = this.pipeline.positions.get(instrument);
      if (position.boughtQty.isZero() && position.soldQty.isZero()) continue;
      total = total.plus(position.realizedPnl).minus(position.fees);
      if (!position.qty.isZero()) total = total.plus(this.pipeline.positions.unrealizedPnl(instrument, this.contractUnitPrice(material, instrument)));
    }
    return total;
  }

  /**
   * Realised hedge result after fees so far (contracts rolled off, closed or reduced), in plain
   * numbers (each position's figures converted once, see #figures).
   */
  hedgeRealizedNumber(material: string): number {
    const slot = this.#byInstrument.get(material)!;
    let total = numberOf(slot.closedHedgePnl);
    const hedge = slot.setup.hedge;
    if (hedge === undefined) return total;
    if (hedge.strip === undefined) {
      const figures = this.#figures(slot, hedge.instrument);
      return figures.traded ? total + figures.result : total;
    }
    const fills = this.#hedgeFills;
    if (slot.realizedFills === fills && slot.realizedClosed === slot.closedHedgePnl && slot.realizedSize === slot.contracts.size && Object.is(slot.realizedFirst, slot.registeredFirst)) return slot.realizedNumber;
    // slot.contracts' keys are hedgeInstrumentsOf's, in the same order.
    const instruments = contractListOf(slot).instruments;
    for (let k = 0; k < instruments.length; k += 1) {
      const figures = this.#figures(slot, instruments[k]!);
      if (figures.traded) total += figures.result;
    }
    slot.realizedNumber = total;
    slot.realizedFills = fills;
    slot.realizedClosed = slot.closedHedgePnl;
    slot.realizedSize = slot.contracts.size;
    slot.realizedFirst = slot.registeredFirst;
    return total;
  }

  /** The same in plain numbers (daily statistics; the exact figure is hedgePnl). */
  hedgePnlNumber(material: string): number {
    const slot = this.#byInstrument.get(material)!;
    let total = numberOf(slot.closedHedgePnl);
    const hedge = slot.setup.hedge;
    if (hedge === undefined) return total;
    const strip = hedge.strip;
    if (strip === undefined) return this.#addHedgeNumber(slot, material, hedge.instrument, total);
    const fills = this.#hedgeFills;
    const bar = strip.lastBar;
    if (slot.pnlFills === fills && (slot.pnlBar === bar || !slot.pnlOpen) && slot.pnlClosed === slot.closedHedgePnl && slot.pnlSize === slot.contracts.size && Object.is(slot.pnlFirst, slot.registeredFirst)) return slot.pnlNumber;
    // #addHedgeNumber's sum in the same order, each contract's unit price read from its month (#contractUnitNumber's strip case).
    const factor = hedge.factor;
    const { instruments, months } = contractListOf(slot);
    let open = false;
    for (let k = 0; k < instruments.length; k += 1) {
      const figures = this.#figures(slot, instruments[k]!);
      if (!figures.traded) continue;
      const month = months[k]!;
      total += figures.result;
      if (figures.open) {
        open = true;
        total += figures.q * (contractPriceOf(slot, month, strip.price(month), factor).unitNumber - figures.a);
      }
    }
    slot.pnlOpen = open;
    slot.pnlNumber = total;
    slot.pnlFills = fills;
    slot.pnlBar = bar;
    slot.pnlClosed = slot.closedHedgePnl;
    slot.pnlSize = slot.contracts.size;
    slot.pnlFirst = slot.registeredFirst;
    return total;
  }

  /** book.hedgeFinancing as a double (its toNumber), without building the Decimal (the daily series read it each day). */
  hedgeFinancingNumber(material: string): number {
    return this.#byInstrument.get(material)!.financing.number;
  }

  /** total + the instrument's result in hedgePnlNumber: realised after fees, and marked when open. */
  #addHedgeNumber(slot: MaterialSlot, material: string, instrument: string, total: number): number {
    const figures = this.#figures(slot, instrument);
    if (!figures.traded) return total;
    total += figures.result;
    if (figures.open) total += figures.q * (this.#contractUnitNumber(material, instrument) - figures.a);
    return total;
  }

  /** numberOf(contractUnitPrice(material, instrument)), converted once per strip contract price. */
  #contractUnitNumber(material: string, instrument: string): number {
    const slot = this.#byInstrument.get(material)!;
    const hedge = slot.setup.hedge;
    const month = slot.contracts.get(instrument);
    if (hedge?.strip === undefined || month === undefined) return numberOf(this.hedgeUnitPrice(material));
    const price = contractPriceOf(slot, month, hedge.strip.price(month), hedge.factor);
    return price.unitNumber;
  }

  /** Receives the opening stock at the first known price (backtests). */
  receiveOpening(at: EpochMs): void {
    const events: LedgerEvent[] = [];
    for (const slot of this.#slots) {
      const qty = slot.setup.openingQty;
      const price = this.marketUnitPrice(slot.setup.id);
      slot.book.openingPrice = price;
      if (qty === undefined || !qty.greaterThan(0)) continue;
      events.push({ type: 'purchase', id: `opening-${slot.setup.id}`, at, knownAt: at, material: slot.setup.id, qty, unitPrice: roundMoney(price, 6), paidFrom: 'accounts_payable', reason: 'opening' });
      slot.onHand = onHandOf(slot).plus(qty);
    }
    if (events.length > 0) this.ledger.post(events);
    this.#state.setLastDay(startOfDay(at) - DAY_MS);
  }

  /**
   * One decision point at `at`; see the module comment. The live runner awaits this; the
   * backtester calls stepSoon, which does the same without a promise on the days that need none.
   */
  async step(at: EpochMs): Promise<StepResult> {
    return this.stepSoon(at);
  }

  /**
   * step's work, as a value on the days it awaits nothing and as a promise from the first thing
   * it must await: a cancel at a roll-off, or a sync of open orders or an intent's submission
   * that the venue does not answer at once (the pipeline's syncSoon and submitAllSoon give the
   * simulated venue's answers themselves). On those days a step costs no promise, no suspended
   * frame and no microtask. The same operations run in the same order either way.
   */
  stepSoon(at: EpochMs): StepResult | Promise<StepResult> {
    const fillsBefore = this.pipeline.fillCount;
    const today = startOfDay(at);
    this.#postAt = today;
    if (this.pipeline.openOrderCount > 0) {
      // The sync's result itself while the venue answers at once (Pipeline.syncSoon): a jit run syncs its open buy every day.
      const synced = this.pipeline.syncSoon();
      if (synced instanceof Promise) return synced.then(() => this.#afterSync(at, today, fillsBefore));
    }
    return this.#afterSync(at, today, fillsBefore);
  }

  /** stepSoon after the open orders' sync: the day boundaries crossed, roll-offs, then the decision point. */
  #afterSync(at: EpochMs, today: EpochMs, fillsBefore: number): StepResult | Promise<StepResult> {
    // Day boundaries crossed since the last step.
    const last = this.#state.lastDay();
    const firstDay = last === undefined ? today : last + DAY_MS;
    for (let day = firstDay; day <= today; day += DAY_MS) {
      this.#postAt = day;
      this.#dayEvents(day, last === undefined ? day : last);
      this.#flush();
      this.#state.setLastDay(day);
    }
    this.#postAt = today;
    this.#flush();
    // Most days nothing rolls off: no async call (and its microtask) then.
    if (this.#rollOffDue(today)) return this.#rollOff(today).then(() => this.#decisionPoint(at, fillsBefore));
    return this.#decisionPoint(at, fillsBefore);
  }

  /**
   * Carrying cost and the decision point: each material's context and the strategy's intents,
   * submitted in order (#submitFrom, from the first material that sends one).
   */
  #decisionPoint(at: EpochMs, fillsBefore: number): StepResult | Promise<StepResult> {
    const options = this.#options;
    const snapshot = options.snapshot(at);
    // Both change only when a dated version of the plant takes effect.
    if (!sameVersionsAt(options.plant, this.#products, at, this.#costVersions)) {
      const versions = costVersionsAt(options.plant, at);
      this.#productStandard = standardProductCosts(options.plant, at);
      this.#priceCaps = priceCapsFrom(options.plant, options.product, options.targetUnitCost, at);
      this.#costVersions = versions;
    }
    const fired = this.#needsSchedule && options.schedule !== undefined && options.schedule.firstFiringIn(this.#lastDecision ?? at - DAY_MS, at) !== undefined;
    const slots = this.#slots;
    for (let s = 0; s < slots.length; s += 1) {
      const slot = slots[s]!;
      const context = this.#slotContext(slot, snapshot, at, fired);
      if (context === undefined) continue;
      const decided = this.#decide(slot, context);
      if (decided.length > 0) return this.#submitFrom(new SubmitRun(at, fillsBefore, snapshot, fired), s, context, decided, 0);
    }
    return this.#stepDone(at, fillsBefore, snapshot, NO_INTENTS, NO_DECISIONS);
  }

  /**
   * The rest of a decision point from material `s`, whose strategy decided `decided` in
   * `context`: each intent through the pipeline in order (from intent `i`), then the later
   * materials' decisions and theirs. The step's result itself while every submission answers at
   * once (Pipeline.submitAllSoon: the simulated venue), and from the first that returns a promise
   * the rest after it: the same operations in the same order, without an async frame and a
   * promise per intent on the days a strategy sends one (every day of a jit run).
   */
  #submitFrom(run: SubmitRun, s: number, context: StrategyContext, decided: readonly Intent[], i: number): StepResult | Promise<StepResult> {
    const slots = this.#slots;
    for (;;) {
      const slot = slots[s]!;
      for (; i < decided.length; i += 1) {
        const intent = decided[i]!;
        run.intents.push(intent);
        const submitted = this.#submit(intent, slot, context);
        if (submitted instanceof Promise) {
          const from = s;
          const after = i + 1;
          const current = context;
          const list = decided;
          return submitted.then((answered) => {
            this.#decided(slot, intent, answered, run.decisions);
            return this.#submitFrom(run, from, current, list, after);
          });
        }
        this.#decided(slot, intent, submitted, run.decisions);
      }
      // The next material with a context (one whose price is known).
      let next: StrategyContext | undefined;
      for (s += 1; s < slots.length; s += 1) {
        next = this.#slotContext(slots[s]!, run.snapshot, run.at, run.fired);
        if (next !== undefined) break;
      }
      if (next === undefined) break;
      context = next;
      decided = this.#decide(slots[s]!, context);
      i = 0;
    }
    return this.#stepDone(run.at, run.fillsBefore, run.snapshot, run.intents, run.decisions);
  }

  /** An intent's decisions: kept in order, denials and skips counted, each passed to options.onDecision. */
  #decided(slot: MaterialSlot, intent: Intent, submitted: readonly Decision[], decisions: Decision[]): void {
    const options = this.#options;
    const book = slot.book;
    for (let d = 0; d < submitted.length; d += 1) {
      const decision = submitted[d]!;
      decisions.push(decision);
      if (decision.outcome === 'denied') this.denials.push(decision);
      else if (decision.outcome === 'skipped') {
        if (intent.instrument === slot.setup.id) book.skips += 1;
        else book.hedgeSkips += 1;
      }
      options.onDecision?.(decision);
    }
  }

  /**
   * A material's part of the decision point before its strategy decides: the day's carrying
   * cost, price and inventory sums and peak, and its strategy context; undefined (nothing done)
   * while its price is unknown.
   */
  #slotContext(slot: MaterialSlot, snapshot: CostSnapshot, at: EpochMs, fired: boolean): StrategyContext | undefined {
    if (Number.isNaN(slot.close)) return undefined;
    const id = slot.setup.id;
    const materialCost = snapshot.materials[id]!;
    const book = slot.book;
    refreshOnHandFixed(slot);
    this.#accrueCarrying(slot, materialCost.carryingPerUnitDay);
    const price = this.marketUnitPrice(id);
    // The price sum, the peak and the inventory sum in Fixed: exact sums and comparisons of
    // short figures (a long one goes through decimal.js inside Fixed), as decimal.js's are.
    if (slot.priceFixedOf !== price) {
      slot.priceFixed = Fixed.from(price);
      slot.priceFixedOf = price;
    }
    slot.priceSum = slot.priceSum.plus(slot.priceFixed);
    book.priceDays += 1;
    if (slot.onHandFixed.gt(slot.peak)) {
      book.peak = onHandOf(slot);
      slot.peak = slot.onHandFixed;
    }
    slot.inventorySum = slot.inventorySum.plus(slot.onHandFixed);
    const context = this.#context(slot, snapshot, at, fired, price);
    slot.pendingCrossing = undefined;
    return context;
  }

  /** The strategy's intents for a material at the decision point. */
  #decide(slot: MaterialSlot, context: StrategyContext): readonly Intent[] {
    const decided = this.#options.strategy.decide(context);
    if (slot.setup.hedge !== undefined && someOtherInstrument(decided, slot.setup.id)) {
      // A backtest quotes the hedge contracts only to a strategy that hedges (and the screening engine takes the others).
      if (!this.#hedges) throw new Error(`strategy ${this.#options.strategy.name} sent a hedge intent but its needs() do not declare hedging`);
      // A hedge order is priced and sized from the hedge view as it stood when the strategy decided.
      void context.hedge;
    }
    return decided;
  }

  /** The end of a step: the day's last events posted, and what it did. */
  #stepDone(at: EpochMs, fillsBefore: number, snapshot: CostSnapshot, intents: readonly Intent[], decisions: readonly Decision[]): StepResult {
    this.#flush();
    this.#lastDecision = at;
    return { at, intents, decisions, fills: this.pipeline.fillCount - fillsBefore, snapshot };
  }

  /**
   * book.carrying + onHand x rate, the day's carrying cost. In exact40 (decimal.js's times and
   * plus, digit for digit, on BigInt coefficients: about a quarter of the two Decimal operations,
   * which copied their Decimal arguments) when the configuration and the figures allow it,
   * else in decimal.js. slot.onHandFixed is onHand's.
   */
  #accrueCarrying(slot: MaterialSlot, rate: Decimal): void {
    if (slot.carryRateOf !== rate) {
      slot.carryRateOf = rate;
      slot.carryRateX = rate.isFinite() ? fromDecimal(rate) : X_ZERO;
    }
    const onHand = slot.onHandFixed;
    if (rate.isFinite() && slot.carrying.exact()) {
      // An ExactValue, as every exact40 value is (one hidden class); 0 - e, not -e, which gives a heap number -0 for e = 0.
      const held: X = onHand.big === undefined ? new ExactValue(BigInt(onHand.m), 0 - onHand.e) : fromDecimal(onHand.big);
      slot.carrying.addExact(times(held, slot.carryRateX));
    } else {
      slot.carrying.addDecimal(onHandOf(slot).times(rate));
    }
  }

  /** book.carrying as a double (its toNumber), without building the Decimal (the daily series read it each day). */
  carryingNumber(material: string): number {
    return this.#byInstrument.get(material)!.carrying.number;
  }

  /** Posts final hedge marks (end of a backtest). */
  markHedges(at: EpochMs): void {
    this.#postAt = at;
    for (const slot of this.#slots) {
      for (const instrument of this.hedgeInstrumentsOf(slot.setup.id)) {
        if (this.pipeline.positions.qty(instrument).isZero()) continue;
        this.#pending.push({ type: 'hedge-mark', ...this.#id(() => `mark:${formatTime(at)}:${instrument}`), at, knownAt: at, instrument, price: roundMoney(this.contractUnitPrice(slot.setup.id, instrument), 6) });
      }
    }
    this.#flush();
  }

  /** `{ id }` when the desk runs with `eventIds`, else nothing (the ledger numbers the event; the id is not even formatted). */
  #id(id: () => string): { id?: string } {
    return this.#options.eventIds === true ? { id: id() } : NO_ID;
  }

  /**
   * A day's events: a month's opening (conversion cost, close, hedge marks), the hedges'
   * financing, the deliveries due and the day's production. Each part is a method of its own:
   * the day runs 10,000 times a run, and V8 optimises a short method with stable feedback
   * sooner, and compiles it faster, than one long one whose rare branches (a month's opening,
   * a stockout) keep changing its feedback. The same operations run in the same order.
   */
  #dayEvents(day: EpochMs, previous: EpochMs): void {
    // The 1st of a month (getUTCDate() === 1), from the month's bounds, found again only when the day leaves them (no Date per day).
    if (!(day >= this.#monthFrom && day < this.#monthTo)) this.#enterMonth(day);
    if (day > previous && day - this.#monthFrom < DAY_MS) this.#monthOpens(day);
    if (this.#financing) this.#accrueFinancing();
    const due = this.#state.takeDue(day);
    if (due.length > 0) this.#receive(day, due);
    const plan = this.#options.plan;
    if (plan !== undefined) this.#produce(day, plan);
  }

  /** The bounds of the month holding `day`: 00:00 UTC of its 1st and of the next month's. */
  #enterMonth(day: EpochMs): void {
    const date = new Date(day);
    this.#monthFrom = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    this.#monthTo = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }

  /** The 1st of a month: last month's conversion cost and close, then each open hedge's mark. */
  #monthOpens(day: EpochMs): void {
    const options = this.#options;
    const plant = options.plant;
    const product = options.product;
    if (options.conversion !== undefined) {
      const conversion = options.conversion;
      const standard = plant.conversionCostAt(product, day - DAY_MS).cost;
      const noise = Math.max(-0.5, conversion.noise * conversion.random.normal());
      const amount = roundMoney(this.#monthUnits.toDecimal().times(standard).times(new Decimal(noise.toFixed(6)).plus(1)), plant.moneyPlaces);
      if (amount.greaterThan(0)) this.#pending.push({ type: 'conversion', ...this.#id(() => `day:${formatDate(day)}:conversion:${product}`), at: day, knownAt: day, amount, category: 'labour and overhead' });
      this.#conversionIncurred = this.#conversionIncurred.plus(amount);
      this.#monthUnits = Fixed.ZERO;
      this.#pending.push({ type: 'close', ...this.#id(() => `day:${formatDate(day)}:close:${product}`), at: day, knownAt: day + conversion.closeLagDays * DAY_MS });
    }
    for (const slot of this.#slots) {
      for (const instrument of this.hedgeInstrumentsOf(slot.setup.id)) {
        if (this.pipeline.positions.qty(instrument).isZero()) continue;
        this.#pending.push({ type: 'hedge-mark', ...this.#id(() => `day:${formatDate(day)}:mark:${instrument}`), at: day, knownAt: day, instrument, price: roundMoney(this.contractUnitPrice(slot.setup.id, instrument), 6) });
      }
    }
  }

  /** Whether some material hedges on a strip (only a strip's negative mark accrues financing). */
  readonly #financing: boolean;

  /** Financing of each hedge strip's negative mark, one day at a time. */
  #accrueFinancing(): void {
    const slots = this.#slots;
    for (let s = 0; s < slots.length; s += 1) {
      const slot = slots[s]!;
      const strip = slot.setup.hedge?.strip;
      if (strip === undefined || slot.contracts.size === 0 || !(strip.setup.marginRate > 0)) continue;
      if (slot.flatFills === this.#hedgeFills && slot.flatFirst === slot.registeredFirst && slot.flatSize === slot.contracts.size) continue;
      if (this.#markClearlyPositive(slot, strip)) continue;
      const mark = this.#negativeMark(slot, strip);
      if (mark === undefined) continue;
      const rate = strip.setup.marginRate;
      if (Number.isFinite(rate) && !(mark instanceof Decimal && !mark.isFinite()) && slot.financing.exact()) {
        // (-mark) x rate / 365 in exact40: each step rounded as decimal.js rounds it.
        const negated = mark instanceof Decimal ? fromDecimal(mark.negated()) : new ExactValue(-mark.c, mark.e);
        slot.financing.addExact(dividedBy(times(negated, exactRate(rate)), X_365));
      } else {
        slot.financing.addDecimal((mark instanceof Decimal ? mark : toDecimal(mark)).negated().times(rate).dividedBy(365));
      }
    }
  }

  /** The deliveries due on `day`: each a purchase event, and its quantity on hand. */
  #receive(day: EpochMs, due: readonly Delivery[]): void {
    for (let i = 0; i < due.length; i += 1) {
      const delivery = due[i]!;
      const slot = this.#byInstrument.get(delivery.material)!;
      if (delivery.orderedAt !== undefined) this.#state.recordReceipt(delivery.material, (day - startOfDay(delivery.orderedAt)) / DAY_MS);
      // The same event with or without its id (no object spread per delivery).
      this.#pending.push(
        delivery.id === undefined
          ? { type: 'purchase', at: day, knownAt: day, material: delivery.material, qty: delivery.qty, unitPrice: delivery.price, fee: delivery.fee, paidFrom: 'accounts_payable', ref: delivery.ref, reason: delivery.reason }
          : { type: 'purchase', id: delivery.id, at: day, knownAt: day, material: delivery.material, qty: delivery.qty, unitPrice: delivery.price, fee: delivery.fee, paidFrom: 'accounts_payable', ref: delivery.ref, reason: delivery.reason },
      );
      // onHand + qty in Fixed (exact, as decimal.js's sum of these short figures is; a long one
      // goes through decimal.js inside Fixed), its Decimal built when read (onHandOf).
      refreshOnHandFixed(slot);
      setOnHandFixed(slot, slot.onHandFixed.plus(Fixed.from(delivery.qty)));
    }
  }

  /** The day's production: each BOM line's need taken from stock (bought at a premium when short), then its completion and sale. */
  #produce(day: EpochMs, plan: ProductionPlan): void {
    const options = this.#options;
    const product = options.product;
    const units = plan.qtyOn(product, day);
    if (!positiveUnits(units)) return;
    if (this.#unitsFixedOf !== units) {
      this.#unitsFixed = Fixed.from(units);
      this.#unitsFixedOf = units;
    }
    const plant = options.plant;
    const lines = plant.bomAt(product, day).lines;
    for (let k = 0; k < lines.length; k += 1) {
      const line = lines[k]!;
      const slot = this.#byInstrument.get(line.material)!;
      const use = this.#lineUse(line, units, this.#unitsFixed);
      refreshOnHandFixed(slot);
      if (use.needFixed.gt(slot.onHandFixed)) this.#stockout(day, slot, use);
      // onHand - need in Fixed (exact, as decimal.js's difference of these short figures is; a
      // long one goes through decimal.js inside Fixed), its Decimal built when read (onHandOf).
      setOnHandFixed(slot, slot.onHandFixed.minus(use.needFixed));
      // The running sums in Fixed: exact, as decimal.js's sums of these short figures are (a long one goes through decimal.js inside Fixed).
      slot.consumed = slot.consumed.plus(use.needFixed);
      slot.consumedDecimal = undefined;
      const standard = plant.standardCostAt(slot.setup.id, day).cost;
      if (use.standard !== standard) {
        if (use.standardFixedOf !== standard) {
          use.standardFixed = Fixed.from(standard);
          use.standardFixedOf = standard;
        }
        use.standard = standard;
        use.standardValue = use.needFixed.times(use.standardFixed);
      }
      slot.standardValue = slot.standardValue.plus(use.standardValue!);
      slot.standardValueDecimal = undefined;
    }
    // The day's two events, with ids only when the desk runs with eventIds (no spread or closure per day otherwise).
    if (options.eventIds === true) {
      const date = formatDate(day);
      this.#pending.push({ type: 'completion', id: `day:${date}:completion:${product}`, at: day, knownAt: day, product, qty: units });
      this.#pending.push({ type: 'sale', id: `day:${date}:sale:${product}`, at: day, knownAt: day, product, qty: units });
    } else {
      this.#pending.push({ type: 'completion', at: day, knownAt: day, product, qty: units });
      this.#pending.push({ type: 'sale', at: day, knownAt: day, product, qty: units });
    }
    this.#monthUnits = this.#monthUnits.plus(this.#unitsFixed);
    this.#unitsProduced = this.#unitsProduced.plus(this.#unitsFixed);
    this.#unitsProducedDecimal = undefined;
  }

  /** A line's need above its stock: the shortfall bought at the market price plus the emergency premium, and on hand brought up to the need. */
  #stockout(day: EpochMs, slot: MaterialSlot, use: LineUse): void {
    const options = this.#options;
    const product = options.product;
    const shortfall = (use.need ??= use.needFixed.toDecimal()).minus(onHandOf(slot));
    const premium = (options.emergencyPremium ?? ZERO).plus(1);
    const price = roundMoney(this.marketUnitPrice(slot.setup.id).times(premium), 6);
    const cost = shortfall.times(price);
    this.#pending.push({ type: 'purchase', ...this.#id(() => `day:${formatDate(day)}:emergency:${slot.setup.id}:${product}`), at: day, knownAt: day, material: slot.setup.id, qty: shortfall, unitPrice: price, paidFrom: 'accounts_payable', reason: 'emergency', ref: `stockout-${formatDate(day)}-${slot.setup.id}` });
    this.stockouts.push({ at: day, material: slot.setup.id, qty: shortfall, emergencyCost: cost });
    slot.book.stockouts += 1;
    slot.book.emergencyQty = slot.book.emergencyQty.plus(shortfall);
    slot.book.emergencySpend = slot.book.emergencySpend.plus(cost);
    slot.onHandFixed = use.needFixed;
  }

  /**
   * True when the strip's mark (the sum of #unrealized over its open contracts) is certainly
   * positive, judged in doubles: then no financing accrues and the exact mark is not needed
   * (most of its cost is building each contract's Decimal price). The sum s of q x (p - a) in
   * doubles is within (n + 4) x 2^-53 x B of the exact value, B = sum of |q| x (|p| + |a|),
   * for n contracts (each input within half an ulp, each operation one rounding; decimal.js's
   * 40 digits are far finer). s > 1e-9 x B is thus far outside the error: the exact mark is
   * positive. Anything closer, negative or not finite goes to the exact sum. With no open
   * contract the mark is zero: true as well (no financing accrues).
   */
  #markClearlyPositive(slot: MaterialSlot, strip: HedgeStrip): boolean {
    const factor = numberOf(slot.setup.hedge!.factor);
    let sum = 0;
    let bound = 0;
    let open = 0;
    const { instruments, months } = contractListOf(slot);
    for (let k = 0; k < instruments.length; k += 1) {
      // A flat contract adds nothing.
      const figures = this.#openFigures(slot, instruments[k]!);
      if (figures === undefined) continue;
      const month = months[k]!;
      open += 1;
      const q = figures.q;
      const a = figures.a;
      const p = contractPriceOf(slot, month, strip.price(month), slot.setup.hedge!.factor).quoted * factor;
      sum += q * (p - a);
      bound += Math.abs(q) * (Math.abs(p) + Math.abs(a));
    }
    // No open contract: the exact mark is zero, not negative (the strategy holds no hedge).
    if (open === 0) {
      slot.flatFills = this.#hedgeFills;
      slot.flatFirst = slot.registeredFirst;
      slot.flatSize = slot.contracts.size;
      return true;
    }
    return sum > 1e-9 * bound;
  }

  /**
   * The figures of a hedge instrument's position (see ContractFigures): the position is asked
   * for again only after a fill (a day reads each contract's figures up to five times: the
   * financing's screen and mark, the daily record's and the daily costs' P&L, the realised
   * result), and the figures worked out again only when a fill has replaced it. A contract that
   * never traded keeps a record too (the tracker makes a new flat position each time it is asked).
   */
  #figures(slot: MaterialSlot, instrument: string): ContractFigures {
    const fills = this.#hedgeFills;
    let figures = slot.figures.get(instrument);
    if (figures !== undefined && figures.fills === fills) return figures;
    const position = this.pipeline.positions.get(instrument);
    if (figures !== undefined && figures.position === position) {
      figures.fills = fills;
      return figures;
    }
    const traded = !(position.boughtQty.isZero() && position.soldQty.isZero());
    const result = traded ? numberOf(position.realizedPnl) - numberOf(position.fees) : 0;
    const open = traded && !position.qty.isZero();
    const q = open ? numberOf(position.qty) : Number.NaN;
    const a = open ? numberOf(position.avgPrice) : Number.NaN;
    if (figures === undefined) {
      if (slot.figures.size > 64) slot.figures.clear();
      figures = { position, fills, traded, result, open, q, a, exact: undefined, quoted: Number.NaN, pnl: X_ZERO };
      slot.figures.set(instrument, figures);
    } else {
      figures.position = position;
      figures.fills = fills;
      figures.traded = traded;
      figures.result = result;
      figures.open = open;
      figures.q = q;
      figures.a = a;
      figures.exact = undefined;
      figures.quoted = Number.NaN;
    }
    return figures;
  }

  /** The open position's figures, undefined when flat. */
  #openFigures(slot: MaterialSlot, instrument: string): ContractFigures | undefined {
    const figures = this.#figures(slot, instrument);
    return figures.open ? figures : undefined;
  }

  /**
   * The strip's mark: the sum over its open contracts of positions.unrealizedPnl at each
   * contract's price, (price - average) x quantity, added up from zero in the contracts' order.
   * Computed with exact40's arithmetic (decimal.js's, digit for digit, on BigInt coefficients:
   * the same operations in the same order give the same value, without a Decimal per step),
   * each contract's result kept while its position and quoted price stand. Under a Decimal
   * configuration exact40 does not reproduce, or at a price that is not finite, the Decimal
   * operations themselves. Returned only when negative (the financing reads nothing else).
   */
  #negativeMark(slot: MaterialSlot, strip: HedgeStrip): Decimal | X | undefined {
    const factor = slot.setup.hedge!.factor;
    const { instruments, months } = contractListOf(slot);
    const n = instruments.length;
    if (exactArithmetic()) {
      let mark = X_ZERO;
      let k = 0;
      for (; k < n; k += 1) {
        const month = months[k]!;
        const quoted = strip.price(month);
        // A price that is not finite (any contract's, open or flat) sends the whole mark to the Decimal operations.
        if (!Number.isFinite(quoted)) break;
        const figures = this.#openFigures(slot, instruments[k]!);
        if (figures === undefined) continue;
        const price = contractPriceOf(slot, month, quoted, factor);
        if (!Object.is(figures.quoted, price.quoted)) {
          const exact = (figures.exact ??= { qty: fromDecimal(figures.position.qty), avgPrice: fromDecimal(figures.position.avgPrice) });
          figures.pnl = times(minus(price.unitExact, exact.avgPrice), exact.qty);
          figures.quoted = price.quoted;
        }
        mark = plus(mark, figures.pnl);
      }
      if (k === n) return sign(mark) < 0 ? mark : undefined;
    }
    let mark = ZERO;
    for (let k = 0; k < n; k += 1) {
      const instrument = instruments[k]!;
      if (this.#openFigures(slot, instrument) === undefined) continue;
      const month = months[k]!;
      mark = mark.plus(this.pipeline.positions.unrealizedPnl(instrument, contractPriceOf(slot, month, strip.price(month), factor).unit));
    }
    return mark.isNegative() ? mark : undefined;
  }

  /**
   * A BOM line's consumption for `units` of product, units x qty x (1 + scrap), and its value
   * at a standard cost: the same figures every day the plan makes the same quantity, so they
   * are kept per line and recomputed when the quantity (by value) or the standard cost changes.
   */
  #lineUse(line: BomLine, units: Decimal, unitsFixed: Fixed): LineUse {
    let use = this.#lineUses.get(line);
    if (use === undefined) {
      const qtyFixed = Fixed.from(line.qty);
      const scrapFactor = Fixed.from(line.scrap.plus(1));
      use = { units, need: undefined, needFixed: lineNeed(unitsFixed, qtyFixed, scrapFactor), qtyFixed, scrapFactor, standard: undefined, standardValue: undefined, standardFixed: Fixed.ZERO, standardFixedOf: undefined };
      if (this.#lineUses.size > 64) this.#lineUses.clear();
      this.#lineUses.set(line, use);
    } else if (!sameValue(use.units, units)) {
      use.units = units;
      use.need = undefined;
      use.needFixed = lineNeed(unitsFixed, use.qtyFixed, use.scrapFactor);
      use.standard = undefined;
      use.standardValue = undefined;
    }
    return use;
  }

  readonly #lineUses = new Map<BomLine, LineUse>();

  #flush(): void {
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = objectArray();
    this.ledger.post(events);
  }

  /** The material slot an instrument belongs to (a strip contract `<family>:<month>` maps through its family). */
  #slotOf(instrument: string): MaterialSlot {
    const direct = this.#byInstrument.get(instrument);
    if (direct !== undefined) return direct;
    const colon = instrument.lastIndexOf(':');
    const slot = colon > 0 ? this.#byInstrument.get(instrument.slice(0, colon)) : undefined;
    if (slot === undefined || slot.setup.hedge?.strip === undefined) throw new Error(`internal: no instrument ${instrument} on this desk`);
    return slot;
  }

  #isHedge(slot: MaterialSlot, instrument: string): boolean {
    return slot.setup.hedge !== undefined && instrument !== slot.setup.id;
  }

  /**
   * Books a fill once: the quantity the account actually received or gave up (`baseMoved`: a
   * commission taken in the base asset never arrives), and the whole fee, valued in the quote
   * currency, as `fee`. The purchase then costs received x price + fee = what was paid.
   */
  #onFill(instrument: string, side: 'buy' | 'sell', orderAt: EpochMs, clientOrderId: string, fill: Pick<Fill, 'at' | 'qty' | 'price' | 'fee' | 'feeBase' | 'tradeId'>, intent: Intent): void {
    const slot = this.#slotOf(instrument);
    const moved = baseMoved(side, fill);
    this.trades.push({ at: fill.at, instrument, material: slot.setup.id, side, qty: moved, price: fill.price, fee: fill.fee, reason: intent.reason, discretionary: intent.discretionary === true, clientOrderId });
    const at = this.#postAt;
    // The event id, only when the desk runs with eventIds (see #id). Each record is one literal,
    // with the id in the place a spread of it would take (no spread of an empty object per fill).
    const id = this.#options.eventIds === true ? `fill:${instrument}:${fill.tradeId}` : undefined;
    if (this.#isHedge(slot, instrument)) {
      const qty = side === 'buy' ? moved : moved.negated();
      this.#pending.push(
        id === undefined
          ? { type: 'hedge', at, knownAt: at, instrument, qty, price: fill.price, fee: fill.fee, ref: clientOrderId, reason: intent.reason }
          : { type: 'hedge', id, at, knownAt: at, instrument, qty, price: fill.price, fee: fill.fee, ref: clientOrderId, reason: intent.reason },
      );
      return;
    }
    // The book's sums in Fixed (see MaterialSlot.purchased): three Decimal sums and a product per fill were 1.5 KB of garbage.
    const movedFixed = Fixed.from(moved);
    slot.purchased = slot.purchased.plus(movedFixed);
    slot.purchasedDecimal = undefined;
    slot.spend = slot.spend.plus(movedFixed.times(Fixed.from(fill.price)));
    slot.spendDecimal = undefined;
    slot.fees = slot.fees.plus(Fixed.from(fill.fee));
    slot.feesDecimal = undefined;
    // Lead time runs from the order, not the fill; goods never arrive before the fill is known.
    const due = Math.max(at, startOfDay(orderAt) + slot.setup.leadTimeDays * DAY_MS);
    const material = slot.setup.id;
    this.#state.addDelivery(
      id === undefined
        ? { material, due, qty: moved, price: fill.price, fee: fill.fee, ref: clientOrderId, reason: intent.reason, orderedAt: orderAt }
        : { material, due, qty: moved, price: fill.price, fee: fill.fee, ref: clientOrderId, reason: intent.reason, orderedAt: orderAt, id },
    );
  }

  #context(slot: MaterialSlot, snapshot: CostSnapshot, at: EpochMs, fired: boolean, price: Decimal): StrategyContext {
    const options = this.#options;
    const m = snapshot.materials[slot.setup.id]!;
    const signal: SignalView = {
      state: slot.state === -1 ? undefined : slot.state,
      crossing: slot.pendingCrossing,
      fast: slot.fast,
      slow: slot.slow,
      barAt: slot.barAt,
      fastAgo: slot.fastAgo,
      track: slot.track === undefined ? undefined : { trials: slot.track.trials, hits: slot.track.hits, trendBars: slot.track.trendBars, horizonBars: slot.track.horizonBars, meanRiseAfterUp: slot.track.trials === 0 ? 0 : slot.track.riseSum / slot.track.trials },
    };
    const inventory = new SnapshotInventory(m, slot.setup.leadTimeDays, snapshot.horizonDays);
    const cost = new SnapshotCost(m, snapshot, options.product, price, this.#productStandard, this.#priceCaps.get(slot.setup.id), slot.costs);
    // Built when read: only hedging strategies read it (it priced and sized every contract of the strip each day).
    const hedge = this.#hedgeView(slot, inventory, at);
    let daysToNext: number | undefined;
    if (fired && options.schedule !== undefined) {
      const next = options.schedule.firstFiringIn(at, at + 400 * DAY_MS);
      daysToNext = next === undefined ? undefined : Math.max(1, Math.ceil((next - at) / DAY_MS));
    }
    return new DeskContext(at, slot.setup.id, slot.close, signal, inventory, cost, hedge, fired, daysToNext);
  }

  /**
   * What a strategy sees of the material's hedge, built on the first read and kept (the desk
   * changes nothing it reads while the strategy decides; a hedge intent reads it before any
   * order goes out), and the strip's contracts as a rule reads them (numbers). Both come from
   * one walk of the strip (#walkStrip), made on the first read of either. The strip's tradeable
   * contracts are registered now, read or not: roll-offs, marks and financing go by them.
   */
  #hedgeView(slot: MaterialSlot, inventory: InventoryView, at: EpochMs): DeskHedge {
    // No hedge: nothing to build (no closures per day).
    if (slot.setup.hedge === undefined) return NO_HEDGE;
    const strip = slot.setup.hedge.strip;
    if (strip !== undefined) {
      // The tradeable months are `months` of them from the first; registered again only when the
      // first moved or a contract was dropped since (roll-offs).
      const day = startOfDay(at);
      const first = strip.firstMonthOn(day);
      if (first !== slot.registeredFirst || slot.contracts.size !== slot.registeredSize) {
        for (const month of strip.monthsOn(day)) {
          const instrument = strip.instrumentFor(month);
          if (!slot.contracts.has(instrument)) addContract(slot, instrument, month);
        }
        slot.registeredFirst = first;
        slot.registeredSize = slot.contracts.size;
      }
    }
    return new HedgeReads(slot, slot.hedgeBuilders!, inventory, at);
  }

  #buildHedgeView(slot: MaterialSlot, inventory: InventoryView, at: EpochMs, reads: HedgeReads): HedgeView | undefined {
    const hedge = slot.setup.hedge;
    if (hedge === undefined) return undefined;
    const positions = this.pipeline.positions;
    const strip = hedge.strip;
    if (strip === undefined) {
      const position = positions.qty(hedge.instrument);
      const price = this.hedgeUnitPrice(slot.setup.id);
      const contract: HedgeContractView = { instrument: hedge.instrument, month: undefined, monthsAhead: undefined, position, price, exposureQty: inventory.exposureQty.plus(inventory.hedged) };
      return { instrument: hedge.instrument, position, lastPrice: toNumberExact(price), contracts: [contract] };
    }
    // The positions now (a later fill replaces them, not changes them); summed when someone reads the view's position.
    const held: Decimal[] = [];
    const instruments = contractListOf(slot).instruments;
    for (let k = 0; k < instruments.length; k += 1) {
      const qty = positions.qty(instruments[k]!);
      if (!qty.isZero()) held.push(qty);
    }
    const walk = reads.walk();
    const n = walk.instruments.length;
    const contracts: HedgeContractView[] = [];
    for (let k = 0; k < n; k += 1) {
      const month = walk.months[k]!;
      contracts.push(new StripContractView(walk.instruments[k]!, monthLabel(month), month - walk.current, walk.positions[k]!, walk.exposures[k]!.toDecimal(), walk.prices[k]!, walk.quoted[k]!, hedge.factor));
    }
    // The total position and the nearest contract's price are built only when read (by a cause or a test).
    return new StripHedgeView(hedge.instrument, held, contracts);
  }

  /**
   * The strip's tradeable contracts at `at`, nearest first, each with its position and its
   * exposure: the forecast consumption of its month that stock on hand and on order do not
   * cover (the cover goes to the earliest months first), plus, for the month in progress, the
   * part already consumed. In Fixed: the same operations as the Decimal code they replace, each
   * exact when its figures are short (as decimal.js's is, under 40 digits), else decimal.js's own
   * inside Fixed, so every exposure has the value the Decimal code gave it.
   */
  #walkStrip(slot: MaterialSlot, inventory: InventoryView, at: EpochMs): StripWalk {
    const hedge = slot.setup.hedge!;
    const strip = hedge.strip!;
    const positions = this.pipeline.positions;
    const today = startOfDay(at);
    const current = monthOf(today);
    // Stock on hand and on order covers the earliest consumption first.
    let cover = Fixed.from(inventory.onHand).plus(Fixed.from(inventory.onOrder));
    const layout = this.#stripLayoutOn(slot, strip, today, current);
    const months = layout.months;
    const n = months.length;
    const walk: StripWalk = { current, instruments: layout.instruments as string[], months: months as MonthIndex[], positions: new Array<Decimal>(n), exposures: new Array<Fixed>(n), prices: new Array<ContractPrice>(n), quoted: new Array<number>(n) };
    let coverMonth = current;
    for (let k = 0; k < n; k += 1) {
      const month = months[k]!;
      // Consumption of the months before this one (not hedged by any tradeable contract) uses up cover first.
      if (coverMonth < month) cover = this.#coverBefore(slot, layout, cover, coverMonth, month, today, inventory);
      // A contract settles on (or tracks) its whole month: the part of the month in progress already consumed stays exposed.
      const need = this.#tradeableNeed(slot, layout, k, today, inventory);
      const past = month === current ? this.#pastNeed(slot, layout, k, need, inventory) : Fixed.ZERO;
      walk.exposures[k] = exposureOf(cover, need, past);
      cover = coverAfter(cover, need);
      coverMonth = month + 1;
      const price = contractPriceOf(slot, month, strip.price(month), hedge.factor);
      walk.positions[k] = positions.qty(layout.instruments[k]!);
      walk.prices[k] = price;
      walk.quoted[k] = price.quoted;
    }
    return walk;
  }

  /**
   * The strip's tradeable months at `today`, with their instruments and month needs: the
   * slot's layout, laid out again (#layOutStrip) only when the first month or the month in
   * progress moved. #walkStrip's steps are short methods of their own so that V8 optimises
   * each early in a fresh process: in one long method, the rare branches (a new layout, the
   * months before the first tradeable one) kept changing its feedback and delayed it.
   */
  #stripLayoutOn(slot: MaterialSlot, strip: HedgeStrip, today: EpochMs, current: MonthIndex): StripLayout {
    const tradeable = strip.monthsOn(today);
    const layout = slot.stripLayout;
    if (layout !== undefined && layout.first === tradeable[0] && layout.current === current) return layout;
    return this.#layOutStrip(slot, strip, tradeable, current);
  }

  #layOutStrip(slot: MaterialSlot, strip: HedgeStrip, tradeable: readonly MonthIndex[], current: MonthIndex): StripLayout {
    const instruments: string[] = [];
    for (const month of tradeable) {
      const instrument = strip.instrumentFor(month);
      if (!slot.contracts.has(instrument)) addContract(slot, instrument, month);
      instruments.push(instrument);
    }
    const layout: StripLayout = { first: tradeable[0]!, current, instruments, months: tradeable.slice(), needs: tradeable.map(() => undefined), before: [] };
    slot.stripLayout = layout;
    return layout;
  }

  /** The cover left after the consumption of the months from `from` to before `to` (not hedged by any tradeable contract). */
  #coverBefore(slot: MaterialSlot, layout: StripLayout, cover: Fixed, from: MonthIndex, to: MonthIndex, today: EpochMs, inventory: InventoryView): Fixed {
    const plan = this.#options.plan;
    for (let coverMonth = from; coverMonth < to; coverMonth += 1) {
      const before = plan === undefined ? this.#needFrom(slot, coverMonth, today, inventory) : needOf((layout.before[coverMonth - layout.current] ??= slot.monthNeeds.get(coverMonth) ?? this.#monthNeeds(slot, coverMonth, plan)), today);
      cover = coverAfter(cover, before);
    }
    return cover;
  }

  /** The forecast need of the layout's k-th month from `today` on. A tradeable month is never over (month >= current): its needs are worked out and kept in the layout (#needFrom's lookup, once a layout). */
  #tradeableNeed(slot: MaterialSlot, layout: StripLayout, k: number, today: EpochMs, inventory: InventoryView): Fixed {
    const plan = this.#options.plan;
    if (plan === undefined) return this.#needFrom(slot, layout.months[k]!, today, inventory);
    const month = layout.months[k]!;
    return needOf((layout.needs[k] ??= slot.monthNeeds.get(month) ?? this.#monthNeeds(slot, month, plan)), today);
  }

  /** The need of the layout's k-th month (the month in progress) before today: its whole need less `need`, its need from today on. */
  #pastNeed(slot: MaterialSlot, layout: StripLayout, k: number, need: Fixed, inventory: InventoryView): Fixed {
    const month = layout.months[k]!;
    if (this.#options.plan === undefined) return this.#needFrom(slot, month, monthStart(month), inventory).minus(need);
    const needs = layout.needs[k]!;
    return needOf(needs, needs.start).minus(need);
  }

  /** Forecast consumption of `material` in `month` from `today` on (the plan x BOM, or the daily mean without a plan). */
  #needFrom(slot: MaterialSlot, month: number, today: EpochMs, inventory: InventoryView): Fixed {
    const plan = this.#options.plan;
    if (plan === undefined) {
      const end = monthStart(month + 1);
      const from = Math.max(monthStart(month), today);
      return from >= end ? Fixed.ZERO : Fixed.from(inventory.dailyConsumption.times(Math.round((end - from) / DAY_MS)));
    }
    // The month's bounds are kept with its sums (one lookup per call, not three).
    let needs = slot.monthNeeds.get(month);
    if (needs === undefined) {
      // A month already over is not worked out (nor kept).
      if (Math.max(monthStart(month), today) >= monthStart(month + 1)) return Fixed.ZERO;
      needs = this.#monthNeeds(slot, month, plan);
    }
    return needOf(needs, today);
  }

  /**
   * The month's forecast need by day (suffix sums: days[k] = the need from day k to the month's
   * end), kept in the slot (48 months at most). units x qty x (1 + scrap) and the sums in Fixed,
   * each value the one decimal.js's operations gave (see #walkStrip).
   */
  #monthNeeds(slot: MaterialSlot, month: number, plan: ProductionPlan): MonthNeeds {
    const start = monthStart(month);
    const end = monthStart(month + 1);
    const daily: Fixed[] = [];
    const product = this.#options.product;
    const material = slot.setup.id;
    for (let day = start; day < end; day += DAY_MS) {
      let need = Fixed.ZERO;
      const units = plan.qtyOn(product, day);
      if (positiveUnits(units)) {
        const lines = this.#options.plant.bomAt(product, day).lines;
        let k = 0;
        while (k < lines.length && lines[k]!.material !== material) k += 1;
        if (k < lines.length) {
          const factors = this.#lineFactors(lines[k]!);
          need = lineNeed(Fixed.from(units), factors.qty, factors.scrapFactor);
        }
      }
      daily.push(need);
    }
    const days = new Array<Fixed>(daily.length + 1);
    days[daily.length] = Fixed.ZERO;
    for (let k = daily.length - 1; k >= 0; k -= 1) days[k] = days[k + 1]!.plus(daily[k]!);
    const needs: MonthNeeds = { start, end, days };
    slot.monthNeeds.set(month, needs);
    if (slot.monthNeeds.size > 48) slot.monthNeeds.delete(slot.monthNeeds.keys().next().value!);
    return needs;
  }

  /** A BOM line's qty and 1 + scrap as Fixed, read once per line (the month needs ask for them every day of a month). */
  #lineFactors(line: BomLine): { readonly qty: Fixed; readonly scrapFactor: Fixed } {
    let factors = this.#lineFactorsOf.get(line);
    if (factors === undefined) {
      factors = { qty: Fixed.from(line.qty), scrapFactor: Fixed.from(line.scrap.plus(1)) };
      if (this.#lineFactorsOf.size > 64) this.#lineFactorsOf.clear();
      this.#lineFactorsOf.set(line, factors);
    }
    return factors;
  }

  readonly #lineFactorsOf = new Map<BomLine, { readonly qty: Fixed; readonly scrapFactor: Fixed }>();

  /** Whether some strip contract's roll-off time has come (what #rollOff acts on). */
  #rollOffDue(today: EpochMs): boolean {
    for (const slot of this.#slots) {
      const strip = slot.setup.hedge?.strip;
      if (strip === undefined) continue;
      const months = contractListOf(slot).months;
      for (let k = 0; k < months.length; k += 1) if (strip.rollsOffAt(months[k]!) <= today) return true;
    }
    return false;
  }

  /**
   * Rolls off the strip contracts whose time has come: working orders on them are cancelled,
   * futures are closed at the last known price (fees as for any order), swaps settle in cash
   * at the month's average (no fee). Posted as hedge trades with reason `roll-off`.
   */
  async #rollOff(today: EpochMs): Promise<void> {
    for (const slot of this.#slots) {
      const hedge = slot.setup.hedge;
      const strip = hedge?.strip;
      if (strip === undefined) continue;
      // The contracts as they stand now (a drop below makes a new list; nothing is added meanwhile), by index: no entry array per contract.
      const { instruments, months } = contractListOf(slot);
      for (let k = 0; k < instruments.length; k += 1) {
        const instrument = instruments[k]!;
        if (strip.rollsOffAt(months[k]!) > today) continue;
        if (this.pipeline.openOrderCount > 0) {
          for (const order of this.pipeline.openOrders()) if (order.request.instrument === instrument) await this.pipeline.cancel(order.request.clientOrderId);
        }
        this.#closeContract(slot, strip, instrument, today);
      }
    }
    this.#flush();
  }

  /**
   * A rolled-off contract closed: its position at the contract's price (fees as for any order,
   * for futures), the trade and the hedge event, then #dropContract. A method of its own, not
   * part of the async #rollOff: V8 compiled that generator with all of this inlined twice in
   * the main job (about 46 ms of the optimising compiler's thread).
   */
  #closeContract(slot: MaterialSlot, strip: HedgeStrip, instrument: string, today: EpochMs): void {
    const qty = this.pipeline.positions.qty(instrument);
    if (qty.isZero()) {
      this.#dropContract(slot, instrument);
      return;
    }
    const price = roundMoney(this.contractUnitPrice(slot.setup.id, instrument), 6);
    const abs = qty.abs();
    const costs = this.#options.orderCosts;
    const fee = strip.setup.kind === 'futures' && costs !== undefined ? roundMoney(abs.times(price).abs().times(costs.feeRate).plus(costs.fixed), this.#options.plant.moneyPlaces) : ZERO;
    const side = qty.isPositive() ? 'sell' : 'buy';
    this.pipeline.positions.applyFill(instrument, side, { qty: abs, price, fee });
    const ref = `roll-off:${instrument}:${formatDate(today)}`;
    this.trades.push({ at: today, instrument, material: slot.setup.id, side, qty: abs, price, fee, reason: 'roll-off', discretionary: false, clientOrderId: ref });
    this.#pending.push({ type: 'hedge', ...this.#id(() => ref), at: today, knownAt: today, instrument, qty: qty.negated(), price, fee, ref, reason: strip.setup.kind === 'swap' ? 'swap settled at the month average' : 'futures closed before expiry' });
    this.#dropContract(slot, instrument);
  }

  /** Moves a rolled-off contract's realised result into the material's closed total and forgets it. */
  #dropContract(slot: MaterialSlot, instrument: string): void {
    const position = this.pipeline.positions.get(instrument);
    slot.closedHedgePnl = slot.closedHedgePnl.plus(position.realizedPnl).minus(position.fees);
    slot.closedHedgeFees = slot.closedHedgeFees.plus(position.fees);
    slot.contracts.delete(instrument);
    slot.contractList = undefined;
    // A roll-off closes the position without a pipeline fill: its figures would outlive it (see #figures).
    slot.figures.delete(instrument);
  }

  /**
   * One decision, or one per child order when the order is above the per-order limit
   * (Pipeline.submitAllSoon): the decisions themselves while the venue answers at once (the
   * simulated venue), a promise only when it answers later; a throw is thrown.
   */
  #submit(intent: Intent, slot: MaterialSlot, context: StrategyContext): Decision[] | Promise<Decision[]> {
    const hedge = slot.setup.hedge;
    if (hedge !== undefined && intent.instrument !== slot.setup.id) {
      const contract = context.hedge?.contracts.find((c) => c.instrument === intent.instrument);
      if (hedge.strip !== undefined && contract === undefined) throw new Error(`internal: ${intent.strategy} sent a hedge intent on ${intent.instrument}, which is not tradeable on ${formatDate(context.at)}`);
      const price = contract?.price ?? this.hedgeUnitPrice(slot.setup.id);
      return this.pipeline.submitAllSoon(intent, {
        referencePrice: price,
        lastPrice: price,
        priceCap: undefined,
        exposure: hedge.strip === undefined ? context.inventory.exposureQty.plus(context.inventory.hedged) : contract!.exposureQty,
        hedgePosition: this.pipeline.positions.qty(intent.instrument),
      });
    }
    // The same five keys as a hedge's context: the pipeline's reads of it then see one shape (two deoptimized its #submit once per run).
    const capped = intent.side === 'buy' && intent.discretionary === true;
    const price = context.cost.marketUnitPrice;
    return this.pipeline.submitAllSoon(intent, { referencePrice: price, lastPrice: price, priceCap: capped ? context.cost.priceCap : undefined, exposure: undefined, hedgePosition: undefined });
  }
}

/** slot.onHandFixed := onHand as Fixed, made again only when onHand is another Decimal (undefined: onHandFixed is the stock already). */
function refreshOnHandFixed(slot: MaterialSlot): void {
  const onHand = slot.onHand;
  if (onHand !== undefined && slot.onHandFixedOf !== onHand) {
    slot.onHandFixed = Fixed.from(onHand);
    slot.onHandFixedOf = onHand;
  }
}

/** Sets the stock on hand in Fixed (a delivery, a day's production); its Decimal is built when read (onHandOf). */
function setOnHandFixed(slot: MaterialSlot, onHand: Fixed): void {
  slot.onHandFixed = onHand;
  slot.onHand = undefined;
  slot.onHandFixedOf = undefined;
}

/** The stock on hand as a Decimal: slot.onHand, or onHandFixed's Decimal (the one the day's subtraction gave) built now and kept. */
function onHandOf(slot: MaterialSlot): Decimal {
  let onHand = slot.onHand;
  if (onHand === undefined) {
    onHand = slot.onHandFixed.toDecimal();
    slot.onHand = onHand;
    slot.onHandFixedOf = onHand;
  }
  return onHand;
}

/**
 * A running sum a backtest adds to every day (book.carrying, book.hedgeFinancing). While exact
 * arithmetic applies (exact40's configuration, a finite sum) the terms are added in exact40,
 * decimal.js's operations digit for digit on BigInt coefficients, and the Decimal is built only
 * when read; otherwise in decimal.js. `number` is the sum's toNumber, worked out once per value.
 */
class ExactAccrual {
  #x: X | undefined;
  #decimal: Decimal = ZERO;
  #stale = false;
  #number = 0;
  #numberOf: X | undefined;
  /** Whether the next term may be added in exact40 (addExact). */
  exact(): boolean {
    return exactArithmetic() && (this.#x !== undefined || this.#decimal.isFinite());
  }
  /** Adds an exact40 term (only when exact() says so). */
  addExact(term: X): void {
    this.#x = plus(this.#x ?? fromDecimal(this.#decimal), term);
    this.#stale = true;
  }
  /** Adds a Decimal term in decimal.js; the exact40 sum, if any, becomes its Decimal first. */
  addDecimal(term: Decimal): void {
    const sum = this.decimal;
    this.#x = undefined;
    this.#decimal = sum.plus(term);
  }
  get decimal(): Decimal {
    if (this.#stale) {
      this.#decimal = toDecimal(this.#x!);
      this.#stale = false;
    }
    return this.#decimal;
  }
  /** toNumber of the sum, without building its Decimal. */
  get number(): number {
    const x = this.#x;
    if (x === undefined) return toNumberExact(this.#decimal);
    if (this.#numberOf !== x) {
      this.#number = numberOfScaled(x.c, x.e) ?? toDecimal(x).toNumber();
      this.#numberOf = x;
    }
    return this.#number;
  }
}

/**
 * units x qty x (1 + scrap) in Fixed: each product exact when it fits a safe integer (as
 * decimal.js's is, under 40 digits), else decimal.js's own times inside Fixed.
 */
function lineNeed(units: Fixed, qty: Fixed, scrapFactor: Fixed): Fixed {
  return units.times(qty).times(scrapFactor);
}

/**
 * a.equals(b) for the plan's quantities, without the Decimal equals builds for its argument:
 * decimal.js keeps one representation per finite nonzero value (base-1e7 words aligned on the
 * decimal point, no trailing zero words), so equal sign, exponent and words mean an equal value;
 * anything else (zeros, NaN, infinities, different words) goes to equals.
 */
function sameValue(a: Decimal, b: Decimal): boolean {
  if (a === b) return true;
  const x = a as unknown as { d: number[] | null; e: number; s: number };
  const y = b as unknown as { d: number[] | null; e: number; s: number };
  const xd = x.d;
  const yd = y.d;
  if (xd !== null && yd !== null && xd[0] !== 0 && yd[0] !== 0 && x.s === y.s && x.e === y.e && xd.length === yd.length) {
    for (let i = 0; i < xd.length; i += 1) if (xd[i] !== yd[i]) return false;
    return true;
  }
  return a.equals(b);
}

/** A month's forecast need from `today` on, from its sums by day. */
function needOf(needs: MonthNeeds, today: EpochMs): Fixed {
  const from = Math.max(needs.start, today);
  return from >= needs.end ? Fixed.ZERO : needs.days[Math.round((from - needs.start) / DAY_MS)]!;
}

/** What a strategy context reads of a material's hedge (see Desk.#hedgeView). */
interface DeskHedge {
  view(): HedgeView | undefined;
  /** The strip's contracts as a rule reads them; undefined without a strip (the rule's come from the view). */
  ruleContracts(): readonly RuleContract[] | undefined;
}

const NO_HEDGE: DeskHedge = { view: () => undefined, ruleContracts: () => undefined };

/** How a slot's hedge reads are built: the desk's own methods for that slot, bound once per run. */
interface HedgeBuilders {
  /** Whether the hedge is a strip (its rule contracts are then the desk's own). */
  readonly strip: boolean;
  walk(inventory: InventoryView, at: EpochMs): StripWalk;
  view(inventory: InventoryView, at: EpochMs, reads: HedgeReads): HedgeView | undefined;
}

/**
 * One decision point's reads of a hedged material (see Desk.#hedgeView): the hedge view and the
 * strip's rule contracts, each built on its first read from one walk of the strip, made on the
 * first read of either. One object per decision point (it was three closures, their shared
 * context and an object holding two of them).
 */
class HedgeReads implements DeskHedge {
  readonly #slot: MaterialSlot;
  readonly #builders: HedgeBuilders;
  readonly #inventory: InventoryView;
  readonly #at: EpochMs;
  #walk: StripWalk | undefined;
  #view: HedgeView | undefined;
  #built: boolean;
  #rules: readonly RuleContract[] | undefined;
  constructor(slot: MaterialSlot, builders: HedgeBuilders, inventory: InventoryView, at: EpochMs) {
    this.#slot = slot;
    this.#builders = builders;
    this.#inventory = inventory;
    this.#at = at;
    this.#walk = undefined;
    this.#view = undefined;
    this.#built = false;
    this.#rules = undefined;
  }
  /** The day's walk of the strip, made on the first read. */
  walk(): StripWalk {
    return (this.#walk ??= this.#builders.walk(this.#inventory, this.#at));
  }
  view(): HedgeView | undefined {
    if (!this.#built) {
      this.#view = this.#builders.view(this.#inventory, this.#at, this);
      this.#built = true;
    }
    return this.#view;
  }
  ruleContracts(): readonly RuleContract[] | undefined {
    if (!this.#builders.strip) return undefined;
    return (this.#rules ??= ruleContractsOf(this.#slot, this.walk(), this.#slot.setup.hedge!.factor));
  }
}

/** A contract's exposure: its month's need not covered by `cover` (never below 0), plus `past`, the part of the month already consumed. */
function exposureOf(cover: Fixed, need: Fixed, past: Fixed): Fixed {
  // Once the cover is used up (most months), max(0, need - 0) is need.
  if (cover.isZero() && !need.isNegative()) return past.isZero() ? need : past.plus(need);
  const open = need.minus(cover);
  return past.plus(open.isNegative() ? Fixed.ZERO : open);
}

/** max(0, cover - need): 0 again, without arithmetic, when the cover is already 0 and the need is not negative. */
function coverAfter(cover: Fixed, need: Fixed): Fixed {
  if (cover.isZero() && !need.isNegative()) return Fixed.ZERO;
  const left = cover.minus(need);
  return left.isNegative() ? Fixed.ZERO : left;
}

/** Whether some intent is on another instrument than `instrument` (decided.some(...) without a closure per decision point). */
function someOtherInstrument(decided: readonly Intent[], instrument: string): boolean {
  for (let k = 0; k < decided.length; k += 1) if (decided[k]!.instrument !== instrument) return true;
  return false;
}

/** A slot's strip contracts as arrays, in the order of its `contracts` Map (daily walks go through them by index: no iterator or entry per contract). */
interface ContractList {
  readonly instruments: readonly string[];
  readonly months: readonly number[];
}

/** slot.contracts as arrays, built again after a change. */
function contractListOf(slot: MaterialSlot): ContractList {
  return (slot.contractList ??= { instruments: [...slot.contracts.keys()], months: [...slot.contracts.values()] });
}

/** Registers a strip contract (the Map and its arrays change together). */
function addContract(slot: MaterialSlot, instrument: string, month: number): void {
  slot.contracts.set(instrument, month);
  slot.contractList = undefined;
}

/** `price` (quoted) x `factor` as a Decimal, remembered per slot (at most a few hundred prices kept). */
function hedgeUnitPriceOf(slot: MaterialSlot, price: number, factor: Decimal): Decimal {
  let value = slot.hedgePrices.get(price);
  if (value === undefined) {
    if (slot.hedgePrices.size >= 256) slot.hedgePrices.clear();
    value = unitPriceOf(price, factor);
    slot.hedgePrices.set(price, value);
  }
  return value;
}

/**
 * A strip contract's price per material unit: the quoted price it stands on, and `unit` =
 * quoted x factor as a Decimal, built when first read (most days nobody reads most contracts'
 * prices: a ratio rule reads positions and exposures, the financing screen numbers) and kept
 * while the quoted price stands; `unitNumber` is numberOf(unit), kept the same way.
 */
class ContractPrice {
  #quoted: number;
  readonly #factor: Decimal;
  #unit: Decimal | undefined;
  #unitExact: X | undefined;
  #unitNumber: number | undefined;
  constructor(quoted: number, factor: Decimal) {
    this.#quoted = quoted;
    this.#factor = factor;
  }
  get quoted(): number {
    return this.#quoted;
  }
  /** A new quoted price: the unit price is built again when next read. */
  requote(quoted: number): void {
    this.#quoted = quoted;
    this.#unit = undefined;
    this.#unitExact = undefined;
    this.#unitNumber = undefined;
  }
  get unit(): Decimal {
    return (this.#unit ??= unitPriceOf(this.#quoted, this.#factor));
  }
  /**
   * unit's exact value in exact40's form, from the quoted price's text without building the
   * Decimal (a finite price: #negativeMark checks), times the factor as decimal.js multiplies.
   */
  get unitExact(): X {
    if (this.#unitExact === undefined) {
      const quoted = exactOfNumber(this.#quoted)!;
      this.#unitExact = isOne(this.#factor) ? quoted : times(quoted, exactFactor(this.#factor));
    }
    return this.#unitExact;
  }
  /**
   * numberOf(unit). With a factor of 1 that is the quoted price itself, without building the
   * Decimal: unit is then the exact value of String(quoted), the shortest text that reads back
   * as quoted, and toNumber returns the double nearest that value, which is quoted (not for -0,
   * whose text is "0", nor for values that are not finite: those convert through the Decimal).
   */
  get unitNumber(): number {
    if (this.#unitNumber === undefined) {
      const q = this.#quoted;
      this.#unitNumber = isOne(this.#factor) && Number.isFinite(q) && !Object.is(q, -0) ? q : numberOf(this.unit);
    }
    return this.#unitNumber;
  }
}

/** `quoted` x `factor` as a Decimal (quoted as its shortest text; times 1 is skipped: at most 17 digits, the product is the same value). */
function unitPriceOf(quoted: number, factor: Decimal): Decimal {
  const price = decimalOfNumber(Decimal, quoted);
  return isOne(factor) ? price : price.times(factor);
}

/** A factor in exact40's form, remembered per factor (a scenario has a few). */
const exactFactors = new WeakMap<Decimal, X>();
function exactFactor(factor: Decimal): X {
  let exact = exactFactors.get(factor);
  if (exact === undefined) {
    exact = fromDecimal(factor);
    exactFactors.set(factor, exact);
  }
  return exact;
}

const ONE_FACTOR = new Decimal(1);
/** factor = 1, remembered per factor (a scenario has a few). */
const factorIsOne = new WeakMap<Decimal, boolean>();
function isOne(factor: Decimal): boolean {
  let one = factorIsOne.get(factor);
  if (one === undefined) {
    one = factor.equals(ONE_FACTOR);
    factorIsOne.set(factor, one);
  }
  return one;
}

/**
 * The ContractPrice of `month`'s contract at the quoted `price`, kept per contract (a day asks
 * for each contract's price several times: hedge view, financing, marks, daily figures; the
 * same unit Decimal also lets #unrealized reuse its result while the quoted price stands).
 */
function contractPriceOf(slot: MaterialSlot, month: number, price: number, factor: Decimal): ContractPrice {
  const entry = slot.contractPrices.get(month);
  if (entry === undefined) return newContractPrice(slot, month, price, factor);
  if (!Object.is(entry.quoted, price)) entry.requote(price);
  return entry;
}

/**
 * A new month's ContractPrice, kept (the kept ones cleared first past 64). A function of its
 * own, called about once a month, which V8 leaves out of the optimised callers: inlined, its
 * clearing (first met years into a run) deoptimised #walkStrip.
 */
function newContractPrice(slot: MaterialSlot, month: number, price: number, factor: Decimal): ContractPrice {
  if (slot.contractPrices.size >= 64) slot.contractPrices.clear();
  const entry = new ContractPrice(price, factor);
  slot.contractPrices.set(month, entry);
  return entry;
}

/**
 * The context the desk gives a strategy, one class for every decision (a literal with a
 * `get hedge()` made a new getter function per context, and V8 gave each context a hidden class
 * of its own: every strategy read of it missed its inline cache). `hedge` is built when first
 * read (see Desk.#hedgeView); toJSON gives the literal's JSON, `hedge` in its place.
 */
class DeskContext implements StrategyContext {
  readonly at: EpochMs;
  readonly material: string;
  readonly instrument: string;
  readonly lastPrice: number;
  readonly signal: SignalView;
  readonly inventory: InventoryView;
  readonly cost: CostView;
  readonly scheduleFired: boolean;
  readonly daysToNextSchedule: number | undefined;
  readonly #hedge: DeskHedge;
  constructor(at: EpochMs, material: string, lastPrice: number, signal: SignalView, inventory: InventoryView, cost: CostView, hedge: DeskHedge, scheduleFired: boolean, daysToNextSchedule: number | undefined) {
    this.at = at;
    this.material = material;
    this.instrument = material;
    this.lastPrice = lastPrice;
    this.signal = signal;
    this.inventory = inventory;
    this.cost = cost;
    this.scheduleFired = scheduleFired;
    this.daysToNextSchedule = daysToNextSchedule;
    this.#hedge = hedge;
  }
  get hedge(): HedgeView | undefined {
    return this.#hedge.view();
  }
  ruleContracts(): readonly RuleContract[] | undefined {
    return this.#hedge.ruleContracts();
  }
  toJSON(): unknown {
    return { at: this.at, material: this.material, instrument: this.instrument, lastPrice: this.lastPrice, signal: this.signal, inventory: this.inventory, cost: this.cost, hedge: this.hedge, scheduleFired: this.scheduleFired, daysToNextSchedule: this.daysToNextSchedule };
  }
}

/**
 * A strip walk's contracts as a rule reads them: the numbers ExactRuleContract would convert
 * from the hedge view's Decimals, without the view. The array and its objects are the slot's,
 * refilled at each decision point whose rule reads them (a dozen objects a day otherwise): a
 * rule must not keep its context's contracts past its decision (RuleContext), and nothing else
 * reads them (a strategy's causes read the hedge view, which is built from the walk itself).
 */
function ruleContractsOf(slot: MaterialSlot, walk: StripWalk, factor: Decimal): readonly RuleContract[] {
  const n = walk.instruments.length;
  const out = slot.ruleContracts;
  for (let k = 0; k < n; k += 1) {
    const month = walk.months[k]!;
    const contract = out[k];
    if (contract === undefined) out.push(new StripRuleContract(month, month - walk.current, walk.positions[k]!, walk.exposures[k]!, walk.prices[k]!, walk.quoted[k]!, factor));
    else contract.reset(month, month - walk.current, walk.positions[k]!, walk.exposures[k]!, walk.prices[k]!, walk.quoted[k]!, factor);
  }
  if (out.length !== n) out.length = n;
  return out;
}

/**
 * One strip contract as a rule reads it (see RuleContract): the exposure straight from its
 * Fixed (numberOfFixed: the double nearest its value, which toNumberExact of its Decimal gives),
 * the position and the price converted from their Decimals when first read, as the hedge
 * view's would be (the price of the walk's quoted price); the year is the one monthLabel prints.
 */
class StripRuleContract implements RuleContract {
  // Every field is set by reset(), which the constructor calls (one place for both).
  monthsAhead!: number;
  exposureQty!: number;
  #month!: MonthIndex;
  #position!: Decimal;
  #entry!: ContractPrice;
  #quoted!: number;
  #factor!: Decimal;
  #positionNumber: number | undefined;
  #price: number | undefined;
  constructor(month: MonthIndex, monthsAhead: number, position: Decimal, exposure: Fixed, entry: ContractPrice, quoted: number, factor: Decimal) {
    this.reset(month, monthsAhead, position, exposure, entry, quoted, factor);
  }
  /** The same contract object for another walk (see ruleContractsOf). */
  reset(month: MonthIndex, monthsAhead: number, position: Decimal, exposure: Fixed, entry: ContractPrice, quoted: number, factor: Decimal): void {
    this.monthsAhead = monthsAhead;
    this.exposureQty = numberOfFixed(exposure);
    this.#month = month;
    // The same position (most contracts' from day to day: a fill replaces it) keeps its number.
    if (position !== this.#position) this.#positionNumber = undefined;
    this.#position = position;
    // The same quote of the same price entry keeps its number too (a new bar requotes the entry).
    if (entry !== this.#entry || !Object.is(quoted, this.#quoted) || factor !== this.#factor) this.#price = undefined;
    this.#entry = entry;
    this.#quoted = quoted;
    this.#factor = factor;
  }
  get year(): number {
    return Math.floor(this.#month / 12);
  }
  get position(): number {
    return (this.#positionNumber ??= toNumberExact(this.#position));
  }
  get price(): number {
    return (this.#price ??= toNumberExact(Object.is(this.#entry.quoted, this.#quoted) ? this.#entry.unit : unitPriceOf(this.#quoted, this.#factor)));
  }
}

/** A strip hedge's view (see Desk.#buildHedgeView): the total position and the nearest contract's price built when read; toJSON as a literal's. */
class StripHedgeView implements HedgeView {
  readonly instrument: string;
  readonly contracts: readonly HedgeContractView[];
  readonly #held: readonly Decimal[];
  #total: Decimal | undefined;
  constructor(instrument: string, held: readonly Decimal[], contracts: readonly HedgeContractView[]) {
    this.instrument = instrument;
    this.contracts = contracts;
    this.#held = held;
  }
  get position(): Decimal {
    if (this.#total === undefined) {
      // Adding a zero position leaves the sum as it is (most contracts are flat): those were left out.
      let total = ZERO;
      for (const qty of this.#held) total = total.plus(qty);
      this.#total = total;
    }
    return this.#total;
  }
  get lastPrice(): number {
    return this.contracts[0] === undefined ? Number.NaN : toNumberExact(this.contracts[0].price);
  }
  toJSON(): unknown {
    return { instrument: this.instrument, position: this.position, lastPrice: this.lastPrice, contracts: this.contracts };
  }
}

/**
 * A strip contract as the hedge view shows it; its price is built when first read, from the
 * quoted price of the day the view was built (the contract's ContractPrice, shared with the
 * desk's marks, while that still stands).
 */
class StripContractView implements HedgeContractView {
  readonly instrument: string;
  readonly month: string;
  readonly monthsAhead: number;
  readonly position: Decimal;
  readonly exposureQty: Decimal;
  readonly #entry: ContractPrice;
  readonly #quoted: number;
  readonly #factor: Decimal;
  #price: Decimal | undefined;
  constructor(instrument: string, month: string, monthsAhead: number, position: Decimal, exposureQty: Decimal, entry: ContractPrice, quoted: number, factor: Decimal) {
    this.instrument = instrument;
    this.month = month;
    this.monthsAhead = monthsAhead;
    this.position = position;
    this.exposureQty = exposureQty;
    this.#entry = entry;
    this.#quoted = quoted;
    this.#factor = factor;
  }
  get price(): Decimal {
    return (this.#price ??= Object.is(this.#entry.quoted, this.#quoted) ? this.#entry.unit : unitPriceOf(this.#quoted, this.#factor));
  }
}

/**
 * Whether costVersionsAt(plant, at) would list the same objects as `previous`, without building
 * the list (asked every step). `products` is the plant's product ids in its order (a plant's
 * products are fixed when it is built), walked by index: no iterator per step.
 */
function sameVersionsAt(plant: Plant, products: readonly string[], at: EpochMs, previous: readonly unknown[]): boolean {
  let i = 0;
  for (let p = 0; p < products.length; p += 1) {
    const product = products[p]!;
    const bom = plant.bomAt(product, at);
    // (Read within bounds: a read past the end deoptimizes the compiled caller.)
    if (i + 1 >= previous.length || previous[i] !== plant.conversionCostAt(product, at) || previous[i + 1] !== bom) return false;
    i += 2;
    const lines = bom.lines;
    for (let k = 0; k < lines.length; k += 1) {
      if (i >= previous.length || previous[i] !== plant.standardCostAt(lines[k]!.material, at)) return false;
      i += 1;
    }
  }
  return i === previous.length;
}

/** The plant's versions in force at `at` (each product's conversion cost and BOM, the standard cost of each material on it), as objects. */
function costVersionsAt(plant: Plant, at: EpochMs): unknown[] {
  const out: unknown[] = [];
  for (const product of plant.products.keys()) {
    const bom = plant.bomAt(product, at);
    out.push(plant.conversionCostAt(product, at), bom);
    for (const line of bom.lines) out.push(plant.standardCostAt(line.material, at));
  }
  return out;
}

/** Whether the open buys of `material` among `orders` have, in order, the quantities and filled quantities `parts` lists (pairs). */
function sameOpenBuys(orders: readonly { readonly request: { readonly instrument: string; readonly side: string; readonly qty: Decimal }; readonly filledQty: Decimal }[], material: string, parts: readonly Decimal[]): boolean {
  let i = 0;
  for (const order of orders) {
    if (order.request.instrument !== material || order.request.side !== 'buy') continue;
    if (i + 1 >= parts.length || parts[i] !== order.request.qty || parts[i + 1] !== order.filledQty) return false;
    i += 2;
  }
  return i === parts.length;
}

/** Standard cost of one unit of each product (BOM x (1 + scrap) x standard + standard conversion) at `at`. */
export function standardProductCosts(plant: Plant, at: EpochMs): Map<string, Decimal> {
  const out = new Map<string, Decimal>();
  for (const product of plant.products.keys()) {
    let cost = plant.conversionCostAt(product, at).cost;
    for (const line of plant.bomAt(product, at).lines) cost = cost.plus(plant.standardCostAt(line.material, at).cost.times(line.qty).times(line.scrap.plus(1)));
    out.set(product, cost);
  }
  return out;
}

/**
 * The price cap per material unit derived from the product's target unit cost: the price at
 * which this material alone would use up the target, every other material at standard.
 */
export function priceCapsFrom(plant: Plant, product: string, target: Decimal | undefined, at: EpochMs): Map<string, Decimal> {
  const caps = new Map<string, Decimal>();
  if (target === undefined) return caps;
  const lines = plant.bomAt(product, at).lines;
  const conversion = plant.conversionCostAt(product, at).cost;
  for (const line of lines) {
    let others = conversion;
    for (const other of lines) {
      if (other !== line) others = others.plus(plant.standardCostAt(other.material, at).cost.times(other.qty).times(other.scrap.plus(1)));
    }
    const cap = target.minus(others).dividedBy(line.qty.times(line.scrap.plus(1))).toDecimalPlaces(6, Decimal.ROUND_DOWN);
    caps.set(line.material, cap.greaterThan(0) ? cap : ZERO);
  }
  return caps;
}


/**
 * A material's InventoryView over the day's cost snapshot: each figure is read from the
 * snapshot when the strategy reads it (the snapshot computes some of them only then; most
 * strategies read a few), the plain-number ones converted once.
 */
class SnapshotInventory implements InventoryView {
  readonly #m: MaterialCost;
  readonly leadTimeDays: number;
  readonly horizonDays: number;
  #daysOfCover: number | undefined;
  #sigmaLeadTimeDays: number | undefined;
  constructor(m: MaterialCost, leadTimeDays: number, horizonDays: number) {
    this.#m = m;
    this.leadTimeDays = leadTimeDays;
    this.horizonDays = horizonDays;
  }
  get onHand(): Decimal {
    return this.#m.onHand;
  }
  get onOrder(): Decimal {
    return this.#m.onOrder;
  }
  get hedged(): Decimal {
    return this.#m.hedged;
  }
  get dailyConsumption(): Decimal {
    return this.#m.dailyConsumption;
  }
  get daysOfCover(): number {
    if (this.#daysOfCover === undefined) {
      const days = this.#m.daysOfCover;
      this.#daysOfCover = days === null ? Number.POSITIVE_INFINITY : toNumberExact(days);
    }
    return this.#daysOfCover;
  }
  get bufferStock(): Decimal {
    return this.#m.bufferStock;
  }
  get reorderPoint(): Decimal {
    return this.#m.reorderPoint;
  }
  get sigmaLeadTimeDemand(): Decimal {
    return this.#m.sigmaLeadTimeDemand;
  }
  get sigmaLeadTimeDays(): number {
    return (this.#sigmaLeadTimeDays ??= toNumberExact(this.#m.sigmaLeadTimeDays));
  }
  get exposureQty(): Decimal {
    return this.#m.exposureQty;
  }
  /** InventoryView.numberOf: the snapshot's double of the figure (without its Decimal when the snapshot can). */
  numberOf(figure: InventoryNumber): number {
    const m = this.#m as MaterialCost & Partial<MaterialNumbers>;
    return m.numberOf !== undefined ? m.numberOf(figure) : toNumberExact(m[figure]);
  }
}

/** A material's CostView over the day's cost snapshot (read when the strategy reads it, like SnapshotInventory). */
class SnapshotCost implements CostView {
  readonly #m: MaterialCost;
  readonly #snapshot: CostSnapshot;
  readonly #product: string;
  readonly #fixed: FixedCosts;
  #replacement: ReadonlyMap<string, Decimal> | undefined;
  readonly marketUnitPrice: Decimal;
  readonly productStandardCost: ReadonlyMap<string, Decimal>;
  readonly priceCap: Decimal | undefined;
  constructor(m: MaterialCost, snapshot: CostSnapshot, product: string, price: Decimal, productStandard: ReadonlyMap<string, Decimal>, priceCap: Decimal | undefined, fixed: FixedCosts) {
    this.#m = m;
    this.#snapshot = snapshot;
    this.#product = product;
    this.#fixed = fixed;
    this.marketUnitPrice = price;
    this.productStandardCost = productStandard;
    this.priceCap = priceCap;
  }
  get standardUnitCost(): Decimal {
    return this.#m.standardCost;
  }
  get carryingPerUnitDay(): Decimal {
    return this.#m.carryingPerUnitDay;
  }
  get productReplacementCost(): ReadonlyMap<string, Decimal> {
    return (this.#replacement ??= new Map([[this.#product, this.#snapshot.products[this.#product]!.replacement]]));
  }
  get knownAt(): EpochMs {
    return this.#snapshot.knownAt;
  }
  get carryingAnnualRate(): Decimal {
    return this.#fixed.carryingAnnualRate;
  }
  get storagePerUnitDay(): Decimal {
    return this.#fixed.storagePerUnitDay;
  }
  get orderFixedCost(): Decimal {
    return this.#fixed.orderFixedCost;
  }
  get orderFeeRate(): Decimal {
    return this.#fixed.orderFeeRate;
  }
  get emergencyPremium(): Decimal {
    return this.#fixed.emergencyPremium;
  }
}
