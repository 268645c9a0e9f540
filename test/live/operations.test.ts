/**
 * Live operations (issue 11 section 4), through the built CLI against the emulator: logs for a
 * terminal (--log-format pretty) or a machine (JSON when not a terminal), LOG_LEVEL honoured, a
 * fatal error through the logger and the webhook, the scheduler's next firing logged, a health
 * endpoint and Prometheus metrics on a local port, webhook alerts on a halt, received by an HTTP
 * server this test starts on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { envFor, runCli, startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  await receiver?.stop();
  receiver = undefined;
});

interface Receiver {
  readonly url: string;
  readonly messages: { path: string; contentType: string | undefined; body: { text: string } }[];
  /** Resolves once a message containing `text` has arrived. */
  waitFor(text: string): Promise<{ text: string }>;
  stop(): Promise<void>;
}

/** A Slack-like incoming-webhook receiver on 127.0.0.1: stores each JSON body, answers "ok". */
async function startReceiver(): Promise<Receiver> {
  const messages: Receiver['messages'] = [];
  const waiters: { text: string; resolve: (body: { text: string }) => void }[] = [];
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      const body = JSON.parse(raw) as { text: string };
      messages.push({ path: request.url ?? '', contentType: request.headers['content-type'], body });
      for (const waiter of [...waiters]) {
        if (body.text.includes(waiter.text)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(body);
        }
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    messages,
    waitFor: (text) => {
      const found = messages.find((m) => m.body.text.includes(text));
      if (found !== undefined) return Promise.resolve(found.body);
      return new Promise((resolve) => waiters.push({ text, resolve }));
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('logs', () => {
  it('--log-format pretty prints readable lines; JSON is the default when stdout is not a terminal', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    const env = envFor(rig.emulator);
    const pretty = await runCli(['live', '--config', rig.configFile, '--once', '--log-format', 'pretty'], env);
    expect(pretty.status, pretty.stderr + pretty.stdout).toBe(0);
    const lines = pretty.stdout.trim().split('\n');
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    expect(lines.find((l) => l.includes('tick ok'))).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO: tick ok: /);
    rig.advance();
    const json = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(json.status, json.stderr).toBe(0);
    for (const line of json.stdout.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    // The key and secret never reach either format.
    for (const out of [pretty.stdout, json.stdout]) expect(out).not.toContain(rig.emulator.secret);
  }, 300_000);

  it('LOG_LEVEL is honoured (--log-level wins); a typo in either is refused with exit 2 naming it', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    const env = envFor(rig.emulator);
    const quiet = await runCli(['live', '--config', rig.configFile, '--once'], { ...env, LOG_LEVEL: 'warn' });
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).not.toContain('"level":30');
    rig.advance();
    const loud = await runCli(['live', '--config', rig.configFile, '--once', '--log-level', 'debug'], { ...env, LOG_LEVEL: 'warn' });
    expect(loud.stdout).toContain('"level":20');
    const typo = await runCli(['live', '--config', rig.configFile, '--once'], { ...env, LOG_LEVEL: 'verbose' });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('field "LOG_LEVEL (environment)": expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"');
    const format = await runCli(['live', '--config', rig.configFile, '--once', '--log-format', 'yaml'], env);
    expect(format.status).toBe(2);
    expect(format.stderr).toContain('field "--log-format": expected json or pretty, got "yaml"');
  }, 300_000);

  it('a fatal error goes through the logger (level 60) and the webhook, besides stderr', async () => {
    receiver = await startReceiver();
    // A symbol the exchange does not list is found only after loadMarkets: the logger exists.
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, symbol: 'XAU/USDT', extra: 'alerts: { webhook: true }' } });
    const run = await runCli(['live', '--config', rig.configFile, '--once'], { ...envFor(rig.emulator), PROCURA_ALERT_WEBHOOK_URL: `${receiver.url}/hook/T000/B000/secret-token` });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('procura: ');
    const fatal = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; exitStatus?: number })
      .find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/^stopped: .*XAU\/USDT.* \(exit status 2\)$/);
    expect(fatal?.exitStatus).toBe(2);
    const alert = await receiver.waitFor('fatal');
    expect(alert.text).toContain('XAU/USDT');
    expect(receiver.messages[0]!.path).toBe('/hook/T000/B000/secret-token');
    expect(receiver.messages[0]!.contentType).toBe('application/json');
    // The webhook URL is a secret: never in the output.
    expect(run.stdout + run.stderr).not.toContain('secret-token');
  }, 300_000);

  it('a ban sends a webhook alert (--once exits 6)', async () => {
    receiver = await startReceiver();
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, extra: 'alerts: { webhook: true }' } });
    rig.emulator.inject({ kind: 'rate-limit', status: 418, retryAfterSeconds: 86_400 }, { method: 'POST', path: '/api/v3/order' });
    const run = await runCli(['live', '--config', rig.configFile, '--once'], { ...envFor(rig.emulator), PROCURA_ALERT_WEBHOOK_URL: `${receiver.url}/hook` });
    expect(run.status, run.stderr + run.stdout).toBe(6);
    const alert = await receiver.waitFor('ban');
    expect(alert.text).toMatch(/^procura live test-desk: ban\n• ban: the exchange banned or rate-limited us until \d{4}-\d\d-\d\dT[\d:.]+Z: /);
    expect(receiver.messages.length).toBe(1);
  }, 300_000);

  it('alerts.webhook without PROCURA_ALERT_WEBHOOK_URL is refused before anything runs, naming the field', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, extra: 'alerts: { webhook: true }' } });
    const run = await runCli(['live', '--config', rig.configFile, '--once'], envFor(rig.emulator));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/live\.yaml: field "alerts\.webhook": alerts\.webhook is true but PROCURA_ALERT_WEBHOOK_URL is not set/);
    expect(rig.emulator.requests().length).toBe(0);
  }, 300_000);
});

describe('as a service', () => {
  it('logs the next firing, serves health and Prometheus metrics on 127.0.0.1, and sends a webhook alert on a halt', async () => {
    receiver = await startReceiver();
    rig = await startLiveRig({ config: { strategy: 'jit', params: {}, cron: '* * * * * *', extra: 'monitoring: { port: 0 }\nalerts: { webhook: true, on: [halt, reconciliation-difference] }' } });
    const child = spawn(process.execPath, ['bin/procura.js', 'live', '--config', rig.configFile], {
      env: { ...process.env, ...envFor(rig.emulator), PROCURA_ALERT_WEBHOOK_URL: `${receiver.url}/hook` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const seen = (text: string): Promise<void> =>
      new Promise<void>((resolve) => {
        if (out.includes(text)) resolve();
        child.stdout.on('data', () => {
          if (out.includes(text)) resolve();
        });
      });
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    try {
      await seen('tick ok');
      const base = /health on (http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(out)![1]!;
      expect(out).toMatch(/"msg":"next tick at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/);
      const healthy = await fetch(`${base}/healthz`);
      expect(healthy.status).toBe(200);
      const body = (await healthy.json()) as { status: string; nextTick: string | null; lastTick: { ok: boolean } | null };
      expect(body.status).toBe('ok');
      expect(body.lastTick?.ok).toBe(true);
      expect(body.nextTick).toMatch(/^\d{4}-/);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^procura_live_ticks_total\{outcome="ok",run_id="test-desk"\} [1-9]/m);
      expect(metrics).toMatch(/^procura_live_next_tick_timestamp_seconds\{run_id="test-desk"\} 1\d{9}/m);
      expect(metrics).toMatch(/^procura_live_last_tick_timestamp_seconds\{run_id="test-desk"\} 1\d{9}/m);
      expect(metrics).toMatch(/^procura_live_halted\{run_id="test-desk"\} 0$/m);
      expect(metrics).toMatch(/^procura_live_orders_total\{run_id="test-desk"\} \d+$/m);
      expect(metrics).toMatch(/^procura_live_fills_total\{run_id="test-desk"\} \d+$/m);
      expect(metrics).toMatch(/^procura_live_denials_total\{run_id="test-desk"\} \d+$/m);
      expect(metrics).toContain('process_cpu_seconds_total');
      expect((await fetch(`${base}/nothing`)).status).toBe(404);

      // Someone moves 0.5 PAXG into the account: the next tick halts; the operator hears of it.
      rig.emulator.setBalance('PAXG', rig.emulator.balance('PAXG').free.plus('0.5').toFixed());
      const alert = await receiver.waitFor('halt');
      expect(alert.text).toContain('procura live test-desk: halt, reconciliation-difference');
      expect(alert.text).toContain('PAXG difference');
      await seen('trading halted this tick');
      const halted = await fetch(`${base}/healthz`);
      expect(halted.status).toBe(503);
      expect(((await halted.json()) as { status: string }).status).toBe('halted');
      const after = await (await fetch(`${base}/metrics`)).text();
      expect(after).toMatch(/^procura_live_halted\{run_id="test-desk"\} 1$/m);
      expect(after).toMatch(/^procura_live_ticks_total\{outcome="halted",run_id="test-desk"\} [1-9]/m);
      expect(after).toMatch(/^procura_live_reconciliation_differences\{run_id="test-desk"\} [1-9]/m);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 300_000);
});
