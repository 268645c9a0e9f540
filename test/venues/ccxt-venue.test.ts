import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { ConfigError } from '../../src/core/errors.js';
import { CcxtVenue } from '../../src/venues/ccxt/ccxt-venue.js';
import { VenueHaltError } from '../../src/venues/ccxt/errors.js';
import { BinanceEmulator } from '../support/binance-emulator.js';
import { envFor, lookups, onlySpot, order, posts, startRig, type Rig } from './helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  if (rig) expect(onlySpot(rig.emulator.requests())).toBe(true);
  await rig?.stop();
  rig = undefined;
});

describe('CcxtVenue against the Binance emulator (real ccxt client)', () => {
  it('loads markets with one exchangeInfo request and exposes the exchange rules', async () => {
    const emulator = new BinanceEmulator();
    const url = await emulator.start();
    try {
      const venue = new CcxtVenue({ exchange: 'binance', emulatorUrl: url, env: envFor(emulator), instruments: { paxg: 'PAXG/USDT' } });
      await venue.init();
      expect(emulator.requests().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v3/exchangeInfo']);
      const rules = venue.rules('paxg');
      expect(rules.symbol).toBe('PAXG/USDT');
      expect(rules.lotStep.toFixed()).toBe('0.0001');
      expect(rules.tickSize.toFixed()).toBe('0.01');
      expect(rules.minQty.toFixed()).toBe('0.0001');
      expect(rules.minNotional.toFixed()).toBe('5');
      expect(venue.apiBaseUrl).toBe(`${url}/api/v3`);
    } finally {
      await emulator.stop();
    }
  });

  it('fills a market buy, sends the client order id and no price, and converts the base commission to quote', async () => {
    rig = await startRig();
    const report = await rig.venue.submit(order({ clientOrderId: 'mkt-1', qty: '0.5' }));
    expect(report.status).toBe('filled');
    expect(report.filledQty.toFixed()).toBe('0.5');
    expect(report.fills).toHaveLength(1);
    const fill = report.fills[0]!;
    expect(fill.clientOrderId).toBe('mkt-1');
    expect(fill.price.toFixed()).toBe('3000');
    // Binance charges 0.1% of the base received (0.0005 PAXG), priced at the fill: 1.5 USDT.
    expect(fill.fee.toFixed()).toBe('1.5');
    const [post] = posts(rig.emulator.requests());
    expect(post?.params['newClientOrderId']).toBe('mkt-1');
    expect(post?.params['type']).toBe('MARKET');
    expect(post?.params['quantity']).toBe('0.5');
    expect(post?.params['quoteOrderQty']).toBeUndefined();
    expect(post?.params['price']).toBeUndefined();
    expect(rig.emulator.balance('PAXG').free.toFixed()).toBe('10.4995');
    expect(rig.emulator.balance('USDT').free.toFixed()).toBe('98500');
  });

  it('rests a limit order, then fills it when the next candle crosses the price', async () => {
    rig = await startRig();
    const placed = await rig.venue.submit(order({ clientOrderId: 'lim-1', qty: '1', limitPrice: '2990' }));
    expect(placed.status).toBe('open');
    expect(placed.filledQty.isZero()).toBe(true);
    expect(rig.emulator.balance('USDT').locked.toFixed()).toBe('2990');
    const open = await rig.venue.fetchOpenOrders('paxg');
    expect(open.map((o) => [o.clientOrderId, o.status, o.qty.toFixed(), o.limitPrice?.toFixed()])).toEqual([['lim-1', 'open', '1', '2990']]);

    expect(rig.emulator.advance()).toBe(true);
    const after = await rig.venue.lookup('lim-1', 'paxg');
    expect(after?.status).toBe('filled');
    expect(after?.fills.map((f) => [f.qty.toFixed(), f.price.toFixed()])).toEqual([['1', '2990']]);
    expect(rig.emulator.balance('USDT').locked.isZero()).toBe(true);
    expect(rig.emulator.balance('USDT').free.toFixed()).toBe('97010');
    expect(await rig.venue.fetchOpenOrders('paxg')).toEqual([]);
  });

  it('reports partial fills when an order exceeds the depth of the candle', async () => {
    rig = await startRig({ depthPerCandle: '0.3' });
    const market = await rig.venue.submit(order({ qty: '0.5' }));
    expect(market.status).toBe('expired');
    expect(market.filledQty.toFixed()).toBe('0.3');
    expect(market.fills.reduce((t, f) => t.plus(f.qty), new Decimal(0)).toFixed()).toBe('0.3');

    // The candle's depth is used up: a marketable limit order rests unfilled, then fills 0.3 per candle.
    const limit = await rig.venue.submit(order({ clientOrderId: 'lim-part', qty: '0.5', limitPrice: '3000' }));
    expect(limit.status).toBe('open');
    rig.emulator.advance();
    const partial = await rig.venue.lookup('lim-part', 'paxg');
    expect(partial?.status).toBe('partially-filled');
    expect(partial?.filledQty.toFixed()).toBe('0.3');
    expect(partial?.fills).toHaveLength(1);
    rig.emulator.advance();
    const done = await rig.venue.lookup('lim-part', 'paxg');
    expect(done?.status).toBe('filled');
    expect(done?.fills.map((f) => f.qty.toFixed())).toEqual(['0.3', '0.2']);
  });

  it('cancels a resting order by client order id and releases the locked balance', async () => {
    rig = await startRig();
    await rig.venue.submit(order({ clientOrderId: 'cxl-1', qty: '1', limitPrice: '2900' }));
    const cancelled = await rig.venue.cancel('cxl-1', 'paxg');
    expect(cancelled?.status).toBe('cancelled');
    expect(cancelled?.clientOrderId).toBe('cxl-1');
    expect(rig.emulator.balance('USDT').locked.isZero()).toBe(true);
    expect(rig.emulator.balance('USDT').free.toFixed()).toBe('100000');
    const remove = rig.emulator.requests().find((r) => r.method === 'DELETE');
    expect(remove?.params['origClientOrderId']).toBe('cxl-1');
    // Cancelling again: the exchange no longer knows it as open; the venue looks it up instead.
    const again = await rig.venue.cancel('cxl-1', 'paxg');
    expect(again?.status).toBe('cancelled');
    expect(await rig.venue.cancel('never-placed', 'paxg')).toBeUndefined();
  });

  it('reads balances, trades and candles for reconciliation', async () => {
    rig = await startRig();
    await rig.venue.submit(order({ clientOrderId: 'b-1', qty: '1' }));
    await rig.venue.submit(order({ clientOrderId: 's-1', side: 'sell', qty: '0.4' }));
    const balances = await rig.venue.fetchBalances();
    expect(balances['PAXG']?.total.toFixed()).toBe(rig.emulator.balance('PAXG').free.toFixed());
    expect(balances['USDT']?.free.toFixed()).toBe(rig.emulator.balance('USDT').free.toFixed());
    const trades = await rig.venue.fetchMyTrades('paxg', 0);
    expect(trades.map((t) => [t.side, t.qty.toFixed(), t.price.toFixed(), t.fee.toFixed(), t.feeCharged?.currency])).toEqual([
      ['buy', '1', '3000', '3', 'PAXG'],
      ['sell', '0.4', '3000', '1.2', 'USDT'],
    ]);
    expect(trades[0]?.venueOrderId).toBe(String(rig.emulator.orders()[0]?.orderId));
    const candles = await rig.venue.fetchCandles('PAXG/USDT', '1d');
    expect(candles.map((c) => c.close.toFixed())).toEqual(['3000']);
    rig.emulator.advance();
    expect((await rig.venue.fetchCandles('PAXG/USDT', '1d')).map((c) => c.close.toFixed())).toEqual(['3000', '2980']);
  });

  it('pages through trade history without duplicates', async () => {
    rig = await startRig();
    for (let i = 0; i < 5; i += 1) await rig.venue.submit(order({ qty: '0.01' }));
    const trades = await rig.venue.fetchMyTrades('paxg', 0, 2);
    expect(new Set(trades.map((t) => t.tradeId)).size).toBe(5);
  });
});

describe('rejections are final and come back as rejected reports', () => {
  it('returns a filter failure as rejected with the reason, sent once', async () => {
    rig = await startRig();
    const notional = await rig.venue.submit(order({ qty: '0.001' }));
    expect(notional.status).toBe('rejected');
    expect(notional.reason).toContain('NOTIONAL');
    rig.emulator.clearRequests();
    const report = await rig.venue.submit(order({ qty: '9500' }));
    expect(report.status).toBe('rejected');
    expect(report.reason).toContain('LOT_SIZE');
    // One lookup before sending, one POST, and nothing after the rejection.
    expect(rig.emulator.requests().map((r) => `${r.method} ${r.status}`)).toEqual(['GET 400', 'POST 400']);
  });

  it('returns insufficient funds as rejected, sent once, with no lookup', async () => {
    rig = await startRig({ balances: { USDT: '100', PAXG: '0' } });
    const report = await rig.venue.submit(order({ qty: '1' }));
    expect(report.status).toBe('rejected');
    expect(report.reason).toContain('insufficient balance');
    expect(rig.emulator.requests().map((r) => `${r.method} ${r.status}`)).toEqual(['GET 400', 'POST 400']);
    expect(rig.emulator.orders()).toHaveLength(0);
  });

  it('returns an unlisted symbol as rejected without sending anything', async () => {
    rig = await startRig();
    const report = await rig.venue.submit(order({ symbol: 'XAU/USDT', qty: '1' }));
    expect(report.status).toBe('rejected');
    expect(rig.emulator.requests()).toHaveLength(0);
  });
});

describe('authentication errors halt', () => {
  it('throws VenueHaltError on a wrong secret, before any order is sent', async () => {
    const emulator = new BinanceEmulator();
    const url = await emulator.start();
    try {
      const venue = new CcxtVenue({ exchange: 'binance', emulatorUrl: url, env: envFor(emulator, { PROCURA_BINANCE_SECRET: 'wrong' }), sleep: async () => {} });
      await venue.init();
      await expect(venue.fetchBalances()).rejects.toBeInstanceOf(VenueHaltError);
      await expect(venue.submit(order({ qty: '0.1' }))).rejects.toBeInstanceOf(VenueHaltError);
      expect(posts(emulator.requests())).toHaveLength(0);
      expect(emulator.requests().filter((r) => r.path === '/api/v3/account')).toHaveLength(1);
      expect(lookups(emulator.requests()).map((r) => r.status)).toEqual([400]);
      // Without the lookup before sending, the refused POST halts too and is not retried.
      const direct = new CcxtVenue({ exchange: 'binance', emulatorUrl: url, env: envFor(emulator, { PROCURA_BINANCE_SECRET: 'wrong' }), lookupBeforeSend: false });
      await direct.init();
      await expect(direct.submit(order({ qty: '0.1' }))).rejects.toBeInstanceOf(VenueHaltError);
      expect(posts(emulator.requests()).map((r) => r.status)).toEqual([400]);
      expect(emulator.orders()).toHaveLength(0);
    } finally {
      await emulator.stop();
    }
  });

  it('throws VenueHaltError when the environment has no credentials, before any order request', async () => {
    const emulator = new BinanceEmulator();
    const url = await emulator.start();
    try {
      const venue = new CcxtVenue({ exchange: 'binance', emulatorUrl: url, env: {} });
      expect(venue.hasCredentials).toBe(false);
      await venue.init();
      await expect(venue.submit(order({ qty: '0.1' }))).rejects.toBeInstanceOf(VenueHaltError);
      expect(posts(emulator.requests())).toHaveLength(0);
    } finally {
      await emulator.stop();
    }
  });
});

describe('sandbox and live guard', () => {
  it('uses the exchange sandbox by default', () => {
    const venue = new CcxtVenue({ exchange: 'binance', env: {} });
    expect(venue.mode).toBe('sandbox');
    expect(venue.apiBaseUrl).toBe('https://testnet.binance.vision/api/v3');
  });

  it('refuses live mode unless PROCURA_ALLOW_REAL_TRADING=yes', () => {
    expect(() => new CcxtVenue({ exchange: 'binance', mode: 'live', env: {} })).toThrow(ConfigError);
    expect(() => new CcxtVenue({ exchange: 'binance', mode: 'live', env: { PROCURA_ALLOW_REAL_TRADING: 'true' } })).toThrow(/PROCURA_ALLOW_REAL_TRADING=yes/);
    const warnings: string[] = [];
    const logger = { info: () => {}, error: () => {}, warn: (_fields: object, message: string) => void warnings.push(message) };
    const live = new CcxtVenue({ exchange: 'binance', mode: 'live', env: { PROCURA_ALLOW_REAL_TRADING: 'yes' }, logger });
    expect(live.apiBaseUrl).toBe('https://api.binance.com/api/v3');
    expect(warnings.join('\n')).toMatch(/LIVE TRADING/);
  });

  it('refuses an unknown exchange id and an exchange without a sandbox, naming the field', () => {
    expect(() => new CcxtVenue({ exchange: 'no-such-exchange', env: {} })).toThrow(/field "exchange"/);
    expect(() => new CcxtVenue({ exchange: 'kraken', env: {} })).toThrow(/field "mode"/);
  });

  it('market-data mode reads no credentials and refuses every account call', async () => {
    const emulator = new BinanceEmulator();
    const url = await emulator.start();
    try {
      const venue = new CcxtVenue({ exchange: 'binance', mode: 'market-data', emulatorUrl: url, env: envFor(emulator) });
      expect(venue.hasCredentials).toBe(false);
      await venue.init();
      expect((await venue.fetchCandles('PAXG/USDT', '1d')).length).toBe(1);
      await expect(venue.submit(order({ qty: '0.1' }))).rejects.toThrow(ConfigError);
      await expect(venue.fetchBalances()).rejects.toThrow(/market-data/);
      expect(posts(emulator.requests())).toHaveLength(0);
    } finally {
      await emulator.stop();
    }
  });
});
