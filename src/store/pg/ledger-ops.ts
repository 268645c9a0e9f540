/**
 * The ledger store's SQL on PostgreSQL (tables of migrations.ts), as operations (ops.ts) that
 * both PostgreSQL engines run: `PgLedgerStore` (asynchronous, the contract in
 * ledger/store.ts) and `PgSyncLedgerStore` (synchronous, through the blocking bridge). The rows
 * and the hashing are those of the SQLite engine, so a chain copied from one verifies on the
 * other.
 *
 * Every operation works in one stream (the address's `?stream=`, `main` by default): each
 * statement filters or keys its rows by it, so a stream is a chain of its own beside the others
 * in the same tables (migration 4, docs/scaling.md "Streams"). The stream names come from
 * parseStoreAddress, which admits only `[a-z0-9][a-z0-9_-]{0,62}`; the statements still pass
 * them as parameters, except the COPY data and the chain lock's key (chainLockKey).
 */
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import type { BooksSnapshot } from '../../ledger/engine.js';
import { entryFromBody, GENESIS_HASH, type JournalEntry } from '../../ledger/journal.js';
import { STORE_FORMAT } from '../../ledger/sqlite-store.js';
import { assertBatchFollows, sealBatch, type ChainHead, type EntryLookup, type PostingBatch, type StoreState, type StoredEntryRow, type StoredEvent, type StoredPlantVersion } from '../../ledger/store.js';
import { STREAM_NAME } from '../address.js';
import type { Op, Query, Row } from './ops.js';

/** Rows per page when scanning entries or events. */
export const PAGE = 1000;

/** Key of the transaction-scoped advisory locks that serialise appends, one chain per stream. */
export const CHAIN_LOCK = 'procura.ledger.chain';

/**
 * The wait for the disk after a posting committed with synchronous_commit off (both engines run
 * it after COMMIT, outside the chain lock, so the next writer's turn does not wait for this
 * one's flush): a transaction that writes a WAL record after ours and commits synchronously.
 * WAL is flushed in order, so ours is on disk when it returns. The record is a logical decoding
 * message no table keeps, allowed to every role; txid_current() alone writes no WAL and does not
 * wait.
 */
export const DURABLE_WAIT_SQL = `SELECT pg_logical_emit_message(true, 'procura.durable', '')`;

/**
 * The chain lock of a stream, as SQL arguments of pg_advisory_xact_lock(int, int): the pair
 * (CHAIN_LOCK, stream). Two streams whose names hash alike would only share a lock (wait for
 * each other), never a chain. A literal, so the lock can go in one simple query without
 * parameters; the name is checked again here because it is spliced into SQL.
 */
export function chainLockKey(stream: string): string {
  if (!STREAM_NAME.test(stream)) throw new ProcuraError(ErrorCode.internal, `not a stream name: ${JSON.stringify(stream)}`);
  return `hashtext('${CHAIN_LOCK}'), hashtext('${stream}')`;
}

/** The head's columns, the latest plant version and the store-wide settings, in one row. */
const STATE_SQL = `SELECT (SELECT json_object_agg(key, value) FROM procura.meta WHERE stream = $1) AS meta,
      c.seq, c.hash, c.events, c.verified_seq, c.verified_hash, c.verified_events,
      p.hash AS plant_hash, p.file AS plant_file, p.text AS plant_text, p.first_entry AS plant_first_entry`;

const STATE_FROM = `FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT seq, hash, events, verified_seq, verified_hash, verified_events, books, xmin::text AS xid FROM procura.checkpoints WHERE stream = $1 ORDER BY seq DESC LIMIT 1) c ON true
      LEFT JOIN LATERAL (SELECT hash, file, text, first_entry FROM procura.plants WHERE stream = $1 ORDER BY seq DESC LIMIT 1) p ON true`;

/**
 * Every stream the database holds: those with a row in any ledger table. Each table's key
 * starts with the stream, so a loose index scan (one index probe per stream, a recursive CTE:
 * PostgreSQL has no skip scan) lists a table's streams without reading its rows; a stream whose
 * meta or checkpoint rows were deleted still shows up through its entries. Sorted by name.
 */
const STREAMS_SQL = `WITH RECURSIVE ${['meta', 'plants', 'events', 'entries', 'checkpoints']
  .map(
    (t) => `s_${t} AS (SELECT min(stream) AS stream FROM procura.${t}
    UNION ALL SELECT (SELECT min(stream) FROM procura.${t} WHERE stream > s.stream) FROM s_${t} AS s WHERE s.stream IS NOT NULL)`,
  )
  .join(',\n  ')}
SELECT stream FROM (${['meta', 'plants', 'events', 'entries', 'checkpoints'].map((t) => `SELECT stream FROM s_${t}`).join(' UNION ')}) AS all_streams
WHERE stream IS NOT NULL ORDER BY stream COLLATE "C"`;

export function* streamsOp(): Op<string[]> {
  const rows = yield { text: STREAMS_SQL };
  return rows.map((r) => String(r.stream));
}

export function* stateOp(stream: string): Op<StoreState> {
  const rows = yield { text: `${STATE_SQL} ${STATE_FROM}`, values: [stream] };
  return stateOf(rows[0]!);
}

/**
 * The state a write transaction starts from (after the chain lock). When every entry and event
 * record after the verified mark, and nothing else, was written by the transaction that wrote
 * the head's checkpoint (their xmin), that tail is the last posting exactly as it committed it:
 * an UPDATE gives a row another xmin, a DELETE changes the count, a row added later carries its
 * own transaction's id. That posting hashed those rows itself from the head it checked, so the
 * verified mark is the head and the next posting reads no tail (docs/scaling.md, "Many writers,
 * one chain", has what this trusts). Otherwise the state is as stored and the posting re-hashes
 * the tail.
 */
export function* writeStateOp(stream: string): Op<WriteState> {
  const rows = yield {
    text: `${STATE_SQL}, c.books,
      CASE WHEN c.seq IS NULL OR (c.seq = c.verified_seq AND c.events = c.verified_events) THEN false ELSE
        coalesce((SELECT count(*) = c.seq - c.verified_seq AND bool_and(e.xmin::text = c.xid) FROM procura.entries e WHERE e.stream = $1 AND e.seq > c.verified_seq), false)
        AND coalesce((SELECT count(*) = c.events - c.verified_events AND coalesce(bool_and(r.xmin::text = c.xid), true) FROM procura.events r WHERE r.stream = $1 AND r.seq > c.verified_events), false)
      END AS sealed
      ${STATE_FROM}`,
    values: [stream],
  };
  const state = stateOf(rows[0]!);
  const books = (rows[0]!.books as string | null) ?? undefined;
  return { state: rows[0]!.sealed === true ? { ...state, verified: state.head } : state, books };
}

/** A write transaction's state, with the books checkpoint at its head as stored (a posting that catches up reads it). */
export interface WriteState {
  readonly state: StoreState;
  readonly books: string | undefined;
}

function stateOf(r: Row): StoreState {
  const meta = (r.meta ?? {}) as Record<string, string>;
  const has = r.seq !== null && r.seq !== undefined;
  return {
    head: has ? { seq: r.seq as number, hash: r.hash as string, events: r.events as number } : { seq: 0, hash: GENESIS_HASH, events: 0 },
    verified: has ? { seq: r.verified_seq as number, hash: r.verified_hash as string, events: r.verified_events as number } : { seq: 0, hash: GENESIS_HASH, events: 0 },
    ...(meta.trigger !== undefined ? { trigger: meta.trigger } : {}),
    ...(meta.currency !== undefined ? { currency: meta.currency } : {}),
    ...(r.plant_hash !== null && r.plant_hash !== undefined
      ? { plant: { hash: r.plant_hash as string, file: r.plant_file as string, text: r.plant_text as string, firstEntry: r.plant_first_entry as number } }
      : {}),
  };
}

export function* booksOp(stream: string, name: string): Op<BooksSnapshot | undefined> {
  const rows = yield { text: 'SELECT books FROM procura.checkpoints WHERE stream = $1 ORDER BY seq DESC LIMIT 1', values: [stream] };
  const row = rows[0];
  return row ? booksOf(row.books as string, name) : undefined;
}

/** A stored books checkpoint. */
export function booksOf(text: string, name: string): BooksSnapshot {
  try {
    return JSON.parse(text) as BooksSnapshot;
  } catch (error) {
    throw new ProcuraError(ErrorCode.verify, `the books checkpoint is not valid JSON: ${(error as Error).message}`, { file: name });
  }
}

export function* eventDigestsOp(stream: string, ids: readonly string[]): Op<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  for (const r of yield { text: 'SELECT id, digest FROM procura.events WHERE stream = $1 AND id = ANY($2::text[])', values: [stream, ids] }) out.set(r.id as string, r.digest as string);
  return out;
}

const ENTRY_COLUMNS = 'seq, event_id, event_type, at, known_at, reverses, body, hash, prev_hash';

export function* entriesOfEventsOp(stream: string, ids: readonly string[], name: string): Op<Map<string, EntryLookup[]>> {
  const out = new Map<string, EntryLookup[]>();
  if (ids.length === 0) return out;
  const rows = yield {
    text: `SELECT ${ENTRY_COLUMNS}, EXISTS (SELECT 1 FROM procura.entries r WHERE r.stream = e.stream AND r.reverses = e.seq) AS reversed
      FROM procura.entries e WHERE e.stream = $1 AND event_id = ANY($2::text[]) ORDER BY seq`,
    values: [stream, ids],
  };
  for (const row of rows) {
    const entry = decodeEntry(row, name);
    const list = out.get(entry.eventId) ?? [];
    list.push({ entry, reversed: row.reversed === true });
    out.set(entry.eventId, list);
  }
  return out;
}

/** One page of entries with from <= seq <= to. */
export function* entriesPageOp(stream: string, from: number, to: number, limit: number, name: string): Op<JournalEntry[]> {
  const rows = yield { text: `SELECT ${ENTRY_COLUMNS} FROM procura.entries WHERE stream = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4`, values: [stream, from, to, limit] };
  return rows.map((r) => decodeEntry(r, name));
}

/** One page of event records with seq >= from. */
export function* eventsPageOp(stream: string, from: number, limit: number): Op<StoredEvent[]> {
  const rows = yield { text: 'SELECT seq, id, type, at, known_at, digest, file, line, hash FROM procura.events WHERE stream = $1 AND seq >= $2 ORDER BY seq LIMIT $3', values: [stream, from, limit] };
  return rows.map((r) => ({
    seq: r.seq as number,
    id: r.id as string,
    type: r.type as string,
    at: r.at as number,
    knownAt: r.known_at as number,
    digest: r.digest as string,
    hash: r.hash as string,
    ...(r.file !== null && r.line !== null ? { source: { file: r.file as string, line: r.line as number } } : {}),
  }));
}

export function* plantsOp(stream: string): Op<StoredPlantVersion[]> {
  const rows = yield { text: 'SELECT hash, file, text, first_entry FROM procura.plants WHERE stream = $1 ORDER BY seq', values: [stream] };
  return rows.map((p) => ({ hash: p.hash as string, file: p.file as string, text: p.text as string, firstEntry: p.first_entry as number }));
}

/** A posting written: the new head and the transaction id its rows carry (their xmin). */
export interface Appended {
  /** The head the posting extended. */
  readonly before: ChainHead;
  readonly head: ChainHead;
  readonly xid: string | undefined;
}

/** Entries sealed per chunk of COPY data: the server inserts one chunk while the next is hashed. */
const COPY_CHUNK = 500;

/**
 * Writes a posting: plant version, entries (hashed here, chained from the head), event records
 * and the checkpoint. Runs inside the write transaction, after the chain lock, so the head it
 * reads is the head it extends (`known`: the state this transaction read after the lock, when
 * nothing was appended since). Entries and events go in by COPY FROM STDIN (text format): the
 * entries are streamed as they are sealed, so hashing on the client overlaps inserting on the
 * server, and the server parses tab-separated lines instead of one JSON document per table
 * (docs/scaling.md has the measurements).
 */
export function* appendOp(stream: string, batch: PostingBatch, name: string, known?: StoreState): Op<Appended> {
  const state = known ?? (yield* stateOp(stream));
  const entries = batch.entries;
  const n = entries.size;
  if (n === 0) return { before: state.head, head: state.head, xid: undefined };
  assertBatchFollows(batch, state.head, name);
  if (state.trigger === undefined || state.currency === undefined) {
    yield {
      text: 'INSERT INTO procura.meta (stream, key, value) VALUES ($1, $2, $3), ($1, $4, $5), ($1, $6, $7) ON CONFLICT (stream, key) DO NOTHING',
      values: [stream, 'format', STORE_FORMAT, 'trigger', batch.trigger, 'currency', batch.currency],
    };
  }
  if (batch.plant) {
    yield {
      text: 'INSERT INTO procura.plants (stream, seq, hash, file, text, first_entry) SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5 FROM procura.plants WHERE stream = $1',
      values: [stream, batch.plant.hash, batch.plant.file, batch.plant.text, entries.firstSeq],
    };
  }
  const events: string[] = [];
  let lines: string[] = [];
  const sealing = sealBatch(
    batch,
    state.head,
    name,
    {
      event: (seq, id, type, at, knownAt, digest, file, line, hash) =>
        events.push(`${seq}\t${copyText(id)}\t${copyText(type)}\t${at}\t${knownAt}\t${digest}\t${file === null ? '\\N' : copyText(file)}\t${line === null ? '\\N' : line}\t${hash}\t${stream}\n`),
      entry: (seq, eventId, eventType, at, knownAt, reverses, body, hash, prevHash) =>
        lines.push(`${seq}\t${copyText(eventId)}\t${copyText(eventType)}\t${at}\t${knownAt}\t${reverses === null ? '\\N' : reverses}\t${copyText(body)}\t${hash}\t${prevHash}\t${stream}\n`),
    },
    COPY_CHUNK,
  );
  let head: ChainHead | undefined;
  function* chunks(): Generator<string> {
    for (;;) {
      const step = sealing.next();
      if (lines.length > 0) {
        const chunk = lines.join('');
        lines = [];
        yield chunk;
      }
      if (step.done) {
        head = step.value;
        return;
      }
    }
  }
  yield copyInto('entries', chunks(), true);
  if (head === undefined) throw new ProcuraError(ErrorCode.internal, 'the COPY of entries ended before every entry was sealed', { file: name });
  if (events.length > 0) yield copyInto('events', events, true);
  const done = yield {
    text: 'INSERT INTO procura.checkpoints (stream, seq, hash, events, verified_seq, verified_hash, verified_events, books) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING xmin::text AS xid',
    values: [stream, head.seq, head.hash, head.events, batch.verified.seq, batch.verified.hash, batch.verified.events, JSON.stringify(batch.books())],
  };
  return { before: state.head, head, xid: done[0]?.xid as string | undefined };
}

/** A value in COPY's text format: backslash, newline, carriage return and tab escaped. */
export function copyText(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : text;
}

/**
 * One row in COPY's text format, its values in column order (strings through copyText, null as
 * `\N`, integers as they print), then `stream` as the last column when given; ends the line.
 */
export function copyRow(values: readonly unknown[], stream?: string): string {
  let line = '';
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (i > 0) line += '\t';
    if (typeof v === 'string') line += copyText(v);
    else if (v === null || v === undefined) line += '\\N';
    else if (typeof v === 'number' || typeof v === 'bigint') line += String(v);
    else throw new ProcuraError(ErrorCode.internal, `a ledger row holds a ${typeof v} value, not text or an integer`);
  }
  return stream === undefined ? `${line}\n` : `${line}\t${stream}\n`;
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIALS = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * COPY of lines (text format, the columns of LEDGER_COLUMNS in their order, then the stream when
 * `withStream`; without it, the rows land in the stream `main`) into a ledger table.
 */
export function copyInto(table: keyof typeof LEDGER_COLUMNS, lines: Iterable<string>, withStream = false): Query {
  return { text: `COPY procura.${table} (${columnNames(table)}${withStream ? ', stream' : ''}) FROM STDIN`, copy: lines };
}

/** The column names of a ledger table, in LEDGER_COLUMNS's order. */
export function columnNames(table: keyof typeof LEDGER_COLUMNS): string {
  return LEDGER_COLUMNS[table].split(', ').map((c) => c.split(' ')[0]).join(', ');
}

/** Columns of the ledger tables and their types, in the order COPY lines give them (the stream aside: copyInto adds it last). */
export const LEDGER_COLUMNS = {
  plants: 'seq bigint, hash text, file text, text text, first_entry bigint',
  events: 'seq bigint, id text, type text, at bigint, known_at bigint, digest text, file text, line integer, hash text',
  entries: 'seq bigint, event_id text, event_type text, at bigint, known_at bigint, reverses bigint, body text, hash text, prev_hash text',
  checkpoints: 'seq bigint, hash text, events bigint, verified_seq bigint, verified_hash text, verified_events bigint, books text',
} as const;

/** One page of stored rows (body text and hashes, not decoded) with from <= seq <= to. */
export function* rowsPageOp(stream: string, from: number, to: number, limit: number): Op<StoredEntryRow[]> {
  const rows = yield { text: 'SELECT seq, event_id, event_type, body, hash, prev_hash FROM procura.entries WHERE stream = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4', values: [stream, from, to, limit] };
  return rows.map((r) => ({ seq: r.seq as number, eventId: r.event_id as string, eventType: r.event_type as string, body: r.body as string, hash: r.hash as string, prevHash: r.prev_hash as string }));
}

/** A stored entry; the columns kept beside the body must agree with it. */
export function decodeEntry(row: Row, name: string): JournalEntry {
  const seq = row.seq as number;
  let entry: JournalEntry;
  try {
    entry = entryFromBody(row.body as string, row.hash as string, row.prev_hash as string);
  } catch (error) {
    throw new ProcuraError(ErrorCode.verify, `entry ${seq}: stored body is not valid JSON: ${(error as Error).message}`, { file: name });
  }
  if (entry.seq !== seq || entry.eventId !== row.event_id || entry.eventType !== row.event_type || entry.at !== row.at || entry.knownAt !== row.known_at || (entry.reverses ?? null) !== row.reverses) {
    throw new ProcuraError(ErrorCode.verify, `entry ${seq}: stored columns disagree with its body`, { file: name });
  }
  return entry;
}
