/**
 * One posting process of `npm run bench -- pg`: posts `batches` batches of `batch` events into
 * the ledger at `url`, event ids prefixed by `prefix`, every event at the same instant (so
 * posters interleave without backdating), and prints its timing as one JSON line. It says
 * "ready" after a warm-up and the store's opening, and starts posting (and its timer) when a line
 * arrives on stdin.
 * Usage: node dist/bench/pg-poster.js URL PREFIX BATCHES BATCH lock|serializable [WARM]
 */
import { performance } from 'node:perf_hooks';
import { Ledger, type LedgerEvent } from '../src/ledger/index.js';
import { parseStoreAddress } from '../src/store/address.js';
import type { PgAddress } from '../src/store/pg/connect.js';
import { PgLedgerStore } from '../src/store/pg/ledger-store.js';
import { makeEvents, PLANT } from './ledger.js';

const [url, prefix, batchesText, batchText, mode, warmText] = process.argv.slice(2);
const batches = Number(batchesText);
const warmBatches = Number(warmText ?? 1);
const batch = Number(batchText);
const AT = Date.UTC(2024, 0, 1);

const events: LedgerEvent[] = makeEvents(batches * batch);
for (let i = 0; i < events.length; i += 1) {
  const e = events[i]! as unknown as { id: string; at: number; knownAt: number };
  e.id = `${prefix}-${i}`;
  e.at = AT;
  e.knownAt = AT;
}
// Warm-up, not timed (the one-poster reference does the same): an in-memory posting and its
// verify run the code a posting runs (composing, canonical bodies, hashing), so a process that
// posts only a few batches is not measured while the JIT is still compiling it.
const warm = Ledger.inMemory(PLANT);
warm.post(makeEvents(2000));
warm.verify();
const store = await PgLedgerStore.open(parseStoreAddress(url!, { field: 'url' }) as PgAddress, { serialise: mode === 'serializable' ? 'serializable' : 'lock', lockTimeoutMs: 600_000 });
const ledger = await Ledger.openAsync(store, PLANT);
// PROCURA_BENCH_TRACE=1 (bench/pg-posters-profile.ts): the time from sending each kind of
// statement to its answer, and each posting's whole time, summed, in the JSON line.
const trace: Record<string, { count: number; ms: number }> = {};
const traced = (key: string, ms: number): void => {
  const t = (trace[key] ??= { count: 0, ms: 0 });
  t.count += 1;
  t.ms += ms;
};
if (process.env.PROCURA_BENCH_TRACE === '1') {
  const client = (store as unknown as { client: { query: (...args: unknown[]) => unknown } }).client;
  const query = client.query.bind(client);
  client.query = (...args: unknown[]) => {
    const q = args[0] as string | { text: string };
    const text = typeof q === 'string' ? q : q.text;
    const started = performance.now();
    const result = query(...args);
    const end = () => traced(text.replace(/\s+/g, ' ').slice(0, 90), performance.now() - started);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(end, end);
    else if (result && typeof (result as { on?: unknown }).on === 'function') (result as NodeJS.EventEmitter).on('finish', end);
    return result;
  };
}
// The posting path itself warmed up on this server: WARM batches of its own into the same
// ledger, not timed (counted among the events that must be there exactly once). A process that
// posts 8 batches after one warm-up batch spends about 1.7x the CPU per batch of one that posts
// 64 (JIT and heap still settling: docs/scaling.md), so every process of a comparison warms up
// the same, with more than one batch.
for (let w = 0; w < warmBatches; w += 1) await ledger.postAsync(makeEvents(batch).map((e, i) => Object.assign(e, { id: `${prefix}-warm-${w}-${i}`, at: AT, knownAt: AT })));
for (const key of Object.keys(trace)) delete trace[key];
// Ready: wait for the word to start, so every poster of a run starts posting together.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();
// PROCURA_BENCH_PROFILE=DIR: a CPU profile of the posting phase only, written into DIR.
const profileDir = process.env.PROCURA_BENCH_PROFILE;
const session = profileDir ? new (await import('node:inspector')).Session() : undefined;
const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session!.post(method, (error, result) => (error ? reject(error) : resolve(result))));
if (session) {
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.start');
}
const cpu = process.cpuUsage();
const startedAt = performance.timeOrigin + performance.now();
let entries = 0;
for (let i = 0; i < batches; i += 1) {
  const t = performance.now();
  entries += (await ledger.postAsync(events.slice(i * batch, (i + 1) * batch))).entries.length;
  traced('(whole posting)', performance.now() - t);
}
const endedAt = performance.timeOrigin + performance.now();
const used = process.cpuUsage(cpu);
if (session) {
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  (await import('node:fs')).writeFileSync(`${profileDir}/${prefix}.cpuprofile`, JSON.stringify(profile));
}
await store.close();
process.stdout.write(`${JSON.stringify({ startedAt, endedAt, entries, cpuMs: (used.user + used.system) / 1000, retries: store.retries, ...(process.env.PROCURA_BENCH_TRACE === '1' ? { trace } : {}) })}\n`);
