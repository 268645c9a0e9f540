import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import { Ledger, parsePlant, parseEvents, TRIGGERS, type Plant, type LedgerEvent } from '../../src/ledger/index.js';

function plantFor(trigger: string, close: string): Plant {
  return parsePlant(`currency: USD
backflush: ${trigger}
close: ${close}
negativeStock: allow
materials:
  - id: a
    unit: kg
    standardCost: [ { from: "2024-01-01", cost: "3.10" }, { from: "2024-01-20", cost: "2.95" } ]
  - { id: b, unit: l, standardCost: "0.45" }
products:
  - id: x
    unit: unit
    conversionCost: "4.25"
    bom: [ { material: a, qty: "2", scrap: "0.1" }, { material: b, qty: "0.5" } ]
  - id: y
    unit: unit
    conversionCost: [ { from: "2024-01-01", cost: "1.5" }, { from: "2024-01-25", cost: "1.75" } ]
    bom: [ { material: a, qty: "1.25" } ]
`, 'property-plant.yaml');
}

const cents = fc.integer({ min: 1, max: 500_000 }).map((n) => (n / 100).toFixed(2));
const units = fc.integer({ min: 1, max: 400 }).map(String);
const material = fc.constantFrom('a', 'b');
const product = fc.constantFrom('x', 'y');
const op = fc.oneof(
  fc.record({ type: fc.constant('purchase'), material, qty: units, unitPrice: cents, fee: fc.option(cents, { nil: undefined }), paidFrom: fc.constantFrom('accounts_payable', 'exchange_cash') }),
  fc.record({ type: fc.constant('conversion'), amount: cents }),
  fc.record({ type: fc.constant('completion'), product, qty: units }),
  fc.record({ type: fc.constant('sale'), product, qty: units, unitPrice: fc.option(cents, { nil: undefined }) }),
  fc.record({ type: fc.constant('count'), material, qty: fc.integer({ min: 0, max: 300 }).map(String) }),
  fc.record({ type: fc.constant('count'), product, qty: fc.integer({ min: 0, max: 50 }).map(String) }),
  fc.record({ type: fc.constant('close') }),
  fc.record({ type: fc.constant('hedge'), instrument: fc.constantFrom('NG', 'TTF'), qty: fc.integer({ min: -50, max: 50 }).filter((n) => n !== 0).map(String), price: cents, fee: fc.option(cents, { nil: undefined }) }),
  fc.record({ type: fc.constant('hedge-mark'), instrument: fc.constantFrom('NG', 'TTF'), price: cents }),
);
const stream = fc.record({
  trigger: fc.constantFrom(...TRIGGERS),
  close: fc.constantFrom('writeoff', 'prorate'),
  ops: fc.array(fc.tuple(op, fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 40 }),
});

type Stream = { trigger: string; close: string; ops: [Record<string, unknown>, number][] };

function build(s: Stream): { plant: Plant; events: LedgerEvent[]; lines: string[] } {
  const plant = plantFor(s.trigger, s.close);
  let day = 1;
  const lines = s.ops.map(([o, gap], i) => {
    day += gap;
    const at = new Date(Date.UTC(2024, 0, 1) + day * 3_600_000 * 6).toISOString();
    return JSON.stringify({ ...o, id: `e${i}`, at });
  });
  return { plant, events: parseEvents(lines.join('\n'), 'stream.jsonl', plant), lines };
}

const text = (m: Map<string, Decimal>): Record<string, string> => Object.fromEntries([...m].filter(([, v]) => !v.isZero()).map(([k, v]) => [k, v.toFixed()]));

describe('ledger properties on random event streams', () => {
  it('every entry balances, the trial balance is zero and verify passes', () => {
    fc.assert(
      fc.property(stream, (s) => {
        const { plant, events } = build(s);
        const ledger = Ledger.inMemory(plant);
        ledger.post(events);
        for (const e of ledger.entries()) {
          const debit = e.lines.reduce((t, l) => t.plus(l.debit), new Decimal(0));
          const credit = e.lines.reduce((t, l) => t.plus(l.credit), new Decimal(0));
          expect(debit.eq(credit)).toBe(true);
        }
        const trial = [...ledger.balances().values()].reduce((t, v) => t.plus(v), new Decimal(0));
        expect(trial.toFixed()).toBe('0');
        expect(ledger.verify()).toMatchObject({ ok: true });
      }),
    );
  });

  it('book quantities are conserved (an independent model of purchases, flushes and counts)', () => {
    fc.assert(
      fc.property(stream, (s) => {
        const { plant, events } = build(s);
        const ledger = Ledger.inMemory(plant);
        ledger.post(events);
        const materials = new Map<string, Decimal>();
        const products = new Map<string, Decimal>();
        const hedges = new Map<string, Decimal>();
        const add = (m: Map<string, Decimal>, k: string, v: Decimal) => m.set(k, (m.get(k) ?? new Decimal(0)).plus(v));
        const flushesAt = (type: string) => (s.trigger.includes('completion') ? type === 'completion' : type === 'sale');
        for (const e of events) {
          if (e.type === 'purchase') add(materials, e.material, e.qty);
          if (e.type === 'completion') add(products, e.product, e.qty);
          if (e.type === 'sale') add(products, e.product, e.qty.negated());
          if (e.type === 'hedge') add(hedges, e.instrument, e.qty);
          if ((e.type === 'completion' || e.type === 'sale') && flushesAt(e.type)) {
            for (const line of plant.bomAt(e.product, e.at).lines) add(materials, line.material, e.qty.times(line.qty).times(line.scrap.plus(1)).negated());
          }
          if (e.type === 'count') {
            if (e.material !== undefined) materials.set(e.material, e.qty);
            else products.set(e.product!, e.qty);
          }
        }
        const q = ledger.quantities();
        expect(text(q.materials)).toEqual(text(materials));
        expect(text(q.products)).toEqual(text(products));
        expect(text(new Map([...q.hedges].map(([k, h]) => [k, h.qty])))).toEqual(text(hedges));
      }),
    );
  });

  it('replay is deterministic: same input, identical journal and hash chain', () => {
    fc.assert(
      fc.property(stream, (s) => {
        const one = Ledger.inMemory(build(s).plant);
        one.post(build(s).events);
        const two = Ledger.inMemory(build(s).plant);
        two.post(build(s).events);
        const a = one.entries();
        const b = two.entries();
        expect(a.map((e) => e.hash)).toEqual(b.map((e) => e.hash));
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
    );
  });

  it('posting events a second time by id changes nothing', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 0, max: 39 }), (s, cut) => {
        const { plant, events } = build(s);
        const ledger = Ledger.inMemory(plant);
        ledger.post(events);
        const balances = text(ledger.balances());
        const count = ledger.entries().length;
        const again = ledger.post(events.slice(Math.min(cut, events.length - 1)));
        expect(again.posted).toBe(0);
        expect(text(ledger.balances())).toEqual(balances);
        expect(ledger.entries()).toHaveLength(count);
      }),
    );
  });

  it('a reversal restores balances and quantities', () => {
    fc.assert(
      fc.property(stream, op, (s, extra) => {
        const { plant, events, lines } = build(s);
        const ledger = Ledger.inMemory(plant);
        ledger.post(events);
        const balances = text(ledger.balances());
        const q = ledger.quantities();
        const last = JSON.parse(lines[lines.length - 1]!) as { at: string };
        const tail = [JSON.stringify({ ...extra, id: 'extra', at: last.at }), JSON.stringify({ type: 'reverse', id: 'undo', at: last.at, of: 'extra' })];
        ledger.post(parseEvents(tail.join('\n'), 'tail.jsonl', plant));
        expect(text(ledger.balances())).toEqual(balances);
        const after = ledger.quantities();
        expect(text(after.materials)).toEqual(text(q.materials));
        expect(text(after.products)).toEqual(text(q.products));
        const open = (m: typeof q.hedges) => [...m].filter(([, h]) => !h.qty.isZero() || !h.carryingValue.isZero()).map(([k, h]) => [k, h.qty.toFixed(), h.carryingValue.toFixed()]);
        expect(open(after.hedges)).toEqual(open(q.hedges));
        expect(ledger.verify()).toMatchObject({ ok: true });
      }),
    );
  });

  it('reversing an earlier event removes exactly its entries from the balances', () => {
    fc.assert(
      fc.property(stream, fc.nat(), (s, pick) => {
        const { plant, events, lines } = build(s);
        const ledger = Ledger.inMemory(plant);
        ledger.post(events);
        const target = events[pick % events.length]!;
        const expected = ledger.balances();
        for (const e of ledger.entries({ eventId: target.id! })) for (const l of e.lines) expected.set(l.account, expected.get(l.account)!.minus(l.debit).plus(l.credit));
        const last = JSON.parse(lines[lines.length - 1]!) as { at: string };
        ledger.post(parseEvents(JSON.stringify({ type: 'reverse', id: 'undo', at: last.at, of: target.id }), 'undo.jsonl', plant));
        expect(text(ledger.balances())).toEqual(text(expected));
      }),
    );
  });
});
