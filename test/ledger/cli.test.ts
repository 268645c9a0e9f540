import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { procura as runProcura } from '../support/cli.js';
import { mkdtempSync, rmSync, writeFileSync, statSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, loadPlant } from '../../src/ledger/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EVENTS = join(ROOT, 'config', 'ammonia-events.jsonl');
let dir: string;

function procura(...args: string[]) {
  const r = runProcura(['ledger', ...args]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('procura ledger (CLI)', () => {
  it('replay --json prints entries, balances and quantities of the example plant', () => {
    const r = procura('replay', '--plant', PLANT, '--events', EVENTS, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { posted: number; entries: { event: string; at: string; lines: { account: string; debit: string; credit: string }[] }[]; balances: Record<string, string>; quantities: { materials: Record<string, string>; products: Record<string, string> } };
    const lines = readFileSync(EVENTS, 'utf8').trim().split('\n').length;
    expect(out.posted).toBe(lines);
    expect(out.entries[0]).toMatchObject({ event: 'gas-2401', at: '2024-01-02', lines: [{ account: 'materials_in_process', debit: '1200000.00', credit: '0.00' }, { account: 'material_price_variance', debit: '134400.00', credit: '0.00' }, { account: 'accounts_payable', debit: '0.00', credit: '1334400.00' }] });
    const total = Object.values(out.balances).reduce((t, v) => t + Math.round(Number(v) * 100), 0);
    expect(total).toBe(0);
    expect(out.balances.conversion_costs_control).toBe('0.00');
    expect(Object.keys(out.quantities.materials).sort()).toEqual(['natgas', 'power']);
  });

  it('post, balances, journal and verify against a store', () => {
    const db = join(dir, 'ledger.db');
    const post = procura('post', '--db', db, '--plant', PLANT, '--events', EVENTS);
    expect(post.status).toBe(0);
    expect(post.stdout).toMatch(/^posted 45 events \(46 entries\)/);
    const again = procura('post', '--db', db, '--plant', PLANT, '--events', EVENTS);
    expect(again.stdout).toMatch(/^posted 0 events \(0 entries\) into .*; skipped 45 already posted/);
    const balances = procura('balances', '--db', db, '--json');
    const replay = JSON.parse(procura('replay', '--plant', PLANT, '--events', EVENTS, '--json').stdout) as { balances: unknown };
    expect(JSON.parse(balances.stdout).balances).toEqual(replay.balances);
    const january = JSON.parse(procura('balances', '--db', db, '--at', '2024-01-31', '--json').stdout) as { balances: Record<string, string> };
    expect(january.balances.sales_revenue).toBe('-6366000.00') // 3000 x 560 + 4000 x 555 + 4500 x 548;
    const journal = JSON.parse(procura('journal', '--db', db, '--event', 'cmp-2403-1', '--json').stdout) as { entries: { versions: unknown }[] };
    expect(journal.entries[0]!.versions).toEqual({ bom: 'ammonia@2024-03-01', standardCost: 'natgas@2024-03-01,power@base', conversionCost: 'ammonia@2024-01-01' });
    const human = procura('balances', '--db', db);
    expect(human.stdout).toMatch(/^Trial balance \(USD, purchase-completion-sale\)/);
    const verify = procura('verify', '--db', db);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/^ok: 46 entries balance, trial balance is zero, hash chain intact \(entries, 45 event records, plant versions\), books checkpoint and book quantities consistent\nhead: 46:[0-9a-f]{64}\n$/);
  });

  it('head prints seq:hash, and verify --expect-head finds a tail removed with its records and checkpoint', async () => {
    const db = join(dir, 'head.db');
    const first = join(dir, 'first.jsonl');
    const lines = readFileSync(EVENTS, 'utf8').trim().split('\n');
    writeFileSync(first, lines.slice(0, 40).join('\n'));
    expect(procura('post', '--db', db, '--plant', PLANT, '--events', first).status).toBe(0);
    expect(procura('post', '--db', db, '--plant', PLANT, '--events', EVENTS).status).toBe(0);
    const head = procura('head', '--db', db);
    expect(head.status).toBe(0);
    expect(head.stdout).toMatch(/^46:[0-9a-f]{64}\n$/);
    expect(procura('verify', '--db', db, '--expect-head', head.stdout.trim()).status).toBe(0);
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(db);
    for (const t of ['entries', 'events', 'checkpoints']) raw.exec(`DROP TRIGGER ${t}_no_delete`);
    const cut = (raw.prepare('SELECT max(seq) AS s FROM checkpoints WHERE seq < 46').get() as { s: number }).s;
    raw.prepare('DELETE FROM entries WHERE seq > ?').run(cut);
    raw.prepare('DELETE FROM events WHERE seq > 40').run();
    raw.prepare('DELETE FROM checkpoints WHERE seq > ?').run(cut);
    raw.close();
    expect(procura('verify', '--db', db).status).toBe(0);
    const r = procura('verify', '--db', db, '--expect-head', head.stdout.trim());
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`expected head entry 46 is missing: the store ends at entry ${cut} \\(its tail was removed\\)`));
    const bad = procura('verify', '--db', db, '--expect-head', '46:xyz');
    expect([bad.status, bad.stderr]).toEqual([2, 'procura: field "--expect-head": expected <seq>:<64 hex digits> as printed by procura ledger head, got "46:xyz"\n']);
  });

  it('bad input exits 2 with file, line and field on stderr, and posts nothing', () => {
    const db = join(dir, 'bad.db');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"type":"purchase","id":"p1","at":"2024-01-02","material":"natgas","qty":"10","unitPrice":"2.5"}\n\n{"type":"purchase","id":"p2","at":"2024-01-03","material":"natgas","qty":"-4","unitPrice":"2.5"}\n');
    const r = procura('post', '--db', db, '--plant', PLANT, '--events', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`procura: ${bad}:3: field "qty": must be greater than zero, got -4\n`);
    expect(existsSync(db)).toBe(false);
    const missing = procura('balances', '--db', join(dir, 'none.db'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/none\.db: no ledger store here/);
    const usage = procura('replay', '--plant', PLANT);
    expect(usage.status).toBe(2);
  });

  it('verify exits 3 with the first fault on a tampered store', async () => {
    const db = join(dir, 'tamper.db');
    expect(procura('post', '--db', db, '--plant', PLANT, '--events', EVENTS).status).toBe(0);
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(db);
    raw.exec('DROP TRIGGER entries_no_update');
    raw.prepare("UPDATE entries SET body = replace(body, '\"after\":\"480000\"', '\"after\":\"480001\"') WHERE seq = 1").run();
    raw.close();
    const r = procura('verify', '--db', db);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^procura: .*tamper\.db: entry 1 \(event gas-2401, purchase at 2024-01-02\): hash does not match the entry's content\n$/);
  });
});

describe('crash while posting (SIGKILL mid-transaction)', () => {
  it('leaves the store exactly as it was before the file', async () => {
    const db = join(dir, 'crash.db');
    const small = join(dir, 'small.jsonl');
    const big = join(dir, 'big.jsonl');
    writeFileSync(small, readFileSync(EVENTS, 'utf8').split('\n').slice(0, 10).join('\n'));
    expect(procura('post', '--db', db, '--plant', PLANT, '--events', small).status).toBe(0);
    const plant = loadPlant(PLANT);
    const before = Ledger.openSqlite(db, plant);
    const snapshot = { entries: before.entries().length, balances: JSON.stringify([...before.balances()]), last: before.entries().at(-1)!.hash };
    before.close();
    // 150k small purchases after the last event already posted: a long transaction.
    const rows: string[] = [];
    for (let i = 0; i < 150_000; i += 1) rows.push(JSON.stringify({ type: 'purchase', id: `big-${i}`, at: Date.UTC(2024, 1, 1) + i * 1000, material: 'power', qty: '1', unitPrice: '60.25' }));
    writeFileSync(big, rows.join('\n'));

    const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'ledger', 'post', '--db', db, '--plant', PLANT, '--events', big], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let finished = false;
    void exited.then(() => (finished = true));
    // The write transaction spills pages into the WAL long before it commits: kill once the WAL has grown.
    const wal = `${db}-wal`;
    const deadline = Date.now() + 120_000;
    while (!finished && Date.now() < deadline) {
      if (existsSync(wal) && statSync(wal).size > 4 * 1024 * 1024) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(finished).toBe(false); // still posting: the kill lands inside the transaction
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    const after = Ledger.openSqlite(db, plant);
    expect(after.verify()).toMatchObject({ ok: true, entries: snapshot.entries });
    expect(after.entries().length).toBe(snapshot.entries);
    expect(JSON.stringify([...after.balances()])).toBe(snapshot.balances);
    expect(after.entries().at(-1)!.hash).toBe(snapshot.last);
    // And the store still takes the file afterwards.
    after.close();
  }, 180_000);
});
