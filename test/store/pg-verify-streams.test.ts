// `procura ledger verify --all-streams`: every stream of a PostgreSQL ledger verified at once,
// one line (or JSON object) per stream, exit 3 naming the streams that fail; refused (exit 2,
// naming the flag) for a SQLite file, a URL naming one stream, or with --expect-head.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, procura } from '../support/cli.js';
import { freshDatabase, queryAt as sql, type TestDatabase } from '../support/pg.js';

const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EVENTS = join(ROOT, 'config', 'ammonia-events.jsonl');
const LATER = join(ROOT, 'test', 'store', 'fixtures', 'later-events.jsonl');

let dir: string;
let db: TestDatabase;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procura-pg-verify-streams-'));
  db = await freshDatabase('verify_streams');
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

function head(url: string): string {
  const r = procura(['ledger', 'head', '--db', url]);
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

interface StreamResult {
  stream: string;
  db: string;
  ok: boolean;
  fault?: string;
  entries: number;
  head: { seq: number; hash: string; events: number };
  storedHead?: string | null;
}

describe('ledger verify --all-streams', () => {
  it('verifies every stream, one line each with its head; then names the one tampered stream and exits 3', async () => {
    const fert = `${db.url}?stream=fertiliser`;
    expect(procura(['ledger', 'post', '--db', db.url, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    expect(procura(['ledger', 'post', '--db', fert, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    expect(procura(['ledger', 'post', '--db', fert, '--plant', PLANT, '--events', LATER]).status).toBe(0);
    const mainHead = head(db.url);
    const fertHead = head(fert);

    const r = procura(['ledger', 'verify', '--db', db.url, '--all-streams']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `ok      fertiliser  47 entries, 46 event records  head ${fertHead}\n` + `ok      main        46 entries, 45 event records  head ${mainHead}\n`,
    );
    const j = procura(['ledger', 'verify', '--db', db.url, '--all-streams', '--json']);
    expect(j.status).toBe(0);
    const results = JSON.parse(j.stdout) as StreamResult[];
    expect(results.map((x) => [x.stream, x.db, x.ok, `${x.head.seq}:${x.head.hash}`])).toEqual([
      ['fertiliser', fert, true, fertHead],
      ['main', db.url, true, mainHead],
    ]);
    // Each line is what a one-stream verify of that stream finds.
    for (const x of results) {
      const one = procura(['ledger', 'verify', '--db', x.db, '--json']);
      expect(one.status).toBe(0);
      const { stream: _s, db: _d, ...rest } = x;
      expect(JSON.parse(one.stdout)).toEqual(rest);
    }

    // Tamper with one entry of fertiliser as the owner, the append-only trigger disabled.
    await sql(
      db.url,
      `ALTER TABLE procura.entries DISABLE TRIGGER USER;
       UPDATE procura.entries SET body = replace(body, '"after":"480000"', '"after":"480001"') WHERE stream = 'fertiliser' AND seq = 1;
       ALTER TABLE procura.entries ENABLE TRIGGER USER;`,
    );
    const bad = procura(['ledger', 'verify', '--db', db.url, '--all-streams']);
    expect(bad.status).toBe(3);
    expect(bad.stdout).toBe(
      `FAILED  fertiliser  entry 1 (event gas-2401, purchase at 2024-01-02): hash does not match the entry's content  stored head ${fertHead}\n` +
        `ok      main        46 entries, 45 event records  head ${mainHead}\n`,
    );
    expect(bad.stderr).toBe(`procura: ${db.url}: 1 of 2 streams does not verify: fertiliser\n`);
    // The one-stream verify agrees; main alone still verifies.
    expect(procura(['ledger', 'verify', '--db', fert]).status).toBe(3);
    expect(procura(['ledger', 'verify', '--db', db.url]).status).toBe(0);
    const badJson = procura(['ledger', 'verify', '--db', db.url, '--all-streams', '--json']);
    expect(badJson.status).toBe(3);
    expect((JSON.parse(badJson.stdout) as StreamResult[]).map((x) => [x.stream, x.ok, x.storedHead])).toEqual([
      ['fertiliser', false, fertHead],
      ['main', true, undefined],
    ]);
  }, 120_000);

  it('a stream whose meta and checkpoints were deleted is still listed (through its entries) and fails', async () => {
    const other = await freshDatabase('verify_streams_gone');
    try {
      const gone = `${other.url}?stream=gone`;
      expect(procura(['ledger', 'post', '--db', other.url, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
      expect(procura(['ledger', 'post', '--db', gone, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
      await sql(
        other.url,
        `ALTER TABLE procura.meta DISABLE TRIGGER USER; ALTER TABLE procura.checkpoints DISABLE TRIGGER USER;
         DELETE FROM procura.meta WHERE stream = 'gone'; DELETE FROM procura.checkpoints WHERE stream = 'gone';`,
      );
      const r = procura(['ledger', 'verify', '--db', other.url, '--all-streams', '--json']);
      expect(r.status).toBe(3);
      expect((JSON.parse(r.stdout) as StreamResult[]).map((x) => [x.stream, x.ok])).toEqual([
        ['gone', false],
        ['main', true],
      ]);
      expect(r.stderr).toBe(`procura: ${other.url}: 1 of 2 streams does not verify: gone\n`);
    } finally {
      await other.drop();
    }
  }, 120_000);

  it('is refused with exit 2 naming the flag: a SQLite file, a URL naming a stream, with --expect-head', () => {
    const file = join(dir, 'one.db');
    expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    const onFile = procura(['ledger', 'verify', '--db', file, '--all-streams']);
    expect(onFile.status).toBe(2);
    expect(onFile.stderr).toBe(`procura: field "--all-streams": ${file} is a SQLite file, one stream; --all-streams takes a postgres:// URL\n`);
    expect(onFile.stdout).toBe('');

    for (const stream of ['fertiliser', 'main']) {
      const r = procura(['ledger', 'verify', '--db', `${db.url}?stream=${stream}`, '--all-streams']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^procura: field "--all-streams": .* names one stream; give the database's URL without \?stream= to verify all its streams\n$/);
      expect(r.stdout).toBe('');
    }
    const withHead = procura(['ledger', 'verify', '--db', db.url, '--all-streams', '--expect-head', `1:${'0'.repeat(64)}`]);
    expect(withHead.status).toBe(2);
    expect(withHead.stderr).toMatch(/^procura: field "--all-streams": --expect-head speaks for one stream/);
  }, 120_000);
});
