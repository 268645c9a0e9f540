/**
 * Journal entries and their canonical, hash-chained form. A journal is append-only: entries
 * are added by a posting and never changed. Each entry carries a hash chained to the previous
 * entry's hash: sha256(canonical JSON of the entry + previous hash), so any edit of a stored
 * entry breaks the chain from that point on.
 *
 * The chain covers everything the books are derived from: each entry names the event it came
 * from by the hash of that event's stored record (`eventHash`: id, type, times, content
 * digest, source), and the first entry posted under a plant version names that version by the
 * hash of its text (`plantHash`). Where entries live is the store's business (see store.ts).
 */
import { Decimal, ZERO } from '../core/decimal.js';
import { sha256Hex } from '../core/hash.js';
import type { EpochMs } from '../core/time.js';

/** One posting line: exactly one of debit and credit is non-zero (both >= 0). */
export interface JournalLine {
  readonly account: string;
  readonly debit: Decimal;
  readonly credit: Decimal;
}

/**
 * A change of a book quantity (and, for finished goods and hedges, of its carrying value), in
 * decimal.js values (`Movement`) or in the engine's scaled integers (`DraftMovement`).
 */
export interface MovementOf<N> {
  readonly kind: 'material' | 'product' | 'hedge';
  readonly id: string;
  /** Signed change of the quantity. */
  readonly qty: N;
  /** Book quantity after this movement (checked by verify). */
  readonly after: N;
  /** Signed change of the carrying value (products in completion variants, hedges). */
  readonly value?: N;
}
export type Movement = MovementOf<Decimal>;

/**
 * The economic actual behind an entry, independent of the trigger variant (what the cost feed
 * reads): a purchase's quantity and full cost (price + fee), conversion cost incurred, units
 * completed or sold with the standard conversion cost they carried.
 */
export type ActualOf<N> =
  | { readonly kind: 'purchase'; readonly material: string; readonly qty: N; readonly amount: N }
  | { readonly kind: 'conversion'; readonly amount: N; readonly category?: string }
  | { readonly kind: 'completion'; readonly product: string; readonly qty: N; readonly allocated: N }
  | { readonly kind: 'sale'; readonly product: string; readonly qty: N; readonly conversion: N };
export type Actual = ActualOf<Decimal>;

/** Versions of the plant data an entry used (`<id>@<from date>` or `<id>@base`). */
export interface EntryVersions {
  readonly bom?: string;
  /** Comma-separated when an entry used several materials' standard costs. */
  readonly standardCost?: string;
  readonly conversionCost?: string;
}

/** The entry types beyond the event types: the ledger's own revaluation entries. */
export type EntryType = 'purchase' | 'conversion' | 'completion' | 'sale' | 'count' | 'close' | 'reverse' | 'hedge' | 'hedge-mark' | 'revaluation';

/** A journal entry as posted: balanced lines, quantity movements, versions, audit fields, hash chain. */
export interface JournalEntry {
  /** 1-based position in the journal. */
  readonly seq: number;
  /** The event's id (its own, `#<n>` for events without one, `revaluation:<version>` for revaluations). */
  readonly eventId: string;
  readonly eventType: EntryType;
  readonly at: EpochMs;
  readonly knownAt: EpochMs;
  readonly lines: readonly JournalLine[];
  readonly movements: readonly Movement[];
  readonly versions: EntryVersions;
  readonly actual?: Actual;
  readonly ref?: string;
  readonly reason?: string;
  /** Warnings attached at posting, e.g. `negative-stock natgas short 12.5`. */
  readonly flags?: readonly string[];
  /** For reversal entries: seq of the entry this one reverses. */
  readonly reverses?: number;
  /** Where the event came from. */
  readonly source?: { readonly file: string; readonly line: number };
  /** Hash of the stored record of the event this entry comes from (absent for revaluations). */
  readonly eventHash?: string;
  /** Hash of the plant text, on the first entry posted under each plant version. */
  readonly plantHash?: string;
  readonly hash: string;
  readonly prevHash: string;
}

/** An entry before the journal numbers and hashes it. */
export type EntryDraft = Omit<JournalEntry, 'seq' | 'hash' | 'prevHash'>;

/** What the journal remembers about each posted event (idempotency and audit). */
export interface EventRecord {
  readonly id: string;
  readonly type: string;
  readonly at: EpochMs;
  readonly knownAt: EpochMs;
  /** sha256 of the event's canonical JSON (the same id must keep meaning the same event); '' for events posted without an id. */
  readonly digest: string;
  readonly source?: { readonly file: string; readonly line: number };
}

/** The hash of an event's stored record, which every entry of the event carries (`eventHash`). */
export function eventRecordHash(r: EventRecord): string {
  const source = r.source ? `"source":{"file":${quote(r.source.file)},"line":${r.source.line}},` : '';
  return sha256Hex(`{"at":${r.at},"digest":"${r.digest}","id":${quote(r.id)},"knownAt":${r.knownAt},${source}"type":"${r.type}"}`);
}

const PLAIN = /^[\w .:#@/+-]*$/;

/** JSON.stringify of a string, without its cost for the plain ids and file names the ledger mostly sees. */
function quote(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** The hash of "no previous entry". */
export const GENESIS_HASH = '0'.repeat(64);

// ---------------------------------------------------------------------------------------------
// Canonical serialisation. Keys are written in sorted order by construction, so the text equals
// canonicalJson() of the same value (a test checks this); decimals as plain strings.

function dec(value: Decimal): string {
  return JSON.stringify(value.toFixed());
}

/** Canonical JSON of an entry's content (everything but hash and prevHash). */
export function entryBody(e: Omit<JournalEntry, 'hash' | 'prevHash'>): string {
  let out = '{';
  if (e.actual) {
    const a = e.actual;
    let actual: string;
    switch (a.kind) {
      case 'purchase':
        actual = `{"amount":${dec(a.amount)},"kind":"purchase","material":${JSON.stringify(a.material)},"qty":${dec(a.qty)}}`;
        break;
      case 'conversion':
        actual = `{"amount":${dec(a.amount)},${a.category !== undefined ? `"category":${JSON.stringify(a.category)},` : ''}"kind":"conversion"}`;
        break;
      case 'completion':
        actual = `{"allocated":${dec(a.allocated)},"kind":"completion","product":${JSON.stringify(a.product)},"qty":${dec(a.qty)}}`;
        break;
      case 'sale':
        actual = `{"conversion":${dec(a.conversion)},"kind":"sale","product":${JSON.stringify(a.product)},"qty":${dec(a.qty)}}`;
        break;
    }
    out += `"actual":${actual},`;
  }
  out += `"at":${e.at},`;
  if (e.eventHash !== undefined) out += `"eventHash":${JSON.stringify(e.eventHash)},`;
  out += `"eventId":${JSON.stringify(e.eventId)},"eventType":${JSON.stringify(e.eventType)},`;
  if (e.flags) out += `"flags":${JSON.stringify(e.flags)},`;
  out += `"knownAt":${e.knownAt},"lines":[`;
  for (let i = 0; i < e.lines.length; i += 1) {
    const l = e.lines[i]!;
    out += `${i ? ',' : ''}{"account":${JSON.stringify(l.account)},"credit":${dec(l.credit)},"debit":${dec(l.debit)}}`;
  }
  out += '],"movements":[';
  for (let i = 0; i < e.movements.length; i += 1) {
    const m = e.movements[i]!;
    out += `${i ? ',' : ''}{"after":${dec(m.after)},"id":${JSON.stringify(m.id)},"kind":"${m.kind}","qty":${dec(m.qty)}${m.value !== undefined ? `,"value":${dec(m.value)}` : ''}}`;
  }
  out += '],';
  if (e.plantHash !== undefined) out += `"plantHash":${JSON.stringify(e.plantHash)},`;
  if (e.reason !== undefined) out += `"reason":${JSON.stringify(e.reason)},`;
  if (e.ref !== undefined) out += `"ref":${JSON.stringify(e.ref)},`;
  if (e.reverses !== undefined) out += `"reverses":${e.reverses},`;
  out += `"seq":${e.seq},`;
  if (e.source) out += `"source":{"file":${JSON.stringify(e.source.file)},"line":${e.source.line}},`;
  const v = e.versions;
  const parts: string[] = [];
  if (v.bom !== undefined) parts.push(`"bom":${JSON.stringify(v.bom)}`);
  if (v.conversionCost !== undefined) parts.push(`"conversionCost":${JSON.stringify(v.conversionCost)}`);
  if (v.standardCost !== undefined) parts.push(`"standardCost":${JSON.stringify(v.standardCost)}`);
  out += `"versions":{${parts.join(',')}}}`;
  return out;
}

/** The chained hash of an entry: sha256(body + previous hash). */
export function entryHash(body: string, prevHash: string): string {
  return sha256Hex(body + prevHash);
}

/** Rebuilds an entry from its stored body (the inverse of entryBody). */
export function entryFromBody(body: string, hash: string, prevHash: string): JournalEntry {
  const o = JSON.parse(body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const d = (s: string): Decimal => new Decimal(s);
  let actual: Actual | undefined;
  if (o.actual) {
    const a = o.actual;
    if (a.kind === 'purchase') actual = { kind: 'purchase', material: a.material, qty: d(a.qty), amount: d(a.amount) };
    else if (a.kind === 'conversion') actual = { kind: 'conversion', amount: d(a.amount), ...(a.category !== undefined ? { category: a.category } : {}) };
    else if (a.kind === 'completion') actual = { kind: 'completion', product: a.product, qty: d(a.qty), allocated: d(a.allocated) };
    else actual = { kind: 'sale', product: a.product, qty: d(a.qty), conversion: d(a.conversion) };
  }
  return {
    seq: o.seq,
    eventId: o.eventId,
    eventType: o.eventType,
    at: o.at,
    knownAt: o.knownAt,
    lines: (o.lines as any[]).map((l) => ({ account: l.account, debit: d(l.debit), credit: d(l.credit) })), // eslint-disable-line @typescript-eslint/no-explicit-any
    movements: (o.movements as any[]).map((m) => ({ kind: m.kind, id: m.id, qty: d(m.qty), after: d(m.after), ...(m.value !== undefined ? { value: d(m.value) } : {}) })), // eslint-disable-line @typescript-eslint/no-explicit-any
    versions: o.versions,
    ...(actual ? { actual } : {}),
    ...(o.ref !== undefined ? { ref: o.ref } : {}),
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.flags !== undefined ? { flags: o.flags } : {}),
    ...(o.reverses !== undefined ? { reverses: o.reverses } : {}),
    ...(o.source !== undefined ? { source: o.source } : {}),
    ...(o.eventHash !== undefined ? { eventHash: o.eventHash } : {}),
    ...(o.plantHash !== undefined ? { plantHash: o.plantHash } : {}),
    hash,
    prevHash,
  };
}

/** Sum of debits minus credits of a line list (ZERO for a balanced entry). */
export function imbalance(lines: readonly JournalLine[]): Decimal {
  let total = ZERO;
  for (const l of lines) total = total.plus(l.debit).minus(l.credit);
  return total;
}
