/**
 * zod schema pieces shared by every configuration file (plant, scenario, venue, risk, live):
 * decimals in plain notation built through core's parseDecimal (so "1e999" and "NaN" are
 * refused everywhere alike), and dates through parseTime. A value that is already a Decimal
 * (a configuration validated once and handed on) passes through unchanged.
 */
import { z } from 'zod';
import { Decimal, parseDecimal } from '../core/decimal.js';
import { ProcuraError } from '../core/errors.js';
import { parseTime } from '../core/time.js';

/** A decimal (string, number or Decimal) that also passes `check` (a message when it fails). */
export function decimalSchema(check: (value: Decimal) => string | undefined = () => undefined) {
  return z.union([z.string(), z.number(), z.custom<Decimal>((v) => Decimal.isDecimal(v), 'expected a decimal')]).transform((raw, ctx) => {
    try {
      const value = Decimal.isDecimal(raw) ? new Decimal(raw as Decimal) : parseDecimal(raw, {});
      const problem = check(value);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return value;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof ProcuraError ? error.detail : String(error) });
      return z.NEVER;
    }
  });
}

/** A decimal in plain notation, any sign. */
export const DecimalSchema = decimalSchema();
/** A decimal >= 0. */
export const NonNegativeDecimalSchema = decimalSchema((v) => (v.isNegative() && !v.isZero() ? `must not be negative, got ${v.toFixed()}` : undefined));
/** A decimal > 0. */
export const PositiveDecimalSchema = decimalSchema((v) => (v.isPositive() && !v.isZero() ? undefined : `must be greater than zero, got ${v.toFixed()}`));
/** A fraction in (0, 1]. */
export const RatioSchema = decimalSchema((v) => (v.greaterThan(0) && v.lessThanOrEqualTo(1) ? undefined : `must be greater than 0 and at most 1 (a fraction, 1 = 100 %), got ${v.toFixed()}`));

/** A date (YYYY-MM-DD, YYYY-MM, ISO time or epoch ms) as epoch ms. */
export const DateSchema = z.union([z.string(), z.number()]).transform((raw, ctx) => {
  try {
    return parseTime(raw, {});
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof ProcuraError ? error.detail : String(error) });
    return z.NEVER;
  }
});
