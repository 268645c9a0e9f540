/**
 * `static-hedge`: the hedging baseline. It hedges a constant `ratio` of the forecast exposure
 * of every tradeable hedge contract (each month's consumption not covered by stock or orders,
 * or, with a single hedge instrument, the horizon's exposure), through the same instrument and
 * with the same roll as any hedge strategy on the scenario, and buys the physical material
 * just in time. It has no signal: a hedge strategy's timing is judged against it.
 */
import { z } from 'zod';
import { defineStrategy } from '../src/engine/strategy.js';
import { ratio, ratioHedgeIntents } from './common.js';
import { jitIntents } from './jit.js';

export const STATIC_HEDGE_NAME = 'static-hedge';

const params = z.strictObject({
  /** Share of each contract's exposure hedged. */
  ratio: ratio(0.5),
  /** Rebalance only when the position is off the target by more than this fraction of the exposure. */
  rebalanceBand: ratio(0.05),
});
export type StaticHedgeParams = z.output<typeof params>;

export default defineStrategy({
  name: STATIC_HEDGE_NAME,
  description: 'Baseline: hedges a constant ratio (default 0.5) of each hedge contract\'s forecast exposure, no signal; buys the physical material just in time.',
  params,
  needs: () => ({ hedging: true }),
  create: (p) => ({
    name: STATIC_HEDGE_NAME,
    decide: (context) => [
      ...jitIntents(context, STATIC_HEDGE_NAME),
      ...ratioHedgeIntents(context, STATIC_HEDGE_NAME, () => p.ratio, p.rebalanceBand, { marketUnitPrice: context.cost.marketUnitPrice }, (contract, r) => `static hedge: ratio ${r} of exposure ${contract.exposureQty.toString()}${contract.month === undefined ? '' : ` (${contract.month})`}`),
    ],
  }),
});
