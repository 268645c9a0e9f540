/**
 * One number format for everything procura prints on a terminal: thousands separators
 * ("1,234,567.50"), a minus sign only on non-zero values, and tables whose numeric columns
 * (including percentages such as "4.7 %" and amounts with a unit) are right-aligned.
 * Machine output (--json, --csv) never goes through here: it keeps plain numbers.
 */
import type { Decimal } from '../core/decimal.js';

/** 1234567 -> "1,234,567". */
export function formatCount(value: number): string {
  return groupThousands(String(Math.trunc(value)));
}

/** en-US formats by decimal places, each made once (see formatLocale). */
const localeFormats = new Map<number, Intl.NumberFormat>();

/**
 * `value.toLocaleString('en-US', { minimumFractionDigits: places, maximumFractionDigits: places })`
 * (the report's and the analysis lines' form), with one Intl formatter per `places` made once:
 * toLocaleString with options builds a formatter on every call.
 */
export function formatLocale(value: number, places: number): string {
  let format = localeFormats.get(places);
  if (format === undefined) {
    format = new Intl.NumberFormat('en-US', { minimumFractionDigits: places, maximumFractionDigits: places });
    localeFormats.set(places, format);
  }
  return format.format(value);
}

/** A number with `places` decimals and thousands separators: 1234.5 -> "1,234.50". */
export function formatNumber(value: number | Decimal, places: number): string {
  const fixed = typeof value === 'number' ? value.toFixed(places) : value.toFixed(places);
  return groupThousands(fixed);
}

/**
 * Inserts "," between groups of three digits in a plain number, which may carry a unit or
 * percent suffix after a space ("1234567.5" -> "1,234,567.5", "12345 USD" -> "12,345 USD",
 * "4.7 %" unchanged). Anything else (dates, ids, text, already grouped numbers) is returned as is.
 */
export function groupThousands(text: string): string {
  const match = /^([-+]?)(\d+)(\.\d+)?((?: .*)|%|x)?$/.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', suffix = ''] = match;
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const isZero = /^0*$/.test(whole!) && /^\.?0*$/.test(fraction);
  return `${sign === '-' && isZero ? '' : sign}${grouped}${fraction}${suffix}`;
}

/** A cell that reads as a number: "1,234.5", "-3", "4.7 %", "12 %", "0.25x", "-" (no value) or "". */
const NUMERIC_CELL = /^(?:[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?: ?%|x)?|-|)$/;

/** Whether a table cell reads as a number (so its column is right-aligned). */
export function isNumericCell(cell: string): boolean {
  return NUMERIC_CELL.test(cell);
}

/** Text table: a header, a rule, and rows; columns whose every cell is numeric are right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.some((r) => (r[i] ?? '') !== '' && r[i] !== '-') && rows.every((r) => isNumericCell(r[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(r))].join('\n');
}
