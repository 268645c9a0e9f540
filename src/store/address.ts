/**
 * Where a store lives: a SQLite file (the embedded default) or a PostgreSQL database given as a
 * `postgres://` URL. `--db`, `--to`, `--queue` and the live config's `store:` all take one.
 *
 * Credentials never travel in the address: a URL with a password (in the authority or as a
 * `password=` parameter) is refused, without echoing it, because command lines show up in
 * process lists, shell histories and logs. The password comes from PGPASSWORD or ~/.pgpass
 * (node-postgres reads both, as libpq does); PGPASSWORD is registered with the redaction layer
 * so no message can carry it. Every message names the database by `display`, which has no
 * password and no query string.
 */
import { ConfigError, type Where } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

export type StoreAddress =
  | { readonly kind: 'sqlite'; readonly path: string; readonly display: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly display: string };

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
  registerSecret(process.env.PGPASSWORD);
  return { kind: 'postgres', url: trimmed, display };
}
