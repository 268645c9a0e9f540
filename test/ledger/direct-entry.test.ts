// Engine.writeEntry (a purchase, completion, sale, conversion or hedge mark written straight into the journal's columns and the
// books, without a Draft) against the general route (draft, Books.apply, ColumnarJournal.push):
// the same entries, the same hash chain and the same books, on random event streams.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ColumnarJournal } from '../../src/ledger/columnar-journal.js';
import { Books, Engine } from '../../src/ledger/engine.js';
import { parseEvents, parsePlant, TRIGGERS, type LedgerEvent, type Plant } from '../../src/ledger/index.js';

function plantFor(trigger: string, close: string, negativeStock: string): Plant {
  return parsePlant(`currency: USD
backflush: ${trigger}
close: ${close}
negativeStock: ${negativeStock}
materials:
  - id: a
    unit: kg
    standardCost: [ { from: "2024-01-01", cost: "3.10" }, { from: "2024-01-20", cost: "2.95" } ]
  - { id: b, unit: l, standardCost: "0.45" }
  - { id: c, unit: kg, standardCost: "1.2" }
products:
  - id: x
    unit: unit
    conversionCost: "4.25"
    bom: [ { material: a, qty: "2", scrap: "0.1" }, { material: b, qty: "0.5" }, { material: c, qty: "0.3" } ]
  - id: y
    unit: unit
    conversionCost: [ { from: "2024-01-01", cost: "1.5" }, { from: "2024-01-25", cost: "1.75" } ]
    bom: [ { material: a, qty: "1.25" } ]
`, 'direct-plant.yaml');
}

const cents = fc.integer({ min: 1, max: 500_000 }).map((n) => (n / 100).toFixed(2));
const units = fc.integer({ min: 1, max: 60 }).map(String);
const material = fc.constantFrom('a', 'b', 'c');
const product = fc.constantFrom('x', 'y');
const instrument = fc.constantFrom('NG-F25', 'NG-G25');
const op = fc.oneof(
  fc.record({ type: fc.constant('purchase'), material, qty: fc.integer({ min: 100, max: 5_000 }).map(String), unitPrice: cents }),
  // A fill's purchase: a fee, a reference, a reason, paid from either account.
  fc.record({
    type: fc.constant('purchase'),
    material,
    qty: fc.integer({ min: 1, max: 500_000 }).map((n) => (n / 1000).toString()),
    unitPrice: fc.integer({ min: 0, max: 900_000 }).map((n) => (n / 100_000).toString()),
    fee: fc.option(cents, { nil: undefined }),
    paidFrom: fc.constantFrom('accounts_payable', 'exchange_cash'),
    ref: fc.option(fc.constantFrom('pc-1', 'pc-2'), { nil: undefined }),
    reason: fc.option(fc.constantFrom('forced-reorder', 'emergency'), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('conversion'), amount: cents }),
  fc.record({ type: fc.constant('completion'), product, qty: units }),
  fc.record({ type: fc.constant('completion'), product, qty: units }),
  fc.record({ type: fc.constant('sale'), product, qty: units, unitPrice: fc.option(cents, { nil: undefined }) }),
  fc.record({ type: fc.constant('sale'), product, qty: units, unitPrice: fc.option(cents, { nil: undefined }) }),
  // A backtest's day: a completion and a sale of the same units (one Decimal, as the desk posts them).
  fc.record({ type: fc.constant('day'), product, qty: units }),
  fc.record({ type: fc.constant('day'), product, qty: units }),
  fc.record({ type: fc.constant('count'), product, qty: fc.integer({ min: 0, max: 50 }).map(String) }),
  // Hedge trades (the general route) and the marks that revalue their positions (the direct route).
  fc.record({ type: fc.constant('hedge'), instrument, qty: fc.integer({ min: -40, max: 40 }).filter((n) => n !== 0).map(String), price: cents, fee: fc.option(cents, { nil: undefined }) }),
  fc.record({ type: fc.constant('hedge-mark'), instrument, price: cents, reason: fc.option(fc.constant('month-end'), { nil: undefined }) }),
  fc.record({ type: fc.constant('conversion'), amount: cents, category: fc.constantFrom('labour and overhead', 'energy') }),
  fc.record({ type: fc.constant('close') }),
);
const stream = fc.record({
  trigger: fc.constantFrom(...TRIGGERS, 'purchase-completion-sale', 'purchase-completion-sale'),
  close: fc.constantFrom('writeoff', 'prorate'),
  negativeStock: fc.constantFrom('allow', 'refuse'),
  ops: fc.array(fc.tuple(op, fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
});

/** The events of a stream, without their source lines (a backtest's events have none, and only those take the direct route); some keep an id. */
function eventsOf(plant: Plant, ops: [Record<string, unknown>, number, boolean][]): LedgerEvent[] {
  let day = 1;
  // Stock of every material first, so that most completions and sales are not flagged (a flagged one takes the general route).
  const opening: [Record<string, unknown>, number, boolean][] = ['a', 'b', 'c'].map((m) => [{ type: 'purchase', material: m, qty: '20000', unitPrice: '1.05' }, 0, false]);
  ops = [...opening, ...ops].flatMap((op) => (op[0].type === 'day' ? [[{ ...op[0], type: 'completion' }, op[1], op[2]], [{ ...op[0], type: 'sale' }, 0, op[2]]] : [op]));
  const lines = ops.map(([o, gap], i) => {
    day += gap;
    return JSON.stringify({ ...o, id: `e${i}`, at: new Date(Date.UTC(2024, 0, 1) + day * 3_600_000 * 6).toISOString() });
  });
  const events = parseEvents(lines.join('\n'), 'stream.jsonl', plant).map((e, i) => {
    const { source: _source, id, ...rest } = e as LedgerEvent & { source?: unknown };
    return (ops[i]![2] ? { ...rest, id } : rest) as LedgerEvent;
  });
  // A day's sale carries its completion's quantity object (what the engine's reuse of a flush keys on).
  return events.map((e, i) => {
    const before = events[i - 1];
    return e.type === 'sale' && before?.type === 'completion' && before.product === e.product && before.qty.eq(e.qty) ? { ...e, qty: before.qty } : e;
  });
}

/** Both routes over one stream: entries (as JSON, hashes included) and books; how many entries took the direct route. */
function run(plant: Plant, events: readonly LedgerEvent[]): { direct: number; same: boolean; fault?: string } {
  const engine = new Engine(plant);
  const a = { books: new Books(), journal: new ColumnarJournal() };
  const b = { books: new Books(), journal: new ColumnarJournal() };
  let direct = 0;
  for (let k = 0; k < events.length; k += 1) {
    const event = events[k]!;
    if (event.type === 'reverse') continue;
    const id = event.id ?? `#${k + 1}`;
    /** The general route: draft, Books.apply, ColumnarJournal.push. */
    const postByDraft = (side: typeof a): void => {
      const draft = engine.draft(event, id, side.books);
      side.books.apply(draft);
      side.journal.push(draft);
    };
    for (const side of [a, b]) {
      for (const revision of engine.dueRevisions(side.books, event.at)) {
        const draft = engine.revaluationDraft(side.books, revision);
        if (draft) {
          side.books.apply(draft);
          side.journal.push(draft);
        }
        side.books.revisionsDone += 1;
      }
    }
    let refusedA: unknown;
    let refusedB: unknown;
    try {
      if (engine.writeEntry(event, id, a.books, a.journal) >= 0) direct += 1;
      else postByDraft(a);
    } catch (error) {
      refusedA = error;
    }
    try {
      postByDraft(b);
    } catch (error) {
      refusedB = error;
    }
    if (String(refusedA) !== String(refusedB)) return { direct, same: false, fault: `event ${k}: ${String(refusedA)} vs ${String(refusedB)}` };
  }
  if (a.journal.size !== b.journal.size) return { direct, same: false, fault: `${a.journal.size} entries vs ${b.journal.size}` };
  for (let i = 0; i < a.journal.size; i += 1) {
    const x = JSON.stringify(a.journal.entry(i));
    const y = JSON.stringify(b.journal.entry(i));
    if (x !== y) return { direct, same: false, fault: `entry ${i}: ${x} vs ${y}` };
  }
  const last = a.journal.size - 1;
  if (last >= 0 && a.journal.hashOf(last) !== b.journal.hashOf(last)) return { direct, same: false, fault: 'head hash' };
  const sa = JSON.stringify(a.books.toSnapshot());
  const sb = JSON.stringify(b.books.toSnapshot());
  if (sa !== sb) return { direct, same: false, fault: `books ${sa} vs ${sb}` };
  return { direct, same: true };
}

describe('Engine.writeEntry (purchase, completion, sale, conversion and hedge mark without a Draft)', () => {
  it('writes the same entries, hash chain and books as draft + apply + push, on random streams', () => {
    let direct = 0;
    fc.assert(
      fc.property(stream, (s) => {
        const plant = plantFor(s.trigger, s.close, s.negativeStock);
        const outcome = run(plant, eventsOf(plant, s.ops));
        if (s.trigger !== 'purchase-completion-sale') expect(outcome.direct).toBe(0);
        direct += outcome.direct;
        expect(outcome.fault).toBeUndefined();
        expect(outcome.same).toBe(true);
      }),
      { numRuns: 300, seed: 20261130 },
    );
    // The direct route was taken (the comparison above is not vacuous).
    expect(direct).toBeGreaterThan(200);
  });

  it('leaves an event with a source line, or one that would be flagged, to the general route', () => {
    const plant = plantFor('purchase-completion-sale', 'writeoff', 'allow');
    const [withSource] = parseEvents(JSON.stringify({ type: 'completion', product: 'y', qty: '2', at: '2024-01-02T00:00:00Z' }), 'one.jsonl', plant);
    const engine = new Engine(plant);
    const journal = new ColumnarJournal();
    expect(engine.writeEntry(withSource!, '#1', new Books(), journal)).toBe(-1);
    // Nothing on hand: the completion would drive material a negative (flagged under allow).
    const { source: _source, ...bare } = withSource as LedgerEvent & { source?: unknown };
    expect(engine.writeEntry(bare as LedgerEvent, '#1', new Books(), journal)).toBe(-1);
    expect(journal.size).toBe(0);
  });
});
