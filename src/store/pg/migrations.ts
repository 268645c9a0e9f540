/**
 * procura's PostgreSQL schema, as numbered migrations (`procura db migrate` applies the ones a
 * database has not had yet, each in its own transaction, and records it in
 * `procura.schema_migrations`). The SQL is meant to be read: docs/scaling.md walks through it,
 * and a BI tool reads the books from the views of migration 2 with a `procura_reader` login.
 *
 * Everything lives in the schema `procura`; one database holds one ledger (create a database
 * per ledger) of one or more streams, each its own hash chain (migration 4; the stream `main`
 * unless an address says `?stream=`). The ledger tables mirror the SQLite store (sqlite-store.ts) column for column,
 * so `procura db copy` moves rows as they are and the hash chain verifies on both sides.
 *
 * When migrations run: on the first open of a database that has no procura schema (so a
 * `postgres://` URL works like a new SQLite path), and otherwise only by `procura db migrate`.
 * A database whose schema is older than this procura is refused with a message saying so (an
 * upgrade of a shared database is a deliberate act, run by its owner), one that is newer too.
 */
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import { sqlState } from './connect.js';
import type { Op, Query } from './ops.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Append-only: any UPDATE, DELETE or TRUNCATE of these tables raises, whoever runs it. */
function appendOnly(table: string): string {
  return `
CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON procura.${table}
  FOR EACH ROW EXECUTE FUNCTION procura.refuse_change();
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON procura.${table}
  FOR EACH STATEMENT EXECUTE FUNCTION procura.refuse_change();`;
}

const LEDGER_TABLES = ['meta', 'plants', 'events', 'entries', 'checkpoints'] as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger tables, append-only',
    sql: `
CREATE SCHEMA IF NOT EXISTS procura;

CREATE TABLE procura.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Store-wide settings fixed by the first posting: format, trigger variant, currency.
CREATE TABLE procura.meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- Plant versions (the YAML text as posted), each with the first entry posted under it.
CREATE TABLE procura.plants (
  seq         bigint PRIMARY KEY,
  hash        text NOT NULL,            -- sha256 of text; entries name it in plantHash
  file        text NOT NULL,
  text        text NOT NULL,
  first_entry bigint NOT NULL UNIQUE
);

-- One record per event posted; id is the idempotency key (an event id posts once).
CREATE TABLE procura.events (
  seq      bigint PRIMARY KEY,
  id       text NOT NULL UNIQUE,
  type     text NOT NULL,
  at       bigint NOT NULL,             -- epoch milliseconds
  known_at bigint NOT NULL,
  digest   text NOT NULL,               -- sha256 of the event's canonical JSON
  file     text,
  line     integer,
  hash     text NOT NULL                -- what the event's entries name in eventHash
);

-- The journal: body is the entry's canonical JSON (amounts as decimal strings); hash is
-- sha256(body || prev_hash), so each entry seals the whole chain before it.
CREATE TABLE procura.entries (
  seq        bigint PRIMARY KEY,
  event_id   text NOT NULL,
  event_type text NOT NULL,
  at         bigint NOT NULL,
  known_at   bigint NOT NULL,
  reverses   bigint,
  body       text NOT NULL,
  hash       text NOT NULL,
  prev_hash  text NOT NULL
);
CREATE INDEX entries_event ON procura.entries (event_id);
CREATE INDEX entries_reverses ON procura.entries (reverses) WHERE reverses IS NOT NULL;

-- The books after each posting (opening a ledger reads the last row, not the journal).
CREATE TABLE procura.checkpoints (
  seq             bigint PRIMARY KEY,
  hash            text NOT NULL,
  events          bigint NOT NULL,
  verified_seq    bigint NOT NULL,
  verified_hash   text NOT NULL,
  verified_events bigint NOT NULL,
  books           text NOT NULL
);

CREATE FUNCTION procura.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'procura ledger is append-only: % rows cannot be %d', TG_TABLE_NAME, lower(TG_OP)
    USING ERRCODE = 'restrict_violation';
END
$$;
${LEDGER_TABLES.map(appendOnly).join('\n')}
`,
  },
  {
    version: 2,
    name: 'views for reading the books',
    sql: `
-- Times as timestamptz next to the epoch milliseconds the ledger keeps; amounts as numeric.

CREATE VIEW procura.journal AS
SELECT e.seq, e.event_id, e.event_type,
       to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       e.reverses, e.body::jsonb AS body, e.hash
FROM procura.entries e;

-- One row per debit or credit line.
CREATE VIEW procura.journal_lines AS
SELECT e.seq, e.event_id, e.event_type,
       to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       l.line, l.value ->> 'account' AS account,
       (l.value ->> 'debit')::numeric AS debit, (l.value ->> 'credit')::numeric AS credit
FROM procura.entries e
CROSS JOIN LATERAL jsonb_array_elements(e.body::jsonb -> 'lines') WITH ORDINALITY AS l(value, line);

-- The trial balance (debit positive), as procura ledger balances prints it.
CREATE VIEW procura.balances AS
SELECT account, sum(debit) AS debit, sum(credit) AS credit, sum(debit) - sum(credit) AS balance
FROM procura.journal_lines
GROUP BY account;

-- Quantity movements: materials and finished products (book quantities), hedges.
CREATE VIEW procura.movements AS
SELECT e.seq, e.event_id, e.event_type,
       to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       m.value ->> 'kind' AS kind, m.value ->> 'id' AS id,
       (m.value ->> 'qty')::numeric AS qty, (m.value ->> 'after')::numeric AS after,
       (m.value ->> 'value')::numeric AS value
FROM procura.entries e
CROSS JOIN LATERAL jsonb_array_elements(e.body::jsonb -> 'movements') AS m(value);

CREATE VIEW procura.quantities AS
SELECT kind, id, sum(qty) AS qty
FROM procura.movements
GROUP BY kind, id;

-- The cost feed's inputs: actual purchase cost, conversion cost incurred, units completed
-- and sold (a reversal carries the negated figures, so sums net out).
CREATE VIEW procura.purchases AS
SELECT e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'material' AS material,
       (b -> 'actual' ->> 'qty')::numeric AS qty,
       (b -> 'actual' ->> 'amount')::numeric AS amount,
       b ->> 'ref' AS ref
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'purchase';

CREATE VIEW procura.conversion_costs AS
SELECT e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'category' AS category,
       (b -> 'actual' ->> 'amount')::numeric AS amount
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'conversion';

CREATE VIEW procura.completions AS
SELECT e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'product' AS product,
       (b -> 'actual' ->> 'qty')::numeric AS qty,
       (b -> 'actual' ->> 'allocated')::numeric AS allocated_conversion
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'completion';

CREATE VIEW procura.sales AS
SELECT e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'product' AS product,
       (b -> 'actual' ->> 'qty')::numeric AS qty,
       (b -> 'actual' ->> 'conversion')::numeric AS conversion
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'sale';

-- Plant versions in force from an entry on (the YAML text: BOM, standard costs).
CREATE VIEW procura.plant_versions AS
SELECT seq AS version, first_entry, file, hash, text FROM procura.plants;
`,
  },
  {
    version: 3,
    name: 'roles: procura_writer (no UPDATE, DELETE) and procura_reader',
    sql: `
-- Two group roles (NOLOGIN; grant them to login roles). Creating roles needs CREATEROLE: when
-- the migrating role lacks it and the roles do not exist yet, a DBA creates them (see
-- docs/scaling.md) and runs procura db migrate again; the grants below then apply.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['procura_writer', 'procura_reader'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;  -- created meanwhile by another database's migration
        WHEN insufficient_privilege THEN RAISE EXCEPTION 'role % does not exist and this role cannot create it: CREATE ROLE % NOLOGIN as a superuser, then procura db migrate again', r, r;
      END;
    END IF;
  END LOOP;
END
$$;

GRANT USAGE ON SCHEMA procura TO procura_reader, procura_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA procura TO procura_reader, procura_writer;
-- The writer appends: INSERT, never UPDATE, DELETE or TRUNCATE on the ledger tables.
GRANT INSERT ON procura.meta, procura.plants, procura.events, procura.entries, procura.checkpoints TO procura_writer;
`,
  },
  {
    version: 4,
    name: 'streams: several hash chains in one ledger',
    sql: `
-- A database is one ledger of one or more streams (docs/scaling.md, "Streams"): each stream is
-- its own hash chain, with its own entries and events (numbered from 1), plant versions, books
-- checkpoints, settings and idempotency (an event id posts once per stream), and its own chain
-- lock, so processes posting into different streams never wait for each other. The rows a
-- database had before this migration are stream 'main', the stream of a URL without ?stream=.
--
-- ADD COLUMN with a constant default rewrites no row (the default is kept in the catalog), so
-- the append-only triggers do not fire; the keys are rebuilt as indexes, no row is changed.
${LEDGER_TABLES.map((t) => `ALTER TABLE procura.${t} ADD COLUMN stream text NOT NULL DEFAULT 'main' CONSTRAINT ${t}_stream_name CHECK (stream ~ '^[a-z0-9][a-z0-9_-]{0,62}$');`).join('\n')}

ALTER TABLE procura.meta DROP CONSTRAINT meta_pkey, ADD PRIMARY KEY (stream, key);
ALTER TABLE procura.plants DROP CONSTRAINT plants_pkey, DROP CONSTRAINT plants_first_entry_key,
  ADD PRIMARY KEY (stream, seq), ADD CONSTRAINT plants_first_entry_key UNIQUE (stream, first_entry);
ALTER TABLE procura.events DROP CONSTRAINT events_pkey, DROP CONSTRAINT events_id_key,
  ADD PRIMARY KEY (stream, seq), ADD CONSTRAINT events_id_key UNIQUE (stream, id);
ALTER TABLE procura.entries DROP CONSTRAINT entries_pkey, ADD PRIMARY KEY (stream, seq);
DROP INDEX procura.entries_event, procura.entries_reverses;
CREATE INDEX entries_event ON procura.entries (stream, event_id);
CREATE INDEX entries_reverses ON procura.entries (stream, reverses) WHERE reverses IS NOT NULL;
ALTER TABLE procura.checkpoints DROP CONSTRAINT checkpoints_pkey, ADD PRIMARY KEY (stream, seq);

-- The views of migration 2 again, each with the stream first. Every figure is per stream
-- (balances and quantities group by stream too): a stream's books are its own. A BI reader
-- wanting the whole ledger sums across streams, e.g.
--   SELECT account, sum(balance) FROM procura.balances GROUP BY account;
-- (a view of one's own on top of these must be dropped before this migration and made again).
DROP VIEW procura.journal, procura.journal_lines, procura.balances, procura.movements, procura.quantities,
  procura.purchases, procura.conversion_costs, procura.completions, procura.sales, procura.plant_versions;

CREATE VIEW procura.journal AS
SELECT e.stream, e.seq, e.event_id, e.event_type,
       to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       e.reverses, e.body::jsonb AS body, e.hash
FROM procura.entries e;

-- One row per debit or credit line.
CREATE VIEW procura.journal_lines AS
SELECT e.stream, e.seq, e.event_id, e.event_type,
       to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       l.line, l.value ->> 'account' AS account,
       (l.value ->> 'debit')::numeric AS debit, (l.value ->> 'credit')::numeric AS credit
FROM procura.entries e
CROSS JOIN LATERAL jsonb_array_elements(e.body::jsonb -> 'lines') WITH ORDINALITY AS l(value, line);

-- The trial balance of each stream (debit positive), as procura ledger balances prints it for
-- one; across streams: SELECT account, sum(balance) FROM procura.balances GROUP BY account.
CREATE VIEW procura.balances AS
SELECT stream, account, sum(debit) AS debit, sum(credit) AS credit, sum(debit) - sum(credit) AS balance
FROM procura.journal_lines
GROUP BY stream, account;

-- Quantity movements: materials and finished products (book quantities), hedges.
CREATE VIEW procura.movements AS
SELECT e.stream, e.seq, e.event_id, e.event_type,
       to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       m.value ->> 'kind' AS kind, m.value ->> 'id' AS id,
       (m.value ->> 'qty')::numeric AS qty, (m.value ->> 'after')::numeric AS after,
       (m.value ->> 'value')::numeric AS value
FROM procura.entries e
CROSS JOIN LATERAL jsonb_array_elements(e.body::jsonb -> 'movements') AS m(value);

-- Per stream; across streams: SELECT kind, id, sum(qty) FROM procura.quantities GROUP BY kind, id.
CREATE VIEW procura.quantities AS
SELECT stream, kind, id, sum(qty) AS qty
FROM procura.movements
GROUP BY stream, kind, id;

-- The cost feed's inputs: actual purchase cost, conversion cost incurred, units completed
-- and sold (a reversal carries the negated figures, so sums net out).
CREATE VIEW procura.purchases AS
SELECT e.stream, e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'material' AS material,
       (b -> 'actual' ->> 'qty')::numeric AS qty,
       (b -> 'actual' ->> 'amount')::numeric AS amount,
       b ->> 'ref' AS ref
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'purchase';

CREATE VIEW procura.conversion_costs AS
SELECT e.stream, e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'category' AS category,
       (b -> 'actual' ->> 'amount')::numeric AS amount
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'conversion';

CREATE VIEW procura.completions AS
SELECT e.stream, e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'product' AS product,
       (b -> 'actual' ->> 'qty')::numeric AS qty,
       (b -> 'actual' ->> 'allocated')::numeric AS allocated_conversion
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'completion';

CREATE VIEW procura.sales AS
SELECT e.stream, e.seq, e.event_id, to_timestamp(e.at / 1000.0) AS at, to_timestamp(e.known_at / 1000.0) AS known_at,
       b -> 'actual' ->> 'product' AS product,
       (b -> 'actual' ->> 'qty')::numeric AS qty,
       (b -> 'actual' ->> 'conversion')::numeric AS conversion
FROM procura.entries e CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) body
WHERE b -> 'actual' ->> 'kind' = 'sale';

-- Plant versions in force from an entry of their stream on (the YAML text: BOM, standard costs).
CREATE VIEW procura.plant_versions AS
SELECT stream, seq AS version, first_entry, file, hash, text FROM procura.plants;

-- The re-created views need migration 3's grants again (the roles exist: migration 3 made them).
GRANT SELECT ON ALL TABLES IN SCHEMA procura TO procura_reader, procura_writer;
`,
  },
];

/** The schema version this procura writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Key of the session advisory lock that serialises migrations (one migrator at a time). */
const MIGRATE_LOCK = 'procura.migrate';

/** The version a database is at (0: no procura schema). */
export function* schemaVersionOp(): Op<number> {
  const exists = yield { text: "SELECT to_regclass('procura.schema_migrations')::text AS t" };
  if (exists[0]?.t === null || exists[0]?.t === undefined) return 0;
  const row = yield { text: 'SELECT max(version) AS v FROM procura.schema_migrations' };
  return (row[0]?.v as number | null) ?? 0;
}

/** Applies the pending migrations, each in its own transaction; returns those applied. */
export function* migrateOp(display: string): Op<{ from: number; to: number; applied: Migration[] }> {
  yield { text: 'SELECT pg_advisory_lock(hashtext($1))', values: [MIGRATE_LOCK] };
  try {
    const from = yield* schemaVersionOp();
    if (from > SCHEMA_VERSION) throw newerSchema(from, display);
    const applied: Migration[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      try {
        yield { text: 'BEGIN' };
        yield { text: m.sql };
        yield { text: 'INSERT INTO procura.schema_migrations (version, name) VALUES ($1, $2)', values: [m.version, m.name] };
        yield { text: 'COMMIT' };
      } catch (error) {
        yield* ignoringErrors({ text: 'ROLLBACK' });
        const hint = sqlState(error) === '42501' ? ' (this role may not change the schema: run procura db migrate as the database owner)' : '';
        throw new ProcuraError(ErrorCode.store, `migration ${m.version} (${m.name}) failed: ${(error as Error).message}${hint}`, { file: display });
      }
      applied.push(m);
    }
    return { from, to: Math.max(from, SCHEMA_VERSION), applied };
  } finally {
    yield* ignoringErrors({ text: 'SELECT pg_advisory_unlock(hashtext($1))', values: [MIGRATE_LOCK] });
  }
}

/** A query whose failure does not matter (cleanup after another failure). */
function* ignoringErrors(q: Query): Op<void> {
  try {
    yield q;
  } catch {
    // nothing to do
  }
}

function newerSchema(version: number, display: string): ProcuraError {
  return new ProcuraError(ErrorCode.store, `the database's procura schema is at version ${version}, newer than this procura (${SCHEMA_VERSION}): upgrade procura`, { file: display });
}

/**
 * Makes sure a database can be used: creates the schema on a database that has none (the first
 * open; unless `create` is false, as for read-only commands), refuses one that is older (run `procura db migrate`) or newer than this procura.
 */
export function* ensureSchemaOp(display: string, options: { create?: boolean } = {}): Op<void> {
  const version = yield* schemaVersionOp();
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) throw newerSchema(version, display);
  if (version === 0) {
    if (options.create === false) throw new ProcuraError(ErrorCode.store, 'no procura ledger in this database (post events first, or run procura db migrate)', { file: display });
    yield* migrateOp(display);
    return;
  }
  // Another process may have migrated since we looked.
  const again = yield* schemaVersionOp();
  if (again === SCHEMA_VERSION) return;
  throw new ProcuraError(ErrorCode.store, `the database's procura schema is at version ${again}, this procura needs ${SCHEMA_VERSION}: run procura db migrate --db ${display} (as the database owner)`, { file: display });
}
