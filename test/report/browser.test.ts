/**
 * Opens a realistic report (two materials, 8,000 daily points each, trades, a sweep) in
 * Debian's headless Chromium over file:// and checks that every chart renders, that the
 * page logs no error, that nothing is requested from anywhere but the file itself, and
 * that hostile strings stay text. Chromium is required: without it this test fails.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedChartCount, writeReport } from '../../src/report/html.js';
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

describe('HTML report in headless Chromium', () => {
  let workDir = '';
  let context: BrowserContext | undefined;

  afterAll(async () => {
    await context?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('renders every chart with no console or page error and no request beyond the file', async () => {
    // Checked inside the test, not in a hook, so a missing browser is a failed test, never a skipped one.
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the report's browser test needs Debian's chromium. Install it with: apt-get install -y chromium`);
    }
    workDir = mkdtempSync(join(tmpdir(), 'procura-report-browser-'));
    // A persistent context on a fresh directory is the fresh --user-data-dir.
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 900 },
    });

    const data = syntheticReport({ days: 8_000, seed: 42, hostile: true });
    const reportPath = join(workDir, 'report.html');
    writeReport(reportPath, data);
    const reportUrl = pathToFileURL(reportPath).href;

    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));

    const started = Date.now();
    await page.goto(reportUrl, { waitUntil: 'load' });
    // Locator waits: a waitForFunction would poll with eval, which the report's CSP refuses.
    await page.locator('body[data-charts-rendered]').waitFor({ state: 'attached', timeout: 20_000 });
    const renderMs = Date.now() - started;

    const expected = expectedChartCount(data);
    expect(expected).toBe(7);
    expect(await page.locator('body').getAttribute('data-charts-rendered')).toBe(String(expected));
    expect(await page.locator('[data-chart] .uplot').count()).toBe(expected);
    expect(await page.locator('[data-chart] canvas').count()).toBe(expected);
    for (const id of ['price-natgas', 'inventory-natgas', 'unit-cost-natgas', 'price-power', 'inventory-power', 'unit-cost-power', 'hedge-pnl']) {
      expect(await page.locator(`[data-chart="${id}"] canvas`).count(), id).toBe(1);
    }

    // The charts drew something: count the painted pixels in each canvas.
    // (Page code as a string: this project's TypeScript has no DOM types.)
    const painted = await page.evaluate<{ width: number; count: number }[]>(`
      [...document.querySelectorAll('[data-chart] canvas')].map((canvas) => {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count += 1;
        return { width: canvas.width, count };
      })`);
    expect(painted).toHaveLength(expected);
    for (const chart of painted) {
      expect(chart.width).toBeGreaterThan(300);
      expect(chart.count).toBeGreaterThan(2_000);
    }

    // Legends name the series, including the trade markers.
    const legend = await page.locator('[data-chart="price-natgas"] .u-legend').innerText();
    for (const label of ['Close', 'MA 20', 'MA 100', 'Buys', 'Sells']) expect(legend).toContain(label);

    // Hovering a bar with a trade shows the trade's reason in the legend.
    const trade = data.materials[0]!.trades.find((t) => t.reason === 'forced-reorder')!;
    const over = page.locator('[data-chart="price-natgas"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    const times = data.materials[0]!.price.t;
    const first = times[0]!;
    const last = times[times.length - 1]!;
    // The legend lists the fills within half a pixel of the cursor; allow for rounding of x.
    let legendText = '';
    const x0 = box.x + ((trade.t - first) / (last - first)) * box.width;
    for (let dx = -3; dx <= 3 && !legendText.includes("forced-reorder"); dx += 1) {
      await page.mouse.move(x0 + dx, box.y + box.height / 2);
      legendText = await page.locator('[data-chart="price-natgas"] .u-legend').innerText();
    }
    const dayIndex = Math.round((trade.t - first) / 86_400_000);
    expect(legendText, `legend near day ${dayIndex}`).toContain('forced-reorder');

    // Drag-zooming one chart zooms the others (the hedge chart's canvas is redrawn), and a
    // double click resets; neither may raise an error (checked at the end).
    const hedgeCanvas = page.locator('[data-chart="hedge-pnl"] canvas');
    const before = await hedgeCanvas.screenshot();
    await page.mouse.move(box.x + box.width * 0.3, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + 40, { steps: 5 });
    await page.mouse.up();
    const zoomed = await hedgeCanvas.screenshot();
    expect(zoomed.equals(before)).toBe(false);
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 40);

    // Charts follow the window width.
    const powerCanvas = page.locator('[data-chart="price-power"] canvas');
    const wideWidth = (await powerCanvas.boundingBox())!.width;
    await page.setViewportSize({ width: 800, height: 900 });
    await expect.poll(async () => (await powerCanvas.boundingBox())!.width, { timeout: 5_000 }).toBeLessThan(wideWidth - 200);

    // Hostile strings are text, not markup.
    expect(await page.title()).toBe(data.title);
    expect(await page.locator('h1').innerText()).toContain('</script><img src=x onerror="window.__pwned=1">');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');

    const screenshotPath = join(workDir, 'report.png');
    await page.screenshot({ path: screenshotPath, fullPage: true });
    expect(statSync(screenshotPath).size).toBeGreaterThan(50_000);
    if (process.env.PROCURA_REPORT_SCREENSHOT) await page.screenshot({ path: process.env.PROCURA_REPORT_SCREENSHOT, fullPage: true });

    expect(problems).toEqual([]);
    expect(requests).toEqual([reportUrl]);
    expect(renderMs).toBeLessThan(15_000);
    await page.close();
  }, 90_000);
});
