/**
 * Machine output of the ledger (the `--json` shape of the ledger commands): entries with
 * `event`, `at` and `lines` of `account`, `debit`, `credit`; `balances` account -> signed
 * decimal string (debit positive); `quantities` {materials, products, hedges}. Money is written
 * with the currency's places, quantities as computed.
 */
import type { Decimal } from '../core/decimal.js';
import { formatTime } from '../core/time.js';
import type { JournalEntry } from './journal.js';
import type { Ledger, Quantities } from './ledger.js';

/** One entry as JSON. */
export function entryToJson(e: JournalEntry, places = 2): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: e.seq,
    event: e.eventId,
    type: e.eventType,
    at: formatTime(e.at),
    knownAt: formatTime(e.knownAt),
    lines: e.lines.map((l) => ({ account: l.account, debit: l.debit.toFixed(places), credit: l.credit.toFixed(places) })),
    quantities: e.movements.map((m) => ({ kind: m.kind, id: m.id, qty: m.qty.toFixed(), after: m.after.toFixed(), ...(m.value !== undefined ? { value: m.value.toFixed(places) } : {}) })),
    versions: e.versions,
  };
  if (e.ref !== undefined) out.ref = e.ref;
  if (e.reason !== undefined) out.reason = e.reason;
  if (e.flags) out.flags = e.flags;
  if (e.reverses !== undefined) out.reverses = e.reverses;
  if (e.source) out.source = `${e.source.file}:${e.source.line}`;
  out.hash = e.hash;
  return out;
}

/** Balances as account -> signed decimal string (debit positive). */
export function balancesToJson(balances: ReadonlyMap<string, Decimal>, places = 2): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [account, value] of balances) out[account] = value.toFixed(places);
  return out;
}

/** Quantities as {materials, products, hedges} of decimal strings. */
export function quantitiesToJson(q: Quantities, places = 2): Record<string, unknown> {
  return {
    materials: Object.fromEntries([...q.materials].map(([id, v]) => [id, v.toFixed()])),
    products: Object.fromEntries([...q.products].map(([id, v]) => [id, v.toFixed()])),
    hedges: Object.fromEntries([...q.hedges].map(([id, h]) => [id, { qty: h.qty.toFixed(), carryingValue: h.carryingValue.toFixed(places) }])),
  };
}

export interface LedgerReport {
  readonly currency: string;
  readonly trigger: string;
  readonly entries: Record<string, unknown>[];
  readonly balances: Record<string, string>;
  readonly quantities: Record<string, unknown>;
}

/** The replay/balances document: `entries` (all, or the ones given), balances and quantities. */
export function ledgerReport(ledger: Ledger, entries: readonly JournalEntry[] = ledger.entries(), asOf: { at?: number; knownAt?: number } = {}): LedgerReport {
  const places = ledger.plant.moneyPlaces;
  return {
    currency: ledger.plant.currency,
    trigger: ledger.plant.trigger,
    entries: entries.map((e) => entryToJson(e, places)),
    balances: balancesToJson(ledger.balances(asOf), places),
    quantities: quantitiesToJson(ledger.quantities(asOf), places),
  };
}
