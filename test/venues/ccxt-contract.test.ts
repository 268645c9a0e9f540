/** The venue contract the pipeline relies on, run against CcxtVenue + the Binance emulator (real ccxt client). */
import { Decimal } from '../../src/core/decimal.js';
import { BinanceEmulator, makeCandles } from '../support/binance-emulator.js';
import { CcxtVenue } from '../../src/venues/ccxt/ccxt-venue.js';
import { runVenueContract } from '../venues-sim/contract.js';
import { DAY, START, envFor } from './helpers.js';

runVenueContract('CcxtVenue + Binance emulator', async () => {
  const emulator = new BinanceEmulator({ candles: { PAXGUSDT: makeCandles(START, DAY, Array.from({ length: 30 }, (_, i) => String(3000 + (i % 3) * 5))) } });
  const url = await emulator.start();
  const venue = new CcxtVenue({ exchange: 'binance', emulatorUrl: url, env: envFor(emulator), instruments: { paxg: 'PAXG/USDT' }, sleep: async () => {}, lookupAttempts: 2 });
  await venue.init();
  return {
    venue,
    instrument: 'paxg',
    qty: new Decimal('0.5'),
    restingBuyPrice: new Decimal('1000'),
    badQty: new Decimal('0.00001'),
    advance: async () => {
      emulator.advance();
    },
    now: () => START + emulator.cursor * DAY,
    close: () => emulator.stop(),
  };
});
