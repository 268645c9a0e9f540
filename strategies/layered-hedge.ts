/**
 * `layered-hedge`: a layered hedging programme, as desks run them, with the physical material
 * bought just in time (the `jit` rule, composed).
 *
 * Each tradeable hedge contract covers one month of forecast consumption (its exposure, see
 * `HedgeContractView`). The target share of a month `k` months ahead (0: the month in
 * progress) falls linearly from `nearShare` (k = 0) to `farShare` (k = `months` - 1), so as a
 * month comes closer its target rises and each month adds a layer: the locked price of a
 * month is the average of the forwards of the dates its layers were bought on. Layers are
 * never taken off (a hedge locked for a month's budget stays until the contract rolls off);
 * only a position above the month's exposure (the plan fell) is cut back to it.
 *
 * - **Tilt** by the moving-average crossover, within [minShare, maxShare]: while the fast
 *   average is above the slow one (prices rising) the shares are raised by `tiltUp` and the
 *   ramp is read one month earlier (more, and sooner); while it is below, cut by `tiltDown`.
 * - **Budget lock**: while the market price is at or below the standard cost, every month up
 *   to `lockMonths` ahead is hedged to at least `lockShare`: the budget is cheap to secure.
 *   And on the first decision under a new standard cost (the plant set a new budget), the same
 *   lock, whatever the price: budget-rate hedging. A month's budget variance is its cost against
 *   a standard fixed when the budget was set, so only cover locked near that date removes it; a
 *   layer bought a month before delivery locks about the price the month will pay anyway. The
 *   ramp alone puts most of its cover on late, after the standard was set. Both locks reach
 *   only the months of the budget year in progress (`lockWithinYear`, the calendar year): a
 *   month of next year will be budgeted at a standard set next January, near the market then,
 *   and a price locked for it today against today's standard adds to its variance.
 *
 * Orders go out only when a contract is short of its target by more than `minLayer` of its
 * exposure, so a month's layer is one order. The rule (`LayeredHedgeRule`, over plain
 * numbers, with `layeredShare`) runs in both engines; quantities become Decimals at the intent.
 */
import { z } from 'zod';
import { Decimal } from '../src/core/decimal.js';
import { defineStrategy, type FastStrategy, type HedgeContractView, type IntentCause, type RuleContext, type RuleDecision, type StrategyContext } from '../src/engine/strategy.js';
import { above, causeOf, checkSignalWindows, ratio, ruleStrategy, signalParamShape, ZERO_QTY } from './common.js';
import { jitBuy, jitCause } from './jit.js';

export const LAYERED_HEDGE_NAME = 'layered-hedge';

const params = z.strictObject({
  ...signalParamShape,
  /** Months of the programme (the ramp's length); contracts further out are not hedged. */
  months: z.number().int().min(1).max(36).default(12),
  /** Target share of the month in progress. */
  nearShare: ratio(0.75),
  /** Target share of the furthest month of the programme. */
  farShare: ratio(0.25),
  /** Rising prices: shares x (1 + tiltUp), and the ramp read one month earlier. */
  tiltUp: z.number().min(0).max(2).default(0.2),
  /** Falling prices: shares x (1 - tiltDown). */
  tiltDown: ratio(0.2),
  minShare: ratio(0),
  maxShare: ratio(0.9),
  /** Price at or below standard: hedge every month up to lockMonths ahead to at least lockShare. */
  lockShare: ratio(0.75),
  lockMonths: z.number().int().min(0).max(36).default(12),
  /**
   * Lock only months of the budget year in progress (the calendar year, as budgets and standard
   * costs are set every January): a month of next year is budgeted at a standard not set yet,
   * so locking it against today's standard secures no budget.
   */
  lockWithinYear: z.boolean().default(true),
  /** Smallest layer worth an order, as a share of the contract's exposure. */
  minLayer: ratio(0.05),
});
export type LayeredHedgeParams = z.output<typeof params>;

/**
 * The target hedge share of a month `monthsAhead` months out: the ramp from nearShare to
 * farShare over `months` months, tilted by the trend (1 rising, -1 falling, 0 unknown) within
 * [minShare, maxShare], and at least lockShare up to lockMonths ahead when `atOrBelowStandard`.
 * Zero beyond the programme.
 */
export function layeredShare(monthsAhead: number, trend: -1 | 0 | 1, atOrBelowStandard: boolean, p: Omit<LayeredHedgeParams, 'fast' | 'slow' | 'ma' | 'minLayer' | 'lockWithinYear'>): number {
  const k = trend === 1 ? Math.max(0, monthsAhead - 1) : monthsAhead;
  let share = 0;
  if (k < p.months) {
    const ramp = p.months === 1 ? p.nearShare : p.nearShare + ((p.farShare - p.nearShare) * k) / (p.months - 1);
    const tilted = trend === 1 ? ramp * (1 + p.tiltUp) : trend === -1 ? ramp * (1 - p.tiltDown) : ramp;
    share = Math.min(p.maxShare, Math.max(p.minShare, tilted));
  }
  if (atOrBelowStandard && monthsAhead < p.lockMonths) share = Math.max(share, p.lockShare);
  return Math.min(1, Math.max(0, share));
}

/**
 * The layered-hedge rule (both engines): the JIT buy, and each contract's layer. State per
 * material: the standard cost seen at the last decision (a change is a new budget).
 */
export class LayeredHedgeRule implements FastStrategy {
  readonly #p: LayeredHedgeParams;
  readonly #standards: number[] = [];
  readonly #newBudget: boolean[] = [];
  constructor(p: LayeredHedgeParams) {
    this.#p = p;
  }

  /** Whether the material's last decision was the first under a new standard cost. */
  newBudget(materialIndex: number): boolean {
    return this.#newBudget[materialIndex] === true;
  }

  decide(x: RuleContext): RuleDecision {
    const p = this.#p;
    const buy = jitBuy(x);
    const buys = buy === undefined ? [] : [buy];
    const before = this.#standards[x.materialIndex];
    this.#standards[x.materialIndex] = x.standardUnitCost;
    const newBudget = before !== undefined && before !== x.standardUnitCost;
    this.#newBudget[x.materialIndex] = newBudget;
    const contracts = x.contracts;
    if (contracts.length === 0) return { buys };
    const trend: -1 | 0 | 1 = x.signalState === -1 ? 0 : x.signalState === 1 ? 1 : -1;
    const lock = x.price <= x.standardUnitCost || newBudget;
    const targets = new Array<number>(contracts.length);
    for (let k = 0; k < contracts.length; k += 1) {
      const c = contracts[k]!;
      const monthsAhead = Number.isNaN(c.monthsAhead) ? 0 : c.monthsAhead;
      const inBudgetYear = !p.lockWithinYear || Number.isNaN(c.year) || c.year === x.year;
      const share = layeredShare(monthsAhead, trend, lock && inBudgetYear, p);
      const exposure = c.exposureQty > 0 ? c.exposureQty : 0;
      const target = exposure * Number(share.toFixed(6));
      if (above(c.position, exposure)) targets[k] = exposure;
      else if (above(target - c.position, exposure * p.minLayer)) targets[k] = target;
      else targets[k] = Number.NaN;
    }
    return { buys, hedgeTargets: targets };
  }
}

/** The cause of a layer or a cut-back, from the exact figures. */
function layerCause(context: StrategyContext, contract: HedgeContractView, p: LayeredHedgeParams, newBudget: boolean): IntentCause {
  const { cost, signal } = context;
  const standard = cost.standardUnitCost.toString();
  const trend: -1 | 0 | 1 = signal.state === undefined ? 0 : signal.state === 1 ? 1 : -1;
  const atOrBelowStandard = cost.marketUnitPrice.lessThanOrEqualTo(cost.standardUnitCost);
  const lock = atOrBelowStandard || newBudget;
  const year = String(new Date(context.at).getUTCFullYear());
  const monthsAhead = contract.monthsAhead ?? 0;
  const inBudgetYear = !p.lockWithinYear || contract.month === undefined || contract.month.startsWith(year);
  const share = layeredShare(monthsAhead, trend, lock && inBudgetYear, p);
  const exposure = Decimal.max(ZERO_QTY, contract.exposureQty);
  const unwind = contract.position.greaterThan(exposure);
  const next = unwind ? exposure : exposure.times(share.toFixed(6));
  return causeOf(
    context,
    {
      ...(contract.month === undefined ? {} : { contractMonth: contract.month }),
      monthsAhead,
      targetShare: share,
      trend,
      budgetLock: String(lock && inBudgetYear),
      newBudget: String(newBudget),
      marketUnitPrice: cost.marketUnitPrice,
      standardUnitCost: cost.standardUnitCost,
      contractPrice: contract.price,
      exposureQty: exposure,
      hedgePosition: contract.position,
      targetQty: next,
    },
    unwind
      ? `hedge ${contract.position.toString()} above the month's exposure ${exposure.toString()}: cut back to it`
      : `layer: ${contract.month ?? 'hedge'} ${monthsAhead} month(s) ahead to ${(share * 100).toFixed(1)} % of exposure ${exposure.toString()}` +
          (trend === 1 ? ' (rising: more and earlier)' : trend === -1 ? ' (falling: less)' : '') +
          (!inBudgetYear ? '' : newBudget ? ` (new standard ${standard}: budget lock)` : atOrBelowStandard ? ' (price at or below standard: budget lock)' : ''),
  );
}

export default defineStrategy({
  name: LAYERED_HEDGE_NAME,
  description:
    'Layered hedging programme: each month a further layer of the next months\' forecast exposure (ramp from nearShare to farShare), tilted by the crossover within bounds, more locked while the price is at or below standard and when a new standard is set; buys the physical material just in time.',
  params,
  check: (p) => {
    const windows = checkSignalWindows(p);
    if (windows) return windows;
    if (p.minShare > p.maxShare) return { field: 'maxShare', message: `maxShare (${p.maxShare}) must not be below minShare (${p.minShare})` };
    return undefined;
  },
  needs: (p) => ({ signal: { fast: p.fast, slow: p.slow, ma: p.ma }, hedging: true }),
  create: (p) => {
    const rule = new LayeredHedgeRule(p);
    return ruleStrategy(LAYERED_HEDGE_NAME, rule, {
      buy: (context) => jitCause(context),
      hedge: (context, x, contract) => layerCause(context, contract, p, rule.newBudget(x.materialIndex)),
    });
  },
  fast: (p) => new LayeredHedgeRule(p),
});
