/**
 * One posting process of `npm run bench -- pg`: posts `batches` batches of `batch` events into
 * the ledger at `url`, event ids prefixed by `prefix`, every event at the same instant (so
 * posters interleave without backdating), and prints its timing as one JSON line. It says
 * "ready" after a warm-up and the store's opening, and starts posting (and its timer) when a line
 * arrives on stdin.
 * Usage: node dist/bench/pg-poster.js URL PREFIX BATCHES BATCH lock|serializable
 */
import { performance } from 'node:perf_hooks';
import { Ledger, type LedgerEvent } from '../src/ledger/index.js';
import { parseStoreAddress } from '../src/store/address.js';
import type { PgAddress } from '../src/store/pg/connect.js';
import { PgLedgerStore } from '../src/store/pg/ledger-store.js';
import { makeEvents, PLANT } from './ledger.js';

const [url, prefix, batchesText, batchText, mode] = process.argv.slice(2);
const batches = Number(batchesText);
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
// The posting path itself warmed up on this server: one batch of its own into the same ledger,
// not timed (counted among the events that must be there exactly once).
await ledger.postAsync(makeEvents(batch).map((e, i) => Object.assign(e, { id: `${prefix}-warm-${i}`, at: AT, knownAt: AT })));
// Ready: wait for the word to start, so every poster of a run starts posting together.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();
const cpu = process.cpuUsage();
const startedAt = performance.timeOrigin + performance.now();
let entries = 0;
for (let i = 0; i < batches; i += 1) entries += (await ledger.postAsync(events.slice(i * batch, (i + 1) * batch))).entries.length;
const endedAt = performance.timeOrigin + performance.now();
const used = process.cpuUsage(cpu);
await store.close();
process.stdout.write(`${JSON.stringify({ startedAt, endedAt, entries, cpuMs: (used.user + used.system) / 1000, retries: store.retries })}\n`);
