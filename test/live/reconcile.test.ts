/**
 * Reconciliation: a balance that disagrees with the local book beyond the tolerance makes the
 * runner refuse to trade that tick (fail closed, logged) and `--reconcile-only` show the
 * difference with a non-zero exit; a local order the exchange does not know after the grace
 * period is marked lost and reported; SIGTERM stops a scheduled run after its tick, exit 0.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { newOrderRecord, type Intent, type OrderRequest } from '../../src/pipeline/index.js';
import type { LiveRunner } from '../../src/live/runner.js';
import { DAY, envFor, runCli, startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let runner: LiveRunner | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
});

describe('reconciliation', () => {
  it('a balance that disagrees beyond the tolerance: no order this tick, logged, shown by --reconcile-only; trading resumes when it agrees', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, tolerance: '0.001' } });
    runner = await rig.open();
    expect((await runner.tick()).reconciliation).toBe('ok');
    rig.advance();
    await runner.tick();
    rig.advance();
    // Someone moves 0.5 PAXG into the account by hand.
    const held = rig.emulator.balance('PAXG').free;
    rig.emulator.setBalance('PAXG', held.plus('0.5').toFixed());
    const orders = rig.emulator.orders().length;
    const refused = await runner.tick();
    expect(refused.ok).toBe(true);
    expect(refused.reconciliation).toBe('differences');
    expect(refused.tradingHalted).toBe(true);
    expect(refused.steps).toBe(1);
    expect(refused.orders).toBe(0);
    expect(refused.denials).toBeGreaterThan(0);
    expect(rig.emulator.orders().length).toBe(orders);
    expect(rig.logs.messages().some((m) => m.startsWith('reconciliation found differences: trading refused this tick (fail closed)') && m.includes('PAXG: exchange'))).toBe(true);

    const report = await runner.reconcile(false);
    expect(report.ok).toBe(false);
    expect(report.positions[0]).toMatchObject({ asset: 'PAXG', difference: '0.5', ok: false });

    // The command line shows the same and exits 5 (read only: no lock needed while the runner holds it).
    const run = await runCli(['live', '--config', rig.configFile, '--reconcile-only'], envFor(rig.emulator));
    expect(run.status, run.stderr).toBe(5);
    expect(run.stdout, run.stderr).toContain('DIFFERENCES');
    expect(run.stdout).toMatch(/PAXG: exchange [\d.]+ \| expected [\d.]+ .* \| difference 0\.5 \| BEYOND TOLERANCE 0\.001/);

    // The 0.5 goes back: trading resumes (the stored trading state was never touched).
    rig.emulator.setBalance('PAXG', held.toFixed());
    rig.advance();
    const resumed = await runner.tick();
    expect(resumed.reconciliation).toBe('ok');
    expect(resumed.tradingHalted).toBe(false);
    expect(resumed.orders).toBeGreaterThan(0);
    expect(runner.orders.storedControl()).toBeUndefined();
  }, 30_000);

  it('an acknowledged order the exchange no longer shows: kept within the grace period, in doubt after it (a halt), never changed locally', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, graceSeconds: 3600 } });
    runner = await rig.open();
    await runner.tick();
    // An order the store holds as open at the exchange, which the exchange has never heard of.
    const request: OrderRequest = { clientOrderId: 'pc-neversent', instrument: 'gold', symbol: 'PAXG/USDT', side: 'buy', type: 'limit', qty: new Decimal('0.5'), limitPrice: new Decimal('1000'), at: rig.clock.now(), reason: 'procure' };
    const intent: Intent = { at: rig.clock.now(), strategy: 'jit', instrument: 'gold', side: 'buy', qty: new Decimal('0.5'), limitPrice: new Decimal('1000'), reason: 'procure', cause: {} };
    runner.orders.insertOrder({ ...newOrderRecord(request, intent, new Decimal('500'), 1), status: 'open', venueOrderId: '999999' });
    const within = await runner.reconcile(false);
    expect(within.pendingUnknown.map((p) => p.clientOrderId)).toEqual(['pc-neversent']);
    expect(within.inDoubt).toEqual([]);
    rig.clock.advanceTo(rig.clock.now() + 2 * 3600_000);
    const report = await runner.reconcile(true);
    expect(report.ok).toBe(false);
    expect(report.inDoubt.map((l) => l.clientOrderId)).toEqual(['pc-neversent']);
    expect(report.problems.join('\n')).toContain('order pc-neversent is in doubt 7200 s after it was recorded: the exchange had acknowledged it (open) and no longer shows it');
    expect(runner.orders.getOrder('pc-neversent')!.status).toBe('open');
    expect(rig.emulator.orders().some((o) => o.clientOrderId === 'pc-neversent')).toBe(false);
  }, 120_000);
});

describe('signals', () => {
  it('SIGTERM stops a scheduled run after its current tick, persisted, exit 0', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, cron: '* * * * * *' } });
    const child = spawn(process.execPath, ['bin/procura.js', 'live', '--config', rig.configFile], { env: { ...process.env, ...envFor(rig.emulator) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('tick ok')) resolve();
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('stopping: finishing the current tick');
    expect(out).toContain('"msg":"stopped"');
    // The lock was released: another run may start at once.
    runner = await rig.open({ clock: { now: () => Date.now() } });
    expect(runner.store.lockHolder()?.pid).toBe(process.pid);
    void DAY;
  }, 30_000);
});
