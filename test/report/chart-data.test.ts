/**
 * The charts' data preparation: the min/max envelope (no raw value is ever outside its
 * bucket's band, and the extremes survive), and trade-marker aggregation (nothing lost, a
 * quantity-weighted price, one marker per trade when zoomed in).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateMarkers, bucketView, indexAtOrBefore, visibleRange, type MarkerInput } from '../../src/report/chart-data.js';
import { PAGE_SCRIPT } from '../../src/report/page-script.js';

const DAY = 86_400_000;
const days = (n: number): number[] => Array.from({ length: n }, (_, i) => i * DAY);

describe('bucketView', () => {
  it('returns the raw points when they fit, with the band equal to the line', () => {
    const t = days(10);
    const v = t.map((_, i) => (i % 2 === 0 ? 1 : 5));
    const view = bucketView(t, [v, v.map((x) => x * 2)], [true, false], 2, 7, 100);
    expect(view.bucketed).toBe(false);
    expect(view.t).toEqual(t.slice(2, 8));
    expect(view.columns[0]!.line).toEqual(v.slice(2, 8));
    expect(view.columns[0]!.low).toEqual(v.slice(2, 8));
    expect(view.columns[0]!.high).toEqual(v.slice(2, 8));
    expect(view.columns[1]!.low).toBeNull();
  });

  it('turns a sawtooth with more points than pixels into a band from its low to its high around its mean', () => {
    // 30 years of a 7-day stock cycle on a 300-pixel chart.
    const t = days(10_950);
    const stock = t.map((_, i) => 7 - (i % 7));
    const view = bucketView(t, [stock], [true], 0, t.length - 1, 300);
    expect(view.bucketed).toBe(true);
    expect(view.t).toHaveLength(300);
    expect(new Set(view.columns[0]!.low)).toEqual(new Set([1]));
    expect(new Set(view.columns[0]!.high)).toEqual(new Set([7]));
    for (const mean of view.columns[0]!.line) expect(mean!).toBeCloseTo(4, 0);
  });

  it('never leaves a raw value outside its bucket, keeps the extremes, and skips nulls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        (values, buckets) => {
          const t = days(values.length);
          const view = bucketView(t, [values], [true], 0, values.length - 1, buckets);
          const col = view.columns[0]!;
          expect(view.t.length).toBe(Math.min(values.length, buckets));
          // Times increase and stay inside the range.
          for (let i = 1; i < view.t.length; i += 1) expect(view.t[i]!).toBeGreaterThan(view.t[i - 1]!);
          for (let i = 0; i < values.length; i += 1) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            // The bucket that holds raw point i: the last one starting at or before it.
            let bucket = i;
            if (view.bucketed) while (bucket > 0 && Math.floor((bucket * values.length) / buckets) > i) bucket -= 1;
            if (view.bucketed) bucket = Math.min(bucket, buckets - 1);
            const lo = col.low![bucket]!;
            const hi = col.high![bucket]!;
            expect(v).toBeGreaterThanOrEqual(lo);
            expect(v).toBeLessThanOrEqual(hi);
          }
          const present = values.filter((v): v is number => v !== null);
          if (present.length > 0) {
            expect(Math.min(...col.low!.filter((v): v is number => v !== null))).toBe(Math.min(...present));
            expect(Math.max(...col.high!.filter((v): v is number => v !== null))).toBe(Math.max(...present));
          } else expect(col.line.every((v) => v === null)).toBe(true);
        },
      ),
    );
  });
});

describe('visibleRange and indexAtOrBefore', () => {
  it('covers the range with the point just outside each end', () => {
    const t = days(100);
    expect(indexAtOrBefore(t, -5)).toBe(0);
    expect(indexAtOrBefore(t, 10 * DAY + 5)).toBe(10);
    expect(visibleRange(t, 10.5 * DAY, 20.5 * DAY)).toEqual([10, 21]);
    expect(visibleRange(t, 10 * DAY, 20 * DAY)).toEqual([10, 20]);
    expect(visibleRange(t, -DAY, 1_000 * DAY)).toEqual([0, 99]);
    expect(visibleRange([], 0, 1)).toEqual([0, -1]);
  });
});

describe('aggregateMarkers', () => {
  const t = days(1_000);
  const markers: MarkerInput[] = [];
  for (let i = 0; i < 1_000; i += 3) markers.push({ t: t[i]! + 3_600_000, price: 2 + (i % 10) / 10, qty: 100 + i, kind: i % 2 === 0 ? 'forced-reorder' : 'buy-ahead' });

  it('keeps every trade and its quantity, at a quantity-weighted price, with groups at least the gap apart', () => {
    const kinds = ['forced-reorder', 'buy-ahead'];
    const groups = aggregateMarkers(t, markers, kinds, t[0]!, t[999]! + DAY, 400, 12);
    for (const kind of kinds) {
      const mine = markers.filter((m) => m.kind === kind);
      const list = groups[kind]!;
      expect(list.reduce((s, g) => s + g.count, 0)).toBe(mine.length);
      expect(list.reduce((s, g) => s + g.qty, 0)).toBe(mine.reduce((s, m) => s + m.qty, 0));
      // 1,000 days on 400 px with a 12 px gap: at most 400 / 12 + 1 groups of a kind.
      expect(list.length).toBeLessThanOrEqual(Math.ceil(400 / 12) + 1);
      for (let k = 1; k < list.length; k += 1) expect(list[k]!.index).toBeGreaterThan(list[k - 1]!.index);
      const first = list[0]!;
      const members = mine.slice(0, first.count);
      const weighted = members.reduce((s, m) => s + m.price * m.qty, 0) / members.reduce((s, m) => s + m.qty, 0);
      expect(first.price).toBeCloseTo(weighted, 10);
      expect(markers[first.first]).toBe(members[0]);
    }
  });

  it('gives every trade its own marker when zoomed in, and drops trades outside the range', () => {
    const from = t[300]!;
    const to = t[330]!;
    const groups = aggregateMarkers(t.slice(300, 331), markers, ['forced-reorder', 'buy-ahead'], from, to, 1_200, 12);
    const inRange = markers.filter((m) => m.t >= from && m.t <= to);
    const all = [...groups['forced-reorder']!, ...groups['buy-ahead']!];
    expect(all.every((g) => g.count === 1)).toBe(true);
    expect(all).toHaveLength(inRange.length);
  });

  it('ignores kinds it was not asked for', () => {
    const groups = aggregateMarkers(t, markers, ['emergency'], t[0]!, t[999]!, 400, 12);
    expect(groups).toEqual({ emergency: [] });
  });
});

describe('the page script', () => {
  it('embeds these functions as their own source, with no reference outside the script', () => {
    for (const name of ['indexAtOrBefore', 'visibleRange', 'bucketView', 'aggregateMarkers']) expect(PAGE_SCRIPT).toContain(`function ${name}(`);
    expect(PAGE_SCRIPT).not.toMatch(/__vite|__name\(|require\(|import[ (]/);
  });
});
