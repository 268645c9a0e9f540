/**
 * Where the time of N concurrent posters goes (a diagnostic, not part of `npm run bench`):
 * `node dist/bench/pg-posters-profile.js [POSTERS] [BATCHES] [BATCH] [lock|serializable|streams] [WARM]`
 * starts a throwaway PostgreSQL (fsync on) unless PROCURA_BENCH_PG names one, runs POSTERS
 * processes of pg-poster.js (each after WARM untimed batches, default 8) posting BATCHES batches
 * of BATCH events in all into one fresh ledger (`streams`: each process into a stream of its
 * own, with the lock), and prints wall time, the posters' CPU, the
 * server's CPU (every server process, exited backends included) and, summed over the posters,
 * the time from sending each kind of statement to its answer. PROCURA_BENCH_PROFILE=DIR writes a
 * CPU profile of each poster's posting phase into DIR.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/index.js';
import { parseStoreAddress } from '../src/store/address.js';
import type { PgAddress } from '../src/store/pg/connect.js';
import { PgLedgerStore } from '../src/store/pg/ledger-store.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { makeEvents, PLANT } from './ledger.js';
import { createDatabase } from './pg.js';
import { postmasterPid, serverCpuMs } from './pg-server-cpu.js';

const posterCount = Number(process.argv[2] ?? 8);
const total = Number(process.argv[3] ?? 64);
const batch = Number(process.argv[4] ?? 1000);
const mode = process.argv[5] ?? 'lock';
const streams = mode === 'streams';
const warm = process.argv[6] ?? '8';
const server = process.env.PROCURA_BENCH_PG ? undefined : await startPostgres({ fsync: true });
const adminUrl = process.env.PROCURA_BENCH_PG ?? server!.url;

try {
  const url = await createDatabase(adminUrl, 'bench_pprof');
  const postmaster = await postmasterPid(adminUrl);
  const urlOf = (p: number): string => (streams ? `${url}?stream=p${p}` : url);
  for (const u of new Set(Array.from({ length: posterCount }, (_, p) => urlOf(p)))) {
    const store = await PgLedgerStore.open(parseStoreAddress(u, { field: 'url' }) as PgAddress);
    await (await Ledger.openAsync(store, PLANT)).postAsync(makeEvents(8).map((e, i) => Object.assign(e, { id: `seed-${i}`, at: Date.UTC(2024, 0, 1), knownAt: Date.UTC(2024, 0, 1) })));
    await store.close();
  }
  const children = Array.from({ length: posterCount }, (_, p) => {
    const child = spawn(process.execPath, [...(process.env.PROCURA_POSTER_NODE_ARGS ?? '').split(' ').filter(Boolean), join(import.meta.dirname, 'pg-poster.js'), urlOf(p), `p${p}`, String(total / posterCount), String(batch), streams ? 'lock' : mode, warm], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, PROCURA_BENCH_TRACE: '1' },
    });
    let out = '';
    const ready = new Promise<void>((r) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), out.startsWith('ready\n') && r())));
    const done = new Promise<string>((r) => child.on('exit', () => r(out)));
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  const cpu0 = serverCpuMs(postmaster);
  for (const c of children) c.child.stdin.end('go\n');
  const outs = await Promise.all(children.map((c) => c.done));
  await new Promise((r) => setTimeout(r, 300)); // backends exit and are reaped
  const serverMs = (serverCpuMs(postmaster) ?? NaN) - (cpu0 ?? NaN);
  const results = outs.map((o) => JSON.parse(o.split('\n')[1]!) as { startedAt: number; endedAt: number; entries: number; cpuMs: number; trace: Record<string, { count: number; ms: number }> });
  const wall = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
  const entries = results.reduce((t, r) => t + r.entries, 0);
  const clientMs = results.reduce((t, r) => t + r.cpuMs, 0);
  console.log(`${posterCount} posters, ${total} batches of ${batch}: ${entries} entries, wall ${wall.toFixed(0)} ms (${Math.round((entries / wall) * 1000)} entries/s), posters' CPU ${clientMs.toFixed(0)} ms, server CPU ${serverMs} ms (the checkpoint and wal writers included)`);
  const sum = new Map<string, { count: number; ms: number }>();
  for (const r of results) for (const [k, v] of Object.entries(r.trace)) {
    const s = sum.get(k) ?? { count: 0, ms: 0 };
    s.count += v.count;
    s.ms += v.ms;
    sum.set(k, s);
  }
  for (const [k, v] of [...sum].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${v.ms.toFixed(0).padStart(8)} ms ${String(v.count).padStart(5)}x  ${k}`);
} finally {
  server?.stop();
}
