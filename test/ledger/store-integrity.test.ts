// Issue 9 item 10: two writers each post exactly once (the synchronous API on SQLite). The
// audit-trail checks (tampering, truncation, verify) are in store-contract-durable.ts, run on
// every durable engine.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../src/ledger/index.js';
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

/** Runs SQL against the store with the append-only triggers dropped (what a tamperer would do). */
function tamper(...statements: string[]): void {
  const db = new Database(path);
  for (const t of ['entries', 'events', 'plants', 'checkpoints']) db.exec(`DROP TRIGGER IF EXISTS ${t}_no_update; DROP TRIGGER IF EXISTS ${t}_no_delete;`);
  for (const sql of statements) db.exec(sql);
  db.close();
}

describe('a SQLite writer that keeps its store open', () => {
  it('still checks the tail when another connection changed it', () => {
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
