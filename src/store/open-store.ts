/**
 * The bare store engine at an address, without a Ledger over it: what the commands that read
 * only the chain use (`procura ledger verify` needs no parsed plant, so it loads neither the
 * plant's YAML parser nor zod). open.ts builds ledgers over the same engines.
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

/** The SQLite engine on the file at `path` (refused when the store must exist and the file does not). */
export function openSqliteStore(path: string, options: OpenLedgerOptions = {}): SqliteStore {
  if (options.mustExist === true && !existsSync(path)) throw new ProcuraError(ErrorCode.store, 'no ledger store here (post events first)', { file: path });
  return new SqliteStore(path, { ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}), ...(options.onWait !== undefined ? { onWait: options.onWait } : {}) });
}

/**
 * The synchronous store engine at `address`; the caller closes it. Asynchronous only so that
 * the PostgreSQL engine's modules load for a postgres:// address alone (open.ts, which opens
 * ledgers synchronously, imports them itself).
 */
export async function openSyncStore(address: StoreAddress, options: OpenLedgerOptions = {}): Promise<SyncLedgerStore> {
  if (address.kind === 'sqlite') return openSqliteStore(address.path, options);
  const { PgSyncLedgerStore } = await import('./pg/sync-ledger-store.js');
  return new PgSyncLedgerStore(address, pgOptions(options));
}
