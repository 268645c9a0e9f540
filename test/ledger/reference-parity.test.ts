// Issue 10 item 3: the ledger (columnar journal, scaled-integer arithmetic) gives the same
// entries, balances, book quantities and hash chain as the reference implementation (the Decimal
// engine with one object per entry, kept in test/ledger/reference/) on random event streams,
// including values too large for the fast path, reversals, refused postings and several files.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Decimal } from '../../src/core/decimal.js';
import { Ledger, parsePlant, parseEvents, TRIGGERS, entryBody, type Plant, type LedgerEvent } from '../../src/ledger/index.js';
import { ReferenceLedger } from './reference/ledger.js';

function plantFor(trigger: string, close: string, negativeStock: string, places: number): Plant {
  return parsePlant(`currency: USD
backflush: ${trigger}
close: ${close}
negativeStock: ${negativeStock}
moneyPlaces: ${places}
materials:
  - id: a
    unit: kg
    standardCost: [ { from: "2024-01-01", cost: "3.10" }, { from: "2024-01-20", cost: "2.9537" } ]
  - { id: b, unit: l, standardCost: "0.45" }
products:
  - id: x
    unit: unit
    conversionCost: "4.25"
    bom: [ { material: a, qty: "2", scrap: "0.1" }, { material: b, qty: "0.5" } ]
  - id: y
    unit: unit
    conversionCost: [ { from: "2024-01-01", cost: "1.5" }, { from: "2024-01-25", cost: "1.753" } ]
    bom: [ { material: a, qty: "1.25" } ]
`, 'parity-plant.yaml');
}

/** Decimal strings: small, with many places, and now and then huge (beyond 2^53 when scaled). */
const amount = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 500_000 }).map((n) => (n / 100).toFixed(2)) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 99_999_999 }).map((n) => (n / 1e6).toFixed(6)) },
  { weight: 1, arbitrary: fc.bigInt({ min: 10n ** 14n, max: 10n ** 17n }).map((n) => `${n}.37`) },
);
const qty = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 400 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4_000_000 }).map((n) => (n / 1000).toString()) },
  { weight: 1, arbitrary: fc.bigInt({ min: 10n ** 12n, max: 10n ** 16n }).map(String) },
);
const material = fc.constantFrom('a', 'b');
const product = fc.constantFrom('x', 'y');
const op = fc.oneof(
  fc.record({ type: fc.constant('purchase'), material, qty, unitPrice: amount, fee: fc.option(amount, { nil: undefined }), paidFrom: fc.constantFrom('accounts_payable', 'exchange_cash') }),
  fc.record({ type: fc.constant('conversion'), amount, category: fc.option(fc.constantFrom('labour', 'overhead'), { nil: undefined }) }),
  fc.record({ type: fc.constant('completion'), product, qty }),
  fc.record({ type: fc.constant('sale'), product, qty, unitPrice: fc.option(amount, { nil: undefined }) }),
  fc.record({ type: fc.constant('count'), material, qty: fc.integer({ min: 0, max: 3000 }).map((n) => (n / 10).toString()) }),
  fc.record({ type: fc.constant('count'), product, qty: fc.integer({ min: 0, max: 50 }).map(String) }),
  fc.record({ type: fc.constant('close') }),
  fc.record({ type: fc.constant('hedge'), instrument: fc.constantFrom('NG', 'TTF'), qty: fc.integer({ min: -50, max: 50 }).filter((n) => n !== 0).map(String), price: amount, fee: fc.option(amount, { nil: undefined }) }),
  fc.record({ type: fc.constant('hedge-mark'), instrument: fc.constantFrom('NG', 'TTF'), price: amount }),
  fc.record({ type: fc.constant('reverse'), back: fc.integer({ min: 1, max: 6 }) }),
);
const stream = fc.record({
  trigger: fc.constantFrom(...TRIGGERS),
  close: fc.constantFrom('writeoff', 'prorate'),
  negativeStock: fc.constantFrom('allow', 'allow', 'refuse'),
  places: fc.constantFrom(2, 2, 0, 3),
  ops: fc.array(fc.tuple(op, fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 50 }),
  files: fc.integer({ min: 1, max: 4 }),
});

type Stream = { trigger: string; close: string; negativeStock: string; places: number; ops: [Record<string, unknown>, number, boolean, boolean][]; files: number };

function build(s: Stream): { plant: Plant; files: LedgerEvent[][] } {
  const plant = plantFor(s.trigger, s.close, s.negativeStock, s.places);
  let day = 1;
  const lines = s.ops.map(([o, gap, withId, known], i) => {
    day += gap;
    const at = new Date(Date.UTC(2024, 0, 1) + day * 3_600_000 * 6).toISOString();
    const { back, ...rest } = o as { back?: number };
    const event: Record<string, unknown> = back !== undefined ? { type: 'reverse', of: `e${Math.max(0, i - back)}` } : rest;
    if (withId || back !== undefined) event.id = `e${i}`;
    if (known) event.knownAt = new Date(Date.UTC(2024, 0, 1) + (day + 2) * 3_600_000 * 6).toISOString();
    return JSON.stringify({ ...event, at });
  });
  const all = parseEvents(lines.join('\n'), 'stream.jsonl', plant);
  const size = Math.ceil(all.length / s.files);
  const files: LedgerEvent[][] = [];
  for (let i = 0; i < all.length; i += size) files.push(all.slice(i, i + size));
  return { plant, files };
}

const text = (m: ReadonlyMap<string, Decimal>): Record<string, string> => Object.fromEntries([...m].map(([k, v]) => [k, v.toFixed()]));

/** Posts each file into both; a file one refuses the other must refuse with the same message. */
function postBoth(product: Ledger, reference: ReferenceLedger, files: readonly LedgerEvent[][]): void {
  for (const file of files) {
    let a: string | undefined;
    let b: string | undefined;
    try {
      product.post(file);
    } catch (error) {
      a = (error as Error).message;
    }
    try {
      reference.post(file);
    } catch (error) {
      b = (error as Error).message;
    }
    expect(a === undefined, `product: ${a ?? 'posted'}; reference: ${b ?? 'posted'}`).toBe(b === undefined);
    if (a !== undefined && b !== undefined && !/already posted|before the last event/.test(b)) expect(a).toBe(b);
  }
}

describe('the ledger against the reference implementation', () => {
  it('same entries, hash chain, balances and book quantities on random streams', () => {
    fc.assert(
      fc.property(stream, (s) => {
        const { plant, files } = build(s);
        const product = Ledger.inMemory(plant);
        const reference = new ReferenceLedger(plant);
        postBoth(product, reference, files);
        const expected = reference.entries();
        const actual = product.entries();
        expect(actual.map((e) => entryBody(e))).toEqual(expected.map((e) => entryBody(e)));
        expect(actual.map((e) => e.hash)).toEqual(expected.map((e) => e.hash));
        expect(text(product.balances())).toEqual(text(reference.balances()));
        const q = product.quantities();
        const r = reference.quantities();
        expect(text(q.materials)).toEqual(text(r.materials));
        expect(text(q.products)).toEqual(text(r.products));
        expect(Object.fromEntries([...q.hedges].map(([k, h]) => [k, [h.qty.toFixed(), h.carryingValue.toFixed()]]))).toEqual(Object.fromEntries([...r.hedges].map(([k, h]) => [k, [h.qty.toFixed(), h.carryingValue.toFixed()]])));
        expect(product.verify().ok).toBe(true);
      }),
      { numRuns: Number(process.env.PARITY_RUNS ?? 300) },
    );
  }, 600_000);
});
