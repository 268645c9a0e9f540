/**
 * The production plan's row checks (plan.ts RowCheck): a plan from a file and one from
 * generated arrays are refused alike, each refusal naming the row's line and field.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { DAY_MS } from '../../src/core/time.js';
import { ProductionPlan, parsePlan } from '../../src/costfeed/index.js';
import { parsePlant } from '../../src/ledger/plant.js';

const plant = parsePlant(
  `currency: USD
backflush: purchase-completion-sale
materials: [ { id: natgas, unit: MMBtu, standardCost: "3.50" } ]
products:
  - { id: ammonia, unit: t, conversionCost: "95", bom: [ { material: natgas, qty: "33" } ] }
  - { id: urea, unit: t, conversionCost: "40", bom: [ { material: natgas, qty: "20" } ] }
`,
  'plant.yaml',
);
const day = Date.UTC(2024, 0, 2);
const d = (x: number): Decimal => new Decimal(x);
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('production plan rows', () => {
  it('takes several products a day, each once, and the same product again on later days', () => {
    const plan = parsePlan('date,product,qty\n2024-01-02,ammonia,1\n2024-01-02,urea,2\n2024-01-03,urea,3\n2024-01-03,ammonia,4\n', 'plan.csv', plant);
    expect(plan.products).toEqual(['ammonia', 'urea']);
    expect(plan.qtyOn('ammonia', day + DAY_MS).toFixed()).toBe('4');
    expect(plan.qtyOn('urea', day).toFixed()).toBe('2');
    expect(Object.isFrozen(plan.rows) && plan.rows.every((row) => Object.isFrozen(row))).toBe(true);
  });

  it('refuses a product planned twice on a day, after other products and other days, on its own line', () => {
    expect(messageOf(() => parsePlan('date,product,qty\n2024-01-02,ammonia,1\n2024-01-03,ammonia,2\n2024-01-03,urea,1\n2024-01-03,ammonia,3\n', 'plan.csv', plant))).toMatch(
      /plan\.csv:5: field "product": ammonia is planned twice on 2024-01-03/,
    );
    const arrays = { at: [day, day + DAY_MS, day + DAY_MS], product: ['ammonia', 'ammonia', 'ammonia'], qty: [d(1), d(2), d(3)], file: 'generated' };
    expect(messageOf(() => ProductionPlan.fromArrays(arrays, plant))).toMatch(/generated:3: field "product": ammonia is planned twice on 2024-01-03/);
    expect(messageOf(() => ProductionPlan.fromArrays({ ...arrays, at: [day, day + DAY_MS, day] }, plant))).toMatch(/generated:3: field "date": plan dates must not decrease/);
    expect(messageOf(() => ProductionPlan.fromArrays({ ...arrays, product: 'ammonia', at: [day, day + DAY_MS, day + 2 * DAY_MS + 1] }, plant))).toMatch(/generated:3: field "date": expected a date \(a UTC midnight\)/);
    expect(messageOf(() => ProductionPlan.fromArrays({ ...arrays, product: 'ammonia', at: [day, day + DAY_MS, day + 2 * DAY_MS], qty: [d(1), d(-2), d(3)] }, plant))).toMatch(/generated:2: field "qty": must not be negative/);
    expect(messageOf(() => ProductionPlan.fromRows([{ day, product: 'butane', qty: d(1) }], plant, 'rows'))).toMatch(/rows:1: field "product": unknown product "butane"/);
  });
});
