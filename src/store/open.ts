/**
 * Opening a ledger wherever it lives: the SQLite engine or the PostgreSQL engines, chosen from a
 * store address (address.ts), with a Ledger over them (open-store.ts opens the bare engines for
 * the commands that need no Ledger). The command line and the live runner open ledgers through
 * here; the ledger itself knows only the store contract.
 */
import { Ledger } from '../ledger/ledger.js';
import type { Plant } from '../ledger/plant.js';
import type { StoreAddress } from './address.js';
import type { PgAddress } from './pg/connect.js';
import { streamsOp } from './pg/ledger-ops.js';
import { PgSyncLedgerStore } from './pg/sync-ledger-store.js';
import { openSqliteStore, pgOptions, type OpenLedgerOptions } from './open-store.js';

export type { OpenLedgerOptions } from './open-store.js';

/** A ledger with the synchronous API (balances, journal, as-of queries, `post`). */
export function openLedger(address: StoreAddress, plant?: Plant, options: OpenLedgerOptions = {}): Ledger {
  const store = address.kind === 'sqlite' ? openSqliteStore(address.path, options) : new PgSyncLedgerStore(address, pgOptions(options));
  return Ledger.openSync(store, plant);
}

/**
 * A ledger for posting files: on PostgreSQL the asynchronous engine (`postAsync`, arrays in
 * one INSERT per table), on SQLite the synchronous one (`postAsync` runs `post`). `close`
 * waits for the connection to end.
 */
export async function openLedgerForPosting(address: StoreAddress, plant: Plant, options: OpenLedgerOptions = {}): Promise<{ ledger: Ledger; close(): Promise<void> }> {
  if (address.kind === 'sqlite') {
    const ledger = openLedger(address, plant, options);
    return { ledger, close: async () => ledger.close() };
  }
  // Loaded here, not at start-up: a command on a SQLite store never needs it (or pg-copy-streams).
  const { PgLedgerStore } = await import('./pg/ledger-store.js');
  const store = await PgLedgerStore.open(address, pgOptions(options));
  try {
    const ledger = await Ledger.openAsync(store, plant);
    return { ledger, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The streams of a PostgreSQL ledger (docs/scaling.md, "Streams"), sorted by name; the database must hold procura's schema. */
export function listStreams(address: PgAddress, options: OpenLedgerOptions = {}): string[] {
  const store = new PgSyncLedgerStore(address, pgOptions({ ...options, mustExist: true }));
  try {
    return store.run(streamsOp());
  } finally {
    store.close();
  }
}
