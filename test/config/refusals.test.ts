// Issue 9 items 11 and 12: inputs the docs say are refused, refused with file, line and field;
// usage and configuration errors in procura's own form, exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procura } from '../support/cli.js';
import { parseEvents, parsePlant } from '../../src/ledger/index.js';
import { parseSeries } from '../../src/market/series.js';
import { ProcuraError } from '../../src/core/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-refusals-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLANT = `currency: USD
backflush: purchase-completion-sale
materials:
  - { id: dm, unit: kg, standardCost: "10" }
products:
  - { id: widget, unit: unit, conversionCost: "5", bom: [ { material: dm, qty: "1" } ] }
`;
const plant = parsePlant(PLANT, 'plant.yaml');

function refusal(fn: () => unknown): ProcuraError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcuraError);
    return error as ProcuraError;
  }
  throw new Error('expected a refusal');
}

/** A "billion laughs" document: each level doubles the expansions of the one before. */
function aliasBomb(prefix = ''): string {
  const lines = [`${prefix}a0: &a0 [lol, lol]`];
  for (let i = 1; i <= 20; i += 1) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}]`);
  return `${lines.join('\n')}\n`;
}

describe('event files refuse what JSON would silently change', () => {
  it('refuses JSON numbers for amounts and quantities', () => {
    const cases: [string, string][] = [
      ['{"type":"purchase","at":"2024-01-02","material":"dm","qty":3450,"unitPrice":"10"}', 'qty'],
      ['{"type":"purchase","at":"2024-01-02","material":"dm","qty":"3450","unitPrice":0.1}', 'unitPrice'],
      ['{"type":"purchase","at":"2024-01-02","material":"dm","qty":"1","unitPrice":"1","fee":2}', 'fee'],
      ['{"type":"conversion","at":"2024-01-02","amount":560}', 'amount'],
      ['{"type":"hedge-mark","at":"2024-01-02","instrument":"NG","price":2.5}', 'price'],
    ];
    for (const [line, field] of cases) {
      const error = refusal(() => parseEvents(`{"type":"close","at":"2024-01-01"}\n${line}\n`, 'events.jsonl', plant));
      expect(error.where).toEqual({ file: 'events.jsonl', line: 2, field });
      expect(error.message).toMatch(new RegExp(`^events\\.jsonl:2: field "${field}": expected a decimal string like ".*", got the JSON number`));
    }
  });

  it('refuses a key repeated inside one line (the last value would silently win)', () => {
    const error = refusal(() => parseEvents('{"type":"purchase","at":"2024-01-02","material":"dm","qty":"10","unitPrice":"1","qty":"1000"}\n', 'events.jsonl', plant));
    expect(error.message).toBe('events.jsonl:1: field "qty": key given twice in one event (JSON keeps only the last value; give it once)');
    const escaped = refusal(() => parseEvents('{"type":"close","at":"2024-01-02","id":"x","i\\u0064":"y"}\n', 'events.jsonl', plant));
    expect(escaped.where.field).toBe('id');
    // The same text inside a string value is not a key.
    expect(parseEvents('{"type":"close","at":"2024-01-02","reason":"qty, \\"qty\\": twice"}\n', 'events.jsonl', plant)).toHaveLength(1);
  });
});

describe('price files', () => {
  it('refuses a file with no price column instead of reading volume as a price', () => {
    const error = refusal(() => parseSeries('Date,Volume\n2024-01-02,1200\n2024-01-03,900\n', 'volume.csv'));
    expect(error.message).toBe('volume.csv:1: field "Volume": no price column: "Volume" is not a price (expected open/high/low/close, price, close, value, or a column option naming the price column)');
    // A two-column file whose second column is a price under another name still loads.
    expect(parseSeries('Date,DHHNGSP\n2024-01-02,2.5\n', 'fred.csv').close[0]).toBe(2.5);
  });
});

describe('YAML alias bombs are refused with exit 2 naming the file', () => {
  it('in a plant', () => {
    const error = refusal(() => parsePlant(aliasBomb(), 'bomb.yaml'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toMatch(/^bomb\.yaml: refused: YAML aliases expand too far/);
    const events = join(dir, 'none.jsonl');
    writeFileSync(events, '');
    const file = join(dir, 'plant-bomb.yaml');
    writeFileSync(file, aliasBomb());
    const r = procura(['ledger', 'replay', '--plant', file, '--events', events]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^procura: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: refused: YAML aliases expand too far`));
    expect(r.stderr).not.toMatch(/internal error|at .*\.js/);
  });

  it('in a scenario and a live config', () => {
    for (const [name, args] of [
      ['scenario-bomb.yaml', (f: string) => ['backtest', f]],
      ['live-bomb.yaml', (f: string) => ['live', '--config', f, '--once']],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, aliasBomb());
      const r = procura(args(file));
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^procura: .*${name.replace('.', '\\.')}: refused: YAML aliases expand too far`));
    }
  });
});

describe('a plant that conflicts with the store', () => {
  it('exits 2 naming the plant line', () => {
    const db = join(dir, 'conflict.db');
    const good = join(dir, 'plant.yaml');
    const events = join(dir, 'events.jsonl');
    writeFileSync(good, PLANT);
    writeFileSync(events, '{"type":"purchase","id":"p1","at":"2024-01-02","material":"dm","qty":"10","unitPrice":"10"}\n');
    expect(procura(['ledger', 'post', '--db', db, '--plant', good, '--events', events]).status).toBe(0);
    const euro = join(dir, 'euro.yaml');
    writeFileSync(euro, PLANT.replace('USD', 'EUR'));
    const r = procura(['ledger', 'post', '--db', db, '--plant', euro, '--events', events]);
    expect([r.status, r.stderr]).toEqual([2, `procura: ${euro}:1: field "currency": the store was created with currency USD; the plant says EUR\n`]);
    const sale = join(dir, 'sale.yaml');
    writeFileSync(sale, PLANT.replace('purchase-completion-sale', 'sale'));
    const s = procura(['ledger', 'post', '--db', db, '--plant', sale, '--events', events]);
    expect([s.status, s.stderr]).toEqual([2, `procura: ${sale}:2: field "backflush": the store was created with trigger purchase-completion-sale; the plant says sale\n`]);
  });
});

describe('command-line usage errors', () => {
  it('print procura: <message> and exit 2', () => {
    for (const args of [['ledger', 'replay', '--plant', 'x.yaml'], ['ledger', 'bogus'], ['--nope'], ['signals', '--data', 'x.csv', '--fast']]) {
      const r = procura(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^procura: (required option|unknown command|unknown option|option .* argument missing)/);
      expect(r.stderr).not.toMatch(/^error:/m);
    }
  });
});
