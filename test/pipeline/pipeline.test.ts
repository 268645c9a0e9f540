import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { CLIENT_ORDER_ID_PATTERN } from '../../src/pipeline/client-order-id.js';
import { MemoryOrderStore } from '../../src/pipeline/order-store.js';
import { newOrderRecord, type OrderRecord } from '../../src/pipeline/order-state.js';
import { Pipeline, toPlainJson, type FillSink } from '../../src/pipeline/pipeline.js';
import type { Fill, Intent, OrderReport, OrderRequest, Venue } from '../../src/pipeline/types.js';
import { VenueError, venueErrorKindOf } from '../../src/pipeline/venue-error.js';
import { SimVenue } from '../../src/venues/sim/sim-venue.js';
import { DAY_MS, startOfDay } from '../../src/core/time.js';
import { fromTransfer, toTransfer } from '../../src/core/transfer.js';
import { D, day, intent, limits } from './fixtures.js';

type Step = 'ok' | 'throw-after-accept' | 'throw-before-accept' | 'rejected' | 'rate-limit' | 'authentication';

/** A venue in front of a SimVenue that fails on command and logs every call. */
class FlakyVenue implements Venue {
  readonly name = 'flaky';
  readonly calls: string[] = [];
  plan: Step[] = [];
  failLookups = 0;
  onSubmit: ((order: OrderRequest) => void) | undefined;
  constructor(readonly inner: SimVenue) {}
  rules(instrument: string) {
    return this.inner.rules(instrument);
  }
  async submit(order: OrderRequest): Promise<OrderReport> {
    const step = this.beforeSubmit(order);
    return this.afterSubmit(step, await this.inner.submit(order));
  }
  async lookup(clientOrderId: string, instrument: string): Promise<OrderReport | undefined> {
    this.beforeLookup(clientOrderId);
    return this.inner.lookup(clientOrderId, instrument);
  }
  async cancel(clientOrderId: string, instrument: string): Promise<OrderReport | undefined> {
    this.calls.push(`cancel ${clientOrderId}`);
    return this.inner.cancel(clientOrderId, instrument);
  }
  /** Logs the submit and takes the next planned step, throwing for the steps that fail before the venue accepts. */
  protected beforeSubmit(order: OrderRequest): Step {
    this.calls.push(`submit ${order.clientOrderId}`);
    this.onSubmit?.(order);
    const step = this.plan.shift() ?? 'ok';
    if (step === 'throw-before-accept') throw new Error('socket hang up');
    if (step === 'rejected') throw new VenueError('rejected', 'insufficient balance');
    if (step === 'rate-limit') throw new VenueError('rate-limit', '429 too many requests');
    if (step === 'authentication') throw new VenueError('authentication', 'invalid API key');
    return step;
  }
  /** The venue accepted: its report, or the timeout that hides it. */
  protected afterSubmit(step: Step, report: OrderReport): OrderReport {
    if (step === 'throw-after-accept') throw new VenueError('network', 'request timed out');
    return report;
  }
  /** Logs the lookup and fails it while failLookups lasts. */
  protected beforeLookup(clientOrderId: string): void {
    this.calls.push(`lookup ${clientOrderId}`);
    if (this.failLookups > 0) {
      this.failLookups -= 1;
      throw new VenueError('network', 'lookup timed out');
    }
  }
}

/**
 * The same venue answering at once (submitNow/lookupNow, as the simulated venue does): the
 * pipeline then takes its synchronous path, which must do exactly what the awaited one does.
 */
class FlakyNowVenue extends FlakyVenue {
  submitNow(order: OrderRequest): OrderReport {
    const step = this.beforeSubmit(order);
    return this.afterSubmit(step, this.inner.submitNow(order));
  }
  lookupNow(clientOrderId: string, instrument: string): OrderReport | undefined {
    this.beforeLookup(clientOrderId);
    return this.inner.lookupNow(clientOrderId, instrument);
  }
}

/** FlakyNowVenue passing on the simulated venue's change count (Venue.changeCount). */
class CountingNowVenue extends FlakyNowVenue {
  changeCount(): number {
    return this.inner.changeCount();
  }
}

function setup(riskOverrides: Record<string, unknown> = {}) {
  const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' } }, feeBps: '10' });
  sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3 });
  const venue = new FlakyVenue(sim);
  const store = new MemoryOrderStore();
  const fills: { order: OrderRecord; fill: Fill; intent: Intent }[] = [];
  const sink: FillSink = { onFill: (order, fill, why) => void fills.push({ order, fill, intent: why }) };
  const pipeline = new Pipeline({ runId: 'run-1', venue, limits: limits(riskOverrides), store, sink });
  return { sim, venue, store, fills, sink, pipeline };
}
const ctx = { referencePrice: D('3') };

describe('Pipeline', () => {
  it('takes the same steps with a venue that answers at once as with one that answers with promises', async () => {
    // Every branch of a send and a lookup: an unknown outcome found or not found, a rejection, a
    // rate limit, failed lookups, the attempts running out, an authentication failure that halts.
    const script = async (now: boolean) => {
      const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' } }, feeBps: '10', feeFixed: '1' });
      sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3 });
      const venue = now ? new FlakyNowVenue(sim) : new FlakyVenue(sim);
      const store = new MemoryOrderStore();
      const fills: unknown[] = [];
      const pipeline = new Pipeline({ runId: 'run-1', venue, limits: limits({ maxSubmitAttempts: 2 }), store, sink: { onFill: (order, fill) => void fills.push(toPlainJson({ order, fill })) } });
      const out: unknown[] = [];
      const steps: [Step[], number][] = [[['throw-after-accept'], 0], [['throw-before-accept'], 0], [['rejected'], 0], [['rate-limit'], 0], [['throw-after-accept'], 1], [['throw-before-accept', 'throw-before-accept'], 0], [['ok'], 0]];
      for (const [plan, failLookups] of steps) {
        venue.plan = [...plan];
        venue.failLookups = failLookups;
        out.push(toPlainJson(await pipeline.submit(intent({ qty: D('10') }), ctx)));
      }
      sim.onBar({ at: day(1), open: 3.2, high: 3.3, low: 3.1, close: 3.25 });
      out.push(await pipeline.sync(), await pipeline.sync());
      venue.plan = ['authentication'];
      out.push(toPlainJson(await pipeline.submitAll(intent({ at: day(1), qty: D('5') }), ctx)));
      out.push(toPlainJson(await pipeline.submitAll(intent({ at: day(1), qty: D('5') }), ctx)));
      return { out, fills, calls: venue.calls, counters: pipeline.counters(), state: pipeline.tradingState, orders: toPlainJson(store.allOrders()), positions: toPlainJson(pipeline.positions.all()) };
    };
    const later = await script(false);
    const now = await script(true);
    expect(now).toEqual(later);
    // The script did reach every branch.
    expect(later.counters).toMatchObject({ rejections: 3, replays: 0 });
    expect(later.counters.unknownOutcomes).toBeGreaterThanOrEqual(5);
    expect(later.counters.fills).toBeGreaterThanOrEqual(3);
    expect(later.state).toBe('halted');
  });

  it('answers submitAllSoon and syncSoon with the values themselves while the venue answers at once, and with promises otherwise, as submitAll and sync do', async () => {
    const script = async (now: boolean, soon: boolean) => {
      const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' } }, feeBps: '10' });
      sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3 });
      const venue = now ? new FlakyNowVenue(sim) : new FlakyVenue(sim);
      const fills: unknown[] = [];
      const pipeline = new Pipeline({ runId: 'run-1', venue, limits: limits({ maxOrderNotional: '20', maxChildOrders: 3 }), store: new MemoryOrderStore(), sink: { onFill: (order, fill) => void fills.push(toPlainJson({ order, fill })) } });
      const kinds: string[] = [];
      const submitted = async (qty: string) => {
        if (!soon) return pipeline.submitAll(intent({ qty: D(qty) }), ctx);
        const decisions = pipeline.submitAllSoon(intent({ qty: D(qty) }), ctx);
        kinds.push(decisions instanceof Promise ? 'promise' : 'value');
        return decisions;
      };
      const synced = async () => {
        if (!soon) return pipeline.sync();
        const result = pipeline.syncSoon();
        kinds.push(result instanceof Promise ? 'promise' : 'value');
        return result;
      };
      // One order, then one split into two children (above maxOrderNotional), a sync with nothing new, then one after a bar.
      const out: unknown[] = [toPlainJson(await submitted('5')), toPlainJson(await submitted('12')), await synced()];
      sim.onBar({ at: day(1), open: 3.2, high: 3.3, low: 3.1, close: 3.25 });
      out.push(await synced(), await synced());
      return { out, fills, kinds, calls: venue.calls, counters: pipeline.counters() };
    };
    const reference = await script(false, false);
    const later = await script(false, true);
    const now = await script(true, true);
    expect({ ...later, kinds: [] }).toEqual(reference);
    expect({ ...now, kinds: [] }).toEqual(reference);
    // A split is always a promise; a single order, a sync, and nothing to sync are values with a venue that answers at once.
    expect(now.kinds).toEqual(['value', 'promise', 'value', 'value', 'value']);
    expect(later.kinds).toEqual(['promise', 'promise', 'promise', 'promise', 'value']);
    expect(reference.counters).toMatchObject({ orders: 3, fills: 3 });
  });

  it('records every stage, sends, and applies fills on sync to positions and the sink', async () => {
    const { sim, pipeline, fills } = setup();
    const decision = await pipeline.submit(intent({ qty: D('10.05') }), ctx);
    expect(decision.outcome).toBe('sent');
    expect(decision.sizing).toMatchObject({ kind: 'sized' });
    expect(decision.sizing.qty.toString()).toBe('10');
    expect(decision.risk).toHaveLength(6);
    expect(decision.risk.every((v) => v.allowed)).toBe(true);
    expect(decision.clientOrderId).toMatch(CLIENT_ORDER_ID_PATTERN);
    expect(decision.firstReport?.status).toBe('open');
    expect(decision.request).toMatchObject({ type: 'market', symbol: 'NG/USD', reason: 'procure' });
    expect(pipeline.openOrderCount).toBe(1);

    sim.onBar({ at: day(1), open: 3.2, high: 3.3, low: 3.1, close: 3.25 });
    const synced = await pipeline.sync();
    expect(synced).toMatchObject({ looked: 1, fills: 1 });
    expect(pipeline.openOrderCount).toBe(0);
    expect(fills).toHaveLength(1);
    expect(fills[0]!.fill.price.toString()).toBe('3.2');
    expect(fills[0]!.fill.fee.toString()).toBe('0.03'); // 32 x 10 bps
    expect(fills[0]!.order.status).toBe('filled');
    expect(fills[0]!.intent.reason).toBe('procure');
    const position = pipeline.positions.get('gas');
    expect([position.qty.toString(), position.avgPrice.toString(), position.fees.toString()]).toEqual(['10', '3.2', '0.03']);
    expect(pipeline.counters()).toMatchObject({ intents: 1, orders: 1, fills: 1, denials: 0, skips: 0 });
    expect(await pipeline.sync()).toMatchObject({ looked: 0, fills: 0 });
    expect(fills).toHaveLength(1);
  });

  it('gives a sent decision the keys of a plain literal, in order, with its verdicts as a field that JSON, spreads, structured clones and the threads\' transfer see', async () => {
    const { pipeline } = setup();
    const decision = await pipeline.submit(intent({ qty: D('10') }), ctx);
    const keys = ['seq', 'at', 'intent', 'sizing', 'outcome', 'risk', 'clientOrderId', 'request', 'firstReport', 'status', 'error'];
    expect(Object.keys(decision)).toEqual(keys);
    const verdicts = decision.risk;
    expect(verdicts).toHaveLength(6);
    expect(decision.risk).toBe(verdicts);
    expect({ ...decision }.risk).toBe(verdicts);
    expect(Object.keys(JSON.parse(JSON.stringify(decision)))).toEqual(keys.filter((key) => key !== 'error'));
    expect(JSON.parse(JSON.stringify(decision)).risk).toEqual(JSON.parse(JSON.stringify(verdicts)));
    const cloned = structuredClone(toPlainJson(decision)) as Record<string, unknown>;
    expect(cloned['risk']).toEqual(toPlainJson(verdicts));
    // Plain data for the worker threads' transfer (which refuses a class instance), the verdicts included.
    expect(Object.keys(fromTransfer(structuredClone(toTransfer(decision))) as object)).toEqual(keys);
  });

  it('returns one shared resolved promise from sync when nothing is open', async () => {
    const { pipeline } = setup();
    const first = pipeline.sync();
    expect(pipeline.sync()).toBe(first);
    expect(await first).toEqual({ looked: 0, fills: 0, errors: [] });
  });

  it("skips sync's lookups while the venue's change count stands, and looks up again after a fill, an expiry, a cancel or an outcome in doubt", async () => {
    // The same script through a venue that counts its changes (the sim venue, behind a flaky
    // front that passes the count on) and one that does not: the same decisions, orders and
    // fills; only the lookups differ, and they must be skipped exactly when nothing changed.
    const script = async (counting: boolean) => {
      const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' } }, feeBps: '10', expireAfterBars: 4 });
      sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3 });
      const venue = counting ? new CountingNowVenue(sim) : new FlakyNowVenue(sim);
      const store = new MemoryOrderStore();
      const fills: unknown[] = [];
      const pipeline = new Pipeline({ runId: 'run-1', venue, limits: limits(), store, sink: { onFill: (order, fill) => void fills.push(toPlainJson({ order, fill })) } });
      const looked: number[] = [];
      const sync = async () => void looked.push((await pipeline.sync()).looked);
      const bar = (n: number, low: number) => sim.onBar({ at: day(n), open: 3, high: 3.1, low, close: 3 });
      await pipeline.submit(intent({ qty: D('10'), limitPrice: D('2.86') }), ctx); // rests; expires on bar 4
      await pipeline.submit(intent({ qty: D('5'), limitPrice: D('2.9') }), ctx); // rests; fills on bar 3
      await sync(); // the first sync looks up every order
      bar(1, 2.95);
      await sync(); // nothing reached: nothing to look up
      await sync();
      bar(2, 2.95);
      await pipeline.submit(intent({ at: day(2), qty: D('4'), limitPrice: D('2.87') }), ctx); // its answer is applied: still nothing to look up
      await sync();
      bar(3, 2.89); // fills the 2.9 buy
      await sync();
      await sync();
      bar(4, 2.95); // expires the 2.86 buy
      await sync();
      await pipeline.cancel(pipeline.openOrders()[0]!.request.clientOrderId);
      await pipeline.submit(intent({ at: day(4), qty: D('6'), limitPrice: D('2.87') }), ctx);
      await sync(); // the cancel counted
      await sync();
      venue.plan = ['throw-after-accept'];
      await pipeline.submit(intent({ at: day(4), qty: D('7'), limitPrice: D('2.87') }), ctx); // outcome unknown, then found by the lookup
      venue.plan = ['rate-limit'];
      await pipeline.submit(intent({ at: day(4), qty: D('8'), limitPrice: D('2.87') }), ctx); // left new: the next sync sends it
      await sync();
      await sync();
      return { looked, fills, calls: venue.calls.filter((call) => !call.startsWith('lookup')), counters: pipeline.counters(), orders: toPlainJson(store.allOrders()), journal: toPlainJson(pipeline.journal()) };
    };
    const counting = await script(true);
    const plain = await script(false);
    expect({ ...counting, looked: undefined }).toEqual({ ...plain, looked: undefined });
    expect(plain.looked).toEqual([2, 2, 2, 3, 3, 2, 2, 1, 1, 3, 3]);
    expect(counting.looked).toEqual([2, 0, 0, 0, 3, 0, 2, 1, 0, 3, 0]);
    expect(counting.counters).toMatchObject({ orders: 6, fills: 1, unknownOutcomes: 2, rejections: 0 });
    expect((counting.orders as { status: string }[]).map((order) => order.status)).toEqual(['expired', 'filled', 'cancelled', 'open', 'open', 'open']);
  });

  it('records skips and denials as values in the journal and the counters', async () => {
    const { pipeline, venue } = setup();
    const skipped = await pipeline.submit(intent({ qty: D('0.05') }), ctx);
    expect(skipped).toMatchObject({ outcome: 'skipped', sizing: { kind: 'skipped', reason: 'rounds to zero' }, risk: [] });
    const denied = await pipeline.submit(intent({ qty: D('100') }), { ...ctx, priceCap: D('2.5') });
    expect(denied.outcome).toBe('denied');
    expect(denied.risk.find((v) => !v.allowed)).toMatchObject({ check: 'price-cap', reason: 'price 3 against cap 2.5' });
    expect(denied.clientOrderId).toBeUndefined();
    expect(venue.calls).toEqual([]);
    expect(pipeline.journal().map((d) => d.outcome)).toEqual(['skipped', 'denied']);
    expect(pipeline.counters()).toMatchObject({ intents: 2, orders: 0, skips: 1, denials: 1 });
    const json = toPlainJson(denied) as { sizing: { qty: string } };
    expect(json.sizing.qty).toBe('100');
  });

  it('keeps the latest journalLimit decisions, oldest first, however many come', async () => {
    const { venue, store, sink } = setup();
    const pipeline = new Pipeline({ runId: 'run-1', venue, limits: limits(), store, sink, journalLimit: 3 });
    const qtys = ['0.01', '0.02', '0.03', '0.04', '0.05', '0.06', '0.07'];
    for (const [k, qty] of qtys.entries()) {
      await pipeline.submit(intent({ qty: D(qty) }), ctx);
      const kept = qtys.slice(Math.max(0, k - 2), k + 1);
      expect(pipeline.journal().map((d) => d.intent.qty!.toString())).toEqual(kept);
    }
    expect(pipeline.journal().map((d) => d.seq)).toEqual([5, 6, 7]);
    const none = new Pipeline({ runId: 'run-2', venue, limits: limits(), store, sink, journalLimit: 0 });
    await none.submit(intent({ qty: D('0.01') }), ctx);
    expect(none.journal()).toEqual([]);
  });

  it('enforces the daily notional across orders of the same UTC day', async () => {
    const { pipeline } = setup();
    const big = (n: number, at = day(0)) => pipeline.submit(intent({ qty: D('3000'), at: at + n }), ctx);
    expect((await big(1)).outcome).toBe('sent');
    expect((await big(2)).outcome).toBe('sent');
    const third = await big(3);
    expect(third.outcome).toBe('denied');
    expect(third.risk.find((v) => v.check === 'daily-notional')!.reason).toMatch(/18000 \+ 9000 = 27000 against limit 25000/);
    expect((await big(0, day(1))).outcome).toBe('sent');
  });

  it('sizes a target net of open orders, and keeps hedges within exposure', async () => {
    const { pipeline } = setup();
    expect((await pipeline.submit(intent({ qty: undefined, targetQty: D('50'), reason: 'hedge' }), { ...ctx, exposure: D('80') })).outcome).toBe('sent');
    const again = await pipeline.submit(intent({ at: day(0) + 1, qty: undefined, targetQty: D('50'), reason: 'hedge' }), { ...ctx, exposure: D('80') });
    expect(again.sizing).toMatchObject({ kind: 'skipped', reason: 'nothing to do' });
    const over = await pipeline.submit(intent({ at: day(0) + 2, qty: undefined, targetQty: D('90'), reason: 'hedge' }), { ...ctx, exposure: D('80') });
    expect(over.outcome).toBe('denied');
    expect(over.risk.find((v) => v.check === 'hedge-ratio')).toMatchObject({ allowed: false });
  });

  it("nets a target of the intent's own instrument's open orders only, also after a restart and once one has filled", async () => {
    const sim = new SimVenue({
      instruments: {
        gas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' },
        oil: { symbol: 'CL/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' },
      },
      feeBps: '10',
    });
    for (const instrument of ['gas', 'oil']) sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3 }, instrument);
    const store = new MemoryOrderStore();
    const open = () => new Pipeline({ runId: 'run-1', venue: sim, limits: limits(), store });
    const target = (p: Pipeline, instrument: string, qty: string, at: number) => p.submit(intent({ at, instrument, qty: undefined, targetQty: D(qty) }), ctx);
    const first = open();
    // Resting orders (they fill on the next bar): gas 50, oil 30, interleaved so a walk of every open order would mix them.
    expect((await target(first, 'gas', '50', day(0) + 1)).sizing).toMatchObject({ kind: 'sized', qty: D('50') });
    expect((await target(first, 'oil', '30', day(0) + 2)).sizing).toMatchObject({ kind: 'sized', qty: D('30') });
    expect((await target(first, 'gas', '70', day(0) + 3)).sizing).toMatchObject({ kind: 'sized', qty: D('20') });
    expect((await target(first, 'oil', '30', day(0) + 4)).sizing).toMatchObject({ kind: 'skipped', reason: 'nothing to do' });
    // A restart restores the open orders from the store: gas has 70 pending, oil 30.
    const second = open();
    expect((await target(second, 'gas', '100', day(0) + 5)).sizing).toMatchObject({ kind: 'sized', qty: D('30') });
    expect((await target(second, 'oil', '45', day(0) + 6)).sizing).toMatchObject({ kind: 'sized', qty: D('15') });
    // gas's bar fills its three orders: nothing of gas is pending any more, its position is 100; oil's still rest.
    sim.onBar({ at: day(1), open: 3, high: 3.1, low: 2.9, close: 3 }, 'gas');
    await second.sync();
    expect(second.openOrders().map((o) => o.request.instrument)).toEqual(['oil', 'oil']);
    expect((await target(second, 'gas', '100', day(1) + 1)).sizing).toMatchObject({ kind: 'skipped', reason: 'nothing to do' });
    expect((await target(second, 'gas', '110', day(1) + 2)).sizing).toMatchObject({ kind: 'sized', qty: D('10') });
    expect((await target(second, 'oil', '45', day(1) + 3)).sizing).toMatchObject({ kind: 'skipped', reason: 'nothing to do' });
  });

  it('nets a target of what is left of a partly filled order, and of orders sent since the last sizing', async () => {
    const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '1', tickSize: '0.01', minQty: '1', minNotional: '1' } }, participationRate: '0.1' });
    sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3, volume: 1000 });
    const pipeline = new Pipeline({ runId: 'run-1', venue: sim, limits: limits(), store: new MemoryOrderStore() });
    const target = async (qty: string, at: number) => (await pipeline.submit(intent({ at, qty: undefined, targetQty: D(qty) }), ctx)).sizing;
    expect(await target('50', day(0) + 1)).toMatchObject({ kind: 'sized', qty: D('50') });
    expect(await target('70', day(0) + 2)).toMatchObject({ kind: 'sized', qty: D('20') }); // 50 pending
    expect(await target('70', day(0) + 3)).toMatchObject({ kind: 'skipped', reason: 'nothing to do' }); // 70 pending: the order sent since counts
    // The next bar's volume fills 10 of each order (a tenth of 100), neither in full: position 20, pending 40 + 10.
    sim.onBar({ at: day(1), open: 3, high: 3.1, low: 2.9, close: 3, volume: 100 });
    await pipeline.sync();
    expect(pipeline.positions.qty('gas').toString()).toBe('20');
    expect(pipeline.openOrders().map((o) => [o.request.qty.toString(), o.filledQty.toString()])).toEqual([['50', '10'], ['20', '10']]);
    expect(await target('70', day(1) + 1)).toMatchObject({ kind: 'skipped', reason: 'nothing to do' });
    expect(await target('75', day(1) + 2)).toMatchObject({ kind: 'sized', qty: D('5') });
    expect(await target('77', day(1) + 3)).toMatchObject({ kind: 'sized', qty: D('2') });
  });

  it('tells the venue to forget an order once it is saved as final, and replays it from the store', async () => {
    const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '1', tickSize: '0.01', minQty: '1', minNotional: '1' } } });
    sim.onBar({ at: day(0), open: 3, high: 3.1, low: 2.9, close: 3 });
    const store = new MemoryOrderStore();
    const pipeline = new Pipeline({ runId: 'run-1', venue: sim, limits: limits(), store });
    const market = await pipeline.submit(intent({ at: day(0) + 1 }), ctx);
    const resting = await pipeline.submit(intent({ at: day(0) + 2, limitPrice: D('2.8') }), ctx);
    sim.onBar({ at: day(1), open: 3, high: 3.1, low: 2.9, close: 3 });
    await pipeline.sync();
    // The filled order is the store's alone; the one still working stays at the venue.
    expect(store.getOrder(market.clientOrderId!)!.status).toBe('filled');
    expect(await sim.lookup(market.clientOrderId!, 'gas')).toBeUndefined();
    expect((await sim.lookup(resting.clientOrderId!, 'gas'))!.status).toBe('open');
    const replay = await pipeline.submit(intent({ at: day(0) + 1 }), ctx);
    expect(replay).toMatchObject({ outcome: 'replayed', clientOrderId: market.clientOrderId, status: 'filled' });
    expect(sim.workingCount).toBe(1);
  });

  it('kill switch: halts at once, cancels open orders, and stays halted after a restart', async () => {
    const { pipeline, store, venue } = setup();
    const resting = await pipeline.submit(intent({ qty: D('10'), limitPrice: D('2.8') }), ctx);
    expect(resting.request).toMatchObject({ type: 'limit' });
    const ended = await pipeline.killSwitch('operator pressed stop', day(0) + 5);
    expect(ended.map((o) => o.status)).toEqual(['cancelled']);
    expect(pipeline.tradingState).toBe('halted');
    const denied = await pipeline.submit(intent({ at: day(0) + 6 }), ctx);
    expect(denied.risk[0]).toMatchObject({ check: 'trading-state', allowed: false, reason: 'trading is halted' });
    const restarted = new Pipeline({ runId: 'run-1', venue, limits: limits(), store });
    expect(restarted.tradingState).toBe('halted');
    restarted.setTradingState('reducing-only', 'resumed carefully', day(1));
    expect(store.loadControl()).toEqual({ state: 'reducing-only', reason: 'resumed carefully', at: day(1) });
    expect((await restarted.submit(intent({ at: day(1) }), ctx)).outcome).toBe('denied');
    expect((await restarted.submit(intent({ at: day(1), reason: 'emergency' }), ctx)).outcome).toBe('sent');
  });

  it('records the order as new before calling the venue', async () => {
    const { pipeline, venue, store } = setup();
    const seen: (string | number | undefined)[] = [];
    venue.onSubmit = (order) => {
      const stored = store.getOrder(order.clientOrderId);
      seen.push(stored?.status, stored?.submitAttempts);
    };
    await pipeline.submit(intent(), ctx);
    expect(seen).toEqual(['new', 1]);
  });

  it('after a network error looks the order up and does not send it again when the venue has it', async () => {
    const { pipeline, venue, sim } = setup();
    venue.plan = ['throw-after-accept'];
    const decision = await pipeline.submit(intent(), ctx);
    const id = decision.clientOrderId!;
    expect(venue.calls).toEqual([`submit ${id}`, `lookup ${id}`]);
    expect(decision).toMatchObject({ outcome: 'sent', status: 'open' });
    expect(decision.firstReport?.status).toBe('open');
    expect(decision.error).toMatch(/timed out/);
    expect(sim.workingCount).toBe(1);
  });

  it('re-sends with the same client order id only after the lookup finds nothing', async () => {
    const { pipeline, venue, sim } = setup();
    venue.plan = ['throw-before-accept'];
    const decision = await pipeline.submit(intent(), ctx);
    const id = decision.clientOrderId!;
    expect(venue.calls).toEqual([`submit ${id}`, `lookup ${id}`, `submit ${id}`]);
    expect(decision.outcome).toBe('sent');
    expect(sim.workingCount).toBe(1);
    expect(pipeline.counters().unknownOutcomes).toBe(1);
  });

  it('gives up after maxSubmitAttempts, one more lookup in sync, then rejects', async () => {
    const { pipeline, venue } = setup({ maxSubmitAttempts: 2 });
    venue.plan = ['throw-before-accept', 'throw-before-accept'];
    const decision = await pipeline.submit(intent(), ctx);
    expect(decision).toMatchObject({ outcome: 'unknown', status: 'new' });
    const id = decision.clientOrderId!;
    expect(venue.calls).toEqual([`submit ${id}`, `lookup ${id}`, `submit ${id}`, `lookup ${id}`]);
    const synced = await pipeline.sync();
    expect(synced.errors[0]).toMatch(/not at the venue after 2 attempts/);
    expect(venue.calls.slice(4)).toEqual([`lookup ${id}`]);
    expect(pipeline.openOrderCount).toBe(0);
    expect(pipeline.counters().rejections).toBe(1);
  });

  it('leaves an order new when the lookup fails too, and resolves it on the next sync', async () => {
    const { pipeline, venue, sim } = setup();
    venue.plan = ['throw-after-accept'];
    venue.failLookups = 1;
    const decision = await pipeline.submit(intent(), ctx);
    expect(decision).toMatchObject({ outcome: 'unknown', status: 'new' });
    expect(decision.error).toMatch(/lookup failed/);
    sim.onBar({ at: day(1), open: 3, high: 3, low: 3, close: 3 });
    const synced = await pipeline.sync();
    expect(synced.fills).toBe(1);
    expect(venue.calls.filter((c) => c.startsWith('submit'))).toHaveLength(1);
  });

  it('never re-sends a rejected order; an authentication failure also halts', async () => {
    const { pipeline, venue } = setup();
    venue.plan = ['rejected'];
    const rejected = await pipeline.submit(intent(), ctx);
    expect(rejected).toMatchObject({ outcome: 'rejected', status: 'rejected' });
    expect(rejected.error).toMatch(/insufficient balance/);
    expect(venue.calls).toHaveLength(1);
    venue.plan = ['authentication'];
    const auth = await pipeline.submit(intent({ at: day(0) + 1 }), ctx);
    expect(auth.outcome).toBe('rejected');
    expect(pipeline.tradingState).toBe('halted');
    expect(pipeline.controlLog()[0]!.reason).toMatch(/invalid API key/);
  });

  it('after a rate limit leaves the order for sync, which looks it up before re-sending', async () => {
    const { pipeline, venue, sim } = setup();
    venue.plan = ['rate-limit'];
    const decision = await pipeline.submit(intent(), ctx);
    const id = decision.clientOrderId!;
    expect(decision.outcome).toBe('unknown');
    expect(venue.calls).toEqual([`submit ${id}`]);
    await pipeline.sync();
    expect(venue.calls).toEqual([`submit ${id}`, `lookup ${id}`, `submit ${id}`]);
    expect(sim.workingCount).toBe(1);
  });

  it('after a restart, the same intent maps to the same order and is not sent twice', async () => {
    const { pipeline, venue, store, sim } = setup();
    venue.plan = ['throw-after-accept'];
    venue.failLookups = 1;
    const first = await pipeline.submit(intent(), ctx);
    expect(first.outcome).toBe('unknown');
    // The process dies here; a new one starts on the same store and replays the same decision.
    const restarted = new Pipeline({ runId: 'run-1', venue, limits: limits(), store });
    expect(restarted.openOrderCount).toBe(1);
    const replay = await restarted.submit(intent(), ctx);
    expect(replay).toMatchObject({ outcome: 'replayed', clientOrderId: first.clientOrderId, status: 'open' });
    expect(venue.calls.filter((c) => c.startsWith('submit'))).toHaveLength(1);
    expect(sim.workingCount).toBe(1);
    // A different run id is a different order.
    const other = new Pipeline({ runId: 'run-2', venue, limits: limits(), store });
    expect((await other.submit(intent(), ctx)).clientOrderId).not.toBe(first.clientOrderId);
  });

  it('gives a second intent with the same time, instrument and side its own id', async () => {
    const { pipeline } = setup();
    const a = await pipeline.submit(intent(), ctx);
    const b = await pipeline.submit(intent(), ctx);
    expect(a.clientOrderId).not.toBe(b.clientOrderId);
    expect([a.outcome, b.outcome]).toEqual(['sent', 'sent']);
  });

  it('refuses a contradictory venue report loudly instead of guessing', async () => {
    const { pipeline, venue } = setup();
    const decision = await pipeline.submit(intent({ limitPrice: D('2.8') }), ctx);
    expect(decision.outcome).toBe('sent');
    const id = decision.clientOrderId!;
    venue.lookup = async () => ({ clientOrderId: id, venueOrderId: 'sim-1', status: 'rejected', filledQty: new Decimal(0), fills: [] });
    await expect(pipeline.sync()).rejects.toThrow(`order ${id}: illegal transition from open to rejected`);
    expect(pipeline.store.getOrder(id)!.status).toBe('open');
  });
});

describe('MemoryOrderStore', () => {
  it("sums each UTC day's order notionals, whatever order the days come in", () => {
    const store = new MemoryOrderStore();
    const inserted: { at: number; notional: Decimal }[] = [];
    // Day after day, back to an earlier day, a zero notional, a long one, a time late in a day and one before the epoch.
    const plan: [number, string][] = [
      [day(0), '300'], [day(0) + 5, '0.25'], [day(1), '1000'], [day(3) + 1, '0'], [day(1) + 7, '12.5'], [day(0) + 9, '7'],
      [day(3), '1.0000000000000000000000000000000000000001'], [day(2) + DAY_MS - 1, '40'], [day(-20000), '9'], [day(3) + 2, '5'],
    ];
    for (const [at, notional] of plan) {
      const request: OrderRequest = { clientOrderId: `id-${inserted.length}`, instrument: 'gas', symbol: 'NG/USD', side: 'buy', type: 'market', qty: D('1'), limitPrice: undefined, at, reason: 'procure' };
      store.insertOrder(newOrderRecord(request, intent({ at }), D(notional), inserted.length + 1));
      inserted.push({ at, notional: D(notional) });
      for (const n of [-20001, -20000, -1, 0, 1, 2, 3, 4]) {
        const start = day(n);
        const expected = inserted.filter((o) => startOfDay(o.at) === start).reduce((sum, o) => sum.plus(o.notional), new Decimal(0));
        expect(store.notionalOnDay(start).toFixed()).toBe(expected.toFixed());
        // A time inside a day is no day's start: nothing was sent "on" it.
        expect(store.notionalOnDay(start + 1).toFixed()).toBe('0');
      }
    }
    expect(store.notionalOnDay(Number.NaN).toFixed()).toBe('0');
  });

  it('refuses an id already stored, also when a lookup just missed it (an insert since counts)', () => {
    const store = new MemoryOrderStore();
    const record = (id: string) => newOrderRecord({ clientOrderId: id, instrument: 'gas', symbol: 'NG/USD', side: 'buy', type: 'market', qty: D('1'), limitPrice: undefined, at: day(0), reason: 'procure' }, intent(), D('3'), 1);
    expect(store.getOrder('a')).toBeUndefined();
    store.insertOrder(record('a'));
    // The miss of 'a' was before its insert: a second insert of 'a' is refused.
    expect(() => store.insertOrder(record('a'))).toThrow(/already stored/);
    expect(store.getOrder('b')).toBeUndefined();
    expect(store.getOrder('a')).toBeDefined();
    expect(() => store.insertOrder(record('a'))).toThrow(/already stored/);
    // A miss, then another id inserted, then the missed one: stored once, then refused.
    expect(store.getOrder('c')).toBeUndefined();
    store.insertOrder(record('d'));
    store.insertOrder(record('c'));
    expect(() => store.insertOrder(record('c'))).toThrow(/already stored/);
    expect(() => store.insertOrder(record('d'))).toThrow(/already stored/);
    expect(store.allOrders().map((o) => o.request.clientOrderId)).toEqual(['a', 'd', 'c']);
  });
});

describe('MemoryOrderStore forgetting finished orders', () => {
  const request = (id: string, at: number): OrderRequest => ({ clientOrderId: id, instrument: 'gas', symbol: 'NG/USD', side: 'buy', type: 'market', qty: D('1'), limitPrice: undefined, at, reason: 'procure' });

  it('keeps only the active orders and still knows the latest day\'s total', () => {
    const store = new MemoryOrderStore({ forgetFinished: true });
    const a = newOrderRecord(request('a', day(0)), intent({ at: day(0) }), D('300'), 1);
    const b = newOrderRecord(request('b', day(0) + 5), intent({ at: day(0) + 5 }), D('0.25'), 2);
    store.insertOrder(a);
    store.insertOrder(b);
    store.updateOrder({ ...a, status: 'open' }, []);
    store.updateOrder({ ...a, status: 'filled', filledQty: D('1') }, []);
    expect(store.getOrder('a')).toBeUndefined();
    expect(store.getOrder('b')).toBe(b);
    expect(store.activeOrders().map((o) => o.request.clientOrderId)).toEqual(['b']);
    expect(store.allOrders().map((o) => o.request.clientOrderId)).toEqual(['b']);
    // The finished order still counts in its day's total, and an update of it is refused like any unknown id.
    expect(store.notionalOnDay(day(0)).toFixed()).toBe('300.25');
    expect(() => store.updateOrder({ ...a, status: 'filled' }, [])).toThrow(/is not stored/);
    // A later day: its own total, and nothing is sent on a day after every order's.
    store.insertOrder(newOrderRecord(request('c', day(1)), intent({ at: day(1) }), D('7'), 3));
    expect(store.notionalOnDay(day(1)).toFixed()).toBe('7');
    expect(store.notionalOnDay(day(2)).toFixed()).toBe('0');
    // An earlier day's total is not known once its orders may be gone.
    expect(() => store.notionalOnDay(day(0))).toThrow(/only the latest day's total/);
    expect(() => store.insertOrder(newOrderRecord(request('d', day(0)), intent({ at: day(0) }), D('1'), 4))).toThrow(/only the latest day's total/);
  });

  it('gives a pipeline whose intent times move forward the same decisions, fills and positions as a store that keeps every order', async () => {
    const script = async (forgetFinished: boolean) => {
      const sim = new SimVenue({ instruments: { gas: { symbol: 'NG/USD', lotStep: '0.1', tickSize: '0.01', minQty: '1', minNotional: '10' } }, feeBps: '10', expireAfterBars: 2 });
      const fills: unknown[] = [];
      const store = new MemoryOrderStore({ forgetFinished });
      const pipeline = new Pipeline({ runId: 'run-1', venue: sim, limits: limits({ maxOrderNotional: '100', maxDailyNotional: '150' }), store, sink: { onFill: (order, fill) => void fills.push(toPlainJson({ order, fill })) } });
      const out: unknown[] = [];
      for (let n = 0; n < 12; n += 1) {
        sim.onBar({ at: day(n), open: 3 + n / 10, high: 3.2 + n / 10, low: 2.8 + n / 10, close: 3 + n / 10 });
        out.push(await pipeline.sync());
        // A market buy, a limit buy that may rest and expire, and on some days more than the day's limit allows.
        out.push(toPlainJson(await pipeline.submitAll(intent({ at: day(n) + 1, qty: D(n % 3 === 0 ? '40' : '10') }), { referencePrice: D('3') })));
        out.push(toPlainJson(await pipeline.submitAll(intent({ at: day(n) + 1, qty: D('5'), limitPrice: D((2.9 + n / 10).toFixed(2)) }), { referencePrice: D('3') })));
      }
      return { stored: store.allOrders().length, run: { out, fills, journal: toPlainJson(pipeline.journal()), counters: pipeline.counters(), positions: toPlainJson(pipeline.positions.all()), open: pipeline.openOrderCount } };
    };
    const { stored: all, run: kept } = await script(false);
    const { stored: active, run: forgot } = await script(true);
    expect(forgot).toEqual(kept);
    expect(all).toBe(kept.counters.orders);
    expect(active).toBe(kept.open);
    // The script did fill, expire and deny.
    expect(kept.counters.fills).toBeGreaterThan(5);
    expect(kept.counters.denials).toBeGreaterThan(0);
  });
});

describe('venue error kinds', () => {
  it("map every adapter's kinds onto the pipeline's four rules, unknown errors meaning unknown outcome", () => {
    const shaped = (kind: string) => Object.assign(new Error(kind), { kind });
    expect(venueErrorKindOf(new VenueError('rejected', 'x'))).toBe('rejected');
    expect(['timeout', 'nonce', 'duplicate', 'not-found', 'unknown-outcome', 'network'].map((k) => venueErrorKindOf(shaped(k)))).toEqual(Array(6).fill('network'));
    expect(venueErrorKindOf(shaped('auth'))).toBe('authentication');
    expect(venueErrorKindOf(shaped('exchange'))).toBe('rejected');
    expect(venueErrorKindOf(shaped('rate-limit'))).toBe('rate-limit');
    expect(venueErrorKindOf(shaped('toString'))).toBe('network');
    expect(venueErrorKindOf(new Error('ECONNRESET'))).toBe('network');
    expect(venueErrorKindOf('boom')).toBe('network');
  });
});
