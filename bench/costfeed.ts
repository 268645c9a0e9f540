/**
 * Cost-feed snapshots per second over a 30-year daily run (the backtester's access pattern:
 * one snapshot per simulated day, T increasing), beside a same-run reference: a plain-number
 * loop doing the same arithmetic (cursor over the same entries, window sums, price lookup,
 * plan prefix sums, buffer stock, reorder point, exposure) without Decimal or objects.
 */
import { Decimal, ZERO } from '../src/core/decimal.js';
import { DAY_MS } from '../src/core/time.js';
import { CostFeed, planFromRate } from '../src/costfeed/index.js';
import { Ledger, parsePlant, type LedgerEvent } from '../src/ledger/index.js';
import { seriesFromArrays } from '../src/market/series.js';
import { Random } from '../src/core/random.js';
import { measure, rateRow, type Bench } from './harness.js';

const PLANT = `currency: USD
backflush: purchase-completion-sale
negativeStock: allow
carrying: { annualRate: "0.18", storagePerUnitDay: { natgas: "0.002" } }
materials:
  - { id: natgas, unit: MMBtu, standardCost: "3.50", leadTimeDays: 7, serviceLevel: "0.98" }
  - { id: catalyst, unit: kg, standardCost: "12.00" }
products:
  - id: ammonia
    unit: t
    conversionCost: "95"
    bom: [ { material: natgas, qty: "33", scrap: "0.02" }, { material: catalyst, qty: "0.5" } ]
`;

export const bench: Bench = async (report) => {
  const plant = parsePlant(PLANT, 'bench-plant.yaml');
  const from = Date.UTC(1995, 0, 1);
  const days = Math.round(30 * 365.25);
  const random = new Random(42);
  const at = new Float64Array(days);
  const close = new Float64Array(days);
  let price = 3;
  for (let i = 0; i < days; i += 1) {
    at[i] = from + i * DAY_MS;
    price = Math.max(0.5, price * (1 + 0.02 * random.normal()));
    close[i] = Number(price.toFixed(3));
  }
  const series = seriesFromArrays({ id: 'natgas', at, close });
  const plan = planFromRate({ product: 'ammonia', from, days: days + 60, ratePerDay: new Decimal(100), noise: 0.2, seed: 7 }, plant);
  const ledger = Ledger.inMemory(plant);
  const events: LedgerEvent[] = [];
  for (let i = 0; i < days; i += 1) {
    const t = from + i * DAY_MS;
    if (i % 7 === 0) {
      events.push({ type: 'purchase', at: t, knownAt: t, material: 'natgas', qty: new Decimal(23562), unitPrice: new Decimal(close[i]!.toFixed(3)), paidFrom: 'accounts_payable' });
      events.push({ type: 'purchase', at: t, knownAt: t, material: 'catalyst', qty: new Decimal(350), unitPrice: new Decimal('12.40'), paidFrom: 'accounts_payable' });
      events.push({ type: 'conversion', at: t, knownAt: t + 3 * DAY_MS, amount: new Decimal(66000) });
    }
    events.push({ type: 'completion', at: t, knownAt: t, product: 'ammonia', qty: new Decimal(100) });
    if (i % 30 === 29) events.push({ type: 'close', at: t, knownAt: t + 3 * DAY_MS });
  }
  ledger.post(events);
  const entries = ledger.entries();

  const makeFeed = (): CostFeed =>
    new CostFeed({ plant, ledger, plan, prices: new Map([['natgas', { series, factor: new Decimal(1) }]]), horizonDays: 30, actualWindowDays: 90, onOrder: () => ZERO });
  // A daily bar dated D is known on D + 1: the first snapshot is on the second day.
  const FIRST = 1;
  const snapshots = days - FIRST;
  let sink = 0;
  const feedTiming = await measure(() => {
    const feed = makeFeed();
    for (let i = FIRST; i < days; i += 1) sink += feed.snapshot(from + i * DAY_MS).materials.natgas!.exposureQty.isZero() ? 0 : 1;
  }, 2);

  // Reference: the same walk in plain numbers.
  const planQty = Float64Array.from(plan.rows.map((r) => r.qty.toNumber()));
  const natPerUnit = 33 * 1.02;
  const prefix = new Float64Array(planQty.length + 1);
  const prefixSq = new Float64Array(planQty.length + 1);
  for (let i = 0; i < planQty.length; i += 1) {
    const q = planQty[i]! * natPerUnit;
    prefix[i + 1] = prefix[i]! + q;
    prefixSq[i + 1] = prefixSq[i]! + q * q;
  }
  const n = entries.length;
  const eAt = new Float64Array(n);
  const eKnown = new Float64Array(n);
  const eQty = new Float64Array(n);
  const eAmount = new Float64Array(n);
  const eMove = new Float64Array(n);
  entries.forEach((e, k) => {
    eAt[k] = e.at;
    eKnown[k] = e.knownAt;
    const a = e.actual;
    eQty[k] = a && a.kind === 'purchase' && a.material === 'natgas' ? a.qty.toNumber() : 0;
    eAmount[k] = a && a.kind === 'purchase' && a.material === 'natgas' ? a.amount.toNumber() : 0;
    eMove[k] = e.movements.filter((m) => m.kind === 'material' && m.id === 'natgas').reduce((s, m) => s + m.qty.toNumber(), 0);
  });
  const reference = await measure(() => {
    let read = 0;
    let onHand = 0;
    let carryBase = 0;
    let qtyIn = 0;
    let amountIn = 0;
    let lo = 0;
    let priceIndex = -1;
    const rate = (3.5 * 0.18) / 365 + 0.002;
    const pending: number[] = [];
    for (let i = FIRST; i < days; i += 1) {
      const t = from + i * DAY_MS;
      for (let p = pending.length - 1; p >= 0; p -= 1) {
        const k = pending[p]!;
        if (eKnown[k]! <= t) {
          onHand += eMove[k]!;
          carryBase += eMove[k]! * rate * (eAt[k]! / DAY_MS);
          pending.splice(p, 1);
        }
      }
      while (read < n && eAt[read]! <= t) {
        if (eKnown[read]! <= t) {
          onHand += eMove[read]!;
          carryBase += eMove[read]! * rate * (eAt[read]! / DAY_MS);
          qtyIn += eQty[read]!;
          amountIn += eAmount[read]!;
        } else pending.push(read);
        read += 1;
      }
      while (lo < read && eAt[lo]! <= t - 90 * DAY_MS) {
        qtyIn -= eQty[lo]!;
        amountIn -= eAmount[lo]!;
        lo += 1;
      }
      while (priceIndex + 1 < series.length && series.at[priceIndex + 1]! <= t) priceIndex += 1;
      const market = series.close[priceIndex]!;
      const actual = qtyIn > 0 ? amountIn / qtyIn : 3.5;
      const total = prefix[i + 30]! - prefix[i]!;
      const mean = total / 30;
      const sigma = Math.sqrt(Math.max(0, (prefixSq[i + 30]! - prefixSq[i]!) / 30 - mean * mean));
      const buffer = 2.0537 * sigma * Math.sqrt(7);
      const rop = mean * 7 + buffer;
      const exposure = Math.max(0, total - onHand);
      const accrued = onHand * rate * (t / DAY_MS) - carryBase;
      const replacement = natPerUnit * market + 0.5 * 12 + 95;
      sink += exposure * market + rop + actual + accrued + replacement > 0 ? 1 : 0;
    }
  }, 2);
  if (sink < 0) process.stdout.write('');

  report(
    rateRow({
      name: `cost feed, 30-year daily run (${snapshots} snapshots, ${entries.length} journal entries, 2 materials, 1 product)`,
      count: snapshots,
      unit: 'snapshots/s',
      timing: feedTiming,
      reference: { name: 'plain-number loop, same arithmetic (best of 2 like the feed)', timing: reference },
      note: `whole run ${(feedTiming.wallMs / 1000).toFixed(2)} s wall, ${(feedTiming.cpuMs / 1000).toFixed(2)} s CPU`,
    }),
  );
};
