// Issue 9 items 9 and 10: the store's audit trail holds, and two writers each post exactly once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ledger, type ChainHead } from '../../src/ledger/index.js';
import { ProcuraError } from '../../src/core/errors.js';
import { textbookPlant, events, balanceTable, WORKED } from './helpers.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-integrity-'));
  path = join(dir, 'ledger.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plant = textbookPlant('purchase-completion-sale');
const LATER = [
  { type: 'purchase', id: 'p2', at: '2024-02-02', material: 'dm', qty: '10', unitPrice: '11' },
  { type: 'sale', id: 's2', at: '2024-02-05', product: 'widget', qty: '5' },
];

/** Posts WORKED and LATER in two postings; returns the head after the first. */
function twoPostings(): ChainHead {
  const ledger = Ledger.openSqlite(path, plant);
  ledger.post(events(plant, WORKED));
  const head = ledger.head();
  ledger.post(events(plant, LATER, 'later.jsonl'));
  ledger.close();
  return head;
}

/** Runs SQL against the store with the append-only triggers dropped (what a tamperer would do). */
function tamper(...statements: string[]): void {
  const db = new Database(path);
  for (const t of ['entries', 'events', 'plants', 'checkpoints']) db.exec(`DROP TRIGGER IF EXISTS ${t}_no_update; DROP TRIGGER IF EXISTS ${t}_no_delete;`);
  for (const sql of statements) db.exec(sql);
  db.close();
}

function verifyFault(options = {}): string | undefined {
  const ledger = Ledger.openSqlite(path);
  try {
    return ledger.verify(options).fault;
  } finally {
    ledger.close();
  }
}

function postError(): ProcuraError {
  const ledger = Ledger.openSqlite(path, plant);
  try {
    ledger.post(events(plant, [{ type: 'conversion', id: 'c9', at: '2024-03-01', amount: '1' }], 'next.jsonl'));
  } catch (error) {
    return error as ProcuraError;
  } finally {
    ledger.close();
  }
  throw new Error('post was not refused');
}

describe('the hash chain covers everything the books derive from', () => {
  it('a fresh store verifies, and its head is the last entry', () => {
    twoPostings();
    const ledger = Ledger.openSqlite(path);
    const result = ledger.verify();
    expect(result).toMatchObject({ ok: true, entries: 7 });
    expect(result.head).toEqual(ledger.head());
    expect(ledger.head()).toMatchObject({ seq: 7, events: 7 });
    ledger.close();
  });

  it('verify detects a truncated tail (entries removed), and post refuses to append to it', () => {
    twoPostings();
    tamper('DELETE FROM entries WHERE seq > 5');
    expect(verifyFault()).toMatch(/the store ends at entry 5 but its head is entry 7: entries were removed/);
    const error = postError();
    expect(error.code).toBe('E_VERIFY');
    expect(error.message).toMatch(/the store does not verify \(the store ends at entry 5 but its head is entry 7/);
  });

  it('verify --expect-head detects a tail removed together with its records and checkpoint', () => {
    const head = twoPostings();
    const ledger = Ledger.openSqlite(path);
    const exported = ledger.head();
    ledger.close();
    tamper('DELETE FROM entries WHERE seq > 5', 'DELETE FROM events WHERE seq > 5', 'DELETE FROM checkpoints WHERE seq > 5');
    // Consistent on its own (it looks like the store before the second posting) ...
    expect(verifyFault()).toBeUndefined();
    expect(verifyFault({ expectHead: head })).toBeUndefined();
    // ... but not against the head exported after the second posting.
    expect(verifyFault({ expectHead: exported })).toBe('expected head entry 7 is missing: the store ends at entry 5 (its tail was removed)');
  });

  it('verify --expect-head detects a rewritten chain', () => {
    const head = twoPostings();
    tamper(`UPDATE entries SET hash = '${'a'.repeat(64)}' WHERE seq = 5`);
    expect(verifyFault({ expectHead: head })).toMatch(/hash does not match|rewritten/);
  });

  it('verify detects an edit of the stored plant text, and post refuses the store', () => {
    twoPostings();
    tamper(`UPDATE plants SET text = replace(text, 'standardCost: "10"', 'standardCost: "9"')`);
    expect(verifyFault()).toMatch(/the plant version first used by entry 1 \(textbook\.yaml\) does not match its hash: its text was changed/);
    expect(postError().message).toMatch(/the store does not verify \(the stored plant text/);
  });

  it('verify detects edits of the events table', () => {
    twoPostings();
    tamper("UPDATE events SET at = at + 1 WHERE id = 'c1'");
    expect(verifyFault()).toBe('event c1: its stored record was changed (hash does not match)');
  });

  it('verify detects an event record removed or one without entries', () => {
    twoPostings();
    tamper("DELETE FROM events WHERE id = 'k1'");
    expect(verifyFault()).toMatch(/the next stored event record is s1, not k1/);
  });

  it('verify detects an edited books checkpoint', () => {
    twoPostings();
    tamper(`UPDATE checkpoints SET books = replace(books, '"cost_of_goods_sold":"', '"cost_of_goods_sold":"1') WHERE seq = 7`);
    expect(verifyFault()).toBe('the books checkpoint at the head differs from the books the entries replay to');
  });

  it('post refuses a store whose last posting was tampered with, and appended onto it before the fix', () => {
    twoPostings();
    tamper(`UPDATE entries SET body = replace(body, '"qty":"10"', '"qty":"11"') WHERE seq = 6`);
    const error = postError();
    expect(error.code).toBe('E_VERIFY');
    expect(error.message).toMatch(/entry 6: hash does not match the entry's content/);
    // Nothing was appended.
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT max(seq) AS n FROM entries').get() as { n: number }).n).toBe(7);
    db.close();
  });

  it('a writer that keeps its store open still checks the tail when another connection changed it', () => {
    const ledger = Ledger.openSqlite(path, plant);
    ledger.post(events(plant, WORKED));
    ledger.post(events(plant, LATER, 'later.jsonl')); // nothing else wrote: the tail check is skipped
    tamper(`UPDATE entries SET body = replace(body, '"qty":"10"', '"qty":"11"') WHERE seq = 6`);
    let error: unknown;
    try {
      ledger.post(events(plant, [{ type: 'conversion', id: 'c9', at: '2024-03-01', amount: '1' }], 'next.jsonl'));
    } catch (e) {
      error = e;
    }
    ledger.close();
    expect((error as ProcuraError).code).toBe('E_VERIFY');
    expect((error as ProcuraError).message).toMatch(/entry 6: hash does not match/);
  });
});

describe('two writers on one store', () => {
  it('each catches up inside its write transaction: both files post exactly once', () => {
    // Both open the store before either posts (their books are stale for the second posting).
    const a = Ledger.openSqlite(path, plant);
    const b = Ledger.openSqlite(path, plant);
    a.post(events(plant, WORKED, 'a.jsonl'));
    const result = b.post(events(plant, LATER, 'b.jsonl'));
    expect(result.posted).toBe(2);
    expect(result.entries.map((e) => e.seq)).toEqual([6, 7]);
    // Reposting either file is a no-op for both.
    expect(a.post(events(plant, LATER, 'b.jsonl')).skipped).toEqual(['p2', 's2']);
    expect(b.post(events(plant, WORKED, 'a.jsonl')).skipped).toHaveLength(5);
    a.close();
    b.close();
    const reopened = Ledger.openSqlite(path);
    expect(reopened.verify()).toMatchObject({ ok: true, entries: 7 });
    const memory = Ledger.inMemory(plant);
    memory.post(events(plant, [...WORKED, ...LATER]));
    expect(balanceTable(reopened)).toEqual(balanceTable(memory));
    reopened.close();
  });

  it('a second writer that cannot get the lock in time fails with E_LOCKED', () => {
    const a = Ledger.openSqlite(path, plant);
    a.post(events(plant, WORKED.slice(0, 1)));
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    let waited = '';
    const b = Ledger.openSqlite(path, plant, { lockTimeoutMs: 50, onWait: (p) => (waited = p) });
    let error: unknown;
    try {
      b.post(events(plant, WORKED.slice(1, 2)));
    } catch (e) {
      error = e;
    }
    holder.exec('ROLLBACK');
    holder.close();
    expect(waited).toBe(path);
    expect(error).toBeInstanceOf(ProcuraError);
    expect((error as ProcuraError).code).toBe('E_LOCKED');
    expect(b.post(events(plant, WORKED.slice(1, 2))).posted).toBe(1);
    a.close();
    b.close();
  });
});
