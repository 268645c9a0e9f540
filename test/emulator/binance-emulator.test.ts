/**
 * The emulator's own protocol, over raw HTTP with Binance's signing rule (the ccxt path is
 * covered in test/venues): signatures, recvWindow, duplicate ids, depth, balances, control.
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/time.js';
import { BinanceEmulator, makeCandles } from '../support/binance-emulator.js';

const DAY = 86_400_000;
let emulator: BinanceEmulator;
// The emulator's server time comes from an injected clock, so the timing rule is exact here.
const clock = new SimClock(Date.UTC(2026, 0, 1));
let base: string;

beforeEach(async () => {
  emulator = new BinanceEmulator({
    candles: { PAXGUSDT: makeCandles(Date.UTC(2024, 0, 1), DAY, ['3000', '3100', '2900']) },
    depthPerCandle: '2',
    balances: { USDT: '10000', PAXG: '1' },
    commissionIn: 'quote',
    clock,
  });
  base = await emulator.start();
});
afterEach(() => emulator.stop());

function signed(params: Record<string, string>, secret = emulator.secret, timestamp = clock.now()): string {
  const query = new URLSearchParams({ timestamp: String(timestamp), ...params, recvWindow: '5000' }).toString();
  return `${query}&signature=${createHmac('sha256', secret).update(query).digest('hex')}`;
}

async function call(method: string, path: string, params: Record<string, string> = {}, options: { secret?: string; timestamp?: number; key?: string } = {}): Promise<{ status: number; body: any }> {
  const payload = signed(params, options.secret, options.timestamp);
  const headers = { 'X-MBX-APIKEY': options.key ?? emulator.apiKey, 'content-type': 'application/x-www-form-urlencoded' };
  const response = method === 'POST'
    ? await fetch(`${base}${path}`, { method, headers, body: payload })
    : await fetch(`${base}${path}?${payload}`, { method, headers });
  return { status: response.status, body: await response.json() };
}

const buy = (fields: Record<string, string>): Promise<{ status: number; body: any }> =>
  call('POST', '/api/v3/order', { symbol: 'PAXGUSDT', side: 'BUY', type: 'MARKET', ...fields });

describe('BinanceEmulator protocol', () => {
  it('accepts a correct HMAC signature in upper case and refuses a wrong one with -1022', async () => {
    const payload = signed({});
    const upper = payload.replace(/signature=([0-9a-f]+)/, (_m, hex: string) => `signature=${hex.toUpperCase()}`);
    const ok = await fetch(`${base}/api/v3/account?${upper}`, { headers: { 'X-MBX-APIKEY': emulator.apiKey } });
    expect(ok.status).toBe(200);
    const bad = await call('GET', '/api/v3/account', {}, { secret: 'not-the-secret' });
    expect(bad).toEqual({ status: 400, body: { code: -1022, msg: 'Signature for this request is not valid.' } });
    const noKey = await call('GET', '/api/v3/account', {}, { key: 'someone-else' });
    expect(noKey.body.code).toBe(-2015);
  });

  it("applies Binance's timing rule: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow", async () => {
    const now = clock.now();
    expect((await call('GET', '/api/v3/account', {}, { timestamp: now - 5000 })).status).toBe(200); // recvWindow 5000: the edge is in
    expect((await call('GET', '/api/v3/account', {}, { timestamp: now - 5001 })).body.code).toBe(-1021);
    expect((await call('GET', '/api/v3/account', {}, { timestamp: now + 999 })).status).toBe(200);
    expect((await call('GET', '/api/v3/account', {}, { timestamp: now + 1000 })).body.code).toBe(-1021);
    emulator.setClockSkew(10_000);
    expect((await call('GET', '/api/v3/account')).body.code).toBe(-1021);
  });

  it('rejects a duplicate OPEN client order id and accepts its reuse once the order is filled', async () => {
    const limit = { type: 'LIMIT', quantity: '1', price: '2950.00', timeInForce: 'GTC', newClientOrderId: 'same' };
    expect((await buy(limit)).body.status).toBe('NEW');
    expect((await buy(limit)).body).toEqual({ code: -2010, msg: 'Duplicate order sent.' });
    emulator.advance(); // 3000 -> 3100: low 2999 does not reach 2950
    expect(emulator.orders()[0]?.status).toBe('NEW');
    emulator.advance(); // 3100 -> 2900: low 2899 crosses 2950
    expect(emulator.orders()[0]?.status).toBe('FILLED');
    expect((await buy({ quantity: '0.5', newClientOrderId: 'same' })).body.status).toBe('FILLED');
    expect(emulator.orders()).toHaveLength(2);
    // A lookup by client order id finds the latest order with that id.
    const found = await call('GET', '/api/v3/order', { symbol: 'PAXGUSDT', origClientOrderId: 'same' });
    expect(found.body.orderId).toBe(emulator.orders()[1]?.orderId);
  });

  it('fills market orders up to the candle depth and expires the rest, with balances kept', async () => {
    const result = await buy({ quantity: '3', newClientOrderId: 'big' });
    expect(result.body.status).toBe('EXPIRED');
    expect(result.body.executedQty).toBe('2');
    expect(result.body.fills).toEqual([{ price: '3000', qty: '2', commission: '6', commissionAsset: 'USDT', tradeId: 5000 }]);
    expect(emulator.balance('USDT')).toEqual({ free: expect.anything(), locked: expect.anything() });
    expect(emulator.balance('USDT').free.toFixed()).toBe('3994');
    expect(emulator.balance('USDT').locked.toFixed()).toBe('0');
    expect(emulator.balance('PAXG').free.toFixed()).toBe('3');
  });

  it('locks balance for resting orders and refuses what the free balance cannot cover', async () => {
    const rest = await buy({ type: 'LIMIT', quantity: '3', price: '2000.00', timeInForce: 'GTC' });
    expect(rest.body.status).toBe('NEW');
    expect(emulator.balance('USDT').locked.toFixed()).toBe('6000');
    const refused = await buy({ type: 'LIMIT', quantity: '3', price: '2000.00', timeInForce: 'GTC' });
    expect(refused.body).toEqual({ code: -2010, msg: 'Account has insufficient balance for requested action.' });
    const cancelled = await call('DELETE', '/api/v3/order', { symbol: 'PAXGUSDT', orderId: String(rest.body.orderId) });
    expect(cancelled.body.status).toBe('CANCELED');
    expect(emulator.balance('USDT').free.toFixed()).toBe('10000');
    expect((await call('DELETE', '/api/v3/order', { symbol: 'PAXGUSDT', orderId: String(rest.body.orderId) })).body.code).toBe(-2011);
  });

  it('serves klines up to the current candle, and the filters that ccxt needs', async () => {
    const klines = (await (await fetch(`${base}/api/v3/klines?symbol=PAXGUSDT&interval=1d`)).json()) as unknown[][];
    expect(klines.map((k) => k[4])).toEqual(['3000']);
    emulator.advance();
    const two = (await (await fetch(`${base}/api/v3/klines?symbol=PAXGUSDT&interval=1d&limit=5`)).json()) as unknown[][];
    expect(two.map((k) => k[4])).toEqual(['3000', '3100']);
    expect((await (await fetch(`${base}/api/v3/klines?symbol=PAXGUSDT&interval=1h`)).json())).toEqual({ code: -1120, msg: 'Invalid interval.' });
    const info = (await (await fetch(`${base}/api/v3/exchangeInfo`)).json()) as { symbols: Array<{ orderTypes: string[]; filters: Array<{ filterType: string }> }> };
    expect(info.symbols[0]?.orderTypes).toContain('MARKET');
    expect(info.symbols[0]?.filters.map((f) => f.filterType)).toEqual(['PRICE_FILTER', 'LOT_SIZE', 'NOTIONAL']);
  });

  it('answers unknown paths with 404 "not emulated" and logs every request', async () => {
    const response = await fetch(`${base}/sapi/v1/capital/config/getall`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ code: -1, msg: 'not emulated: GET /sapi/v1/capital/config/getall' });
    await buy({ quantity: '0.1', newClientOrderId: 'logged' });
    const log = emulator.requests();
    expect(log.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /sapi/v1/capital/config/getall 404', 'POST /api/v3/order 200']);
    expect(log[1]?.params['newClientOrderId']).toBe('logged');
  });

  it('takes faults through POST /__control', async () => {
    const control = (body: unknown): Promise<Response> => fetch(`${base}/__control`, { method: 'POST', body: JSON.stringify(body) });
    expect((await control({ action: 'inject', fault: { kind: 'rate-limit', status: 429, retryAfterSeconds: 9 }, match: { path: '/api/v3/time' } })).status).toBe(200);
    const limited = await fetch(`${base}/api/v3/time`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('9');
    expect((await fetch(`${base}/api/v3/time`)).status).toBe(200);

    await control({ action: 'inject', fault: { kind: 'unknown-status' }, match: { method: 'POST', path: '/api/v3/order' } });
    const lost = await buy({ quantity: '0.1', newClientOrderId: 'lost' });
    expect(lost).toEqual({ status: 503, body: { code: -1007, msg: expect.stringContaining('execution status unknown') } });
    expect(emulator.orders().map((o) => [o.clientOrderId, o.status])).toEqual([['lost', 'FILLED']]);

    await control({ action: 'inject', fault: { kind: 'drop-connection' }, match: { method: 'POST' } });
    await expect(buy({ quantity: '0.1', newClientOrderId: 'dropped' })).rejects.toThrow();
    expect(emulator.orders().map((o) => o.clientOrderId)).toEqual(['lost', 'dropped']);

    expect(await (await control({ action: 'advance' })).json()).toEqual({ ok: true, advanced: true, cursor: 1 });
    await control({ action: 'skew', ms: 60_000 });
    expect((await call('GET', '/api/v3/account')).body.code).toBe(-1021);
    expect((await control({ action: 'explode' })).status).toBe(400);
    // Control requests are not part of the exchange traffic.
    expect(emulator.requests().some((r) => r.path === '/__control')).toBe(false);
  });
});
