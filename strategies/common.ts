/**
 * Pieces every procura strategy shares: the inventory arithmetic (position, cover levels,
 * buy-to-level sizing), the forced reorder rule that keeps cover above the buffer stock,
 * intent construction with the cause snapshot, and the moving-average parameters with
 * their consistency check. Kept in one module so the strategies compose these rules
 * instead of copying them, and a fix to one rule reaches every strategy.
 *
 * Quantities and money stay Decimal; day counts, ratios and drift are plain numbers.
 */
import { z } from 'zod';
import { Decimal } from '../src/core/decimal.js';
import type { HedgeContractView, Intent, IntentCause, IntentReason, InventoryView, StrategyContext } from '../src/engine/strategy.js';

export const ZERO_QTY: Decimal = new Decimal(0);
export const DAY_MS = 86_400_000;

/** On hand + on order: the inventory position the reorder rules compare with their levels. */
export function inventoryPosition(inventory: InventoryView): Decimal {
  return inventory.onHand.plus(inventory.onOrder);
}

/** Forecast consumption over `days` days (dailyConsumption x days). */
export function consumptionFor(inventory: InventoryView, days: number): Decimal {
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
export function forcedReorderQty(inventory: InventoryView, orderUpToDays: number, planned: Decimal = ZERO_QTY): Decimal {
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

/** Cost figures as strings (Decimal via toString, numbers via String), dropping undefined ones. */
export function costSnapshot(figures: Readonly<Record<string, Decimal | number | string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(figures)) {
    if (value === undefined) continue;
    out[key] = typeof value === 'object' ? value.toString() : String(value);
  }
  return out;
}

/** Builds a cause: the signal seen at the decision, the cost figures behind it and a note. */
export function causeOf(
  context: StrategyContext,
  figures: Readonly<Record<string, Decimal | number | string | undefined>>,
  note: string,
): IntentCause {
  const signal = signalSnapshot(context);
  const cost = costSnapshot(figures);
  return signal === undefined ? { cost, note } : { signal, cost, note };
}

/** A procurement buy of `qty` on the material's own instrument, stamped with the decision time. */
export function buyIntent(
  context: StrategyContext,
  strategy: string,
  qty: Decimal,
  reason: IntentReason,
  cause: IntentCause,
  discretionary = false,
): Intent {
  const intent: Intent = { at: context.at, strategy, instrument: context.instrument, side: 'buy', qty, reason, cause };
  return discretionary ? { ...intent, discretionary: true } : intent;
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

/** The forced reorder intent (reason 'forced-reorder'), or none when the position is above the reorder point. */
export function forcedReorderIntents(
  context: StrategyContext,
  strategy: string,
  orderUpToDays: number,
  planned: Decimal = ZERO_QTY,
): Intent[] {
  const qty = forcedReorderQty(context.inventory, orderUpToDays, planned);
  if (qty.isZero()) return [];
  const level = context.inventory.reorderPoint.plus(consumptionFor(context.inventory, orderUpToDays));
  return [
    buyIntent(
      context,
      strategy,
      qty,
      'forced-reorder',
      causeOf(
        context,
        { ...inventoryFigures(context.inventory), planned, orderUpToLevel: level, marketUnitPrice: context.cost.marketUnitPrice },
        `position ${inventoryPosition(context.inventory).plus(planned).toString()} at or below reorder point ${context.inventory.reorderPoint.toString()}: buy up to reorder point + ${orderUpToDays} days of consumption`,
      ),
    ),
  ];
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
 * Hedge intents that bring each tradeable hedge contract to `ratio x its exposure` (never above
 * its exposure), rebalancing only when the position is off the target by more than
 * `band x exposure` (always when the exposure is gone and a position remains): reason `hedge`
 * (buy) towards a larger hedge, `unwind` (sell) towards a smaller one. `ratioOf` gives the
 * ratio per contract; `figures` and `note` go into each cause with the contract's own figures.
 */
export function ratioHedgeIntents(
  context: StrategyContext,
  strategy: string,
  ratioOf: (contract: HedgeContractView) => number,
  band: number,
  figures: Readonly<Record<string, Decimal | number | string | undefined>>,
  note: (contract: HedgeContractView, ratio: number) => string,
): Intent[] {
  const hedge = context.hedge;
  if (hedge === undefined) return [];
  const intents: Intent[] = [];
  for (const contract of hedge.contracts) {
    const ratio = Math.max(0, Math.min(1, ratioOf(contract)));
    const exposure = Decimal.max(ZERO_QTY, contract.exposureQty);
    const target = Decimal.min(exposure, exposure.times(ratio));
    const change = target.minus(contract.position);
    if (!change.abs().greaterThan(exposure.times(band))) continue;
    const increasing = change.isPositive();
    intents.push({
      at: context.at,
      strategy,
      instrument: contract.instrument,
      side: increasing ? 'buy' : 'sell',
      targetQty: target,
      reason: increasing ? 'hedge' : 'unwind',
      cause: causeOf(
        context,
        {
          ...figures,
          hedgeRatio: ratio,
          ...(contract.month === undefined ? {} : { contractMonth: contract.month }),
          exposureQty: contract.month === undefined ? context.inventory.exposureQty : exposure,
          hedged: context.inventory.hedged,
          hedgePosition: contract.position,
          targetQty: target,
          hedgeLastPrice: contract.month === undefined ? hedge.lastPrice : contract.price,
        },
        note(contract, ratio),
      ),
    });
  }
  return intents;
}
