import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { procura } from '../support/cli.js';
import { Decimal } from '../../src/core/decimal.js';
import { parseTime } from '../../src/core/time.js';
import { CostFeed, loadPlan } from '../../src/costfeed/index.js';
import { Ledger, loadEvents, loadPlant } from '../../src/ledger/index.js';
import { indexKnownAt, loadSeries } from '../../src/market/series.js';

const dir = 'test/costfeed/fixtures';
const base = ['cost', '--plant', `${dir}/plant.yaml`, '--events', `${dir}/events.jsonl`, '--plan', `${dir}/plan.csv`];

describe('procura cost', () => {
  it('--json: one snapshot in the documented shape', () => {
    const run = procura([...base, '--policy', `${dir}/policy.yaml`, '--at', '2024-02-05', '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(Object.keys(doc).sort()).toEqual(['actualWindowDays', 'at', 'conversionClosedAt', 'conversionIncurred', 'conversionPeriods', 'currency', 'horizonDays', 'knownAt', 'materials', 'products'].sort());
    expect(doc.conversionPeriods).toEqual([{ from: null, to: '2024-01-31' }]);
    expect(doc.conversionIncurred).toBe('9000.00');
    expect(doc.products.ammonia.actualConversionSource).toBe('closed-periods');
    // sigma_d and sigma_L and where each came from: 16 days of history is short, so the built-in cvs.
    expect([doc.materials.natgas.sigmaDailySource, doc.materials.natgas.sigmaDailyHistoryDays, doc.materials.natgas.sigmaDailyBucketDays, doc.materials.natgas.demandCv]).toEqual(['cv', 16, 1, '0.100000']);
    expect([doc.materials.natgas.sigmaLeadTimeSource, doc.materials.natgas.leadTimeReceipts, doc.materials.natgas.leadTimeCv, doc.materials.natgas.sigmaLeadTimeDays]).toEqual(['cv', 0, '0.100000', '0.700000']);
    expect(doc.materials.natgas.sigmaLeadTimeDemand).toMatch(/^\d+\.\d{6}$/);
    expect(doc.at).toBe('2024-02-05');
    expect(doc.knownAt).toBe('2024-02-05');
    expect(Object.keys(doc.products)).toEqual(['ammonia']);
    expect(Object.keys(doc.materials)).toEqual(['natgas', 'catalyst']);
    for (const key of ['standard', 'actual', 'replacement', 'carryingPerUnitDay']) expect(doc.products.ammonia[key]).toMatch(/^-?\d+\.\d+$/);
    for (const key of ['onHand', 'onOrder', 'hedged', 'dailyConsumption', 'sigmaDailyConsumption', 'sigmaLeadTimeDemand', 'z', 'bufferStock', 'reorderPoint', 'exposureQty', 'exposureValue']) {
      expect(doc.materials.natgas[key]).toMatch(/^-?\d+\.\d+$/);
    }
    expect(doc.products.ammonia.actual).toBe('225.6200');
    expect(doc.materials.natgas.exposureValue).toBe('128702.00');
  });

  it('the tables show the safety-stock figures with their sources and the closed periods conversion covers', () => {
    const run = procura([...base, '--policy', `${dir}/policy.yaml`, '--at', '2024-02-05']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('actual conversion over 1 closed period(s): start .. 2024-01-31; 9,000.00 incurred');
    expect(run.stdout).toContain('materials: safety stock, sigma_LT = sqrt(L x sigma_d^2 + d^2 x sigma_L^2), buffer = z x sigma_LT');
    const natgas = run.stdout.split('\n').find((line) => line.startsWith('natgas ') && line.includes('cv 0.1 (16 d of history)'));
    expect(natgas).toBeDefined();
    expect(natgas).toContain('cv 0.1 (0 receipts)');
    expect(natgas).toContain('1.644854');
  });

  it('--prices on the command line, a series as CSV with one row per time x material', () => {
    const run = procura([...base, '--prices', `natgas=${dir}/natgas.csv@1`, '--from', '2024-02-01', '--to', '2024-02-07', '--every', '2d', '--csv']);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]!.split(',').slice(0, 6)).toEqual(['at', 'knownAt', 'currency', 'material', 'unit', 'standardCost']);
    expect(lines.length).toBe(1 + 4 * 2); // 02-01, 03, 05, 07 x natgas, catalyst
    expect(lines[1]!.startsWith('2024-02-01,2024-02-01,USD,natgas,MMBtu,3.5000,2.9500,2024-01-31')).toBe(true);
  });

  it('bad input: a non-zero exit and a message naming file, line and field', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'procura-cost-cli-'));
    const plan = join(scratch, 'plan.csv');
    writeFileSync(plan, 'date,product,qty\n2024-02-01,ammonia,100\n2024-02-02,urea,5\n');
    const unknown = procura(['cost', '--plant', `${dir}/plant.yaml`, '--events', `${dir}/events.jsonl`, '--plan', plan, '--at', '2024-02-05']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/plan\.csv:3: field "product": unknown product "urea"/);
    const zero = procura([...base, '--prices', `natgas=${dir}/natgas.csv@0`, '--at', '2024-02-05']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/natgas\.csv: field "factor": unit conversion factor for natgas must be greater than zero/);
    const stranger = procura([...base, '--prices', `butane=${dir}/natgas.csv`, '--at', '2024-02-05']);
    expect(stranger.status).toBe(2);
    expect(stranger.stderr).toMatch(/natgas\.csv: field "material": price file given for material "butane"/);
    const early = procura([...base, '--prices', `natgas=${dir}/natgas.csv`, '--at', '2023-06-01', '--json']);
    expect(early.status).toBe(2);
    expect(early.stdout).toBe('');
    expect(early.stderr).toMatch(/natgas\.csv:2: field "date": time 2023-06-01 is before any price data/);
  });

  it('--cadence declares a price file\'s bar length: checked against its dates, printed with the snapshot', () => {
    const inferred = procura([...base, '--prices', `natgas=${dir}/natgas.csv`, '--at', '2024-02-05']);
    expect(inferred.status).toBe(0);
    expect(inferred.stdout).toMatch(/prices\n {2}natgas: test\/costfeed\/fixtures\/natgas\.csv, \w+ \(inferred from the dates; declare cadence: to fix it\)/);
    const declared = procura([...base, '--prices', `natgas=${dir}/natgas.csv`, '--cadence', 'natgas=daily', '--at', '2024-02-05']);
    expect(declared.status).toBe(0);
    expect(declared.stdout).toMatch(/natgas: test\/costfeed\/fixtures\/natgas\.csv, daily \(declared\)/);
    const weekly = procura([...base, '--prices', `natgas=${dir}/natgas.csv`, '--cadence', 'natgas=weekly', '--at', '2024-02-05']);
    expect(weekly.status).toBe(2);
    expect(weekly.stdout).toBe('');
    expect(weekly.stderr).toMatch(/natgas\.csv:4: field "Date": 2024-01-31 is 1 day\(s\) after the previous date 2024-01-30, but the file is declared weekly/);
    const typo = procura([...base, '--prices', `natgas=${dir}/natgas.csv`, '--cadence', 'natgas=dayly', '--at', '2024-02-05']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/field "--cadence": expected material=daily\|weekly\|monthly/);
  });
});

describe('cost feed on the bundled Henry Hub series and the example plant', () => {
  it('replacement cost follows the real daily close, and a 2024 daily walk stays as-of', () => {
    const plant = loadPlant('config/ammonia-plant.yaml');
    const ledger = Ledger.inMemory(plant);
    ledger.post(loadEvents('config/ammonia-events.jsonl', plant));
    const series = loadSeries('backtests/data/natural-gas/daily.csv');
    const feed = new CostFeed({ plant, ledger, plan: loadPlan('config/ammonia-plan.csv', plant), prices: new Map([['natgas', { series, factor: new Decimal(1) }]]) });
    const day = 86_400_000;
    let previous = -Infinity;
    for (let at = parseTime('2024-01-02', {}); at <= parseTime('2024-06-28', {}); at += day) {
      const s = feed.snapshot(at);
      expect(s.knownAt).toBeLessThanOrEqual(at);
      expect(s.knownAt).toBeGreaterThanOrEqual(previous);
      previous = s.knownAt;
      // The close of a daily bar dated D is known on D+1 (market's closeKnownAt).
      const i = indexKnownAt(series, at);
      const natgas = s.materials.natgas!;
      expect(natgas.marketPriceAt).toBe(series.at[i]);
      expect(natgas.marketPrice!.toFixed()).toBe(new Decimal(String(series.close[i])).toFixed());
      // Replacement = BOM in force x (1 + scrap) x price (natgas market, power standard) + conversion.
      const bom = plant.bomAt('ammonia', at);
      let expected = plant.conversionCostAt('ammonia', at).cost;
      for (const line of bom.lines) {
        const unit = line.material === 'natgas' ? natgas.marketPrice! : plant.standardCostAt(line.material, at).cost;
        expected = expected.plus(line.qty.times(line.scrap.plus(1)).times(unit));
      }
      expect(s.products.ammonia!.replacement.toFixed(6)).toBe(expected.toFixed(6));
    }
    // Henry Hub fell below 2 USD in early 2024: replacement sits under standard on 2024-03-15.
    const march = feed.snapshot(parseTime('2024-03-15', {}));
    expect(march.products.ammonia!.replacement.lessThan(march.products.ammonia!.standard)).toBe(true);
  });
});
