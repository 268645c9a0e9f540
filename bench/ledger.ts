/**
 * Ledger benchmarks: replay of 1 M events in memory and durable posting into SQLite in
 * batches, each beside a same-run reference. The replay reference is a plain-number loop doing
 * the same arithmetic (standard x qty, variances, balances per account, book quantities); the
 * SQLite reference inserts rows of the same size, in the same batches, with the same pragmas,
 * but without the ledger's work (Decimal arithmetic, canonical bodies, hash chain).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Decimal } from '../src/core/decimal.js';
import { Ledger, parsePlant, type LedgerEvent } from '../src/ledger/index.js';
import { timeMs, type Bench } from './harness.js';

export const PLANT = parsePlant(
  `currency: USD
backflush: purchase-completion-sale
materials:
  - { id: natgas, unit: MMBtu, standardCost: "2.50" }
  - { id: power, unit: MWh, standardCost: "60" }
products:
  - id: ammonia
    unit: t
    conversionCost: "95"
    bom: [ { material: natgas, qty: "33", scrap: "0.01" }, { material: power, qty: "0.15" } ]
`,
  'bench-plant.yaml',
);

const START = Date.UTC(2024, 0, 1);

/** A repeating month-like cycle: purchases, conversion, completion, sale, and every 100th a count or close. */
export function makeEvents(n: number): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  const prices = ['2.41', '2.55', '2.62', '2.48'].map((p) => new Decimal(p));
  const q = (s: string): Decimal => new Decimal(s);
  for (let i = 0; i < n; i += 1) {
    const at = START + i * 60_000;
    const base = { at, knownAt: at };
    switch (i % 8) {
      case 0:
        events.push({ ...base, type: 'purchase', material: 'natgas', qty: q('3400'), unitPrice: prices[(i >> 3) % 4]!, paidFrom: 'accounts_payable' });
        break;
      case 1:
        events.push({ ...base, type: 'purchase', material: 'power', qty: q('16'), unitPrice: q('61.5'), paidFrom: 'accounts_payable' });
        break;
      case 2:
      case 5:
        events.push({ ...base, type: 'completion', product: 'ammonia', qty: q('50') });
        break;
      case 3:
        events.push({ ...base, type: 'conversion', amount: q('9612.40') });
        break;
      case 4:
      case 6:
        events.push({ ...base, type: 'sale', product: 'ammonia', qty: q('49'), unitPrice: q('540') });
        break;
      default:
        events.push(i % 800 === 7 ? { ...base, type: 'close' } : { ...base, type: 'hedge-mark', instrument: 'NG', price: q('2.5') });
    }
  }
  return events;
}

/** The same arithmetic on plain numbers: the reference the ledger's rate is compared with. */
function plainReplay(events: readonly LedgerEvent[]): number {
  const balances = new Map<string, number>();
  const qty = new Map<string, number>();
  const add = (k: string, v: number): void => void balances.set(k, (balances.get(k) ?? 0) + v);
  const std: Record<string, number> = { natgas: 2.5, power: 60 };
  let fgQty = 0;
  let fgValue = 0;
  for (const e of events) {
    switch (e.type) {
      case 'purchase': {
        const amount = Math.round(e.qty.toNumber() * e.unitPrice.toNumber() * 100) / 100;
        const standard = Math.round(e.qty.toNumber() * std[e.material]! * 100) / 100;
        add('rip', standard);
        add('mpv', amount - standard);
        add('ap', -amount);
        qty.set(e.material, (qty.get(e.material) ?? 0) + e.qty.toNumber());
        break;
      }
      case 'conversion':
        add('ccc', e.amount.toNumber());
        add('acc', -e.amount.toNumber());
        break;
      case 'completion': {
        const u = e.qty.toNumber();
        const gas = Math.round(u * 33 * 1.01 * 2.5 * 100) / 100;
        const power = Math.round(u * 0.15 * 60 * 100) / 100;
        const conv = u * 95;
        add('fg', gas + power + conv);
        add('rip', -gas - power);
        add('cca', -conv);
        qty.set('natgas', (qty.get('natgas') ?? 0) - u * 33.33);
        qty.set('power', (qty.get('power') ?? 0) - u * 0.15);
        fgQty += u;
        fgValue += gas + power + conv;
        break;
      }
      case 'sale': {
        const u = e.qty.toNumber();
        const relief = Math.round((fgValue * u) / fgQty * 100) / 100;
        add('cogs', relief);
        add('fg', -relief);
        fgQty -= u;
        fgValue -= relief;
        break;
      }
      case 'close': {
        const diff = (balances.get('ccc') ?? 0) + (balances.get('cca') ?? 0);
        add('cogs', diff);
        add('ccc', -(balances.get('ccc') ?? 0));
        add('cca', -(balances.get('cca') ?? 0));
        break;
      }
      default:
        break;
    }
  }
  return balances.size;
}

export const bench: Bench = async (report) => {
  const n = 1_000_000;
  const events = makeEvents(n);
  let entries = 0;
  const ledgerMs = await timeMs(() => {
    const ledger = Ledger.inMemory(PLANT);
    entries = ledger.post(events).posted;
  });
  const plainMs = await timeMs(() => plainReplay(events), 3);
  report({
    name: 'ledger replay, 1M events in memory',
    value: (n / ledgerMs) * 1000,
    unit: 'events/s',
    reference: { name: 'plain-number loop, same arithmetic', value: (n / plainMs) * 1000 },
    target: '>= 100000 events/s',
    note: `${entries} events posted`,
  });

  const dir = mkdtempSync(join(tmpdir(), 'procura-bench-'));
  try {
    const m = 200_000;
    const batch = 10_000;
    const slice = events.slice(0, m);
    const ledger = Ledger.openSqlite(join(dir, 'ledger.db'), PLANT);
    let written = 0;
    const sqliteMs = await timeMs(() => {
      for (let i = 0; i < m; i += batch) written += ledger.post(slice.slice(i, i + batch)).entries.length;
    });
    const sample = ledger.entries().slice(0, 16).map((e) => JSON.stringify(e).length);
    ledger.close();
    const rowSize = Math.round(sample.reduce((a, b) => a + b, 0) / sample.length);

    const db = new Database(join(dir, 'reference.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE entries (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO entries (seq, event_id, body, hash) VALUES (?, ?, ?, ?)');
    const body = 'x'.repeat(rowSize);
    const hash = 'f'.repeat(64);
    const referenceMs = await timeMs(() => {
      for (let i = 0; i < written; i += batch) {
        db.exec('BEGIN IMMEDIATE');
        for (let k = i; k < Math.min(written, i + batch); k += 1) insert.run(k + 1, `#${k}`, body, hash);
        db.exec('COMMIT');
      }
    });
    db.close();
    report({
      name: `ledger post into SQLite (WAL, synchronous=FULL), ${m / 1000}k events in batches of ${batch / 1000}k`,
      value: (written / sqliteMs) * 1000,
      unit: 'entries/s',
      reference: { name: 'raw INSERT of same-size rows, same batches', value: (written / referenceMs) * 1000 },
      target: '>= 50000 entries/s',
      note: `${written} entries`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
