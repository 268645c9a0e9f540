// Issue 12: N >= 8 processes posting into one PostgreSQL ledger at once, some SIGKILLed at
// random moments and posted again, then `verify` and a count of every event exactly once: all
// into one stream (one chain), and spread over several streams of the ledger (a chain each,
// every stream verified, every event once in its stream).
// The work is bounded by counts (files, events, attempts), never by elapsed time; the kill
// moments are random, and the seed is printed so a failure can be replayed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, procura } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/pg.js';

const POSTERS = 8;
const FILES_PER_POSTER = 3;
const EVENTS_PER_FILE = 150;
const MAX_ATTEMPTS = 12;

const PLANT = `currency: USD
backflush: purchase-completion-sale
materials:
  - { id: dm, unit: unit, standardCost: "10" }
products:
  - { id: widget, unit: unit, conversionCost: "5", bom: [ { material: dm, qty: "1" } ] }
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-pg-concurrency-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator for the kill moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Attempt {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

function post(url: string, plant: string, events: string, killAfterMs: number | undefined): Promise<Attempt> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'ledger', 'post', '--db', url, '--plant', plant, '--events', events, '--lock-timeout', '600'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, stderr });
    });
  });
}

// Poster p posts into stream p % streams: one stream is one chain for all eight, four are two
// posters per chain. The seed event (the same id in every stream) starts each chain.
describe.each([1, 4])(`${POSTERS} concurrent posters into one PostgreSQL ledger of %i stream(s), with SIGKILLs`, (streams) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase(`concurrency_${streams}`);
  });
  afterAll(() => db.drop());
  const streamOf = (p: number): string => (streams === 1 ? 'main' : `s${p % streams}`);
  const urlOf = (stream: string): string => (stream === 'main' ? db.url : `${db.url}?stream=${stream}`);

  it('nothing lost, nothing posted twice, every chain verifies', async () => {
    const seed = Number(process.env.PROCURA_TEST_SEED ?? Date.now() % 1_000_000);
    console.log(`pg-concurrency (${streams} stream(s)) seed ${seed} (PROCURA_TEST_SEED=${seed} replays the kill moments)`);
    const next = random(seed);
    const plant = join(dir, 'plant.yaml');
    writeFileSync(plant, PLANT);
    const seedFile = join(dir, 'seed.jsonl');
    writeFileSync(seedFile, `${JSON.stringify({ type: 'purchase', id: 'seed', at: '2024-01-01', material: 'dm', qty: '1', unitPrice: '10' })}\n`);
    const names = [...new Set(Array.from({ length: POSTERS }, (_, p) => streamOf(p)))];
    const expected = new Map<string, string[]>(names.map((s) => [s, ['seed']]));
    for (const s of names) expect(procura(['ledger', 'post', '--db', urlOf(s), '--plant', plant, '--events', seedFile]).status).toBe(0);

    const files: string[][] = [];
    for (let p = 0; p < POSTERS; p += 1) {
      files.push([]);
      for (let f = 0; f < FILES_PER_POSTER; f += 1) {
        const lines: string[] = [];
        for (let e = 0; e < EVENTS_PER_FILE; e += 1) {
          const id = `p${p}-f${f}-e${e}`;
          expected.get(streamOf(p))!.push(id);
          lines.push(JSON.stringify(e % 2 === 0 ? { type: 'purchase', id, at: '2024-01-02', material: 'dm', qty: '1', unitPrice: '10.25' } : { type: 'conversion', id, at: '2024-01-02', amount: '3.5' }));
        }
        const file = join(dir, `${streams}-p${p}-f${f}.jsonl`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        files[p]!.push(file);
      }
    }

    let killed = 0;
    let attempts = 0;
    // Each poster posts its files in turn; an attempt is killed with probability 0.4 at a random
    // moment within its first 1.5 s, and the file is posted again until an attempt finishes.
    const poster = async (p: number): Promise<void> => {
      for (const file of files[p]!) {
        for (let attempt = 1; ; attempt += 1) {
          expect(attempt).toBeLessThanOrEqual(MAX_ATTEMPTS);
          const kill = attempt < MAX_ATTEMPTS && next() < 0.4 ? Math.floor(next() * 1500) : undefined;
          attempts += 1;
          const result = await post(urlOf(streamOf(p)), plant, file, kill);
          if (result.signal === 'SIGKILL') {
            killed += 1;
            continue;
          }
          expect(result.stderr.replace(/^procura: .*another process is posting.*\n/gm, '')).toBe('');
          expect(result.status).toBe(0);
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: POSTERS }, (_, p) => poster(p)));
    console.log(`pg-concurrency (${streams} stream(s)): ${attempts} posting processes, ${killed} killed`);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (const s of names) {
        const ids = expected.get(s)!;
        const verify = procura(['ledger', 'verify', '--db', urlOf(s), '--json']);
        expect(verify.stderr).toBe('');
        expect(verify.status).toBe(0);
        expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, entries: ids.length, head: { seq: ids.length, events: ids.length } });
        const posted = (await client.query<{ id: string; n: string }>('SELECT event_id AS id, count(*) AS n FROM procura.entries WHERE stream = $1 GROUP BY event_id', [s])).rows;
        expect(posted.filter((r) => r.n !== '1')).toEqual([]);
        expect(posted.map((r) => r.id).sort()).toEqual([...ids].sort());
        // Every file posted whole or not at all: each one's events are consecutive in its chain.
        const runs = (await client.query<{ file: string; first: string; last: string; n: string }>('SELECT file, min(seq) AS first, max(seq) AS last, count(*) AS n FROM procura.events WHERE stream = $1 GROUP BY file', [s])).rows;
        for (const r of runs) expect(Number(r.last) - Number(r.first) + 1).toBe(Number(r.n));
      }
      // Nothing outside the streams posted into.
      const all = (await client.query<{ stream: string }>('SELECT DISTINCT stream FROM procura.entries ORDER BY stream')).rows;
      expect(all.map((r) => r.stream)).toEqual([...names].sort());
    } finally {
      await client.end();
    }
  }, 600_000);
});
