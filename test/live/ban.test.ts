/**
 * Bans and long rate limits: a 418 (or 429) whose Retry-After is longer than
 * `venue.maxWaitSeconds` ends the tick at once with no further request to the exchange, the
 * ban's end is stored, and every later run exits 6 without a request until it passes; then
 * trading resumes and the order left in doubt is found, not sent twice. A Retry-After within
 * the cap is waited for in process (test/live/faults.test.ts).
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, ExitStatus, ProcuraError, exitStatusOf } from '../../src/core/errors.js';
import { formatTime } from '../../src/core/time.js';
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

const DAY_SECONDS = 86_400;

describe('a long ban', () => {
  it('a 418 with a day of Retry-After on the order: the tick ends at once, later runs refuse without a request until it passes', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    runner = await rig.open();
    // jit buys on the first candle, skips the second (covered), then buys every day.
    expect((await runner.tick()).ok).toBe(true);
    rig.advance();
    expect((await runner.tick()).ok).toBe(true);
    rig.advance();
    rig.emulator.inject({ kind: 'rate-limit', status: 418, retryAfterSeconds: DAY_SECONDS }, { method: 'POST', path: '/api/v3/order' });
    const seen = rig.emulator.requests().length;
    const banned = await runner.tick();
    const after = rig.emulator.requests().slice(seen);
    const banIndex = after.findIndex((r) => r.status === 418);
    expect(banIndex, after.map((r) => `${r.method} ${r.path} ${r.status}`).join('\n')).toBeGreaterThanOrEqual(0);
    // Nothing was sent to the banned address after the 418.
    expect(after.slice(banIndex + 1).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(banned.ok).toBe(false);
    expect(banned.bannedUntil).toBe(formatTime(rig.clock.now() + DAY_SECONDS * 1000));
    const line = rig.logs.lines.find((l) => String(l['msg']).startsWith('tick ended: the exchange banned or rate-limited us until'));
    expect(line, rig.logs.text()).toBeDefined();
    expect(line!['level']).toBe(50);
    runner.close();
    runner = undefined;

    // A restart during the ban: refused before any request, exit status 6.
    const before = rig.emulator.requests().length;
    const refused = await rig.open().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ProcuraError);
    expect((refused as ProcuraError).code).toBe(ErrorCode.banned);
    expect(exitStatusOf(refused)).toBe(ExitStatus.banned);
    expect((refused as Error).message).toContain(`until ${banned.bannedUntil}`);
    expect(rig.emulator.requests().length).toBe(before);

    // After the ban: the order left in doubt is looked up (never reached the exchange), trading resumes, nothing twice.
    rig.clock.advanceTo(rig.clock.now() + DAY_SECONDS * 1000 + 1000);
    runner = await rig.open();
    const resumed = await runner.tick();
    expect(resumed.ok, resumed.error).toBe(true);
    expect(resumed.bannedUntil).toBeUndefined();
    const ids = rig.emulator.orders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);

  it('a 429 with a Retry-After beyond venue.maxWaitSeconds on a read: same; --once exits 6, and again at once', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, venue: '{ timeoutMs: 1500, lookupAttempts: 2, lookupIntervalMs: 0, maxWaitSeconds: 5 }' } });
    const env = envFor(rig.emulator);
    rig.emulator.inject({ kind: 'rate-limit', status: 429, retryAfterSeconds: 3600 }, { path: '/api/v3/klines' });
    const first = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(first.status, first.stdout + first.stderr).toBe(6);
    expect(first.stdout).toContain('tick ended: the exchange banned or rate-limited us until');
    const seen = rig.emulator.requests().length;
    const second = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(second.status, second.stdout + second.stderr).toBe(6);
    expect(second.stderr).toMatch(/procura: .*banned or rate-limited us until \d{4}-\d\d-\d\dT/);
    expect(rig.emulator.requests().length).toBe(seen);
  }, 300_000);

  it('a service waiting out a stored ban answers /healthz 503 "banned" with its end, and the metrics carry it, before any tick', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, cron: '* * * * * *', venue: '{ timeoutMs: 1500, lookupAttempts: 2, lookupIntervalMs: 0, maxWaitSeconds: 5 }', extra: 'monitoring: { port: 0 }' } });
    const env = envFor(rig.emulator);
    rig.emulator.inject({ kind: 'rate-limit', status: 429, retryAfterSeconds: 3600 }, { path: '/api/v3/klines' });
    const first = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(first.status, first.stdout + first.stderr).toBe(6);
    const seen = rig.emulator.requests().length;
    const child = spawn(process.execPath, ['bin/procura.js', 'live', '--config', rig.configFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waiting = new Promise<void>((resolve) => {
      const look = (chunk: Buffer): void => {
        out += chunk.toString('utf8');
        if (out.includes('waiting until then')) resolve();
      };
      child.stdout.on('data', look);
      child.stderr.on('data', look);
    });
    try {
      await waiting;
      const base = /health on (http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(out)![1]!;
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { status: string; bannedUntil: string; reason: string; lastTick: unknown };
      expect(body.status).toBe('banned');
      expect(body.lastTick).toBeNull();
      expect(Date.parse(body.bannedUntil) - Date.now()).toBeGreaterThan(3000 * 1000);
      expect(body.reason).toMatch(/^waiting out a ban stored by an earlier run: /);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const gauge = /^procura_live_banned_until_timestamp_seconds\{run_id="test-desk"\} (\d+(?:\.\d+)?)$/m.exec(metrics);
      expect(gauge, metrics).not.toBeNull();
      expect(Number(gauge![1]) * 1000).toBe(Date.parse(body.bannedUntil));
      // Still no request to the exchange.
      expect(rig.emulator.requests().length).toBe(seen);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 300_000);
});
