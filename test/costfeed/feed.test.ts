import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Decimal, ZERO } from '../../src/core/decimal.js';
import { InputError, ProcuraError } from '../../src/core/errors.js';
import { DAY_MS, parseTime } from '../../src/core/time.js';
import { CostFeed, loadCostOptions, loadPlan, planFromRate, type CostFeedOptions } from '../../src/costfeed/index.js';
import { Ledger, loadEvents, loadPlant, type LedgerEvent } from '../../src/ledger/index.js';
import { loadSeries } from '../../src/market/series.js';

const dir = 'test/costfeed/fixtures';
const scratch = mkdtempSync(join(tmpdir(), 'procura-costfeed-'));
const t = (s: string): number => parseTime(s, {});
const d = (s: string | number): Decimal => new Decimal(s);

function fixture(): CostFeedOptions & { ledger: Ledger } {
  const plant = loadPlant(`${dir}/plant.yaml`);
  const ledger = Ledger.inMemory(plant);
  ledger.post(loadEvents(`${dir}/events.jsonl`, plant));
  const options = loadCostOptions(`${dir}/policy.yaml`, plant);
  return {
    plant,
    ledger,
    plan: loadPlan(`${dir}/plan.csv`, plant),
    prices: options.prices,
    horizonDays: 30,
    actualWindowDays: 90,
    policy: options.policy,
    hedgeInstruments: options.hedgeInstruments,
    onOrder: (material) => options.onOrder.get(material) ?? ZERO,
  };
}

function errorOf(fn: () => unknown): ProcuraError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProcuraError) return error;
    throw error;
  }
  throw new Error('expected a ProcuraError');
}

describe('cost feed: worked example (fixtures/plant.yaml, events.jsonl)', () => {
  // Plant: ammonia = 33 MMBtu natgas with 2 % scrap at 3.50 + 0.5 kg catalyst at 12.00 + 95 conversion.
  // Events: natgas 10,000 at 3.80 + 50 fee (price variance), catalyst 200 at 12.50, conversion 9,000
  // (known at the close, 2024-02-03), 100 t completed 01-20, natgas counted 6,600 against a book of
  // 6,634 on 01-31, January closed 01-31 (known 02-03), 5 NG contracts hedged (10,000 MMBtu each).
  const snap = new CostFeed(fixture()).snapshot(t('2024-02-05'));
  const ammonia = snap.products.ammonia!;
  const natgas = snap.materials.natgas!;
  const catalyst = snap.materials.catalyst!;

  it('standard: BOM x (1 + scrap) x standard + conversion', () => {
    // 33 x 1.02 x 3.50 = 117.81; 0.5 x 12 = 6; + 95 = 218.81
    expect(ammonia.standard.toFixed(2)).toBe('218.81');
  });

  it('actual: window purchase cost with fees and price variance, count usage variance, closed-period conversion', () => {
    // natgas actual unit = (38,000 + 50) / 10,000 = 3.805; usage factor = (3,366 + 34) / 3,366;
    // 33.66 x 3,400 / 3,366 = 34 MMBtu actually used per t, x 3.805 = 129.37;
    // catalyst 0.5 x 12.50 = 6.25; conversion 95 x 9,000 / 9,500 = 90. Total 225.62.
    expect(natgas.actualUnitCost.toFixed(4)).toBe('3.8050');
    expect(natgas.usageFactor.times(3366).toFixed(6)).toBe('3400.000000');
    expect(ammonia.actualConversion.toFixed(2)).toBe('90.00');
    expect(ammonia.actual.toFixed(2)).toBe('225.62');
    expect(catalyst.actualUnitCost.toFixed(2)).toBe('12.50');
  });

  it('replacement: BOM x market price (standard where unpriced) + standard conversion', () => {
    // 33.66 x 2.90 = 97.614; + 6 + 95 = 198.614
    expect(natgas.marketPrice!.toFixed(2)).toBe('2.90');
    expect(ammonia.replacement.toFixed(2)).toBe('198.61');
    expect(catalyst.marketPrice).toBeNull();
  });

  it('carrying cost per unit-day and accrued on the stock held', () => {
    // natgas: 3.50 x 0.18 / 365 + 0.002; held +10,000 for 34 days, -3,366 for 16, -34 for 5:
    // 285,974 unit-days x 0.00372602739... = 1,065.55
    expect(natgas.carryingPerUnitDay.toFixed(8)).toBe('0.00372603');
    expect(natgas.carryingAccrued.toFixed(2)).toBe('1065.55');
    expect(natgas.carryingPerDay.toFixed(2)).toBe(d(6600).times(d('0.63').dividedBy(365).plus('0.002')).toFixed(2));
    // catalyst: 200 x 34 - 50 x 16 = 6,000 unit-days x 12 x 0.18 / 365 = 35.51
    expect(catalyst.carryingAccrued.toFixed(2)).toBe('35.51');
    // ammonia: 218.81 x 0.18 / 365 a unit-day; 100 t held 16 days = 172.65
    expect(ammonia.carryingPerUnitDay.toFixed(8)).toBe('0.10790630');
    expect(ammonia.carryingAccrued.toFixed(2)).toBe('172.65');
  });

  it('inventory position: consumption, buffer, reorder point, cover, exposure', () => {
    // Plan: 100 t a day -> 3,366 MMBtu natgas, 50 kg catalyst a day.
    expect(natgas.onHand.toFixed()).toBe('6600');
    expect(natgas.dailyConsumption.toFixed()).toBe('3366');
    // 16 days of history (from the first completion, 01-20) is under the 30-day minimum:
    // sigma_d = demandCv 0.1 x 3,366, sigma_L = leadTimeCv 0.1 x 7 days (built-in defaults).
    expect([natgas.sigmaDailySource, natgas.sigmaDailyHistoryDays, natgas.sigmaLeadTimeSource]).toEqual(['cv', 16, 'cv']);
    expect(natgas.sigmaDailyConsumption.toFixed()).toBe('336.6');
    expect(natgas.sigmaLeadTimeDays.toFixed()).toBe('0.7');
    expect(natgas.leadTimeDays.toFixed()).toBe('7'); // from the plant file
    expect(natgas.serviceLevel.toFixed()).toBe('0.95'); // built-in default
    // sqrt(7 x 336.6^2 + 3,366^2 x 0.7^2) = 2,530.78...; x 1.644854; + 3,366 x 7
    const sigmaLT = Math.sqrt(7 * 336.6 ** 2 + 3366 ** 2 * 0.49);
    expect(natgas.sigmaLeadTimeDemand.toFixed(6)).toBe(sigmaLT.toFixed(6));
    expect(natgas.bufferStock.toFixed(4)).toBe(d(sigmaLT).times('1.644854').toFixed(4));
    expect(natgas.reorderPoint.toFixed(4)).toBe(d(23562).plus(natgas.bufferStock).toFixed(4));
    expect(natgas.daysOfCover!.toFixed(4)).toBe('1.9608'); // 6,600 / 3,366
    expect(natgas.hedged.toFixed()).toBe('50000'); // 5 NG x 10,000
    // 30 x 3,366 = 100,980 - 6,600 - 50,000 = 44,380, x 2.90 = 128,702
    expect(natgas.exposureQty.toFixed()).toBe('44380');
    expect(natgas.exposureValue.toFixed(2)).toBe('128702.00');
    // catalyst from the options file: lead 10, 98 %, 20 on order: cover (150 + 20) / 50 = 3.4
    expect(catalyst.leadTimeDays.toFixed()).toBe('10');
    expect(catalyst.z.toFixed(3)).toBe('2.054');
    expect(catalyst.daysOfCover!.toFixed()).toBe('3.4');
    expect(catalyst.exposureQty.toFixed()).toBe('1330'); // 1,500 - 150 - 20
  });

  it('JSON form: decimal strings rounded at the boundary', () => {
    const json = JSON.parse(JSON.stringify(snap)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(json.at).toBe('2024-02-05');
    expect(json.products.ammonia.actual).toBe('225.6200');
    expect(json.materials.natgas.carryingAccrued).toBe('1065.55');
    expect(json.materials.catalyst.marketPrice).toBeNull();
    expect(typeof json.materials.natgas.reorderPoint).toBe('string');
  });
});

describe('cost feed: as of knownAt', () => {
  it('a backtest-style query cannot see a cost before it was posted', () => {
    const feed = new CostFeed(fixture());
    // Conversion of January (9,000) and the close of 01-31 are both known only on 02-03.
    const before = feed.snapshot(t('2024-02-02'));
    expect(before.conversionClosedAt).toBeNull();
    expect(before.products.ammonia!.actualConversion.toFixed(2)).toBe('95.00'); // standard: nothing closed yet
    expect(before.knownAt).toBeLessThanOrEqual(t('2024-02-02'));
    expect(before.knownAt).toBe(t('2024-02-01')); // the hedge and the 02-01 price bar
    const justBefore = feed.snapshot(t('2024-02-03') - 1);
    expect(justBefore.products.ammonia!.actualConversion.toFixed(2)).toBe('95.00');
    const after = feed.snapshot(t('2024-02-03'));
    expect(after.knownAt).toBe(t('2024-02-03'));
    expect(after.conversionClosedAt).toBe(t('2024-01-31'));
    expect(after.products.ammonia!.actualConversion.toFixed(2)).toBe('90.00');
  });

  it('never uses a figure known after T, and stepping forward equals building fresh at every T', () => {
    const stepping = new CostFeed(fixture());
    for (let at = t('2024-01-02'); at <= t('2024-03-01'); at += DAY_MS / 2) {
      const step = stepping.snapshot(at);
      const fresh = new CostFeed(fixture()).snapshot(at);
      expect(step.knownAt).toBeLessThanOrEqual(at);
      expect(JSON.stringify(step)).toBe(JSON.stringify(fresh));
    }
    // Going back rebuilds and still agrees.
    expect(JSON.stringify(stepping.snapshot(t('2024-01-25')))).toBe(JSON.stringify(new CostFeed(fixture()).snapshot(t('2024-01-25'))));
  });

  it('reads an in-memory ledger column by column with the same figures as reading its entries, and a kept snapshot keeps its own', () => {
    const columns = new CostFeed(fixture());
    const options = fixture();
    const ledger = options.ledger;
    // Not a Ledger: the feed reads entriesAfter and entry (the path for other sources).
    const entries = new CostFeed({ ...options, ledger: { entriesAfter: (seq) => ledger.entriesAfter(seq), entry: (seq) => ledger.entry(seq) } });
    const kept: { at: number; json: string; snapshot: ReturnType<CostFeed['snapshot']> }[] = [];
    for (let at = t('2024-01-02'); at <= t('2024-03-01'); at += DAY_MS) {
      const a = columns.snapshot(at);
      expect(JSON.stringify(a)).toBe(JSON.stringify(entries.snapshot(at)));
      if (kept.length < 40) kept.push({ at, json: JSON.stringify(new CostFeed(fixture()).snapshot(at)), snapshot: a });
    }
    // Figures computed when read (accrued carrying, actual costs) are those of the snapshot's time, read after the feed moved on.
    for (const k of kept) expect(JSON.stringify(k.snapshot)).toBe(k.json);
  });

  it('picks up entries posted after it was built, late-known ones included', () => {
    const options = fixture();
    const feed = new CostFeed(options);
    const first = feed.snapshot(t('2024-02-05'));
    const plant = options.plant;
    const late: LedgerEvent = { type: 'purchase', at: t('2024-02-06'), knownAt: t('2024-02-10'), material: 'natgas', qty: d(1000), unitPrice: d('4.00'), paidFrom: 'accounts_payable' };
    options.ledger.post([late]);
    expect(plant.materials.has('natgas')).toBe(true);
    const hidden = feed.snapshot(t('2024-02-08'));
    expect(hidden.materials.natgas!.onHand.toFixed()).toBe(first.materials.natgas!.onHand.toFixed());
    expect(hidden.materials.natgas!.actualUnitCost.toFixed(4)).toBe('3.8050');
    const seen = feed.snapshot(t('2024-02-10'));
    expect(seen.materials.natgas!.onHand.toFixed()).toBe('7600');
    // (38,050 + 4,000) / 11,000
    expect(seen.materials.natgas!.actualUnitCost.toFixed(6)).toBe(d(42050).dividedBy(11000).toFixed(6));
    // Carried from 02-06 (its at), not from when it became known: 4 days x 1,000 more unit-days.
    const rate = d('0.63').dividedBy(365).plus('0.002');
    expect(seen.materials.natgas!.carryingAccrued.minus(hidden.materials.natgas!.carryingAccrued).toFixed(2)).toBe(
      rate.times(d(6600).times(2).plus(d(1000).times(4))).toFixed(2),
    );
  });
});

describe('cost feed: bad input', () => {
  it('a price file for a material the plant does not have names the file and field', () => {
    const options = fixture();
    const series = loadSeries(`${dir}/natgas.csv`);
    const error = errorOf(() => new CostFeed({ ...options, prices: new Map([['butane', { series, factor: d(1) }]]) }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/natgas\.csv: field "material": price file given for material "butane"/);
  });

  it('a unit conversion of zero is refused (API and options file, with line)', () => {
    const options = fixture();
    const series = loadSeries(`${dir}/natgas.csv`);
    expect(errorOf(() => new CostFeed({ ...options, prices: new Map([['natgas', { series, factor: d(0) }]]) })).message).toMatch(/field "factor": .*greater than zero/);
    const plant = options.plant;
    const text = readFileSync(`${dir}/policy.yaml`, 'utf8').replace('factor: "1"', 'factor: "0"');
    const file = join(scratch, 'policy-zero.yaml');
    writeText(file, text);
    const error = errorOf(() => loadCostOptions(file, plant));
    expect(error.message).toMatch(/policy-zero\.yaml:8: field "pricing\[0\]\.factor": factor must be greater than zero/);
  });

  it('a price mapping for an unknown material in the options file names file, line and field', () => {
    const plant = loadPlant(`${dir}/plant.yaml`);
    const file = join(scratch, 'policy-unknown.yaml');
    writeText(file, readFileSync(`${dir}/policy.yaml`, 'utf8').replace('{ material: natgas, series', '{ material: butane, series'));
    expect(errorOf(() => loadCostOptions(file, plant)).message).toMatch(/policy-unknown\.yaml:8: field "pricing\[0\]\.material": price source for unknown material "butane"/);
  });

  it('a time before any price data names the price file, its first line and the field', () => {
    const error = errorOf(() => new CostFeed(fixture()).snapshot(t('2023-12-31')));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/natgas\.csv:2: field "date": time 2023-12-31 is before any price data for natgas \(the first bar, 2024-01-01, is known from 2024-01-02\)/);
  });

  it('with no prices, a time before the first ledger figure names the event file and line', () => {
    const options = fixture();
    const error = errorOf(() => new CostFeed({ ...options, prices: new Map() }).snapshot(t('2024-01-01')));
    expect(error.message).toMatch(/events\.jsonl:1: field "knownAt": time 2024-01-01 is before any data/);
  });

  it('an unknown policy material or a bad service level is refused', () => {
    const options = fixture();
    expect(errorOf(() => new CostFeed({ ...options, policy: { butane: { leadTimeDays: 3 } } })).message).toMatch(/field "policy.butane"/);
    expect(errorOf(() => new CostFeed({ ...options, policy: { natgas: { serviceLevel: '1.2' } } })).message).toMatch(/policy.natgas.serviceLevel.*below 1/);
  });
});

describe('production plan', () => {
  const plant = loadPlant(`${dir}/plant.yaml`);
  const parse = (text: string) => errorOf(() => loadPlanText(text));
  const loadPlanText = (text: string) => {
    const file = join(scratch, 'plan.csv');
    writeText(file, text);
    return loadPlan(file, plant);
  };

  it('loads rows, fills missing days with zero, accepts CRLF and header case', () => {
    const plan = loadPlanText('Date,Product,Quantity\r\n2024-01-01,ammonia,100\r\n2024-01-03,ammonia,80.5\r\n');
    expect(plan.dayCount).toBe(3);
    expect(plan.qtyOn('ammonia', t('2024-01-02')).toFixed()).toBe('0');
    expect(plan.qtyOn('ammonia', t('2024-01-03')).toFixed()).toBe('80.5');
  });

  it('refuses an unknown product with file, line and field', () => {
    expect(parse('date,product,qty\n2024-01-01,ammonia,1\n2024-01-02,urea,5\n').message).toMatch(/plan\.csv:3: field "product": unknown product "urea"/);
  });

  it('refuses unsorted dates with file, line and field', () => {
    expect(parse('date,product,qty\n2024-01-02,ammonia,1\n2024-01-01,ammonia,5\n').message).toMatch(/plan\.csv:3: field "date": plan dates must not decrease/);
  });

  it('refuses a negative or malformed quantity and a duplicate day', () => {
    expect(parse('date,product,qty\n2024-01-02,ammonia,-1\n').message).toMatch(/:2: field "qty": must not be negative/);
    expect(parse('date,product,qty\n2024-01-02,ammonia,abc\n').message).toMatch(/:2: field "qty"/);
    expect(parse('date,product,qty\n2024-01-02,ammonia,1\n2024-01-02,ammonia,2\n').message).toMatch(/:3: field "product": ammonia is planned twice/);
  });

  it('a generated plan is the same for the same seed, different for another, never negative', () => {
    const options = { product: 'ammonia', from: t('2024-01-01'), days: 365, ratePerDay: d(100), noise: 0.3, seed: 7 };
    const a = planFromRate(options, plant);
    const b = planFromRate(options, plant);
    const c = planFromRate({ ...options, seed: 8 }, plant);
    expect(a.rows.map((r) => r.qty.toFixed())).toEqual(b.rows.map((r) => r.qty.toFixed()));
    expect(a.rows.map((r) => r.qty.toFixed())).not.toEqual(c.rows.map((r) => r.qty.toFixed()));
    expect(a.rows.every((r) => !r.qty.isNegative())).toBe(true);
    const mean = a.rows.reduce((s, r) => s.plus(r.qty), d(0)).dividedBy(365).toNumber();
    expect(Math.abs(mean - 100)).toBeLessThan(5);
  });
});

function writeText(file: string, text: string): void {
  writeFileSync(file, text);
}
