/**
 * Issue 12: live state on PostgreSQL. A runner whose `store:` is a postgres:// URL keeps its
 * state in the schema `live_<runId>` and posts into the database's ledger; the lock is a
 * session advisory lock (a second instance of the same runner is refused with E_LOCKED, a
 * killed holder's lock is taken over); several runners share one database, each with its own
 * lock and state, and two that both simulate production each post their own days once. The
 * same ticks on SQLite and on PostgreSQL decide the same orders.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ErrorCode, ProcuraError, exitStatusOf } from '../../src/core/errors.js';
import { loadLiveConfig } from '../../src/live/config.js';
import type { LiveRunner } from '../../src/live/runner.js';
import { LiveStore } from '../../src/live/store.js';
import { parseStoreAddress } from '../../src/store/address.js';
import { openLedger } from '../../src/store/open.js';
import { formatDate } from '../../src/core/time.js';
import { ROOT } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';
import { PLANT, startLiveRig, type LiveRig } from './helpers.js';

let db: TestDatabase;
const rigs: LiveRig[] = [];
const runners: LiveRunner[] = [];
beforeAll(async () => {
  db = await freshDatabase('live');
});
afterEach(async () => {
  for (const r of runners.splice(0)) r.close();
  for (const r of rigs.splice(0)) await r.stop();
});
afterAll(async () => {
  await db.drop();
});

/** A rig whose config stores in the test database (or `url`) under `runId`; `edit` changes the config's text. */
async function pgRig(runId: string, url = db.url, edit: (text: string) => string = (t) => t): Promise<LiveRig> {
  const rig = await startLiveRig({ config: { runId } });
  rigs.push(rig);
  const text = edit(readFileSync(rig.configFile, 'utf8').replace('store: store.sqlite', `store: ${url}`));
  writeFileSync(rig.configFile, text);
  const config = loadLiveConfig(rig.configFile);
  return { ...rig, config, open: (extra = {}) => rig.open({ config, ...extra }) };
}

async function open(rig: LiveRig): Promise<LiveRunner> {
  const runner = await rig.open();
  runners.push(runner);
  return runner;
}

function lockedError(run: () => unknown): ProcuraError {
  try {
    run();
  } catch (error) {
    return error as ProcuraError;
  }
  throw new Error('expected E_LOCKED');
}

describe('live state on PostgreSQL', () => {
  it('runs the same ticks as on SQLite: the same orders decided, the fills in the database ledger', async () => {
    const sqliteRig = await startLiveRig({ config: { runId: 'parity' } });
    rigs.push(sqliteRig);
    const pgRigged = await pgRig('parity');
    expect(pgRigged.config.store.kind).toBe('postgres');
    const onSqlite = await open(sqliteRig);
    const onPg = await open(pgRigged);
    for (let i = 0; i < 6; i += 1) {
      const a = await onSqlite.tick();
      const b = await onPg.tick();
      expect(b.ok, b.error).toBe(true);
      expect(a.ok, a.error).toBe(true);
      expect(b.decidedAt).toEqual(a.decidedAt);
      expect(b.orders).toBe(a.orders);
      sqliteRig.advance();
      pgRigged.advance();
    }
    const requests = (r: LiveRunner) => r.orders.allOrders().map((o) => `${o.request.side} ${o.request.qty.toFixed()} ${o.status}`);
    expect(requests(onPg)).toEqual(requests(onSqlite));
    expect(requests(onPg).length).toBeGreaterThan(0);
    const balances = (r: LiveRunner) => JSON.stringify([...r.ledger().balances()].map(([k, v]) => [k, v.toFixed()]));
    expect(balances(onPg)).toEqual(balances(onSqlite));
    // The fills are in the database's ledger, which verifies; the state in the runner's schema.
    const ledger = openLedger(parseStoreAddress(db.url, { field: 'test' }), undefined, { mustExist: true });
    try {
      expect(ledger.journal.size).toBeGreaterThan(0);
      expect(ledger.verify().ok).toBe(true);
    } finally {
      ledger.journal.close();
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM live_parity.live_orders');
      expect(rows[0].n).toBe(requests(onPg).length);
    } finally {
      await client.end();
    }
  }, 240_000);

  it('several runners on one database, each with its own lock and state; a second instance of one is refused (exit 4)', async () => {
    const a = await pgRig('desk-a');
    const b = await pgRig('desk-b');
    const runnerA = await open(a);
    const runnerB = await open(b);
    expect((await runnerA.tick()).ok).toBe(true);
    expect(runnerB.store.lockHolder()?.pid).toBe(process.pid);
    // Each runner's orders and candles are its own.
    expect(runnerB.orders.allOrders()).toEqual([]);
    expect(runnerA.orders.allOrders().length).toBeGreaterThan(0);
    expect(runnerB.store.lastCandleAt('PAXG/USDT')).toBeUndefined();
    // The same runner again (another process would hold another session): refused, naming the holder.
    const again = new LiveStore({ address: a.config.store as Extract<typeof a.config.store, { kind: 'postgres' }>, runId: 'desk-a' }, { now: () => 0 });
    try {
      const error = lockedError(() => again.acquireLock(process.pid + 1, () => true));
      expect(error.code).toBe(ErrorCode.locked);
      expect(exitStatusOf(error)).toBe(4);
      expect(error.message).toContain(`pid ${process.pid}`);
    } finally {
      again.close();
    }
    // Released on close: the next instance takes it without a take-over.
    runners.splice(runners.indexOf(runnerA), 1);
    runnerA.close();
    const next = await open(a);
    expect(next.store.lockHolder()?.pid).toBe(process.pid);
  }, 240_000);

  it('runners posting into their own streams of one database: each stream verifies on its own; a runId keeps to its stream', async () => {
    const a = await pgRig('desk-s1', `${db.url}?stream=desk-s1`);
    const b = await pgRig('desk-s2', `${db.url}?stream=desk-s2`);
    const runnerA = await open(a);
    const runnerB = await open(b);
    for (let i = 0; i < 4; i += 1) {
      expect((await runnerA.tick()).ok).toBe(true);
      expect((await runnerB.tick()).ok).toBe(true);
      a.advance();
      b.advance();
    }
    const heads = [];
    for (const stream of ['desk-s1', 'desk-s2']) {
      const ledger = openLedger(parseStoreAddress(`${db.url}?stream=${stream}`, { field: 'test' }), undefined, { mustExist: true });
      try {
        expect(ledger.journal.size).toBeGreaterThan(0);
        expect(ledger.verify().ok).toBe(true);
        heads.push(ledger.journal.size);
      } finally {
        ledger.journal.close();
      }
    }
    // Both ran the same ticks on the same rig: two chains of the same length, side by side.
    expect(heads[0]).toBe(heads[1]);
    // The runner's state belongs to its stream: the same runId posting into another stream is refused.
    const address = parseStoreAddress(`${db.url}?stream=elsewhere`, { field: 'test' });
    expect(() => new LiveStore({ address: address as Extract<typeof address, { kind: 'postgres' }>, runId: 'desk-s1' }, { now: () => 0 })).toThrow(
      'live run desk-s1 keeps its state for the ledger stream "desk-s1", and this config posts into stream "elsewhere"',
    );
  }, 240_000);

  it("takes over the lock of a holder that was killed (the server ended its session)", async () => {
    const rig = await pgRig('desk-killed');
    const address = rig.config.store;
    // A holder in another process: takes the lock, says so, waits to be killed.
    const script = join(rig.config.file, '..', 'holder.mjs');
    writeFileSync(
      script,
      `import { LiveStore } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'live', 'store.js'))};
const store = new LiveStore({ address: ${JSON.stringify(address)}, runId: 'desk-killed' }, { now: () => Date.now() });
store.acquireLock(process.pid, () => true);
process.stdout.write('locked\\n');
setInterval(() => undefined, 1000);
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    const store = new LiveStore({ address: address as Extract<typeof address, { kind: 'postgres' }>, runId: 'desk-killed' }, { now: () => 0 });
    try {
      // Alive: refused, though isAlive says otherwise (the lock, not the pid, decides on PostgreSQL).
      expect(lockedError(() => store.acquireLock(process.pid, () => false)).code).toBe(ErrorCode.locked);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      // The server notices the closed socket; retry until it has (bounded by attempts).
      let takenOver: number | undefined;
      for (let attempt = 0; attempt < 200 && takenOver === undefined; attempt += 1) {
        try {
          takenOver = store.acquireLock(process.pid, () => true).takenOver?.pid;
        } catch (error) {
          if ((error as ProcuraError).code !== ErrorCode.locked) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      expect(takenOver).toBe(child.pid);
      expect(store.lockHolder()?.pid).toBe(process.pid);
      const opened = await open(rig);
      throw new Error(`a second holder opened: ${opened.store.path}`);
    } catch (error) {
      expect((error as ProcuraError).code).toBe(ErrorCode.locked);
    } finally {
      store.releaseLock(process.pid);
      store.close();
    }
  }, 240_000);

  it('two runners simulating production on one database (two products of one plant) each post their own days once, restarted every tick', async () => {
    const shared = await freshDatabase('live_two_desks');
    try {
      // The jewellery plant with a second product from the same gold.
      const plant = join(mkdtempSync(join(tmpdir(), 'procura-two-desks-')), 'plant.yaml');
      writeFileSync(plant, `${readFileSync(PLANT, 'utf8')}  - id: chain\n    unit: pc\n    conversionCost: "30"\n    bom:\n      - from: "2020-01-01"\n        lines:\n          - { material: gold, qty: "0.2" }\n`);
      const onPlant = (product: string) => (text: string) => text.replace(`plant: ${PLANT}`, `plant: ${plant}`).replace('product: ring', `product: ${product}`);
      const ring = await pgRig('desk-ring', shared.url, onPlant('ring'));
      const chain = await pgRig('desk-chain', shared.url, onPlant('chain'));
      // Each tick is a new process (a restart that reads the runner's last day back). The two
      // run on the same days, as two services on one clock do, in either order (the ledger takes
      // no event dated before its latest).
      const tickOnce = async (rig: LiveRig) => {
        const runner = await rig.open();
        try {
          const result = await runner.tick();
          expect(result.ok, result.error).toBe(true);
        } finally {
          runner.close();
        }
        rig.advance();
      };
      for (let i = 0; i < 5; i += 1) {
        if (i % 2 === 0) {
          await tickOnce(ring);
          await tickOnce(chain);
        } else {
          await tickOnce(chain);
          await tickOnce(ring);
        }
      }
      const client = new pg.Client({ connectionString: shared.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ product: string; days: string[] }>(
          "SELECT split_part(id, ':', 4) AS product, array_agg(split_part(id, ':', 2) ORDER BY id) AS days FROM procura.events WHERE id LIKE 'day:%:completion:%' GROUP BY 1 ORDER BY 1",
        );
        const days = Object.fromEntries(rows.map((r) => [r.product, r.days]));
        // Both desks booked a completion on each of the same five days: neither took a day the
        // other had posted as done.
        expect(days['ring']).toHaveLength(5);
        expect(days['chain']).toEqual(days['ring']);
        // Each runner's last day is in its own schema.
        const last = async (schema: string) => Number((await client.query(`SELECT value FROM ${schema}.live_meta WHERE key = 'desk.lastDay'`)).rows[0].value);
        expect(formatDate(await last('"live_desk-ring"'))).toBe(days['ring']!.at(-1));
        expect(formatDate(await last('"live_desk-chain"'))).toBe(days['chain']!.at(-1));
      } finally {
        await client.end();
      }
    } finally {
      await shared.drop();
    }
  }, 300_000);

  it('refuses --paper on a PostgreSQL store (its books would mix with the real ones)', async () => {
    const rig = await pgRig('desk-paper');
    await expect(rig.open({ paper: true })).rejects.toThrow(/--paper keeps its own books/);
  }, 120_000);
});
