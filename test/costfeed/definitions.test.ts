/**
 * Golden tests for the cost feed's definitions (issue 14), one per item, each against figures
 * worked by hand in docs/cost-feed.md:
 * 1. safety stock from forecast error and lead-time variability (a flat plan with noisy actual
 *    consumption gives a positive buffer; the textbook sigma_LT with a variable lead time);
 * 2. actual conversion over whole closed periods (a window edge inside a month changes nothing);
 * 3. one definition of actual conversion across a standard-cost revision;
 * 4. the conventions: z rounded to 6 decimals, reversals stop carrying from the reversed
 *    event's date, a price lag delays knownAt, carryingPerDay.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { DAY_MS, parseTime } from '../../src/core/time.js';
import { CostFeed, ProductionPlan, type CostFeedOptions } from '../../src/costfeed/index.js';
import { keptSigmaBuckets } from '../../src/costfeed/cost-feed.js';
import { Ledger, parseEvents, parsePlant, type Plant } from '../../src/ledger/index.js';
import { seriesFromArrays } from '../../src/market/series.js';

const t = (s: string): number => parseTime(s, {});
const d = (s: string | number): Decimal => new Decimal(s);
const day = (from: number, i: number): string => new Date(from + i * DAY_MS).toISOString().slice(0, 10);

/** A ledger with `events` (JSON objects) posted, for `plant`. */
function ledgerOf(plant: Plant, events: readonly object[]): Ledger {
  const ledger = Ledger.inMemory(plant);
  ledger.post(parseEvents(events.map((e) => JSON.stringify(e)).join('\n'), 'events.jsonl', plant));
  return ledger;
}

function flatPlan(plant: Plant, product: string, from: number, days: number, qty: string): ProductionPlan {
  return ProductionPlan.fromArrays({ at: Array.from({ length: days }, (_, i) => from + i * DAY_MS), product, qty: Array.from({ length: days }, () => d(qty)) }, plant);
}

function noPrices(): CostFeedOptions['prices'] {
  return new Map();
}

describe('1. safety stock from forecast error and lead-time variability', () => {
  // Jacobs & Chase's "Retailers Warehouse": d = 6.575/day, sigma_d = 4, L = 7, 98 %: SS = 21.7, ROP = 67.8.
  const plant = parsePlant(
    [
      'currency: USD',
      'backflush: purchase-completion-sale',
      'materials:',
      '  - { id: tv, unit: set, standardCost: "100", leadTimeDays: 7, serviceLevel: "0.98" }',
      'products:',
      '  - { id: sale, unit: set, conversionCost: "0", bom: [ { material: tv, qty: "1" } ] }',
    ].join('\n'),
    'jc.yaml',
  );
  const from = t('2024-01-01');
  const days = 60;
  // The plan is flat at 6.575 a day: its own spread is zero. Actual consumption alternates
  // 10.575 and 2.575, so the daily error is +4, -4, ...: population sigma exactly 4.
  const plan = flatPlan(plant, 'sale', from, days + 30, '6.575');
  const events: object[] = [{ type: 'purchase', id: 'p', at: day(from, 0), material: 'tv', qty: '1000', unitPrice: '100' }];
  for (let i = 0; i < days; i += 1) events.push({ type: 'completion', id: `c${i}`, at: day(from, i), product: 'sale', qty: i % 2 === 0 ? '10.575' : '2.575' });
  const options = (extra: Partial<CostFeedOptions> = {}): CostFeedOptions => ({
    plant,
    ledger: ledgerOf(plant, events),
    plan,
    prices: noPrices(),
    horizonDays: 30,
    forecastErrorDays: 60,
    policy: { tv: { leadTimeCv: 0 } },
    ...extra,
  });

  it('a flat plan with noisy actual consumption gives a positive buffer: the textbook 21.7 and 67.8', () => {
    const tv = new CostFeed(options()).snapshot(from + days * DAY_MS).materials.tv!;
    expect(tv.dailyConsumption.toFixed()).toBe('6.575');
    expect(tv.sigmaDailySource).toBe('history');
    expect(tv.sigmaDailyHistoryFrom).toBe(from);
    expect(tv.sigmaDailyHistoryDays).toBe(60);
    expect(tv.sigmaDailyConsumption.toFixed()).toBe('4');
    expect(tv.sigmaLeadTimeDays.toFixed()).toBe('0');
    // sigma_LT = 4 x sqrt(7) = 10.583; z(0.98) = 2.053749.
    expect(tv.sigmaLeadTimeDemand.toFixed(4)).toBe('10.5830');
    expect(tv.bufferStock.toFixed(1)).toBe('21.7');
    expect(tv.reorderPoint.toFixed(1)).toBe('67.8');
  });

  it('feeds over one plan object share sigma_d only where their consumption is the same: every day as a feed over its own plan object', () => {
    // Ledger B's consumption differs from A's from day 20 on (6.575 a day: the errors change).
    const eventsB: object[] = [{ type: 'purchase', id: 'p', at: day(from, 0), material: 'tv', qty: '1000', unitPrice: '100' }];
    for (let i = 0; i < days; i += 1) eventsB.push({ type: 'completion', id: `c${i}`, at: day(from, i), product: 'sale', qty: i >= 20 ? '6.575' : i % 2 === 0 ? '10.575' : '2.575' });
    const figures = (feed: CostFeed): string[] => {
      const out: string[] = [];
      for (let i = 31; i <= days; i += 1) {
        const m = feed.snapshot(from + i * DAY_MS).materials.tv!;
        out.push(`${m.sigmaDailySource} ${m.sigmaDailyConsumption.toFixed()} ${m.sigmaLeadTimeDemand.toFixed()} ${m.bufferStock.toFixed()} ${m.reorderPoint.toFixed()}`);
      }
      return out;
    };
    const ownPlan = (events: object[]): string[] => figures(new CostFeed({ ...options(), ledger: ledgerOf(plant, events), plan: flatPlan(plant, 'sale', from, days + 30, '6.575') }));
    const a = ownPlan(events);
    const b = ownPlan(eventsB);
    expect(a.slice(25)).not.toEqual(b.slice(25));
    // On the shared plan object: A, then B (its own figures, not A's), then A again and B again.
    expect(figures(new CostFeed(options()))).toEqual(a);
    expect(figures(new CostFeed({ ...options(), ledger: ledgerOf(plant, eventsB) }))).toEqual(b);
    expect(figures(new CostFeed(options()))).toEqual(a);
    expect(figures(new CostFeed({ ...options(), ledger: ledgerOf(plant, eventsB) }))).toEqual(b);
    // And the receipts' sigma_L, kept for the process by its three sums, with two records.
    const r1 = { count: 5, sumDays: 35, sumSquaresDays: 25 + 49 + 81 + 49 + 49 };
    const r2 = { count: 5, sumDays: 36, sumSquaresDays: 25 + 49 + 81 + 49 + 64 };
    const lead = (record: typeof r1, plan: ProductionPlan): string => new CostFeed(options({ leadTimes: () => record, plan })).snapshot(from + days * DAY_MS).materials.tv!.sigmaLeadTimeDays.toFixed();
    const fresh = [lead(r1, flatPlan(plant, 'sale', from, days + 30, '6.575')), lead(r2, flatPlan(plant, 'sale', from, days + 30, '6.575'))];
    expect(fresh[0]).not.toBe(fresh[1]);
    expect([lead(r1, plan), lead(r2, plan), lead(r1, plan)]).toEqual([fresh[0], fresh[1], fresh[0]]);
  });

  it('with weekly buckets (several backflushes a bucket), feeds over one plan object that part and meet again give their own figures', () => {
    // B consumes as A does except on days 25 to 39: its steps part from A's there, and its later
    // steps in the sequence of backflushes (the same buckets, other sums) are not A's.
    const eventsB: object[] = [{ type: 'purchase', id: 'p', at: day(from, 0), material: 'tv', qty: '1000', unitPrice: '100' }];
    for (let i = 0; i < days; i += 1) eventsB.push({ type: 'completion', id: `c${i}`, at: day(from, i), product: 'sale', qty: i >= 25 && i < 40 ? '6.575' : i % 2 === 0 ? '10.575' : '2.575' });
    const weekly = (extra: Partial<CostFeedOptions>): CostFeedOptions => options({ forecastErrorBucketDays: 7, minHistoryDays: 14, ...extra });
    const figures = (feed: CostFeed): string[] => {
      const out: string[] = [];
      for (let i = 1; i <= days; i += 1) {
        const m = feed.snapshot(from + i * DAY_MS).materials.tv!;
        out.push(`${m.sigmaDailySource} ${m.sigmaDailyConsumption.toFixed()} ${m.reorderPoint.toFixed()}`);
      }
      return out;
    };
    const shared = flatPlan(plant, 'sale', from, days + 30, '6.575');
    const own = (events: object[]): string[] => figures(new CostFeed(weekly({ ledger: ledgerOf(plant, events), plan: flatPlan(plant, 'sale', from, days + 30, '6.575') })));
    const a = own(events);
    const b = own(eventsB);
    expect(a.filter((f) => f.startsWith('history')).length).toBeGreaterThan(30);
    expect(a).not.toEqual(b);
    for (const [events_, expected] of [[events, a], [eventsB, b], [events, a], [eventsB, b], [eventsB, b], [events, a]] as const) {
      expect(figures(new CostFeed(weekly({ ledger: ledgerOf(plant, events_), plan: shared })))).toEqual(expected);
    }
  });

  it('feeds over one plan object taken side by side, and one far behind, let go of old shared figures and give their own figures every day', () => {
    // 400 days of consumption that moves (sigma_d changes most days); B differs from A on days 150 to 169.
    const long = 400;
    const eventsOf = (differ: boolean): object[] => {
      const out: object[] = [{ type: 'purchase', id: 'p', at: day(from, 0), material: 'tv', qty: '100000', unitPrice: '100' }];
      for (let i = 0; i < long; i += 1) out.push({ type: 'completion', id: `c${i}`, at: day(from, i), product: 'sale', qty: differ && i >= 150 && i < 170 ? '6.575' : `${2 + ((i * 7) % 11)}.575` });
      return out;
    };
    const longOptions = (events_: object[], plan_: ProductionPlan, extra: Partial<CostFeedOptions> = {}): CostFeedOptions => ({ ...options(extra), ledger: ledgerOf(plant, events_), plan: plan_ });
    const line = (feed: CostFeed, i: number): string => {
      const m = feed.snapshot(from + i * DAY_MS).materials.tv!;
      return `${m.sigmaDailySource} ${m.sigmaDailyConsumption.toFixed()} ${m.sigmaLeadTimeDemand.toFixed()} ${m.bufferStock.toFixed()} ${m.reorderPoint.toFixed()}`;
    };
    const r1 = { count: 5, sumDays: 35, sumSquaresDays: 25 + 49 + 81 + 49 + 49 };
    const variants = [
      { events: eventsOf(false), extra: {} },
      { events: eventsOf(false), extra: { leadTimes: () => r1 } },
      { events: eventsOf(true), extra: {} },
      { events: eventsOf(false), extra: {} },
    ];
    const ownPlan = (): ProductionPlan => flatPlan(plant, 'sale', from, long + 30, '6.575');
    const alone = variants.map((v) => {
      const feed = new CostFeed(longOptions(v.events, ownPlan(), v.extra));
      return Array.from({ length: long }, (_, i) => line(feed, i + 1));
    });
    expect(alone[0]!.filter((f) => f.startsWith('history')).length).toBeGreaterThan(300);
    expect(new Set(alone.slice(0, 3).map((f) => f.join('|'))).size).toBe(3);
    // Side by side over one plan object: the first three within days of each other, the fourth
    // starting once the first is 150 days in (behind the figures they keep).
    const shared = ownPlan();
    const feeds = variants.map((v) => new CostFeed(longOptions(v.events, shared, v.extra)));
    const got: string[][] = variants.map(() => []);
    const lag = [0, 3, 20, 150];
    for (let step = 0; got.some((g) => g.length < long); step += 1) {
      for (let k = 0; k < feeds.length; k += 1) {
        const i = step - lag[k]!;
        if (i >= 0 && i < long) got[k]!.push(line(feeds[k]!, i + 1));
      }
    }
    for (let k = 0; k < variants.length; k += 1) expect(got[k]).toEqual(alone[k]);
    // And a feed alone afterwards, over the same plan object.
    const after = new CostFeed(longOptions(variants[2]!.events, shared));
    expect(Array.from({ length: long }, (_, i) => line(after, i + 1))).toEqual(alone[2]);
  });

  it('a feed that starts where a finished one stopped (a sweep\'s out-of-sample run after its in-sample run) keeps the shared figures for the runs after it', () => {
    // Days 0-399 of moving consumption; the first feed runs days 1-200, the second 201-400 from a
    // ledger that starts on day 200 (its own history), as the sweep's two halves of one set do.
    const long = 400;
    const half = 200;
    const eventsFrom = (start: number): object[] => {
      const out: object[] = [{ type: 'purchase', id: 'p', at: day(from, start), material: 'tv', qty: '100000', unitPrice: '100' }];
      for (let i = start; i < long; i += 1) out.push({ type: 'completion', id: `c${i}`, at: day(from, i), product: 'sale', qty: `${2 + ((i * 7) % 11)}.575` });
      return out;
    };
    const feedOver = (plan_: ProductionPlan, start: number): CostFeed => new CostFeed({ ...options(), ledger: ledgerOf(plant, eventsFrom(start)), plan: plan_ });
    const line = (feed: CostFeed, i: number): string => {
      const m = feed.snapshot(from + i * DAY_MS).materials.tv!;
      return `${m.sigmaDailySource} ${m.sigmaDailyConsumption.toFixed()} ${m.bufferStock.toFixed()}`;
    };
    const run = (feed: CostFeed, first: number, last: number): string[] => Array.from({ length: last - first + 1 }, (_, k) => line(feed, first + k));
    const ownPlan = (): ProductionPlan => flatPlan(plant, 'sale', from, long + 30, '6.575');
    const inAlone = run(feedOver(ownPlan(), 0), 1, half);
    const outAlone = run(feedOver(ownPlan(), half), half + 1, long);

    const shared = ownPlan();
    // A feed made only to read policies (the screening engine's) and finished at once.
    feedOver(shared, 0).finish();
    const first = feedOver(shared, 0);
    expect(run(first, 1, half)).toEqual(inAlone);
    first.finish();
    const kept = keptSigmaBuckets(shared, 'tv');
    expect(kept).toBeGreaterThan(half - 70);
    const second = feedOver(shared, half);
    expect(run(second, half + 1, long)).toEqual(outAlone);
    second.finish();
    // The first half's figures are all still there (the second half's added), so the next set's
    // first half finds every one of them.
    expect(keptSigmaBuckets(shared, 'tv')).toBeGreaterThan(kept + half - 70);
    const again = feedOver(shared, 0);
    expect(run(again, 1, half)).toEqual(inAlone);

    // Unfinished, the first feed stood where the second started: the second took it for a run
    // beside it and let go of everything more than 64 buckets behind.
    const unfinished = ownPlan();
    run(feedOver(unfinished, 0), 1, half);
    run(feedOver(unfinished, half), half + 1, long);
    expect(keptSigmaBuckets(unfinished, 'tv')).toBeLessThan(70);
  });

  it('sigma_LT and the buffer kept on a shared sigma_d follow each feed\'s own lead time, receipts and service level', () => {
    const r1 = { count: 5, sumDays: 35, sumSquaresDays: 25 + 49 + 81 + 49 + 49 };
    const r2 = { count: 5, sumDays: 36, sumSquaresDays: 25 + 49 + 81 + 49 + 64 };
    const variants: Partial<CostFeedOptions>[] = [
      { leadTimes: () => r1 },
      { leadTimes: () => r2 },
      {},
      { leadTimes: () => r1, policy: { tv: { leadTimeCv: 0, leadTimeDays: 9 } } },
      { policy: { tv: { leadTimeCv: 0, serviceLevel: '0.95' } } },
    ];
    const figures = (feed: CostFeed): string[] => {
      const out: string[] = [];
      for (let i = 31; i <= days; i += 1) {
        const m = feed.snapshot(from + i * DAY_MS).materials.tv!;
        out.push(`${m.sigmaDailyConsumption.toFixed()} ${m.sigmaLeadTimeDemand.toFixed()} ${m.bufferStock.toFixed()} ${m.reorderPoint.toFixed()}`);
      }
      return out;
    };
    const fresh = variants.map((extra) => figures(new CostFeed(options({ ...extra, plan: flatPlan(plant, 'sale', from, days + 30, '6.575') }))));
    expect(new Set(fresh.map((f) => f.join('|'))).size).toBe(variants.length);
    // On the shared plan object, in turn and again: each feed's own figures every day.
    for (let round = 0; round < 2; round += 1) for (let k = 0; k < variants.length; k += 1) expect(figures(new CostFeed(options(variants[k])))).toEqual(fresh[k]);
  });

  it('the plan\'s own spread no longer counts: a plan that equals the actuals day by day gives a zero buffer', () => {
    const exact = ProductionPlan.fromArrays({ at: Array.from({ length: days }, (_, i) => from + i * DAY_MS), product: 'sale', qty: Array.from({ length: days }, (_, i) => d(i % 2 === 0 ? '10.575' : '2.575')) }, plant);
    const tv = new CostFeed(options({ plan: exact })).snapshot(from + days * DAY_MS).materials.tv!;
    expect(tv.sigmaDailySource).toBe('history');
    expect(tv.sigmaDailyConsumption.toFixed()).toBe('0');
    expect(tv.bufferStock.toFixed()).toBe('0');
  });

  it('with a variable lead time from the desk\'s receipts: sigma_LT = sqrt(L sigma_d^2 + d^2 sigma_L^2)', () => {
    // Receipts after 5, 7, 9, 7, 7 days: mean 7, population variance 1.6.
    const record = { count: 5, sumDays: 35, sumSquaresDays: 25 + 49 + 81 + 49 + 49 };
    const tv = new CostFeed(options({ leadTimes: () => record })).snapshot(from + days * DAY_MS).materials.tv!;
    expect(tv.sigmaLeadTimeSource).toBe('receipts');
    expect(tv.leadTimeReceipts).toBe(5);
    expect(tv.sigmaLeadTimeDays.times(tv.sigmaLeadTimeDays).toFixed(20)).toBe(d('1.6').toFixed(20));
    // 7 x 16 + 6.575^2 x 1.6 = 112 + 69.169 = 181.169; sqrt = 13.45990...; x 2.053749 = 27.6433
    expect(tv.sigmaLeadTimeDemand.toFixed(5)).toBe(Math.sqrt(181.169).toFixed(5));
    expect(tv.bufferStock.toFixed(4)).toBe(d(Math.sqrt(181.169)).times('2.053749').toFixed(4));
    expect(tv.reorderPoint.toFixed(4)).toBe(d('46.025').plus(tv.bufferStock).toFixed(4));
    // Four receipts are too few (minReceipts 5): leadTimeCv x L, here 0.
    const few = new CostFeed(options({ leadTimes: () => ({ count: 4, sumDays: 28, sumSquaresDays: 25 + 81 + 49 + 49 }) })).snapshot(from + days * DAY_MS).materials.tv!;
    expect([few.sigmaLeadTimeSource, few.leadTimeReceipts, few.sigmaLeadTimeDays.toFixed()]).toEqual(['cv', 4, '0']);
  });

  it('falls back to the configured coefficients of variation while history is short, and says so', () => {
    const feed = new CostFeed(options({ policy: { tv: { demandCv: '0.2', leadTimeCv: '0.1' } } }));
    const early = feed.snapshot(from + 29 * DAY_MS).materials.tv!; // 29 whole days of history < 30
    expect(early.sigmaDailySource).toBe('cv');
    expect(early.sigmaDailyHistoryDays).toBe(29);
    expect(early.demandCv.toFixed()).toBe('0.2');
    expect(early.sigmaDailyConsumption.toFixed()).toBe('1.315'); // 0.2 x 6.575
    expect(early.sigmaLeadTimeSource).toBe('cv');
    expect(early.sigmaLeadTimeDays.toFixed()).toBe('0.7'); // 0.1 x 7
    // sqrt(7 x 1.315^2 + 6.575^2 x 0.7^2)
    expect(early.sigmaLeadTimeDemand.toFixed(6)).toBe(Math.sqrt(7 * 1.315 ** 2 + 6.575 ** 2 * 0.49).toFixed(6));
    const later = feed.snapshot(from + 30 * DAY_MS).materials.tv!;
    expect(later.sigmaDailySource).toBe('history');
    expect(later.sigmaDailyConsumption.toFixed()).toBe('4');
  });

  it('a ledger that backflushes weekly is compared with the plan week by week (forecastErrorBucketDays 7)', () => {
    // Completions every Sunday for the week before: 74, 66, 74, ... against a weekly plan of 7 x 10 = 70.
    const monday = t('2024-01-01'); // a Monday
    const weekly: object[] = [{ type: 'purchase', id: 'p', at: day(monday, 0), material: 'tv', qty: '10000', unitPrice: '100' }];
    for (let w = 0; w < 12; w += 1) weekly.push({ type: 'completion', id: `w${w}`, at: day(monday, 7 * w + 6), product: 'sale', qty: w % 2 === 0 ? '74' : '66' });
    const base: CostFeedOptions = { plant, ledger: ledgerOf(plant, weekly), plan: flatPlan(plant, 'sale', monday, 120, '10'), prices: noPrices(), forecastErrorDays: 84, policy: { tv: { leadTimeCv: 0 } } };
    const at = monday + 84 * DAY_MS; // the Monday after the twelfth week
    const byWeek = new CostFeed({ ...base, forecastErrorBucketDays: 7 }).snapshot(at).materials.tv!;
    expect([byWeek.sigmaDailySource, byWeek.sigmaDailyBucketDays, byWeek.sigmaDailyHistoryDays, byWeek.sigmaDailyHistoryFrom]).toEqual(['history', 7, 84, monday]);
    // Weekly errors +4, -4, ...: sigma 4 a week, 4 / sqrt(7) a day.
    expect(byWeek.sigmaDailyConsumption.toFixed(9)).toBe((4 / Math.sqrt(7)).toFixed(9));
    // Day by day the same ledger looks wildly noisy: six days of -10 and a Sunday of +64 or +56.
    const byDay = new CostFeed(base).snapshot(at).materials.tv!;
    expect(byDay.sigmaDailyConsumption.greaterThan(20)).toBe(true);
    // Mid-week the current week is left out: still the twelve whole weeks before it.
    const midWeek = new CostFeed({ ...base, forecastErrorBucketDays: 7 }).snapshot(at + 3 * DAY_MS).materials.tv!;
    expect(midWeek.sigmaDailyConsumption.toFixed(9)).toBe(byWeek.sigmaDailyConsumption.toFixed(9));
  });

  it('the history ends yesterday, counts a day without consumption as zero against its plan, and moves forward incrementally', () => {
    // T = day 61 at noon: history days 1..60 (forecastErrorDays 60), day 60 consumed nothing against 6.575 planned.
    const at = from + (days + 1) * DAY_MS + DAY_MS / 2;
    const stepping = new CostFeed(options());
    for (let x = from; x < at; x += DAY_MS / 4) stepping.snapshot(x);
    const step = stepping.snapshot(at).materials.tv!;
    const fresh = new CostFeed(options()).snapshot(at).materials.tv!;
    expect(JSON.stringify(step)).toBe(JSON.stringify(fresh));
    // Errors over days 1..60: 29 x (+4), 30 x (-4), then -6.575 on day 60.
    const errors = [...Array.from({ length: 59 }, (_, i) => ((i + 1) % 2 === 0 ? 4 : -4)), -6.575];
    const mean = errors.reduce((a, b) => a + b, 0) / 60;
    const sigma = Math.sqrt(errors.reduce((a, b) => a + (b - mean) ** 2, 0) / 60);
    expect(step.sigmaDailyHistoryFrom).toBe(from + DAY_MS);
    expect(step.sigmaDailyConsumption.toFixed(9)).toBe(sigma.toFixed(9));
  });
});

describe('2 and 3. actual conversion over whole closed periods, one definition across a revision', () => {
  const plantText = (conversion: string): string =>
    [
      'currency: USD',
      'backflush: purchase-completion-sale',
      'materials:',
      '  - { id: steel, unit: kg, standardCost: "1" }',
      'products:',
      `  - { id: widget, unit: pc, conversionCost: ${conversion}, bom: [ { material: steel, qty: "1" } ] }`,
    ].join('\n');
  const from = t('2024-01-01');

  it('a window edge inside a month does not change actual conversion, and a known close is never dropped', () => {
    const plant = parsePlant(plantText('"10"'), 'p.yaml');
    // January: 10 units on 01-05 and 10 on 01-25, 220 of conversion: 11.00 a unit. Closed 01-31, known 02-03.
    const ledger = ledgerOf(plant, [
      { type: 'purchase', id: 'p', at: '2024-01-02', material: 'steel', qty: '100', unitPrice: '1' },
      { type: 'completion', id: 'c1', at: '2024-01-05', product: 'widget', qty: '10' },
      { type: 'completion', id: 'c2', at: '2024-01-25', product: 'widget', qty: '10' },
      { type: 'conversion', id: 'v1', at: '2024-01-31', amount: '220' },
      { type: 'close', id: 'x1', at: '2024-01-31', knownAt: '2024-02-03' },
      { type: 'completion', id: 'c3', at: '2024-02-10', product: 'widget', qty: '10' },
    ]);
    // A 30-day actual window: on 02-10 it has lost 01-05, on 03-03 the whole of January.
    const feed = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'widget', from, 120, '1'), prices: noPrices(), actualWindowDays: 30 });
    expect(feed.snapshot(t('2024-02-02')).products.widget!.actualConversionSource).toBe('standard');
    for (let at = t('2024-02-03'); at <= t('2024-03-31'); at += DAY_MS) {
      const snap = feed.snapshot(at);
      expect(snap.products.widget!.actualConversion.toFixed(2)).toBe('11.00');
      expect(snap.products.widget!.actualConversionSource).toBe('closed-periods');
      expect(snap.products.widget!.conversionUnits.toFixed()).toBe('20');
      expect(snap.conversionPeriods).toEqual([{ from: null, to: t('2024-01-31') }]);
      expect(snap.conversionIncurred.toFixed(2)).toBe('220.00');
    }
  });

  it('a revision of the standard: incurred / units over the periods, 190 / 20 = 9.50, whatever the standard in force', () => {
    // Standard conversion 10 in January, 8 from 02-01. January: 10 units (allocated 100), 105
    // incurred; February: 10 units (allocated 80), 85 incurred. Two closed periods.
    const plant = parsePlant(plantText('[ { from: "2024-01-01", cost: "10" }, { from: "2024-02-01", cost: "8" } ]'), 'p.yaml');
    const ledger = ledgerOf(plant, [
      { type: 'purchase', id: 'p', at: '2024-01-02', material: 'steel', qty: '100', unitPrice: '1' },
      { type: 'completion', id: 'c1', at: '2024-01-15', product: 'widget', qty: '10' },
      { type: 'conversion', id: 'v1', at: '2024-01-31', amount: '105' },
      { type: 'close', id: 'x1', at: '2024-01-31' },
      { type: 'completion', id: 'c2', at: '2024-02-15', product: 'widget', qty: '10' },
      { type: 'conversion', id: 'v2', at: '2024-02-29', amount: '85' },
      { type: 'close', id: 'x2', at: '2024-02-29' },
    ]);
    const feed = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'widget', from, 120, '1'), prices: noPrices(), closedPeriods: 2 });
    const snap = feed.snapshot(t('2024-03-10'));
    const widget = snap.products.widget!;
    expect(widget.actualConversion.toFixed(4)).toBe('9.5000');
    expect(snap.conversionPeriods).toEqual([
      { from: null, to: t('2024-01-31') },
      { from: t('2024-01-31'), to: t('2024-02-29') },
    ]);
    // "standard in force x incurred / allocated" would say 8 x 190 / 180 = 8.4444: not this feed's figure.
    expect(widget.actualConversion.toFixed(4)).not.toBe(d(8).times(190).dividedBy(180).toFixed(4));
    // actual = BOM at actual material cost (1.00) + 9.50.
    expect(widget.actual.toFixed(2)).toBe('10.50');
    // One period (closedPeriods 1): February alone, 85 / 10.
    const last = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'widget', from, 120, '1'), prices: noPrices(), closedPeriods: 1 }).snapshot(t('2024-03-10'));
    expect(last.products.widget!.actualConversion.toFixed(2)).toBe('8.50');
    expect(last.conversionPeriods).toEqual([{ from: t('2024-01-31'), to: t('2024-02-29') }]);
  });

  it('two products share the incurred cost by their standard allocation', () => {
    const plant = parsePlant(
      [
        'currency: USD',
        'backflush: purchase-completion-sale',
        'materials:',
        '  - { id: steel, unit: kg, standardCost: "1" }',
        'products:',
        '  - { id: a, unit: pc, conversionCost: "10", bom: [ { material: steel, qty: "1" } ] }',
        '  - { id: b, unit: pc, conversionCost: "30", bom: [ { material: steel, qty: "1" } ] }',
      ].join('\n'),
      'p.yaml',
    );
    const ledger = ledgerOf(plant, [
      { type: 'purchase', id: 'p', at: '2024-01-02', material: 'steel', qty: '100', unitPrice: '1' },
      { type: 'completion', id: 'ca', at: '2024-01-15', product: 'a', qty: '10' },
      { type: 'completion', id: 'cb', at: '2024-01-15', product: 'b', qty: '5' },
      { type: 'conversion', id: 'v', at: '2024-01-31', amount: '300' },
      { type: 'close', id: 'x', at: '2024-01-31' },
    ]);
    const snap = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'a', from, 60, '1'), prices: noPrices() }).snapshot(t('2024-02-05'));
    // Allocated 100 + 150 = 250: a gets 300 x 100/250 = 120 over 10 units, b 180 over 5.
    expect(snap.products.a!.actualConversion.toFixed(2)).toBe('12.00');
    expect(snap.products.b!.actualConversion.toFixed(2)).toBe('36.00');
  });

  it('a completion reversed after the close corrects the period it belonged to', () => {
    const plant = parsePlant(plantText('"10"'), 'p.yaml');
    const ledger = ledgerOf(plant, [
      { type: 'purchase', id: 'p', at: '2024-01-02', material: 'steel', qty: '100', unitPrice: '1' },
      { type: 'completion', id: 'c1', at: '2024-01-05', product: 'widget', qty: '10' },
      { type: 'completion', id: 'c2', at: '2024-01-25', product: 'widget', qty: '10' },
      { type: 'conversion', id: 'v1', at: '2024-01-31', amount: '220' },
      { type: 'close', id: 'x1', at: '2024-01-31' },
      { type: 'reverse', id: 'r', at: '2024-02-10', of: 'c2' },
    ]);
    const feed = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'widget', from, 60, '1'), prices: noPrices() });
    expect(feed.snapshot(t('2024-02-09')).products.widget!.actualConversion.toFixed(2)).toBe('11.00');
    const after = feed.snapshot(t('2024-02-10')).products.widget!;
    expect(after.conversionUnits.toFixed()).toBe('10');
    expect(after.actualConversion.toFixed(2)).toBe('22.00');
  });
});

describe('4. conventions', () => {
  const plant = parsePlant(
    [
      'currency: USD',
      'backflush: purchase-completion-sale',
      'carrying: { annualRate: "0.365", storagePerUnitDay: { gas: "0.01" } }',
      'materials:',
      '  - { id: gas, unit: MMBtu, standardCost: "2" }',
      'products:',
      '  - { id: p, unit: t, conversionCost: "0", bom: [ { material: gas, qty: "1" } ] }',
    ].join('\n'),
    'c.yaml',
  );
  const from = t('2024-01-01');

  it('z is the inverse normal rounded to 6 decimals before use', () => {
    const feed = new CostFeed({ plant, ledger: ledgerOf(plant, []), plan: flatPlan(plant, 'p', from, 60, '100'), prices: new Map([['gas', { series: seriesFromArrays({ id: 'g', at: new Float64Array([from]), close: new Float64Array([2]) }), factor: d(1) }]]), policy: { gas: { serviceLevel: '0.98', leadTimeDays: 4, leadTimeCv: 0 } } });
    const gas = feed.snapshot(from + DAY_MS).materials.gas!;
    expect(gas.z.toFixed()).toBe('2.053749');
    // sigma_d = 0.1 x 100 = 10 (no history), sigma_LT = 10 x 2 = 20: buffer = 2.053749 x 20 = 41.07498 exactly.
    expect(gas.bufferStock.toFixed()).toBe('41.07498');
  });

  it('carryingPerDay is onHand x carryingPerUnitDay; a reversal stops carrying from the reversed event\'s date', () => {
    const ledger = ledgerOf(plant, [
      { type: 'purchase', id: 'p1', at: '2024-01-01', material: 'gas', qty: '100', unitPrice: '2' },
      { type: 'purchase', id: 'p2', at: '2024-01-11', material: 'gas', qty: '50', unitPrice: '2' },
      { type: 'reverse', id: 'r', at: '2024-01-21', of: 'p2' },
    ]);
    const feed = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'p', from, 60, '0'), prices: noPrices() });
    const gas = feed.snapshot(t('2024-01-31')).materials.gas!;
    // Rate: 2 x 0.365 / 365 + 0.01 = 0.012 a unit-day.
    expect(gas.carryingPerUnitDay.toFixed()).toBe('0.012');
    expect(gas.carryingPerDay.toFixed()).toBe('1.2'); // 100 on hand x 0.012
    // 100 units for 30 days = 36.00; the reversed 50 carry nothing (not 50 x 10 days = 6.00).
    expect(gas.carryingAccrued.toFixed(2)).toBe('36.00');
  });

  it('a price lag delays both the price used and the snapshot\'s knownAt', () => {
    const series = seriesFromArrays({ id: 'g', at: new Float64Array([t('2024-01-01'), t('2024-01-02'), t('2024-01-03')]), close: new Float64Array([2, 3, 4]) });
    const options: CostFeedOptions = { plant, ledger: ledgerOf(plant, []), plan: flatPlan(plant, 'p', from, 60, '1'), prices: new Map([['gas', { series, factor: d(1) }]]) };
    const at = t('2024-01-04');
    const prompt = new CostFeed(options).snapshot(at);
    expect([prompt.materials.gas!.marketPrice!.toFixed(), prompt.knownAt]).toEqual(['4', t('2024-01-04')]);
    // Lag 1 day: the 01-03 bar (closes 01-04) is published 01-05; at 01-04 the 01-02 bar is the latest, known since 01-04.
    const lagged = new CostFeed({ ...options, priceLagMs: DAY_MS }).snapshot(at);
    expect([lagged.materials.gas!.marketPrice!.toFixed(), lagged.materials.gas!.marketPriceAt, lagged.knownAt]).toEqual(['3', t('2024-01-02'), t('2024-01-04')]);
    const lagged2 = new CostFeed({ ...options, priceLagMs: 2 * DAY_MS }).snapshot(at + DAY_MS / 2);
    expect([lagged2.materials.gas!.marketPrice!.toFixed(), lagged2.knownAt]).toEqual(['2', t('2024-01-04')]);
  });

  it('JSON states every source: figures, where they came from, and the periods they cover', () => {
    const ledger = ledgerOf(plant, [{ type: 'purchase', id: 'p1', at: '2024-01-01', material: 'gas', qty: '100', unitPrice: '2' }]);
    const snap = new CostFeed({ plant, ledger, plan: flatPlan(plant, 'p', from, 60, '1'), prices: noPrices() });
    const json = JSON.parse(JSON.stringify(snap.snapshot(from + DAY_MS))) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(json.conversionPeriods).toEqual([]);
    expect(json.conversionIncurred).toBe('0.00');
    expect(json.products.p.actualConversionSource).toBe('standard');
    const gas = json.materials.gas;
    expect([gas.sigmaDailySource, gas.sigmaDailyHistoryDays, gas.sigmaDailyHistoryFrom, gas.demandCv, gas.sigmaLeadTimeSource, gas.leadTimeReceipts, gas.leadTimeCv]).toEqual(['cv', 0, null, '0.100000', 'cv', 0, '0.100000']);
    // sigma_d = 0.1 x 1, sigma_L = 0.1 x 5: sqrt(5 x 0.01 + 1 x 0.25) = sqrt(0.3)
    expect(gas.sigmaLeadTimeDemand).toBe(Math.sqrt(0.3).toFixed(6));
  });
});
