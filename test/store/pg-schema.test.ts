// Issue 12: the PostgreSQL schema. Versioned migrations, views a BI tool reads the books from,
// and append-only by triggers (whoever runs the statement) and by privileges (procura_writer
// has no UPDATE or DELETE on the ledger tables).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { join } from 'node:path';
import { ROOT, procura } from '../support/cli.js';
import { adminQuery, freshDatabase, withDatabase, type TestDatabase } from '../support/pg.js';
import { Ledger, loadEvents, loadPlant } from '../../src/ledger/index.js';
import { parseStoreAddress, type StoreAddress } from '../../src/store/address.js';
import { PgLedgerStore } from '../../src/store/pg/ledger-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/pg/migrations.js';

const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EVENTS = join(ROOT, 'config', 'ammonia-events.jsonl');

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('schema');
});
afterAll(() => db.drop());

async function query(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

describe('procura db migrate and the schema it makes', () => {
  it('applies every migration once, in order, and says so; a second run has nothing to do', () => {
    const first = procura(['db', 'migrate', '--db', db.url]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual([...MIGRATIONS.map((m) => `applied ${m.version}: ${m.name}`), `${db.url}: procura schema at version ${SCHEMA_VERSION} (was 0)`]);
    const second = procura(['db', 'migrate', '--db', db.url, '--json']);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ database: db.url, from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
  });

  it('the views give the books as procura computes them: balances, quantities, the cost feed inputs', async () => {
    const post = procura(['ledger', 'post', '--db', db.url, '--plant', PLANT, '--events', EVENTS]);
    expect(post.stderr).toBe('');
    expect(post.status).toBe(0);
    const memory = Ledger.inMemory(loadPlant(PLANT));
    memory.post(loadEvents(EVENTS, memory.plant), { file: EVENTS });
    const balances = await query(db.url, 'SELECT account, balance::text FROM procura.balances');
    const fromView = Object.fromEntries(balances.rows.filter((r) => Number(r.balance) !== 0).map((r) => [r.account, Number(r.balance).toFixed(2)]));
    const fromLedger = Object.fromEntries([...memory.balances()].filter(([, v]) => !v.isZero()).map(([k, v]) => [k, v.toFixed(2)]));
    expect(fromView).toEqual(fromLedger);
    const quantities = await query(db.url, "SELECT id, qty::text FROM procura.quantities WHERE kind = 'material'");
    const q = memory.quantities();
    expect(Object.fromEntries(quantities.rows.map((r) => [r.id, Number(r.qty)]))).toEqual(Object.fromEntries([...q.materials].map(([k, v]) => [k, v.toNumber()])));
    const purchases = await query(db.url, 'SELECT material, sum(qty)::text AS qty, sum(amount)::text AS amount FROM procura.purchases GROUP BY material ORDER BY material');
    const expected = new Map<string, { qty: number; amount: number }>();
    for (const p of memory.purchases()) {
      const e = expected.get(p.material) ?? { qty: 0, amount: 0 };
      expected.set(p.material, { qty: e.qty + p.qty.toNumber(), amount: e.amount + p.amount.toNumber() });
    }
    expect(purchases.rows.map((r) => [r.material, Number(r.qty), Number(r.amount)])).toEqual([...expected].sort().map(([m, e]) => [m, e.qty, e.amount]));
    const conversion = await query(db.url, 'SELECT coalesce(sum(amount), 0)::text AS amount FROM procura.conversion_costs');
    expect(Number(conversion.rows[0].amount)).toBe(memory.conversionActuals().amount.toNumber());
    const lines = await query(db.url, 'SELECT count(DISTINCT seq)::int AS n FROM procura.journal_lines');
    expect(lines.rows[0].n).toBe(memory.entries().filter((e) => e.lines.length > 0).length);
  });

  it('is append-only by privileges: a procura_writer login inserts but cannot update, delete or truncate', async () => {
    const role = `t_writer_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN IN ROLE procura_writer`);
    const reader = `t_reader_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(`CREATE ROLE ${reader} LOGIN IN ROLE procura_reader`);
    try {
      const url = withDatabase(db.url, db.name, role);
      await expect(query(url, 'UPDATE procura.entries SET body = body WHERE seq = 1')).rejects.toThrow(/permission denied for table entries/);
      await expect(query(url, 'DELETE FROM procura.events')).rejects.toThrow(/permission denied for table events/);
      await expect(query(url, 'TRUNCATE procura.checkpoints')).rejects.toThrow(/permission denied for table checkpoints/);
      await expect(query(url, 'ALTER TABLE procura.entries DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
      // ... and posts through procura like any writer.
      const more = join(ROOT, 'test', 'store', 'fixtures', 'later-events.jsonl');
      const post = procura(['ledger', 'post', '--db', url, '--plant', PLANT, '--events', more]);
      expect(post.stderr).toBe('');
      expect(post.stdout).toMatch(/^posted 1 events \(1 entries\)/);
      const readerUrl = withDatabase(db.url, db.name, reader);
      expect((await query(readerUrl, 'SELECT count(*)::int AS n FROM procura.balances')).rows[0].n).toBeGreaterThan(0);
      await expect(query(readerUrl, "INSERT INTO procura.meta VALUES ('x', 'y')")).rejects.toThrow(/permission denied/);
      expect(procura(['ledger', 'verify', '--db', readerUrl]).status).toBe(0);
    } finally {
      await adminQuery(`DROP OWNED BY ${role}; DROP ROLE ${role}; DROP OWNED BY ${reader}; DROP ROLE ${reader}`);
    }
  });

  it('is append-only by triggers: even the owner cannot update, delete or truncate ledger rows', async () => {
    for (const sql of ['UPDATE procura.entries SET body = body', 'DELETE FROM procura.plants', 'TRUNCATE procura.events CASCADE', "UPDATE procura.meta SET value = 'x'"]) {
      await expect(query(db.url, sql)).rejects.toThrow(/procura ledger is append-only: \w+ rows cannot be (updated|deleted|truncated)/);
    }
  });

  it('a database behind this procura is refused until procura db migrate; one ahead is refused', async () => {
    const other = await freshDatabase('schema_old');
    try {
      expect(procura(['db', 'migrate', '--db', other.url]).status).toBe(0);
      await query(other.url, 'DELETE FROM procura.schema_migrations WHERE version = $1', [SCHEMA_VERSION]);
      const address = parseStoreAddress(other.url, { field: 'test' }) as Extract<StoreAddress, { kind: 'postgres' }>;
      await expect(PgLedgerStore.open(address)).rejects.toThrow(`the database's procura schema is at version ${SCHEMA_VERSION - 1}, this procura needs ${SCHEMA_VERSION}: run procura db migrate`);
      await query(other.url, 'INSERT INTO procura.schema_migrations (version, name) VALUES ($1, $2), (99, $3)', [SCHEMA_VERSION, 'again', 'from the future']);
      const verify = procura(['ledger', 'verify', '--db', other.url]);
      expect(verify.status).toBe(1);
      expect(verify.stderr).toContain(`the database's procura schema is at version 99, newer than this procura (${SCHEMA_VERSION}): upgrade procura`);
    } finally {
      await other.drop();
    }
  });
});
