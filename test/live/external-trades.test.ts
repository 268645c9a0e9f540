/**
 * Trades on the account that procura did not make, and the operator's commands.
 *
 *   - A manual buy (a client order id without procura's prefix) is recorded once, set aside by
 *     the default policy (the balance check counts it, the ledger does not), logged at warn, and
 *     trading goes on; the trade cursor moves past it, so later ticks do not report it again.
 *     `procura live resolve trade KEY --book` later books it as a purchase.
 *   - A trade with procura's prefix that this store does not know (another run or store on the
 *     same account) halts (exit 5) until the operator answers; `procura live status` says what
 *     the desk waits for and the command that answers it.
 *   - A balance changed on purpose: `procura live resolve difference ASSET --note ...` accepts
 *     it (no SQL, the baseline is never edited).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.js';
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

describe('external trades', () => {
  it('a manual buy: recorded once, set aside, trading goes on; the operator books it later', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open();
    expect((await runner.tick()).ok).toBe(true);
    rig.advance();
    const manual = rig.emulator.placeOrder({ symbol: 'PAXGUSDT', side: 'BUY', quantity: '0.5', clientOrderId: 'web_8f3kq2' });
    const trade = rig.emulator.trades().find((t) => t.orderId === manual.orderId)!;
    const key = `PAXG/USDT:${trade.id}`;
    const seen = await runner.tick();
    expect(seen.ok, seen.error).toBe(true);
    expect(seen.reconciliation).toBe('ok');
    expect(seen.tradingHalted).toBe(false);
    const line = rig.logs.lines.find((l) => String(l['msg']).startsWith(`external trade ${key}`));
    expect(line, rig.logs.text()).toBeDefined();
    expect(line!['level']).toBe(40);
    expect(String(line!['msg'])).toContain('set aside by policy');
    const record = runner.store.externalTrade(key)!;
    expect(record).toMatchObject({ origin: 'foreign', status: 'set-aside', clientOrderId: 'web_8f3kq2', side: 'buy', qty: '0.5' });
    // Later ticks: not reported again, and trading goes on.
    for (let i = 0; i < 3; i += 1) {
      rig.advance();
      const later = await runner.tick();
      expect(later.reconciliation).toBe('ok');
      expect(later.tradingHalted).toBe(false);
    }
    expect(rig.logs.lines.filter((l) => String(l['msg']).startsWith(`external trade ${key}`)).length).toBe(1);
    expect(runner.store.externalTrades().length).toBe(1);

    // The operator decides the gold was bought for the plant after all: book it.
    const env = envFor(rig.emulator);
    const booked = await runCli(['live', 'resolve', 'trade', key, '--config', rig.configFile, '--book', '--note', 'bought by the workshop manager'], env);
    expect(booked.status, booked.stderr).toBe(0);
    expect(booked.stdout).toContain(`external trade ${key} booked: a purchase of 0.4995 gold`);
    rig.advance();
    const after = await runner.tick();
    expect(after.ok, after.error).toBe(true);
    expect(after.reconciliation).toBe('ok');
    runner.close();
    runner = undefined;
    const ledger = Ledger.openSqlite(rig.config.storePath);
    try {
      const purchase = ledger.entries().find((e) => e.eventId === `external:${key}`);
      expect(purchase, 'the external buy reached the ledger as a purchase').toBeDefined();
      expect(purchase!.movements[0]!.qty.toFixed()).toBe('0.4995');
    } finally {
      ledger.journal.close();
    }
  }, 300_000);

  it("a trade with procura's prefix unknown to this store: halts (exit 5) until the operator answers; status says what it waits for", async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    const env = envFor(rig.emulator);
    expect((await runCli(['live', '--config', rig.configFile, '--once'], env)).status).toBe(0);
    rig.emulator.advance();
    const other = rig.emulator.placeOrder({ symbol: 'PAXGUSDT', side: 'BUY', quantity: '0.25', clientOrderId: 'pc-fromanotherstore' });
    const key = `PAXG/USDT:${rig.emulator.trades().find((t) => t.orderId === other.orderId)!.id}`;
    const halted = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(halted.status, halted.stdout + halted.stderr).toBe(5);
    const again = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(again.status, 'still waiting: the next run halts too').toBe(5);

    const status = await runCli(['live', 'status', '--config', rig.configFile], {});
    expect(status.status, status.stderr).toBe(5);
    expect(status.stdout).toContain('WAITING FOR THE OPERATOR');
    expect(status.stdout).toContain(`waiting for: trade ${key}: buy 0.25 PAXG/USDT`);
    expect(status.stdout).toContain("procura's prefix, unknown to this store");
    expect(status.stdout).toContain(`procura live resolve --config ${rig.configFile} trade ${key} --book | --set-aside`);

    const answer = await runCli(['live', 'resolve', 'trade', key, '--config', rig.configFile, '--set-aside', '--note', 'the old desk on the same account'], {});
    expect(answer.status, answer.stderr).toBe(0);
    expect(answer.stdout).toContain(`external trade ${key} set aside`);
    rig.emulator.advance();
    const resumed = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const ok = await runCli(['live', 'status', '--config', rig.configFile, '--json'], {});
    expect(ok.status, ok.stderr).toBe(0);
    const json = JSON.parse(ok.stdout) as { state: string; awaiting: unknown[]; externalTrades: Array<{ key: string; status: string; resolution: string }> };
    expect(json.state).toBe('ok');
    expect(json.awaiting).toEqual([]);
    expect(json.externalTrades).toMatchObject([{ key, status: 'set-aside', resolution: 'resolved by the operator: the old desk on the same account' }]);
  }, 300_000);

  it('a balance changed on purpose: resolve difference accepts it, with its reason', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    const env = envFor(rig.emulator);
    expect((await runCli(['live', '--config', rig.configFile, '--once'], env)).status).toBe(0);
    rig.emulator.advance();
    // 1 PAXG withdrawn to redeem for bars.
    rig.emulator.setBalance('PAXG', rig.emulator.balance('PAXG').free.minus('1').toFixed());
    expect((await runCli(['live', '--config', rig.configFile, '--once'], env)).status).toBe(5);
    const status = await runCli(['live', 'status', '--config', rig.configFile], {});
    expect(status.stdout).toContain('waiting for: difference PAXG');
    const accepted = await runCli(['live', 'resolve', 'difference', 'PAXG', '--config', rig.configFile, '--note', 'withdrawn to redeem 1 ozt for a bar'], env);
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain('PAXG: accepted a difference of -1');
    rig.emulator.advance();
    const resumed = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(resumed.status, resumed.stdout).toBe(0);
    const after = await runCli(['live', 'status', '--config', rig.configFile], {});
    expect(after.status).toBe(0);
    expect(after.stdout).toContain('accepted difference: -1 PAXG');
  }, 300_000);
});
