// Issue 12: postings go into PostgreSQL by COPY FROM STDIN (text format), streamed as they are
// hashed. Values COPY treats specially (backslash, tab, newline, carriage return, the \N of NULL)
// must arrive as they were, through both drivers: the asynchronous engine and the blocking bridge,
// and through `procura db copy`, which COPYs a SQLite store's rows as stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ROOT } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';
import { Ledger, loadPlant, parsePlant, type LedgerEvent } from '../../src/ledger/index.js';
import { copySqliteToPostgres } from '../../src/store/copy.js';
import { PROCURA_TYPES } from '../../src/store/pg/connect.js';
import { columnNames } from '../../src/store/pg/ledger-ops.js';
import { entryBody } from '../../src/ledger/journal.js';
import { parseStoreAddress } from '../../src/store/address.js';
import type { PgAddress } from '../../src/store/pg/connect.js';
import { PgLedgerStore } from '../../src/store/pg/ledger-store.js';
import { PgSyncLedgerStore } from '../../src/store/pg/sync-ledger-store.js';
import { Decimal } from '../../src/core/decimal.js';

const D = (s: string): Decimal => new Decimal(s);

const plant = loadPlant(join(ROOT, 'config', 'ammonia-plant.yaml'));
const AWKWARD = ['tab\there', 'new\nline', 'carriage\rreturn', 'back\\slash', '\\N', 'quote"d', 'ünï\u2028cødé', ''];
const T0 = Date.UTC(2024, 0, 1);

function events(prefix: string): LedgerEvent[] {
  return AWKWARD.flatMap((word, i): LedgerEvent[] => [
    { type: 'purchase', id: `${prefix}${word}-${i}`, at: T0 + i * 60_000, knownAt: T0 + i * 60_000, material: 'natgas', qty: D('100'), unitPrice: D('2.5'), paidFrom: 'accounts_payable', source: { file: `dir\\${word}.jsonl`, line: i + 1 } },
    { type: 'purchase', id: `${prefix}p${word}-${i}`, at: T0 + i * 60_000 + 1, knownAt: T0 + i * 60_000 + 1, material: 'power', qty: D('16'), unitPrice: D('61.5'), paidFrom: 'accounts_payable' },
  ]);
}

let db: TestDatabase;
let address: PgAddress;
beforeAll(async () => {
  db = await freshDatabase('copy');
  address = parseStoreAddress(db.url, { field: 'db' }) as PgAddress;
});
afterAll(() => db.drop());

describe('postings by COPY', () => {
  it('keeps tabs, newlines, backslashes and \\N in ids and file names, through both drivers, with the chain of the memory store', async () => {
    const memory = Ledger.inMemory(plant);
    const first = events('a');
    const second = events('b').map((e) => ({ ...e, at: e.at + 3_600_000, knownAt: e.knownAt + 3_600_000 }));
    memory.post(first);
    memory.post(second);

    const store = await PgLedgerStore.open(address);
    const ledger = await Ledger.openAsync(store, plant);
    expect((await ledger.postAsync(first)).entries.length).toBe(first.length);
    await store.close();
    // The blocking bridge (the synchronous ledger API, the live runner) writes the second batch.
    const sync = Ledger.openSync(new PgSyncLedgerStore(address), plant);
    try {
      expect(sync.post(second).entries.length).toBe(second.length);
    } finally {
      sync.close();
    }

    const check = await PgLedgerStore.open(address);
    try {
      const reopened = await Ledger.openAsync(check);
      const verified = await reopened.verifyAsync();
      expect(verified.ok, verified.fault).toBe(true);
      expect(verified.head).toEqual(memory.verify().head);
      const stored = await check.read(async (r) => {
        const out: { id: string; file: string | undefined; body: string }[] = [];
        const bodies = new Map<number, string>();
        for await (const row of r.scanRows(1)) bodies.set(row.seq, row.body);
        for await (const e of r.scanEvents(1)) out.push({ id: e.id, file: e.source?.file, body: '' });
        return { events: out, bodies };
      });
      expect(stored.events.map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
      expect(stored.events.map((e) => e.file)).toEqual([...first, ...second].map((e) => e.source?.file));
      expect([...stored.bodies.values()]).toEqual([...memory.entriesAfter(0)].map((e) => entryBody(e)));
      // Idempotent: posting the same events again through COPY's engine adds nothing.
      expect((await reopened.postAsync(first)).entries.length).toBe(0);
    } finally {
      await check.close();
    }
  });
});

describe('procura db copy by COPY', () => {
  it('carries text COPY escapes (tabs, newlines, backslashes, \\N) in a plant file and event ids and file names byte for byte, and the copy verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procura-pg-dbcopy-'));
    const target = await freshDatabase('dbcopy_escapes');
    try {
      // A plant file whose name and text hold every character COPY's text format escapes.
      const yaml = readFileSync(join(ROOT, 'config', 'ammonia-plant.yaml'), 'utf8');
      const awkwardPlant = parsePlant(`# a\ttab, a back\\slash, \\N, a CRLF\r\n# and ünï cødé\n${yaml}`, `plants\\odd\tname\n.yaml`);
      const file = join(dir, 'awkward.db');
      const book = Ledger.openSqlite(file, awkwardPlant);
      book.post(events('c'));
      book.post(events('d').map((e) => ({ ...e, at: e.at + 3_600_000, knownAt: e.knownAt + 3_600_000 })));
      const head = book.head();
      book.close();

      const to = parseStoreAddress(`${target.url}?stream=awk-ward`, { field: '--to' }) as PgAddress;
      const result = await copySqliteToPostgres(file, to);
      expect(result.target).toEqual(head);
      expect(result.copied).toEqual({ entries: 32, events: 32, plants: 1, checkpoints: 2 });

      const sqlite = new Database(file, { readonly: true });
      const client = new pg.Client({ connectionString: target.url, types: PROCURA_TYPES });
      await client.connect();
      try {
        for (const table of ['plants', 'events', 'entries', 'checkpoints'] as const) {
          const names = columnNames(table);
          const want = sqlite.prepare(`SELECT ${names} FROM ${table} ORDER BY seq`).all();
          const got = (await client.query(`SELECT ${names} FROM procura.${table} WHERE stream = 'awk-ward' ORDER BY seq`)).rows;
          expect(got, table).toEqual(want);
        }
        const plantRow = (await client.query<{ file: string; text: string }>("SELECT file, text FROM procura.plants WHERE stream = 'awk-ward'")).rows[0]!;
        expect(plantRow.file).toBe(`plants\\odd\tname\n.yaml`);
        expect(plantRow.text.startsWith('# a\ttab, a back\\slash, \\N, a CRLF\r\n# and ünï cødé\n')).toBe(true);
        const files = (await client.query<{ file: string }>("SELECT file FROM procura.events WHERE stream = 'awk-ward' AND file IS NOT NULL ORDER BY seq")).rows.map((r) => r.file);
        expect(files).toContain('dir\\tab\there.jsonl');
        expect(files).toContain('dir\\new\nline.jsonl');
        expect(files).toContain('dir\\\\N.jsonl');
      } finally {
        sqlite.close();
        await client.end();
      }
      const check = await PgLedgerStore.open(to);
      try {
        const verified = await (await Ledger.openAsync(check)).verifyAsync();
        expect(verified.ok).toBe(true);
        expect(verified.head).toEqual(head);
      } finally {
        await check.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await target.drop();
    }
  }, 120_000);
});
