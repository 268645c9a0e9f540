/**
 * `ma-hedge`: hedges a ratio of the forecast exposure through the hedge instrument, and
 * buys the physical material just in time (the `jit` decision, composed: the hedge, not
 * the timing of purchases, offsets the price risk).
 *
 * Hedge ratio, per material: starts at `baseRatio`; set to `upRatio` on a cross up and to
 * `downRatio` on a cross down, and held until the next crossing. While margin is at risk it
 * is raised by `marginAtRiskStep`; then it is capped at `maxRatio` (<= 1).
 *
 * Margin at risk: some product that consumes the material would cost more to make at
 * today's market prices than at standard (replacement cost > standard cost).
 *
 * Target hedge = ratio x max(0, exposureQty + hedged): the forecast consumption over the
 * horizon not covered by inventory or orders. Because ratio <= 1 the target never exceeds
 * that quantity, so the strategy never over-hedges. A `targetQty` intent on the hedge
 * instrument is emitted only when |target - position| > rebalanceBand x (exposureQty +
 * hedged), i.e. when the held ratio is off the target ratio by more than the band (and
 * always when the exposure is gone and a position remains): reason 'hedge' (side buy) when
 * the target is above the position, 'unwind' (side sell) when below. No hedge instrument
 * (context.hedge undefined): no hedge intents.
 */
import { z } from 'zod';
import { Decimal } from '../src/core/decimal.js';
import { defineStrategy, type FastStrategy, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import { checkSignalWindows, ratio, ratioHedgeCause, ratioHedgeTargets, ruleStrategy, signalParamShape } from './common.js';
import { jitBuy, jitCause } from './jit.js';

export const MA_HEDGE_NAME = 'ma-hedge';

const params = z.strictObject({
  ...signalParamShape,
  /** Hedge ratio before the first crossing. */
  baseRatio: ratio(0.5),
  /** Hedge ratio after a cross up (prices rising). */
  upRatio: ratio(0.8),
  /** Hedge ratio after a cross down (prices falling). */
  downRatio: ratio(0.3),
  /** Added to the ratio while the market price is above the standard cost (margin at risk). */
  marginAtRiskStep: ratio(0.1),
  /** Ceiling on the hedge ratio (at most 1: never over-hedge). */
  maxRatio: ratio(1),
  /** Rebalance only when the held ratio is off the target ratio by more than this fraction of the exposure. */
  rebalanceBand: ratio(0.05),
});
export type MaHedgeParams = z.output<typeof params>;

/** The hedge ratio a material's crossing history and margin position call for. */
export function targetRatio(crossingRatio: number, marginAtRisk: boolean, p: MaHedgeParams): number {
  const raised = marginAtRisk ? crossingRatio + p.marginAtRiskStep : crossingRatio;
  return Math.max(0, Math.min(raised, p.maxRatio, 1));
}

/**
 * The ma-hedge rule (both engines): the JIT buy, and each contract towards the target ratio.
 * State per material: the ratio the last crossing set (`crossingRatio`).
 */
export class MaHedgeRule implements FastStrategy {
  readonly #ratios: number[] = [];
  readonly #p: MaHedgeParams;
  constructor(p: MaHedgeParams) {
    this.#p = p;
  }

  /** The crossing ratio of a material as of its last decision (baseRatio before any). */
  crossingRatio(materialIndex: number): number {
    return this.#ratios[materialIndex] ?? this.#p.baseRatio;
  }

  decide(x: RuleContext): RuleDecision {
    const p = this.#p;
    let crossingRatio = this.crossingRatio(x.materialIndex);
    if (x.crossing === 1) crossingRatio = p.upRatio;
    else if (x.crossing === -1) crossingRatio = p.downRatio;
    this.#ratios[x.materialIndex] = crossingRatio;
    const hedgeRatio = targetRatio(crossingRatio, x.marginAtRisk, p);
    const buy = jitBuy(x);
    return { buys: buy === undefined ? [] : [buy], hedgeTargets: ratioHedgeTargets(x, () => hedgeRatio, p.rebalanceBand) };
  }
}

function marginAtRiskOf(context: StrategyContext): boolean {
  const { cost } = context;
  return [...cost.productReplacementCost].some(([product, replacement]) => {
    const standard = cost.productStandardCost.get(product);
    return standard !== undefined && replacement.greaterThan(standard);
  });
}

export default defineStrategy({
  name: MA_HEDGE_NAME,
  description:
    'Hedges a ratio of forecast exposure (up on a cross up and while margin is at risk, down on a cross down, never above 100 %); buys the physical material just in time.',
  params,
  check: (p) => {
    const windows = checkSignalWindows(p);
    if (windows) return windows;
    if (p.downRatio > p.baseRatio) return { field: 'downRatio', message: `downRatio (${p.downRatio}) must not exceed baseRatio (${p.baseRatio})` };
    if (p.baseRatio > p.upRatio) return { field: 'upRatio', message: `upRatio (${p.upRatio}) must not be below baseRatio (${p.baseRatio})` };
    if (p.upRatio > p.maxRatio) return { field: 'maxRatio', message: `maxRatio (${p.maxRatio}) must not be below upRatio (${p.upRatio})` };
    return undefined;
  },
  needs: (p) => ({ signal: { fast: p.fast, slow: p.slow, ma: p.ma }, hedging: true }),
  create: (p) => {
    const rule = new MaHedgeRule(p);
    return ruleStrategy(MA_HEDGE_NAME, rule, {
      buy: (context) => jitCause(context),
      hedge: (context, x, contract) => {
        const crossingRatio = rule.crossingRatio(x.materialIndex);
        const marginAtRisk = marginAtRiskOf(context);
        const hedgeRatio = targetRatio(crossingRatio, marginAtRisk, p);
        const { cost } = context;
        return ratioHedgeCause(
          context,
          contract,
          hedgeRatio,
          { crossingRatio, marginAtRisk: String(marginAtRisk), marketUnitPrice: cost.marketUnitPrice, standardUnitCost: cost.standardUnitCost },
          `${contract.position.lessThan(Decimal.min(contract.exposureQty, contract.exposureQty.times(hedgeRatio))) ? 'hedge' : 'unwind'} to ratio ${hedgeRatio} of exposure ${Decimal.max(0, contract.exposureQty).toString()}` +
            (contract.month === undefined ? '' : ` (${contract.month})`) +
            (marginAtRisk ? ' (margin at risk: market above standard)' : ''),
        );
      },
    });
  },
  fast: (p) => new MaHedgeRule(p),
});
