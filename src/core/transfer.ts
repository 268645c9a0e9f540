/**
 * Values sent between worker threads with their Decimals intact. Structured cloning keeps
 * plain objects, arrays, Maps, Sets and typed arrays, but a Decimal arrives as a plain object
 * (and its `constructor` field, a function, cannot be cloned at all). `toTransfer` replaces
 * each Decimal by its sign, exponent and digit words, exactly; `fromTransfer` rebuilds it.
 * Anything else that is not plain data (a class instance, a function) is refused, so a result
 * that would not survive the trip fails loudly instead of arriving changed.
 */
import { Decimal } from './decimal.js';

const TAG = '__procuraDecimal';

interface DecimalWords {
  readonly [TAG]: 1;
  readonly s: number;
  readonly e: number;
  readonly d: number[] | null;
}

/** The decimal.js fields that hold a value exactly (sign, base-1e7 exponent, digit words). */
interface DecimalFields {
  readonly s: number;
  readonly e: number;
  readonly d: number[] | null;
}

export function toTransfer(value: unknown, path = 'value'): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') throw new Error(`internal: ${path} is a ${typeof value} and cannot be sent to another thread`);
    return value;
  }
  if (value instanceof Decimal) {
    const fields = value as unknown as DecimalFields;
    return { [TAG]: 1, s: fields.s, e: fields.e, d: fields.d === null ? null : [...fields.d] } satisfies DecimalWords;
  }
  if (Array.isArray(value)) return value.map((item, i) => toTransfer(item, `${path}[${i}]`));
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(toTransfer(k, `${path} key`), toTransfer(v, `${path}.get(${String(k)})`));
    return out;
  }
  if (value instanceof Set) return new Set([...value].map((v) => toTransfer(v, `${path} item`)));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new Error(`internal: ${path} is a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'} and cannot be sent to another thread`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = toTransfer((value as Record<string, unknown>)[key], `${path}.${key}`);
  return out;
}

export function fromTransfer(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromTransfer);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(fromTransfer(k), fromTransfer(v));
    return out;
  }
  if (value instanceof Set) return new Set([...value].map(fromTransfer));
  const record = value as Record<string, unknown>;
  if (record[TAG] === 1) {
    const words = record as unknown as DecimalWords;
    // decimal.js copies another instance's fields when given one (recognised by its toStringTag).
    return new Decimal({ toStringTag: '[object Decimal]', s: words.s, e: words.e, d: words.d } as unknown as Decimal);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) out[key] = fromTransfer(record[key]);
  return out;
}
