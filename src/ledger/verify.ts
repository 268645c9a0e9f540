/**
 * `procura ledger verify`'s check of a whole store, apart from the Ledger: it reads the store's
 * entries, event records, plant versions and books checkpoint and needs no parsed plant, so
 * the command opens the bare store (src/store/open-store.ts) and loads neither the plant's
 * YAML parser nor zod (about 150 ms of a 400 ms cold start on a slow host). `Ledger.verify`
 * runs the same check on a ledger's own store.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { formatTime } from '../core/time.js';
import { Books, draftOf, type BooksSnapshot } from './engine.js';
import { entryBody, entryHash, eventRecordHash, GENESIS_HASH, type JournalEntry } from './journal.js';
import { readSync, type ChainHead, type ChainMark, type LedgerStore, type StoreState, type StoredEvent, type StoredPlantVersion, type SyncLedgerStore } from './store.js';

/** Outcome of verify: ok, or the first fault found; flagged entries are listed either way. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly fault?: string;
  readonly entries: number;
  /** The head as found (last entry's seq and hash, events recorded). */
  readonly head: ChainHead;
  readonly flagged: readonly { seq: number; eventId: string; flags: readonly string[] }[];
}

/** Options of verify: a head exported earlier (`procura ledger head`) that the chain must still contain. */
export interface VerifyOptions {
  readonly expectHead?: ChainMark;
}

/**
 * Checks the store from the first entry: every entry balances, each hash matches its content
 * and chains to the previous one, every entry names the stored record of its event and every
 * event record has entries, plant versions hash to what the entries name, book quantities
 * replay to the recorded `after` figures and go below zero only in flagged entries, the
 * books checkpoint equals the replayed books, the head is the last entry, the trial balance is
 * zero, and (with `expectHead`) the chain still contains an exported head. Returns the first
 * fault.
 */
export function verifyStore(store: SyncLedgerStore, options: VerifyOptions = {}): VerifyResult {
  try {
    return readSync(store, (r) => {
      const v = new Verifier(r.state(), r.plants(), options);
      const events = r.scanEvents(1)[Symbol.iterator]();
      for (const e of r.scanEntries(1)) {
        const record = v.wantsEvent(e) ? events.next() : undefined;
        if (!v.entry(e, record && !record.done ? record.value : undefined)) return v.result();
      }
      const extra = events.next();
      return v.finish(extra.done ? undefined : extra.value, r.books());
    });
  } catch (error) {
    return faultOf(error);
  }
}

/** `verifyStore` for an asynchronous store engine (PostgreSQL). */
export async function verifyStoreAsync(store: LedgerStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  try {
    return await store.read(async (r) => {
      const v = new Verifier(await r.state(), await r.plants(), options);
      const events = r.scanEvents(1)[Symbol.asyncIterator]();
      for await (const e of r.scanEntries(1)) {
        const record = v.wantsEvent(e) ? await events.next() : undefined;
        if (!v.entry(e, record && !record.done ? record.value : undefined)) return v.result();
      }
      const extra = await events.next();
      return v.finish(extra.done ? undefined : extra.value, await r.books());
    });
  } catch (error) {
    return faultOf(error);
  }
}

/** A store engine's own verify error (a row it cannot read as an entry, say) as a failed result; anything else is thrown on. */
function faultOf(error: unknown): VerifyResult {
  if (error instanceof ProcuraError && error.code === ErrorCode.verify) return { ok: false, fault: error.detail, entries: 0, head: { seq: 0, hash: GENESIS_HASH, events: 0 }, flagged: [] };
  throw error;
}

/** The full check of verify, fed entry by entry (and the event record each new event needs). */
class Verifier {
  private readonly flagged: { seq: number; eventId: string; flags: readonly string[] }[] = [];
  private readonly books = new Books();
  private readonly qty = new Map<string, Decimal>();
  private readonly plantsByEntry: Map<number, StoredPlantVersion>;
  private count = 0;
  private prevHash = GENESIS_HASH;
  private eventId: string | undefined;
  private eventHash: string | undefined;
  private events = 0;
  private fault: string | undefined;

  /** Hash of the entry an exported head names, once reached. */
  private expectedSeqHash: string | undefined;

  constructor(
    private readonly state: StoreState,
    plants: readonly StoredPlantVersion[],
    private readonly options: VerifyOptions,
  ) {
    this.plantsByEntry = new Map(plants.map((p) => [p.firstEntry, p]));
    for (const p of plants) {
      if (sha256Hex(p.text) !== p.hash) {
        this.fault = `the plant version first used by entry ${p.firstEntry} (${p.file}) does not match its hash: its text was changed`;
        break;
      }
    }
  }

  /** Whether `e` starts a new event (the driver then passes the next stored event record). */
  wantsEvent(e: JournalEntry): boolean {
    return e.eventType !== 'revaluation' && e.eventId !== this.eventId;
  }

  /** Checks one entry; false once a fault is found. */
  entry(e: JournalEntry, record: StoredEvent | undefined): boolean {
    if (this.fault) return false;
    const i = this.count;
    const name = `entry ${e.seq} (event ${e.eventId}, ${e.eventType} at ${formatTime(e.at)})`;
    const fail = (fault: string): boolean => {
      this.fault = fault;
      return false;
    };
    if (e.seq !== i + 1) return fail(`${name}: expected seq ${i + 1}`);
    this.count += 1;
    if (e.flags) this.flagged.push({ seq: e.seq, eventId: e.eventId, flags: e.flags });
    let debit = ZERO;
    let credit = ZERO;
    for (const l of e.lines) {
      if (l.debit.lt(0) || l.credit.lt(0) || (!l.debit.isZero() && !l.credit.isZero())) return fail(`${name}: line ${l.account} must have one non-negative side`);
      debit = debit.plus(l.debit);
      credit = credit.plus(l.credit);
    }
    if (!debit.eq(credit)) return fail(`${name}: debits ${debit.toFixed()} do not equal credits ${credit.toFixed()}`);
    if (e.prevHash !== this.prevHash) return fail(`${name}: hash chain broken (previous hash does not match)`);
    if (entryHash(entryBody(e), this.prevHash) !== e.hash) return fail(`${name}: hash does not match the entry's content`);
    this.prevHash = e.hash;
    if (this.options.expectHead?.seq === e.seq) this.expectedSeqHash = e.hash;
    // Events: each event's entries name its stored record; every record has entries.
    if (e.eventType === 'revaluation') {
      if (e.eventHash !== undefined) return fail(`${name}: a revaluation names an event`);
    } else {
      if (e.eventId !== this.eventId) {
        if (!record) return fail(`${name}: the store has no record of event ${e.eventId}`);
        if (record.id !== e.eventId) return fail(`${name}: the next stored event record is ${record.id}, not ${e.eventId} (event records were removed or reordered)`);
        if (eventRecordHash(record) !== record.hash) return fail(`event ${record.id}: its stored record was changed (hash does not match)`);
        if (record.type !== e.eventType) return fail(`event ${record.id}: stored as a ${record.type} event, its entries say ${e.eventType}`);
        this.eventId = e.eventId;
        this.eventHash = record.hash;
        this.events += 1;
      }
      if (e.eventHash !== this.eventHash) return fail(`${name}: names an event record other than the one stored`);
    }
    // Plant versions: the first entry under each version names it, and no other entry does.
    const version = this.plantsByEntry.get(e.seq);
    if (version ? e.plantHash !== version.hash : e.plantHash !== undefined) return fail(`${name}: the plant version it names is not the one stored from this entry`);
    if (e.seq === 1 && e.plantHash === undefined) return fail(`${name}: the first entry names no plant version`);
    for (const m of e.movements) {
      const key = `${m.kind}:${m.id}`;
      const after = (this.qty.get(key) ?? ZERO).plus(m.qty);
      if (!after.eq(m.after)) return fail(`${name}: book quantity of ${m.kind} ${m.id} replays to ${after.toFixed()}, entry records ${m.after.toFixed()}`);
      this.qty.set(key, after);
      if (m.kind !== 'hedge' && after.lt(0) && m.qty.lt(0) && !e.flags) return fail(`${name}: ${m.kind} ${m.id} below zero (${after.toFixed()}) in an unflagged entry`);
    }
    this.books.apply(draftOf(e));
    return true;
  }

  /** The final checks: no event record without entries, head, checkpoint, exported head, trial balance. */
  finish(extra: StoredEvent | undefined, checkpoint: BooksSnapshot | undefined): VerifyResult {
    if (this.fault) return this.result();
    const fail = (fault: string): VerifyResult => {
      this.fault = fault;
      return this.result();
    };
    const head = this.state.head;
    if (head.seq !== this.count) return fail(this.count < head.seq ? `the store ends at entry ${this.count} but its head is entry ${head.seq}: entries were removed` : `entries beyond the head (${head.seq}) the last posting recorded`);
    if (extra) return fail(`event ${extra.id} (record ${extra.seq}) has no entries`);
    if (head.hash !== this.prevHash) return fail(`the head's hash differs from the last entry's`);
    if (head.events !== this.events) return fail(`the head counts ${head.events} events, the entries ${this.events}`);
    if (this.count > 0 && this.plantsByEntry.size === 0) return fail('the store keeps no plant version');
    if (checkpoint) {
      const replayed = this.books.toSnapshot();
      const a = JSON.stringify({ ...replayed, revisionsDone: 0 });
      const b = JSON.stringify({ ...checkpoint, revisionsDone: 0 });
      if (a !== b) return fail('the books checkpoint at the head differs from the books the entries replay to');
    }
    const expect = this.options.expectHead;
    if (expect) {
      if (expect.seq > this.count) return fail(`expected head entry ${expect.seq} is missing: the store ends at entry ${this.count} (its tail was removed)`);
      const at = this.expectedSeqHash;
      if (at !== expect.hash) return fail(`entry ${expect.seq} has hash ${at ?? '?'}, the expected head says ${expect.hash}: the chain was rewritten`);
    }
    let trial = ZERO;
    for (const balance of this.books.balances.values()) trial = trial.plus(balance.value.toDecimal());
    if (!trial.isZero()) return fail(`trial balance is ${trial.toFixed()}, not zero`);
    return this.result();
  }

  result(): VerifyResult {
    const head = { seq: this.count, hash: this.prevHash, events: this.events };
    return this.fault === undefined ? { ok: true, entries: this.count, head, flagged: this.flagged } : { ok: false, fault: this.fault, entries: this.count, head, flagged: this.flagged };
  }
}
