/**
 * Issue 12: sweeps across machines on the PostgreSQL queue. Several `procura worker` processes
 * take the chunks of sets of `procura backtest --sweep --queue`; the submitter's report equals a
 * local sweep's; a worker SIGKILLed in the middle of a chunk has that chunk run again by another
 * and each set counted once; a worker whose copy of a data file differs refuses the sweep (exit
 * 2, naming the file); a submitter whose sets nobody takes says so once and keeps waiting.
 * Bounded by counts (sets, workers, kill attempts, polls), never by elapsed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chunkSize, MAX_CHUNK, runQueuedSweep } from '../../src/engine/sweep-queue.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { parseSweepSpec, runSweep } from '../../src/engine/sweep.js';
import { parseStoreAddress } from '../../src/store/address.js';
import type { PgAddress } from '../../src/store/pg/connect.js';
import { ROOT, procura } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';

const SMALL = 'test/engine/fixtures/small.yaml';
const GRID = 'fast=3:7:2,slow=10:20:5';

interface Worker {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<void>;
}

const workers: Worker[] = [];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-queue-'));
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(url: string, cwd = ROOT): Worker {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'worker', '--queue', url], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => lines.push(`stderr: ${chunk.toString()}`));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const worker = { child, lines, exited };
  workers.push(worker);
  return worker;
}

/** The submitting command, without blocking this process. */
function submit(args: string[], cwd = ROOT): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('sweeps on the PostgreSQL queue', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('queue');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('three workers on chunks of 3 sets, one SIGKILLed in the middle of a chunk: the same report as a local sweep, every set counted once', async () => {
    // Exact sets (--exact): a screened set is over in a few milliseconds, too soon to be caught in the middle.
    const local = procura(['backtest', SMALL, '--json', '--no-report', '--sweep', GRID, '--exact', '--workers', '1']);
    expect(local.status, local.stderr).toBe(0);
    const pool = [startWorker(db.url), startWorker(db.url), startWorker(db.url)];
    const submitted = submit(['backtest', SMALL, '--json', '--no-report', '--sweep', GRID, '--exact', '--queue', db.url, '--chunk', '3']);
    // Freeze the first worker seen starting a set (SIGSTOP stops it where it is); if it had
    // finished that set already, let it go and wait for the next start (bounded by the sets).
    let victim: { worker: Worker; index: number } | undefined;
    const seen = new Set<string>();
    for (let polls = 0; victim === undefined && polls < 50_000; polls += 1) {
      for (const worker of pool) {
        for (const line of worker.lines) {
          const started = /^set (\d+) of sweep (\S+): started$/.exec(line);
          if (started === null || seen.has(`${worker.child.pid}:${line}`)) continue;
          seen.add(`${worker.child.pid}:${line}`);
          worker.child.kill('SIGSTOP');
          const done = await query(db.url, 'SELECT 1 FROM procura_queue.results WHERE idx = $1 AND worker LIKE $2', [Number(started[1]), `%:${worker.child.pid}`]);
          if (done.length === 0) {
            victim = { worker, index: Number(started[1]) };
            break;
          }
          worker.child.kill('SIGCONT');
        }
        if (victim !== undefined) break;
      }
      if (victim === undefined) await tick();
    }
    expect(victim, 'no worker was caught in the middle of a set').toBeDefined();
    victim!.worker.child.kill('SIGKILL');
    await victim!.worker.exited;

    const run = await submitted;
    expect(run.status, run.stderr).toBe(0);
    const queued = JSON.parse(run.stdout) as { sweep: unknown };
    expect(queued.sweep).toEqual((JSON.parse(local.stdout) as { sweep: unknown }).sweep);

    const results = await query<{ idx: number; worker: string }>(db.url, 'SELECT idx, worker FROM procura_queue.results ORDER BY idx');
    expect(results.map((r) => r.idx)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // The killed chunk (3 sets) was started again by another worker and its sets stored once, by that worker.
    const first = victim!.index - (victim!.index % 3);
    for (let idx = first; idx < first + 3; idx += 1) {
      const attempts = await query<{ worker: string }>(db.url, 'SELECT worker FROM procura_queue.attempts WHERE idx = $1 ORDER BY started_at', [idx]);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts[0]!.worker).toMatch(new RegExp(`:${victim!.worker.child.pid}$`));
      expect(results[idx]!.worker).not.toMatch(new RegExp(`:${victim!.worker.child.pid}$`));
    }
    // Three jobs of three sets; the killed worker never stored its chunk.
    const chunks = await query<{ first_idx: number; sets: number; worker: string }>(db.url, 'SELECT first_idx, sets, worker FROM procura_queue.chunks ORDER BY first_idx');
    expect(chunks.map((c) => [c.first_idx, c.sets])).toEqual([[0, 3], [3, 3], [6, 3]]);
    expect(chunks.some((c) => c.worker.endsWith(`:${victim!.worker.child.pid}`) && c.first_idx === first)).toBe(false);
    // Nothing left on the queue.
    expect(await query(db.url, 'SELECT 1 FROM graphile_worker.jobs')).toEqual([]);
  }, 600_000);

  it('screened sets on the queue, the best confirmed by the submitter: the same report as a local screened sweep', async () => {
    const local = procura(['backtest', SMALL, '--json', '--no-report', '--sweep', GRID, '--confirm', '3', '--workers', '1']);
    expect(local.status, local.stderr).toBe(0);
    startWorker(db.url);
    const run = await submit(['backtest', SMALL, '--json', '--no-report', '--sweep', GRID, '--confirm', '3', '--queue', db.url]);
    expect(run.status, run.stderr).toBe(0);
    const queued = (JSON.parse(run.stdout) as { sweep: { engine: { sets: string; confirmed: number }; rows: { figures: string }[] } }).sweep;
    expect(queued).toEqual((JSON.parse(local.stdout) as { sweep: unknown }).sweep);
    expect(queued.engine).toMatchObject({ sets: 'screened', confirmed: 3 });
    expect(queued.rows.filter((r) => r.figures === 'screened')).toHaveLength(6);
  }, 600_000);
});

describe('a scenario whose data differ between machines', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('queue_refuse');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('is refused by the worker that has the other data, naming the file; the submitter exits 2', async () => {
    const here = join(dir, 'submitter');
    const there = join(dir, 'worker');
    for (const root of [here, there]) {
      mkdirSync(join(root, 'fx'), { recursive: true });
      for (const name of ['small.yaml', 'plant.yaml', 'gas-daily.csv']) cpSync(join(ROOT, 'test/engine/fixtures', name), join(root, 'fx', name));
    }
    // One price on the worker's machine differs.
    const csv = readFileSync(join(there, 'fx', 'gas-daily.csv'), 'utf8').split('\n');
    const row = csv[10]!.split(',');
    row[1] = String(Number(row[1]) + 0.5);
    csv[10] = row.join(',');
    writeFileSync(join(there, 'fx', 'gas-daily.csv'), csv.join('\n'));
    startWorker(db.url, there);
    const run = await submit(['backtest', 'fx/small.yaml', '--json', '--no-report', '--sweep', GRID, '--queue', db.url], here);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/refused the sweep: the scenario's data differ on .*gas-daily\.csv/);
    expect(run.stdout).toBe('');
    expect(await query(db.url, 'SELECT 1 FROM procura_queue.results')).toEqual([]);
  }, 300_000);
});

describe('a submitter with no worker running', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('queue_idle');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('says once how to start a worker, keeps waiting, and finishes when one comes', async () => {
    const scenario = loadScenario(join(ROOT, SMALL));
    const grid = parseSweepSpec('fast=3:5:2,slow=10:15:5', scenario);
    const queue = parseStoreAddress(db.url, { field: '--queue' }) as PgAddress;
    const warnings: { line: string; done: number }[] = [];
    let done = 0;
    let pollsAfterWarning = 0;
    let worker: Worker | undefined;
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      const queued = await runQueuedSweep(scenario, grid, {
        file: SMALL,
        queue,
        evaluation: 'exact',
        pollMs: 5,
        warnAfterChecks: 4,
        warn: (line) => warnings.push({ line, done }),
        onPoll: (n) => {
          done = n;
          if (warnings.length > 0) pollsAfterWarning += 1;
          // Still waiting well after the warning (and saying nothing more): now a worker comes.
          if (pollsAfterWarning === 40) worker = startWorker(db.url);
        },
      });
      expect(worker).toBeDefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.done).toBe(0);
      expect(warnings[0]!.line).toMatch(/no worker has taken a set .*\(0 of 4 done\)\. Start one .*: procura worker --queue postgres:\/\/.* Still waiting\./);
      // Every set exact on both sides (evaluation: 'exact', exact: true): the same figures.
      const local = await runSweep(scenario, grid, { file: join(ROOT, SMALL), workers: 0, exact: true });
      expect(queued.json).toEqual(local.json);
      expect(queued.stats.sets).toBe(4);
      expect(queued.stats.workers.map((w) => w.sets)).toEqual([4]);
    } finally {
      process.chdir(cwd);
    }
  }, 300_000);
});

/**
 * The jobs on graphile-worker's queue, 0 while its schema is not there yet. graphile-worker's
 * migrations replace `graphile_worker.jobs` (a view) as they run, so a table that existed a moment
 * ago can be missing (undefined_table, 42P01) until the submitter's migration has finished.
 */
async function queuedJobs(url: string): Promise<number> {
  try {
    return Number((await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM graphile_worker.jobs'))[0]!.n);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return 0;
    throw error;
  }
}

describe('a submitter stopped with Ctrl-C', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('queue_sigint');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('takes its jobs no worker has started off the queue and ends by the signal', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'backtest', SMALL, '--no-report', '--sweep', GRID, '--queue', db.url, '--chunk', '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // Wait (bounded by polls) until its five jobs are on the queue.
    let jobs = 0;
    for (let polls = 0; jobs < 5 && polls < 5_000; polls += 1) {
      jobs = await queuedJobs(db.url);
      if (jobs < 5) await tick();
    }
    expect(jobs).toBe(5);
    child.kill('SIGINT');
    const end = await exited;
    expect(end.signal, stderr).toBe('SIGINT');
    expect(stderr).toMatch(/sweep \S+ stopped \(SIGINT\): 5 jobs no worker had started taken off the queue/);
    expect(await query(db.url, 'SELECT 1 FROM graphile_worker.jobs')).toEqual([]);
  }, 300_000);
});

describe('chunk size', () => {
  it('is a quarter of each worker\'s share of the grid, between 1 and the cap', () => {
    expect(chunkSize(48, 1)).toBe(12);
    expect(chunkSize(48, 4)).toBe(3);
    expect(chunkSize(9, 3)).toBe(1);
    expect(chunkSize(1000, 4)).toBe(MAX_CHUNK);
    expect(chunkSize(5, 0)).toBe(1);
  });
});
