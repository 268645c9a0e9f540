/**
 * The browser script embedded in the report, as text. It runs after uPlot, reads the JSON
 * from `<script id="report-data">`, draws one chart into every `[data-chart]` container
 * (the container says which: `data-kind` and `data-material` index) and finally sets
 * `document.body.dataset.chartsRendered` to the number of charts drawn, which tests wait on.
 *
 * Plain ES2017 with no imports, because it is inlined as is. Must never contain the
 * sequence "</" + "script" or an external URL; html.ts checks both.
 */
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var HEIGHT = 260;
  var PRINT_WIDTH = 680;
  var COLORS = {
    close: '#24292f', fast: '#0969da', slow: '#bf8700', buy: '#1a7f37', sell: '#cf222e',
    onHand: '#0969da', buffer: '#cf222e', reorder: '#bf8700',
    strategy: '#0969da', jit: '#6e7781', schedule: '#8250df', pnl: '#1a7f37'
  };
  var charts = [];
  var ready = false;
  var zooming = false;

  function fmt(v) {
    if (v == null || !isFinite(v)) return '\u2013';
    var a = Math.abs(v);
    var digits = a >= 1000 ? 0 : a >= 10 ? 2 : a >= 1 ? 3 : 4;
    return v.toLocaleString('en-US', { maximumFractionDigits: digits });
  }

  function utc(ts) { return uPlot.tzDate(new Date(ts), 'UTC'); }

  function widthOf(el) { return Math.max(320, Math.floor(el.clientWidth || 800)); }

  // Index of the last time at or before t (0 when t is before the first).
  function indexAtOrBefore(ts, t) {
    var lo = 0, hi = ts.length - 1, found = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (ts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  // Draws a filled triangle at each non-null point: apex up for dir 1, down for dir -1.
  function triangles(dir) {
    return function (u, si, i0, i1) {
      var ys = u.data[si], xs = u.data[0], scale = u.series[si].scale;
      var shown = 0;
      for (var j = i0; j <= i1; j++) if (ys[j] != null) shown++;
      // Smaller markers when many are in view, so the price line stays visible.
      var r = (shown > 250 ? 3 : 4.5) * (window.devicePixelRatio || 1);
      var path = new Path2D();
      for (var i = i0; i <= i1; i++) {
        var v = ys[i];
        if (v == null) continue;
        var x = u.valToPos(xs[i], 'x', true), y = u.valToPos(v, scale, true);
        path.moveTo(x, y - dir * r);
        path.lineTo(x - r, y + dir * r);
        path.lineTo(x + r, y + dir * r);
        path.closePath();
      }
      return { stroke: path, fill: path, clip: null, band: null, gaps: null, flags: 0 };
    };
  }

  function line(label, color, extra) {
    var s = { label: label, stroke: color, width: 1.25, value: function (u, v) { return fmt(v); } };
    for (var k in extra) s[k] = extra[k];
    return s;
  }

  // Drag-zooming one chart zooms them all (after the first render, so that charts with
  // different ranges keep their own until the reader zooms).
  function onSetScale(u, key) {
    if (!ready || zooming || key !== 'x') return;
    zooming = true;
    var min = u.scales.x.min, max = u.scales.x.max;
    for (var i = 0; i < charts.length; i++) {
      if (charts[i].chart !== u) charts[i].chart.setScale('x', { min: min, max: max });
    }
    zooming = false;
  }

  function build(el, yLabel, series, columns) {
    var opts = {
      width: widthOf(el),
      height: HEIGHT,
      ms: 1,
      tzDate: utc,
      cursor: { sync: { key: 'procura-report' } },
      scales: { x: { time: true } },
      axes: [
        {},
        { label: yLabel, size: 64, values: function (u, splits) { return splits.map(fmt); } }
      ],
      series: [{ label: 'Date', value: function (u, ts) { return ts == null ? '\u2013' : dateText(ts); } }].concat(series),
      hooks: { setScale: [onSetScale] }
    };
    var chart = new uPlot(opts, columns, el);
    charts.push({ chart: chart, el: el });
  }

  function dateText(ts) {
    var iso = new Date(ts).toISOString();
    return ts % 86400000 === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
  }

  // Legend text for the trades under the cursor. A pixel can hold several bars when the
  // whole range is shown, so it lists the fills within half a pixel of the cursor.
  function describeTrades(trades, byIndex) {
    return function (u, v, si, idx) {
      if (idx == null) return '\u2013';
      var lo = u.valToIdx(u.scales.x.min), hi = u.valToIdx(u.scales.x.max);
      var span = Math.ceil((hi - lo) / Math.max(1, u.over.clientWidth) / 2);
      var found = [];
      for (var i = Math.max(0, idx - span); i <= idx + span; i++) {
        var list = byIndex[i];
        if (list) for (var k = 0; k < list.length; k++) found.push(list[k]);
      }
      if (found.length === 0) return '\u2013';
      var shown = found.slice(0, 3).map(function (n) {
        var tr = trades[n];
        return dateText(tr.t) + ' ' + tr.reason + ' ' + fmt(tr.qty) + ' @ ' + fmt(tr.price);
      });
      if (found.length > 3) shown.push('+' + (found.length - 3) + ' more');
      return shown.join('; ');
    };
  }

  function priceChart(el, m) {
    var p = m.price, n = p.t.length;
    var buys = new Array(n).fill(null), sells = new Array(n).fill(null);
    var buyAt = {}, sellAt = {};
    for (var i = 0; i < m.trades.length; i++) {
      var tr = m.trades[i];
      var idx = indexAtOrBefore(p.t, tr.t);
      var buy = tr.side === 'buy';
      (buy ? buys : sells)[idx] = tr.price;
      var at = buy ? buyAt : sellAt;
      (at[idx] = at[idx] || []).push(i);
    }
    build(el, data.currency + ' / ' + m.unit, [
      line('Close', COLORS.close),
      line(p.fastLabel, COLORS.fast),
      line(p.slowLabel, COLORS.slow),
      { label: 'Buys', stroke: COLORS.buy, fill: COLORS.buy, width: 1, paths: triangles(1), points: { show: false }, value: describeTrades(m.trades, buyAt) },
      { label: 'Sells', stroke: COLORS.sell, fill: COLORS.sell, width: 1, paths: triangles(-1), points: { show: false }, value: describeTrades(m.trades, sellAt) }
    ], [p.t, p.close, p.fastMa, p.slowMa, buys, sells]);
  }

  function inventoryChart(el, m) {
    var v = m.inventory;
    build(el, m.unit, [
      line('On hand', COLORS.onHand, { fill: 'rgba(9,105,218,0.08)' }),
      line('Buffer stock', COLORS.buffer, { dash: [6, 4] }),
      line('Reorder point', COLORS.reorder, { dash: [2, 3] })
    ], [v.t, v.onHand, v.buffer, v.reorderPoint]);
  }

  function unitCostChart(el, m) {
    var c = m.unitCost;
    build(el, data.currency + ' / ' + m.unit, [
      line('Strategy', COLORS.strategy, { width: 2 }),
      line('JIT baseline', COLORS.jit),
      line('Schedule baseline', COLORS.schedule)
    ], [c.t, c.strategy, c.jit, c.schedule]);
  }

  function hedgeChart(el) {
    var h = data.hedgePnl;
    build(el, data.currency, [
      line('Hedge P&L', COLORS.pnl, { width: 1.5 })
    ], [h.t, h.cumulative]);
  }

  var containers = document.querySelectorAll('[data-chart]');
  for (var c = 0; c < containers.length; c++) {
    var el = containers[c];
    var kind = el.getAttribute('data-kind');
    var m = data.materials[Number(el.getAttribute('data-material'))];
    if (kind === 'price') priceChart(el, m);
    else if (kind === 'inventory') inventoryChart(el, m);
    else if (kind === 'unit-cost') unitCostChart(el, m);
    else if (kind === 'hedge-pnl') hedgeChart(el);
    else throw new Error('unknown chart kind ' + kind);
  }
  ready = true;

  function resizeAll(width) {
    for (var i = 0; i < charts.length; i++) {
      charts[i].chart.setSize({ width: width || widthOf(charts[i].el), height: HEIGHT });
    }
  }
  var pending = false;
  window.addEventListener('resize', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; resizeAll(0); });
  });
  window.addEventListener('beforeprint', function () { resizeAll(PRINT_WIDTH); });
  window.addEventListener('afterprint', function () { resizeAll(0); });

  document.body.dataset.chartsRendered = String(charts.length);
})();
`;
