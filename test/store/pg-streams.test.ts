// Issue 12: one PostgreSQL ledger of several streams (`?stream=NAME`), each its own hash chain,
// books, idempotency and chain lock; the views read across streams; a database at the schema
// before streams migrates with `procura db migrate`, its rows in the stream `main`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, procura } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';
import { parseStoreAddress } from '../../src/store/address.js';
import { LEDGER_COLUMNS } from '../../src/store/pg/ledger-ops.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/pg/migrations.js';

const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EVENTS = join(ROOT, 'config', 'ammonia-events.jsonl');
const LATER = join(ROOT, 'test', 'store', 'fixtures', 'later-events.jsonl');

let dir: string;
let db: TestDatabase;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procura-pg-streams-'));
  db = await freshDatabase('streams');
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const inStream = (url: string, stream: string): string => `${url}?stream=${stream}`;

interface Verified {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string; events: number };
}

function verify(url: string): Verified {
  const r = procura(['ledger', 'verify', '--db', url, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Verified;
}

describe('streams: several hash chains in one PostgreSQL ledger', () => {
  it('two streams are independent: the same event ids post in each, each verifies, one does not move the other; the views show both', async () => {
    const a = inStream(db.url, 'plant-a');
    const b = inStream(db.url, 'plant_b');
    const postA = procura(['ledger', 'post', '--db', a, '--plant', PLANT, '--events', EVENTS]);
    expect(postA.stderr).toBe('');
    expect(postA.stdout).toBe(`posted 45 events (46 entries) into ${db.url}?stream=plant-a\n`);
    const headA = verify(a);
    expect(headA).toMatchObject({ ok: true, entries: 46, head: { seq: 46, events: 45 } });

    // The same ids into another stream are new there (idempotency is per stream), and the chain
    // is the same one a SQLite file of these events has, entry for entry.
    const postB = procura(['ledger', 'post', '--db', b, '--plant', PLANT, '--events', EVENTS]);
    expect(postB.stdout).toBe(`posted 45 events (46 entries) into ${db.url}?stream=plant_b\n`);
    const file = join(dir, 'one.db');
    expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    expect(verify(b).head).toEqual(verify(file).head);
    expect(verify(a)).toEqual(headA);

    // A later posting into b moves b's head only; posting a's file again into a posts nothing.
    expect(procura(['ledger', 'post', '--db', b, '--plant', PLANT, '--events', LATER]).status).toBe(0);
    const laterB = verify(b);
    expect(laterB.head.seq).toBeGreaterThan(46);
    expect(verify(a)).toEqual(headA);
    expect(procura(['ledger', 'post', '--db', a, '--plant', PLANT, '--events', EVENTS]).stdout).toMatch(/^posted 0 events \(0 entries\) into .*; skipped 45 already posted/);
    for (const args of [['balances', '--json'], ['journal'], ['head']]) {
      expect(procura(['ledger', args[0]!, '--db', a, ...args.slice(1)]).stdout).toBe(procura(['ledger', args[0]!, '--db', file, ...args.slice(1)]).stdout);
    }

    // The default stream is a third chain: empty here, and read-only commands say so.
    expect(await query(db.url, "SELECT count(*)::int AS n FROM procura.entries WHERE stream = 'main'")).toEqual([{ n: 0 }]);

    // The views: one row per stream and account; summed across streams with GROUP BY.
    const streams = await query<{ stream: string; entries: number }>(db.url, 'SELECT stream, count(DISTINCT seq)::int AS entries FROM procura.journal GROUP BY stream ORDER BY stream');
    expect(streams).toEqual([
      { stream: 'plant-a', entries: 46 },
      { stream: 'plant_b', entries: laterB.head.seq },
    ]);
    const perStream = await query<{ stream: string; account: string; balance: string }>(db.url, "SELECT stream, account, balance::text FROM procura.balances WHERE stream IN ('plant-a', 'plant_b')");
    const across = await query<{ account: string; balance: string }>(db.url, 'SELECT account, sum(balance)::text AS balance FROM procura.balances GROUP BY account');
    for (const row of across) {
      const sum = perStream.filter((r) => r.account === row.account).reduce((t, r) => t + Number(r.balance), 0);
      expect(Number(row.balance)).toBeCloseTo(sum, 6);
    }
    const quantities = await query<{ stream: string; n: number }>(db.url, "SELECT stream, count(*)::int AS n FROM procura.quantities WHERE kind = 'material' GROUP BY stream ORDER BY stream");
    expect(quantities.map((q) => q.stream)).toEqual(['plant-a', 'plant_b']);
    const plants = await query<{ stream: string; version: number }>(db.url, 'SELECT stream, version::int AS version FROM procura.plant_versions ORDER BY stream');
    expect(plants).toEqual([
      { stream: 'plant-a', version: 1 },
      { stream: 'plant_b', version: 1 },
    ]);
  });

  it('a writer waits for its own stream\'s chain lock only', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('procura.ledger.chain'), hashtext('held'))");
      const blocked = procura(['ledger', 'post', '--db', inStream(db.url, 'held'), '--plant', PLANT, '--events', EVENTS, '--lock-timeout', '0.2']);
      expect(blocked.status).toBe(4);
      expect(blocked.stderr).toContain(`${db.url}?stream=held: the store is locked by another writer`);
      const free = procura(['ledger', 'post', '--db', inStream(db.url, 'free'), '--plant', PLANT, '--events', EVENTS, '--lock-timeout', '0.2']);
      expect(free.stderr).toBe('');
      expect(free.status).toBe(0);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('a stream name outside [a-z0-9][a-z0-9_-]{0,62} is a configuration error naming the field (exit 2)', () => {
    for (const name of ['Plant', 'a b', '-a', 'x'.repeat(64), 'a%2Fb', '']) {
      const r = procura(['ledger', 'verify', '--db', `${db.url}?stream=${name}`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('field "--db: stream"');
      expect(r.stderr).toContain('is not a stream name');
    }
    const twice = procura(['ledger', 'verify', '--db', `${db.url}?stream=a&stream=b`]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain('give stream= once');
    // The parameter is procura's: it never reaches node-postgres, and `display` keeps it.
    const address = parseStoreAddress(`${db.url}?stream=x-1&sslmode=disable`, { field: '--db' });
    expect(address).toMatchObject({ kind: 'postgres', stream: 'x-1', url: `${db.url}?sslmode=disable`, display: `${db.url}?stream=x-1` });
    expect(parseStoreAddress(db.url, { field: '--db' })).toMatchObject({ stream: 'main', url: db.url, display: db.url });
  });

  it('procura db copy --to URL?stream=NAME copies a SQLite ledger into that stream only', () => {
    const file = join(dir, 'copy.db');
    expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    const to = inStream(db.url, 'copied');
    const r = procura(['db', 'copy', '--from', file, '--to', to]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`into ${to}\n`);
    expect(verify(to).head).toEqual(verify(file).head);
    // Copying it again into the same stream copies nothing; into another stream, everything.
    expect(procura(['db', 'copy', '--from', file, '--to', to]).stdout).toContain('copied 0 entries');
    expect(procura(['db', 'copy', '--from', file, '--to', inStream(db.url, 'copied-2')]).stdout).toContain('copied 46 entries');
  });
});

describe('a database at the schema before streams', () => {
  it('procura db migrate puts its rows in the stream main; it still verifies, posts on, and takes other streams', async () => {
    const old = await freshDatabase('streams_old');
    try {
      // The schema as it was (migrations 1 to 3), filled as the procura of that schema filled it:
      // the rows of a SQLite store of the same events, inserted table by table without a stream.
      const before = MIGRATIONS.filter((m) => m.version < 4);
      expect(SCHEMA_VERSION).toBe(4);
      for (const m of before) await query(old.url, `${m.sql}; INSERT INTO procura.schema_migrations (version, name) VALUES (${m.version}, '${m.name}')`);
      const file = join(dir, 'old.db');
      expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
      const sqlite = new Database(file, { readonly: true });
      try {
        await query(old.url, 'INSERT INTO procura.meta (key, value) SELECT key, value FROM json_to_recordset($1::json) AS r(key text, value text)', [JSON.stringify(sqlite.prepare('SELECT key, value FROM meta').all())]);
        for (const table of ['plants', 'events', 'entries', 'checkpoints'] as const) {
          const names = LEDGER_COLUMNS[table].split(', ').map((c) => c.split(' ')[0]).join(', ');
          const rows = sqlite.prepare(`SELECT ${names} FROM ${table} ORDER BY seq`).all();
          await query(old.url, `INSERT INTO procura.${table} (${names}) SELECT ${names} FROM json_to_recordset($1::json) AS r(${LEDGER_COLUMNS[table]})`, [JSON.stringify(rows)]);
        }
      } finally {
        sqlite.close();
      }
      const refused = procura(['ledger', 'verify', '--db', old.url]);
      expect(refused.stderr).toContain(`the database's procura schema is at version 3, this procura needs ${SCHEMA_VERSION}: run procura db migrate`);

      const migrate = procura(['db', 'migrate', '--db', old.url]);
      expect(migrate.stderr).toBe('');
      expect(migrate.stdout).toBe(`applied 4: streams: several hash chains in one ledger\n${old.url}: procura schema at version 4 (was 3)\n`);
      expect(await query(old.url, 'SELECT DISTINCT stream FROM procura.entries')).toEqual([{ stream: 'main' }]);
      expect(verify(old.url).head).toEqual(verify(file).head);
      expect(procura(['ledger', 'balances', '--db', old.url, '--json']).stdout).toBe(procura(['ledger', 'balances', '--db', file, '--json']).stdout);

      // It posts on in main, and another stream starts its own chain beside it.
      expect(procura(['ledger', 'post', '--db', old.url, '--plant', PLANT, '--events', LATER]).status).toBe(0);
      expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', LATER]).status).toBe(0);
      expect(verify(old.url).head).toEqual(verify(file).head);
      expect(procura(['ledger', 'post', '--db', inStream(old.url, 'plant-2'), '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
      expect(verify(inStream(old.url, 'plant-2'))).toMatchObject({ ok: true, head: { seq: 46 } });
      // Still append-only, in every stream, and the reader's grants cover the re-created views.
      await expect(query(old.url, "UPDATE procura.entries SET body = body WHERE stream = 'plant-2'")).rejects.toThrow(/append-only/);
      const grants = await query<{ table_name: string }>(old.url, "SELECT table_name FROM information_schema.role_table_grants WHERE grantee = 'procura_reader' AND table_name IN ('balances', 'journal', 'quantities', 'plant_versions') ORDER BY 1");
      expect(grants.map((g) => g.table_name)).toEqual(['balances', 'journal', 'plant_versions', 'quantities']);
    } finally {
      await old.drop();
    }
  });
});
