/**
 * Hedge pricing against hand-worked cases: the exchange calendar (last trading days, which
 * delivery month is contract n), the cost-of-carry forward, average-price swaps, futures
 * priced from the bundled EIA curve across a roll, and the roll yield.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { DAY_MS } from '../../src/core/time.js';
import { HedgeStrip, type HedgeStripSetup } from '../../src/engine/hedge-strip.js';
import { carryForward, frontMonth, lastTradeDay, loadFuturesCurve, monthLabel, monthOf, parseFuturesCurve, rollYield } from '../../src/market/forward.js';
import { loadSeries, seriesFromArrays, type PriceSeries } from '../../src/market/index.js';

const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);
const month = (iso: string): number => monthOf(day(`${iso}-01`));
const NO_CARRY = { financingRate: 0, storageRate: 0, convenienceYield: 0 };

/** Weekday bars from `from` to `to` (inclusive) with price `price(date)`. */
function weekdays(from: string, to: string, price: (at: number) => number): PriceSeries {
  const at: number[] = [];
  const close: number[] = [];
  for (let t = day(from); t <= day(to); t += DAY_MS) {
    const w = new Date(t).getUTCDay();
    if (w === 0 || w === 6) continue;
    at.push(t);
    close.push(price(t));
  }
  return seriesFromArrays({ id: 'synthetic', at: Float64Array.from(at), close: Float64Array.from(close) });
}

function strip(setup: Partial<HedgeStripSetup> & { index: PriceSeries }): HedgeStrip {
  return new HedgeStrip({ family: 'h', kind: 'swap', curve: undefined, expiry: 'month-end', rollDaysBeforeExpiry: 5, months: 3, carry: NO_CARRY, marginRate: 0, ...setup });
}

/** Feeds bars dated up to and including `through`. */
function feedThrough(s: HedgeStrip, through: string): void {
  const index = s.setup.index;
  while (s.lastBar + 1 < index.length && index.at[s.lastBar + 1]! <= day(through)) s.onIndexBar(s.lastBar + 1);
}

describe('exchange calendar', () => {
  it('puts the last trading day where the NYMEX rules do (weekdays only)', () => {
    // WTI May 2020: the 25th of April was a Saturday -> Friday the 24th -> 3 business days before: Tuesday the 21st.
    expect(new Date(lastTradeDay('cl', month('2020-05'))).toISOString().slice(0, 10)).toBe('2020-04-21');
    // WTI June 2020: Monday 25 May 2020 is a weekday here (Memorial Day is not modelled) -> Wednesday the 20th.
    expect(new Date(lastTradeDay('cl', month('2020-06'))).toISOString().slice(0, 10)).toBe('2020-05-20');
    // Henry Hub January 2021: 3 business days before Friday 1 January 2021 -> Tuesday 29 December 2020.
    expect(new Date(lastTradeDay('ng', month('2021-01'))).toISOString().slice(0, 10)).toBe('2020-12-29');
    // Heating oil January 2021: the last business day of December 2020.
    expect(new Date(lastTradeDay('ho', month('2021-01'))).toISOString().slice(0, 10)).toBe('2020-12-31');
  });

  it('agrees with the EIA curve on which month contract 1 is around the April 2020 expiry', () => {
    // On 2020-04-21 contract 1 is still May (it settled at 10.01, contract 2 = June at 11.57); on the 22nd June is contract 1 (13.78).
    expect(monthLabel(frontMonth('cl', day('2020-04-21')))).toBe('2020-05');
    expect(monthLabel(frontMonth('cl', day('2020-04-22')))).toBe('2020-06');
  });
});

describe('cost-of-carry forward', () => {
  it('is spot x (1 + (r + u - y) x tau)', () => {
    // 100 x (1 + (0.05 + 0.01 - 0.02) x 91.25 / 365) = 100 x 1.01 = 101
    expect(carryForward(100, { financingRate: 0.05, storageRate: 0.01, convenienceYield: 0.02 }, 91.25)).toBeCloseTo(101, 12);
    // Backwardation: convenience yield above financing + storage puts the forward below spot.
    expect(carryForward(100, { financingRate: 0.03, storageRate: 0, convenienceYield: 0.07 }, 182.5)).toBeCloseTo(98, 12);
  });

  it('prices a swap before its month at the carry forward to mid-month', () => {
    const s = strip({ index: weekdays('2023-01-02', '2023-04-28', () => 100), carry: { financingRate: 0.04, storageRate: 0, convenienceYield: 0 } });
    feedThrough(s, '2023-01-16');
    // March 2023 mid-month = 1 March + 365.25/24 days (15.21875 d); from 16 January: 44 + 15.21875 = 59.21875 days.
    const tau = 59.21875;
    expect(s.price(month('2023-03'))).toBeCloseTo(100 * (1 + 0.04 * (tau / 365)), 10);
  });
});

describe('average-price swaps', () => {
  it('price the month in progress at the fixings so far and the last spot for the rest, and settle at the average', () => {
    // January 2023 at 100, February at 100 + the day of the month (weekdays only).
    const index = weekdays('2023-01-02', '2023-03-10', (t) => (new Date(t).getUTCMonth() === 0 ? 100 : 100 + new Date(t).getUTCDate()));
    const s = strip({ index });
    feedThrough(s, '2023-02-03');
    // Fixings 1, 2, 3 Feb: 101, 102, 103; weekdays left after the 3rd: 17 (6-10, 13-17, 20-24, 27-28); last spot 103.
    expect(s.price(month('2023-02'))).toBeCloseTo((101 + 102 + 103 + 103 * 17) / 20, 12);
    feedThrough(s, '2023-02-28');
    const feb = [1, 2, 3, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 27, 28].map((d) => 100 + d);
    const average = feb.reduce((a, b) => a + b, 0) / feb.length;
    expect(s.price(month('2023-02'))).toBeCloseTo(average, 12);
    feedThrough(s, '2023-03-10');
    expect(s.price(month('2023-02'))).toBeCloseTo(average, 12); // settled: stays the average
    expect(s.rollsOffAt(month('2023-02'))).toBe(day('2023-03-01'));
  });

  it('offers the month in progress and the next months - 1 until it settles', () => {
    const s = strip({ index: weekdays('2023-01-02', '2023-03-10', () => 100), months: 3 });
    expect(s.monthsOn(day('2023-02-28')).map(monthLabel)).toEqual(['2023-02', '2023-03', '2023-04']);
    expect(s.monthsOn(day('2023-03-01')).map(monthLabel)).toEqual(['2023-03', '2023-04', '2023-05']);
    expect(s.instrumentFor(month('2023-03'))).toBe('h:2023-03');
  });

  it('on a monthly index, a month is fixed by its own bar (a monthly average)', () => {
    const at = Float64Array.from([day('2023-01-01'), day('2023-02-01'), day('2023-03-01')]);
    const index = { ...seriesFromArrays({ id: 'monthly', at, close: Float64Array.from([10, 12, 11]) }) };
    expect(index.interval).toBe('monthly');
    const s = strip({ index, carry: { financingRate: 0.06, storageRate: 0, convenienceYield: 0 } });
    s.onIndexBar(0);
    s.onIndexBar(1);
    expect(s.price(month('2023-02'))).toBe(12);
    expect(s.price(month('2023-01'))).toBe(10);
  });
});

describe('futures from the bundled EIA WTI curve', () => {
  const index = loadSeries('backtests/data/oil-prices/wti-daily.csv');
  const curve = loadFuturesCurve('backtests/data/futures/wti-futures-daily.csv');
  const futures = (): HedgeStrip => strip({ index, kind: 'futures', curve, expiry: 'cl', rollDaysBeforeExpiry: 5, carry: { financingRate: 0.04, storageRate: 0, convenienceYield: 0 } });

  it('prices the contract covering a month at the curve quote for the next delivery month, across an expiry', () => {
    const s = futures();
    // Coverage May 2020 = the June 2020 contract: contract 2 on 21 April (May still trading), contract 1 on the 22nd.
    feedThrough(s, '2020-04-21');
    expect(s.instrumentFor(month('2020-05'))).toBe('h:2020-06');
    expect(s.price(month('2020-05'))).toBe(11.57);
    expect(s.price(month('2020-04'))).toBe(10.01); // the May contract on its last trading day
    feedThrough(s, '2020-04-22');
    expect(s.price(month('2020-05'))).toBe(13.78);
  });

  it('closes a contract 5 business days before its last trading day, and the roll yield is (near - next) / near', () => {
    const s = futures();
    // May 2020 (coverage April) expires 21 April -> closed on 14 April, at the last bar known then (13 April).
    expect(new Date(s.rollsOffAt(month('2020-04'))).toISOString().slice(0, 10)).toBe('2020-04-14');
    feedThrough(s, '2020-04-13');
    const near = s.price(month('2020-04'));
    const next = s.price(month('2020-05'));
    expect([near, next]).toEqual([22.41, 29.26]);
    // Rolling a long from May into June on 13 April 2020: (22.41 - 29.26) / 22.41 = -30.57 % (steep contango).
    expect(rollYield(near, next)).toBeCloseTo((22.41 - 29.26) / 22.41, 12);
    expect(rollYield(near, next)).toBeLessThan(0);
    // On 2 March contract 1 is April (it expires 20 March), so June is contract 3 (47.05): bought then, it is worth 29.26 on 13 April.
    const entry = futures();
    feedThrough(entry, '2020-03-02');
    expect(entry.price(month('2020-05'))).toBe(47.05);
  });

  it('beyond the curve\'s last contract carries from the farthest quote; after the file ends, carry plus the last basis', () => {
    const s = futures();
    feedThrough(s, '2020-03-02');
    // Coverage July 2020 = August delivery, contract 5 on 2 March: carried from contract 4 (July, 47.14) between the two expiries.
    const days = (lastTradeDay('cl', month('2020-08')) - lastTradeDay('cl', month('2020-07'))) / DAY_MS;
    expect(s.price(month('2020-07'))).toBeCloseTo(47.14 * (1 + 0.04 * (days / 365)), 10);
    // The curve ends on 2023-01-24; a contract it quoted keeps its last basis to the carry model afterwards.
    const late = futures();
    feedThrough(late, '2023-01-24');
    const spotLast = index.close[late.lastBar]!;
    const quoted = late.price(month('2023-02')); // March 2023 contract, quoted on the last curve row
    const basis = quoted - carryForward(spotLast, late.setup.carry, (lastTradeDay('cl', month('2023-03')) - day('2023-01-24')) / DAY_MS);
    feedThrough(late, '2023-01-25');
    const spotNext = index.close[late.lastBar]!;
    const expected = carryForward(spotNext, late.setup.carry, (lastTradeDay('cl', month('2023-03')) - day('2023-01-25')) / DAY_MS) + basis;
    expect(late.price(month('2023-02'))).toBeCloseTo(expected, 10);
  });
});

describe('curve files', () => {
  it('refuse a malformed file with line and field', () => {
    expect(() => parseFuturesCurve('date,contract1,contract3\n2020-01-02,1,2\n', 'c.csv')).toThrow(/contract2/);
    try {
      parseFuturesCurve('date,contract1\n2020-01-02,1\n2020-01-03,x\n', 'c.csv');
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).where).toMatchObject({ file: 'c.csv', line: 3, field: 'contract1' });
    }
    expect(() => parseFuturesCurve('date,contract1\n2020-01-03,1\n2020-01-02,1\n', 'c.csv')).toThrow(/out of order/);
  });
});
