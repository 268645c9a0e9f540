import { describe, expect, it } from 'vitest';
import { Ledger, parsePlant, parseEvents } from '../../src/ledger/index.js';
import { ProcuraError } from '../../src/core/errors.js';
import { textbookPlant, WORKED } from './helpers.js';

function refusal(fn: () => unknown): ProcuraError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcuraError);
    return error as ProcuraError;
  }
  throw new Error('expected a refusal');
}

const GOOD_PLANT = `currency: USD
backflush: purchase-completion-sale
materials:
  - { id: dm, unit: kg, standardCost: "10" }
products:
  - id: widget
    unit: unit
    conversionCost: "5"
    bom: [ { material: dm, qty: "1" } ]
`;

describe('bad plant files: each names file, line and field', () => {
  const cases: [string, string, number, string, RegExp][] = [
    ['unknown trigger variant', GOOD_PLANT.replace('purchase-completion-sale', 'purchase-only'), 2, 'backflush', /expected one of "purchase-completion-sale"/],
    ['BOM naming an unknown material', GOOD_PLANT.replace('material: dm, qty', 'material: steel, qty'), 9, 'products[0].bom[0].material', /BOM of widget names unknown material "steel"/],
    ['duplicate material id', GOOD_PLANT.replace('  - { id: dm, unit: kg, standardCost: "10" }\n', '  - { id: dm, unit: kg, standardCost: "10" }\n  - { id: dm, unit: t, standardCost: "11" }\n'), 5, 'materials[1].id', /duplicate material id "dm"/],
    ['non-numeric standard cost', GOOD_PLANT.replace('standardCost: "10"', 'standardCost: "ten"'), 4, 'materials[0].standardCost', /expected a plain decimal/],
    ['"1e999" cost', GOOD_PLANT.replace('conversionCost: "5"', 'conversionCost: "1e999"'), 8, 'products[0].conversionCost', /expected a plain decimal/],
    ['negative BOM quantity', GOOD_PLANT.replace('qty: "1"', 'qty: "-1"'), 9, 'products[0].bom[0].qty', /greater than zero/],
    ['unknown key', GOOD_PLANT.replace('unit: unit', 'unit: unit\n    colour: red'), 8, 'products[0].colour', /unknown key "colour"/],
    ['versions out of order', GOOD_PLANT.replace('standardCost: "10"', 'standardCost: [ { from: "2024-02-01", cost: "10" }, { from: "2024-01-01", cost: "9" } ]'), 4, 'materials[0].standardCost[1].from', /version dates must increase/],
  ];
  for (const [name, text, line, field, message] of cases) {
    it(name, () => {
      const error = refusal(() => parsePlant(text, 'plant.yaml'));
      expect(error.where).toEqual({ file: 'plant.yaml', line, field });
      expect(error.detail).toMatch(message);
      expect(error.message.startsWith(`plant.yaml:${line}: field "${field}": `)).toBe(true);
    });
  }
  it('malformed YAML names the line', () => {
    const error = refusal(() => parsePlant('currency: USD\nmaterials: [ {\n', 'broken.yaml'));
    expect(error.where.file).toBe('broken.yaml');
    expect(error.where.line).toBeGreaterThanOrEqual(2);
  });
});

describe('bad event files: each names file, line and field, and nothing is posted', () => {
  const plant = textbookPlant('purchase-completion-sale');
  const good = WORKED.slice(0, 2).map((e) => JSON.stringify(e));
  const cases: [string, string, string | undefined, RegExp][] = [
    ['malformed JSON line', '{"type": "purchase", "at": "2024-01-05",', undefined, /malformed JSON/],
    ['unknown material', '{"type":"purchase","at":"2024-01-05","material":"gold","qty":"1","unitPrice":"1"}', 'material', /unknown material "gold"/],
    ['unknown product', '{"type":"sale","at":"2024-01-05","product":"gadget","qty":"1"}', 'product', /unknown product "gadget"/],
    ['non-numeric quantity', '{"type":"purchase","at":"2024-01-05","material":"dm","qty":"ten","unitPrice":"1"}', 'qty', /expected a plain decimal/],
    ['negative quantity', '{"type":"completion","at":"2024-01-05","product":"widget","qty":"-3"}', 'qty', /greater than zero/],
    ['"1e999" price', '{"type":"purchase","at":"2024-01-05","material":"dm","qty":"1","unitPrice":"1e999"}', 'unitPrice', /expected a plain decimal like "12.50", got "1e999"/],
    ['"NaN" price', '{"type":"purchase","at":"2024-01-05","material":"dm","qty":"1","unitPrice":"NaN"}', 'unitPrice', /got "NaN"/],
    ['event out of time order', '{"type":"conversion","at":"2024-01-01","amount":"1"}', 'at', /events must be in time order/],
    ['unknown field', '{"type":"close","at":"2024-01-31","colour":"red"}', 'colour', /unknown field/],
    ['knownAt before at', '{"type":"close","at":"2024-01-31","knownAt":"2024-01-30"}', 'knownAt', /knownAt must not be before at/],
    ['unknown event type', '{"type":"transfer","at":"2024-01-31"}', 'type', /unknown event type "transfer"/],
  ];
  for (const [name, line, field, message] of cases) {
    it(name, () => {
      const text = [...good, line].join('\n');
      const error = refusal(() => parseEvents(text, 'events.jsonl', plant));
      expect(error.where).toEqual({ file: 'events.jsonl', line: 3, ...(field ? { field } : {}) });
      expect(error.detail).toMatch(message);
    });
  }

  it('reversal of an unknown event posts nothing', () => {
    const ledger = Ledger.inMemory(plant);
    const text = [...good, '{"type":"reverse","id":"r1","at":"2024-01-31","of":"nope"}'].join('\n');
    const error = refusal(() => ledger.post(parseEvents(text, 'events.jsonl', plant)));
    expect(error.where).toEqual({ file: 'events.jsonl', line: 3, field: 'of' });
    expect(error.detail).toBe('reversal of unknown event "nope"');
    expect(ledger.entries()).toHaveLength(0);
    expect(ledger.balances().size).toBe(0);
    // The same ledger still accepts the good part afterwards: the failed posting left no trace.
    expect(ledger.post(parseEvents(good.join('\n'), 'events.jsonl', plant)).posted).toBe(2);
  });
});
