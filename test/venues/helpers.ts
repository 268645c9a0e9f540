/** Shared fixtures: an emulator on 127.0.0.1 and a CcxtVenue pointed at it with a recording, instant sleep. */
import { BinanceEmulator, makeCandles, type EmulatorOptions, type LoggedRequest } from '../support/binance-emulator.js';
import { CcxtVenue, credentialVariables, type CcxtVenueOptions } from '../../src/venues/ccxt/ccxt-venue.js';
import { Decimal } from '../../src/core/decimal.js';
import type { OrderRequest } from '../../src/pipeline/types.js';

export const DAY = 86_400_000;
export const START = Date.UTC(2024, 0, 1);

export interface Rig {
  emulator: BinanceEmulator;
  venue: CcxtVenue;
  sleeps: number[];
  stop(): Promise<void>;
}

/** Candles: 3000 now, then a dip to 2980 (low 2979) on the next candle, then 3010. */
export function defaultCandles(): EmulatorOptions['candles'] {
  return { PAXGUSDT: makeCandles(START, DAY, ['3000', '2980', '3010', '3010', '3010'], '1') };
}

export function envFor(emulator: BinanceEmulator, overrides: Record<string, string> = {}): Record<string, string> {
  const names = credentialVariables('binance');
  return { [names.apiKey]: emulator.apiKey, [names.secret]: emulator.secret, ...overrides };
}

export async function startRig(emulatorOptions: EmulatorOptions = {}, venueOptions: Partial<CcxtVenueOptions> = {}): Promise<Rig> {
  const emulator = new BinanceEmulator({ candles: defaultCandles(), ...emulatorOptions });
  const url = await emulator.start();
  const sleeps: number[] = [];
  const venue = new CcxtVenue({
    exchange: 'binance',
    emulatorUrl: url,
    env: envFor(emulator),
    instruments: { paxg: 'PAXG/USDT' },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    lookupAttempts: 3,
    lookupIntervalMs: 1000,
    timeoutMs: 2000,
    ...venueOptions,
  });
  await venue.init();
  emulator.clearRequests();
  return { emulator, venue, sleeps, stop: () => emulator.stop() };
}

let counter = 0;
export function order(fields: Omit<Partial<OrderRequest>, 'qty' | 'limitPrice'> & { qty: string; limitPrice?: string }): OrderRequest {
  counter += 1;
  const { qty, limitPrice, ...rest } = fields;
  return {
    clientOrderId: `t-${counter}`,
    instrument: 'paxg',
    symbol: 'PAXG/USDT',
    side: 'buy',
    type: limitPrice === undefined ? 'market' : 'limit',
    at: START,
    reason: 'procure',
    ...rest,
    qty: new Decimal(qty),
    ...(limitPrice !== undefined ? { limitPrice: new Decimal(limitPrice) } : {}),
  };
}

export function posts(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
}

export function lookups(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((r) => r.method === 'GET' && r.path === '/api/v3/order');
}

/** Every request stayed on the spot /api/v3 surface (no sapi, fapi, dapi). */
export function onlySpot(requests: readonly LoggedRequest[]): boolean {
  return requests.every((r) => r.path.startsWith('/api/v3/'));
}
