/**
 * Pieces every procura strategy shares: the inventory arithmetic (position, cover levels,
 * buy-to-level sizing), the forced reorder rule that keeps cover above the buffer stock,
 * intent construction with the cause snapshot, and the moving-average parameters with
 * their consistency check. Kept in one module so the strategies compose these rules
 * instead of copying them, and a fix to one rule reaches every strategy.
 *
 * Each strategy's rule is written once, over plain numbers (RuleContext), and run by both
 * engines: the screening engine calls it as it is, the exact engine through `ruleStrategy`
 * (`ruleContextOf`, the rule, then `intentsOf`, which turns its quantities into Decimals and
 * attaches the cause the strategy writes from the exact figures). Exactness rules:
 *
 * - comparisons go through `above` / `near` (relative tolerance RULE_TOLERANCE = 1e-12): a
 *   figure the exact engine finds equal to another (a position exactly at the reorder point)
 *   is equal in doubles too, whose error is about 1e-16 of the size per operation;
 * - a rule's quantity becomes a Decimal at 6 decimal places (`qtyOf`) before the pipeline
 *   rounds it down to the lot: snapped to the 6-place grid within QTY_SNAP = 1e-8 (a whole
 *   number of lots computed in doubles as 999.9999999999998 is 1000 again, as it was exactly),
 *   truncated otherwise (never above what the rule decided, so caps hold). The one case that
 *   moves a lot is an exact quantity within 1e-8 below a lot boundary and not on it.
 *
 * The Decimal helpers (the first half of this module) remain for the causes, whose figures are
 * exact as before.
 */
import { z } from 'zod';
import { Decimal } from '../src/core/decimal.js';
import { Fixed } from '../src/core/fixed.js';
import { lazyPropertyFrom } from '../src/core/lazy.js';
import type { EpochMs } from '../src/core/time.js';
import { ruleContextOf, type FastStrategy, type HedgeContractView, type Intent, type IntentCause, type IntentReason, type InventoryView, type RuleBuy, type RuleContext, type RuleDecision, type Strategy, type StrategyContext } from '../src/engine/strategy.js';

export const ZERO_QTY: Decimal = new Decimal(0);
export const DAY_MS = 86_400_000;

/** The inventory figures the reorder rules and the causes read (an InventoryView, or figures taken from one). */
export type InventoryFigures = Pick<InventoryView, 'onHand' | 'onOrder' | 'dailyConsumption' | 'reorderPoint' | 'bufferStock'>;

/** On hand + on order: the inventory position the reorder rules compare with their levels. */
export function inventoryPosition(inventory: InventoryFigures): Decimal {
  return inventory.onHand.plus(inventory.onOrder);
}

/** Forecast consumption over `days` days (dailyConsumption x days). */
export function consumptionFor(inventory: InventoryFigures, days: number): Decimal {
  return inventory.dailyConsumption.times(days);
}

/** The quantity that brings `position` up to `level`; zero when the position is already there. */
export function buyToLevel(position: Decimal, level: Decimal): Decimal {
  const shortfall = level.minus(position);
  return shortfall.isPositive() && !shortfall.isZero() ? shortfall : ZERO_QTY;
}

/**
 * The forced reorder rule: when the position (plus what this decision already plans to buy)
 * is at or below the reorder point, buy up to reorder point + `orderUpToDays` of
 * consumption. Returns zero otherwise. The reorder point already holds the lead-time
 * demand and the buffer stock, so following this rule keeps cover above the buffer.
 */
export function forcedReorderQty(inventory: InventoryFigures, orderUpToDays: number, planned: Decimal = ZERO_QTY): Decimal {
  const position = inventoryPosition(inventory).plus(planned);
  if (position.greaterThan(inventory.reorderPoint)) return ZERO_QTY;
  return buyToLevel(position, inventory.reorderPoint.plus(consumptionFor(inventory, orderUpToDays)));
}

/** The signal as the intent records it; undefined while the averages are not yet formed. */
export function signalSnapshot(context: StrategyContext): IntentCause['signal'] {
  const { state, crossing, fast, slow } = context.signal;
  if (state === undefined) return undefined;
  return crossing === undefined
    ? { state, fast, slow, barAt: context.at }
    : { state, crossing, fast, slow, barAt: context.at };
}

/**
 * A cause figure: a value, or a function giving it when the cause is printed, from the cause's
 * other figures (passed to it) or from values it closed over (it must read only immutable
 * values). A function of the figures can be one function shared by every cause: a closure made
 * per decision is kept as long as the decision (the journal keeps thousands).
 */
export type CauseFigure = Decimal | number | string | undefined | ((figures: CauseFigures) => Decimal);

/**
 * Where a cause's figures may keep the inventory view they were taken from (a symbol key, so
 * `costSnapshot`, which lists the string keys, does not print it), for the figures read from it
 * when printed (`onHandFigure`, `reorderPointFigure`, `bufferStockFigure`).
 */
const INVENTORY: unique symbol = Symbol('inventory');

/** A cause's figures by name, in print order (and the inventory view they read, when one does). */
export type CauseFigures = Readonly<Record<string, CauseFigure>> & { readonly [INVENTORY]?: InventoryView };

/**
 * The inventory view a cause's figures keep, for the figures read from it when printed. A view
 * is as of its decision point (immutable: the desk's view reads the day's cost snapshot, which
 * keeps the day's stock and sigma chain figures), so the figure printed later is the one the
 * decision saw. Most causes are never printed (the journal keeps the latest decisions), and on
 * hand, the buffer stock and the reorder point are Decimals the view builds only when read: a
 * JIT cause that took them built three Decimals a day that nobody read. The view keeps only the
 * material's snapshot (about as much as the Decimals it replaces).
 */
export function withInventory<F extends Record<string, CauseFigure>>(figures: F, inventory: InventoryView): F {
  (figures as { [INVENTORY]?: InventoryView })[INVENTORY] = inventory;
  return figures;
}

function inventoryOf(figures: CauseFigures): InventoryView {
  return figures[INVENTORY]!;
}

/** On hand, read from the figures' inventory view when printed (see withInventory). */
export const onHandFigure = (figures: CauseFigures): Decimal => inventoryOf(figures).onHand;
/** The reorder point, read from the figures' inventory view when printed (see withInventory). */
export const reorderPointFigure = (figures: CauseFigures): Decimal => inventoryOf(figures).reorderPoint;
/** The buffer stock, read from the figures' inventory view when printed (see withInventory). */
export const bufferStockFigure = (figures: CauseFigures): Decimal => inventoryOf(figures).bufferStock;

/** Cost figures as strings (Decimal via toString, numbers via String; a function's value), dropping undefined ones. */
export function costSnapshot(figures: CauseFigures): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, figure] of Object.entries(figures)) {
    const value = typeof figure === 'function' ? figure(figures) : figure;
    if (value === undefined) continue;
    out[key] = typeof value === 'object' ? value.toString() : String(value);
  }
  return out;
}

/**
 * Builds a cause: the signal seen at the decision, the cost figures behind it and a note. The
 * figures are taken now (immutable Decimals and numbers) and printed when `cost` is first read
 * (an own enumerable getter, so JSON, spreads and structured clones see a plain field): most
 * intents' causes are never read (a journal keeps the last few thousand decisions), and
 * printing every figure of every intent was a visible share of a backtest.
 *
 * The cause keeps its figures (and a note's function) itself, in slots read by getters every
 * cause shares (core/lazy.ts's lazyPropertyFrom): no closure and no closure context per cause.
 * The journal keeps decisions, each with its intent's cause, and every object they hold is
 * copied by the scavenges until it reaches the old generation. A note's function must read
 * only values taken at the decision (immutable Decimals, numbers, strings).
 */
export function causeOf(
  context: StrategyContext,
  figures: CauseFigures,
  note: string | (() => string),
): IntentCause {
  const signal = signalSnapshot(context);
  // The literal `{ signal, get cost(), note }` (signal left out when undefined), with the getters shared.
  const cause: Record<string, unknown> = signal === undefined ? {} : { signal };
  defineCost(cause, figures);
  // A note's function is called when first read, like the figures (an own enumerable getter in the same place among the keys).
  if (typeof note === 'function') defineNote(cause, note);
  else cause['note'] = note;
  return cause as unknown as IntentCause;
}

const defineCost = lazyPropertyFrom('cost', costSnapshot);
const defineNote = lazyPropertyFrom('note', (note: () => string) => note());

/**
 * A procurement buy of `qty` on the material's own instrument, stamped with the decision time.
 * Every intent sent here is one literal with all of Intent's fields in its order, undefined
 * where not set (hedgeIntent too): the desk and the pipeline read buys and hedges, ahead of need
 * or not, and a shape first met after V8 had optimised them (a hedge's target, a buy ahead that
 * was a spread with `discretionary`) deoptimised the desk's decision point and its submissions.
 * JSON leaves the undefined fields out, so a decision's JSON is what it was.
 */
export function buyIntent(
  context: StrategyContext,
  strategy: string,
  qty: Decimal,
  reason: IntentReason,
  cause: IntentCause,
  discretionary = false,
): Intent {
  return { at: context.at, strategy, instrument: context.instrument, side: 'buy', qty, targetQty: undefined, limitPrice: undefined, reason, cause, discretionary: discretionary ? true : undefined };
}

/** A hedge intent to reach `targetQty` on `instrument`: the shape of buyIntent's (see there). */
function hedgeIntent(at: EpochMs, strategy: string, instrument: string, side: 'buy' | 'sell', targetQty: Decimal, reason: IntentReason, cause: IntentCause): Intent {
  return { at, strategy, instrument, side, qty: undefined, targetQty, limitPrice: undefined, reason, cause, discretionary: undefined };
}

/** The inventory figures every procurement cause carries. */
export function inventoryFigures(inventory: InventoryView): Record<string, Decimal | number> {
  return {
    onHand: inventory.onHand,
    onOrder: inventory.onOrder,
    dailyConsumption: inventory.dailyConsumption,
    reorderPoint: inventory.reorderPoint,
    bufferStock: inventory.bufferStock,
  };
}

/** The cause of a forced reorder (exact figures): the position with `planned`, the reorder point and the level bought up to. */
export function forcedReorderCause(context: StrategyContext, orderUpToDays: number, planned: Decimal | ((figures: CauseFigures) => Decimal) = ZERO_QTY): IntentCause {
  const inventory = context.inventory;
  const onOrder = inventory.onOrder;
  const daily = inventory.dailyConsumption;
  // The level and the note are worked out when the cause is printed, from the figures taken now
  // (immutable Decimals) and the inventory view (on hand, the reorder point and the buffer stock
  // read from it then: see withInventory); `planned` too, when the caller gives it as a function.
  const figures: CauseFigures = withInventory(
    { onHand: onHandFigure, onOrder, dailyConsumption: daily, reorderPoint: reorderPointFigure, bufferStock: bufferStockFigure, planned, orderUpToLevel: () => inventory.reorderPoint.plus(daily.times(orderUpToDays)), marketUnitPrice: context.cost.marketUnitPrice },
    inventory,
  );
  return causeOf(
    context,
    figures,
    () => `position ${inventory.onHand.plus(onOrder).plus(typeof planned === 'function' ? planned(figures) : planned).toString()} at or below reorder point ${inventory.reorderPoint.toString()}: buy up to reorder point + ${orderUpToDays} days of consumption`,
  );
}

/** Moving-average parameters shared by the signal-driven strategies (windows in bars). */
export const signalParamShape = {
  /** Fast moving-average window in bars. */
  fast: z.number().int().min(1).default(20),
  /** Slow moving-average window in bars; must be longer than fast. */
  slow: z.number().int().min(2).default(50),
  /** Moving-average kind. */
  ma: z.enum(['sma', 'ema']).default('sma'),
};

/** A day count greater than zero. */
export const positiveDays = (fallback: number) => z.number().finite().positive().default(fallback);

/** A ratio in [0, 1]. */
export const ratio = (fallback: number) => z.number().min(0).max(1).default(fallback);

/** The consistency check every signal-driven strategy runs: the slow window must be longer than the fast one. */
export function checkSignalWindows(params: { fast: number; slow: number }): { field: string; message: string } | undefined {
  if (params.fast >= params.slow) {
    return { field: 'slow', message: `slow window (${params.slow}) must be longer than fast window (${params.fast})` };
  }
  return undefined;
}

/**
 * The cause of a ratio hedge intent (exact figures): the contract's target min(exposure, ratio x
 * exposure), its position, exposure and price, the ratio and `figures`, with `note`.
 */
export function ratioHedgeCause(
  context: StrategyContext,
  contract: HedgeContractView,
  ratio: number,
  figures: Readonly<Record<string, Decimal | number | string | undefined>>,
  note: string | (() => string),
): IntentCause {
  const r = Math.max(0, Math.min(1, ratio));
  const exposure = flooredAtZero(contract.exposureQty);
  // The target is worked out when the cause is printed (from `exposure`, taken now).
  const target = (): Decimal => Decimal.min(exposure, exposure.times(r));
  // The figures' keys, then these, in the order the literal `{ ...figures, hedgeRatio, contractMonth?, ... }` gave them (no spreads per intent).
  const all: Record<string, CauseFigure> = {};
  for (const key of Object.keys(figures)) all[key] = figures[key];
  all['hedgeRatio'] = r;
  if (contract.month !== undefined) all['contractMonth'] = contract.month;
  all['exposureQty'] = contract.month === undefined ? context.inventory.exposureQty : exposure;
  all['hedged'] = context.inventory.hedged;
  all['hedgePosition'] = contract.position;
  all['targetQty'] = target;
  all['hedgeLastPrice'] = contract.month === undefined ? context.hedge!.lastPrice : contract.price;
  return causeOf(context, all, note);
}

/**
 * Decimal.max(0, x) without its two copies: x itself when above zero, else the shared zero
 * (Decimal.max keeps its first argument on a tie, so a zero of either sign gives +0).
 */
function flooredAtZero(x: Decimal): Decimal {
  return x.greaterThan(ZERO_QTY) ? x : ZERO_QTY;
}

// ---------------------------------------------------------------------------------------
// The rules over plain numbers (both engines).

const NO_BUYS: readonly RuleBuy[] = Object.freeze([]);
/** A decision with nothing to do (shared, never mutated). */
export const NOTHING: RuleDecision = Object.freeze({ buys: NO_BUYS });

/**
 * Relative tolerance of the rules' comparisons: two figures closer than this share of the larger
 * (or of 1) are equal. A double carries about 1e-16 of relative error per operation, so a
 * figure the exact engine finds equal (a position exactly at its reorder point) compares equal
 * here too, while figures that differ by more than 1e-12 of their size compare as they do
 * exactly.
 */
export const RULE_TOLERANCE = 1e-12;

/** a and b equal within RULE_TOLERANCE. */
export function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= RULE_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

/** a > b, and not near it (the exact engine's `a.greaterThan(b)` over doubles). */
export function above(a: number, b: number): boolean {
  return a > b && !near(a, b);
}

/** On hand + on order: the inventory position the reorder rules compare with their levels. */
export function positionOf(x: RuleContext): number {
  return x.onHand + x.onOrder;
}

/** The quantity that brings `position` up to `level`: level - position, 0 when the position is already there (within tolerance). */
export function shortOf(position: number, level: number): number {
  return above(level, position) ? level - position : 0;
}

/** The forced reorder level: reorder point + `orderUpToDays` of consumption. */
export function forcedReorderLevel(x: RuleContext, orderUpToDays: number): number {
  return x.reorderPoint + x.dailyConsumption * orderUpToDays;
}

/**
 * The forced reorder rule: when the position plus `planned` (what this decision already buys)
 * is at or below the reorder point, the quantity that brings it up to reorder point +
 * `orderUpToDays` of consumption; 0 otherwise. The reorder point holds the lead-time demand
 * and the buffer stock, so following this rule keeps cover above the buffer.
 */
export function forcedReorder(x: RuleContext, orderUpToDays: number, planned = 0): number {
  const position = positionOf(x) + planned;
  if (above(position, x.reorderPoint)) return 0;
  return shortOf(position, forcedReorderLevel(x, orderUpToDays));
}

/** A ratio hedge's target for one contract: min(exposure, ratio x exposure), ratio clamped to [0, 1], exposure floored at 0. */
export function ratioTarget(exposureQty: number, ratio: number): number {
  const r = Math.max(0, Math.min(1, ratio));
  const exposure = exposureQty > 0 ? exposureQty : 0;
  return Math.min(exposure, exposure * r);
}

/**
 * Ratio hedging: per contract, the target `ratioTarget` when the position is off it by more
 * than `band` x exposure (always when the exposure is gone and a position remains), else NaN
 * (leave it); `ratioOf(k)` gives contract k's ratio. Undefined without contracts.
 */
export function ratioHedgeTargets(x: RuleContext, ratioOf: (k: number) => number, band: number): number[] | undefined {
  const contracts = x.contracts;
  if (contracts.length === 0) return undefined;
  const targets = new Array<number>(contracts.length);
  for (let k = 0; k < contracts.length; k += 1) {
    const c = contracts[k]!;
    const exposure = c.exposureQty > 0 ? c.exposureQty : 0;
    const target = ratioTarget(c.exposureQty, ratioOf(k));
    targets[k] = above(Math.abs(target - c.position), exposure * band) ? target : Number.NaN;
  }
  return targets;
}

// ---------------------------------------------------------------------------------------
// The exact engine's side: a rule's decision as exact intents.

/**
 * How close (absolute, in material units) a rule's quantity must be to a multiple of 1e-6 to be
 * taken as that multiple: about 30 times the error a few double operations on figures of a
 * million units leave. See `qtyOf`.
 */
export const QTY_SNAP = 1e-8;

/**
 * A rule's quantity as an exact Decimal for an intent, at 6 decimal places: the multiple of
 * 1e-6 it is within QTY_SNAP of, else the value truncated towards zero to 6 places. The
 * pipeline then rounds it DOWN to the lot step (a multiple of 1e-6), so:
 *
 * - a quantity that is exactly a whole number of lots, computed in doubles as
 *   999.9999999999998, is 1000 again and buys the lot the exact engine bought;
 * - otherwise the quantity never rounds up: a target the rule capped (a hedge at most its
 *   exposure x maxRatio) stays under the cap, and the order is the lot floor of the rule's value.
 *
 * The one case where the exact engine would have bought a lot less is an exact quantity within
 * QTY_SNAP below a lot boundary and not on it. Quantities of 1e9 units or more (beyond the
 * doubles' 6-place grid) are taken as they are.
 */
export function qtyOf(value: number): Decimal {
  if (!(Math.abs(value) < 1e9)) return new Decimal(value);
  const scaled = value * 1e6;
  const nearest = Math.round(scaled);
  const units = Math.abs(scaled - nearest) <= QTY_SNAP * 1e6 ? nearest : Math.trunc(scaled);
  // units x 10^-6 is exact (a safe integer of at most 15 digits). Fixed.of(units, 6) builds it
  // from its words, the same Decimal as new Decimal(units).times(1e-6) (same digits, exponent and
  // sign) without a multiplication or text; a zero keeps that product's sign (-0 x 1e-6 is -0).
  return units === 0 ? new Decimal(units).times(MICRO) : Fixed.of(units, 6).toDecimal();
}

const MICRO = new Decimal('0.000001');

/**
 * The intents of a rule's decision: each buy on the material's instrument, each hedge target
 * on its contract (a buy `hedge` above the position, a sell `unwind` below it), with the cause
 * `causeOfBuy` / `causeOfHedge` write from the exact context. Quantities go through `qtyOf`;
 * a buy that is 0 at 6 places is dropped (no order could carry it), as is a hedge target equal
 * to the position. A hedge target is at most the contract's exposure (exactly).
 */
export function intentsOf(
  context: StrategyContext,
  strategy: string,
  decision: RuleDecision,
  causeOfBuy: (buy: RuleBuy, index: number) => IntentCause,
  causeOfHedge?: (contract: HedgeContractView, target: Decimal, index: number) => IntentCause,
): Intent[] {
  const buys = decision.buys;
  const targets = decision.hedgeTargets;
  const intents: Intent[] = [];
  for (let k = 0; k < buys.length; k += 1) {
    const buy = buys[k]!;
    const qty = qtyOf(buy.qty);
    if (!qty.isPositive() || qty.isZero()) continue;
    intents.push(buyIntent(context, strategy, qty, buy.reason, causeOfBuy(buy, k), buy.discretionary));
  }
  // The hedge view (exact figures) is read only when some contract has a target: most days a
  // ratio rule leaves every contract in its band, and the rule read numbers only.
  if (targets !== undefined && someTarget(targets) && context.hedge !== undefined) {
    context.hedge.contracts.forEach((contract, k) => {
      const value = targets[k];
      if (value === undefined || Number.isNaN(value)) return;
      // No strategy hedges above a contract's exposure; the clamp only takes off what the
      // 6-place snap of `qtyOf` may add (at most QTY_SNAP).
      // Decimal.min(q, cap) without its copies: cap when q is above it (on a tie both are the same value).
      const q = qtyOf(value);
      const cap = flooredAtZero(contract.exposureQty);
      const target = q.greaterThan(cap) ? cap : q;
      if (target.equals(contract.position)) return;
      const increasing = target.greaterThan(contract.position);
      const cause = causeOfHedge === undefined ? causeOf(context, { targetQty: target }, 'hedge target') : causeOfHedge(contract, target, k);
      intents.push(hedgeIntent(context.at, strategy, contract.instrument, increasing ? 'buy' : 'sell', target, increasing ? 'hedge' : 'unwind', cause));
    });
  }
  return intents;
}

/** Whether some hedge target is set (neither missing nor NaN). */
function someTarget(targets: readonly number[]): boolean {
  for (let k = 0; k < targets.length; k += 1) {
    const value = targets[k];
    if (value !== undefined && !Number.isNaN(value)) return true;
  }
  return false;
}

/** How a strategy writes the causes of its rule's decision from the exact context. */
export interface RuleCauses {
  buy(context: StrategyContext, x: RuleContext, buy: RuleBuy, index: number, decision: RuleDecision): IntentCause;
  hedge?(context: StrategyContext, x: RuleContext, contract: HedgeContractView, target: Decimal, index: number): IntentCause;
}

/**
 * The exact engine's Strategy for a rule: each decision point's context as a RuleContext
 * (`ruleContextOf`, materials numbered in the order first seen, which is the scenario's), the
 * rule's decision, and its intents (`intentsOf`) with the causes `causes` writes.
 */
export function ruleStrategy(name: string, rule: FastStrategy, causes: RuleCauses): Strategy {
  const indices = new Map<string, number>();
  // The material of the previous decision and its index (a one-material run asks the Map once).
  let lastMaterial: string | undefined;
  let lastIndex = 0;
  return {
    name,
    decide(context) {
      let index = lastIndex;
      if (context.material !== lastMaterial) {
        const known = indices.get(context.material);
        index = known ?? indices.size;
        if (known === undefined) indices.set(context.material, index);
        lastMaterial = context.material;
        lastIndex = index;
      }
      const x = ruleContextOf(context, index);
      const decision = rule.decide(x);
      // Nothing to do (no buy, and no hedge target set: a ratio rule in its band sets targets of
      // NaN): no closures for the causes (a new empty array, as intentsOf gives: a shared frozen
      // one has another map, which made the desk's step polymorphic and slower).
      if (decision.buys.length === 0 && (decision.hedgeTargets === undefined || !someTarget(decision.hedgeTargets))) return [];
      const hedge = causes.hedge;
      return intentsOf(
        context,
        name,
        decision,
        (buy, k) => causes.buy(context, x, buy, k, decision),
        hedge === undefined ? undefined : (contract, target, k) => hedge(context, x, contract, target, k),
      );
    },
  };
}
