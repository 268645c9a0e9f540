// Issue 12: the synchronous PostgreSQL store (the live runner's) commits a posting with
// synchronous_commit off, so the stream's chain lock is not held through the WAL flush, and
// waits for the flush after the COMMIT, outside the lock, before `post` returns; as the
// asynchronous store does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';
import { Ledger, loadEvents, loadPlant } from '../../src/ledger/index.js';
import { parseStoreAddress } from '../../src/store/address.js';
import type { PgAddress } from '../../src/store/pg/connect.js';
import { chainLockKey } from '../../src/store/pg/ledger-ops.js';
import type { Query, Row } from '../../src/store/pg/ops.js';
import { BlockingPgClient } from '../../src/store/pg/sync-client.js';
import { PgSyncLedgerStore } from '../../src/store/pg/sync-ledger-store.js';

const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EVENTS = join(ROOT, 'config', 'ammonia-events.jsonl');

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('sync_flush');
});
afterAll(() => db.drop());

describe('the synchronous PostgreSQL store', () => {
  it('waits for the WAL flush after the COMMIT, with the chain lock already released; a posting of nothing new waits for nothing', () => {
    const address = parseStoreAddress(`${db.url}?stream=flush`, { field: 'test' }) as PgAddress;
    const store = new PgSyncLedgerStore(address);
    const other = BlockingPgClient.connect(address, 'test observer');
    // Every statement the store sends, and at the durability wait whether another session can
    // take the stream's chain lock at that moment (it can only if the posting released it).
    const sent: string[] = [];
    const lockFreeAtFlush: boolean[] = [];
    const query = store.client.query.bind(store.client);
    store.client.query = (q: Query): Row[] => {
      sent.push(q.text.replace(/\s+/g, ' ').slice(0, 120));
      if (q.text.includes('pg_logical_emit_message')) {
        other.query({ text: 'BEGIN' });
        lockFreeAtFlush.push(other.query({ text: `SELECT pg_try_advisory_xact_lock(${chainLockKey('flush')}) AS got` })[0]!.got === true);
        other.query({ text: 'ROLLBACK' });
      }
      return query(q);
    };
    try {
      const plant = loadPlant(PLANT);
      const ledger = Ledger.openSync(store, plant);
      const result = ledger.post(loadEvents(EVENTS, plant), { file: EVENTS });
      expect(result.posted).toBe(45);
      const begin = sent.indexOf('BEGIN');
      expect(sent[begin + 1]).toBe('SET LOCAL synchronous_commit = off');
      expect(sent[begin + 2]).toMatch(/^SELECT pg_try_advisory_xact_lock\(hashtext\('procura\.ledger\.chain'\), hashtext\('flush'\)\)/);
      const commit = sent.indexOf('COMMIT', begin);
      expect(commit).toBeGreaterThan(begin);
      expect(sent[commit + 1]).toBe("SELECT pg_logical_emit_message(true, 'procura.durable', '')");
      expect(lockFreeAtFlush).toEqual([true]);
      expect(sent.filter((t) => t.includes('pg_logical_emit_message'))).toHaveLength(1);

      // The same events again: nothing appended, so no wait for the disk.
      sent.length = 0;
      expect(ledger.post(loadEvents(EVENTS, plant), { file: EVENTS }).posted).toBe(0);
      expect(sent.some((t) => t.includes('pg_logical_emit_message'))).toBe(false);
      expect(ledger.verify().ok).toBe(true);
    } finally {
      other.end();
      store.close();
    }
  });
});
