/**
 * `static-hedge`: the hedging baseline. It hedges a constant `ratio` of the forecast exposure
 * of every tradeable hedge contract (each month's consumption not covered by stock or orders,
 * or, with a single hedge instrument, the horizon's exposure), through the same instrument and
 * with the same roll as any hedge strategy on the scenario, and buys the physical material
 * just in time. It has no signal: a hedge strategy's timing is judged against it.
 */
import { z } from 'zod';
import { defineStrategy, type RuleContext, type RuleDecision } from '../src/engine/strategy.js';
import { ratio, ratioHedgeCause, ratioHedgeTargets, ruleStrategy } from './common.js';
import { jitBuy, jitCause } from './jit.js';

export const STATIC_HEDGE_NAME = 'static-hedge';

const params = z.strictObject({
  /** Share of each contract's exposure hedged. */
  ratio: ratio(0.5),
  /** Rebalance only when the position is off the target by more than this fraction of the exposure. */
  rebalanceBand: ratio(0.05),
});
export type StaticHedgeParams = z.output<typeof params>;

/** The static-hedge rule (both engines): the JIT buy, and each contract towards `ratio` of its exposure. */
export function staticHedgeRule(x: RuleContext, p: StaticHedgeParams): RuleDecision {
  const buy = jitBuy(x);
  return { buys: buy === undefined ? [] : [buy], hedgeTargets: ratioHedgeTargets(x, () => p.ratio, p.rebalanceBand) };
}

export default defineStrategy({
  name: STATIC_HEDGE_NAME,
  description: 'Baseline: hedges a constant ratio (default 0.5) of each hedge contract\'s forecast exposure, no signal; buys the physical material just in time.',
  params,
  needs: () => ({ hedging: true }),
  create: (p) =>
    ruleStrategy(STATIC_HEDGE_NAME, { decide: (x) => staticHedgeRule(x, p) }, {
      buy: (context) => jitCause(context),
      hedge: (context, _x, contract) => {
        const r = Math.max(0, Math.min(1, p.ratio));
        const exposure = contract.exposureQty;
        const month = contract.month;
        return ratioHedgeCause(context, contract, r, { marketUnitPrice: context.cost.marketUnitPrice }, () => `static hedge: ratio ${r} of exposure ${exposure.toString()}${month === undefined ? '' : ` (${month})`}`);
      },
    }),
  fast: (p) => ({ decide: (x) => staticHedgeRule(x, p) }),
});
