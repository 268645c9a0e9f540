/**
 * Data preparation for the report's charts: a min/max envelope when a series has more points
 * than the chart has pixels, and trade markers aggregated so they never bury the line they
 * sit on. The page recomputes both on every zoom (a zoomed-in chart shows the raw days again).
 *
 * These functions are embedded in the page script as their own source text
 * (`Function.prototype.toString`), so the page runs exactly the code the unit tests check.
 * They must therefore be self-contained: no imports, no references to anything outside their
 * bodies except each other by name (all are embedded together), no syntax that needs a
 * compiler helper.
 */

/** Index of the last time at or before `at` (0 when `at` is before the first). `t` increases. */
export function indexAtOrBefore(t: readonly number[], at: number): number {
  let lo = 0;
  let hi = t.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The index range of `t` that covers [min, max], with the point just outside each end (so lines reach the edges). */
export function visibleRange(t: readonly number[], min: number, max: number): [number, number] {
  if (t.length === 0) return [0, -1];
  const lo = indexAtOrBefore(t, min);
  let hi = indexAtOrBefore(t, max);
  if (hi < t.length - 1 && t[hi]! < max) hi += 1;
  return [lo, hi];
}

/** One column of a view: the line drawn, and for an envelope its low and high (null when the column is drawn as a plain line). */
export interface ViewColumn {
  line: (number | null)[];
  low: (number | null)[] | null;
  high: (number | null)[] | null;
}

/** The points a chart draws for one visible range. */
export interface SeriesView {
  t: number[];
  columns: ViewColumn[];
  /** True when the points were grouped into buckets (more points than `buckets`). */
  bucketed: boolean;
}

/**
 * The points to draw for raw indexes lo..hi with at most `buckets` points across.
 *
 * When the range has no more points than `buckets`, the raw values are returned (an envelope
 * column's low and high equal its line). Otherwise the range is cut into `buckets` runs of
 * consecutive points; each bucket is drawn at its middle point's time, every column's line is the
 * bucket's mean, and an envelope column (`envelope[k]` true) also gets the bucket's minimum
 * and maximum, so a sawtooth that would fill the chart as a solid block reads as a band
 * around its mean instead. Nulls are skipped (a bucket of nulls gives null).
 */
export function bucketView(t: readonly number[], columns: readonly (readonly (number | null)[])[], envelope: readonly boolean[], lo: number, hi: number, buckets: number): SeriesView {
  const n = hi - lo + 1;
  const out: SeriesView = { t: [], columns: [], bucketed: false };
  if (n <= 0) {
    for (let k = 0; k < columns.length; k += 1) out.columns.push({ line: [], low: envelope[k] ? [] : null, high: envelope[k] ? [] : null });
    return out;
  }
  const count = Math.max(1, Math.floor(buckets));
  if (n <= count) {
    out.t = t.slice(lo, hi + 1);
    for (let k = 0; k < columns.length; k += 1) {
      const line = columns[k]!.slice(lo, hi + 1);
      out.columns.push({ line, low: envelope[k] ? line : null, high: envelope[k] ? line : null });
    }
    return out;
  }
  out.bucketed = true;
  const starts: number[] = [];
  for (let b = 0; b < count; b += 1) starts.push(lo + Math.floor((b * n) / count));
  // Each bucket is drawn at its middle day, so the first and last buckets sit inside the range.
  out.t = starts.map((start, b) => t[(start + (b + 1 < count ? starts[b + 1]! : hi + 1) - 1) >> 1]!);
  for (let k = 0; k < columns.length; k += 1) {
    const values = columns[k]!;
    const line: (number | null)[] = [];
    const low: (number | null)[] = [];
    const high: (number | null)[] = [];
    for (let b = 0; b < count; b += 1) {
      const end = b + 1 < count ? starts[b + 1]! : hi + 1;
      let sum = 0;
      let seen = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let i = starts[b]!; i < end; i += 1) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        sum += v;
        seen += 1;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      line.push(seen === 0 ? null : sum / seen);
      low.push(seen === 0 ? null : min);
      high.push(seen === 0 ? null : max);
    }
    out.columns.push({ line, low: envelope[k] ? low : null, high: envelope[k] ? high : null });
  }
  return out;
}

/** A trade marker as the aggregation sees it. */
export interface MarkerInput {
  t: number;
  price: number;
  qty: number;
  kind: string;
}

/** One drawn marker: one trade, or several of one kind that fell within `minGapPx` of each other. */
export interface MarkerGroup {
  /** Index into the view's times (the marker is drawn there). */
  index: number;
  /** Quantity-weighted mean price (the marker's height). */
  price: number;
  count: number;
  qty: number;
  /** Sum of the weights of its price (quantities; 1 for a trade without one). */
  weight: number;
  /** Index of the group's first trade in the input (for hover text). */
  first: number;
}

/**
 * Markers of each kind within [min, max], aggregated: trades of one kind closer than
 * `minGapPx` pixels on a chart `widthPx` wide become one marker at their quantity-weighted
 * mean price, drawn at the view time at or before their mean time, with their count and total
 * quantity (the page sizes the marker by count and lists the group on hover). Zoomed in far
 * enough, every trade is its own marker. `markers` must be in time order.
 */
export function aggregateMarkers(viewT: readonly number[], markers: readonly MarkerInput[], kinds: readonly string[], min: number, max: number, widthPx: number, minGapPx: number): Record<string, MarkerGroup[]> {
  const out: Record<string, MarkerGroup[]> = {};
  for (const kind of kinds) out[kind] = [];
  if (viewT.length === 0 || !(max >= min)) return out;
  const binMs = widthPx > 0 ? ((max - min) * minGapPx) / widthPx : 0;
  // Prices are weighted by quantity (by 1 for a marker without one).
  const open: Record<string, { bin: number; tSum: number; pw: number; w: number; qty: number; count: number; first: number } | undefined> = {};
  const flush = (kind: string): void => {
    const g = open[kind];
    if (g === undefined) return;
    open[kind] = undefined;
    const index = indexAtOrBefore(viewT, g.tSum / g.count);
    const list = out[kind]!;
    const last = list[list.length - 1];
    if (last !== undefined && last.index === index) {
      // Two bins that land on one drawn point (a coarse view) merge.
      last.price = (last.price * last.weight + g.pw) / (last.weight + g.w);
      last.weight += g.w;
      last.count += g.count;
      last.qty += g.qty;
    } else list.push({ index, price: g.pw / g.w, count: g.count, qty: g.qty, weight: g.w, first: g.first });
  };
  for (let i = 0; i < markers.length; i += 1) {
    const m = markers[i]!;
    if (m.t < min || m.t > max || out[m.kind] === undefined) continue;
    const bin = binMs > 0 ? Math.floor((m.t - min) / binMs) : m.t;
    const g = open[m.kind];
    if (g !== undefined && g.bin !== bin) flush(m.kind);
    const w = m.qty > 0 ? m.qty : 1;
    const cur = open[m.kind];
    if (cur === undefined) open[m.kind] = { bin, tSum: m.t, pw: m.price * w, w, qty: m.qty, count: 1, first: i };
    else {
      cur.tSum += m.t;
      cur.pw += m.price * w;
      cur.w += w;
      cur.qty += m.qty;
      cur.count += 1;
    }
  }
  for (const kind of kinds) flush(kind);
  return out;
}

/** The functions above, in the order the page script embeds them. */
export const CHART_DATA_FUNCTIONS = [indexAtOrBefore, visibleRange, bucketView, aggregateMarkers] as const;
