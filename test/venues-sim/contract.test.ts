import { Decimal } from '../../src/core/decimal.js';
import { DAY_MS } from '../../src/core/time.js';
import { SimVenue } from '../../src/venues/sim/sim-venue.js';
import { runVenueContract } from './contract.js';

runVenueContract('SimVenue', () => {
  const venue = new SimVenue({
    instruments: { natgas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.001', minQty: '1', minNotional: '10' } },
    feeBps: '10',
    feeFixed: '1',
  });
  let at = Date.UTC(2024, 0, 1);
  let step = 0;
  const bar = () => {
    const price = 3 + (step % 3) * 0.05;
    step += 1;
    at += DAY_MS;
    venue.onBar({ at, open: price, high: price + 0.1, low: price - 0.1, close: price + 0.02 });
  };
  bar();
  return {
    venue,
    instrument: 'natgas',
    qty: new Decimal('25.5'),
    restingBuyPrice: new Decimal('1.5'),
    badQty: new Decimal('0.5'),
    advance: async () => bar(),
    now: () => at,
  };
});
