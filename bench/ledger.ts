/**
 * Ledger benchmarks: replay of 1 M events in memory, memory per entry, sealing the hash chain,
 * and durable posting into SQLite in batches, each beside a same-run reference timed the same
 * way (wall and CPU time). The replay reference is a plain-number loop doing
 * the same arithmetic (standard x qty, variances, balances per account, book quantities); the
 * SQLite reference inserts rows of the same size, in the same batches, with the same pragmas,
 * but without the ledger's work (Decimal arithmetic, canonical bodies, hash chain).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Decimal } from '../src/core/decimal.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sha256Hex } from '../src/core/hash.js';
import { Ledger, MemoryStore, entryBody, parsePlant, type LedgerEvent, type Plant } from '../src/ledger/index.js';
import { runBacktest } from '../src/engine/backtest.js';
import { loadScenario } from '../src/engine/scenario.js';
import { measure, type Bench } from './harness.js';

export const PLANT = parsePlant(
  `currency: USD
backflush: purchase-completion-sale
materials:
  - { id: natgas, unit: MMBtu, standardCost: "2.50" }
  - { id: power, unit: MWh, standardCost: "60" }
products:
  - id: ammonia
    unit: t
    conversionCost: "95"
    bom: [ { material: natgas, qty: "33", scrap: "0.01" }, { material: power, qty: "0.15" } ]
`,
  'bench-plant.yaml',
);

const START = Date.UTC(2024, 0, 1);
/** The scenario whose backtest's postings the posting row replays (the main job's). */
const BACKTEST = join(import.meta.dirname, '..', '..', 'backtests', 'ammonia-henry-hub.yaml');

/**
 * A repeating month-like cycle: purchases, conversion, completion, sale, and every 100th a count
 * or close. Events are immutable, so they share their Decimal figures (the input is then a small
 * part of the heap, for the ledger and for its reference alike).
 */
export function makeEvents(n: number): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  const prices = ['2.41', '2.55', '2.62', '2.48'].map((p) => new Decimal(p));
  const figures = new Map<string, Decimal>();
  const q = (s: string): Decimal => {
    let d = figures.get(s);
    if (!d) figures.set(s, (d = new Decimal(s)));
    return d;
  };
  // Object literals, not `{ ...base, ... }`: V8 gives spread-built objects of many shapes slow
  // property access (measured 20-30x on a loop reading `type`), which the ledger would pay for.
  for (let i = 0; i < n; i += 1) {
    const at = START + i * 60_000;
    switch (i % 8) {
      case 0:
        events.push({ type: 'purchase', at, knownAt: at, material: 'natgas', qty: q('3400'), unitPrice: prices[(i >> 3) % 4]!, paidFrom: 'accounts_payable' });
        break;
      case 1:
        events.push({ type: 'purchase', at, knownAt: at, material: 'power', qty: q('16'), unitPrice: q('61.5'), paidFrom: 'accounts_payable' });
        break;
      case 2:
      case 5:
        events.push({ type: 'completion', at, knownAt: at, product: 'ammonia', qty: q('50') });
        break;
      case 3:
        events.push({ type: 'conversion', at, knownAt: at, amount: q('9612.40') });
        break;
      case 4:
      case 6:
        events.push({ type: 'sale', at, knownAt: at, product: 'ammonia', qty: q('49'), unitPrice: q('540') });
        break;
      default:
        events.push(i % 800 === 7 ? { type: 'close', at, knownAt: at } : { type: 'hedge-mark', at, knownAt: at, instrument: 'NG', price: q('2.5') });
    }
  }
  return events;
}

/**
 * Where the main thread's wall time went (Linux, /proc/thread-self/schedstat): running on a CPU,
 * runnable but waiting for one (other processes' load), and the rest, blocked (I/O, fsync).
 * Undefined where schedstat is not available.
 */
interface ThreadTimes {
  readonly onCpuMs: number;
  readonly waitMs: number;
}
function threadTimes(): ThreadTimes | undefined {
  try {
    const [onCpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return onCpu !== undefined && wait !== undefined && Number.isFinite(onCpu) && Number.isFinite(wait) ? { onCpuMs: onCpu / 1e6, waitMs: wait / 1e6 } : undefined;
  } catch {
    return undefined;
  }
}

/** `measure` (one run) with the main thread's wall split into on-CPU, waiting for a CPU and blocked. */
async function measureSplit(fn: () => unknown): Promise<{ timing: Awaited<ReturnType<typeof measure>>; split: string }> {
  const before = threadTimes();
  const timing = await measure(fn);
  const after = threadTimes();
  if (!before || !after) return { timing, split: '' };
  const onCpu = after.onCpuMs - before.onCpuMs;
  const wait = after.waitMs - before.waitMs;
  const blocked = Math.max(0, timing.wallMs - onCpu - wait);
  return { timing, split: `main thread ${Math.round(onCpu)} ms on a CPU, ${Math.round(wait)} ms waiting for a CPU, ${Math.round(blocked)} ms blocked (I/O, fsync)` };
}

/** The same arithmetic on plain numbers: the reference the ledger's rate is compared with. */
function plainReplay(events: readonly LedgerEvent[]): number {
  const balances = new Map<string, number>();
  const qty = new Map<string, number>();
  const add = (k: string, v: number): void => void balances.set(k, (balances.get(k) ?? 0) + v);
  const std: Record<string, number> = { natgas: 2.5, power: 60 };
  let fgQty = 0;
  let fgValue = 0;
  for (const e of events) {
    switch (e.type) {
      case 'purchase': {
        const amount = Math.round(e.qty.toNumber() * e.unitPrice.toNumber() * 100) / 100;
        const standard = Math.round(e.qty.toNumber() * std[e.material]! * 100) / 100;
        add('rip', standard);
        add('mpv', amount - standard);
        add('ap', -amount);
        qty.set(e.material, (qty.get(e.material) ?? 0) + e.qty.toNumber());
        break;
      }
      case 'conversion':
        add('ccc', e.amount.toNumber());
        add('acc', -e.amount.toNumber());
        break;
      case 'completion': {
        const u = e.qty.toNumber();
        const gas = Math.round(u * 33 * 1.01 * 2.5 * 100) / 100;
        const power = Math.round(u * 0.15 * 60 * 100) / 100;
        const conv = u * 95;
        add('fg', gas + power + conv);
        add('rip', -gas - power);
        add('cca', -conv);
        qty.set('natgas', (qty.get('natgas') ?? 0) - u * 33.33);
        qty.set('power', (qty.get('power') ?? 0) - u * 0.15);
        fgQty += u;
        fgValue += gas + power + conv;
        break;
      }
      case 'sale': {
        const u = e.qty.toNumber();
        const relief = Math.round((fgValue * u) / fgQty * 100) / 100;
        add('cogs', relief);
        add('fg', -relief);
        fgQty -= u;
        fgValue -= relief;
        break;
      }
      case 'close': {
        const diff = (balances.get('ccc') ?? 0) + (balances.get('cca') ?? 0);
        add('cogs', diff);
        add('ccc', -(balances.get('ccc') ?? 0));
        add('cca', -(balances.get('cca') ?? 0));
        break;
      }
      default:
        break;
    }
  }
  return balances.size;
}

/** Forces a full collection (the bench runs without --expose-gc; V8 lets us turn it on here). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Bytes the process holds on the JS heap plus in array buffers (typed-array columns live there). */
function held(): number {
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

type Report = Parameters<Bench>[0];

export const bench: Bench = async (report) => {
  // The durable rows run on their own events only: the 1M-event replay's ledger and events (about
  // 200 MB) are let go first, as a `procura ledger post` process never holds them; kept, every
  // major collection during the SQLite posting marked them too (the batch row measured 49.5 k
  // entries/s in the bench against 59 k in a process of its own, 2026-12-02).
  const kept = await inMemory(report);
  collect();
  await durable(report, kept);
};

/** What the durable rows need from the in-memory part: their events and the entries' text size. */
interface Kept {
  readonly durableEvents: LedgerEvent[];
  readonly dailyEvents: LedgerEvent[];
  readonly rowSize: number;
}

const rate = (count: number, ms: number): number => (count / ms) * 1000;
/** Events posted durably (in batches of 10k), and in postings of 100. */
const DURABLE_EVENTS = 200_000;
const DAILY_EVENTS = 20_000;

/** Rows 1 to 3: memory per entry, replay, a backtest's postings, sealing. */
async function inMemory(report: Report): Promise<Kept> {
  const n = 1_000_000;
  const events = makeEvents(n);

  // 1. Memory per entry (measured first, before anything else has grown the heap) after that replay, against the entries' canonical JSON (what the store writes).
  const before = held();
  const ledger = Ledger.inMemory(PLANT);
  ledger.post(events);
  const bytes = (held() - before) / ledger.size;
  const columns = (ledger as unknown as { syncStore: MemoryStore }).syncStore.journal.bytes / ledger.size;
  let textBytes = 0;
  const sample = 10_000;
  for (const e of ledger.entriesAfter(0)) {
    textBytes += entryBody(e).length;
    if (e.seq === sample) break;
  }
  report({
    name: 'ledger memory per entry after a 1M-event replay (JS heap + array buffers)',
    value: bytes,
    unit: 'bytes',
    better: 'lower',
    reference: { name: 'the entry as canonical JSON text (first 10k entries)', value: textBytes / sample },
    target: '<= 200 bytes',
    note: `${ledger.size} entries; typed-array columns ${columns.toFixed(0)} bytes/entry`,
  });

  // 2. Replay in memory (what a backtest and `ledger replay` do: no hash computed).
  let posted = 0;
  const replay = await measure(() => {
    posted = Ledger.inMemory(PLANT).post(events).posted;
  }, 3);
  const plain = await measure(() => plainReplay(events), 3);
  report({
    name: 'ledger replay, 1M events in memory (columnar journal)',
    value: rate(n, replay.wallMs),
    unit: 'events/s',
    reference: { name: 'plain-number loop, same arithmetic, best of 3 like the ledger', value: rate(n, plain.wallMs) },
    cpu: { value: rate(n, replay.cpuMs), reference: rate(n, plain.cpuMs) },
    target: '>= 300000 events/s',
    note: `${posted} events posted; wall ${Math.round(replay.wallMs)} ms, CPU ${Math.round(replay.cpuMs)} ms`,
  });

  // 2b. A backtest's postings (issue 10): the desk posts each day's few events as one posting.
  // Captured from one ammonia backtest, then posted again into a fresh memory ledger, posting
  // by posting, against the same events posted at once (what per-posting work costs).
  const postings: LedgerEvent[][] = [];
  let backtestPlant: Plant | undefined;
  const post = Ledger.prototype.post;
  Ledger.prototype.post = function (this: Ledger, batch, source) {
    backtestPlant ??= this.plant;
    postings.push([...batch]);
    return post.call(this, batch, source);
  };
  try {
    await runBacktest(loadScenario(BACKTEST), { dailyCosts: false });
  } finally {
    Ledger.prototype.post = post;
  }
  const plantOf = backtestPlant!;
  const flat = postings.flat();
  let dayEntries = 0;
  const byDay = await measure(() => {
    const l = Ledger.inMemory(plantOf);
    for (const batch of postings) l.post(batch);
    dayEntries = l.size;
  }, 5);
  const atOnce = await measure(() => Ledger.inMemory(plantOf).post(flat), 5);
  report({
    name: `ledger posting of one ammonia backtest's ${postings.length} postings (${flat.length} events, a day's events each) into a memory ledger`,
    value: rate(postings.length, byDay.cpuMs),
    unit: 'postings/s (CPU)',
    reference: { name: 'the same events in one posting', value: rate(postings.length, atOnce.cpuMs) },
    note: `${dayEntries} entries; CPU ${byDay.cpuMs.toFixed(0)} ms posting by posting, ${atOnce.cpuMs.toFixed(0)} ms at once; wall ${byDay.wallMs.toFixed(0)} / ${atOnce.wallMs.toFixed(0)} ms`,
  });

  // 3. Sealing the chain of those entries (what verify and a durable store pay, and backtests no longer do).
  const m = DURABLE_EVENTS;
  const seal = await measure(() => (ledger as unknown as { syncStore: MemoryStore }).syncStore.seal(m));
  const body = 'x'.repeat(Math.round(textBytes / sample));
  const hashes = await measure(() => {
    let h = '';
    for (let k = 0; k < m; k += 1) h = sha256Hex(body + h.slice(0, 64));
  });
  report({
    name: `ledger hash chain, sealing ${m / 1000}k entries in memory (canonical JSON + SHA-256)`,
    value: rate(m, seal.wallMs),
    unit: 'entries/s',
    reference: { name: 'SHA-256 alone over same-size text, chained', value: rate(m, hashes.wallMs) },
    cpu: { value: rate(m, seal.cpuMs), reference: rate(m, hashes.cpuMs) },
  });

  return { durableEvents: events.slice(0, m), dailyEvents: events.slice(0, DAILY_EVENTS), rowSize: Math.round(textBytes / sample) };
}

/** Row 4: durable posting into SQLite in batches (WAL, synchronous=FULL), against raw INSERTs of same-size rows. */
async function durable(report: Report, kept: Kept): Promise<void> {
  const m = DURABLE_EVENTS;
  const rowSize = kept.rowSize;
  const dir = mkdtempSync(join(tmpdir(), 'procura-bench-'));
  try {
    const batch = 10_000;
    const slice = kept.durableEvents;
    const store = Ledger.openSqlite(join(dir, 'ledger.db'), PLANT);
    let written = 0;
    const { timing: durable, split: durableSplit } = await measureSplit(() => {
      for (let i = 0; i < m; i += batch) {
        store.post(slice.slice(i, i + batch));
        written = store.size;
      }
    });
    store.close();

    // The same through a new connection per batch (each `procura ledger post`): open, check the tail, post.
    const fresh = join(dir, 'fresh.db');
    let freshWritten = 0;
    const reopened = await measure(() => {
      for (let i = 0; i < m; i += batch) {
        const each = Ledger.openSqlite(fresh, PLANT);
        each.post(slice.slice(i, i + batch));
        freshWritten = each.size;
        each.close();
      }
    });

    const db = new Database(join(dir, 'reference.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE entries (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO entries (seq, event_id, body, hash) VALUES (?, ?, ?, ?)');
    const text = 'x'.repeat(rowSize);
    const hash = 'f'.repeat(64);
    const { timing: raw, split: rawSplit } = await measureSplit(() => {
      for (let i = 0; i < written; i += batch) {
        db.exec('BEGIN IMMEDIATE');
        for (let k = i; k < Math.min(written, i + batch); k += 1) insert.run(k + 1, `#${k}`, text, hash);
        db.exec('COMMIT');
      }
    });

    // A day's postings (an ERP's daily export, or what a live desk posts in a day): 100 events per
    // posting, so one commit (and its fsyncs) per 100 events; the same raw INSERTs in the same batches.
    const small = 100;
    const daily = kept.dailyEvents;
    const dayStore = Ledger.openSqlite(join(dir, 'daily.db'), PLANT);
    let dayWritten = 0;
    const { timing: dayDurable, split: daySplit } = await measureSplit(() => {
      for (let i = 0; i < daily.length; i += small) {
        dayStore.post(daily.slice(i, i + small));
        dayWritten = dayStore.size;
      }
    });
    dayStore.close();
    db.exec('CREATE TABLE daily (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL)');
    const insertDaily = db.prepare('INSERT INTO daily (seq, event_id, body, hash) VALUES (?, ?, ?, ?)');
    const { timing: dayRaw, split: dayRawSplit } = await measureSplit(() => {
      for (let i = 0; i < dayWritten; i += small) {
        db.exec('BEGIN IMMEDIATE');
        for (let k = i; k < Math.min(dayWritten, i + small); k += 1) insertDaily.run(k + 1, `#${k}`, text, hash);
        db.exec('COMMIT');
      }
    });
    db.close();
    report({
      name: `ledger post into SQLite (WAL, synchronous=FULL), ${m / 1000}k events in batches of ${batch / 1000}k`,
      value: rate(written, durable.wallMs),
      unit: 'entries/s',
      reference: { name: 'raw INSERT of same-size rows, same batches and pragmas, no ledger work', value: rate(written, raw.wallMs) },
      cpu: { value: rate(written, durable.cpuMs), reference: rate(written, raw.cpuMs) },
      target: '>= 50000 entries/s',
      note: `${written} entries of ~${rowSize} bytes; one connection posting in turn (its tail check is skipped while no other connection writes)${durableSplit ? `; ledger: ${durableSplit}; reference: ${rawSplit}` : ''}`,
    });
    report({
      name: `ledger post into SQLite (WAL, synchronous=FULL), ${daily.length / 1000}k events in postings of ${small} (a day's postings: one commit each)`,
      value: rate(dayWritten, dayDurable.wallMs),
      unit: 'entries/s',
      reference: { name: 'raw INSERT of same-size rows, same batches and pragmas, no ledger work', value: rate(dayWritten, dayRaw.wallMs) },
      cpu: { value: rate(dayWritten, dayDurable.cpuMs), reference: rate(dayWritten, dayRaw.cpuMs) },
      note: `${dayWritten} entries, ${daily.length / small} commits${daySplit ? `; ledger: ${daySplit}; reference: ${dayRawSplit}` : ''}`,
    });
    report({
      name: `ledger post into SQLite, ${m / 1000}k events in batches of ${batch / 1000}k, a new connection per batch (opens, re-hashes the previous batch, posts)`,
      value: rate(freshWritten, reopened.wallMs),
      unit: 'entries/s',
      reference: { name: 'the same raw INSERTs', value: rate(written, raw.wallMs) },
      cpu: { value: rate(freshWritten, reopened.cpuMs), reference: rate(written, raw.cpuMs) },
      target: '>= 50000 entries/s',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
