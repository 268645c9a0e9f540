import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCsv, plainNumber } from '../../src/core/csv.js';
import { parsePlan } from '../../src/costfeed/plan.js';
import { parsePlant } from '../../src/ledger/plant.js';
import { parseSeries } from '../../src/market/series.js';
import { InputError } from '../../src/core/errors.js';

const plant = parsePlant(
  `currency: USD
backflush: purchase-completion-sale
materials: [ { id: natgas, unit: MMBtu, standardCost: "3.50" } ]
products: [ { id: ammonia, unit: t, conversionCost: "95", bom: [ { material: natgas, qty: "33" } ] } ]
`,
  'plant.yaml',
);

describe('core CSV reader (csv-parse)', () => {
  it('keeps quoted commas, "" escapes and quoted line breaks, and gives each row the line it starts on', () => {
    for (const nl of ['\n', '\r\n']) {
      const text = ['name,qty', '"Ammonia, anhydrous",1', '"say ""hi""",2', '', '"two', 'lines",3', '# not a comment here,4', 'last,5'].join(nl) + nl;
      const table = parseCsv(text, 'x.csv');
      expect(table.header).toEqual(['name', 'qty']);
      expect(table.rows.map((r) => r[0])).toEqual(['Ammonia, anhydrous', 'say "hi"', `two${nl}lines`, '# not a comment here', 'last']);
      expect(table.lines).toEqual([2, 3, 5, 7, 8]);
    }
  });

  it('semicolons, skipped title lines and comment lines', () => {
    const table = parseCsv('Report title\n\nA;B\n# comment\n1,5;2\n', 'x.csv', { delimiter: ';', skipLines: 2, comment: '#' });
    expect(table.header).toEqual(['A', 'B']);
    expect(table.rows).toEqual([['1,5', '2']]);
    expect(table.lines).toEqual([5]);
  });

  it('an unclosed quote is refused with the file and a line', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', 'bad.csv')).toThrow(InputError);
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', 'bad.csv')).toThrow(/^bad\.csv:\d+: malformed CSV/);
  });
});

describe('readers that use it', () => {
  it('the plan reader takes a quoted field with a comma', () => {
    const plan = parsePlan('# plan\ndate,product,qty,note\n2024-01-01,ammonia,100,"Ammonia, anhydrous"\n2024-01-02,"ammonia",101,\n', 'plan.csv', plant);
    expect(plan.rows.map((r) => r.qty.toFixed())).toEqual(['100', '101']);
  });

  it('the plan reader names the line of a bad row after a quoted line break, and suggests a product', () => {
    expect(() => parsePlan('date,product,qty,note\n2024-01-01,ammonia,100,"two\nlines"\n2024-01-02,amonia,5,\n', 'plan.csv', plant)).toThrow(
      'plan.csv:4: field "product": unknown product "amonia"; did you mean "ammonia"?',
    );
  });

  it('the price reader gives the same series for a quoted file as for the plain one', () => {
    const plain = parseSeries('Date,Price\n2024-01-01,2.5\n2024-01-02,2.75\n', 'p.csv');
    const quoted = parseSeries('"Date","Price"\r\n"2024-01-01","2.5"\r\n"2024-01-02",2.75\r\n', 'p.csv');
    expect([...quoted.close]).toEqual([...plain.close]);
    expect([...quoted.at]).toEqual([...plain.at]);
    expect(() => parseSeries('"Date","Price"\n2024-01-01,2.5\n\n"2024-01-02",x\n', 'q.csv')).toThrow('q.csv:4: field "Price": expected a number, got "x"');
  });
});

describe('plainNumber', () => {
  const PLAIN = /^-?(\d+\.?\d*|\.\d+)$/;
  const digitCount = (text: string): number => text.replace(/[^0-9]/g, '').length;

  it('is Number(text) for a plain decimal of at most 15 digits, and NaN for any other text', () => {
    const cell = fc.stringMatching(/^-?[0-9]{0,12}\.?[0-9]{0,8}$/);
    const other = fc.string({ unit: fc.constantFrom('0', '1', '5', '9', '.', '-', '+', 'e', 'E', ' ', ','), maxLength: 20 });
    fc.assert(
      fc.property(fc.oneof(cell, other), (text) => {
        const value = plainNumber(text);
        if (PLAIN.test(text) && digitCount(text) <= 15) expect(Object.is(value, Number(text))).toBe(true);
        else expect(value).toBeNaN();
      }),
      { numRuns: 50_000 },
    );
  });

  it('gives the double Number gives for doubles printed by toFixed, and for the edge cases', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 12 }), (x, places) => {
        const text = x.toFixed(places);
        if (digitCount(text) <= 15) expect(Object.is(plainNumber(text), Number(text))).toBe(true);
      }),
      { numRuns: 50_000 },
    );
    for (const text of ['0', '-0', '0.0', '-0.000', '3.82', '1.894', '.5', '5.', '-.25', '007.50', '123456789012345', '0.12345678901234', '999999999999999']) {
      expect(Object.is(plainNumber(text), Number(text))).toBe(true);
    }
    for (const text of ['', '-', '.', '-.', '1e5', '+1', ' 1', '1 ', '1.2.3', '1234567890123456', '0.123456789012345', '1,5']) expect(plainNumber(text)).toBeNaN();
  });
});
