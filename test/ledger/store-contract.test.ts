import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, SqliteStore, asyncStore } from '../../src/ledger/index.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async () => {
  const store = new MemoryStore();
  return { open: async () => asyncStore(store), dispose: async () => undefined };
});

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'procura-contract-'));
  const path = join(dir, 'ledger.db');
  return { open: async () => asyncStore(new SqliteStore(path)), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});
