/**
 * Opens a realistic report (two materials, 8,000 daily points each, trades of every kind, a
 * hedge, rolling windows, a sweep) in Debian's headless Chromium over file://, at a desktop
 * width (1,440 px) and a phone width (390 px), and checks that every chart renders, that the
 * page logs no error, that nothing is requested from anywhere but the file itself, that no
 * two labels overlap (tick labels, units, legends: their bounding boxes are compared), that
 * the page never scrolls sideways, and that the trade list sorts, filters and downloads.
 * Hostile strings stay text. Chromium is required: without it this test fails.
 *
 * It writes a screenshot of each chart: into a temporary directory, or into the directory
 * named by PROCURA_REPORT_SCREENSHOTS (docs/img for the docs). PROCURA_REPORT_FILE checks an
 * existing report instead of the synthetic one (the docs' screenshots come from a real run).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { chartList, writeReport } from '../../src/report/html.js';
import type { BacktestReportData } from '../../src/report/types.js';
import { syntheticReport } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WIDTHS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const external = process.env.PROCURA_REPORT_FILE;
const screenshotDir = process.env.PROCURA_REPORT_SCREENSHOTS;

interface Box {
  text: string;
  role: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Every visible label of every chart (tick labels, the unit caption, legend cells), with its box, per chart. */
const LABEL_BOXES = `
  [...document.querySelectorAll('figure.chart-box')].map((figure) => {
    const boxes = [];
    const add = (el, role) => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || getComputedStyle(el).display === 'none') return;
      if (el.closest('tr') && getComputedStyle(el.closest('tr')).display === 'none') return;
      boxes.push({ text: el.textContent, role, left: r.left, right: r.right, top: r.top, bottom: r.bottom });
    };
    figure.querySelectorAll('.axis-labels .tick.x').forEach((el) => add(el, 'x-tick'));
    figure.querySelectorAll('.axis-labels .tick.y').forEach((el) => add(el, 'y-tick'));
    figure.querySelectorAll('.chart-unit').forEach((el) => add(el, 'unit'));
    figure.querySelectorAll('.u-legend .u-series > *').forEach((el) => add(el, 'legend'));
    const wrap = figure.querySelector('.u-wrap').getBoundingClientRect();
    return { chart: figure.querySelector('[data-chart]').dataset.chart, boxes, wrap: { left: wrap.left, right: wrap.right } };
  })`;

function overlapping(boxes: readonly Box[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      // Legend cells of one row touch by design (label beside value); only cross-role or tick pairs must not meet.
      if (a.role === 'legend' && b.role === 'legend') continue;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 0.5 && y > 0.5) out.push(`${a.role} "${a.text}" overlaps ${b.role} "${b.text}"`);
    }
  }
  return out;
}

describe('HTML report in headless Chromium', () => {
  let workDir = '';
  let context: BrowserContext | undefined;

  afterAll(async () => {
    await context?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('renders every chart at 1,440 px and 390 px with no error, no request beyond the file and no overlapping label', async () => {
    // Checked inside the test, not in a hook, so a missing browser is a failed test, never a skipped one.
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the report's browser test needs Debian's chromium. Install it with: apt-get install -y chromium`);
    }
    workDir = mkdtempSync(join(tmpdir(), 'procura-report-browser-'));
    const shots = screenshotDir === undefined ? join(workDir, 'img') : resolve(screenshotDir);
    mkdirSync(shots, { recursive: true });
    // A persistent context on a fresh directory is the fresh --user-data-dir.
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      acceptDownloads: true,
      viewport: { width: WIDTHS[0].width, height: WIDTHS[0].height },
    });

    let data: BacktestReportData;
    let reportPath: string;
    if (external === undefined) {
      data = syntheticReport({ days: 8_000, seed: 42, hostile: true });
      reportPath = join(workDir, 'report.html');
      writeReport(reportPath, data);
    } else {
      reportPath = resolve(external);
      const html = readFileSync(reportPath, 'utf8');
      const open = '<script type="application/json" id="report-data">';
      const start = html.indexOf(open) + open.length;
      data = JSON.parse(html.slice(start, html.indexOf('</script>', start))) as BacktestReportData;
    }
    const reportUrl = pathToFileURL(reportPath).href;
    const charts = chartList(data);
    expect(charts.length).toBeGreaterThanOrEqual(4);

    for (const size of WIDTHS) {
      const page = await context.newPage();
      await page.setViewportSize({ width: size.width, height: size.height });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('request', (request) => requests.push(request.url()));

      await page.goto(reportUrl, { waitUntil: 'load' });
      // Locator waits: a waitForFunction would poll with eval, which the report's CSP refuses.
      await page.locator('body[data-charts-rendered]').waitFor({ state: 'attached', timeout: 30_000 });
      expect(await page.locator('body').getAttribute('data-charts-rendered'), size.name).toBe(String(charts.length));
      for (const chart of charts) expect(await page.locator(`[data-chart="${chart.id}"] canvas`).count(), `${size.name} ${chart.id}`).toBe(1);

      // The charts drew something: count the painted pixels in each canvas. (Page code as a
      // string: this project's TypeScript has no DOM types.)
      const painted = await page.evaluate<{ chart: string; width: number; count: number }[]>(`
        [...document.querySelectorAll('[data-chart]')].map((el) => {
          const canvas = el.querySelector('canvas');
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let count = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count += 1;
          return { chart: el.dataset.chart, width: canvas.getBoundingClientRect().width, count };
        })`);
      for (const chart of painted) {
        expect(chart.width, `${size.name} ${chart.chart}`).toBeGreaterThan(size.width < 500 ? 250 : 900);
        expect(chart.count, `${size.name} ${chart.chart}`).toBeGreaterThan(1_500);
      }

      // No label overlaps another, every tick label sits inside its chart, and each axis is labelled.
      const labels = await page.evaluate<{ chart: string; boxes: Box[]; wrap: { left: number; right: number } }[]>(LABEL_BOXES);
      expect(labels).toHaveLength(charts.length);
      for (const chart of labels) {
        expect(overlapping(chart.boxes), `${size.name} ${chart.chart}`).toEqual([]);
        const ticks = chart.boxes.filter((b) => b.role.endsWith('tick'));
        for (const tick of ticks) {
          expect(tick.left, `${size.name} ${chart.chart} "${tick.text}"`).toBeGreaterThanOrEqual(chart.wrap.left - 0.5);
          expect(tick.right, `${size.name} ${chart.chart} "${tick.text}"`).toBeLessThanOrEqual(chart.wrap.right + 0.5);
        }
        expect(ticks.filter((b) => b.role === 'x-tick').length, `${size.name} ${chart.chart} x ticks`).toBeGreaterThanOrEqual(2);
        expect(ticks.filter((b) => b.role === 'y-tick').length, `${size.name} ${chart.chart} y ticks`).toBeGreaterThanOrEqual(2);
        expect(chart.boxes.filter((b) => b.role === 'unit')).toHaveLength(1);
      }
      // The page itself never scrolls sideways (wide tables scroll inside their own box).
      expect(await page.evaluate<number>('document.scrollingElement.scrollWidth - window.innerWidth'), size.name).toBeLessThanOrEqual(0);

      for (const chart of charts) {
        const path = join(shots, `report-${chart.id}${size.name === 'phone' ? '-phone' : ''}.png`);
        const box = page.locator(`figure:has([data-chart="${chart.id}"])`);
        await box.scrollIntoViewIfNeeded();
        await box.screenshot({ path });
        expect(statSync(path).size, path).toBeGreaterThan(5_000);
      }
      if (data.sweep !== null && size.name === 'desktop') await page.locator('.heatmaps').screenshot({ path: join(shots, 'report-sweep.png') });
      if (size.name === 'desktop') {
        await page.locator('#headline').screenshot({ path: join(shots, 'report-headline.png') });
        if (data.warnings.length > 0) expect(await page.locator('#warnings').isVisible()).toBe(true);
      }

      if (size.name === 'desktop' && external === undefined) await interact(page, data);

      expect(problems, size.name).toEqual([]);
      // blob: is the trade list's CSV download, made in the page; nothing else may be fetched.
      expect(requests.filter((url) => !url.startsWith('blob:')), size.name).toEqual([reportUrl]);
      await page.close();
    }
  }, 240_000);
});

/** Hover, zoom, reset, sortable tables, the trade list and its CSV, hostile strings: on the synthetic report. */
async function interact(page: Page, data: BacktestReportData): Promise<void> {
  // Hovering a buy-ahead marker names it in the legend.
  const gas = data.materials[0]!;
  const trade = gas.markers.find((m) => m.kind === 'buy-ahead')!;
  const over = page.locator('[data-chart="price-natgas"] .u-over');
  await over.scrollIntoViewIfNeeded();
  const box = (await over.boundingBox())!;
  const first = gas.price.t[0]!;
  const last = gas.price.t[gas.price.t.length - 1]!;
  const legendValue = page.locator('[data-chart="price-natgas"] .u-legend .u-series', { hasText: 'Buy ahead' }).locator('.u-value');
  const x0 = box.x + ((trade.t - first) / (last - first)) * box.width;
  let shown = '';
  for (let dx = -4; dx <= 4 && !/\d/.test(shown); dx += 1) {
    await page.mouse.move(x0 + dx, box.y + box.height / 2);
    shown = await legendValue.innerText();
  }
  expect(shown).toMatch(/\d/);

  // Drag-zooming one chart zooms the others to months (tick labels change from years to months), and a double click resets.
  const coverTicks = page.locator('[data-chart="cover-power"] .axis-labels .tick.x');
  const yearsOnly = async (): Promise<boolean> => (await coverTicks.allInnerTexts()).every((t) => /^\d{4}$/.test(t));
  expect(await yearsOnly()).toBe(true);
  await page.mouse.move(box.x + box.width * 0.40, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.41, box.y + 40, { steps: 5 });
  await page.mouse.up();
  await expect.poll(yearsOnly).toBe(false);
  await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 40);
  await expect.poll(yearsOnly).toBe(true);

  // A sortable table sorts by its numeric sort keys.
  const years = page.locator('table.years');
  await years.locator('thead th', { hasText: 'Effective cost' }).click();
  const costs = async (): Promise<number[]> => (await years.locator('tbody tr td:nth-child(3)').evaluateAll((cells) => cells.map((c) => Number((c as unknown as { dataset: { sort: string } }).dataset.sort))));
  const ascending = await costs();
  expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
  await years.locator('thead th', { hasText: 'Effective cost' }).click();
  const descending = await costs();
  expect(descending).toEqual([...ascending].sort((a, b) => b - a));

  // The trade list: every trade, filterable by kind, sortable, downloadable as CSV.
  const total = data.trades.t.length;
  const count = page.locator('#trade-count');
  await expect.poll(() => count.innerText()).toBe(`${total} trades`);
  await page.locator('#trade-kind').selectOption('forced-reorder');
  const forced = data.trades.kind.filter((k) => k === 'forced-reorder').length;
  await expect.poll(() => count.innerText()).toBe(`${forced} of ${total} trades`);
  const kinds = await page.locator('#trade-table tbody tr td:nth-child(4)').allInnerTexts();
  expect(new Set(kinds)).toEqual(new Set(['Forced reorder']));
  await page.locator('#trade-table thead th', { hasText: 'Quantity' }).click();
  const quantities = (await page.locator('#trade-table tbody tr td:nth-child(6)').allInnerTexts()).map((t) => Number(t.replace(/,/g, '')));
  expect(quantities).toEqual([...quantities].sort((a, b) => a - b));
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#trade-csv').click()]);
  const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
  expect(csv[0]).toBe('time,material,instrument,kind,side,qty,price,fee,notional');
  expect(csv).toHaveLength(forced + 1);
  expect(csv.slice(1).every((line) => line.split(',')[3] === 'forced-reorder')).toBe(true);

  // Hostile strings are text, not markup.
  expect(await page.title()).toBe(data.title);
  expect(await page.locator('h1').innerText()).toContain('</script><img src=x onerror="window.__pwned=1">');
  expect(await page.locator('img').count()).toBe(0);
  expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
}
