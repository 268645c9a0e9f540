/**
 * Ledger events: the JSON Lines contract of DESIGN.md plus what the order pipeline needs
 * (fees, payment source, audit references, hedges) and corrections by reversal.
 *
 * Every event has the time it happened (`at`) and the time its figure became known
 * (`knownAt`, default `at`, never earlier). An optional `id` is an idempotency key: an id
 * already posted is skipped. Events in a file must be in non-decreasing `at` order.
 * Parsing refuses bad input with an InputError naming file, line and field.
 */
import { readFileSync } from 'node:fs';
import { Decimal, parseDecimal, parseNonNegative, parsePositive } from '../core/decimal.js';
import { InputError, type Where } from '../core/errors.js';
import { parseTime, type EpochMs } from '../core/time.js';
import { canonicalJson, sha256Hex } from '../core/hash.js';
import type { Plant } from './plant.js';

/** Where an event came from (for error messages and the audit trail). */
export interface EventSource {
  readonly file: string;
  readonly line: number;
}

interface EventBase {
  /** Idempotency key; events without one get `#<n>` in the journal and cannot be reversed by id. */
  readonly id?: string;
  readonly at: EpochMs;
  /** When the figure became known; >= at. */
  readonly knownAt: EpochMs;
  /** External reference (a client order id, an invoice number). */
  readonly ref?: string;
  /** Why it happened (procure, forced-reorder, emergency, hedge, ...). */
  readonly reason?: string;
  readonly source?: EventSource;
}

export type PaidFrom = 'accounts_payable' | 'exchange_cash';

/** Materials bought: `qty` at `unitPrice` plus an optional `fee` (money, added to the cost). */
export interface PurchaseEvent extends EventBase {
  readonly type: 'purchase';
  readonly material: string;
  readonly qty: Decimal;
  readonly unitPrice: Decimal;
  readonly fee?: Decimal;
  /** Credited account; default accounts_payable. */
  readonly paidFrom: PaidFrom;
}

/** Actual conversion cost (labour, overhead) incurred. */
export interface ConversionEvent extends EventBase {
  readonly type: 'conversion';
  readonly amount: Decimal;
  readonly category?: string;
}

export interface CompletionEvent extends EventBase {
  readonly type: 'completion';
  readonly product: string;
  readonly qty: Decimal;
}

export interface SaleEvent extends EventBase {
  readonly type: 'sale';
  readonly product: string;
  readonly qty: Decimal;
  /** When given, revenue is posted (Dr accounts_receivable / Cr sales_revenue). */
  readonly unitPrice?: Decimal;
}

/** A physical count of one material or one product. */
export interface CountEvent extends EventBase {
  readonly type: 'count';
  readonly material?: string;
  readonly product?: string;
  readonly qty: Decimal;
}

/** Period end: under/over-allocated conversion cost written off or prorated. */
export interface CloseEvent extends EventBase {
  readonly type: 'close';
}

/** Posts the exact opposite of every entry (and quantity movement) of event `of`. */
export interface ReverseEvent extends EventBase {
  readonly type: 'reverse';
  readonly of: string;
}

/** A hedge trade: qty signed (+ buys, - sells) at `price`, `fee` in money, settled in exchange_cash. */
export interface HedgeEvent extends EventBase {
  readonly type: 'hedge';
  readonly instrument: string;
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly fee?: Decimal;
}

/** Marks the open position in `instrument` to `price`; the change goes to hedge_gains_losses. */
export interface HedgeMarkEvent extends EventBase {
  readonly type: 'hedge-mark';
  readonly instrument: string;
  readonly price: Decimal;
}

/** Every event the ledger posts. */
export type LedgerEvent =
  | PurchaseEvent
  | ConversionEvent
  | CompletionEvent
  | SaleEvent
  | CountEvent
  | CloseEvent
  | ReverseEvent
  | HedgeEvent
  | HedgeMarkEvent;

export type LedgerEventType = LedgerEvent['type'];

const COMMON = ['type', 'id', 'at', 'knownAt', 'ref', 'reason'];
const FIELDS: Record<LedgerEventType, readonly string[]> = {
  purchase: ['material', 'qty', 'unitPrice', 'fee', 'paidFrom'],
  conversion: ['amount', 'category'],
  completion: ['product', 'qty'],
  sale: ['product', 'qty', 'unitPrice'],
  count: ['material', 'product', 'qty'],
  close: [],
  reverse: ['of'],
  hedge: ['instrument', 'qty', 'price', 'fee'],
  'hedge-mark': ['instrument', 'price'],
};
/** Fields holding amounts or quantities: decimal strings only. */
const DECIMAL_FIELDS = ['qty', 'unitPrice', 'fee', 'amount', 'price'];
const ALLOWED = new Map<string, ReadonlySet<string>>(Object.entries(FIELDS).map(([type, fields]) => [type, new Set([...COMMON, ...fields])]));

/** Reads a JSON Lines event file and validates it against `plant`. */
export function loadEvents(path: string, plant: Plant): LedgerEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read event file: ${(error as Error).message}`, { file: path });
  }
  return parseEvents(text, path, plant);
}

/**
 * Parses JSON Lines event text. Blank lines are ignored. Refuses (InputError naming file, line
 * and field): malformed JSON, unknown types or fields, unknown materials or products, bad
 * numbers, negative quantities, knownAt before at, and events out of time order.
 */
export function parseEvents(text: string, file: string, plant: Plant): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  let lastAt = -Infinity;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo += 1;
    const raw = text.slice(start, end);
    start = end + 1;
    if (raw.trim() === '') continue;
    const event = parseEventLine(raw, { file, line: lineNo }, plant);
    if (event.at < lastAt) {
      throw new InputError(`events must be in time order: ${new Date(event.at).toISOString()} is before the previous event's ${new Date(lastAt).toISOString()}`, { file, line: lineNo, field: 'at' });
    }
    lastAt = event.at;
    events.push(event);
  }
  return events;
}

/** Parses one JSON object (one line of an event file). */
export function parseEventLine(raw: string, source: EventSource, plant: Plant): LedgerEvent {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new InputError(`malformed JSON: ${(error as Error).message}`, { file: source.file, line: source.line });
  }
  const repeated = repeatedKey(raw);
  if (repeated !== undefined) throw new InputError('key given twice in one event (JSON keeps only the last value; give it once)', { file: source.file, line: source.line, field: repeated });
  return parseEventObject(value, source, plant);
}

/**
 * The first key that appears twice in one object of a valid JSON text, or undefined. JSON.parse
 * silently keeps the last value, which would post an event other than the one written.
 */
export function repeatedKey(text: string): string | undefined {
  const stack: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j += 1) {
        const d = text.charCodeAt(j);
        if (d === 92 /* \ */) {
          escaped = true;
          j += 1;
        } else if (d === 34) break;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 123 /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 91 /* [ */) {
      stack.push(undefined);
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
    } else if (c === 44 /* , */) {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
  return undefined;
}

/** Validates an already-decoded event object (used by parseEvents and by callers building events from JSON). */
export function parseEventObject(value: unknown, source: EventSource, plant: Plant): LedgerEvent {
  const where = (field?: string): Where => ({ file: source.file, line: source.line, field });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError('expected a JSON object', where());
  const o = value as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !ALLOWED.has(type)) {
    throw new InputError(`unknown event type ${JSON.stringify(type)} (expected one of ${Object.keys(FIELDS).join(', ')})`, where('type'));
  }
  const allowed = ALLOWED.get(type)!;
  for (const key of Object.keys(o)) if (!allowed.has(key)) throw new InputError(`unknown field for a ${type} event`, where(key));

  const text = (field: string, required: boolean): string | undefined => {
    const v = o[field];
    if (v === undefined) {
      if (required) throw new InputError('missing', where(field));
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') throw new InputError(`expected a non-empty string, got ${JSON.stringify(v)}`, where(field));
    return v;
  };
  const required = (field: string): unknown => {
    if (o[field] === undefined) throw new InputError('missing', where(field));
    return o[field];
  };
  // Amounts and quantities are decimal strings: a JSON number has already passed through a
  // binary float (0.1, 3450.000000000001) before we see it.
  for (const field of DECIMAL_FIELDS) {
    const v = o[field];
    if (typeof v === 'number') throw new InputError(`expected a decimal string like "${Number.isFinite(v) ? String(v) : '12.50'}", got the JSON number ${String(v)} (amounts and quantities are quoted)`, where(field));
  }
  const at = parseTime(required('at'), where('at'));
  const knownAt = o.knownAt === undefined ? at : parseTime(o.knownAt, where('knownAt'));
  if (knownAt < at) throw new InputError('knownAt must not be before at', where('knownAt'));
  const id = text('id', false);
  if (id !== undefined && id.startsWith('#')) throw new InputError('ids starting with "#" are reserved for events without an id', where('id'));
  const ref = text('ref', false);
  const reason = text('reason', false);
  // Events are built as object literals with every field in one order (absent ones undefined),
  // not with `{ ...base, ... }`: V8 gives spread-built objects slow property access (20-30x on
  // a read of `type` across a million events), which every reader of the events pays.

  const material = (field = 'material'): string => {
    const m = text(field, true)!;
    if (!plant.materials.has(m)) throw new InputError(`unknown material ${JSON.stringify(m)}`, where(field));
    return m;
  };
  const product = (field = 'product'): string => {
    const p = text(field, true)!;
    if (!plant.products.has(p)) throw new InputError(`unknown product ${JSON.stringify(p)}`, where(field));
    return p;
  };

  switch (type as LedgerEventType) {
    case 'purchase': {
      const paidFrom = o.paidFrom ?? 'accounts_payable';
      if (paidFrom !== 'accounts_payable' && paidFrom !== 'exchange_cash') {
        throw new InputError(`expected "accounts_payable" or "exchange_cash", got ${JSON.stringify(paidFrom)}`, where('paidFrom'));
      }
      return {
        type: 'purchase',
        id,
        at,
        knownAt,
        ref,
        reason,
        source,
        material: material(),
        qty: parsePositive(required('qty'), where('qty')),
        unitPrice: parseNonNegative(required('unitPrice'), where('unitPrice')),
        paidFrom,
        fee: o.fee !== undefined ? parseNonNegative(o.fee, where('fee')) : undefined,
      };
    }
    case 'conversion': {
      const category = text('category', false);
      return { type: 'conversion', id, at, knownAt, ref, reason, source, amount: parseNonNegative(required('amount'), where('amount')), category };
    }
    case 'completion':
      return { type: 'completion', id, at, knownAt, ref, reason, source, product: product(), qty: parsePositive(required('qty'), where('qty')) };
    case 'sale':
      return {
        type: 'sale',
        id,
        at,
        knownAt,
        ref,
        reason,
        source,
        product: product(),
        qty: parsePositive(required('qty'), where('qty')),
        unitPrice: o.unitPrice !== undefined ? parseNonNegative(o.unitPrice, where('unitPrice')) : undefined,
      };
    case 'count': {
      if ((o.material === undefined) === (o.product === undefined)) throw new InputError('a count names exactly one of "material" or "product"', where(o.material === undefined ? 'material' : 'product'));
      const qty = parseNonNegative(required('qty'), where('qty'));
      const counted = o.material !== undefined ? { material: material(), product: undefined } : { material: undefined, product: product() };
      return { type: 'count', id, at, knownAt, ref, reason, source, material: counted.material, product: counted.product, qty };
    }
    case 'close':
      return { type: 'close', id, at, knownAt, ref, reason, source };
    case 'reverse':
      return { type: 'reverse', id, at, knownAt, ref, reason, source, of: text('of', true)! };
    case 'hedge': {
      const qty = parseDecimal(required('qty'), where('qty'));
      if (qty.isZero()) throw new InputError('must not be zero (+ buys, - sells)', where('qty'));
      return {
        type: 'hedge',
        id,
        at,
        knownAt,
        ref,
        reason,
        source,
        instrument: text('instrument', true)!,
        qty,
        price: parsePositive(required('price'), where('price')),
        fee: o.fee !== undefined ? parseNonNegative(o.fee, where('fee')) : undefined,
      };
    }
    case 'hedge-mark':
      return { type: 'hedge-mark', id, at, knownAt, ref, reason, source, instrument: text('instrument', true)!, price: parsePositive(required('price'), where('price')) };
  }
}

/** The event as plain JSON (decimals as strings, times as epoch ms), without its source. */
export function eventToJson(event: LedgerEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === 'source' || value === undefined) continue;
    out[key] = value instanceof Decimal ? value.toFixed() : value;
  }
  return out;
}

/** Content digest of an event (what an idempotency key must keep meaning). */
export function eventDigest(event: LedgerEvent): string {
  return sha256Hex(canonicalJson(eventToJson(event)));
}

/** Formats an event's origin for messages: `file:line` or `id`. */
export function describeSource(event: LedgerEvent): Where {
  return event.source ? { file: event.source.file, line: event.source.line } : {};
}
