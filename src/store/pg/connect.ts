/**
 * Connections to PostgreSQL through node-postgres (`pg`). Every connection procura opens:
 *
 * - reads credentials the way libpq does (PGPASSWORD, ~/.pgpass; never the URL, see address.ts);
 * - returns int8 columns as JS numbers (seq numbers, epoch milliseconds: all below 2^53) and
 *   numeric columns as decimal strings, so nothing is rounded on the way;
 * - names itself (`application_name`) so an operator sees in pg_stat_activity who is who;
 * - turns connection failures into one store error naming the database by its display URL.
 *
 * node-postgres itself loads on the first connection (about 50 ms of CPU at start-up), so
 * commands on a SQLite store, which import this module for its error helpers, never load it.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import type { StoreAddress } from '../address.js';

const INT8 = 20;

let pgModule: typeof pg | undefined;
/** node-postgres, loaded when first needed (a CommonJS package: `require` loads it synchronously). */
function pgLib(): typeof pg {
  return (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg);
}

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new ProcuraError(ErrorCode.store, `a bigint column holds ${text}, beyond what procura reads exactly`);
  return value;
}

/** Type parsers for procura's own queries (graphile-worker keeps the library defaults). */
export const PROCURA_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 && format !== 'binary' ? parseInt8 : pgLib().types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser,
};

export type PgAddress = Extract<StoreAddress, { kind: 'postgres' }>;

/** A connected client, or a store error naming the database (never the credentials). */
export async function connectPg(address: PgAddress, applicationName: string): Promise<pg.Client> {
  const client = new (pgLib().Client)({ connectionString: address.url, application_name: applicationName.slice(0, 63), types: PROCURA_TYPES });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw pgError(error, address, 'cannot connect');
  }
  // A broken connection must not crash the process from an event handler; the next query fails instead.
  client.on('error', () => undefined);
  return client;
}

/** SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A PostgreSQL or network error as a ProcuraError naming the database. */
export function pgError(error: unknown, address: { display: string }, doing: string): ProcuraError {
  if (error instanceof ProcuraError) return error;
  const e = error as { code?: string; message?: string };
  let reason = e.message ?? String(error);
  if (e.code === 'ECONNREFUSED') reason = 'connection refused (is PostgreSQL running there?)';
  else if (e.code === 'ENOTFOUND') reason = 'unknown host';
  else if (e.code === '28P01' || e.code === '28000') reason = `${reason} (the password comes from PGPASSWORD or ~/.pgpass)`;
  else if (e.code === '3D000') reason = `${reason} (create it first: createdb, or CREATE DATABASE)`;
  return new ProcuraError(ErrorCode.store, `${doing}: ${reason}`, { file: address.display });
}
