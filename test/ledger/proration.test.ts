import { describe, expect, it } from 'vitest';
import { Ledger, parsePlant } from './support.js';
import { events, balanceTable } from './helpers.js';

// Issue 13: a prorated close spreads finished goods' share over products by the standard
// conversion cost each product received this period and still holds, not by carrying value.
const TWO_PRODUCTS = parsePlant(
  `currency: USD
backflush: purchase-completion-sale
close: prorate
materials:
  - { id: dm, unit: unit, standardCost: "10" }
products:
  - { id: alpha, unit: unit, conversionCost: "5", bom: [ { material: dm, qty: "1" } ] }
  - { id: beta, unit: unit, conversionCost: "7", bom: [ { material: dm, qty: "1" } ] }
`,
  'two-products.yaml',
);

const JANUARY = [
  { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '100', unitPrice: '10' },
  { type: 'conversion', id: 'c1', at: '2024-01-10', amount: '75' },
  { type: 'completion', id: 'kb1', at: '2024-01-20', product: 'beta', qty: '10' },
  { type: 'close', id: 'x1', at: '2024-01-31' },
];
const FEBRUARY = [
  { type: 'conversion', id: 'c2', at: '2024-02-10', amount: '65' },
  { type: 'completion', id: 'ka1', at: '2024-02-20', product: 'alpha', qty: '10' },
];
const CLOSE_FEB = { type: 'close', id: 'x2', at: '2024-02-29' };

const lines = (ledger: Ledger, id: string) => ledger.entries({ eventId: id }).flatMap((e) => e.lines.map((l) => [l.account, l.debit.toFixed(2), l.credit.toFixed(2)]));
const values = (ledger: Ledger, id: string) => ledger.entries({ eventId: id }).flatMap((e) => e.movements.map((m) => [m.id, m.value?.toFixed(2)]));

describe('prorated close with two products (golden, worked by hand)', () => {
  it('gives February\'s difference to the product that received February\'s conversion only', () => {
    const ledger = Ledger.inMemory(TWO_PRODUCTS);
    ledger.post(events(TWO_PRODUCTS, [...JANUARY, ...FEBRUARY, CLOSE_FEB, { type: 'sale', id: 's1', at: '2024-03-05', product: 'beta', qty: '10', unitPrice: '30' }]));
    // January: beta completed (FG 170 = 10 x 10 + 10 x 7); 75 - 70 = 5 under-allocated, all to beta.
    expect(values(ledger, 'x1')).toEqual([['beta', '5.00']]);
    // February: alpha completed (FG 150); 65 - 50 = 15 under-allocated; nothing sold, so all of it
    // is finished goods' share, and only alpha received February's conversion.
    expect(lines(ledger, 'x2')).toEqual([
      ['conversion_costs_allocated', '50.00', '0.00'],
      ['conversion_costs_control', '0.00', '65.00'],
      ['finished_goods', '15.00', '0.00'],
    ]);
    expect(values(ledger, 'x2')).toEqual([['alpha', '15.00']]);
    // The sale of beta relieves exactly what beta carries: 170 + 5 (before the fix: 183.08).
    expect(lines(ledger, 's1').slice(0, 2)).toEqual([['cost_of_goods_sold', '175.00', '0.00'], ['finished_goods', '0.00', '175.00']]);
    expect(balanceTable(ledger)).toEqual({
      materials_in_process: '800.00',
      finished_goods: '165.00',
      cost_of_goods_sold: '175.00',
      accounts_payable: '-1000.00',
      accrued_conversion_costs: '-140.00',
      sales_revenue: '-300.00',
      accounts_receivable: '300.00',
    });
    expect(ledger.verify().ok).toBe(true);
  });

  it('counts a product sold out of last period\'s stock in cost of goods sold only', () => {
    const ledger = Ledger.inMemory(TWO_PRODUCTS);
    ledger.post(events(TWO_PRODUCTS, [
      ...JANUARY,
      ...FEBRUARY,
      { type: 'sale', id: 'sb1', at: '2024-02-25', product: 'beta', qty: '4', unitPrice: '30' },
      CLOSE_FEB,
      { type: 'sale', id: 's1', at: '2024-03-05', product: 'beta', qty: '6', unitPrice: '30' },
    ]));
    // sb1 relieves 4/10 of beta's 175 = 70. Weights at the close: cost of goods sold 4 x 7 = 28
    // (units sold this period); alpha 50 (received, all on hand); beta 0 - 28 < 0, so nothing.
    // 15 x 50/78 = 9.615..., 15 x 28/78 = 5.384...: allocate gives 9.62 and 5.38.
    expect(lines(ledger, 'x2').slice(2)).toEqual([['finished_goods', '9.62', '0.00'], ['cost_of_goods_sold', '5.38', '0.00']]);
    expect(values(ledger, 'x2')).toEqual([['alpha', '9.62']]);
    // beta's remaining 6 units still carry 105 (6 x 17.50): none of February's difference.
    expect(lines(ledger, 's1').slice(0, 2)).toEqual([['cost_of_goods_sold', '105.00', '0.00'], ['finished_goods', '0.00', '105.00']]);
    expect(balanceTable(ledger)).toMatchObject({ finished_goods: '159.62', cost_of_goods_sold: '180.38' });
    expect(ledger.verify().ok).toBe(true);
  });

  it('writeoff is unchanged: the whole difference goes to cost of goods sold', () => {
    const plant = parsePlant(TWO_PRODUCTS.text.replace('close: prorate', 'close: writeoff'), 'two-products.yaml');
    const ledger = Ledger.inMemory(plant);
    ledger.post(events(plant, [...JANUARY, ...FEBRUARY, CLOSE_FEB]));
    expect(lines(ledger, 'x2').slice(2)).toEqual([['cost_of_goods_sold', '15.00', '0.00']]);
  });
});

describe('reversals', () => {
  it('refuses to reverse a reversal and says what to do instead', () => {
    const ledger = Ledger.inMemory(TWO_PRODUCTS);
    ledger.post(events(TWO_PRODUCTS, [...JANUARY.slice(0, 2), { type: 'reverse', id: 'r1', at: '2024-01-11', of: 'c1' }]));
    let message = '';
    try {
      ledger.post(events(TWO_PRODUCTS, [{ type: 'reverse', id: 'r2', at: '2024-01-12', of: 'r1' }], 'again.jsonl'));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('again.jsonl:1: field "of": "r1" is itself a reversal; post the original again under a new id instead');
    expect(ledger.entries()).toHaveLength(3);
  });
});
