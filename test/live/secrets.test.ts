/**
 * Secrets never reach the output: an exchange error page that echoes the request (signed URL
 * and headers, the API key among them) is logged and printed with the signature and every
 * configured secret replaced by `[redacted]` and the HTML page shortened, on stdout (pino
 * lines of a failed tick) and on stderr (an error reaching the command line).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { credentialVariables } from '../../src/venues/ccxt/ccxt-venue.js';
import { runCli, startLiveRig, type LiveRig } from './helpers.js';

const API_KEY = 'FAKEKEYq7Zr2mN8pW4xT6vB0cD9eF1gH3jK5';
const SECRET = 'FAKESECRETa1S2d3F4g5H6j7K8l9Z0x1C2v3B4';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function expectClean(text: string): void {
  expect(text).not.toContain(API_KEY);
  expect(text).not.toContain(SECRET);
  expect(text).not.toMatch(/signature=[0-9a-f]{16,}/i);
  expect(text).not.toContain('<td>');
  expect(text).not.toContain('upstream unavailable</p><p>');
}

describe('secrets in output', () => {
  it('an error page echoing the signed request: redacted and shortened on stdout and stderr', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} }, emulator: { apiKey: API_KEY, secret: SECRET } });
    const names = credentialVariables('binance');
    const env = { [names.apiKey]: API_KEY, [names.secret]: SECRET };
    rig.emulator.inject({ kind: 'http', status: 502, html: true }, { path: '/api/v3/account', times: 100 });
    const tick = await runCli(['live', '--config', rig.configFile, '--once'], env);
    expect(tick.status, tick.stdout + tick.stderr).toBe(1);
    expect(tick.stdout).toContain('tick failed');
    expect(tick.stdout).toContain('[redacted]');
    expect(tick.stdout).toMatch(/\[HTML page of \d+ characters: 502 Bad Gateway\]/);
    expectClean(tick.stdout);
    expectClean(tick.stderr);

    const reconcile = await runCli(['live', '--config', rig.configFile, '--reconcile-only'], env);
    expect(reconcile.status, reconcile.stdout + reconcile.stderr).toBe(1);
    expect(reconcile.stderr).toContain('procura: ');
    expect(reconcile.stderr).toContain('[redacted]');
    expectClean(reconcile.stdout);
    expectClean(reconcile.stderr);
  }, 300_000);
});
