// Issue 9 item 9: two `procura ledger post` processes into one store. The second writer waits
// for the first and catches up inside its own write transaction; both files post exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from '../support/cli.js';
import { Ledger, loadEvents, parsePlant } from '../../src/ledger/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-concurrency-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLANT = `currency: USD
backflush: purchase-completion-sale
materials:
  - { id: dm, unit: unit, standardCost: "10" }
products:
  - { id: widget, unit: unit, conversionCost: "5", bom: [ { material: dm, qty: "1" } ] }
`;

/** `n` events on one day (so either file may post first without backdating), ids prefixed. */
function eventFile(prefix: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i += 1) {
    lines.push(JSON.stringify(i % 2 === 0 ? { type: 'purchase', id: `${prefix}-${i}`, at: '2024-01-02', material: 'dm', qty: '1', unitPrice: '10.5' } : { type: 'conversion', id: `${prefix}-${i}`, at: '2024-01-02', amount: '3' }));
  }
  return `${lines.join('\n')}\n`;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('two ledger post processes into one store', () => {
  it('the second waits for the first, then both files post exactly once', async () => {
    const plant = join(dir, 'plant.yaml');
    const db = join(dir, 'ledger.db');
    writeFileSync(plant, PLANT);
    writeFileSync(join(dir, 'first.jsonl'), `${JSON.stringify({ type: 'purchase', id: 'seed', at: '2024-01-01', material: 'dm', qty: '1', unitPrice: '10' })}\n`);
    writeFileSync(join(dir, 'a.jsonl'), eventFile('a', 400));
    writeFileSync(join(dir, 'b.jsonl'), eventFile('b', 400));
    const seed = Ledger.openSqlite(db, parsePlant(PLANT, plant));
    seed.post(loadEvents(join(dir, 'first.jsonl'), seed.plant));
    seed.close();

    // Hold the write lock so that both processes open the store and read it before either can write.
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const start = (file: string): { done: Promise<Run>; run: Run } => {
      const run: Run = { status: null, stdout: '', stderr: '' };
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'ledger', 'post', '--db', db, '--plant', plant, '--events', join(dir, file), '--lock-timeout', '600'], { cwd: ROOT });
      child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
      const done = new Promise<Run>((resolve) => child.on('close', (status) => resolve(Object.assign(run, { status }))));
      return { done, run };
    };
    const a = start('a.jsonl');
    const b = start('b.jsonl');
    try {
      // Both say they are waiting for the lock (the only wait in this test is for that message).
      while (!(a.run.stderr.includes('waiting') && b.run.stderr.includes('waiting'))) {
        if (a.run.status !== null || b.run.status !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.stderr).toMatch(/another process is posting; waiting up to 600 s/);
    expect(rb.stderr).toMatch(/another process is posting; waiting up to 600 s/);
    expect([ra.status, rb.status]).toEqual([0, 0]);
    expect(ra.stdout).toMatch(/^posted 400 events \(400 entries\)/);
    expect(rb.stdout).toMatch(/^posted 400 events \(400 entries\)/);

    const check = new Database(db, { readonly: true });
    const ids = check.prepare('SELECT id FROM events').all() as { id: string }[];
    expect(ids).toHaveLength(801);
    expect(new Set(ids.map((r) => r.id)).size).toBe(801);
    const entries = check.prepare('SELECT count(*) AS n, count(DISTINCT seq) AS d FROM entries').get() as { n: number; d: number };
    expect(entries).toEqual({ n: 801, d: 801 });
    check.close();
    const ledger = Ledger.openSqlite(db);
    expect(ledger.verify()).toMatchObject({ ok: true, entries: 801 });
    expect(ledger.balances().get('accounts_payable')!.toFixed(2)).toBe('-4210.00'); // 10 + 400 x 10.50
    ledger.close();
  }, 300_000);
});
