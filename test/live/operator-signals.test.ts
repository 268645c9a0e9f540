/**
 * What an operator (or cron) sees: a halted tick exits 5, distinct from a failed one (1) and
 * a clean one (0); a partial fill is logged as a partial fill at warn, not as "decision sent";
 * a denied forced reorder (the plant will run out) is logged at warn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveRunner } from '../../src/live/runner.js';
import { envFor, runCli, startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let runner: LiveRunner | undefined;
afterEach(async () => {
  runner?.close();
  runner = undefined;
  await rig?.stop();
  rig = undefined;
});

const WARN = 40;

describe('exit statuses and log levels an operator can act on', () => {
  it('a tick halted by reconciliation exits 5 (--once), a clean one 0', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    const env = envFor(rig.emulator);
    const clean = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(clean.status, clean.stderr + clean.stdout).toBe(0);
    rig.emulator.advance();
    // Someone moves 0.5 PAXG into the account by hand: the book no longer agrees.
    rig.emulator.setBalance('PAXG', rig.emulator.balance('PAXG').free.plus('0.5').toFixed());
    const halted = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(halted.status, halted.stderr + halted.stdout).toBe(5);
    expect(halted.stdout).toContain('trading halted this tick');
    const reconcileOnly = await runCli(['live', '--config', rig.configFile, '--reconcile-only'], env);
    expect(reconcileOnly.status, reconcileOnly.stderr).toBe(5);
  }, 300_000);

  it('a partial fill is logged as a partial fill at warn', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} }, emulator: { depthPerCandle: '0.3' } });
    runner = await rig.open();
    const summary = await runner.tick();
    expect(summary.ok, summary.error).toBe(true);
    const order = rig.emulator.orders()[0]!;
    expect(order.status).toBe('EXPIRED');
    expect(order.executedQty.toFixed()).toBe('0.3');
    const line = rig.logs.lines.find((l) => l['component'] === 'desk' && l['clientOrderId'] === order.clientOrderId);
    expect(line, rig.logs.text()).toBeDefined();
    expect(line!['level']).toBe(WARN);
    expect(String(line!['msg'])).toMatch(/^decision partially filled: buy gold 0\.3 of [\d.]+ filled, the rest expired/);
  }, 120_000);

  it('a denied forced reorder is logged at warn; other denials at info', async () => {
    rig = await startLiveRig({ config: { risk: '{ maxOrderNotional: "10", maxDailyNotional: "300000" }' } });
    runner = await rig.open();
    const summary = await runner.tick();
    expect(summary.ok, summary.error).toBe(true);
    expect(summary.denials).toBeGreaterThan(0);
    const denied = rig.logs.lines.filter((l) => l['component'] === 'desk' && l['outcome'] === 'denied');
    const forced = denied.filter((l) => l['reason'] === 'forced-reorder');
    expect(forced.length, rig.logs.text()).toBeGreaterThan(0);
    for (const line of forced) expect(line['level']).toBe(WARN);
    expect(String(forced[0]!['msg'])).toContain('the plant will run out');
  }, 120_000);
});
