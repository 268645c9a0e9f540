import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MemoryStore, SqliteStore, asyncStore } from '../../src/ledger/index.js';
import { parseStoreAddress, type StoreAddress } from '../../src/store/address.js';
import { PgLedgerStore } from '../../src/store/pg/ledger-store.js';
import { freshDatabase } from '../support/pg.js';
import { storeContract } from './store-contract.js';
import { durableStoreContract } from './store-contract-durable.js';

const LEDGER_TABLES = ['entries', 'events', 'plants', 'checkpoints', 'meta'];

storeContract('memory', async () => {
  const store = new MemoryStore();
  return { open: async () => asyncStore(store), dispose: async () => undefined };
});

function sqliteFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'procura-contract-'));
  const path = join(dir, 'ledger.db');
  const run = (statements: string[], guards: boolean): void => {
    const db = new Database(path);
    try {
      if (!guards) for (const t of LEDGER_TABLES) db.exec(`DROP TRIGGER IF EXISTS ${t}_no_update; DROP TRIGGER IF EXISTS ${t}_no_delete;`);
      for (const sql of statements) db.exec(sql);
    } finally {
      db.close();
    }
  };
  return {
    open: async (options = {}) => asyncStore(new SqliteStore(path, options)),
    raw: async (sql: string) => run([sql], true),
    tamper: async (...statements: string[]) => run(statements, false),
    scalar: async (sql: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return Object.values(db.prepare(sql).get() as object)[0];
      } finally {
        db.close();
      }
    },
    holdWriteLock: async () => {
      const holder = new Database(path);
      holder.exec('BEGIN IMMEDIATE');
      return async () => {
        holder.exec('ROLLBACK');
        holder.close();
      };
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

storeContract('sqlite', async () => sqliteFixture());
durableStoreContract('sqlite', async () => sqliteFixture());

async function postgresFixture() {
  const db = await freshDatabase('contract');
  const address = parseStoreAddress(db.url, { field: 'test' }) as Extract<StoreAddress, { kind: 'postgres' }>;
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('SET search_path = procura');
    return client;
  };
  const run = async (statements: string[], guards: boolean): Promise<void> => {
    const client = await connect();
    try {
      if (!guards) for (const t of LEDGER_TABLES) await client.query(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
      for (const sql of statements) await client.query(sql);
    } finally {
      if (!guards) for (const t of LEDGER_TABLES) await client.query(`ALTER TABLE ${t} ENABLE TRIGGER USER`);
      await client.end();
    }
  };
  return {
    open: async (options = {}) => PgLedgerStore.open(address, options),
    raw: async (sql: string) => run([sql], true),
    tamper: async (...statements: string[]) => run(statements, false),
    scalar: async (sql: string) => {
      const client = await connect();
      try {
        return Object.values((await client.query(sql)).rows[0] as object)[0];
      } finally {
        await client.end();
      }
    },
    holdWriteLock: async () => {
      const holder = await connect();
      await holder.query('BEGIN');
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('procura.ledger.chain'), hashtext('main'))");
      return async () => {
        await holder.query('ROLLBACK');
        await holder.end();
      };
    },
    dispose: () => db.drop(),
  };
}

storeContract('postgres', postgresFixture);
durableStoreContract('postgres', postgresFixture);
