/**
 * The browser script embedded in the report, as text. It runs after uPlot, reads the JSON
 * from `<script id="report-data">`, draws one chart into every `[data-chart]` container
 * (`data-kind` says which; `data-material` / `data-hedge` index the data), makes the tables
 * with class `sortable` sortable, fills the trade list, and finally sets
 * `document.body.dataset.chartsRendered` to the number of charts drawn, which tests wait on.
 *
 * Charts draw a view of their data, recomputed on every zoom and resize by the functions of
 * chart-data.ts (embedded here as their own source): at most one point per pixel, a min/max
 * envelope where a series has more points than pixels, and trade markers aggregated so they
 * sit at least MARKER_GAP_PX apart. Axis tick labels are DOM elements laid over the canvas
 * (uPlot draws the ticks and grid; its own text is transparent), so their boxes can be
 * measured: a label that would overlap another is hidden, and the browser test checks that
 * no two visible labels overlap. Units are printed above each chart, never beside the ticks.
 *
 * Plain ES2017 with no imports, because it is inlined as is. Must never contain the sequence
 * "</" + "script" or an external URL; html.ts checks both.
 */
import { CHART_DATA_FUNCTIONS } from './chart-data.js';

const BODY = String.raw`
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  var PRINT_WIDTH = 680;
  var MARKER_GAP_PX = 14;
  var RUN_COLORS = ['#0969da', '#6e7781', '#8250df', '#bf8700', '#1a7f37', '#cf222e'];
  var KINDS = {
    'buy-ahead': { label: 'Buy ahead', color: '#1a7f37', shape: 'triangle' },
    'forced-reorder': { label: 'Forced reorder', color: '#bc4c00', shape: 'diamond', hollow: true },
    'emergency': { label: 'Emergency', color: '#cf222e', shape: 'cross' },
    'hedge': { label: 'Hedge', color: '#8250df', shape: 'square' },
    'unwind': { label: 'Unwind', color: '#8250df', shape: 'square', hollow: true },
    'roll-off': { label: 'Roll-off', color: '#8250df', shape: 'dot' },
    'routine': { label: 'Routine', color: '#6e7781', shape: 'dot' }
  };
  var KIND_ORDER = ['buy-ahead', 'forced-reorder', 'emergency', 'hedge', 'unwind'];
  var charts = [];
  var syncing = false;

  var measure = document.createElement('canvas').getContext('2d');
  measure.font = FONT;
  function textWidth(s) { return measure.measureText(s).width; }

  function fmt(v, places) {
    if (v == null || !isFinite(v)) return '\u2013';
    var a = Math.abs(v);
    var digits = places != null ? places : a >= 1000 ? 0 : a >= 10 ? 2 : a >= 1 ? 3 : 4;
    return v.toLocaleString('en-US', { minimumFractionDigits: places != null ? places : 0, maximumFractionDigits: digits });
  }

  // Tick labels: compact (1.5M, 250k) and with only as many decimals as the step needs.
  function tickValues(u, splits) {
    var max = 0, step = Infinity;
    for (var i = 0; i < splits.length; i++) {
      if (splits[i] == null) continue;
      max = Math.max(max, Math.abs(splits[i]));
      if (i > 0 && splits[i - 1] != null) step = Math.min(step, Math.abs(splits[i] - splits[i - 1]));
    }
    var div = 1, suffix = '';
    if (max >= 1e9) { div = 1e9; suffix = 'B'; } else if (max >= 1e6) { div = 1e6; suffix = 'M'; } else if (max >= 1e4) { div = 1e3; suffix = 'k'; }
    var scaled = isFinite(step) && step > 0 ? step / div : 1;
    var decimals = Math.max(0, Math.min(4, Math.ceil(-Math.log10(scaled) - 1e-9)));
    return splits.map(function (v) {
      if (v == null) return null;
      if (v === 0) return '0';
      var s = (v / div).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
      if (/^-0(\.0*)?$/.test(s)) s = s.slice(1);
      return s + suffix;
    });
  }

  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function dateValues(u, splits, axisIdx, space, incr) {
    return splits.map(function (ts) {
      if (ts == null) return null;
      var d = new Date(ts);
      var y = d.getUTCFullYear(), m = MONTHS[d.getUTCMonth()];
      if (incr >= 300 * 86400000) return String(y);
      if (incr >= 27 * 86400000) return m + ' ' + y;
      return d.getUTCDate() + ' ' + m + ' ' + y;
    });
  }

  function dateText(ts) {
    var iso = new Date(ts).toISOString();
    return ts % 86400000 === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
  }

  function utc(ts) { return uPlot.tzDate(new Date(ts), 'UTC'); }
  function widthOf(el) { return Math.max(280, Math.floor(el.clientWidth || 800)); }
  function heightOf(el) { return widthOf(el) < 560 ? 220 : 280; }

  function pluralKind(kind, n) {
    var label = KINDS[kind].label.toLowerCase();
    return n + ' ' + (n === 1 ? label : label.replace(/y$/, 'ie') + 's');
  }

  // Draws each marker group as its kind's shape, larger for groups of several trades.
  function markerPaths(state, kind) {
    var shape = KINDS[kind].shape;
    return function (u, si, i0, i1) {
      var ys = u.data[si], xs = u.data[0];
      var groups = state.groupsAt[kind] || {};
      var ratio = window.devicePixelRatio || 1;
      var stroke = new Path2D(), fill = new Path2D();
      for (var i = i0; i <= i1; i++) {
        var v = ys[i];
        if (v == null) continue;
        var g = groups[i];
        var n = g ? g.count : 1;
        var r = Math.min(6.5, 4 + Math.log2(n) / 2) * ratio;
        var x = u.valToPos(xs[i], 'x', true), y = u.valToPos(v, 'y', true);
        var p = new Path2D();
        if (shape === 'triangle') { p.moveTo(x, y - r); p.lineTo(x - r, y + r * 0.8); p.lineTo(x + r, y + r * 0.8); p.closePath(); }
        else if (shape === 'diamond') { p.moveTo(x, y - r); p.lineTo(x + r, y); p.lineTo(x, y + r); p.lineTo(x - r, y); p.closePath(); }
        else if (shape === 'cross') { p.moveTo(x - r, y - r); p.lineTo(x + r, y + r); p.moveTo(x + r, y - r); p.lineTo(x - r, y + r); }
        else { p.rect(x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6); }
        stroke.addPath(p);
        if (shape !== 'cross') fill.addPath(p);
      }
      return { stroke: stroke, fill: fill, clip: null, band: null, gaps: null, flags: 0 };
    };
  }

  // Legend text for the marker group nearest the cursor (within a few pixels).
  function describeMarkers(state, kind, markers) {
    return function (u, v, si, idx) {
      if (idx == null) return '\u2013';
      var groups = state.groupsAt[kind] || {};
      var reach = Math.max(1, Math.ceil(6 / Math.max(0.01, state.pxPerPoint)));
      var best = null;
      for (var d = 0; d <= reach && best == null; d++) best = groups[idx - d] || groups[idx + d] || null;
      if (best == null) return '\u2013';
      var first = markers[best.first];
      if (best.count === 1) return dateText(first.t) + ': ' + fmt(first.qty, 0) + ' @ ' + fmt(first.price);
      return pluralKind(kind, best.count) + ' from ' + dateText(first.t).slice(0, 10) + ': ' + fmt(best.qty, 0) + ' @ ' + fmt(best.price) + ' avg';
    };
  }

  // A chart over daily (or monthly) columns. spec: { el, t, lines: [{ values, label, color, envelope, dash, width, fill, valueText }],
  // markers: [..] or null, bars: index of a line drawn as bars or -1, yLabel }.
  function makeChart(el, spec) {
    var state = { spec: spec, u: null, ready: false, updating: false, groupsAt: {}, pxPerPoint: 1, ticks: {}, min: spec.t[0], max: spec.t[spec.t.length - 1] };
    var series = [{ label: 'Date', value: function (u, ts) { return ts == null ? '\u2013' : dateText(ts); } }];
    var bands = [];
    var hideInLegend = [];
    spec.lines.forEach(function (line) {
      var s = { label: line.label, stroke: line.color, width: line.width || 1.25, value: line.valueText || function (u, v) { return fmt(v); }, points: { show: false } };
      if (line.dash) s.dash = line.dash;
      if (line.show === false) s.show = false;
      if (line.fill) s.fill = line.fill;
      if (line.bars) { s.paths = uPlot.paths.bars({ size: [0.8, 40] }); s.fill = line.color; s.width = 0; }
      series.push(s);
      if (line.envelope) {
        var hi = series.length, lo = series.length + 1;
        series.push({ label: line.label + ' max', stroke: 'transparent', width: 0, points: { show: false } });
        series.push({ label: line.label + ' min', stroke: 'transparent', width: 0, points: { show: false } });
        hideInLegend.push(hi, lo);
        bands.push({ series: [hi, lo], fill: line.bandFill || 'rgba(9,105,218,0.16)' });
      }
    });
    var markerKinds = [];
    if (spec.markers) {
      KIND_ORDER.forEach(function (kind) {
        if (!spec.markers.some(function (m) { return m.kind === kind; })) return;
        markerKinds.push(kind);
        var k = KINDS[kind];
        series.push({
          label: k.label, stroke: k.color, width: k.shape === 'cross' || k.hollow ? 1.5 : 1,
          paths: markerPaths(state, kind), points: { show: false }, value: describeMarkers(state, kind, spec.markers)
        });
        // Hollow markers (the many forced reorders, hedge unwinds) leave the price line visible through them.
        if (!k.hollow) series[series.length - 1].fill = k.color;
      });
    }
    state.markerKinds = markerKinds;

    function view(min, max, plotWidth) {
      var range = visibleRange(spec.t, min, max);
      var perPoint = spec.barsPx || 1;
      var v = bucketView(spec.t, spec.lines.map(function (l) { return l.values; }), spec.lines.map(function (l) { return !!l.envelope; }), range[0], range[1], Math.max(10, Math.floor(plotWidth / perPoint)));
      var cols = [v.t];
      v.columns.forEach(function (c) {
        cols.push(c.line);
        if (c.low) { cols.push(c.high); cols.push(c.low); }
      });
      state.groupsAt = {};
      if (spec.markers) {
        var groups = aggregateMarkers(v.t, spec.markers, markerKinds, min, max, plotWidth, MARKER_GAP_PX);
        markerKinds.forEach(function (kind) {
          var ys = new Array(v.t.length).fill(null);
          var at = {};
          groups[kind].forEach(function (g) { ys[g.index] = g.price; at[g.index] = g; });
          state.groupsAt[kind] = at;
          cols.push(ys);
        });
      }
      state.pxPerPoint = plotWidth / Math.max(1, v.t.length);
      return cols;
    }

    function plotWidthOf(u) { return (u && u.over.clientWidth) || widthOf(el) - 70; }

    var yAxis = {
      stroke: 'transparent',
      grid: { stroke: '#eaeef2', width: 1 },
      ticks: { stroke: '#d0d7de', width: 1, size: 4 },
      font: FONT,
      gap: 4,
      values: function (u, splits) { var out = tickValues(u, splits); state.ticks.y = { splits: splits, values: out }; return out; },
      size: function (u, values) {
        if (!values) return 40;
        var w = 0;
        for (var i = 0; i < values.length; i++) if (values[i]) w = Math.max(w, textWidth(values[i]));
        return Math.ceil(w) + 14;
      }
    };
    var xAxis = {
      stroke: 'transparent',
      grid: { stroke: '#eaeef2', width: 1 },
      ticks: { stroke: '#d0d7de', width: 1, size: 4 },
      font: FONT,
      // Room for "Jan 2010" when months are ticked; years ("2010") need less, so long ranges get more of them.
      space: function (u, axisIdx, min, max) { return max - min > 4 * 365 * 86400000 ? 50 : 90; },
      size: 26,
      values: function (u, splits, axisIdx, space, incr) { var out = dateValues(u, splits, axisIdx, space, incr); state.ticks.x = { splits: splits, values: out }; return out; }
    };
    var opts = {
      width: widthOf(el),
      height: heightOf(el),
      ms: 1,
      tzDate: utc,
      cursor: {
        sync: { key: 'procura-report' },
        bind: { dblclick: function () { return function () { resetZoom(); return null; }; } }
      },
      scales: { x: { time: true, auto: function () { return !state.ready; } } },
      axes: [xAxis, yAxis],
      series: series,
      bands: bands,
      hooks: {
        setScale: [function (u, key) { onSetScale(state, key); }],
        draw: [function (u) { placeLabels(state); }]
      }
    };
    state.view = view;
    state.plotWidthOf = plotWidthOf;
    state.el = el;
    state.u = new uPlot(opts, view(state.min, state.max, plotWidthOf(null)), el);
    var rows = state.u.root.querySelectorAll('.u-legend .u-series');
    hideInLegend.forEach(function (i) { if (rows[i]) rows[i].style.display = 'none'; });
    state.layer = document.createElement('div');
    state.layer.className = 'axis-labels';
    state.u.root.querySelector('.u-wrap').appendChild(state.layer);
    state.ready = true;
    refresh(state);
    charts.push(state);
    return state;
  }

  // Recomputes the drawn points for the current x range and plot width.
  function refresh(state) {
    var u = state.u;
    var min = u.scales.x.min, max = u.scales.x.max;
    if (min == null || max == null) return;
    state.updating = true;
    u.setData(state.view(min, max, state.plotWidthOf(u)));
    state.updating = false;
  }

  function onSetScale(state, key) {
    if (key !== 'x' || !state.ready || state.updating) return;
    refresh(state);
    if (syncing) return;
    syncing = true;
    var min = state.u.scales.x.min, max = state.u.scales.x.max;
    charts.forEach(function (c) { if (c !== state) c.u.setScale('x', { min: min, max: max }); });
    syncing = false;
  }

  function resetZoom() {
    syncing = true;
    charts.forEach(function (c) { c.u.setScale('x', { min: c.min, max: c.max }); });
    syncing = false;
  }

  // Tick labels as DOM elements over the canvas; a label that would overlap one already placed is hidden.
  function placeLabels(state) {
    var u = state.u, layer = state.layer;
    if (!layer) return;
    layer.textContent = '';
    var left = u.over.offsetLeft, top = u.over.offsetTop, height = u.over.clientHeight, width = u.over.clientWidth;
    var placed = [];
    function overlaps(r) {
      for (var i = 0; i < placed.length; i++) {
        var p = placed[i];
        if (r.left < p.right + 2 && r.right + 2 > p.left && r.top < p.bottom && r.bottom > p.top) return true;
      }
      return false;
    }
    function add(text, cls, x, y, align) {
      if (text == null || text === '') return;
      var span = document.createElement('span');
      span.className = 'tick ' + cls;
      span.textContent = text;
      layer.appendChild(span);
      var w = span.offsetWidth, h = span.offsetHeight;
      var lx = align === 'right' ? x - w : x - w / 2;
      var ly = y - h / 2;
      var wrapWidth = layer.parentNode.clientWidth;
      var r = { left: lx, right: lx + w, top: ly, bottom: ly + h };
      if (lx < 0 || lx + w > wrapWidth || overlaps(r)) { layer.removeChild(span); return; }
      span.style.left = lx + 'px';
      span.style.top = ly + 'px';
      placed.push(r);
    }
    var y = state.ticks.y;
    if (y) for (var i = 0; i < y.splits.length; i++) {
      if (y.splits[i] == null) continue;
      var py = u.valToPos(y.splits[i], 'y');
      if (py < -1 || py > height + 1) continue;
      add(y.values[i], 'y', left - 8, top + py, 'right');
    }
    var x = state.ticks.x;
    if (x) for (var j = 0; j < x.splits.length; j++) {
      if (x.splits[j] == null) continue;
      var px = u.valToPos(x.splits[j], 'x');
      if (px < -1 || px > width + 1) continue;
      add(x.values[j], 'x', left + px, top + height + 14, 'center');
    }
  }

  function lineSpec(values, label, color, extra) {
    var l = { values: values, label: label, color: color };
    for (var k in extra) l[k] = extra[k];
    return l;
  }

  function savingsChart(el) {
    var s = data.savings;
    var lines = s.baselines.map(function (b, k) {
      return lineSpec(b.saving, 'vs ' + b.name, RUN_COLORS[(k + 1) % RUN_COLORS.length], { width: 1.75, valueText: function (u, v) { return v == null ? '\u2013' : fmt(v, 0) + ' ' + data.currency; } });
    });
    lines.push(lineSpec(s.t.map(function () { return 0; }), 'break-even', '#8c959f', { dash: [4, 4], width: 1 }));
    makeChart(el, { t: s.t, lines: lines, markers: null });
  }

  function rollingChart(el) {
    var series = data.rolling.baselines.filter(function (b) { return b.window === '12 months'; });
    if (series.length === 0) series = data.rolling.baselines.filter(function (b) { return b.window === data.rolling.baselines[0].window; });
    var t = [], seen = {};
    series.forEach(function (b) { b.t.forEach(function (x) { if (!seen[x]) { seen[x] = 1; t.push(x); } }); });
    t.sort(function (a, b) { return a - b; });
    var lines = series.map(function (b) {
      var at = {};
      b.t.forEach(function (x, i) { at[x] = b.savingPercent[i]; });
      var k = Math.max(1, data.runs.indexOf(b.name));
      return lineSpec(t.map(function (x) { return at[x] == null ? null : at[x]; }), 'vs ' + b.name, RUN_COLORS[k % RUN_COLORS.length], { valueText: function (u, v) { return v == null ? '\u2013' : fmt(v, 2) + ' %'; } });
    });
    lines.push(lineSpec(t.map(function () { return 0; }), 'break-even', '#8c959f', { dash: [4, 4], width: 1 }));
    makeChart(el, { t: t, lines: lines, markers: null });
  }

  function priceChart(el, m) {
    var p = m.price;
    makeChart(el, {
      t: p.t,
      lines: [
        lineSpec(p.close, 'Close', '#24292f', { envelope: true, bandFill: 'rgba(36,41,47,0.14)' }),
        lineSpec(p.fastMa, p.fastLabel, '#0969da'),
        lineSpec(p.slowMa, p.slowLabel, '#bf8700')
      ],
      markers: m.markers
    });
  }

  function coverChart(el, m) {
    var c = m.cover;
    var days = function (u, v) { return v == null ? '\u2013' : fmt(v, 1) + ' d'; };
    makeChart(el, {
      t: c.t,
      lines: [
        lineSpec(c.onHand, 'On hand', '#0969da', { envelope: true, valueText: days }),
        lineSpec(c.position, 'On hand + on order', '#8250df', { valueText: days }),
        lineSpec(c.reorderPoint, 'Reorder point', '#bc4c00', { dash: [6, 3], width: 1.5, valueText: days }),
        lineSpec(c.buffer, 'Buffer stock', '#cf222e', { dash: [2, 3], width: 1.5, valueText: days })
      ],
      markers: null
    });
  }

  function hedgeRatioChart(el, h) {
    var ratioText = function (u, v, si, idx) {
      if (idx == null || v == null) return '\u2013';
      var e = h.exposure[idx];
      return fmt(v, 0) + (e > 0 ? ' (' + fmt(100 * h.hedged[idx] / e, 0) + ' % of exposure)' : '');
    };
    makeChart(el, {
      t: h.t,
      lines: [
        lineSpec(h.exposure, 'Exposure (forecast not in stock or on order)', '#6e7781', { valueText: function (u, v) { return fmt(v, 0) + ' ' + h.unit; } }),
        lineSpec(h.hedged, 'Hedged', '#8250df', { fill: 'rgba(130,80,223,0.14)', valueText: ratioText })
      ],
      markers: null
    });
  }

  function hedgePnlChart(el) {
    var p = data.hedge.pnl;
    makeChart(el, {
      t: p.t,
      lines: p.runs.map(function (r, k) { return lineSpec(r.values, r.name, RUN_COLORS[data.runs.indexOf(r.name) % RUN_COLORS.length] || RUN_COLORS[k], { width: k === 0 ? 1.75 : 1.25, valueText: function (u, v) { return v == null ? '\u2013' : fmt(v, 0) + ' ' + data.currency; } }); }),
      markers: null
    });
  }

  function budgetChart(el) {
    var b = data.budget;
    var money = function (u, v) { return v == null ? '\u2013' : fmt(v, 2) + ' ' + b.unit; };
    var first = b.runs[0];
    var lines = [lineSpec(first.variance, first.name, '#0969da', { bars: true, valueText: money })];
    if (first.unhedged) lines.push(lineSpec(first.unhedged, first.name + ' unhedged', '#0969da', { dash: [4, 3], width: 1.25, valueText: money }));
    // The first baseline is drawn; the others start hidden (a click on their legend entry shows them).
    for (var k = 1; k < b.runs.length; k++) lines.push(lineSpec(b.runs[k].variance, b.runs[k].name, RUN_COLORS[k % RUN_COLORS.length], { width: 1, valueText: money, show: k === 1 }));
    makeChart(el, { t: b.t, lines: lines, markers: null, barsPx: 3 });
  }

  // Sortable tables: click a heading to sort by it (numbers by their data-sort value), click again to reverse.
  function makeSortable(table, onSort) {
    var heads = table.querySelectorAll('thead th');
    heads.forEach(function (th, col) {
      th.tabIndex = 0;
      th.classList.add('sort');
      var go = function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        if (onSort) { onSort(col, dir); return; }
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.getAttribute('data-numeric') === 'true';
        var key = function (row) {
          var cell = row.cells[col];
          var raw = cell ? cell.getAttribute('data-sort') : null;
          if (raw == null || raw === '') return null;
          return numeric ? Number(raw) : raw;
        };
        rows.sort(function (a, b) { return compare(key(a), key(b), dir); });
        rows.forEach(function (row) { body.appendChild(row); });
      };
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
    });
  }

  // Nulls sort last in both directions.
  function compare(a, b, dir) {
    if (a == null && b == null) return 0;
    if (a == null) return 1;
    if (b == null) return -1;
    var c = a < b ? -1 : a > b ? 1 : 0;
    return dir === 'ascending' ? c : -c;
  }

  function tradeList() {
    var table = document.getElementById('trade-table');
    if (!table) return;
    var tr = data.trades;
    var n = tr.t.length;
    var kindSel = document.getElementById('trade-kind');
    var materialSel = document.getElementById('trade-material');
    var search = document.getElementById('trade-search');
    var count = document.getElementById('trade-count');
    var more = document.getElementById('trade-more');
    var PAGE = 200;
    var shown = PAGE;
    var order = [];
    var sortCol = 0, sortDir = 'ascending';
    var notional = tr.notional.map(Number);
    var columns = [
      function (i) { return tr.t[i]; },
      function (i) { return tr.material[i]; },
      function (i) { return tr.instrument[i]; },
      function (i) { return tr.kind[i]; },
      function (i) { return tr.side[i]; },
      function (i) { return Number(tr.qty[i]); },
      function (i) { return Number(tr.price[i]); },
      function (i) { return Number(tr.fee[i]); },
      function (i) { return notional[i]; }
    ];
    var kinds = {}, materials = {};
    for (var i = 0; i < n; i++) { kinds[tr.kind[i]] = (kinds[tr.kind[i]] || 0) + 1; materials[tr.material[i]] = 1; }
    var option = function (sel, value, text) { var o = document.createElement('option'); o.value = value; o.textContent = text; sel.appendChild(o); };
    option(kindSel, '', 'all kinds');
    Object.keys(kinds).forEach(function (k) { option(kindSel, k, (KINDS[k] ? KINDS[k].label : k) + ' (' + kinds[k] + ')'); });
    option(materialSel, '', 'all materials');
    Object.keys(materials).forEach(function (m) { option(materialSel, m, m); });

    function filtered() {
      var kind = kindSel.value, material = materialSel.value, text = search.value.trim().toLowerCase();
      var out = [];
      for (var i = 0; i < n; i++) {
        if (kind && tr.kind[i] !== kind) continue;
        if (material && tr.material[i] !== material) continue;
        if (text && (dateText(tr.t[i]) + ' ' + tr.instrument[i] + ' ' + tr.kind[i] + ' ' + tr.side[i]).toLowerCase().indexOf(text) < 0) continue;
        out.push(i);
      }
      var key = columns[sortCol];
      out.sort(function (a, b) { return compare(key(a), key(b), sortDir) || a - b; });
      return out;
    }
    function cell(row, text, numeric) {
      var td = document.createElement('td');
      td.textContent = text;
      if (!numeric) td.className = 'text';
      row.appendChild(td);
    }
    function render() {
      var body = table.tBodies[0];
      body.textContent = '';
      var frag = document.createDocumentFragment();
      var limit = Math.min(order.length, shown);
      for (var k = 0; k < limit; k++) {
        var i = order[k];
        var row = document.createElement('tr');
        row.className = 'kind-' + tr.kind[i];
        cell(row, dateText(tr.t[i]), false);
        cell(row, tr.material[i], false);
        cell(row, tr.instrument[i], false);
        cell(row, KINDS[tr.kind[i]] ? KINDS[tr.kind[i]].label : tr.kind[i], false);
        cell(row, tr.side[i], false);
        cell(row, fmt(Number(tr.qty[i]), 0), true);
        cell(row, fmt(Number(tr.price[i])), true);
        cell(row, fmt(Number(tr.fee[i]), 2), true);
        cell(row, fmt(notional[i], 0), true);
        frag.appendChild(row);
      }
      body.appendChild(frag);
      count.textContent = order.length === n ? n + ' trades' : order.length + ' of ' + n + ' trades';
      if (limit < order.length) { more.hidden = false; more.textContent = 'Show ' + Math.min(PAGE, order.length - limit) + ' more (' + (order.length - limit) + ' not shown)'; }
      else more.hidden = true;
    }
    function update() { order = filtered(); shown = PAGE; render(); }
    makeSortable(table, function (col, dir) { sortCol = col; sortDir = dir; update(); });
    kindSel.addEventListener('change', update);
    materialSel.addEventListener('change', update);
    search.addEventListener('input', update);
    more.addEventListener('click', function () { shown += PAGE; render(); });
    document.getElementById('trade-csv').addEventListener('click', function () {
      var lines = ['time,material,instrument,kind,side,qty,price,fee,notional'];
      order.forEach(function (i) {
        lines.push([new Date(tr.t[i]).toISOString(), tr.material[i], tr.instrument[i], tr.kind[i], tr.side[i], tr.qty[i], tr.price[i], tr.fee[i], tr.notional[i]].map(csvCell).join(','));
      });
      var blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv' });
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = document.body.getAttribute('data-trades-file') || 'trades.csv';
      document.body.appendChild(a);
      a.click();
      document.body.removeChild(a);
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 0);
    });
    document.getElementById('trade-controls').hidden = false;
    update();
  }

  function csvCell(v) {
    var s = String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  var containers = document.querySelectorAll('[data-chart]');
  for (var c = 0; c < containers.length; c++) {
    var el = containers[c];
    var kind = el.getAttribute('data-kind');
    var m = data.materials[Number(el.getAttribute('data-material'))];
    if (kind === 'savings') savingsChart(el);
    else if (kind === 'rolling') rollingChart(el);
    else if (kind === 'price') priceChart(el, m);
    else if (kind === 'cover') coverChart(el, m);
    else if (kind === 'hedge-ratio') hedgeRatioChart(el, data.hedge.materials[Number(el.getAttribute('data-hedge'))]);
    else if (kind === 'hedge-pnl') hedgePnlChart(el);
    else if (kind === 'budget') budgetChart(el);
    else throw new Error('unknown chart kind ' + kind);
  }
  document.querySelectorAll('table.sortable:not(#trade-table)').forEach(function (t) { makeSortable(t, null); });
  tradeList();

  function resizeAll(width) {
    charts.forEach(function (c) {
      c.u.setSize({ width: width || widthOf(c.el), height: width ? 260 : heightOf(c.el) });
      refresh(c);
    });
  }
  var pending = false;
  window.addEventListener('resize', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; resizeAll(0); });
  });
  window.addEventListener('beforeprint', function () { resizeAll(PRINT_WIDTH); });
  window.addEventListener('afterprint', function () { resizeAll(0); });

  // uPlot lays a chart out on its first commit: recompute every view at the final plot widths, then say so.
  requestAnimationFrame(function () {
    charts.forEach(refresh);
    document.body.dataset.chartsRendered = String(charts.length);
  });
`;

/** The page script: the chart-data functions (their own source) and the body above, in one IIFE. */
export const PAGE_SCRIPT = `(function () {\n  'use strict';\n${CHART_DATA_FUNCTIONS.map((f) => f.toString()).join('\n')}\n${BODY}})();\n`;
