/**
 * Every fault the emulator can inject, driven through the real ccxt client: no duplicate
 * order (order count and request log), no lost fill, and the right classification.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VenueError, VenueHaltError } from '../../src/venues/ccxt/errors.js';
import { lookups, onlySpot, order, posts, startRig, type Rig } from './helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  if (rig) expect(onlySpot(rig.emulator.requests())).toBe(true);
  await rig?.stop();
  rig = undefined;
});

const ORDER = { method: 'POST', path: '/api/v3/order' } as const;
const LOOKUP = { method: 'GET', path: '/api/v3/order' } as const;

describe('order creation after an unknown outcome: look up, never re-send blindly', () => {
  it('client timeout after the order executed: found by client order id, sent once, fill kept', async () => {
    // The order's answer comes long after the client's timeout; every other request (the
    // markets at init, the look-up) has the same 2 s, which a busy machine does not trip.
    rig = await startRig({}, { timeoutMs: 2000 });
    rig.emulator.inject({ kind: 'latency', ms: 8000, phase: 'after' }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'timeout-1', qty: '0.5' }));
    expect(report.status).toBe('filled');
    expect(report.fills.map((f) => f.qty.toFixed())).toEqual(['0.5']);
    expect(posts(rig.emulator.requests())).toHaveLength(1);
    expect(rig.emulator.orders()).toHaveLength(1);
    expect(lookups(rig.emulator.requests())[0]?.params['origClientOrderId']).toBe('timeout-1');
  });

  it('-1007 execution status unknown: looked up, adopted, not re-sent', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'unknown-status' }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'unk-1', qty: '0.2' }));
    expect(report.status).toBe('filled');
    expect(report.filledQty.toFixed()).toBe('0.2');
    expect(report.fills).toHaveLength(1);
    expect(posts(rig.emulator.requests())).toHaveLength(1);
    expect(rig.emulator.orders()).toHaveLength(1);
    expect(rig.emulator.trades()).toHaveLength(1);
  });

  it('connection dropped after the order executed: looked up, adopted, not re-sent', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'drop-connection' }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'drop-1', qty: '0.3' }));
    expect(report.status).toBe('filled');
    expect(report.fills.map((f) => f.qty.toFixed())).toEqual(['0.3']);
    expect(posts(rig.emulator.requests())).toHaveLength(1);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('an exchange that reports the new order missing for a while: several lookups over the grace window', async () => {
    rig = await startRig({}, { lookupAttempts: 4, lookupIntervalMs: 1500 });
    rig.emulator.inject({ kind: 'unknown-status' }, ORDER);
    // One lookup before sending (the order does not exist yet), then two that lag.
    rig.emulator.inject({ kind: 'order-not-found' }, { ...LOOKUP, times: 3 });
    const report = await rig.venue.submit(order({ clientOrderId: 'lag-1', qty: '0.1' }));
    expect(report.status).toBe('filled');
    expect(lookups(rig.emulator.requests())).toHaveLength(1 + 3);
    expect(rig.sleeps).toEqual([1500, 1500]);
    expect(posts(rig.emulator.requests())).toHaveLength(1);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('HTTP 5xx before execution: not found over the grace window, then sent again with the SAME client order id', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'http', status: 500 }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'five-1', qty: '0.1' }));
    expect(report.status).toBe('filled');
    const sent = posts(rig.emulator.requests());
    expect(sent.map((r) => [r.status, r.params['newClientOrderId']])).toEqual([[500, 'five-1'], [200, 'five-1']]);
    expect(rig.emulator.requests().map((r) => `${r.method} ${r.status}`)).toEqual([
      'GET 400', // lookup before sending: unknown
      'POST 500',
      'GET 400', 'GET 400', 'GET 400', // grace window
      'GET 200', 'GET 200', 'GET 200', // proof of absence: open orders, all orders, trades
      'POST 200',
    ]);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('503 non-JSON (exchange not available) before execution: same rule', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'http', status: 503, body: 'Service Unavailable' }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'five-2', qty: '0.1' }));
    expect(report.status).toBe('filled');
    expect(posts(rig.emulator.requests())).toHaveLength(2);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('outcome still unknown after the allowed sends: throws unknown-outcome and places nothing twice', async () => {
    rig = await startRig({}, { maxSendAttempts: 2 });
    rig.emulator.inject({ kind: 'http', status: 502, body: 'Bad Gateway' }, { ...ORDER, times: 5 });
    const failure = await rig.venue.submit(order({ clientOrderId: 'gone-1', qty: '0.1' })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(VenueError);
    expect((failure as VenueError).kind).toBe('unknown-outcome');
    expect(posts(rig.emulator.requests())).toHaveLength(2);
    expect(rig.emulator.orders()).toHaveLength(0);
  });

  it('"Duplicate order sent.": the id is in use by an open order, which is adopted', async () => {
    rig = await startRig();
    const first = await rig.venue.submit(order({ clientOrderId: 'dup-1', qty: '1', limitPrice: '2950' }));
    expect(first.status).toBe('open');
    rig.emulator.clearRequests();
    // The lookup before sending lags behind, so the order goes out and meets the duplicate rule.
    rig.emulator.inject({ kind: 'order-not-found' }, LOOKUP);
    const again = await rig.venue.submit(order({ clientOrderId: 'dup-1', qty: '1', limitPrice: '2950' }));
    expect(again.status).toBe('open');
    expect(again.venueOrderId).toBe(first.venueOrderId);
    expect(rig.emulator.requests().map((r) => `${r.method} ${r.status}`)).toEqual(['GET 400', 'POST 400', 'GET 200']);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('a repeated submit of a filled order is adopted, not placed again (Binance would accept the reused id)', async () => {
    rig = await startRig();
    const first = await rig.venue.submit(order({ clientOrderId: 'again-1', qty: '0.2' }));
    const second = await rig.venue.submit(order({ clientOrderId: 'again-1', qty: '0.2' }));
    expect(second.status).toBe('filled');
    expect(second.venueOrderId).toBe(first.venueOrderId);
    expect(second.fills.map((f) => f.tradeId)).toEqual(first.fills.map((f) => f.tradeId));
    expect(posts(rig.emulator.requests())).toHaveLength(1);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('rate limit (418 with Retry-After) on the order: waits Retry-After, looks up once, then sends again', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'rate-limit', status: 418, retryAfterSeconds: 7 }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'ban-1', qty: '0.1' }));
    expect(report.status).toBe('filled');
    expect(rig.sleeps).toEqual([7000]);
    expect(lookups(rig.emulator.requests())).toHaveLength(2); // before sending, and once after the ban
    expect(posts(rig.emulator.requests()).map((r) => r.status)).toEqual([418, 200]);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('-1021 (InvalidNonce) on the order: resyncs the time difference, looks up, then sends again', async () => {
    rig = await startRig();
    const body = { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' };
    rig.emulator.inject({ kind: 'http', status: 400, body }, ORDER);
    const report = await rig.venue.submit(order({ clientOrderId: 'skew-1', qty: '0.1' }));
    expect(report.status).toBe('filled');
    const paths = rig.emulator.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(paths).toEqual([
      'GET /api/v3/order 400',
      'POST /api/v3/order 400',
      'GET /api/v3/time 200',
      'GET /api/v3/order 400',
      // Not found by id is not proof of absence: the order history before the re-send.
      'GET /api/v3/openOrders 200',
      'GET /api/v3/allOrders 200',
      'GET /api/v3/myTrades 200',
      'POST /api/v3/order 200',
    ]);
    expect(rig.emulator.orders()).toHaveLength(1);
  });

  it('insufficient balance: a rejected report, final', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'insufficient-balance' }, ORDER);
    const report = await rig.venue.submit(order({ qty: '0.1' }));
    expect(report.status).toBe('rejected');
    expect(report.reason).toMatch(/insufficient balance/);
    expect(rig.emulator.requests().map((r) => `${r.method} ${r.status}`)).toEqual(['GET 400', 'POST 400']);
    expect(rig.emulator.orders()).toHaveLength(0);
  });
});

describe('reads: retried by kind', () => {
  it('network errors and 5xx on reads are retried with backoff', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'drop-connection' }, { path: '/api/v3/account' });
    rig.emulator.inject({ kind: 'http', status: 503, body: 'down' }, { path: '/api/v3/account' });
    rig.emulator.inject({ kind: 'http', status: 500 }, { path: '/api/v3/account' });
    const balances = await rig.venue.fetchBalances();
    expect(balances['USDT']?.free.toFixed()).toBe('100000');
    expect(rig.sleeps).toEqual([500, 1000, 2000]);
    expect(rig.emulator.requests().filter((r) => r.path === '/api/v3/account')).toHaveLength(4);
  });

  it('latency beyond the client timeout on a read is retried', async () => {
    rig = await startRig({}, { timeoutMs: 2000 });
    rig.emulator.inject({ kind: 'latency', ms: 8000 }, { path: '/api/v3/klines' });
    const candles = await rig.venue.fetchCandles('PAXG/USDT', '1d');
    expect(candles).toHaveLength(1);
    expect(rig.sleeps).toEqual([500]);
  });

  it('429 on a read honours Retry-After', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'rate-limit', status: 429, retryAfterSeconds: 3 }, { path: '/api/v3/openOrders' });
    await rig.venue.fetchOpenOrders('paxg');
    expect(rig.sleeps).toEqual([3000]);
  });

  it('a read gives up after its retries with a classified error', async () => {
    rig = await startRig({}, { readRetries: 2 });
    rig.emulator.inject({ kind: 'http', status: 503, body: 'down' }, { path: '/api/v3/account', times: 3 });
    const failure = await rig.venue.fetchBalances().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(VenueError);
    expect(failure).not.toBeInstanceOf(VenueHaltError);
    expect((failure as VenueError).kind).toBe('network');
    expect(rig.sleeps).toEqual([500, 1000]);
  });

  it('clock skew before an order: the lookup resyncs the time difference, then the order goes out once', async () => {
    rig = await startRig();
    rig.emulator.setClockSkew(20_000);
    const report = await rig.venue.submit(order({ clientOrderId: 'skew-2', qty: '0.1' }));
    expect(report.status).toBe('filled');
    expect(rig.emulator.requests().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /api/v3/order 400', 'GET /api/v3/time 200', 'GET /api/v3/order 400', 'POST /api/v3/order 200',
    ]);
  });

  it('clock skew on a read: loadTimeDifference, then the retry succeeds', async () => {
    rig = await startRig();
    rig.emulator.setClockSkew(-30_000);
    await rig.venue.fetchBalances();
    expect(rig.emulator.requests().map((r) => `${r.path} ${r.status}`)).toEqual(['/api/v3/account 400', '/api/v3/time 200', '/api/v3/account 200']);
  });

  it('lost answer on a lookup is retried, and the order is still sent once', async () => {
    rig = await startRig();
    rig.emulator.inject({ kind: 'unknown-status' }, ORDER);
    rig.emulator.inject({ kind: 'drop-connection' }, LOOKUP);
    const report = await rig.venue.submit(order({ clientOrderId: 'lk-1', qty: '0.1' }));
    expect(report.status).toBe('filled');
    expect(posts(rig.emulator.requests())).toHaveLength(1);
    expect(rig.emulator.orders()).toHaveLength(1);
  });
});
