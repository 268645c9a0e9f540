/**
 * `procura db copy --from FILE --to URL`: a SQLite ledger store into a PostgreSQL database
 * (into the URL's stream, `?stream=NAME`, `main` by default), row for row (the entry bodies, hashes and checkpoints as stored), so the chain that verified
 * in the file verifies in the database with the same head.
 *
 * 1. the source must verify (exit 3 otherwise: a broken chain is not carried over);
 * 2. the target must be empty, or hold a prefix of the source (an earlier copy: the entry at its
 *    head has the same hash in the file), in which case only the rest is copied;
 * 3. everything is copied in ONE transaction holding the chain lock, so no other writer can
 *    append meanwhile and a failed copy leaves the target as it was; each table goes in by one
 *    `COPY ... FROM STDIN` in PostgreSQL's text format, encoded as the posting encodes its
 *    entries and events (copyRow, copyText in pg/ledger-ops.ts), its rows streamed from the
 *    file as the server takes them;
 * 4. the target is verified afterwards and must end at the source's head.
 */
import Database from 'better-sqlite3';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { Ledger } from '../ledger/ledger.js';
import type { ChainHead } from '../ledger/store.js';
import type { PgAddress } from './pg/connect.js';
import { PgLedgerStore } from './pg/ledger-store.js';
import { columnNames, copyInto, copyRow } from './pg/ledger-ops.js';

export interface CopyResult {
  readonly source: ChainHead;
  readonly target: ChainHead;
  /** Rows copied per table. */
  readonly copied: { readonly entries: number; readonly events: number; readonly plants: number; readonly checkpoints: number };
  /** Entries the target already had (an earlier copy). */
  readonly alreadyThere: number;
}

/** Rows per chunk of COPY data (about 0.5 MB of entries). */
const CHUNK = 1000;

type Table = 'plants' | 'events' | 'entries' | 'checkpoints';


/** Copies the SQLite store at `from` into the PostgreSQL database at `to` (see the module comment). */
export async function copySqliteToPostgres(from: string, to: PgAddress, onProgress?: (done: number, total: number) => void): Promise<CopyResult> {
  const sourceLedger = Ledger.openSqlite(from);
  let source: ChainHead;
  try {
    const verified = sourceLedger.verify();
    if (!verified.ok) throw new ProcuraError(ErrorCode.verify, `the source does not verify (${verified.fault}); nothing copied`, { file: from });
    source = verified.head;
  } finally {
    sourceLedger.close();
  }
  const db = new Database(from, { readonly: true });
  const store = await PgLedgerStore.open(to, { applicationName: 'procura db copy' });
  try {
    const copied = { entries: 0, events: 0, plants: 0, checkpoints: 0 };
    let alreadyThere = 0;
    await store.write(async (w) => {
      const target = (await w.state()).head;
      if (target.seq > source.seq) throw refuse(`the target has ${target.seq} entries, more than the source's ${source.seq}`, to);
      if (target.seq > 0) {
        const row = db.prepare('SELECT hash FROM entries WHERE seq = ?').get(target.seq) as { hash: string } | undefined;
        if (row?.hash !== target.hash) throw refuse(`the target's head (entry ${target.seq}) is not in the source: it holds another ledger`, to);
      }
      alreadyThere = target.seq;
      const meta = db.prepare('SELECT key, value FROM meta ORDER BY key').all() as { key: string; value: string }[];
      for (const m of meta) await store.query({ text: 'INSERT INTO procura.meta (stream, key, value) VALUES ($1, $2, $3) ON CONFLICT (stream, key) DO NOTHING', values: [to.stream, m.key, m.value] });
      const targetPlants = Number((await store.query({ text: 'SELECT count(*) AS n FROM procura.plants WHERE stream = $1', values: [to.stream] }))[0]!.n);
      const total = source.seq - target.seq;
      // Each table in one COPY FROM STDIN (text format, the posting's encoder: copyRow), its rows
      // read from the file as the server takes them, in chunks of CHUNK lines.
      const copyTable = async (table: Table, after: number): Promise<number> => {
        const select = db.prepare(`SELECT ${columnNames(table)} FROM ${table} WHERE seq > ? ORDER BY seq`).raw(true);
        let count = 0;
        function* chunks(): Generator<string> {
          let text = '';
          let lines = 0;
          for (const row of select.iterate(after) as IterableIterator<unknown[]>) {
            text += copyRow(row, to.stream);
            lines += 1;
            if (lines === CHUNK) {
              count += lines;
              yield text;
              text = '';
              lines = 0;
              if (table === 'entries') onProgress?.(count, total);
            }
          }
          count += lines;
          if (lines > 0) yield text;
          if (table === 'entries') onProgress?.(count, total);
        }
        await store.query(copyInto(table, chunks(), true));
        return count;
      };
      copied.plants = await copyTable('plants', targetPlants);
      copied.events = await copyTable('events', target.events);
      copied.entries = await copyTable('entries', target.seq);
      copied.checkpoints = await copyTable('checkpoints', target.seq);
    });
    const result = await (await Ledger.openAsync(store)).verifyAsync();
    if (!result.ok) throw new ProcuraError(ErrorCode.verify, `the copy does not verify (${result.fault})`, { file: to.display });
    if (result.head.seq !== source.seq || result.head.hash !== source.hash) {
      throw new ProcuraError(ErrorCode.verify, `the copy ends at ${result.head.seq}:${result.head.hash}, the source at ${source.seq}:${source.hash}`, { file: to.display });
    }
    return { source, target: result.head, copied, alreadyThere };
  } finally {
    db.close();
    await store.close();
  }
}

function refuse(detail: string, to: PgAddress): ProcuraError {
  return new ProcuraError(ErrorCode.store, `${detail}; nothing copied (copy into an empty database, or into one an earlier copy of this file filled)`, { file: to.display });
}
