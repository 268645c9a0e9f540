/**
 * PostgreSQL benchmarks (`npm run bench -- pg`), each beside a same-run reference timed the same
 * way, wall time with the client's CPU time beside it (the server's CPU is not counted):
 *
 * 1. durable posting (fsync on, synchronous_commit on) of 100 k events in batches of 10 k, one
 *    process; references: raw COPY, and raw INSERTs, of the same rows (the stored entries and
 *    event records, bodies and hashes included) into tables of the same columns and indexes,
 *    one COPY or INSERT per table per batch, one transaction per batch, same server;
 * 2. one poster against 8 concurrent posting processes, the same events in all, with the chain
 *    serialised by the advisory lock (the design) and by SERIALIZABLE with retries (the
 *    alternative), then verify and a count of every event exactly once. Each process warms up
 *    (in memory, then WARM_BATCHES untimed batches of its own into the same ledger) first; all
 *    start posting together; the rate is entries over the span from the first start to the last
 *    end; the note gives wall time, the posters' CPU and the server's CPU (bench/pg-server-cpu.ts)
 *    of both; and the same 8 processes each posting into its own stream of one ledger (a chain
 *    each, docs/scaling.md "Streams"), every stream verified and every event counted once in
 *    its stream, against the same one-poster reference.
 *
 * A throwaway server is started (test/support/postgres-server.ts) unless PROCURA_BENCH_PG
 * names one (a role that may create databases).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Ledger } from '../src/ledger/index.js';
import { parseStoreAddress } from '../src/store/address.js';
import type { PgAddress } from '../src/store/pg/connect.js';
import { copyText } from '../src/store/pg/ledger-ops.js';
import { PgLedgerStore } from '../src/store/pg/ledger-store.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { measure, type Bench, type BenchReport } from './harness.js';
import { makeEvents, PLANT } from './ledger.js';
import { postmasterPid, serverCpuMs } from './pg-server-cpu.js';

const rate = (count: number, ms: number): number => (count / ms) * 1000;
const ms = (value: number): string => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : 'n/a');

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database `name` on the server at `adminUrl` (dropped first if left over); its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => c.query(`CREATE DATABASE ${name}`)));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function address(url: string): PgAddress {
  return parseStoreAddress(url, { field: 'bench' }) as PgAddress;
}

export const bench: Bench = async (report) => {
  const server = process.env.PROCURA_BENCH_PG ? undefined : await startPostgres({ fsync: true });
  const adminUrl = process.env.PROCURA_BENCH_PG ?? server!.url;
  try {
    await durablePosting(report, adminUrl);
    await concurrentPosters(report, adminUrl);
  } finally {
    server?.stop();
  }
};

async function durablePosting(report: BenchReport, adminUrl: string): Promise<void> {
  const n = 100_000;
  const batch = 10_000;
  const url = await createDatabase(adminUrl, 'bench_post');
  const events = makeEvents(n);
  const store = await PgLedgerStore.open(address(url));
  const ledger = await Ledger.openAsync(store, PLANT);
  let written = 0;
  const durable = await measure(async () => {
    for (let i = 0; i < n; i += batch) written += (await ledger.postAsync(events.slice(i, i + batch))).entries.length;
  });
  await store.close();

  // The references: the rows procura stored (entries and event records), inserted raw into
  // tables of the same columns and indexes, a transaction per batch, timed the same way.
  const [insert, copy] = await withClient(url, async (c) => {
    const entries = (await c.query('SELECT seq, event_id, event_type, at, known_at, reverses, body, hash, prev_hash, stream FROM procura.entries ORDER BY seq')).rows as Record<string, unknown>[];
    const events = (await c.query('SELECT seq, id, type, at, known_at, digest, file, line, hash, stream FROM procura.events ORDER BY seq')).rows as Record<string, unknown>[];
    const slices = Math.ceil(entries.length / batch);
    const slice = (rows: Record<string, unknown>[], i: number) => rows.slice(Math.floor((rows.length * i) / slices), Math.floor((rows.length * (i + 1)) / slices));
    const tables = [
      { rows: entries, columns: ['seq', 'event_id', 'event_type', 'at', 'known_at', 'reverses', 'body', 'hash', 'prev_hash', 'stream'], types: ['bigint', 'text', 'text', 'bigint', 'bigint', 'bigint', 'text', 'text', 'text', 'text'], like: 'entries' },
      { rows: events, columns: ['seq', 'id', 'type', 'at', 'known_at', 'digest', 'file', 'line', 'hash', 'stream'], types: ['bigint', 'text', 'text', 'bigint', 'bigint', 'text', 'text', 'integer', 'text', 'text'], like: 'events' },
    ];
    const run = async (prefix: string, write: (table: (typeof tables)[number], name: string, rows: Record<string, unknown>[]) => Promise<unknown>) => {
      for (const t of tables) await c.query(`CREATE TABLE ${prefix}_${t.like} (LIKE procura.${t.like} INCLUDING ALL)`);
      return measure(async () => {
        for (let i = 0; i < slices; i += 1) {
          await c.query('BEGIN');
          for (const t of tables) await write(t, `${prefix}_${t.like}`, slice(t.rows, i));
          await c.query('COMMIT');
        }
      });
    };
    const insert = await run('ref_insert', (t, name, rows) => c.query(`INSERT INTO ${name} SELECT * FROM unnest(${t.types.map((type, k) => `$${k + 1}::${type}[]`).join(', ')})`, t.columns.map((k) => rows.map((r) => r[k]))));
    const cell = (v: unknown): string => (v === null ? '\\N' : copyText(String(v)));
    const copy = await run('ref_copy', (t, name, rows) => {
      const chunks = function* () {
        for (let k = 0; k < rows.length; k += 500) yield rows.slice(k, k + 500).map((r) => `${t.columns.map((col) => cell(r[col])).join('\t')}\n`).join('');
      };
      return pipeline(Readable.from(chunks()), c.query(copyFrom(`COPY ${name} FROM STDIN`)));
    });
    return [insert, copy];
  });
  const measured = `ledger post into PostgreSQL (fsync on), ${n / 1000}k events in batches of ${batch / 1000}k, one process`;
  for (const [reference, timing] of [
    ['raw COPY of the same stored rows (entries and event records, one COPY per table streamed in chunks, a transaction per batch), same server', copy],
    ['raw INSERT of the same stored rows (one INSERT over arrays per table, a transaction per batch), same server', insert],
  ] as const) {
    report({
      name: measured,
      value: rate(written, durable.wallMs),
      unit: 'entries/s',
      reference: { name: reference, value: rate(written, timing.wallMs) },
      cpu: { value: rate(written, durable.cpuMs), reference: rate(written, timing.cpuMs) },
      target: '>= 20000 entries/s',
      note: `${written} entries; CPU is the client's`,
    });
  }
}

interface PosterResult {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly entries: number;
  readonly cpuMs: number;
  readonly retries: number;
}

interface Poster {
  readonly ready: Promise<void>;
  readonly done: Promise<PosterResult>;
  go(): void;
}

function startPoster(url: string, prefix: string, batches: number, batch: number, mode: 'lock' | 'serializable'): Poster {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'pg-poster.js'), url, prefix, String(batches), String(batch), mode, String(WARM_BATCHES)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const done = new Promise<PosterResult>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as PosterResult) : reject(new Error(`poster ${prefix} exited ${code}`))));
  });
  return { ready, done, go: () => child.stdin.end('go\n') };
}

/**
 * Untimed batches each posting process posts first. With one, a process that then posts 8
 * batches spent about 1.7x the CPU per batch of one that posts 64 (the JIT and the heap still
 * settling), which the 8 posters paid and the one-poster reference mostly did not: every process
 * now warms up the same 8 batches (docs/scaling.md, "Many writers, one chain").
 */
const WARM_BATCHES = 8;

/**
 * Posts `total` batches with `posters` processes, all into the stream `main` or (`streams`)
 * each into a stream of its own; returns entries/s over the posting phase, client and server
 * CPU, retries, and the check of every stream.
 */
async function posters(adminUrl: string, name: string, posterCount: number, total: number, batch: number, mode: 'lock' | 'serializable', streams = false) {
  const url = await createDatabase(adminUrl, name);
  const urls = streams ? Array.from({ length: posterCount }, (_, p) => `${url}?stream=p${p}`) : [url];
  const urlOf = (p: number): string => urls[streams ? p : 0]!;
  // The schema and the plant first (in every stream), so the posters measure posting only.
  for (const u of urls) {
    const store = await PgLedgerStore.open(address(u));
    await (await Ledger.openAsync(store, PLANT)).postAsync(makeEvents(8).map((e, i) => Object.assign(e, { id: `seed-${i}`, at: Date.UTC(2024, 0, 1), knownAt: Date.UTC(2024, 0, 1) })));
    await store.close();
  }
  // Every poster warms up and opens the store, then all start posting together.
  const started = Array.from({ length: posterCount }, (_, p) => startPoster(urlOf(p), `${name}-p${p}`, total / posterCount, batch, mode));
  await Promise.all(started.map((p) => p.ready));
  const postmaster = await postmasterPid(adminUrl);
  const server0 = serverCpuMs(postmaster);
  for (const p of started) p.go();
  const results = await Promise.all(started.map((p) => p.done));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the posters' backends exit and are reaped
  const serverMs = (serverCpuMs(postmaster) ?? NaN) - (server0 ?? NaN);
  const wallMs = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
  const entries = results.reduce((t, r) => t + r.entries, 0);
  // Every event exactly once (in its stream), every chain intact.
  let ok = true;
  for (const u of urls) {
    const check = await PgLedgerStore.open(address(u));
    ok = (await (await Ledger.openAsync(check)).verifyAsync()).ok && ok;
    await check.close();
  }
  const counts = await withClient(url, async (c) => (await c.query("SELECT count(*)::int AS n, count(DISTINCT (stream, id))::int AS ids FROM procura.events WHERE id NOT LIKE 'seed-%'")).rows[0] as { n: number; ids: number });
  const expected = (total + posterCount * WARM_BATCHES) * batch; // each poster's warm-up batches too
  return {
    rate: rate(entries, wallMs),
    wallMs,
    clientMs: results.reduce((t, r) => t + r.cpuMs, 0),
    serverMs,
    cpuRate: rate(entries, results.reduce((t, r) => t + r.cpuMs, 0)),
    retries: results.reduce((t, r) => t + r.retries, 0),
    ok,
    lost: expected - counts.ids,
    duplicated: counts.n - counts.ids,
  };
}

async function concurrentPosters(report: BenchReport, adminUrl: string): Promise<void> {
  const total = 64;
  const batch = 1000;
  const one = await posters(adminUrl, 'bench_one', 1, total, batch, 'lock');
  // The streams right after the reference, the rows of one chain after them: on a shared machine
  // the load drifts, so the row the target is about is measured next to its reference.
  const streams = await posters(adminUrl, 'bench_eight_streams', 8, total, batch, 'lock', true);
  report({
    name: `8 posters, each into its own stream of one PostgreSQL ledger, ${total} batches of ${batch / 1000}k events in all`,
    value: streams.rate,
    unit: 'entries/s',
    reference: { name: 'one process posting the same batches', value: one.rate },
    cpu: { value: streams.cpuRate, reference: one.cpuRate },
    target: 'at least the rate of one poster, no event lost or duplicated',
    note: `every stream verify ${streams.ok ? 'ok' : 'FAILED'}, ${streams.lost} lost, ${streams.duplicated} duplicated; wall ${ms(streams.wallMs)} vs ${ms(one.wallMs)}, posters' CPU ${ms(streams.clientMs)} vs ${ms(one.clientMs)}, server CPU ${ms(streams.serverMs)} vs ${ms(one.serverMs)}; every process warmed up with ${WARM_BATCHES} untimed batches`,
  });
  for (const mode of ['lock', 'serializable'] as const) {
    const eight = await posters(adminUrl, `bench_eight_${mode}`, 8, total, batch, mode);
    report({
      name: `8 processes posting into one PostgreSQL ledger at once, ${total} batches of ${batch / 1000}k events in all, chain serialised by ${mode === 'lock' ? 'the advisory lock (the design)' : 'SERIALIZABLE with retries'}`,
      value: eight.rate,
      unit: 'entries/s',
      reference: { name: 'one process posting the same batches', value: one.rate },
      cpu: { value: eight.cpuRate, reference: one.cpuRate },
      target: 'at least the rate of one poster, no event lost or duplicated',
      note: `verify ${eight.ok ? 'ok' : 'FAILED'}, ${eight.lost} lost, ${eight.duplicated} duplicated${mode === 'serializable' ? `, ${eight.retries} postings retried after a collision` : ''}; wall ${ms(eight.wallMs)} vs ${ms(one.wallMs)}, posters' CPU ${ms(eight.clientMs)} vs ${ms(one.clientMs)}, server CPU ${ms(eight.serverMs)} vs ${ms(one.serverMs)}; every process warmed up with ${WARM_BATCHES} untimed batches`,
    });
  }
}
