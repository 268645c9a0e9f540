/**
 * The bare store engine at an address, without a Ledger over it: what the commands that read
 * only the chain use (`procura ledger verify` and `head` need no parsed plant, so they load
 * neither the plant's YAML parser nor zod). open.ts builds ledgers over the same engines.
 */
import { existsSync } from 'node:fs';
import { ErrorCode, ProcuraError } from '../core/errors.js';
import { SqliteStore } from '../ledger/sqlite-store.js';
import type { SyncLedgerStore } from '../ledger/store.js';
import type { StoreAddress } from './address.js';
import type { PgStoreOptions } from './pg/ledger-store.js';

export interface OpenLedgerOptions {
  /** Milliseconds to wait for another writer before E_LOCKED (exit 4). */
  readonly lockTimeoutMs?: number;
  /** Called once when another writer holds the store and this one starts waiting. */
  readonly onWait?: (name: string) => void;
  /** The store must already exist (read-only commands): no new file, no new schema. */
  readonly mustExist?: boolean;
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
}

/** The PostgreSQL engines' options for `options`. */
export function pgOptions(options: OpenLedgerOptions): PgStoreOptions {
  return {
    ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
    ...(options.onWait !== undefined ? { onWait: options.onWait } : {}),
    applicationName: options.applicationName ?? 'procura',
    create: options.mustExist !== true,
  };
}

/** A SQLite file's options for `options`. */
export function sqliteOptions(options: OpenLedgerOptions): { lockTimeoutMs?: number; onWait?: (name: string) => void } {
  return { ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}), ...(options.onWait !== undefined ? { onWait: options.onWait } : {}) };
}

/** Refuses a SQLite path with no file when the store must exist. */
export function requireSqliteFile(path: string, options: OpenLedgerOptions): void {
  if (options.mustExist === true && !existsSync(path)) throw new ProcuraError(ErrorCode.store, 'no ledger store here (post events first)', { file: path });
}

/** The synchronous store engine at `address` (the PostgreSQL one loaded only for a postgres:// address); the caller closes it. */
export async function openSyncStore(address: StoreAddress, options: OpenLedgerOptions = {}): Promise<SyncLedgerStore> {
  if (address.kind === 'sqlite') {
    requireSqliteFile(address.path, options);
    return new SqliteStore(address.path, sqliteOptions(options));
  }
  const { PgSyncLedgerStore } = await import('./pg/sync-ledger-store.js');
  return new PgSyncLedgerStore(address, pgOptions(options));
}
