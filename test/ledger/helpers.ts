import { parsePlant, parseEvents, Ledger, type Plant, type LedgerEvent } from '../../src/ledger/index.js';

/** The textbook plant: one material at 10 per unit of product, conversion 5 per unit. */
export function textbookPlant(trigger: string, extra = ''): Plant {
  return parsePlant(
    `currency: USD
backflush: ${trigger}
${extra}materials:
  - { id: dm, unit: unit, standardCost: "10" }
products:
  - id: widget
    unit: unit
    conversionCost: "5"
    bom: [ { material: dm, qty: "1" } ]
`,
    'textbook.yaml',
  );
}

export function events(plant: Plant, lines: readonly object[], file = 'events.jsonl'): LedgerEvent[] {
  return parseEvents(lines.map((l) => JSON.stringify(l)).join('\n'), file, plant);
}

/** Balances as plain strings with 2 places, zero balances left out. */
export function balanceTable(ledger: Ledger, opts = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [account, value] of ledger.balances(opts)) if (!value.isZero()) out[account] = value.toFixed(2);
  return out;
}

/** The worked example: 1,200 at standard, 560 conversion, 100 completed, 90 sold, close. */
export const WORKED = [
  { type: 'purchase', id: 'p1', at: '2024-01-02', material: 'dm', qty: '120', unitPrice: '10' },
  { type: 'conversion', id: 'c1', at: '2024-01-10', amount: '560' },
  { type: 'completion', id: 'k1', at: '2024-01-20', product: 'widget', qty: '100' },
  { type: 'sale', id: 's1', at: '2024-01-25', product: 'widget', qty: '90' },
  { type: 'close', id: 'x1', at: '2024-01-31' },
];
