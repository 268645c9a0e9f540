/**
 * Where a durable posting's time goes (not part of `npm run bench`; a diagnostic):
 * `node dist/bench/pg-profile.js [EVENTS]` posts EVENTS (default 100 000) bench events in batches
 * of 10 000 into a fresh database on a throwaway PostgreSQL (or the server PROCURA_BENCH_PG
 * names), then prints wall and client CPU time and, per statement, the time from sending it to
 * its answer (for a COPY, the client's sealing of the rows it streams is inside that time).
 */
import { performance } from 'node:perf_hooks';
import { Ledger } from '../src/ledger/index.js';
import { parseStoreAddress } from '../src/store/address.js';
import type { PgAddress } from '../src/store/pg/connect.js';
import { PgLedgerStore } from '../src/store/pg/ledger-store.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { makeEvents, PLANT } from './ledger.js';
import { createDatabase } from './pg.js';

const n = Number(process.argv[2] ?? 100_000);
const batch = 10_000;
const server = process.env.PROCURA_BENCH_PG ? undefined : await startPostgres({ fsync: true });
const adminUrl = process.env.PROCURA_BENCH_PG ?? server!.url;
try {
  const url = await createDatabase(adminUrl, 'bench_profile');
  const store = await PgLedgerStore.open(parseStoreAddress(url, { field: 'url' }) as PgAddress);
  const times = new Map<string, { count: number; ms: number }>();
  const query = store.query.bind(store);
  store.query = async (q) => {
    const started = performance.now();
    try {
      return await query(q);
    } finally {
      const key = q.text.replace(/\s+/g, ' ').slice(0, 70);
      const t = times.get(key) ?? { count: 0, ms: 0 };
      t.count += 1;
      t.ms += performance.now() - started;
      times.set(key, t);
    }
  };
  const ledger = await Ledger.openAsync(store, PLANT);
  const events = makeEvents(n);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < n; i += batch) await ledger.postAsync(events.slice(i, i + batch));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await store.close();
  const cpuMs = (used.user + used.system) / 1000;
  console.log(`${n} entries: wall ${wallMs.toFixed(0)} ms (${Math.round((n / wallMs) * 1000)} entries/s), client CPU ${cpuMs.toFixed(0)} ms (${Math.round((n / cpuMs) * 1000)} entries/s)`);
  for (const [text, t] of [...times].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${t.ms.toFixed(0).padStart(7)} ms ${String(t.count).padStart(4)}x  ${text}`);
} finally {
  server?.stop();
}
