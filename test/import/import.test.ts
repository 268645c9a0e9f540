import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procura, ROOT } from '../support/cli.js';
import { importCsv, importCsvFile, loadImportMap, numberParser, dateParser } from '../../src/ledger/csv-import.js';
import { loadPlant, type LedgerEvent } from '../../src/ledger/index.js';
import { Ledger } from '../../src/ledger/index.js';

const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EXAMPLES = join(ROOT, 'examples', 'import');
const plant = loadPlant(PLANT);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const brief = (e: LedgerEvent): string => {
  const o = e as unknown as Record<string, { toFixed?: () => string } | string | number>;
  const fields = ['material', 'product', 'qty', 'unitPrice'].filter((k) => o[k] !== undefined).map((k) => `${k}=${typeof o[k] === 'object' ? (o[k] as { toFixed: () => string }).toFixed() : String(o[k])}`);
  return `${new Date(e.at).toISOString().slice(0, 10)} ${e.type} ${e.id} ${fields.join(' ')}`;
};

describe('ERP import by mapping file', () => {
  it('SAP MB51: ";" fields, DD.MM.YYYY, decimal commas, trailing minus, units, movement types, time order', () => {
    const result = importCsvFile(join(EXAMPLES, 'sap-mb51.csv'), loadImportMap(join(EXAMPLES, 'sap-mb51.yaml')), plant);
    expect(result.rows).toBe(9);
    expect(result.skipped.map((s) => s.line)).toEqual([3, 4, 7]);
    expect(result.events.map(brief)).toEqual([
      '2024-01-02 purchase mb51:5000012345:1 material=natgas qty=189563.4 unitPrice=2.7498979233',
      '2024-01-02 purchase mb51:5000012347:1 material=power qty=2200 unitPrice=61.4',
      '2024-01-07 completion mb51:4900000101:1 product=ammonia qty=3500',
      '2024-01-10 sale mb51:4900000102:1 product=ammonia qty=3000',
      '2024-01-15 purchase mb51:5000012346:1 material=natgas qty=142172.55 unitPrice=2.7062186055',
      '2024-01-20 sale mb51:4900000104:1 product=ammonia qty=250',
    ]);
    expect(result.events[0]!.source).toEqual({ file: join(EXAMPLES, 'sap-mb51.csv'), line: 2 });
  });

  it('ERPNext Stock Ledger: quoted fields with commas, MM/DD/YYYY, In/Out Qty, counts from the balance', () => {
    const result = importCsvFile(join(EXAMPLES, 'erpnext-stock-ledger.csv'), loadImportMap(join(EXAMPLES, 'erpnext-stock-ledger.yaml')), plant);
    expect(result.events.map(brief)).toEqual([
      '2024-01-02 purchase erpnext:MAT-PRE-2024-00001:NG-1000 material=natgas qty=480000 unitPrice=2.78',
      '2024-01-02 purchase erpnext:MAT-PRE-2024-00002:PWR-01 material=power qty=2200 unitPrice=61.4',
      '2024-01-07 completion erpnext:MAT-STE-2024-00001:NH3 product=ammonia qty=3500',
      '2024-01-10 sale erpnext:MAT-DN-2024-00001:NH3 product=ammonia qty=3000',
      '2024-01-31 count erpnext:MAT-RECO-2024-00001:NG-1000 material=natgas qty=362145',
    ]);
  });

  it('without an id template, ids are a digest of the row (identical rows kept apart), stable across runs', () => {
    const mapFile = join(dir, 'plain.yaml');
    writeFileSync(mapFile, 'name: plain\ncolumns: { date: date, item: item, qty: qty, price: price }\nitems: { G: { material: natgas } }\nrules:\n  - { event: purchase, unitPrice: price }\n');
    const csv = 'date,item,qty,price\n2024-01-02,G,10,2.5\n2024-01-02,G,10,2.5\n2024-01-03,G,5,2.5\n';
    const a = importCsv(csv, 'x.csv', loadImportMap(mapFile), plant).events.map((e) => e.id);
    const b = importCsv(csv, 'x.csv', loadImportMap(mapFile), plant).events.map((e) => e.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(3);
    expect(a[1]).toBe(`${a[0]}:2`);
  });

  it('numbers and dates as ERPs write them', () => {
    const de = numberParser(',', '.');
    expect(['1.234,5', '3.000,000-', '-7', '0,25', '12'].map((t) => de(t, {}).toFixed())).toEqual(['1234.5', '-3000', '-7', '0.25', '12']);
    expect(() => de('1.23,5', { file: 'f', line: 3, field: 'Qty' })).toThrow('f:3: field "Qty": expected a number like 1.234,5 (the mapping\'s csv.decimal ",", csv.thousands "."), got "1.23,5"');
    expect(() => de('1.5', { field: 'Qty' })).toThrow(/like 1.234,5/);
    const us = numberParser('.', ',');
    expect(us('1,234,567.891', {}).toFixed()).toBe('1234567.891');
    expect(() => numberParser('.', '')('1,5', {})).toThrow('expected a number like 1234.5');
    expect(dateParser('DD.MM.YYYY')('07.01.2024', {})).toBe(Date.UTC(2024, 0, 7));
    expect(dateParser('MM/DD/YYYY')('01/07/2024', {})).toBe(Date.UTC(2024, 0, 7));
    expect(dateParser('MM/DD/YYYY HH:mm')('1/7/2024 13:05', {})).toBe(Date.UTC(2024, 0, 7, 13, 5));
    expect(() => dateParser('MM/DD/YYYY')('13/07/2024', { field: 'Date' })).toThrow('field "Date": not a calendar date: "13/07/2024" read as MM/DD/YYYY');
    expect(() => dateParser('DD.MM.YYYY')('2024-01-07', {})).toThrow('expected a date like DD.MM.YYYY, got "2024-01-07"');
  });

  it('refuses bad rows with file, line and column, and bad mappings with their line', () => {
    const map = loadImportMap(join(EXAMPLES, 'sap-mb51.yaml'));
    const text = readFileSync(join(EXAMPLES, 'sap-mb51.csv'), 'utf8');
    const header = text.split('\n')[0]!;
    const row = (cells: string): string => `${header}\n${cells}\n`;
    const good = 'NG-1000;Natural gas;1000;0001;101;5000012345;1;02.01.2024;200.000,000;GJ;521.280,00;USD';
    expect(() => importCsv(row(good.replace(';101;', ';102;')), 'm.csv', map, plant)).toThrow('m.csv:2: field "Movement Type": no rule of');
    expect(() => importCsv(row(good.replace('NG-1000', 'NG-1OOO')), 'm.csv', map, plant)).toThrow('m.csv:2: field "Material": item "NG-1OOO" is not in');
    expect(() => importCsv(row(good.replace('NG-1000', 'NG-1001')), 'm.csv', map, plant)).toThrow(/did you mean "NG-1000"\?/);
    expect(() => importCsv(row(good.replace(';GJ;', ';KWH;')), 'm.csv', map, plant)).toThrow('m.csv:2: field "Unit of Entry": unit "KWH" is not listed for item "NG-1000" (GJ)');
    expect(() => importCsv(row(good.replace('02.01.2024', '31.02.2024')), 'm.csv', map, plant)).toThrow('m.csv:2: field "Posting Date": not a calendar date');
    expect(() => importCsv(row(good.replace('200.000,000', '200.000,000-')), 'm.csv', map, plant)).toThrow('m.csv:2: field "Qty in Unit of Entry": expected a number >= 0');
    expect(() => importCsv(row(good.replace('521.280,00', 'abc')), 'm.csv', map, plant)).toThrow('m.csv:2: field "Amount in LC": expected a number like 1.234,5');
    expect(() => importCsv(`${header.replace('Posting Date', 'Posting Dat')}\n${good}\n`, 'm.csv', map, plant)).toThrow('m.csv:1: field "Posting Date": no column "Posting Date" (mapping key date); did you mean "Posting Dat"?');
    expect(() => importCsv(`${header}\n${good}\n${good}\n`, 'm.csv', map, plant)).toThrow('m.csv:3: field "Posting Date": event id "mb51:5000012345:1" is also made by line 2');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\ncolumns: { date: Date, item: Item, qty: Qty }\nitems: { A: { material: natgas } }\nrules:\n  - { when: { movment: "101" }, event: purchase, unitPrice: qty }\n');
    expect(() => loadImportMap(bad)).toThrow(`${bad}:5: field "rules[0].when.movment": no column key "movment"`);
    writeFileSync(bad, 'name: x\ncolumns: { date: Date, item: Item, qty: Qty }\nitems: { A: { material: natgas } }\nrulez: []\n');
    expect(() => loadImportMap(bad)).toThrow(`${bad}:4: field "rulez": unknown key "rulez"; did you mean "rules"?`);
    writeFileSync(bad, 'name: x\ncolumns: { date: Date, item: Item, qty: Qty }\nitems: { A: { material: natgaz } }\nrules:\n  - { event: purchase, unitPrice: qty }\n');
    expect(() => importCsv('Date,Item,Qty\n2024-01-01,A,1\n', 'a.csv', loadImportMap(bad), plant)).toThrow(`${bad}:3: field "items.A.material": the plant has no material "natgaz"; did you mean "natgas"?`);
  });

  it('procura ledger import: posts, a second import posts nothing new, --dry-run prints events ledger post reads; errors exit 2 and write nothing', () => {
    const db = join(dir, 'erp.sqlite');
    const args = ['ledger', 'import', join(EXAMPLES, 'erpnext-stock-ledger.csv'), '--map', join(EXAMPLES, 'erpnext-stock-ledger.yaml'), '--plant', PLANT];
    const first = procura([...args, '--db', db]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('7 rows, 5 events, 2 rows skipped by rules');
    expect(first.stdout).toContain('posted 5 events (5 entries)');
    const second = procura([...args, '--db', db]);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('posted 0 events (0 entries)');
    expect(second.stdout).toContain('5 already posted');
    expect(procura(['ledger', 'verify', '--db', db]).status).toBe(0);

    const dry = procura([...args, '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stderr).toContain('dry run: nothing posted');
    const events = join(dir, 'erp.jsonl');
    writeFileSync(events, dry.stdout);
    const viaPost = procura(['ledger', 'post', '--db', join(dir, 'via-post.sqlite'), '--plant', PLANT, '--events', events, '--json']);
    expect(viaPost.status).toBe(0);
    const a = Ledger.openSqlite(db);
    const b = Ledger.openSqlite(join(dir, 'via-post.sqlite'));
    expect([...b.balances()].map(([k, v]) => `${k} ${v.toFixed(2)}`)).toEqual([...a.balances()].map(([k, v]) => `${k} ${v.toFixed(2)}`));
    a.close();
    b.close();

    const csv = join(dir, 'broken.csv');
    writeFileSync(csv, readFileSync(join(EXAMPLES, 'erpnext-stock-ledger.csv'), 'utf8').replace('"01/10/2024"', '"13/10/2024"'));
    const fresh = join(dir, 'fresh.sqlite');
    const broken = procura(['ledger', 'import', csv, '--map', join(EXAMPLES, 'erpnext-stock-ledger.yaml'), '--plant', PLANT, '--db', fresh]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toBe(`procura: ${csv}:7: field "Date": not a calendar date: "13/10/2024" read as MM/DD/YYYY\n`);
    expect(existsSync(fresh)).toBe(false);
    const neither = procura(args);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toContain('give --db FILE to post the events, or --dry-run to print them');
  });
});
