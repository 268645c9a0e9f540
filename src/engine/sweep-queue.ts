/**
 * Sweeps across machines, on a PostgreSQL job queue (graphile-worker).
 *
 * `procura backtest SCENARIO --sweep GRID --queue postgres://...` records the sweep in
 * `procura_queue.sweeps` (the scenario file's path, the sha256 of the scenario and of every data
 * file it reads), adds one graphile-worker job per parameter set (task `procura_sweep_set`, job
 * key `procura-sweep:<sweep>:<index>`), shows progress while `procura worker --queue ...`
 * processes on any number of machines take the jobs, and gathers the results into the same
 * report as a local sweep (sweep.ts `gatherSweep`; each set is run by `evaluateSet`, the
 * function the local sweep's threads call), so the same grid and seed give the same figures.
 *
 * - Each set's result is one row of `procura_queue.results`, keyed by (sweep, index) and
 *   inserted with ON CONFLICT DO NOTHING: a set run twice is counted once.
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
import { evaluateSet, gatherSweep, type SweepGrid, type SweepResult } from './sweep.js';

export const SWEEP_TASK = 'procura_sweep_set';
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

interface SetPayload {
  readonly sweep: string;
  readonly index: number;
  readonly file: string;
  readonly overrides: { strategy?: string; params?: Record<string, unknown> };
  readonly params: Record<string, unknown>;
  readonly hash: string;
  readonly inputs: readonly ScenarioInput[];
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
  /** Called after each poll with the sets done so far (tests, benchmarks). */
  readonly onPoll?: (done: number, total: number) => void;
  /** Longest wait, in milliseconds, for a worker's notification before the queue is looked at anyway (default 1000). */
  readonly pollMs?: number;
}

/** Runs a sweep on the queue's workers and gathers the same report as `runSweep`. */
export async function runQueuedSweep(scenario: Scenario, grid: SweepGrid, options: QueuedSweepOptions): Promise<SweepResult & { sweepId: string }> {
  const address = options.queue;
  const total = grid.sets.length;
  const inputs = scenarioInputs(scenario);
  const hash = dataHash(inputs);
  const file = isAbsolute(options.file) ? relativeIfInside(process.cwd(), options.file) : options.file;
  const overrides = Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined)) as SetPayload['overrides'];
  const utils = await workerUtils(address);
  const client = await connectPg(address, 'procura sweep');
  const sweepId = randomUUID();
  const keyPrefix = `procura-sweep:${sweepId}:`;
  const { default: cliProgress } = await import('cli-progress');
  const bar = options.progress === true ? new cliProgress.SingleBar({ format: 'sweep [{bar}] {value}/{total} sets on the queue | {busy} busy workers | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  try {
    await ensureQueueSchema(client);
    await client.query('INSERT INTO procura_queue.sweeps (id, scenario, overrides, data_hash, inputs, total, submitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7)', [sweepId, file, JSON.stringify(overrides), hash, JSON.stringify(inputs), total, `${hostname()}:${process.pid}`]);
    const specs = grid.sets.map((params, index) => ({
      identifier: SWEEP_TASK,
      payload: { sweep: sweepId, index, file, overrides, params, hash, inputs } satisfies SetPayload,
      max_attempts: MAX_ATTEMPTS,
      job_key: `${keyPrefix}${index}`,
    }));
    // One statement for the whole grid (graphile-worker's add_jobs).
    await client.query(
      `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
         SELECT (s.identifier, s.payload, NULL, NULL, s.max_attempts, s.job_key, NULL, NULL)::graphile_worker.job_spec
         FROM json_to_recordset($1::json) AS s(identifier text, payload json, max_attempts integer, job_key text)))`,
      [JSON.stringify(specs)],
    );
    if (options.progress === true) process.stderr.write(`sweep ${sweepId}: ${total} sets queued on ${address.display}; workers: procura worker --queue ${address.display}\n`);
    bar?.start(total, 0, { busy: 0 });
    const pollMs = options.pollMs ?? 1000;
    // Workers NOTIFY procura_sweep with the sweep's id as each set is stored or refused.
    let wake: (() => void) | undefined;
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
    await client.query('LISTEN procura_sweep');
    for (;;) {
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
      await reapDeadWorkers(client, utils, jobs.rows);
      await waitFor(pollMs);
    }
    async function waitFor(ms: number): Promise<void> {
      if (pending) {
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
    return { ...(await gatherSweep(scenario, grid, results)), sweepId };
  } finally {
    bar?.stop();
    await client.end().catch(() => undefined);
    await utils.release();
  }
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
  /** Where each finished or refused set is reported (one line each). */
  readonly log?: (line: string) => void;
}

/**
 * `procura worker --queue URL`: takes sets from the queue until stopped (SIGINT or SIGTERM end
 * it gracefully). One set at a time: a set is CPU-bound, so run one worker process per core.
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<void> {
  const address = options.queue;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const me = `${hostname()}:${process.pid}`;
  const utils = await workerUtils(address);
  await utils.release();
  const client = await connectPg(address, `procura worker ${me}`);
  await ensureQueueSchema(client);
  // Only a set's result must be durable (its own transaction turns synchronous_commit back on):
  // a lost attempt record, job lock or job completion after a server crash only runs a set again,
  // and its result is counted once. This saves three of the four WAL flushes per set.
  await client.query('SET synchronous_commit TO off');
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
  const load = (payload: SetPayload): { scenario: Scenario; hash: string; inputs: ScenarioInput[] } | { refused: string } => {
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
  const pool = new pgLib.Pool({ connectionString: address.url, max: 4, application_name: `procura worker ${me}`.slice(0, 63), options: '-c synchronous_commit=off' });
  pool.on('error', () => undefined);
  const runner = await run({
    pgPool: pool,
    concurrency: 1,
    pollInterval: 1000,
    logger: await quietLogger(),
    taskList: {
      [SWEEP_TASK]: async (raw, helpers) => {
        const payload = raw as SetPayload;
        if (helpers.job.locked_by !== null) await holdLiveness(helpers.job.locked_by);
        const loaded = load(payload);
        let refused = 'refused' in loaded ? loaded.refused : undefined;
        if (refused === undefined && 'hash' in loaded && loaded.hash !== payload.hash) {
          const mine = new Map(loaded.inputs.map((i) => [i.path, i.sha256]));
          const differing = payload.inputs.filter((i) => mine.get(i.path) !== i.sha256).map((i) => i.path);
          refused = `the scenario's data differ on ${hostname()} (sha256 of ${differing.length === 0 ? 'the file list' : differing.join(', ')} not as submitted): copy the same files to every machine`;
        }
        if (refused !== undefined) {
          await client.query('INSERT INTO procura_queue.refusals (sweep_id, worker, reason) VALUES ($1, $2, $3)', [payload.sweep, me, refused]);
          await client.query('SELECT pg_notify($1, $2)', ['procura_sweep', `${payload.sweep}:refused`]);
          log(`refused set ${payload.index} of sweep ${payload.sweep}: ${refused}`);
          return;
        }
        const { scenario } = loaded as { scenario: Scenario };
        await client.query('INSERT INTO procura_queue.attempts (sweep_id, idx, worker) VALUES ($1, $2, $3)', [payload.sweep, payload.index, me]);
        log(`set ${payload.index} of sweep ${payload.sweep}: started`);
        const started = performance.now();
        const result = await evaluateSet(scenario, payload.params);
        const ms = Math.round(performance.now() - started);
        await client.query('BEGIN');
        try {
          await client.query('SET LOCAL synchronous_commit TO on');
          await client.query(
            'INSERT INTO procura_queue.results (sweep_id, idx, params, in_sample, out_of_sample, worker, ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sweep_id, idx) DO NOTHING',
            [payload.sweep, payload.index, JSON.stringify(payload.params), result.inSample, result.outOfSample, me, ms],
          );
          await client.query('SELECT pg_notify($1, $2)', ['procura_sweep', payload.sweep]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        log(`set ${payload.index} of sweep ${payload.sweep}: in-sample ${result.inSample}, out-of-sample ${result.outOfSample} (${ms} ms)`);
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
