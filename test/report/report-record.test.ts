/**
 * A backtest recorded for a report alone (`record: 'report'`) records every daily column of the
 * strategy's run and only the cost columns of the baselines' (RunResult.costRecord), and the
 * report built from it is the report of a fully recorded backtest, field for field; an export,
 * which reads every column of every run, refuses it.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestWithBaselines } from '../../src/engine/results.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { buildReportData } from '../../src/report/build.js';
import { dailyColumns } from '../../src/report/daily-frame.js';

const FIXTURES = 'test/engine/fixtures';
const work = mkdtempSync(join(tmpdir(), 'procura-report-record-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The small scenario, and the same hedged with ma-hedge on a swap (hedge P&L in every run's record). */
function scenarioFile(hedged: boolean): string {
  if (!hedged) return `${FIXTURES}/small.yaml`;
  const dir = mkdtempSync(join(work, 'hedged-'));
  copyFileSync(`${FIXTURES}/plant.yaml`, join(dir, 'plant.yaml'));
  copyFileSync(`${FIXTURES}/gas-daily.csv`, join(dir, 'gas-daily.csv'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(
    file,
    readFileSync(`${FIXTURES}/small.yaml`, 'utf8')
      .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", '  name: ma-hedge\n  params: { fast: 5, slow: 20, baseRatio: 0.5, upRatio: 0.9, downRatio: 0.2 }')
      .replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, lotStep: "100", tickSize: "0.001" }'),
  );
  return file;
}

const COST_COLUMNS = ['stockouts', 'carryingCents', 'hedgePnlCents', 'costCents', 'standardCents'] as const;

describe("record: 'report'", () => {
  for (const hedged of [false, true]) {
    it(`gives the fully recorded backtest's report, the baselines with their cost columns only (${hedged ? 'hedged' : 'unhedged'})`, async () => {
      const scenario = loadScenario(scenarioFile(hedged));
      const full = await backtestWithBaselines(scenario, { record: true });
      const report = await backtestWithBaselines(scenario, { record: 'report' });
      expect(report.run.record).toEqual(full.run.record);
      expect(report.run.costRecord).toBeUndefined();
      expect(report.baselines.size).toBeGreaterThan(1);
      for (const [name, baseline] of report.baselines) {
        if (baseline === report.run) continue;
        const whole = full.baselines.get(name)!.record!;
        expect(baseline.record, name).toBeUndefined();
        const costs = baseline.costRecord!;
        expect(costs.t).toEqual(whole.t);
        for (const [id, series] of whole.materials) {
          expect(Object.keys(costs.materials.get(id)!).sort(), name).toEqual([...COST_COLUMNS].sort());
          for (const column of COST_COLUMNS) expect(costs.materials.get(id)![column], `${name} ${id} ${column}`).toEqual(series[column]);
        }
      }
      expect(await buildReportData(report)).toEqual(await buildReportData(full));
      expect(() => dailyColumns(report)).toThrow(/was not recorded/);
    }, 120_000);
  }
});
