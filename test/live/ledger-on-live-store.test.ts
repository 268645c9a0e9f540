/**
 * `procura ledger balances` and `ledger verify` work on a live store from its first tick, before
 * anything reached the ledger (a desk whose ledger is fed by `procura ledger post`, with its
 * first delivery still in transit): the live runner records the plant it works with.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveRunner } from '../../src/live/runner.js';
import { procura } from '../support/cli.js';
import { startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let runner: LiveRunner | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
});

describe('the ledger commands on a fresh live store', () => {
  it('balances and verify work after the first tick, with nothing posted yet', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, simulate: false } });
    runner = await rig.open();
    const first = await runner.tick();
    expect(first.ok, first.error).toBe(true);
    expect(first.orders).toBeGreaterThan(0); // bought, in transit for leadTimeDays
    expect(runner.store.ledgerEntryCount()).toBe(0);
    runner.close();
    runner = undefined;
    const db = rig.config.storePath;
    const balances = procura(['ledger', 'balances', '--db', db]);
    expect(balances.status, balances.stderr).toBe(0);
    expect(balances.stdout).toContain('Trial balance (USD, purchase-completion-sale)');
    const verify = procura(['ledger', 'verify', '--db', db]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok: 0 entries balance/);
  }, 120_000);
});
