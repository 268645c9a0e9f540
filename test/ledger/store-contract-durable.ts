/**
 * The store contract for durable engines (SQLite, PostgreSQL): what the books keep when
 * somebody goes behind procura's back. The fixture adds engine-specific hands: `raw` runs SQL
 * with the append-only guards in place, `tamper` runs it as a tamperer would (guards off), and
 * `holdWriteLock` keeps another connection in the writer's seat. The statements themselves are
 * plain SQL on the tables both engines share (entries, events, plants, checkpoints).
 */
import { describe, expect, it } from 'vitest';
import { Ledger, type ChainHead, type LedgerStore } from '../../src/ledger/index.js';
import { ProcuraError } from '../../src/core/errors.js';
import type { VerifyOptions } from '../../src/ledger/ledger.js';
import { textbookPlant, events, balanceTable, WORKED } from './helpers.js';

export interface DurableFixture {
  /** A handle on the backing store; `options` as the engine's open takes them. */
  open(options?: { lockTimeoutMs?: number; onWait?: (name: string) => void }): Promise<LedgerStore>;
  /** SQL with the append-only guards in place (expected to be refused). */
  raw(sql: string): Promise<void>;
  /** SQL with the append-only guards off, as a tamperer with the owner's rights would run it. */
  tamper(...statements: string[]): Promise<void>;
  /** The first value of a query's first row. */
  scalar(sql: string): Promise<unknown>;
  /** Holds the ledger's write lock from another connection until the returned function runs. */
  holdWriteLock(): Promise<() => Promise<void>>;
  dispose(): Promise<void>;
}

const plant = textbookPlant('purchase-completion-sale');
const LATER = [
  { type: 'purchase', id: 'p2', at: '2024-02-02', material: 'dm', qty: '10', unitPrice: '11' },
  { type: 'sale', id: 's2', at: '2024-02-05', product: 'widget', qty: '5' },
];

/** Registers the durable part of the contract for one engine. */
export function durableStoreContract(name: string, factory: () => Promise<DurableFixture>): void {
  const withFixture = (fn: (f: DurableFixture) => Promise<void>) => async () => {
    const f = await factory();
    try {
      await fn(f);
    } finally {
      await f.dispose();
    }
  };

  /** Posts WORKED and LATER in two postings; returns the head after the first. */
  async function twoPostings(f: DurableFixture): Promise<ChainHead> {
    const store = await f.open();
    const ledger = await Ledger.openAsync(store, plant);
    await ledger.postAsync(events(plant, WORKED));
    const head = await store.read(async (r) => (await r.state()).head);
    await ledger.postAsync(events(plant, LATER, 'later.jsonl'));
    await store.close();
    return head;
  }

  async function verifyFault(f: DurableFixture, options: VerifyOptions = {}): Promise<string | undefined> {
    const store = await f.open();
    try {
      return (await (await Ledger.openAsync(store)).verifyAsync(options)).fault;
    } finally {
      await store.close();
    }
  }

  async function postError(f: DurableFixture): Promise<ProcuraError> {
    const store = await f.open();
    try {
      const ledger = await Ledger.openAsync(store, plant);
      await ledger.postAsync(events(plant, [{ type: 'conversion', id: 'c9', at: '2024-03-01', amount: '1' }], 'next.jsonl'));
    } catch (error) {
      return error as ProcuraError;
    } finally {
      await store.close();
    }
    throw new Error('post was not refused');
  }

  describe(`store contract, durable: ${name}`, () => {
    it('reopens without the plant file, with the same chain and books as in memory; reposting is a no-op', withFixture(async (f) => {
      const store = await f.open();
      const ledger = await Ledger.openAsync(store, plant);
      await ledger.postAsync(events(plant, WORKED.slice(0, 3)));
      await ledger.postAsync(events(plant, WORKED.slice(3)));
      await store.close();
      const memory = Ledger.inMemory(plant);
      memory.post(events(plant, WORKED.slice(0, 3)));
      memory.post(events(plant, WORKED.slice(3)));
      const again = await f.open();
      const reopened = await Ledger.openAsync(again);
      expect(reopened.plant.hash).toBe(plant.hash);
      expect(balanceTable(reopened)).toEqual(balanceTable(memory));
      expect(reopened.quantities().materials.get('dm')!.toFixed()).toBe('20');
      expect(await reopened.verifyAsync()).toMatchObject({ ok: true, entries: 5, head: { seq: 5, hash: memory.entries()[4]!.hash } });
      const repost = await reopened.postAsync(events(plant, WORKED));
      expect([repost.posted, repost.skipped.length]).toEqual([0, 5]);
      await again.close();
    }));

    it('is append-only: updates, deletes and truncation of stored rows are refused', withFixture(async (f) => {
      await twoPostings(f);
      await expect(f.raw("UPDATE entries SET body = '{}' WHERE seq = 1")).rejects.toThrow(/append-only/);
      await expect(f.raw('DELETE FROM entries WHERE seq = 5')).rejects.toThrow(/append-only/);
      await expect(f.raw('DELETE FROM events')).rejects.toThrow(/append-only/);
      await expect(f.raw("UPDATE checkpoints SET books = '{}'")).rejects.toThrow(/append-only/);
      await expect(f.raw("UPDATE plants SET text = ''")).rejects.toThrow(/append-only/);
      expect(await verifyFault(f)).toBeUndefined();
    }));

    it('refuses to reopen with a plant of another trigger variant', withFixture(async (f) => {
      const store = await f.open();
      await (await Ledger.openAsync(store, plant)).postAsync(events(plant, WORKED.slice(0, 1)));
      const error = await Ledger.openAsync(store, textbookPlant('sale')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcuraError);
      expect((error as ProcuraError).detail).toBe('the store was created with trigger purchase-completion-sale; the plant says sale');
      await store.close();
    }));

    it('verify finds a tampered entry (debits and credits) and a broken chain', withFixture(async (f) => {
      await twoPostings(f);
      await f.tamper(`UPDATE entries SET body = replace(body, '"debit":"1350"', '"debit":"1305"') WHERE seq = 4`);
      expect(await verifyFault(f)).toMatch(/^entry 4 \(event s1, sale at 2024-01-25\): debits 1305 do not equal credits 1350/);
      await f.tamper(`UPDATE entries SET body = replace(body, '"debit":"1305"', '"debit":"1350"'), prev_hash = '${'1'.repeat(64)}' WHERE seq = 4`);
      expect(await verifyFault(f)).toMatch(/entry 4 .*hash chain broken/);
    }));

    it('a fresh store verifies, and its head is the last entry', withFixture(async (f) => {
      await twoPostings(f);
      const store = await f.open();
      const result = await (await Ledger.openAsync(store)).verifyAsync();
      expect(result).toMatchObject({ ok: true, entries: 7 });
      expect(result.head).toEqual(await store.read(async (r) => (await r.state()).head));
      expect(result.head).toMatchObject({ seq: 7, events: 7 });
      await store.close();
    }));

    it('verify detects a truncated tail (entries removed), and post refuses to append to it', withFixture(async (f) => {
      await twoPostings(f);
      await f.tamper('DELETE FROM entries WHERE seq > 5');
      expect(await verifyFault(f)).toMatch(/the store ends at entry 5 but its head is entry 7: entries were removed/);
      const error = await postError(f);
      expect(error.code).toBe('E_VERIFY');
      expect(error.message).toMatch(/the store does not verify \(the store ends at entry 5 but its head is entry 7/);
    }));

    it('verify with an expected head detects a tail removed together with its records and checkpoint', withFixture(async (f) => {
      const head = await twoPostings(f);
      const store = await f.open();
      const exported = await store.read(async (r) => (await r.state()).head);
      await store.close();
      await f.tamper('DELETE FROM entries WHERE seq > 5', 'DELETE FROM events WHERE seq > 5', 'DELETE FROM checkpoints WHERE seq > 5');
      expect(await verifyFault(f)).toBeUndefined();
      expect(await verifyFault(f, { expectHead: head })).toBeUndefined();
      expect(await verifyFault(f, { expectHead: exported })).toBe('expected head entry 7 is missing: the store ends at entry 5 (its tail was removed)');
    }));

    it('verify with an expected head detects a rewritten chain', withFixture(async (f) => {
      const head = await twoPostings(f);
      await f.tamper(`UPDATE entries SET hash = '${'a'.repeat(64)}' WHERE seq = 5`);
      expect(await verifyFault(f, { expectHead: head })).toMatch(/hash does not match|rewritten/);
    }));

    it('verify detects an edit of the stored plant text, and post refuses the store', withFixture(async (f) => {
      await twoPostings(f);
      await f.tamper(`UPDATE plants SET text = replace(text, 'standardCost: "10"', 'standardCost: "9"')`);
      expect(await verifyFault(f)).toMatch(/the plant version first used by entry 1 \(textbook\.yaml\) does not match its hash: its text was changed/);
      expect((await postError(f)).message).toMatch(/the store does not verify \(the stored plant text/);
    }));

    it('verify detects edits of the events table, a removed record, and an edited books checkpoint', withFixture(async (f) => {
      await twoPostings(f);
      await f.tamper("UPDATE events SET at = at + 1 WHERE id = 'c1'");
      expect(await verifyFault(f)).toBe('event c1: its stored record was changed (hash does not match)');
      await f.tamper("UPDATE events SET at = at - 1 WHERE id = 'c1'", `UPDATE checkpoints SET books = replace(books, '"cost_of_goods_sold":"', '"cost_of_goods_sold":"1') WHERE seq = 7`);
      expect(await verifyFault(f)).toBe('the books checkpoint at the head differs from the books the entries replay to');
      await f.tamper("DELETE FROM events WHERE id = 'k1'");
      expect(await verifyFault(f)).toMatch(/the next stored event record is s1, not k1/);
    }));

    it('post refuses a store whose last posting was tampered with, and appends nothing', withFixture(async (f) => {
      await twoPostings(f);
      await f.tamper(`UPDATE entries SET body = replace(body, '"qty":"10"', '"qty":"11"') WHERE seq = 6`);
      const error = await postError(f);
      expect(error.code).toBe('E_VERIFY');
      expect(error.message).toMatch(/entry 6: hash does not match the entry's content/);
      expect(Number(await f.scalar('SELECT max(seq) FROM entries'))).toBe(7);
    }));

    it('a writer that keeps its store open still checks the tail when another connection changed it', withFixture(async (f) => {
      const store = await f.open();
      const ledger = await Ledger.openAsync(store, plant);
      await ledger.postAsync(events(plant, WORKED));
      await ledger.postAsync(events(plant, LATER, 'later.jsonl')); // nothing else wrote: the tail check may be skipped
      await ledger.postAsync(events(plant, [{ type: 'conversion', id: 'c8', at: '2024-02-20', amount: '1' }], 'more.jsonl'));
      await f.tamper(`UPDATE entries SET body = replace(body, '"amount":"1"', '"amount":"2"') WHERE seq = 8`);
      const error = await ledger.postAsync(events(plant, [{ type: 'conversion', id: 'c9', at: '2024-03-01', amount: '1' }], 'next.jsonl')).catch((e: unknown) => e);
      expect((error as ProcuraError).code).toBe('E_VERIFY');
      expect((error as ProcuraError).message).toMatch(/entry 8: hash does not match/);
      // A deleted tail row is caught too.
      await f.tamper(`UPDATE entries SET body = replace(body, '"amount":"2"', '"amount":"1"') WHERE seq = 8`);
      const again = await f.open();
      const fresh = await Ledger.openAsync(again, plant);
      await fresh.postAsync(events(plant, [{ type: 'conversion', id: 'c9', at: '2024-03-01', amount: '1' }], 'next.jsonl'));
      await f.tamper('DELETE FROM entries WHERE seq = 9');
      const gone = await fresh.postAsync(events(plant, [{ type: 'conversion', id: 'c10', at: '2024-03-02', amount: '1' }], 'last.jsonl')).catch((e: unknown) => e);
      expect((gone as ProcuraError).code).toBe('E_VERIFY');
      await again.close();
      await store.close();
    }));

    it('a second writer that cannot get the write lock in time says so once, then fails with E_LOCKED', withFixture(async (f) => {
      const one = await f.open();
      await (await Ledger.openAsync(one, plant)).postAsync(events(plant, WORKED.slice(0, 1)));
      await one.close();
      const release = await f.holdWriteLock();
      let waited = '';
      const store = await f.open({ lockTimeoutMs: 50, onWait: (p) => (waited = p) });
      const b = await Ledger.openAsync(store, plant);
      const error = await b.postAsync(events(plant, WORKED.slice(1, 2))).catch((e: unknown) => e);
      await release();
      expect(waited).toBe(store.name);
      expect(error).toBeInstanceOf(ProcuraError);
      expect((error as ProcuraError).code).toBe('E_LOCKED');
      expect((await b.postAsync(events(plant, WORKED.slice(1, 2)))).posted).toBe(1);
      await store.close();
    }));
  });
}
