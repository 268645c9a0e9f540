/**
 * `procura backtest` from the command line (the built CLI in dist/, as a user runs it): the
 * summary, --json, a sweep on worker threads, a bad file's exit status, and the HTML report
 * of a real run opened in headless Chromium with no console error.
 */
import { procura as runProcura } from '../support/cli.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/engine/scenario.js';
import { parseSweepSpec, runSweep } from '../../src/engine/sweep.js';

const SMALL = 'test/engine/fixtures/small.yaml';
const work = mkdtempSync(join(tmpdir(), 'procura-backtest-cli-'));

const procura = (...args: string[]) => runProcura(args);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('procura backtest', () => {
  it('prints the summary against both baselines and writes the report', () => {
    const report = join(work, 'small.html');
    const run = procura('backtest', SMALL, '--report', report);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ma-procurement\s+jit\s+schedule/);
    expect(run.stdout).toMatch(/widget effective unit cost \(USD\/t\)/);
    expect(run.stdout).toMatch(/ma-procurement (saves against|costs more than) jit: [\d.]+ USD per widget unit/);
    // A saving inside the noise is called so on the same line, and in the analysis.
    expect(run.stdout).toMatch(/^ma-procurement saves against jit: .* over the run: not distinguishable from jit \(95 % interval contains zero\)$/m);
    expect(run.stdout).toMatch(/^ma-procurement against jit: .*: not distinguishable from jit$/m);
    expect(readFileSync(report, 'utf8')).toContain('data-chart="price-gas"');
  });

  it('--json gives the result, both baselines, the savings and the assumptions', () => {
    const run = procura('backtest', SMALL, '--json', '--no-report');
    expect(run.status).toBe(0);
    const json = JSON.parse(run.stdout) as Record<string, any>;
    expect(Object.keys(json.baselines)).toEqual(['jit', 'schedule']);
    expect(json.result.strategy).toBe('ma-procurement');
    expect(json.result.materials[0].effectiveUnitCost).toMatch(/^\d+\.\d{6}$/);
    expect(json.savings.map((s: { baseline: string }) => s.baseline)).toEqual(['jit', 'schedule']);
    expect(json.assumptions.join(' ')).toMatch(/next bar's close/);
    expect(json.report).toBeNull();
  });

  it('runs a sweep on worker threads and ranks it in-sample with out-of-sample beside it', () => {
    const run = procura('backtest', SMALL, '--json', '--no-report', '--sweep', 'fast=3:7:2,slow=10:20:5', '--workers', '2');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const sweep = (JSON.parse(run.stdout) as { sweep: { rows: { params: { fast: number; slow: number }; inSample: string; outOfSample: string; inSampleRank: number; outOfSampleRank: number }[]; split: string } }).sweep;
    expect(sweep.rows).toHaveLength(9);
    expect(sweep.rows.map((r) => r.inSampleRank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const costs = sweep.rows.map((r) => Number(r.inSample));
    expect([...costs].sort((a, b) => a - b)).toEqual(costs);
    expect(new Set(sweep.rows.map((r) => r.outOfSampleRank)).size).toBe(9);
    // 149 days from 2023-02-01 to 2023-06-30; the first floor(0.7 x 149) = 104 are in-sample.
    expect(sweep.split).toBe('2023-05-16');
  });

  it('screens the sets, re-runs the best --confirm N exactly with their screened deviation, and marks the rest screened; --exact and a strategy the screening engine cannot run (a hedging one) run every set exactly', () => {
    type Sweep = { engine: { sets: string; confirmed: number; reason: string | null }; rows: { inSample: string; figures: string; screened?: { inSample: string; deviationPercent: { inSample: number } } }[] };
    const grid = ['--sweep', 'fast=3:7:2,slow=10:20:5', '--workers', '2'];
    const screened = procura('backtest', SMALL, '--json', '--no-report', ...grid, '--confirm', '2');
    expect(screened.status, screened.stderr).toBe(0);
    const sweep = (JSON.parse(screened.stdout) as { sweep: Sweep }).sweep;
    expect(sweep.engine).toMatchObject({ sets: 'screened', confirmed: 2, reason: null });
    expect(sweep.rows.filter((r) => r.figures === 'exact')).toHaveLength(2);
    for (const row of sweep.rows.filter((r) => r.figures === 'exact')) expect(Math.abs(row.screened!.deviationPercent.inSample)).toBeLessThan(0.1);
    const exact = procura('backtest', SMALL, '--json', '--no-report', ...grid, '--exact');
    expect(exact.status, exact.stderr).toBe(0);
    const all = (JSON.parse(exact.stdout) as { sweep: Sweep }).sweep;
    expect(all.engine).toMatchObject({ sets: 'exact', confirmed: 0 });
    expect(all.rows.every((r) => r.figures === 'exact' && r.screened === undefined)).toBe(true);
    // Each confirmed set's exact figure is the one the all-exact sweep has for it.
    const byParams = new Map(all.rows.map((r) => [JSON.stringify((r as unknown as { params: unknown }).params), r.inSample]));
    for (const row of sweep.rows.filter((r) => r.figures === 'exact')) expect(row.inSample).toBe(byParams.get(JSON.stringify((row as unknown as { params: unknown }).params)));
    // Every shipped strategy has a fast form; the screening engine does not model hedge contracts.
    const dir = mkdtempSync(join(work, 'hedger-'));
    for (const name of ['plant.yaml', 'gas-daily.csv']) writeFileSync(join(dir, name), readFileSync(`test/engine/fixtures/${name}`));
    writeFileSync(join(dir, 'small.yaml'), readFileSync(SMALL, 'utf8').replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, months: 3, lotStep: "100", tickSize: "0.001" }'));
    const hedger = procura('backtest', join(dir, 'small.yaml'), '--no-report', '--strategy', 'ma-hedge', '--sweep', 'fast=3|5,slow=10|12', '--workers', '1');
    expect(hedger.status, hedger.stderr).toBe(0);
    expect(hedger.stdout).toMatch(/strategy ma-hedge hedges; the screening engine does not model hedge contracts.*: every set runs on the exact engine/);
    const bad = procura('backtest', SMALL, '--no-report', ...grid, '--exact', '--confirm', '3');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--confirm/);
    // Four sweeps of CLI processes: at load 12 on the shared 2 cores it passed 60 s.
  }, 240_000);

  it('an exact sweep on two threads, each run\'s in-sample and out-of-sample halves sent apart, gives the figures of the same sweep run whole in process, and its runs after the sweep on those threads those of a plain backtest', async () => {
    const spec = 'fast=3|5,slow=10|15';
    const threads = procura('backtest', SMALL, '--json', '--no-report', '--sweep', spec, '--exact', '--workers', '2');
    expect(threads.status, threads.stderr).toBe(0);
    type Sweep = { rows: { params: unknown; inSample: string; outOfSample: string }[]; baselines: { name: string; inSample: string; outOfSample: string }[] };
    const a = (JSON.parse(threads.stdout) as { sweep: Sweep }).sweep;
    // The same sweep with no threads: every job whole, one after another in this process.
    const scenario = loadScenario(SMALL);
    const here = (await runSweep(scenario, parseSweepSpec(spec, scenario), { file: SMALL, workers: 0, exact: true })).json as unknown as Sweep;
    expect(a.rows).toHaveLength(4);
    // In and out of sample differ for every row, so a merge that swapped or dropped a half fails here.
    for (const row of a.rows) expect(row.outOfSample).not.toBe(row.inSample);
    expect(a.rows).toEqual(here.rows);
    expect(a.baselines.length).toBeGreaterThan(0);
    expect(a.baselines).toEqual(here.baselines);
    // The runs after the sweep (the strategy and its baselines over the whole period) went to the
    // sweep's threads: the same figures as a plain backtest's, in this process's order.
    const plain = procura('backtest', SMALL, '--json', '--no-report');
    expect(plain.status, plain.stderr).toBe(0);
    const { sweep: _sweep, ...afterSweep } = JSON.parse(threads.stdout) as Record<string, unknown>;
    expect(afterSweep).toEqual(JSON.parse(plain.stdout));
  }, 240_000);

  it('ends with a warning on stderr (exit 0) when stockouts pass 2 % of the days, and the report shows it at the top', () => {
    const dir = mkdtempSync(join(work, 'warn-'));
    for (const name of ['plant.yaml', 'gas-daily.csv']) writeFileSync(join(dir, name), readFileSync(`test/engine/fixtures/${name}`));
    writeFileSync(join(dir, 'small.yaml'), readFileSync(SMALL, 'utf8').replace('lotStep: "100"', 'lotStep: "100000"'));
    const report = join(dir, 'report.html');
    const run = procura('backtest', join(dir, 'small.yaml'), '--report', report);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^warning: jit: gas ran out of stock on \d+ of 150 days .*likely cause: the lot step/m);
    const html = readFileSync(report, 'utf8');
    expect(html.indexOf('id="warnings"')).toBeGreaterThan(0);
    expect(html.indexOf('id="warnings"')).toBeLessThan(html.indexOf('id="summary"'));
  });

  it('--export writes the daily series and the trades of every run as CSV (and JSON with --json)', () => {
    const dir = join(work, 'export');
    const run = procura('backtest', SMALL, '--no-report', '--export', dir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/export: \S*daily\.csv, \S*trades\.csv\n/);
    const daily = readFileSync(join(dir, 'daily.csv'), 'utf8').split('\n');
    expect(daily[0]).toMatch(/^date,run,material,close,fast_ma,slow_ma,signal,/);
    // 150 days x (the strategy and two baselines) x one material, a header and the final newline.
    expect(daily).toHaveLength(1 + 150 * 3 + 1);
    expect(readFileSync(join(dir, 'trades.csv'), 'utf8')).toMatch(/^time,run,material,instrument,kind,reason,side,qty,price,fee,notional,client_order_id\n/);
    const withJson = procura('backtest', SMALL, '--no-report', '--export', dir, '--json');
    expect(withJson.status).toBe(0);
    expect((JSON.parse(withJson.stdout) as { export: string[] }).export.map((p) => p.slice(dir.length + 1))).toEqual(['daily.csv', 'trades.csv', 'daily.json', 'trades.json']);
    expect((JSON.parse(readFileSync(join(dir, 'daily.json'), 'utf8')) as unknown[]).length).toBe(150 * 3);
  });

  it('refuses a bad strategy with exit status 2, naming the flag that gave it (the scenario did not)', () => {
    const run = procura('backtest', SMALL, '--strategy', 'nonesuch');
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^procura: field "--strategy": unknown strategy "nonesuch"/);
  });

  it('refuses a bad --param with the flag and the parameter named', () => {
    const run = procura('backtest', SMALL, '--param', 'slow=2');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/field "--param( slow=2)?"/);
  });
});

describe('the report of a real backtest in headless Chromium', () => {
  it('renders every chart with no console or page error', async () => {
    const chromiumPath = '/usr/bin/chromium';
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: install it with apt-get install -y chromium`);
    const report = join(work, 'browser.html');
    const run = procura('backtest', SMALL, '--report', report);
    expect(run.status).toBe(0);
    const context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(pathToFileURL(report).href);
      await page.locator('body[data-charts-rendered]').waitFor({ timeout: 30_000 });
      // The savings curve, the rolling windows (the 20-day horizon's: 150 days hold no 12-month window),
      // price and days of cover for the one material, the budget; no hedge chart without a hedge.
      expect(await page.locator('body').getAttribute('data-charts-rendered')).toBe('5');
      expect(await page.locator('canvas').count()).toBe(5);
      expect(await page.locator('#headline .lead').innerText()).toMatch(/^ma-procurement (beat|lost to) /);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
