/**
 * Where a store lives: a SQLite file (the embedded default) or a PostgreSQL database given as a
 * `postgres://` URL. `--db`, `--to`, `--queue` and the live config's `store:` all take one.
 *
 * Credentials never travel in the address: a URL with a password (in the authority or as a
 * `password=` parameter) is refused, without echoing it, because command lines show up in
 * process lists, shell histories and logs. The password comes from PGPASSWORD or ~/.pgpass
 * (node-postgres reads both, as libpq does); PGPASSWORD is registered with the redaction layer
 * so no message can carry it. Every message names the database by `display`, which has no
 * password and no query string but the stream's.
 *
 * A PostgreSQL database is one ledger of one or more streams, each its own hash chain
 * (docs/scaling.md, "Streams"): `?stream=NAME` selects one (default `main`). The parameter is
 * procura's, not libpq's: it is taken off the URL node-postgres connects with (node-postgres
 * would read `stream` as its socket). `display` names a stream other than `main` the way it was
 * given, `postgres://user@host:5432/db?stream=plant-a`, so a message's address can be pasted
 * back into `--db`.
 */
import { ConfigError, type Where } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

export type StoreAddress =
  | { readonly kind: 'sqlite'; readonly path: string; readonly display: string }
  | {
      readonly kind: 'postgres';
      /** The URL node-postgres connects with (without `stream`). */
      readonly url: string;
      readonly display: string;
      /** The ledger stream this address posts into and reads (`main` unless `?stream=` says otherwise). */
      readonly stream: string;
    };

/** The stream of an address without `?stream=`. */
export const DEFAULT_STREAM = 'main';

/** What a stream may be called: lower-case letters, digits, `_` and `-`, at most 63, starting with a letter or digit. */
export const STREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const POSTGRES = /^postgres(ql)?:\/\//i;

/** Whether the text names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(text: string): boolean {
  return POSTGRES.test(text.trim());
}

/** `postgres://user:secret@host/db?x=y` -> `postgres://user@host/db` (for messages). */
export function displayUrl(text: string): string {
  try {
    const url = new URL(text.trim());
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Parses a store address; `where` names the flag or config field for messages. */
export function parseStoreAddress(text: string, where: Where): StoreAddress {
  const trimmed = text.trim();
  if (!isPostgresUrl(trimmed)) return { kind: 'sqlite', path: text, display: text };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ConfigError('not a valid postgres:// URL (expected postgres://user@host:port/database)', where);
  }
  const display = displayUrl(trimmed);
  if (url.password !== '' || url.searchParams.has('password')) {
    throw new ConfigError(`${display}: the URL carries a password; put it in PGPASSWORD or ~/.pgpass instead (a URL shows up in process lists, shell histories and logs)`, where);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) throw new ConfigError(`${display}: no host in the URL (expected postgres://user@host:port/database)`, where);
  if (url.pathname === '' || url.pathname === '/') throw new ConfigError(`${display}: no database in the URL (expected postgres://user@host:port/database)`, where);
  const streams = url.searchParams.getAll('stream');
  if (streams.length > 1) throw new ConfigError(`${display}: the URL names ${streams.length} streams (give stream= once)`, where);
  const stream = streams[0] ?? DEFAULT_STREAM;
  if (!STREAM_NAME.test(stream)) {
    throw new ConfigError(`${display}: stream ${JSON.stringify(stream)} is not a stream name (lower-case letters, digits, _ and -, at most 63, starting with a letter or digit)`, { ...where, field: `${where.field ?? 'address'}: stream` });
  }
  url.searchParams.delete('stream');
  registerSecret(process.env.PGPASSWORD);
  return inStream({ kind: 'postgres', url: streams.length === 0 ? trimmed : url.toString(), display, stream: DEFAULT_STREAM }, stream);
}

/** The same database's stream `stream`, from an address that names no stream (its display is the database's). */
export function inStream(address: Extract<StoreAddress, { kind: 'postgres' }>, stream: string): StoreAddress {
  return { ...address, stream, display: stream === DEFAULT_STREAM ? address.display : `${address.display}?stream=${stream}` };
}
