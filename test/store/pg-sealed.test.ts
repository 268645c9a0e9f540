// Issue 12, many writers: a posting trusts the previous posting's rows without re-reading them
// when every row after the verified mark, and nothing else, carries the transaction id (xmin) of
// the head's checkpoint. Anything done to those rows afterwards (an edit, a deletion, a row added
// in another transaction) brings the full tail check back, and the posting refuses the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';
import { Ledger, loadPlant, type LedgerEvent } from '../../src/ledger/index.js';
import { Decimal } from '../../src/core/decimal.js';
import type { ProcuraError } from '../../src/core/errors.js';
import type { StoreState } from '../../src/ledger/store.js';
import { parseStoreAddress } from '../../src/store/address.js';
import type { PgAddress } from '../../src/store/pg/connect.js';
import { PgLedgerStore } from '../../src/store/pg/ledger-store.js';
import { PgSyncLedgerStore } from '../../src/store/pg/sync-ledger-store.js';
import { writeSync } from '../../src/ledger/store.js';

const plant = loadPlant(join(ROOT, 'config', 'ammonia-plant.yaml'));
const T0 = Date.UTC(2024, 0, 1);
const D = (s: string): Decimal => new Decimal(s);
let counter = 0;
function batch(n: number): LedgerEvent[] {
  return Array.from({ length: n }, (): LedgerEvent => {
    counter += 1;
    return { type: 'purchase', id: `p${counter}`, at: T0 + counter * 60_000, knownAt: T0 + counter * 60_000, material: 'natgas', qty: D('10'), unitPrice: D('2.5'), paidFrom: 'accounts_payable' };
  });
}

let db: TestDatabase;
let address: PgAddress;
beforeAll(async () => {
  db = await freshDatabase('sealed');
  address = parseStoreAddress(db.url, { field: 'db' }) as PgAddress;
});
afterAll(() => db.drop());

async function sql(text: string, disableTriggers = false): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    if (disableTriggers) await client.query('ALTER TABLE procura.entries DISABLE TRIGGER USER');
    await client.query(text);
    if (disableTriggers) await client.query('ALTER TABLE procura.entries ENABLE TRIGGER USER');
  } finally {
    await client.end();
  }
}

/** The state a write transaction starts from, on the asynchronous and on the blocking engine. */
async function writeStates(): Promise<[StoreState, StoreState]> {
  const store = await PgLedgerStore.open(address);
  const asyncState = await store.write((w) => w.state());
  await store.close();
  const sync = new PgSyncLedgerStore(address);
  try {
    return [asyncState, writeSync(sync, (w) => w.state())];
  } finally {
    sync.close();
  }
}

describe('the last posting sealed by its transaction', () => {
  it('another connection trusts it (verified mark = head); an edit, a deletion or a row added later makes it re-hash the tail and refuse', async () => {
    const a = await PgLedgerStore.open(address);
    const ledgerA = await Ledger.openAsync(a, plant);
    await ledgerA.postAsync(batch(5));
    await ledgerA.postAsync(batch(5));
    await a.close();
    // As stored, the verified mark is the head before the last posting; a writer sees the head.
    for (const state of await writeStates()) {
      expect(state.head.seq).toBe(10);
      expect(state.verified).toEqual(state.head);
    }
    const read = await PgLedgerStore.open(address);
    expect((await read.read((r) => r.state())).verified.seq).toBe(5);
    await read.close();

    // A row added in another transaction beyond the head: not sealed, and the posting refuses.
    await sql(`INSERT INTO procura.entries SELECT seq + 1, event_id, event_type, at, known_at, reverses, body, hash, prev_hash FROM procura.entries WHERE seq = 10`);
    for (const state of await writeStates()) expect(state.verified.seq).toBe(5);
    const b = await PgLedgerStore.open(address);
    const ledgerB = await Ledger.openAsync(b, plant);
    const beyond = await ledgerB.postAsync(batch(1)).catch((e: unknown) => e);
    expect((beyond as ProcuraError).code).toBe('E_VERIFY');
    expect((beyond as ProcuraError).message).toMatch(/entry 11 lies beyond the head/);
    await sql('DELETE FROM procura.entries WHERE seq = 11', true);

    // With that row deleted again, the last posting's rows are as it wrote them: sealed again.
    for (const state of await writeStates()) expect(state.verified).toEqual(state.head);
    await ledgerB.postAsync(batch(3));

    // An edit (the row gets the editing transaction's xmin): re-hashed, refused.
    await sql(`UPDATE procura.entries SET body = replace(body, '"qty":"10"', '"qty":"11"') WHERE seq = 12`, true);
    for (const state of await writeStates()) expect(state.verified.seq).toBe(10);
    const edited = await ledgerB.postAsync(batch(1)).catch((e: unknown) => e);
    expect((edited as ProcuraError).code).toBe('E_VERIFY');
    expect((edited as ProcuraError).message).toMatch(/entry 12: hash does not match/);

    // An edit that is undone still leaves rows of another transaction: checked, and they verify.
    await sql(`UPDATE procura.entries SET body = replace(body, '"qty":"11"', '"qty":"10"') WHERE seq = 12`, true);
    for (const state of await writeStates()) expect(state.verified.seq).toBe(10);
    expect((await ledgerB.postAsync(batch(1))).entries.length).toBe(1);
    await b.close();
    const check = await PgLedgerStore.open(address);
    const verified = await (await Ledger.openAsync(check)).verifyAsync();
    await check.close();
    expect(verified.ok, verified.fault).toBe(true);
    expect(verified.head.seq).toBe(14);
  });
});
