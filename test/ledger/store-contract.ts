/**
 * The store contract suite: what every engine of the ledger's store (store.ts) must do, written
 * against the asynchronous contract so that any engine can run it, the synchronous ones through
 * `asyncStore`. `storeContract(name, factory)` registers the suite; `factory()` makes an empty
 * backing store and returns a way to open handles on it (two handles act like two processes)
 * and to dispose of it. A PostgreSQL engine runs the same suite with its own factory.
 */
import { describe, expect, it } from 'vitest';
import { Ledger, ColumnarJournal, GENESIS_HASH, type LedgerStore, type PostingBatch } from '../../src/ledger/index.js';
import { textbookPlant, events, balanceTable, WORKED } from './helpers.js';

export interface StoreFixture {
  /** A handle on the backing store (each call: a new connection where the engine has them). */
  open(): Promise<LedgerStore>;
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

const plant = textbookPlant('purchase-completion-sale');
const LATER = [
  { type: 'purchase', id: 'p2', at: '2024-02-02', material: 'dm', qty: '10', unitPrice: '11' },
  { type: 'reverse', id: 'r1', at: '2024-02-03', of: 's1' },
];

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function withFixture(factory: StoreFactory, fn: (fixture: StoreFixture) => Promise<void>): Promise<void> {
  const fixture = await factory();
  try {
    await fn(fixture);
  } finally {
    await fixture.dispose();
  }
}

/** Registers the contract suite for one engine. */
export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    it('an empty store has the genesis head, no plant and no books', () =>
      withFixture(factory, async (f) => {
        const store = await f.open();
        const { state, books, plants } = await store.read(async (r) => ({ state: await r.state(), books: await r.books(), plants: await r.plants() }));
        expect(state.head).toEqual({ seq: 0, hash: GENESIS_HASH, events: 0 });
        expect(state.plant).toBeUndefined();
        expect(books).toBeUndefined();
        expect(plants).toEqual([]);
        await store.close();
      }));

    it('keeps what a posting appends: entries chained as in memory, event records, plant version, books at the head', () =>
      withFixture(factory, async (f) => {
        const store = await f.open();
        const ledger = await Ledger.openAsync(store, plant);
        const result = await ledger.postAsync(events(plant, WORKED));
        expect(result.posted).toBe(5);
        const memory = Ledger.inMemory(plant);
        memory.post(events(plant, WORKED));
        const expected = memory.entries();
        const { state, entries, records, plants, books } = await store.read(async (r) => ({
          state: await r.state(),
          entries: await collect(r.scanEntries(1)),
          records: await collect(r.scanEvents(1)),
          plants: await r.plants(),
          books: await r.books(),
        }));
        expect(entries.map((e) => e.hash)).toEqual(expected.map((e) => e.hash));
        expect(result.entries.map((e) => e.hash)).toEqual(expected.map((e) => e.hash));
        expect(state.head).toEqual({ seq: 5, hash: expected[4]!.hash, events: 5 });
        expect(state).toMatchObject({ trigger: 'purchase-completion-sale', currency: 'USD' });
        expect(records.map((r) => [r.seq, r.id, r.type])).toEqual(WORKED.map((w, i) => [i + 1, w.id, w.type]));
        expect(records.map((r) => r.hash)).toEqual(expected.map((e) => e.eventHash));
        expect(plants).toEqual([{ hash: plant.hash, file: plant.file, text: plant.text, firstEntry: 1 }]);
        expect(books?.balances).toEqual(Object.fromEntries([...memory.balances()].map(([k, v]) => [k, v.toFixed()])));
        expect((await ledger.verifyAsync()).ok).toBe(true);
        await store.close();
      }));

    it('answers idempotency keys and reversal targets in batches, with whether an entry is reversed', () =>
      withFixture(factory, async (f) => {
        const store = await f.open();
        const ledger = await Ledger.openAsync(store, plant);
        await ledger.postAsync(events(plant, [...WORKED, ...LATER]));
        const { digests, originals } = await store.read(async (r) => ({ digests: await r.eventDigests(['p1', 's1', 'nope']), originals: await r.entriesOfEvents(['s1', 'k1', 'nope']) }));
        expect([...digests.keys()].sort()).toEqual(['p1', 's1']);
        expect(digests.get('p1')).toMatch(/^[0-9a-f]{64}$/);
        expect(originals.get('s1')!.map((l) => [l.entry.seq, l.reversed])).toEqual([[4, true]]);
        expect(originals.get('k1')!.map((l) => [l.entry.seq, l.reversed])).toEqual([[3, false]]);
        expect(originals.has('nope')).toBe(false);
        // A second reversal is refused because the store says the entry is reversed.
        await expect(ledger.postAsync(events(plant, [{ type: 'reverse', id: 'r2', at: '2024-02-04', of: 's1' }]))).rejects.toThrow(/already reversed/);
        await store.close();
      }));

    it('scans entries and event records by range, in pages', () =>
      withFixture(factory, async (f) => {
        const store = await f.open();
        const ledger = await Ledger.openAsync(store, plant);
        await ledger.postAsync(events(plant, [...WORKED, ...LATER]));
        const { middle, tail, events: records } = await store.read(async (r) => ({
          middle: await collect(r.scanEntries(2, 4)),
          tail: await collect(r.scanEntries(6)),
          events: await collect(r.scanEvents(6)),
        }));
        expect(middle.map((e) => e.seq)).toEqual([2, 3, 4]);
        expect(tail.map((e) => [e.seq, e.eventId])).toEqual([[6, 'p2'], [7, 'r1']]);
        expect(records.map((r) => r.id)).toEqual(['p2', 'r1']);
        await store.close();
      }));

    it('refuses a batch that does not start right after its head, and a failed transaction leaves nothing', () =>
      withFixture(factory, async (f) => {
        const store = await f.open();
        const ledger = await Ledger.openAsync(store, plant);
        await ledger.postAsync(events(plant, WORKED.slice(0, 2)));
        const before = await store.read(async (r) => r.state());
        const stray = new ColumnarJournal(7);
        stray.push({ eventId: 'x', eventType: 'close', at: 0, knownAt: 0, lines: [], movements: [], versions: {} });
        const batch: PostingBatch = { entries: stray, eventCount: 1, trigger: plant.trigger, currency: plant.currency, verified: before.head, books: () => ({}) as never };
        await expect(store.write(async (w) => w.append(batch))).rejects.toThrow(/batch starts at seq 7/);
        await expect(ledger.postAsync(events(plant, [...WORKED.slice(2, 4), { type: 'sale', id: 's9', at: '2024-02-01', product: 'widget', qty: '500' }]))).rejects.toThrow(/short 490/);
        expect(await store.read(async (r) => r.state())).toEqual(before);
        expect(await store.read(async (r) => collect(r.scanEntries(1)))).toHaveLength(2);
        await store.close();
      }));

    it('two handles post in turn: each catches up on the other inside its transaction, every event once', () =>
      withFixture(factory, async (f) => {
        const one = await f.open();
        const two = await f.open();
        const a = await Ledger.openAsync(one, plant);
        const b = await Ledger.openAsync(two, plant);
        await a.postAsync(events(plant, WORKED.slice(0, 3)));
        await b.postAsync(events(plant, WORKED.slice(3)));
        await a.postAsync(events(plant, LATER));
        expect((await b.postAsync(events(plant, [...WORKED, ...LATER]))).skipped).toHaveLength(7);
        const memory = Ledger.inMemory(plant);
        memory.post(events(plant, WORKED.slice(0, 3)));
        memory.post(events(plant, WORKED.slice(3)));
        memory.post(events(plant, LATER));
        expect(balanceTable(b)).toEqual(balanceTable(memory));
        expect((await a.verifyAsync()).ok).toBe(true);
        const head = await two.read(async (r) => r.state());
        expect(head.head).toEqual({ seq: 7, hash: memory.entries()[6]!.hash, events: 7 });
        await one.close();
        await two.close();
      }));

    it('records a new plant version at the first entry posted under it', () =>
      withFixture(factory, async (f) => {
        const store = await f.open();
        const first = await Ledger.openAsync(store, plant);
        await first.postAsync(events(plant, WORKED.slice(0, 2)));
        const revised = textbookPlant('purchase-completion-sale', 'negativeStock: allow\n');
        const second = await Ledger.openAsync(store, revised);
        await second.postAsync(events(revised, WORKED.slice(2)));
        const plants = await store.read(async (r) => r.plants());
        expect(plants.map((p) => [p.hash, p.firstEntry])).toEqual([[plant.hash, 1], [revised.hash, 3]]);
        const entries = await store.read(async (r) => collect(r.scanEntries(1)));
        expect(entries.map((e) => e.plantHash)).toEqual([plant.hash, undefined, revised.hash, undefined, undefined]);
        expect((await second.verifyAsync()).ok).toBe(true);
        await store.close();
      }));
  });
}
