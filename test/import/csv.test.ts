import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/csv.js';
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
