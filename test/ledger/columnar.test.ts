// Issue 10 items 2 and 3: the in-memory journal is columnar, and what never reads a hash never
// computes one (backtests, the cost feed); verify and a durable store seal the chain.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ZERO } from '../../src/core/decimal.js';
import { parseTime } from '../../src/core/time.js';
import { CostFeed, loadCostOptions, loadPlan } from '../../src/costfeed/index.js';
import { runBacktest } from '../../src/engine/backtest.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { ColumnarJournal, Ledger, MemoryStore, loadEvents, loadPlant } from '../../src/ledger/index.js';
import { textbookPlant, events, WORKED } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('columnar journal', () => {
  it('materialises entries on demand, with the hashes computed only when read', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const store = new MemoryStore();
    const ledger = new Ledger(plant, store);
    ledger.post(events(plant, WORKED));
    expect(store.journal.sealed).toBe(0);
    const third = ledger.entry(3)!;
    expect(third.lines.map((l) => [l.account, l.debit.toFixed(), l.credit.toFixed()])).toEqual([
      ['finished_goods', '1500', '0'],
      ['materials_in_process', '0', '1000'],
      ['conversion_costs_allocated', '0', '500'],
    ]);
    expect(store.journal.sealed).toBe(0);
    expect(third.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(store.journal.sealed).toBe(3);
    expect(ledger.verify().ok).toBe(true);
    expect(store.journal.sealed).toBe(5);
  });

  it("reads each entry's actual field by field as draftActual holds it", () => {
    const plant = textbookPlant('purchase-completion-sale');
    const store = new MemoryStore();
    const ledger = new Ledger(plant, store);
    ledger.post(events(plant, WORKED));
    const journal = store.journal;
    const kinds = new Set<string>();
    for (let i = 0; i < journal.size; i += 1) {
      const a = journal.draftActual(i);
      expect(journal.actualKindOf(i)).toBe(a?.kind);
      if (a === undefined) continue;
      kinds.add(a.kind);
      const fixed = (f: { m: number; e: number; big: unknown }): string => `${f.m}e-${f.e} ${String(f.big)}`;
      const [name, qty, amount] =
        a.kind === 'purchase' ? [a.material, a.qty, a.amount] : a.kind === 'completion' ? [a.product, a.qty, a.allocated] : a.kind === 'sale' ? [a.product, a.qty, a.conversion] : [undefined, undefined, a.amount];
      if (name !== undefined) expect(journal.actualNameOf(i)).toBe(name);
      if (qty !== undefined) expect(fixed(journal.actualQtyOf(i))).toBe(fixed(qty));
      expect(fixed(journal.actualAmountOf(i))).toBe(fixed(amount));
    }
    expect([...kinds].sort()).toEqual(['completion', 'conversion', 'purchase', 'sale']);
  });

  it('a cost feed stepping day by day reads entries without computing a hash', () => {
    const dir = 'test/costfeed/fixtures';
    const plant = loadPlant(`${dir}/plant.yaml`);
    const store = new MemoryStore();
    const ledger = new Ledger(plant, store);
    ledger.post(loadEvents(`${dir}/events.jsonl`, plant));
    const options = loadCostOptions(`${dir}/policy.yaml`, plant);
    const feed = new CostFeed({ plant, ledger, plan: loadPlan(`${dir}/plan.csv`, plant), prices: options.prices, horizonDays: 30, actualWindowDays: 90, policy: options.policy, hedgeInstruments: options.hedgeInstruments, onOrder: () => ZERO });
    for (let day = parseTime('2024-01-05', {}); day <= parseTime('2024-03-01', {}); day += 86_400_000) feed.snapshot(day);
    expect(store.size).toBeGreaterThan(0);
    expect(store.journal.sealed).toBe(0);
  });

  it('a backtest never seals the hash chain', async () => {
    const seal = vi.spyOn(ColumnarJournal.prototype, 'seal');
    const run = await runBacktest(loadScenario('test/engine/fixtures/small.yaml'));
    expect(run.ledgerEntries).toBeGreaterThan(10);
    expect(seal).not.toHaveBeenCalled();
  });

  it('posting one event at a time costs the same per posting however long the journal is (no scan of earlier events)', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const store = new MemoryStore();
    const ledger = new Ledger(plant, store);
    const records = vi.spyOn(ColumnarJournal.prototype, 'eventRecordOf');
    const one = events(plant, WORKED);
    const postings = 300;
    for (let k = 0; k < postings; k += 1) {
      const shift = k * 31 * 86_400_000;
      ledger.post(one.map((e) => ({ ...e, id: `${e.id}-${k}`, at: e.at + shift, knownAt: e.knownAt + shift })));
    }
    expect(ledger.size).toBeGreaterThanOrEqual(postings * one.length);
    // Each posting reads no stored event record (its mark is the head); a scan would read about postings^2 / 2 x events.
    expect(records.mock.calls.length).toBe(0);
  });

  it('a small batch allocates small columns (a full chunk per posting cost tens of kilobytes)', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const store = new MemoryStore();
    const ledger = new Ledger(plant, store);
    ledger.post(events(plant, WORKED));
    expect(store.journal.size).toBe(5);
    expect(store.journal.bytes).toBeLessThan(4096);
  });

  it('a memory posting that fails halfway leaves the journal, the books and the idempotency keys exactly as before (entries are written in place)', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const store = new MemoryStore();
    const ledger = new Ledger(plant, store);
    const first = ledger.post(events(plant, WORKED.slice(0, 2)));
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2]);
    const snapshot = (l: Ledger): unknown => ({ size: l.size, balances: [...l.balances()].map(([a, v]) => `${a}=${v.toFixed()}`), quantities: JSON.stringify(l.quantities(), (_k, v) => (v instanceof Map ? [...v] : v)), hashes: l.entries().map((e) => e.hash) });
    const before = snapshot(ledger);
    const bytes = store.journal.bytes;
    // k1 and s1 post (books change, entries are written) before s9 is refused: all of it is undone.
    expect(() => ledger.post(events(plant, [...WORKED.slice(2, 4), { type: 'sale', id: 's9', at: '2024-02-01', product: 'widget', qty: '500' }]))).toThrow(/short/);
    expect(snapshot(ledger)).toEqual(before);
    expect(store.journal.size).toBe(2);
    expect(store.journal.bytes).toBeLessThanOrEqual(bytes);
    expect(store.eventDigests(['k1', 's1', 's9'])).toEqual(new Map());
    // The same events post afterwards exactly as on a ledger that never saw the failure.
    const again = ledger.post(events(plant, WORKED.slice(2)));
    const fresh = Ledger.inMemory(plant);
    fresh.post(events(plant, WORKED.slice(0, 2)));
    const freshAgain = fresh.post(events(plant, WORKED.slice(2)));
    expect(again.skipped).toEqual([]);
    expect(again.entries.map((e) => [e.seq, e.eventId, e.hash])).toEqual(freshAgain.entries.map((e) => [e.seq, e.eventId, e.hash]));
    expect(snapshot(ledger)).toEqual(snapshot(fresh));
    expect(ledger.verify().ok).toBe(true);
    // A shorter failing posting after a longer one (the books' undo log is reused, not cut off): undone as well.
    const settled = snapshot(ledger);
    expect(() => ledger.post(events(plant, [{ type: 'sale', id: 's2', at: '2024-02-05', product: 'widget', qty: '5' }, { type: 'sale', id: 's9', at: '2024-02-06', product: 'widget', qty: '500' }]))).toThrow(/short/);
    expect(snapshot(ledger)).toEqual(settled);
    expect(ledger.verify().ok).toBe(true);
  });
});
