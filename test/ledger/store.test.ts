import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson } from '../../src/core/hash.js';
import { Ledger, entryBody, parsePlant, type JournalEntry } from '../../src/ledger/index.js';
import { ProcuraError } from '../../src/core/errors.js';
import { textbookPlant, events, balanceTable, WORKED } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plant = textbookPlant('purchase-completion-sale');
const hashes = (entries: readonly JournalEntry[]) => entries.map((e) => e.hash);

describe('SQLite store', () => {
  it('stores the same hash chain as the memory journal and reopens without the plant file', () => {
    const path = join(dir, 'ledger.db');
    const store = Ledger.openSqlite(path, plant);
    const all = events(plant, WORKED);
    store.post(all.slice(0, 3));
    store.post(all.slice(3));
    store.close();
    const memory = Ledger.inMemory(plant);
    memory.post(events(plant, WORKED));
    const reopened = Ledger.openSqlite(path);
    expect(hashes(reopened.entries())).toEqual(hashes(memory.entries()));
    expect(balanceTable(reopened)).toEqual(balanceTable(memory));
    expect(reopened.quantities().materials.get('dm')!.toFixed()).toBe('20');
    expect(reopened.verify()).toMatchObject({ ok: true, entries: 5 });
    const again = reopened.post(events(plant, WORKED));
    expect([again.posted, again.skipped.length]).toEqual([0, 5]);
    reopened.close();
  });

  it('hashes the canonical JSON of each entry', () => {
    const memory = Ledger.inMemory(plant);
    memory.post(events(plant, [...WORKED, { type: 'reverse', id: 'r', at: '2024-02-01', of: 's1', reason: 'test' }]));
    for (const e of memory.entries()) {
      const body = entryBody(e);
      expect(canonicalJson(JSON.parse(body))).toBe(body);
    }
  });

  it('posts a file all or nothing', () => {
    const path = join(dir, 'ledger.db');
    const store = Ledger.openSqlite(path, plant);
    store.post(events(plant, WORKED.slice(0, 2)));
    const before = balanceTable(store);
    const bad = [...WORKED.slice(2), { type: 'sale', id: 's9', at: '2024-02-01', product: 'widget', qty: '500' }];
    expect(() => store.post(events(plant, bad))).toThrow(/short 490/);
    expect(balanceTable(store)).toEqual(before);
    store.close();
    const reopened = Ledger.openSqlite(path);
    expect(reopened.entries()).toHaveLength(2);
    expect(balanceTable(reopened)).toEqual(before);
    reopened.close();
  });

  it('is append-only: updates and deletes of stored rows are refused by triggers', () => {
    const path = join(dir, 'ledger.db');
    const store = Ledger.openSqlite(path, plant);
    store.post(events(plant, WORKED));
    store.close();
    const db = new Database(path);
    expect(() => db.prepare("UPDATE entries SET body = '{}' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM entries WHERE seq = 5').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    db.close();
  });

  it('verify finds a tampered entry (hash mismatch) and a broken chain', () => {
    const path = join(dir, 'ledger.db');
    const store = Ledger.openSqlite(path, plant);
    store.post(events(plant, WORKED));
    store.close();
    const db = new Database(path);
    db.exec('DROP TRIGGER entries_no_update');
    db.prepare("UPDATE entries SET body = replace(body, '\"debit\":\"1350\"', '\"debit\":\"1305\"') WHERE seq = 4").run();
    db.close();
    const tampered = Ledger.openSqlite(path);
    const result = tampered.verify();
    expect(result.ok).toBe(false);
    expect(result.fault).toMatch(/^entry 4 \(event s1, sale at 2024-01-25\): debits 1305 do not equal credits 1350/);
    tampered.close();
    const db2 = new Database(path);
    db2.exec('DROP TRIGGER entries_no_update'); // the ledger re-creates its triggers on open
    db2.prepare("UPDATE entries SET body = replace(body, '\"debit\":\"1305\"', '\"debit\":\"1350\"'), prev_hash = ? WHERE seq = 4").run('1'.repeat(64));
    db2.close();
    const broken = Ledger.openSqlite(path);
    expect(broken.verify().fault).toMatch(/entry 4 .*hash chain broken/);
    broken.close();
  });

  it('refuses to reopen a store with a plant of another trigger variant', () => {
    const path = join(dir, 'ledger.db');
    const store = Ledger.openSqlite(path, plant);
    store.post(events(plant, WORKED.slice(0, 1)));
    store.close();
    let error: unknown;
    try {
      Ledger.openSqlite(path, textbookPlant('sale'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProcuraError);
    expect((error as ProcuraError).detail).toBe('the store was created with trigger purchase-completion-sale; the plant says sale');
  });

  it('refuses a standard-cost revision backdated before events already posted, and takes one dated after them', () => {
    const path = join(dir, 'ledger.db');
    const versioned = (revisions: string) =>
      parsePlant(
        `currency: USD
backflush: purchase-completion-sale
materials:
  - id: dm
    unit: unit
    standardCost:
      - { from: "2024-01-01", cost: "10" }
${revisions}products:
  - { id: widget, unit: unit, conversionCost: "5", bom: [ { material: dm, qty: "1" } ] }
`,
        'versioned.yaml',
      );
    const first = versioned('');
    const store = Ledger.openSqlite(path, first);
    store.post(events(first, WORKED.slice(0, 1)));
    store.close();
    // 2024-01-02 is posted; a revision from 2024-01-01 would never be revalued.
    let error: unknown;
    try {
      Ledger.openSqlite(path, versioned('      - { from: "2024-01-02", cost: "12" }\n'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProcuraError);
    expect((error as ProcuraError).message).toMatch(/versioned\.yaml:8: field "materials\.standardCost": standard cost of dm from 2024-01-02 is new or changed, but events up to 2024-01-02 are already posted/);
    // Dated after the last posted event, it is accepted and revalues the stock when reached.
    const later = versioned('      - { from: "2024-01-05", cost: "12" }\n');
    const reopened = Ledger.openSqlite(path, later);
    reopened.post(events(later, [{ type: 'conversion', id: 'c9', at: '2024-01-06', amount: '1' }]));
    expect(reopened.entries().some((e) => e.eventType === 'revaluation' && e.at === Date.parse('2024-01-05T00:00:00Z'))).toBe(true);
    reopened.close();
  });
});
