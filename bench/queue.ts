/**
 * The sweep queue (`npm run bench -- queue`): the small golden scenario's sweep over the
 * PostgreSQL queue with 1, 2 and 4 `procura worker` processes, each beside a local sweep of
 * the same sets on as many threads (same run, same timing), with what a loaded machine cannot
 * hide: the CPU the workers used per set, the share of the elapsed wall each worker spent in its
 * chunks, and the CPU each worker actually got. Then the queue's per-set overhead measured in
 * the worker (its time outside its sets, wall and CPU, from procura_queue.chunks), with jobs of
 * one set and of the default chunk, beside one set by `evaluateSet` in this process (the function
 * the workers run). CPU time counts this process and the workers (/proc/<pid>/stat); the
 * server's is not counted.
 *
 * A throwaway server is started (test/support/postgres-server.ts) unless PROCURA_BENCH_PG
 * names one (a role that may create databases).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadScenario } from '../src/engine/scenario.js';
import { runQueuedSweep, type QueueStats } from '../src/engine/sweep-queue.js';
import { evaluateSet, parseSweepSpec, runSweep } from '../src/engine/sweep.js';
import { parseStoreAddress } from '../src/store/address.js';
import type { PgAddress } from '../src/store/pg/connect.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { costRow, measure, rateRow, type Bench, type Timing } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCENARIO = 'test/engine/fixtures/small.yaml';
/** 48 sets (fast 2..7 x slow 10..31 step 3). */
const GRID = 'fast=2:7:1,slow=10:31:3';

/** CPU milliseconds a process has used so far (Linux: utime + stime in clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function createDatabase(adminUrl: string, name: string): Promise<PgAddress> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return parseStoreAddress(url.toString(), { field: 'bench' }) as PgAddress;
}

function startWorkers(address: PgAddress, count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'worker', '--queue', address.url], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }));
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise<void>((done) => {
    if (w.exitCode !== null || w.signalCode !== null) return done();
    w.on('exit', () => done());
    w.kill('SIGKILL');
  })));
}

/** Wall time of `fn` with this process's CPU, and the CPU each of `pids` used meanwhile. */
async function measureWith(pids: readonly number[], fn: () => Promise<unknown>): Promise<{ own: Timing; others: number[] }> {
  const before = pids.map(processCpuMs);
  const own = await measure(fn);
  const after = pids.map(processCpuMs);
  return { own, others: after.map((a, i) => a - before[i]!) };
}

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
const pct = (x: number): string => `${Math.round(x * 100)}%`;

export const bench: Bench = async (report) => {
  const server = process.env.PROCURA_BENCH_PG ? undefined : await startPostgres({ fsync: true });
  const adminUrl = process.env.PROCURA_BENCH_PG ?? server!.url;
  const previous = process.cwd();
  process.chdir(ROOT);
  try {
    const scenario = loadScenario(resolve(SCENARIO));
    const grid = parseSweepSpec(GRID, scenario);
    const sets = grid.sets.length;

    // The reference for every row: the same sets by evaluateSet in this process, one after the
    // other, after one warm-up pass (as the workers are warmed by a first sweep of the grid).
    const evaluateAll = async (): Promise<void> => {
      for (const params of grid.sets) await evaluateSet(scenario, params);
    };
    await evaluateAll();
    const perSet = await measure(evaluateAll);

    // Throughput with 1, 2 and 4 worker processes, beside a local sweep on as many threads.
    for (const count of [1, 2, 4]) {
      const address = await createDatabase(adminUrl, `bench_queue_${count}`);
      const workers = startWorkers(address, count);
      try {
        // Every worker connects, loads the scenario and warms up (V8 compiles the hot code) on
        // about as many sets as the in-process reference did before the clock starts.
        for (let i = 0; i < count; i += 1) await runQueuedSweep(scenario, grid, { file: SCENARIO, queue: address, chunk: 1, evaluation: 'exact' });
        const loadBefore = load();
        let stats: QueueStats | undefined;
        const queued = await measureWith(workers.map((w) => w.pid!), async () => {
          stats = (await runQueuedSweep(scenario, grid, { file: SCENARIO, queue: address, evaluation: 'exact' })).stats;
        });
        const loadAfter = load();
        const local = await measure(() => runSweep(scenario, grid, { file: resolve(SCENARIO), workers: count }));
        const workerCpu = queued.others.reduce((a, b) => a + b, 0);
        const elapsed = queued.own.wallMs;
        const busy = stats!.workers.map((w) => pct(w.busyWallMs / elapsed)).join(', ');
        const share = queued.others.map((c) => pct(c / elapsed)).join(', ');
        report(
          rateRow({
            name: `sweep on the PostgreSQL queue, ${count} worker process${count === 1 ? '' : 'es'}, ${sets} sets of the small scenario in jobs of ${stats!.chunk} (baselines and ranking included)`,
            count: sets,
            unit: 'sets/s',
            timing: { wallMs: elapsed, cpuMs: queued.own.cpuMs + workerCpu },
            reference: { name: `local sweep of the same sets on ${count} thread${count === 1 ? '' : 's'}`, timing: local },
            note: `each worker busy (in its chunks) ${busy} of the elapsed wall; CPU each worker got: ${share} of a core; workers' CPU per set ${(workerCpu / sets).toFixed(1)} ms (in-process evaluateSet: ${(perSet.cpuMs / sets).toFixed(1)} ms); load average ${loadBefore} before, ${loadAfter} after`,
          }),
        );
        report(
          costRow({
            name: `CPU the ${count} worker process${count === 1 ? '' : 'es'} used per set (all their threads, /proc)`,
            unit: 'ms',
            per: sets,
            timing: { wallMs: workerCpu, cpuMs: workerCpu },
            reference: { name: 'CPU per set of evaluateSet in this process', per: sets, timing: { wallMs: perSet.cpuMs, cpuMs: perSet.cpuMs } },
            note: 'flat across 1, 2 and 4 workers = the queue adds no work per worker; sets/s then scales with the CPU the machine gives the workers',
          }),
        );
      } finally {
        await stopWorkers(workers);
      }
    }

    // The queue's cost per set, measured in the worker: its time outside its sets (around them in
    // a chunk, and between chunks), with jobs of one set (as before chunks) and of the default size.
    const address = await createDatabase(adminUrl, 'bench_queue_overhead');
    const workers = startWorkers(address, 1);
    try {
      await runQueuedSweep(scenario, grid, { file: SCENARIO, queue: address, chunk: 1, evaluation: 'exact' });
      for (const chunk of [1, undefined]) {
        const loadBefore = load();
        const queued = await runQueuedSweep(scenario, grid, { file: SCENARIO, queue: address, chunk, evaluation: 'exact' });
        const s = queued.stats;
        report(
          costRow({
            name: `the queue's time per set in one warm worker, outside its sets, jobs of ${s.chunk} set${s.chunk === 1 ? '' : 's'} (${sets} sets)`,
            unit: 'ms',
            per: sets,
            timing: { wallMs: s.outsideWallMs, cpuMs: s.outsideCpuMs },
            reference: { name: 'one set by evaluateSet in this process', per: sets, timing: perSet },
            target: 'queue overhead < 5 ms per set',
            note: `the worker's own time in its sets: ${(s.setWallMs / sets).toFixed(1)} ms wall, ${(s.setCpuMs / sets).toFixed(1)} ms CPU per set; load average ${loadBefore}`,
          }),
        );
      }
    } finally {
      await stopWorkers(workers);
    }
  } finally {
    process.chdir(previous);
    server?.stop();
  }
};
