/**
 * The sweep queue (`npm run bench -- queue`): the small golden scenario's sweep over the
 * PostgreSQL queue with 1, 2 and 4 `procura worker` processes, each beside a local sweep of
 * the same sets on as many threads (same run, same timing); and the queue's per-set overhead:
 * one warm worker taking the sets one by one against the same sets evaluated in this process by
 * `evaluateSet` (the function both run). CPU time counts this process and the workers
 * (/proc/<pid>/stat), the server's is not counted.
 *
 * A throwaway server is started (test/support/postgres-server.ts) unless PROCURA_BENCH_PG
 * names one (a role that may create databases).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadScenario } from '../src/engine/scenario.js';
import { runQueuedSweep } from '../src/engine/sweep-queue.js';
import { evaluateSet, gatherSweep, parseSweepSpec, runSweep } from '../src/engine/sweep.js';
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

/** Wall time of `fn`, CPU of this process and of `pids` together. */
async function measureWith(pids: readonly number[], fn: () => Promise<unknown>): Promise<Timing> {
  const before = pids.map(processCpuMs);
  const own = await measure(fn);
  const after = pids.map(processCpuMs);
  return { wallMs: own.wallMs, cpuMs: own.cpuMs + after.reduce((sum, a, i) => sum + a - before[i]!, 0) };
}

export const bench: Bench = async (report) => {
  const server = process.env.PROCURA_BENCH_PG ? undefined : await startPostgres({ fsync: true });
  const adminUrl = process.env.PROCURA_BENCH_PG ?? server!.url;
  const previous = process.cwd();
  process.chdir(ROOT);
  try {
    const scenario = loadScenario(resolve(SCENARIO));
    const grid = parseSweepSpec(GRID, scenario);
    const sets = grid.sets.length;
    const warm = parseSweepSpec('fast=3:6:1,slow=20:20:1', scenario);

    // Throughput with 1, 2 and 4 worker processes, beside a local sweep on as many threads.
    for (const count of [1, 2, 4]) {
      const address = await createDatabase(adminUrl, `bench_queue_${count}`);
      const workers = startWorkers(address, count);
      try {
        // Every worker loads the scenario before the clock starts.
        await runQueuedSweep(scenario, warm, { file: SCENARIO, queue: address });
        const queued = await measureWith(workers.map((w) => w.pid!), () => runQueuedSweep(scenario, grid, { file: SCENARIO, queue: address }));
        const local = await measure(() => runSweep(scenario, grid, { file: resolve(SCENARIO), workers: count }));
        report(
          rateRow({
            name: `sweep on the PostgreSQL queue, ${count} worker process${count === 1 ? '' : 'es'}, ${sets} sets of the small scenario (baselines and ranking included)`,
            count: sets,
            unit: 'sets/s',
            timing: queued,
            reference: { name: `local sweep of the same sets on ${count} thread${count === 1 ? '' : 's'}`, timing: local },
            ...(count === 1 ? {} : { note: `${count} processes on a 2-core machine` }),
          }),
        );
      } finally {
        await stopWorkers(workers);
      }
    }

    // The queue's cost per set: one warm worker, against evaluateSet in this process.
    const address = await createDatabase(adminUrl, 'bench_queue_overhead');
    const workers = startWorkers(address, 1);
    try {
      await runQueuedSweep(scenario, warm, { file: SCENARIO, queue: address });
      let evaluatedMs = 0;
      const queued = await measureWith([workers[0]!.pid!], async () => {
        const client = new pg.Client({ connectionString: address.url });
        await client.connect();
        try {
          await runQueuedSweep(scenario, grid, { file: SCENARIO, queue: address });
          // The sets' own time as the worker measured it, for the note.
          evaluatedMs = Number((await client.query('SELECT sum(ms)::int AS ms FROM procura_queue.results r JOIN procura_queue.sweeps s ON s.id = r.sweep_id WHERE s.total = $1', [sets])).rows[0].ms);
        } finally {
          await client.end();
        }
      });
      // The reference runs the sets and the gathering (baselines, ranks) as the submitter does, without the queue.
      const inProcess = await measure(async () => {
        const results = [];
        for (const params of grid.sets) results.push(await evaluateSet(scenario, params));
        await gatherSweep(scenario, grid, results);
      });
      const overhead = (queued.wallMs - inProcess.wallMs) / sets;
      report(
        costRow({
          name: `sweep on the PostgreSQL queue, one warm worker, per set (${sets} sets)`,
          unit: 'ms',
          per: sets,
          timing: queued,
          reference: { name: 'the same sets by evaluateSet in one process, gathered the same way', per: sets, timing: inProcess },
          target: 'queue overhead < 5 ms per set',
          note: `queue overhead ${overhead.toFixed(2)} ms per set (wall difference / sets); the worker's own set time ${(evaluatedMs / sets).toFixed(1)} ms per set`,
        }),
      );
    } finally {
      await stopWorkers(workers);
    }
  } finally {
    process.chdir(previous);
    server?.stop();
  }
};
