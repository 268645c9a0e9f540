/**
 * The venue contract: what the pipeline relies on from any Venue. Run against the simulated
 * venue here and against the ccxt venue + exchange emulator elsewhere:
 *
 *   runVenueContract('sim', async () => ({ venue, instrument, qty, restingBuyPrice, advance, now }));
 */
import { describe, expect, it } from 'vitest';
import { Decimal, ZERO } from '../../src/core/decimal.js';
import type { EpochMs } from '../../src/core/time.js';
import { deriveClientOrderId, CLIENT_ORDER_ID_PATTERN } from '../../src/pipeline/client-order-id.js';
import type { Fill, OrderReport, OrderRequest, OrderStatus, Side, Venue } from '../../src/pipeline/types.js';

export interface VenueContractHarness {
  readonly venue: Venue;
  readonly instrument: string;
  /** A quantity the market accepts; a market order of it fills in full within a few `advance` calls. */
  readonly qty: Decimal;
  /** A limit buy price far below the market (a whole number of ticks): the order rests unfilled. */
  readonly restingBuyPrice: Decimal;
  /** A quantity the market refuses (below the minimum); defaults to zero. */
  readonly badQty?: Decimal;
  /** Moves the market on so submitted market orders fill (sim: feed the next bar; emulator: let it match). */
  advance(): Promise<void>;
  /** Time stamp for new requests. */
  now(): EpochMs;
  close?(): Promise<void>;
}

const LIVE: readonly OrderStatus[] = ['new', 'open', 'partially-filled', 'filled'];
const ADVANCES = 5;

function expectReportShape(report: OrderReport, clientOrderId: string): void {
  expect(report.clientOrderId).toBe(clientOrderId);
  expect(Decimal.isDecimal(report.filledQty)).toBe(true);
  expect(report.filledQty.isNegative() && !report.filledQty.isZero()).toBe(false);
  expect(Array.isArray(report.fills)).toBe(true);
  if (report.venueOrderId !== undefined) expect(report.venueOrderId.length).toBeGreaterThan(0);
}

function expectFillShape(fill: Fill, clientOrderId: string): void {
  expect(fill.clientOrderId).toBe(clientOrderId);
  expect(fill.tradeId.length).toBeGreaterThan(0);
  expect(fill.venueOrderId.length).toBeGreaterThan(0);
  expect(Number.isFinite(fill.at)).toBe(true);
  expect(fill.qty.greaterThan(0)).toBe(true);
  expect(fill.price.greaterThan(0)).toBe(true);
  expect(fill.fee.isNegative() && !fill.fee.isZero()).toBe(false);
}

function fillSum(report: OrderReport): Decimal {
  return report.fills.reduce((total, fill) => total.plus(fill.qty), ZERO);
}

/** Registers the contract tests for one venue. `makeHarness` is called once per test. */
export function runVenueContract(name: string, makeHarness: () => Promise<VenueContractHarness> | VenueContractHarness): void {
  let counter = 0;
  const request = (h: VenueContractHarness, side: Side, extra: Partial<OrderRequest> = {}): OrderRequest => {
    counter += 1;
    const rules = h.venue.rules(h.instrument);
    const clientOrderId = deriveClientOrderId({ runId: `contract:${name}`, at: h.now(), instrument: h.instrument, side, sequence: counter });
    return { clientOrderId, instrument: h.instrument, symbol: rules.symbol, side, type: 'market', qty: h.qty, at: h.now(), reason: 'procure', ...extra };
  };
  const withHarness = (fn: (h: VenueContractHarness) => Promise<void>) => async () => {
    const h = await makeHarness();
    try {
      await fn(h);
    } finally {
      await h.close?.();
    }
  };
  /** Advances until the order is terminal; returns every report seen (lookups), in order. */
  const advanceUntilDone = async (h: VenueContractHarness, clientOrderId: string): Promise<OrderReport[]> => {
    const seen: OrderReport[] = [];
    for (let i = 0; i < ADVANCES; i += 1) {
      await h.advance();
      const report = await h.venue.lookup(clientOrderId, h.instrument);
      expect(report).toBeDefined();
      seen.push(report!);
      if (!['new', 'open', 'partially-filled'].includes(report!.status)) break;
    }
    return seen;
  };

  describe(`venue contract: ${name}`, () => {
    it('publishes usable market rules', withHarness(async (h) => {
      const rules = h.venue.rules(h.instrument);
      expect(rules.symbol.length).toBeGreaterThan(0);
      expect(rules.lotStep.greaterThan(0)).toBe(true);
      expect(rules.tickSize.greaterThan(0)).toBe(true);
      expect(rules.minQty.isNegative()).toBe(false);
      expect(rules.minNotional.isNegative()).toBe(false);
      expect(h.qty.greaterThanOrEqualTo(rules.minQty)).toBe(true);
    }));

    it('fills a market buy, reports cumulative fills with trade ids, and finds it by client order id', withHarness(async (h) => {
      const order = request(h, 'buy');
      expect(order.clientOrderId).toMatch(CLIENT_ORDER_ID_PATTERN);
      const first = await h.venue.submit(order);
      expectReportShape(first, order.clientOrderId);
      expect(LIVE).toContain(first.status);
      const seen = [first, ...(await advanceUntilDone(h, order.clientOrderId))];
      const last = seen[seen.length - 1]!;
      expect(last.status).toBe('filled');
      expect(last.filledQty.equals(order.qty)).toBe(true);
      expect(fillSum(last).equals(last.filledQty)).toBe(true);
      const tradeIds = last.fills.map((fill) => fill.tradeId);
      expect(new Set(tradeIds).size).toBe(tradeIds.length);
      for (const fill of last.fills) {
        expectFillShape(fill, order.clientOrderId);
        if (last.venueOrderId !== undefined) expect(fill.venueOrderId).toBe(last.venueOrderId);
      }
      // Cumulative: filledQty never decreases and earlier trade ids stay in later reports.
      for (let i = 1; i < seen.length; i += 1) {
        expect(seen[i]!.filledQty.greaterThanOrEqualTo(seen[i - 1]!.filledQty)).toBe(true);
        const later = new Set(seen[i]!.fills.map((fill) => fill.tradeId));
        for (const fill of seen[i - 1]!.fills) expect(later.has(fill.tradeId)).toBe(true);
      }
      const again = await h.venue.lookup(order.clientOrderId, h.instrument);
      expectReportShape(again!, order.clientOrderId);
      expect(again!.status).toBe('filled');
      expect(again!.fills.map((fill) => fill.tradeId)).toEqual(tradeIds);
    }));

    it('fills a market sell', withHarness(async (h) => {
      const buy = request(h, 'buy');
      await h.venue.submit(buy);
      await advanceUntilDone(h, buy.clientOrderId);
      const sell = request(h, 'sell');
      const first = await h.venue.submit(sell);
      expectReportShape(first, sell.clientOrderId);
      const seen = await advanceUntilDone(h, sell.clientOrderId);
      const last = seen[seen.length - 1]!;
      expect(last.status).toBe('filled');
      expect(fillSum(last).equals(sell.qty)).toBe(true);
      for (const fill of last.fills) expectFillShape(fill, sell.clientOrderId);
    }));

    it('returns undefined for an unknown client order id, on lookup and on cancel', withHarness(async (h) => {
      expect(await h.venue.lookup('pc-unknown0contract', h.instrument)).toBeUndefined();
      expect(await h.venue.cancel('pc-unknown0contract', h.instrument)).toBeUndefined();
    }));

    it('rests a far-away limit buy and cancels it', withHarness(async (h) => {
      const order = request(h, 'buy', { type: 'limit', limitPrice: h.restingBuyPrice });
      const first = await h.venue.submit(order);
      expectReportShape(first, order.clientOrderId);
      expect(['new', 'open']).toContain(first.status);
      await h.advance();
      const resting = await h.venue.lookup(order.clientOrderId, h.instrument);
      expect(resting!.status).toBe('open');
      expect(resting!.filledQty.isZero()).toBe(true);
      expect(resting!.fills).toHaveLength(0);
      const cancelled = await h.venue.cancel(order.clientOrderId, h.instrument);
      expectReportShape(cancelled!, order.clientOrderId);
      expect(cancelled!.status).toBe('cancelled');
      expect((await h.venue.lookup(order.clientOrderId, h.instrument))!.status).toBe('cancelled');
      await h.advance();
      expect((await h.venue.lookup(order.clientOrderId, h.instrument))!.filledQty.isZero()).toBe(true);
      // Cancelling again: the cancelled report, or undefined when the venue forgets cancelled orders.
      const twice = await h.venue.cancel(order.clientOrderId, h.instrument);
      if (twice !== undefined) expect(twice.status).toBe('cancelled');
    }));

    it('never creates a second order for a repeated client order id', withHarness(async (h) => {
      const order = request(h, 'buy');
      const first = await h.venue.submit(order);
      let second: OrderReport | undefined;
      try {
        second = await h.venue.submit(order);
      } catch {
        second = undefined; // refusing the duplicate is fine too
      }
      if (second !== undefined && first.venueOrderId !== undefined) expect(second.venueOrderId).toBe(first.venueOrderId);
      const seen = await advanceUntilDone(h, order.clientOrderId);
      const last = seen[seen.length - 1]!;
      expect(last.filledQty.equals(order.qty)).toBe(true);
      expect(fillSum(last).equals(order.qty)).toBe(true);
    }));

    it('refuses an order that breaks the market rules and never fills it', withHarness(async (h) => {
      const order = request(h, 'buy', { qty: h.badQty ?? ZERO });
      let refused: OrderReport | undefined;
      try {
        refused = await h.venue.submit(order);
        expect(refused.status).toBe('rejected');
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
      }
      await h.advance();
      const later = await h.venue.lookup(order.clientOrderId, h.instrument);
      if (later !== undefined) {
        expect(later.status).toBe('rejected');
        expect(later.filledQty.isZero()).toBe(true);
      }
    }));
  });
}
