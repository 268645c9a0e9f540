import { describe, expect, it } from 'vitest';
import { Ledger, parsePlant, type ProcuraErrorLike } from './support.js';
import { textbookPlant, events, balanceTable, WORKED } from './helpers.js';

const lines = (ledger: Ledger, id: string) => ledger.entries({ eventId: id }).flatMap((e) => e.lines.map((l) => [l.account, l.debit.toFixed(2), l.credit.toFixed(2)]));

describe('price variance at purchase (materials carried at standard)', () => {
  it('debits an unfavourable and credits a favourable variance, fees included in the cost', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '100', unitPrice: '10.40' },
      { type: 'purchase', id: 'p2', at: '2024-01-03', material: 'dm', qty: '50', unitPrice: '9.80', fee: '5', paidFrom: 'exchange_cash', ref: 'co-1', reason: 'forced-reorder' },
    ]));
    expect(lines(ledger, 'p1')).toEqual([
      ['materials_in_process', '1000.00', '0.00'],
      ['material_price_variance', '40.00', '0.00'],
      ['accounts_payable', '0.00', '1040.00'],
    ]);
    expect(lines(ledger, 'p2')).toEqual([
      ['materials_in_process', '500.00', '0.00'],
      ['material_price_variance', '0.00', '5.00'],
      ['exchange_cash', '0.00', '495.00'],
    ]);
    const p2 = ledger.entries({ eventId: 'p2' })[0]!;
    expect([p2.ref, p2.reason]).toEqual(['co-1', 'forced-reorder']);
    expect(ledger.purchases().map((p) => [p.eventId, p.qty.toFixed(), p.amount.toFixed(2)])).toEqual([['p1', '100', '1040.00'], ['p2', '50', '495.00']]);
  });

  it('posts no materials entry in completion-sale; a purchase paid from exchange cash settles payables', () => {
    const plant = textbookPlant('completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '100', unitPrice: '10.40' },
      { type: 'purchase', id: 'p2', at: '2024-01-03', material: 'dm', qty: '50', unitPrice: '9.80', paidFrom: 'exchange_cash' },
    ]));
    expect(lines(ledger, 'p1')).toEqual([]);
    expect(lines(ledger, 'p2')).toEqual([['accounts_payable', '490.00', '0.00'], ['exchange_cash', '0.00', '490.00']]);
    expect(ledger.quantities().materials.get('dm')!.toFixed()).toBe('150');
  });
});

describe('physical counts (usage variance at standard)', () => {
  const setup = (trigger: string, counted: string) => {
    const plant = textbookPlant(trigger);
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '150', unitPrice: '10' },
      { type: 'completion', id: 'k1', at: '2024-01-20', product: 'widget', qty: '100' },
      { type: 'count', id: 'n1', at: '2024-01-31', material: 'dm', qty: counted },
    ]));
    return ledger;
  };
  it('a shortage debits material_usage_variance and brings RIP to the count at standard', () => {
    const ledger = setup('purchase-completion-sale', '46');
    expect(lines(ledger, 'n1')).toEqual([['materials_in_process', '0.00', '40.00'], ['material_usage_variance', '40.00', '0.00']]);
    expect(ledger.balances().get('materials_in_process')!.toFixed(2)).toBe('460.00');
    expect(ledger.quantities().materials.get('dm')!.toFixed()).toBe('46');
  });
  it('a surplus credits the variance', () => {
    const ledger = setup('purchase-completion-sale', '52');
    expect(lines(ledger, 'n1')).toEqual([['materials_in_process', '20.00', '0.00'], ['material_usage_variance', '0.00', '20.00']]);
  });
  it('without materials on the books (completion-sale) the excess usage is owed: Dr variance / Cr AP', () => {
    const ledger = setup('completion-sale', '46');
    expect(lines(ledger, 'n1')).toEqual([['accounts_payable', '0.00', '40.00'], ['material_usage_variance', '40.00', '0.00']]);
  });
  it('a count of finished goods adjusts them at average carrying value', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [...WORKED.slice(0, 4), { type: 'count', id: 'n2', at: '2024-01-30', product: 'widget', qty: '8' }]));
    expect(lines(ledger, 'n2')).toEqual([['finished_goods', '0.00', '30.00'], ['finished_goods_count_variance', '30.00', '0.00']]);
    expect(ledger.balances().get('finished_goods')!.toFixed(2)).toBe('120.00');
  });
});

describe('period close', () => {
  it('prorates under-allocated conversion over finished goods and COGS by this period\'s conversion content', () => {
    const plant = textbookPlant('purchase-completion-sale', 'close: prorate\n');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED));
    // 60 under-allocated: 10 unsold units hold 50 of conversion, 90 sold hold 450.
    expect(lines(ledger, 'x1')).toEqual([
      ['conversion_costs_allocated', '500.00', '0.00'],
      ['conversion_costs_control', '0.00', '560.00'],
      ['finished_goods', '6.00', '0.00'],
      ['cost_of_goods_sold', '54.00', '0.00'],
    ]);
    expect(balanceTable(ledger)).toMatchObject({ finished_goods: '156.00', cost_of_goods_sold: '1404.00' });
    expect(ledger.verify().ok).toBe(true);
  });
  it('prorated parts sum exactly to the difference (allocate)', () => {
    const plant = textbookPlant('purchase-completion-sale', 'close: prorate\n');
    const ledger = Ledger.inMemory(plant);
    const stream = WORKED.map((e) => (e.type === 'conversion' ? { ...e, amount: '560.03' } : e));
    ledger.post(events(plant, stream));
    expect(lines(ledger, 'x1').slice(2)).toEqual([['finished_goods', '6.00', '0.00'], ['cost_of_goods_sold', '54.03', '0.00']]);
    const b = ledger.balances();
    expect(b.get('conversion_costs_control')!.isZero() && b.get('conversion_costs_allocated')!.isZero()).toBe(true);
  });
  it('over-allocation is credited to COGS', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED.map((e) => (e.type === 'conversion' ? { ...e, amount: '480' } : e))));
    expect(lines(ledger, 'x1')[2]).toEqual(['cost_of_goods_sold', '0.00', '20.00']);
  });
  it('a close is known only when the conversion figures it closes are known', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED.map((e) => (e.type === 'conversion' ? { ...e, knownAt: '2024-02-05' } : e))));
    expect(new Date(ledger.entries({ eventId: 'x1' })[0]!.knownAt).toISOString().slice(0, 10)).toBe('2024-02-05');
  });
});

describe('scrap and versions', () => {
  it('backflushes qty x (1 + scrap)', () => {
    const plant = parsePlant(`currency: USD
backflush: purchase-completion-sale
materials: [ { id: dm, unit: kg, standardCost: "10" } ]
products:
  - { id: widget, unit: unit, conversionCost: "5", bom: [ { material: dm, qty: "1", scrap: "0.05" } ] }
`, 'scrap.yaml');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '120', unitPrice: '10' },
      { type: 'completion', id: 'k1', at: '2024-01-20', product: 'widget', qty: '100' },
    ]));
    expect(lines(ledger, 'k1')).toEqual([['finished_goods', '1550.00', '0.00'], ['materials_in_process', '0.00', '1050.00'], ['conversion_costs_allocated', '0.00', '500.00']]);
    expect(ledger.quantities().materials.get('dm')!.toFixed()).toBe('15');
  });

  it('a standard-cost revision revalues materials on hand at its effective date and later flushes use the new version', () => {
    const plant = parsePlant(`currency: USD
backflush: purchase-completion-sale
materials:
  - id: dm
    unit: kg
    standardCost: [ { from: "2024-01-01", cost: "10" }, { from: "2024-02-01", cost: "12" } ]
products:
  - id: widget
    unit: unit
    conversionCost: "5"
    bom:
      - { from: "2024-01-01", lines: [ { material: dm, qty: "1" } ] }
`, 'revision.yaml');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '120', unitPrice: '10' },
      { type: 'completion', id: 'k1', at: '2024-01-20', product: 'widget', qty: '100' },
      { type: 'completion', id: 'k2', at: '2024-02-05', product: 'widget', qty: '10' },
    ]));
    const reval = ledger.entries().find((e) => e.eventType === 'revaluation')!;
    expect([reval.at, reval.knownAt]).toEqual([Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 1)]);
    expect(reval.lines.map((l) => [l.account, l.debit.toFixed(2), l.credit.toFixed(2)])).toEqual([['materials_in_process', '40.00', '0.00'], ['standard_cost_revaluation', '0.00', '40.00']]);
    expect(lines(ledger, 'k2')[0]).toEqual(['finished_goods', '170.00', '0.00']);
    expect(ledger.entries({ eventId: 'k2' })[0]!.versions).toEqual({ bom: 'widget@2024-01-01', standardCost: 'dm@2024-02-01', conversionCost: 'widget@base' });
    expect(ledger.entries({ eventId: 'k1' })[0]!.versions.standardCost).toBe('dm@2024-01-01');
    expect(ledger.balances().get('materials_in_process')!.toFixed(2)).toBe('120.00'); // 10 on hand x 12
  });
});

describe('hedge accounting', () => {
  it('buys at cost, marks to market, sells at average carrying price with realised P&L', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'hedge', id: 'h1', at: '2024-01-02', instrument: 'NG', qty: '100', price: '3.00', fee: '1' },
      { type: 'hedge-mark', id: 'm1', at: '2024-01-05', instrument: 'NG', price: '3.20' },
      { type: 'hedge', id: 'h2', at: '2024-01-06', instrument: 'NG', qty: '-40', price: '3.50', fee: '1' },
      { type: 'hedge', id: 'h3', at: '2024-01-07', instrument: 'NG', qty: '-60', price: '2.90' },
    ]));
    expect(lines(ledger, 'h1')).toEqual([['hedge_positions', '300.00', '0.00'], ['trading_fees', '1.00', '0.00'], ['exchange_cash', '0.00', '301.00']]);
    expect(lines(ledger, 'm1')).toEqual([['hedge_positions', '20.00', '0.00'], ['hedge_gains_losses', '0.00', '20.00']]);
    expect(lines(ledger, 'h2')).toEqual([['hedge_positions', '0.00', '128.00'], ['trading_fees', '1.00', '0.00'], ['exchange_cash', '139.00', '0.00'], ['hedge_gains_losses', '0.00', '12.00']]);
    expect(lines(ledger, 'h3')).toEqual([['hedge_positions', '0.00', '192.00'], ['exchange_cash', '174.00', '0.00'], ['hedge_gains_losses', '18.00', '0.00']]);
    const h = ledger.quantities().hedges.get('NG')!;
    expect([h.qty.toFixed(), h.carryingValue.toFixed()]).toEqual(['0', '0']);
    expect(ledger.balances().get('hedge_gains_losses')!.toFixed(2)).toBe('-14.00'); // 20 + 12 - 18 gain
  });
  it('a trade through zero closes the short and opens a long', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [
      { type: 'hedge', id: 'h1', at: '2024-01-02', instrument: 'NG', qty: '-10', price: '3' },
      { type: 'hedge', id: 'h2', at: '2024-01-03', instrument: 'NG', qty: '15', price: '2.5' },
    ]));
    expect(lines(ledger, 'h2')).toEqual([['hedge_positions', '42.50', '0.00'], ['exchange_cash', '0.00', '37.50'], ['hedge_gains_losses', '0.00', '5.00']]);
    const h = ledger.quantities().hedges.get('NG')!;
    expect([h.qty.toFixed(), h.carryingValue.toFixed(2)]).toEqual(['5', '12.50']);
  });
});

describe('negative stock', () => {
  const stream = [{ type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '60', unitPrice: '10' }, { type: 'completion', id: 'k1', at: '2024-01-20', product: 'widget', qty: '100' }];
  it('is refused by default, naming the event and the shortfall; nothing is posted', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    const error = catchError(() => ledger.post(events(plant, stream, 'short.jsonl')));
    expect(error.code).toBe('E_NEGATIVE_STOCK');
    expect(error.message).toMatch(/^short\.jsonl:2: field "qty": completion k1 .*material dm short 40 \(book 60, needed 100\)/);
    expect(ledger.entries()).toHaveLength(0);
  });
  it('is flagged under negativeStock: allow, in the entry and in verify', () => {
    const plant = textbookPlant('purchase-completion-sale', 'negativeStock: allow\n');
    const ledger = Ledger.inMemory(plant);
    const result = ledger.post(events(plant, stream));
    expect(result.flagged.map((e) => e.eventId)).toEqual(['k1']);
    expect(result.flagged[0]!.flags).toEqual(['negative-stock: material dm short 40 (book 60, needed 100)']);
    const verify = ledger.verify();
    expect(verify.ok).toBe(true);
    expect(verify.flagged).toEqual([{ seq: 2, eventId: 'k1', flags: result.flagged[0]!.flags }]);
  });
});

describe('ids, reversal, backdating and knownAt views', () => {
  it('skips ids already posted and refuses an id reused for other content', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED));
    const before = balanceTable(ledger);
    const again = ledger.post(events(plant, WORKED));
    expect([again.posted, again.skipped]).toEqual([0, ['p1', 'c1', 'k1', 's1', 'x1']]);
    expect(balanceTable(ledger)).toEqual(before);
    const error = catchError(() => ledger.post(events(plant, [{ ...WORKED[0], qty: '121' }], 'dup.jsonl')));
    expect(error.message).toBe('dup.jsonl:1: field "id": event id "p1" was already posted with different content');
  });
  it('a reversal posts the exact opposite, quantities too', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED.slice(0, 4)));
    const before = balanceTable(ledger);
    ledger.post(events(plant, [
      { type: 'sale', id: 's2', at: '2024-01-26', product: 'widget', qty: '5', unitPrice: '20' },
      { type: 'reverse', id: 'r1', at: '2024-01-27', of: 's2' },
    ]));
    expect(balanceTable(ledger)).toEqual(before);
    expect(ledger.quantities().products.get('widget')!.toFixed()).toBe('10');
    expect(ledger.entries({ eventId: 'r1' })[0]!.reverses).toBe(ledger.entries({ eventId: 's2' })[0]!.seq);
    expect(catchError(() => ledger.post(events(plant, [{ type: 'reverse', id: 'r2', at: '2024-01-28', of: 's2' }], 'again.jsonl'))).message).toBe('again.jsonl:1: field "of": event "s2" is already reversed');
  });
  it('refuses a file that starts before the last event posted', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED));
    const error = catchError(() => ledger.post(events(plant, [{ type: 'conversion', id: 'late', at: '2024-01-15', amount: '1' }], 'late.jsonl')));
    expect(error.message).toMatch(/^late\.jsonl:1: field "at": event at 2024-01-15 is before the last event already posted \(2024-01-31\)/);
    expect(ledger.entries()).toHaveLength(5);
  });
  it('answers as of knownAt, and a cursor walks knownAt forward incrementally', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED.map((e) => (e.type === 'conversion' ? { ...e, knownAt: '2024-02-05' } : e))));
    expect(ledger.balances({ knownAt: Date.UTC(2024, 1, 1) }).get('conversion_costs_control')).toBeUndefined();
    expect(ledger.balances({ knownAt: Date.UTC(2024, 1, 5) }).get('conversion_costs_control')!.toFixed()).toBe('0');
    const cursor = ledger.cursor();
    const seen = [Date.UTC(2024, 0, 21), Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 6)].map((t) => cursor.advanceTo(t).map((e) => e.eventId));
    expect(seen).toEqual([['p1', 'k1'], ['s1'], ['c1', 'x1']]);
    expect(Object.fromEntries([...cursor.balances()].map(([k, v]) => [k, v.toFixed(2)]))).toEqual(Object.fromEntries([...ledger.balances()].map(([k, v]) => [k, v.toFixed(2)])));
    expect(cursor.quantities().products.get('widget')!.toFixed()).toBe('10');
    expect(() => cursor.advanceTo(Date.UTC(2024, 0, 1))).toThrow(/cannot go back/);
    const actuals = ledger.conversionActuals({ knownAt: Date.UTC(2024, 1, 6) });
    expect([actuals.amount.toFixed(), actuals.perUnit!.toFixed(), actuals.unitsCompleted.get('widget')!.toFixed()]).toEqual(['560', '5.6', '100']);
    expect(ledger.conversionActuals({ knownAt: Date.UTC(2024, 1, 1) }).amount.toFixed()).toBe('0');
  });
});

function catchError(fn: () => unknown): ProcuraErrorLike {
  try {
    fn();
  } catch (error) {
    return error as ProcuraErrorLike;
  }
  throw new Error('expected an error');
}
