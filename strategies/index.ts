/**
 * The strategy registry: every strategy procura ships, by name, and the one way to turn a
 * scenario's raw parameters into validated ones (the strategy's strict zod schema, then
 * its consistency check). Validation failures are values naming the field, so the
 * scenario loader can attach its file and line.
 */
import { didYouMean } from '../src/core/did-you-mean.js';
import type { StrategyDefinition } from '../src/engine/strategy.js';
import costAware from './cost-aware.js';
import jit from './jit.js';
import layeredHedge from './layered-hedge.js';
import maHedge from './ma-hedge.js';
import maProcurement from './ma-procurement.js';
import schedule from './schedule.js';
import staticHedge from './static-hedge.js';

/** Every shipped strategy by name. */
export const strategies: Readonly<Record<string, StrategyDefinition<any>>> = Object.freeze({
  [jit.name]: jit,
  [schedule.name]: schedule,
  [maProcurement.name]: maProcurement,
  [maHedge.name]: maHedge,
  [costAware.name]: costAware,
  [layeredHedge.name]: layeredHedge,
  [staticHedge.name]: staticHedge,
});

/** The strategy called `name`, or undefined when there is none (see `strategyNames` for the list). */
export function getStrategy(name: string): StrategyDefinition<any> | undefined {
  return Object.hasOwn(strategies, name) ? strategies[name] : undefined;
}

/** The registered names, sorted, for messages like `unknown strategy "x" (one of: ...)`. */
export function strategyNames(): string[] {
  return Object.keys(strategies).sort();
}

export type ParamsResult<P> =
  | { readonly ok: true; readonly params: P }
  | { readonly ok: false; readonly field: string; readonly message: string };

/**
 * Validates raw parameters (undefined means all defaults) against a strategy's schema and
 * then its consistency check. On failure returns the offending field (`slow`, `upRatio`,
 * or the unknown key itself) and a message with the offending value.
 */
export function parseStrategyParams<P>(definition: StrategyDefinition<P>, raw: unknown): ParamsResult<P> {
  const parsed = definition.params.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0];
    if (issue === undefined) return { ok: false, field: '', message: 'invalid parameters' };
    const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol').map(String);
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      const known = Object.keys((definition.params as unknown as { shape?: Record<string, unknown> }).shape ?? {});
      return { ok: false, field: [...path, key].join('.'), message: `unknown parameter "${key}" for strategy ${definition.name}${didYouMean(key, known)}` };
    }
    return { ok: false, field: path.join('.'), message: issue.message };
  }
  const problem = definition.check?.(parsed.data);
  if (problem !== undefined) return { ok: false, field: problem.field, message: problem.message };
  return { ok: true, params: parsed.data };
}
