import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.js';
import { textbookPlant, events, balanceTable, WORKED } from './helpers.js';

// Horngren ch. 20 toy example (issue 2): expected ending balances after close, per variant.
const EXPECTED: Record<string, Record<string, string>> = {
  'purchase-completion-sale': { materials_in_process: '200.00', finished_goods: '150.00', cost_of_goods_sold: '1410.00', accounts_payable: '-1200.00', accrued_conversion_costs: '-560.00' },
  'purchase-sale': { materials_in_process: '300.00', cost_of_goods_sold: '1460.00', accounts_payable: '-1200.00', accrued_conversion_costs: '-560.00' },
  'completion-sale': { finished_goods: '150.00', cost_of_goods_sold: '1410.00', accounts_payable: '-1000.00', accrued_conversion_costs: '-560.00' },
  sale: { cost_of_goods_sold: '1460.00', accounts_payable: '-900.00', accrued_conversion_costs: '-560.00' },
};

describe('worked example, each trigger variant, to the dollar', () => {
  for (const [trigger, expected] of Object.entries(EXPECTED)) {
    it(trigger, () => {
      const plant = textbookPlant(trigger);
      const ledger = Ledger.inMemory(plant);
      const result = ledger.post(events(plant, WORKED));
      expect(result.posted).toBe(5);
      expect(balanceTable(ledger)).toEqual(expected);
      const q = ledger.quantities();
      // Sale-triggered variants relieve materials only at sale: the book keeps the 10 units inside unsold goods.
      expect(q.materials.get('dm')?.toFixed()).toBe(trigger.endsWith('completion-sale') ? '20' : '30');
      expect(q.products.get('widget')?.toFixed()).toBe('10');
      expect(ledger.verify()).toMatchObject({ ok: true });
    });
  }

  it('posts the textbook entries C, D and E in purchase-completion-sale', () => {
    const plant = textbookPlant('purchase-completion-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED));
    const lines = (id: string) => ledger.entries({ eventId: id })[0]!.lines.map((l) => [l.account, l.debit.toFixed(2), l.credit.toFixed(2)]);
    expect(lines('k1')).toEqual([
      ['finished_goods', '1500.00', '0.00'],
      ['materials_in_process', '0.00', '1000.00'],
      ['conversion_costs_allocated', '0.00', '500.00'],
    ]);
    expect(lines('s1')).toEqual([
      ['cost_of_goods_sold', '1350.00', '0.00'],
      ['finished_goods', '0.00', '1350.00'],
    ]);
    expect(lines('x1')).toEqual([
      ['conversion_costs_allocated', '500.00', '0.00'],
      ['conversion_costs_control', '0.00', '560.00'],
      ['cost_of_goods_sold', '60.00', '0.00'],
    ]);
    const completion = ledger.entries({ eventId: 'k1' })[0]!;
    expect(completion.versions).toEqual({ bom: 'widget@base', standardCost: 'dm@base', conversionCost: 'widget@base' });
  });

  it('posts D and E of purchase-sale as in the textbook', () => {
    const plant = textbookPlant('purchase-sale');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, WORKED));
    const lines = (id: string) => ledger.entries({ eventId: id })[0]!.lines.map((l) => [l.account, l.debit.toFixed(2), l.credit.toFixed(2)]);
    expect(lines('s1')).toEqual([
      ['cost_of_goods_sold', '1350.00', '0.00'],
      ['materials_in_process', '0.00', '900.00'],
      ['conversion_costs_allocated', '0.00', '450.00'],
    ]);
    expect(lines('x1')).toEqual([
      ['conversion_costs_allocated', '450.00', '0.00'],
      ['conversion_costs_control', '0.00', '560.00'],
      ['cost_of_goods_sold', '110.00', '0.00'],
    ]);
  });
});
