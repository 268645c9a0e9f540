// Issue 12: `--db postgres://...` on every ledger command, with the SQLite store's exit statuses
// (3 a store that fails verification, 4 a store held by another writer), `procura db copy`, and
// credentials that never reach an output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, procura } from '../support/cli.js';
import { adminQuery, freshDatabase, queryAt as sql, withDatabase, type TestDatabase } from '../support/pg.js';

const PLANT = join(ROOT, 'config', 'ammonia-plant.yaml');
const EVENTS = join(ROOT, 'config', 'ammonia-events.jsonl');

let dir: string;
let db: TestDatabase;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procura-pg-cli-'));
  db = await freshDatabase('cli');
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe('procura ledger --db postgres://', () => {
  it('post, balances, journal, head and verify print what they print for a SQLite store', () => {
    const file = join(dir, 'ledger.db');
    const post = procura(['ledger', 'post', '--db', db.url, '--plant', PLANT, '--events', EVENTS]);
    expect(post.stderr).toBe('');
    expect(post.stdout).toBe(`posted 45 events (46 entries) into ${db.url}\n`);
    expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    const again = procura(['ledger', 'post', '--db', db.url, '--plant', PLANT, '--events', EVENTS]);
    expect(again.stdout).toMatch(/^posted 0 events \(0 entries\) into .*; skipped 45 already posted/);
    for (const args of [['balances', '--json'], ['balances', '--at', '2024-01-31', '--json'], ['journal', '--event', 'cmp-2403-1', '--json'], ['journal'], ['head'], ['verify']]) {
      const onPg = procura(['ledger', args[0]!, '--db', db.url, ...args.slice(1)]);
      const onFile = procura(['ledger', args[0]!, '--db', file, ...args.slice(1)]);
      expect(onPg.stderr).toBe('');
      expect(onPg.status).toBe(0);
      expect(onPg.stdout).toBe(onFile.stdout);
    }
  });

  it('verify exits 3 with the first fault on a tampered database', async () => {
    const other = await freshDatabase('cli_tamper');
    try {
      expect(procura(['ledger', 'post', '--db', other.url, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
      await sql(other.url, `ALTER TABLE procura.entries DISABLE TRIGGER USER;
        UPDATE procura.entries SET body = replace(body, '"after":"480000"', '"after":"480001"') WHERE seq = 1;`);
      const r = procura(['ledger', 'verify', '--db', other.url]);
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(`procura: ${other.url}: entry 1 (event gas-2401, purchase at 2024-01-02): hash does not match the entry's content\n`);
      const post = procura(['ledger', 'post', '--db', other.url, '--plant', PLANT, '--events', join(ROOT, 'test', 'store', 'fixtures', 'later-events.jsonl')]);
      expect(post.status).toBe(3);
      expect(post.stderr).toBe(`procura: ${other.url}: the store does not verify (entry 1: hash does not match the entry's content); nothing posted (run procura ledger verify)\n`);
    } finally {
      await other.drop();
    }
  });

  it('a writer that cannot get the chain lock in time says so and exits 4', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT pg_advisory_xact_lock(hashtext('procura.ledger.chain'), hashtext('main'))");
      const r = procura(['ledger', 'post', '--db', db.url, '--plant', PLANT, '--events', join(ROOT, 'test', 'store', 'fixtures', 'later-events.jsonl'), '--lock-timeout', '0.2']);
      expect(r.status).toBe(4);
      expect(r.stderr).toBe(
        `procura: ${db.url}: another process is posting; waiting up to 0.2 s for it to finish\nprocura: ${db.url}: the store is locked by another writer (waited 0 s); try again when it has finished\n`,
      );
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('read-only commands do not create a schema in an empty database', async () => {
    const empty = await freshDatabase('cli_empty');
    try {
      const r = procura(['ledger', 'balances', '--db', empty.url]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`procura: ${empty.url}: no procura ledger in this database (post events first, or run procura db migrate)\n`);
    } finally {
      await empty.drop();
    }
  });
});

describe('procura db copy', () => {
  it('copies a SQLite store whole, both chains verified with the same head; again copies nothing; another ledger is refused', async () => {
    const file = join(dir, 'copy.db');
    const first = join(dir, 'first.jsonl');
    writeFileSync(first, readFileSync(EVENTS, 'utf8').split('\n').slice(0, 20).join('\n'));
    expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', first]).status).toBe(0);
    const target = await freshDatabase('copy');
    try {
      const copy = procura(['db', 'copy', '--from', file, '--to', target.url]);
      expect(copy.stderr).toBe('');
      const head = procura(['ledger', 'head', '--db', file]).stdout.trim();
      expect(copy.stdout).toBe(
        `source ${file} verifies: 20 entries, 20 events\ncopied 20 entries, 20 events, 1 plant version and 1 checkpoint into ${target.url}\ntarget verifies with the same head: ${head}\n`,
      );
      // The file grows; copying again carries over only the rest.
      expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
      const more = procura(['db', 'copy', '--from', file, '--to', target.url, '--json']);
      expect(more.stderr).toBe('');
      const json = JSON.parse(more.stdout) as { copied: { entries: number; checkpoints: number }; alreadyThere: number; head: { seq: number; hash: string } };
      expect(json).toMatchObject({ copied: { entries: 26, checkpoints: 1 }, alreadyThere: 20, head: { seq: 46 } });
      expect(`${json.head.seq}:${json.head.hash}`).toBe(procura(['ledger', 'head', '--db', file]).stdout.trim());
      expect(procura(['ledger', 'verify', '--db', target.url]).status).toBe(0);
      expect(procura(['ledger', 'balances', '--db', target.url, '--json']).stdout).toBe(procura(['ledger', 'balances', '--db', file, '--json']).stdout);
      // A different ledger in the target: refused, nothing copied.
      const stranger = join(dir, 'stranger.db');
      expect(procura(['ledger', 'post', '--db', stranger, '--plant', PLANT, '--events', join(ROOT, 'test', 'store', 'fixtures', 'later-events.jsonl')]).status).toBe(0);
      const refused = procura(['db', 'copy', '--from', stranger, '--to', target.url]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/the target has 46 entries, more than the source's 1; nothing copied/);
    } finally {
      await target.drop();
    }
  });

  it('a source that does not verify is not copied (exit 3)', async () => {
    const file = join(dir, 'broken.db');
    expect(procura(['ledger', 'post', '--db', file, '--plant', PLANT, '--events', EVENTS]).status).toBe(0);
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    raw.exec('DROP TRIGGER entries_no_update');
    raw.prepare("UPDATE entries SET hash = ? WHERE seq = 3").run('f'.repeat(64));
    raw.close();
    const target = await freshDatabase('copy_broken');
    try {
      const r = procura(['db', 'copy', '--from', file, '--to', target.url]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/broken\.db: the source does not verify \(entry 3 .*\); nothing copied/);
      expect(procura(['ledger', 'balances', '--db', target.url]).status).toBe(1);
    } finally {
      await target.drop();
    }
  });
});

describe('credentials never reach an output', () => {
  const PASSWORD = 'pw-Sup3r-secret-42';
  let url: string;
  beforeAll(async () => {
    // procura_pw must give a password (the test server's pg_hba.conf); it is a procura writer.
    await adminQuery(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procura_pw') THEN CREATE ROLE procura_pw LOGIN; END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
    await adminQuery(`ALTER ROLE procura_pw PASSWORD '${PASSWORD}'`);
    expect(procura(['db', 'migrate', '--db', db.url]).status).toBe(0);
    await adminQuery('GRANT procura_writer TO procura_pw');
    url = withDatabase(db.url, db.name, 'procura_pw');
  });

  const clean = (r: { stdout: string; stderr: string }): void => {
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encodeURIComponent(PASSWORD));
    }
  };

  it('a URL that carries a password is refused without echoing it (exit 2)', () => {
    const withPassword = url.replace('procura_pw@', `procura_pw:${PASSWORD}@`);
    for (const args of [['ledger', 'verify', '--db', withPassword], ['ledger', 'verify', '--db', `${url}?password=${PASSWORD}`], ['db', 'migrate', '--db', withPassword], ['db', 'copy', '--from', join(dir, 'ledger.db'), '--to', withPassword]]) {
      const r = procura(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/the URL carries a password; put it in PGPASSWORD or ~\/\.pgpass instead/);
      clean(r);
    }
  });

  it('PGPASSWORD: a wrong one fails naming the database and the user, never the password; the right one works', () => {
    const wrong = procura(['ledger', 'verify', '--db', url], { env: { ...process.env, PGPASSWORD: `${PASSWORD}-wrong` } });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toBe(`procura: ${url}: cannot connect: password authentication failed for user "procura_pw" (the password comes from PGPASSWORD or ~/.pgpass)\n`);
    expect(wrong.stderr).not.toContain(`${PASSWORD}-wrong`);
    const right = procura(['ledger', 'verify', '--db', url], { env: { ...process.env, PGPASSWORD: PASSWORD } });
    expect(right.stderr).toBe('');
    expect(right.status).toBe(0);
    clean(right);
  });

  it('~/.pgpass is read when PGPASSWORD is not set', () => {
    const home = join(dir, 'home');
    rmSync(home, { recursive: true, force: true });
    const u = new URL(url);
    mkdirSync(home);
    writeFileSync(join(home, '.pgpass'), `${u.hostname}:${u.port}:*:procura_pw:${PASSWORD}\n`);
    chmodSync(join(home, '.pgpass'), 0o600);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.PGPASSWORD;
    const r = procura(['ledger', 'balances', '--db', url, '--json'], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    clean(r);
  });
});
