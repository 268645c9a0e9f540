import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// The engine-independent store checks (append-only, tampering, verify, locks) are in the
// store contract suites (store-contract*.ts), run against SQLite and PostgreSQL.
describe('SQLite store (synchronous ledger API)', () => {
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
