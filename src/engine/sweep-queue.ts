/**
 * Sweeps across machines, on a PostgreSQL job queue (graphile-worker).
 *
 * `procura backtest SCENARIO --sweep GRID --queue postgres://...` records the sweep in
 * `procura_queue.sweeps` (the scenario file's path, the sha256 of the scenario and of every data
 * file it reads), adds one graphile-worker job per chunk of consecutive parameter sets (task
 * `procura_sweep_chunk`, job key `procura-sweep:<sweep>:<first index>`; see `chunkSize`), shows
 * progress while `procura worker --queue ...`
 * processes on any number of machines take the jobs, and gathers the results into the same
 * report as a local sweep (sweep.ts `gatherSweep`; each set is run by `evaluateSet`, the
 * function the local sweep's threads call), so the same grid and seed give the same figures.
 *
 * - Each set's result is one row of `procura_queue.results`, keyed by (sweep, index); a chunk's
 *   rows go in with one statement at its end, with ON CONFLICT DO NOTHING: a set run twice (its
 *   chunk retried after a worker died) is counted once. `procura_queue.chunks` records each chunk
 *   run with the worker's time inside and outside its sets (wall and CPU), the queue's overhead.
 * - A job says which evaluation its sets get (`exact` or `screen`: `evaluateSet` in that mode, as the local sweep's threads run it; a
 *   worker that does not know the kind refuses the sweep, as for differing data.
 * - A submitter whose sets nobody takes says so once on stderr (how to start a worker) after
 *   `warnAfterChecks` looks at the queue, and keeps waiting. Stopped by Ctrl-C or SIGTERM, it
 *   takes its jobs no worker has started off the queue (`stopOnSignal`).
 * - A worker killed mid-set: graphile-worker keeps its job locked (for hours, by default). Each
 *   worker holds a session advisory lock per graphile worker id for as long as its process
 *   lives; the submitter looks at the workers that hold jobs of its sweep, and one whose lock
 *   is free has died (the server ended its session): its jobs are unlocked
 *   (`forceUnlockWorkers`) and run again by another worker. `procura_queue.attempts` records
 *   every start of a set.
 * - A worker whose copy of the scenario or of a data file differs (by sha256) refuses the set,
 *   naming the file, in `procura_queue.refusals`; the submitter stops the sweep with that
 *   message (exit 2). Workers load the scenario by the path the submitter gave, relative to
 *   their working directory: run them from a checkout of the same repository and data.
 * - A set that fails (a parameter the strategy refuses) fails its job; after its attempts the
 *   submitter stops with the error.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type pg from 'pg';
import { ConfigError, ErrorCode, ProcuraError } from '../core/errors.js';
import type { PgAddress } from '../store/pg/connect.js';
import { connectPg, pgError } from '../store/pg/connect.js';
import { loadScenario, type Scenario } from './scenario.js';
import { confirmSweep, evaluateSet, gatherSweep, sweepEngine, type SweepGrid, type SweepResult } from './sweep.js';

/** The task of one job: a chunk of sets (the name changed with chunks: a worker from before them takes none). */
export const SWEEP_TASK = 'procura_sweep_chunk';
/** The evaluations a job may ask for: `exact` the exact engine, `screen` the screening engine (sweep.ts `evaluateSet` in that mode). */
export type SweepEvaluation = 'exact' | 'screen';
const EVALUATIONS: Record<SweepEvaluation, (scenario: Scenario, params: Record<string, unknown>) => Promise<{ inSample: string; outOfSample: string }>> = {
  exact: (scenario, params) => evaluateSet(scenario, params, 'exact'),
  screen: (scenario, params) => evaluateSet(scenario, params, 'screen'),
};
/** Most sets in one job: bounds the work a killed worker loses and the wait for the last chunk. */
export const MAX_CHUNK = 32;
/** Chunks per worker the sizing aims at, so workers finish close together. */
const CHUNKS_PER_WORKER = 4;
/** Workers assumed when none is running as the sweep is submitted. */
const ASSUMED_WORKERS = 4;
/** Attempts of one set before the sweep is given up (a crash of its worker counts as one). */
const MAX_ATTEMPTS = 5;
/** A job locked for less than this is not checked for a dead worker (a worker takes its lock as it starts a set). */
const REAP_AFTER_MS = 2000;

const QUEUE_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS procura_queue;
CREATE TABLE IF NOT EXISTS procura_queue.sweeps (
  id uuid PRIMARY KEY, scenario text NOT NULL, overrides jsonb NOT NULL, data_hash text NOT NULL, inputs jsonb NOT NULL,
  total integer NOT NULL, submitted_by text NOT NULL, submitted_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS procura_queue.results (
  sweep_id uuid NOT NULL REFERENCES procura_queue.sweeps ON DELETE CASCADE, idx integer NOT NULL, params jsonb NOT NULL,
  in_sample text NOT NULL, out_of_sample text NOT NULL, worker text NOT NULL, ms integer NOT NULL, finished_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sweep_id, idx));
ALTER TABLE procura_queue.results ADD COLUMN IF NOT EXISTS cpu_ms integer;
CREATE TABLE IF NOT EXISTS procura_queue.chunks (
  sweep_id uuid NOT NULL REFERENCES procura_queue.sweeps ON DELETE CASCADE, first_idx integer NOT NULL, sets integer NOT NULL, worker text NOT NULL,
  set_wall_ms float8 NOT NULL, set_cpu_ms float8 NOT NULL, task_wall_ms float8 NOT NULL, task_cpu_ms float8 NOT NULL,
  gap_wall_ms float8, gap_cpu_ms float8, finished_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS procura_queue.attempts (
  sweep_id uuid NOT NULL REFERENCES procura_queue.sweeps ON DELETE CASCADE, idx integer NOT NULL, worker text NOT NULL, started_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS procura_queue.refusals (
  sweep_id uuid NOT NULL REFERENCES procura_queue.sweeps ON DELETE CASCADE, worker text NOT NULL, reason text NOT NULL, at timestamptz NOT NULL DEFAULT now());
`;

/** One file a scenario reads, by its path relative to the scenario's folder and its sha256. */
export interface ScenarioInput {
  readonly path: string;
  readonly sha256: string;
}

/** One job: consecutive sets of one sweep, and how to evaluate them. */
interface ChunkPayload {
  readonly sweep: string;
  readonly file: string;
  readonly overrides: { strategy?: string; params?: Record<string, unknown> };
  readonly evaluation: SweepEvaluation;
  readonly sets: readonly { readonly index: number; readonly params: Record<string, unknown> }[];
  readonly hash: string;
  readonly inputs: readonly ScenarioInput[];
}

/**
 * Sets per job: a quarter of each worker's share of the grid, between 1 and MAX_CHUNK. Fewer,
 * larger jobs spread the queue's per-job cost (graphile-worker's get_job and complete_job, the
 * attempt and result statements: four round trips) over more sets; four chunks per worker keep
 * the last one from holding up the sweep for long. E.g. 48 sets: 12 per job with 1 worker, 3
 * with 4; 1,000 sets on 4 workers: 32.
 */
export function chunkSize(total: number, workers: number): number {
  return Math.max(1, Math.min(MAX_CHUNK, Math.floor(total / (CHUNKS_PER_WORKER * Math.max(1, workers)))));
}

/** The procura workers running now (each holds a liveness lock while its process lives). */
async function countWorkers(client: pg.Client): Promise<number> {
  const row = (await client.query(
    `SELECT count(DISTINCT pid)::int AS n FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = (hashtext('procura.worker')::bigint + 4294967296) % 4294967296`,
  )).rows[0] as { n: number };
  return row.n;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The scenario file and every data file it read, each with its sha256. */
export function scenarioInputs(scenario: Scenario): ScenarioInput[] {
  const base = dirname(scenario.file);
  const seen = new Set<string>();
  const out: ScenarioInput[] = [];
  for (const file of [scenario.file, ...scenario.inputs]) {
    if (seen.has(file)) continue;
    seen.add(file);
    out.push({ path: relative(base, file), sha256: sha256(readFileSync(file)) });
  }
  return out;
}

/** One hash over the scenario and its data: what two machines must agree on to run one sweep. */
export function dataHash(inputs: readonly ScenarioInput[]): string {
  return sha256(inputs.map((i) => `${i.path}\0${i.sha256}\n`).join(''));
}

async function ensureQueueSchema(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('procura.queue.schema'))");
    await client.query(QUEUE_SCHEMA);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** graphile-worker's log lines: warnings and errors to stderr, the rest dropped (procura prints its own). */
async function quietLogger(): Promise<import('graphile-worker').Logger> {
  const { Logger } = await import('graphile-worker');
  return new Logger(() => (level, message) => {
    // Its shutdown on a signal is logged as an error; it is the ordinary way to stop a worker.
    if (/graceful shutdown|signal handlers|killing self/i.test(message)) return;
    if (level === 'error' || level === 'warning') process.stderr.write(`graphile-worker ${level}: ${message}\n`);
  });
}

async function workerUtils(address: PgAddress): Promise<import('graphile-worker').WorkerUtils> {
  const { makeWorkerUtils } = await import('graphile-worker');
  // graphile-worker's first migration creates its schema without a lock: a worker and a
  // submitter starting together on a new database would race, so procura serialises it.
  const client = await connectPg(address, 'procura queue migrate');
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('procura.queue.migrate'))");
    const utils = await makeWorkerUtils({ connectionString: address.url, logger: await quietLogger() });
    await utils.migrate();
    return utils;
  } catch (error) {
    throw pgError(error, address, 'cannot open the sweep queue');
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface QueuedSweepOptions {
  /** The scenario file as given on the command line (workers resolve it against their own working directory). */
  readonly file: string;
  readonly overrides?: { strategy?: string | undefined; params?: Record<string, unknown> };
  readonly queue: PgAddress;
  readonly progress?: boolean;
  /** Sets per job (default `chunkSize(sets, the workers running as the sweep is submitted)`). */
  readonly chunk?: number | undefined;
  /** How the workers evaluate the sets (default `screen`, as a local sweep: screened, then the best `confirm` sets re-run exactly by the submitter; `exact` runs every set exactly, as --exact does). */
  readonly evaluation?: SweepEvaluation;
  /** With `evaluation: 'screen'`: screened sets re-run exactly by the submitter after the queue (`--confirm`, default 10; sweep.ts `confirmSweep`). */
  readonly confirm?: number | undefined;
  /** Called after each poll with the sets done so far (tests, benchmarks). */
  readonly onPoll?: (done: number, total: number) => void;
  /** Longest wait, in milliseconds, for a worker's notification before the queue is looked at anyway (default 1000). */
  readonly pollMs?: number;
  /** Looks at the queue in a row with no set taken (no job locked, no new result) before saying so (default 15: about 15 s). */
  readonly warnAfterChecks?: number;
  /** Where that message goes (default stderr). */
  readonly warn?: (line: string) => void;
  /**
   * On SIGINT or SIGTERM, take the sweep's jobs no worker has started off the queue, say so,
   * and end the process by that signal (the CLI sets it; a chunk a worker is running finishes).
   */
  readonly stopOnSignal?: boolean;
}

/** Where a queued sweep's time went, from `procura_queue.chunks` (the workers' own accounting). */
export interface QueueStats {
  readonly sets: number;
  readonly chunk: number;
  readonly jobs: number;
  /** Chunk runs stored (more than `jobs` when a chunk was retried). */
  readonly chunkRuns: number;
  /** The sets' own time in the workers (in the evaluation function). */
  readonly setWallMs: number;
  readonly setCpuMs: number;
  /**
   * The workers' time outside their sets: in the task around them (attempt rows, scenario check)
   * and between two chunks of the sweep (the result statement, graphile-worker's complete_job
   * and get_job). Not counted: each worker's first get_job and last result and complete_job.
   */
  readonly outsideWallMs: number;
  readonly outsideCpuMs: number;
  /** Per worker: sets run, and its time in chunks (inside and around sets, between chunks). */
  readonly workers: readonly { readonly worker: string; readonly sets: number; readonly busyWallMs: number; readonly busyCpuMs: number }[];
}

/** Runs a sweep on the queue's workers and gathers the same report as `runSweep`. */
export async function runQueuedSweep(scenario: Scenario, grid: SweepGrid, options: QueuedSweepOptions): Promise<SweepResult & { sweepId: string; stats: QueueStats }> {
  const address = options.queue;
  const total = grid.sets.length;
  const inputs = scenarioInputs(scenario);
  const hash = dataHash(inputs);
  const file = isAbsolute(options.file) ? relativeIfInside(process.cwd(), options.file) : options.file;
  const overrides = Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined)) as ChunkPayload['overrides'];
  // Screened when asked (the command line asks unless --exact) and the strategy can be screened; exact otherwise.
  const engine = sweepEngine(scenario, { exact: options.evaluation === 'exact', confirm: options.confirm });
  const evaluation: SweepEvaluation = engine.mode;
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const warnAfterChecks = options.warnAfterChecks ?? 15;
  const utils = await workerUtils(address);
  const client = await connectPg(address, 'procura sweep');
  const sweepId = randomUUID();
  const keyPrefix = `procura-sweep:${sweepId}:`;
  const { default: cliProgress } = await import('cli-progress');
  const bar = options.progress === true ? new cliProgress.SingleBar({ format: 'sweep [{bar}] {value}/{total} sets on the queue | {busy} busy workers | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  let wake: (() => void) | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    wake?.();
  };
  let removeSignalHandlers = (): void => undefined;
  if (options.stopOnSignal === true) {
    // Before the jobs are added: a signal while they are being added still takes them off.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    removeSignalHandlers = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    };
  }
  try {
    await ensureQueueSchema(client);
    const running = await countWorkers(client);
    const chunk = options.chunk ?? chunkSize(total, running === 0 ? ASSUMED_WORKERS : running);
    if (!Number.isInteger(chunk) || chunk < 1) throw new ConfigError(`sets per job must be a whole number >= 1, got ${chunk}`, { field: '--chunk' });
    await client.query('INSERT INTO procura_queue.sweeps (id, scenario, overrides, data_hash, inputs, total, submitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7)', [sweepId, file, JSON.stringify(overrides), hash, JSON.stringify(inputs), total, `${hostname()}:${process.pid}`]);
    const specs = [];
    for (let first = 0; first < total; first += chunk) {
      const sets = grid.sets.slice(first, first + chunk).map((params, i) => ({ index: first + i, params }));
      specs.push({ identifier: SWEEP_TASK, payload: { sweep: sweepId, file, overrides, evaluation, sets, hash, inputs } satisfies ChunkPayload, max_attempts: MAX_ATTEMPTS, job_key: `${keyPrefix}${first}` });
    }
    // One statement for the whole grid (graphile-worker's add_jobs).
    await client.query(
      `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
         SELECT (s.identifier, s.payload, NULL, NULL, s.max_attempts, s.job_key, NULL, NULL)::graphile_worker.job_spec
         FROM json_to_recordset($1::json) AS s(identifier text, payload json, max_attempts integer, job_key text)))`,
      [JSON.stringify(specs)],
    );
    if (options.progress === true) process.stderr.write(`sweep ${sweepId}: ${total} sets queued on ${address.display} in ${specs.length} jobs of up to ${chunk} (${running} worker${running === 1 ? '' : 's'} running); workers: procura worker --queue ${address.display}\n`);
    bar?.start(total, 0, { busy: 0 });
    const pollMs = options.pollMs ?? 1000;
    // Workers NOTIFY procura_sweep with the sweep's id as each chunk is stored or refused.
    let pending = false;
    let checkNow = true;
    client.on('notification', (message) => {
      if (message.payload === `${sweepId}:refused`) checkNow = true;
      if (message.payload?.startsWith(sweepId) !== true) return;
      if (wake === undefined) pending = true;
      else wake();
    });
    let checkedAt = 0;
    let busyWorkers = 0;
    // Looks at the queue in a row with no job locked and no new result; the warning is given once.
    let idleChecks = 0;
    let doneAtCheck = -1;
    let warned = false;
    await client.query('LISTEN procura_sweep');
    for (;;) {
      if (interrupted !== undefined) {
        bar?.stop();
        const removed = await utils.completeJobs((await client.query<{ id: string }>('SELECT id::text FROM graphile_worker.jobs WHERE task_identifier = $1 AND key LIKE $2', [SWEEP_TASK, `${keyPrefix}%`])).rows.map((j) => j.id));
        process.stderr.write(`sweep ${sweepId} stopped (${interrupted}): ${removed.length} job${removed.length === 1 ? '' : 's'} no worker had started taken off the queue\n`);
        await client.end().catch(() => undefined);
        await utils.release();
        removeSignalHandlers();
        process.kill(process.pid, interrupted);
        await new Promise(() => undefined); // the signal ends the process
      }
      const done = Number((await client.query('SELECT count(*)::int AS n FROM procura_queue.results WHERE sweep_id = $1', [sweepId])).rows[0].n);
      options.onPoll?.(done, total);
      if (done >= total) break;
      // The queue itself (refusals, failed sets, dead workers) is looked at once per pollMs, or at once after a refusal.
      if (!checkNow && Date.now() - checkedAt < pollMs) {
        bar?.update(done, { busy: busyWorkers });
        await waitFor(pollMs);
        continue;
      }
      checkNow = false;
      checkedAt = Date.now();
      const jobs = await client.query<{ id: string; locked_by: string | null; locked_ms: number | null; attempts: number; max_attempts: number; last_error: string | null }>(
        `SELECT id::text, locked_by, (extract(epoch FROM now() - locked_at) * 1000)::float8 AS locked_ms, attempts, max_attempts, last_error
         FROM graphile_worker.jobs WHERE task_identifier = $1 AND key LIKE $2`,
        [SWEEP_TASK, `${keyPrefix}%`],
      );
      busyWorkers = new Set(jobs.rows.filter((j) => j.locked_by !== null).map((j) => j.locked_by!)).size;
      bar?.update(done, { busy: busyWorkers });
      const refusal = (await client.query<{ worker: string; reason: string }>('SELECT worker, reason FROM procura_queue.refusals WHERE sweep_id = $1 ORDER BY at LIMIT 1', [sweepId])).rows[0];
      if (refusal !== undefined) {
        await dropJobs(utils, jobs.rows.map((j) => j.id));
        throw new ConfigError(`worker ${refusal.worker} refused the sweep: ${refusal.reason}`, { file, field: '--queue' });
      }
      const failed = jobs.rows.find((j) => j.locked_by === null && j.attempts >= j.max_attempts);
      if (failed !== undefined) {
        await dropJobs(utils, jobs.rows.map((j) => j.id));
        throw new ProcuraError(ErrorCode.internal, `a parameter set failed ${failed.attempts} times on the workers: ${failed.last_error ?? 'no error recorded'}`, { file, field: '--queue' });
      }
      idleChecks = busyWorkers === 0 && done === doneAtCheck ? idleChecks + 1 : 0;
      doneAtCheck = done;
      if (!warned && idleChecks >= warnAfterChecks) {
        warned = true;
        const since = Math.round((idleChecks * pollMs) / 1000);
        warn(`${bar === undefined ? '' : '\n'}sweep ${sweepId}: no worker has taken a set for about ${since} s (${done} of ${total} done). Start one on any machine with this checkout and data: procura worker --queue ${address.display} (one per core). Still waiting.`);
      }
      await reapDeadWorkers(client, utils, jobs.rows);
      await waitFor(pollMs);
    }
    async function waitFor(ms: number): Promise<void> {
      if (pending || interrupted !== undefined) {
        pending = false;
        return;
      }
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(() => resolveWait(), ms);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolveWait();
        };
      });
    }
    bar?.stop();
    const rows = (await client.query<{ idx: number; in_sample: string; out_of_sample: string }>('SELECT idx, in_sample, out_of_sample FROM procura_queue.results WHERE sweep_id = $1 ORDER BY idx', [sweepId])).rows;
    const results = rows.map((r) => ({ inSample: r.in_sample, outOfSample: r.out_of_sample }));
    const stats = await queueStats(client, sweepId, total, chunk, specs.length);
    // Screened on the queue: the best sets and the baselines are confirmed on this machine's threads.
    if (engine.mode === 'screen') return { ...(await confirmSweep(scenario, grid, results, engine, { file: resolve(options.file), overrides: options.overrides ?? {}, progress: options.progress === true })), sweepId, stats };
    return { ...(await gatherSweep(scenario, grid, results, { engine })), sweepId, stats };
  } finally {
    removeSignalHandlers();
    bar?.stop();
    await client.end().catch(() => undefined);
    await utils.release();
  }
}

async function queueStats(client: pg.Client, sweepId: string, sets: number, chunk: number, jobs: number): Promise<QueueStats> {
  const rows = (await client.query<{ worker: string; runs: number; sets: number; set_wall: number; set_cpu: number; task_wall: number; task_cpu: number; gap_wall: number; gap_cpu: number }>(
    `SELECT worker, count(*)::int AS runs, sum(sets)::int AS sets, sum(set_wall_ms) AS set_wall, sum(set_cpu_ms) AS set_cpu, sum(task_wall_ms) AS task_wall, sum(task_cpu_ms) AS task_cpu,
            coalesce(sum(gap_wall_ms), 0) AS gap_wall, coalesce(sum(gap_cpu_ms), 0) AS gap_cpu
     FROM procura_queue.chunks WHERE sweep_id = $1 GROUP BY worker ORDER BY worker`,
    [sweepId],
  )).rows;
  const sum = (f: (r: (typeof rows)[number]) => number): number => rows.reduce((s, r) => s + f(r), 0);
  const setWallMs = sum((r) => r.set_wall);
  const setCpuMs = sum((r) => r.set_cpu);
  return {
    sets,
    chunk,
    jobs,
    chunkRuns: sum((r) => r.runs),
    setWallMs,
    setCpuMs,
    outsideWallMs: sum((r) => r.task_wall + r.gap_wall) - setWallMs,
    outsideCpuMs: sum((r) => r.task_cpu + r.gap_cpu) - setCpuMs,
    workers: rows.map((r) => ({ worker: r.worker, sets: r.sets, busyWallMs: r.task_wall + r.gap_wall, busyCpuMs: r.task_cpu + r.gap_cpu })),
  };
}

function relativeIfInside(base: string, file: string): string {
  const rel = relative(base, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

async function dropJobs(utils: import('graphile-worker').WorkerUtils, ids: string[]): Promise<void> {
  if (ids.length > 0) await utils.completeJobs(ids);
}

/** Workers holding jobs whose liveness lock is free have died: their jobs go back to the queue. */
async function reapDeadWorkers(client: pg.Client, utils: import('graphile-worker').WorkerUtils, jobs: readonly { locked_by: string | null; locked_ms: number | null }[]): Promise<void> {
  const suspects = new Set(jobs.filter((j) => j.locked_by !== null && (j.locked_ms ?? 0) > REAP_AFTER_MS).map((j) => j.locked_by!));
  const dead: string[] = [];
  for (const workerId of suspects) {
    const free = (await client.query("SELECT pg_try_advisory_lock(hashtext('procura.worker'), hashtext($1)) AS free", [workerId])).rows[0].free === true;
    if (!free) continue;
    await client.query("SELECT pg_advisory_unlock(hashtext('procura.worker'), hashtext($1))", [workerId]);
    dead.push(workerId);
  }
  if (dead.length > 0) await utils.forceUnlockWorkers(dead);
}

export interface QueueWorkerOptions {
  readonly queue: PgAddress;
  /** Where each started, finished or refused set is reported (one line each). */
  readonly log?: (line: string) => void;
}

const cpuMsOf = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/**
 * `procura worker --queue URL`: takes chunks of sets from the queue until stopped (SIGINT or
 * SIGTERM end it gracefully). One chunk at a time, its sets one after the other: a set is
 * CPU-bound, so run one worker process per core.
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<void> {
  const address = options.queue;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const me = `${hostname()}:${process.pid}`;
  const utils = await workerUtils(address);
  await utils.release();
  // This session keeps the liveness locks and writes the results (synchronous commits).
  const client = await connectPg(address, `procura worker ${me}`);
  await ensureQueueSchema(client);
  // The liveness session: one advisory lock per graphile worker id, held while this process lives.
  const held = new Map<string, Promise<void>>();
  const holdLiveness = (workerId: string): Promise<void> => {
    let pending = held.get(workerId);
    if (pending === undefined) {
      pending = client.query("SELECT pg_advisory_lock(hashtext('procura.worker'), hashtext($1))", [workerId]).then(() => undefined);
      held.set(workerId, pending);
    }
    return pending;
  };
  const scenarios = new Map<string, { scenario: Scenario; hash: string; inputs: ScenarioInput[] } | { refused: string }>();
  const load = (payload: ChunkPayload): { scenario: Scenario; hash: string; inputs: ScenarioInput[] } | { refused: string } => {
    const key = `${payload.file}\0${JSON.stringify(payload.overrides)}`;
    let entry = scenarios.get(key);
    if (entry === undefined) {
      const path = resolve(payload.file);
      if (!existsSync(path)) {
        entry = { refused: `no scenario file ${payload.file} in ${process.cwd()} on ${hostname()} (run workers from a checkout of the same repository)` };
      } else {
        try {
          const scenario = loadScenario(path, payload.overrides);
          const inputs = scenarioInputs(scenario);
          entry = { scenario, inputs, hash: dataHash(inputs) };
        } catch (error) {
          entry = { refused: `the scenario does not load here: ${(error as Error).message}` };
        }
      }
      scenarios.set(key, entry);
    }
    return entry;
  };
  const { run } = await import('graphile-worker');
  const { default: pgLib } = await import('pg');
  // graphile-worker's connections, and the attempt rows: asynchronous commits. A lost attempt
  // row, job lock or completion after a server crash only runs a chunk again, and its results
  // are counted once; only the results are committed synchronously (on `client`).
  const pool = new pgLib.Pool({ connectionString: address.url, max: 4, application_name: `procura worker ${me}`.slice(0, 63), options: '-c synchronous_commit=off' });
  pool.on('error', () => undefined);
  // The end of the last chunk's sets (before its result statement), for the time between chunks.
  let last: { sweep: string; wall: number; cpu: NodeJS.CpuUsage } | undefined;
  const runner = await run({
    pgPool: pool,
    concurrency: 1,
    pollInterval: 1000,
    logger: await quietLogger(),
    taskList: {
      [SWEEP_TASK]: async (raw, helpers) => {
        const taskWall = performance.now();
        const taskCpu = process.cpuUsage();
        const payload = raw as ChunkPayload;
        const gap = last !== undefined && last.sweep === payload.sweep ? { wall: taskWall - last.wall, cpu: cpuMsOf(process.cpuUsage(last.cpu)) } : undefined;
        last = undefined;
        if (helpers.job.locked_by !== null) await holdLiveness(helpers.job.locked_by);
        const loaded = load(payload);
        let refused = 'refused' in loaded ? loaded.refused : undefined;
        if (refused === undefined && 'hash' in loaded && loaded.hash !== payload.hash) {
          const mine = new Map(loaded.inputs.map((i) => [i.path, i.sha256]));
          const differing = payload.inputs.filter((i) => mine.get(i.path) !== i.sha256).map((i) => i.path);
          refused = `the scenario's data differ on ${hostname()} (sha256 of ${differing.length === 0 ? 'the file list' : differing.join(', ')} not as submitted): copy the same files to every machine`;
        }
        const evaluate = Object.hasOwn(EVALUATIONS, payload.evaluation) ? EVALUATIONS[payload.evaluation] : undefined;
        if (refused === undefined && evaluate === undefined) refused = `this worker (on ${hostname()}) does not know the evaluation ${JSON.stringify(payload.evaluation)}: update procura there`;
        if (refused !== undefined) {
          await client.query("WITH r AS (INSERT INTO procura_queue.refusals (sweep_id, worker, reason) VALUES ($1::uuid, $2, $3) RETURNING 1) SELECT pg_notify('procura_sweep', $4::text) FROM (SELECT count(*) FROM r) n", [payload.sweep, me, refused, `${payload.sweep}:refused`]);
          log(`refused sets ${payload.sets[0]?.index}..${payload.sets[payload.sets.length - 1]?.index} of sweep ${payload.sweep}: ${refused}`);
          return;
        }
        const { scenario } = loaded as { scenario: Scenario };
        await pool.query('INSERT INTO procura_queue.attempts (sweep_id, idx, worker) SELECT $1::uuid, unnest($2::int[]), $3::text', [payload.sweep, payload.sets.map((s) => s.index), me]);
        const rows: { idx: number; params: Record<string, unknown>; in_sample: string; out_of_sample: string; ms: number; cpu_ms: number }[] = [];
        let setWall = 0;
        let setCpu = 0;
        for (const set of payload.sets) {
          log(`set ${set.index} of sweep ${payload.sweep}: started`);
          const cpu = process.cpuUsage();
          const started = performance.now();
          const result = await evaluate!(scenario, set.params);
          const wall = performance.now() - started;
          const used = cpuMsOf(process.cpuUsage(cpu));
          setWall += wall;
          setCpu += used;
          rows.push({ idx: set.index, params: set.params, in_sample: result.inSample, out_of_sample: result.outOfSample, ms: Math.round(wall), cpu_ms: Math.round(used) });
          log(`set ${set.index} of sweep ${payload.sweep}: in-sample ${result.inSample}, out-of-sample ${result.outOfSample} (${Math.round(wall)} ms)`);
        }
        const endWall = performance.now();
        const endCpu = process.cpuUsage();
        // The chunk's results, its accounting and the submitter's wake-up: one statement, one synchronous commit.
        // This statement's own time is counted in the gap before this worker's next chunk of the sweep.
        await client.query(
          `WITH stored AS (
             INSERT INTO procura_queue.results (sweep_id, idx, params, in_sample, out_of_sample, worker, ms, cpu_ms)
             SELECT $1::uuid, r.idx, r.params, r.in_sample, r.out_of_sample, $2::text, r.ms, r.cpu_ms
             FROM json_to_recordset($3::json) AS r(idx integer, params jsonb, in_sample text, out_of_sample text, ms integer, cpu_ms integer)
             ON CONFLICT (sweep_id, idx) DO NOTHING RETURNING 1),
           chunk AS (
             INSERT INTO procura_queue.chunks (sweep_id, first_idx, sets, worker, set_wall_ms, set_cpu_ms, task_wall_ms, task_cpu_ms, gap_wall_ms, gap_cpu_ms)
             VALUES ($1::uuid, $4, $5, $2::text, $6, $7, $8, $9, $10, $11) RETURNING 1)
           SELECT pg_notify('procura_sweep', $12::text) FROM (SELECT count(*) FROM stored) s, (SELECT count(*) FROM chunk) c`,
          [payload.sweep, me, JSON.stringify(rows), payload.sets[0]!.index, payload.sets.length, setWall, setCpu, endWall - taskWall, (endCpu.user - taskCpu.user + endCpu.system - taskCpu.system) / 1000, gap?.wall ?? null, gap?.cpu ?? null, payload.sweep],
        );
        last = { sweep: payload.sweep, wall: endWall, cpu: endCpu };
      },
    },
  }).catch(async (error: unknown) => {
    await pool.end().catch(() => undefined);
    throw pgError(error, address, 'cannot start the sweep worker');
  });
  runner.events.on('worker:create', ({ worker }) => void holdLiveness(worker.workerId));
  log(`worker ${me} waiting for sweep sets on ${address.display} (stop with Ctrl-C)`);
  try {
    await runner.promise;
  } finally {
    await pool.end().catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
