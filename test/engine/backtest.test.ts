/**
 * The backtester as an executable specification: a golden result for a small scenario,
 * accounting invariants, fills no earlier than the next bar, no look-ahead (bars or costs),
 * risk denials and stockouts recorded as values, and bad scenario files refused with file,
 * line and field.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decimal, ZERO } from '../../src/core/decimal.js';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { DAY_MS, formatDate } from '../../src/core/time.js';
import { DEFAULT_KEPT_DECISIONS, runBacktest, type Trade } from '../../src/engine/backtest.js';
import { HedgeStrip } from '../../src/engine/hedge-strip.js';
import { monthOf } from '../../src/market/forward.js';
import { backtestWithBaselines, denialsOf, resultJson } from '../../src/engine/results.js';
import { loadScenario, type Scenario } from '../../src/engine/scenario.js';
import { defineStrategy, type StrategyContext } from '../../src/engine/strategy.js';
import { closeKnownAt, indexKnownAt, loadSeries } from '../../src/market/index.js';
import { getStrategy } from '../../strategies/index.js';
import jit from '../../strategies/jit.js';
import { z } from 'zod';

const FIXTURES = 'test/engine/fixtures';
const SMALL = `${FIXTURES}/small.yaml`;
const GOLDEN = 'test/engine/golden/small.json';

const work = mkdtempSync(join(tmpdir(), 'procura-backtest-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the fixtures with the scenario text changed by `edit`. */
function variant(name: string, edit: (text: string) => string, prices?: (csv: string) => string): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  copyFileSync(`${FIXTURES}/plant.yaml`, join(dir, 'plant.yaml'));
  const csv = readFileSync(`${FIXTURES}/gas-daily.csv`, 'utf8');
  writeFileSync(join(dir, 'gas-daily.csv'), prices === undefined ? csv : prices(csv));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, edit(readFileSync(SMALL, 'utf8')));
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Strips what depends on where the checkout lives. */
function portable(json: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(json)) as { scenario: { file: string } };
  copy.scenario.file = 'small.yaml';
  return copy;
}

describe('backtest: golden result for a small scenario', () => {
  it('matches the recorded result to the last digit (strategy and both baselines)', async () => {
    const result = await backtestWithBaselines(loadScenario(SMALL), { record: false });
    const actual = portable(resultJson(result));
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) {
      writeFileSync(GOLDEN, `${JSON.stringify(actual, null, 2)}\n`);
      if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`${GOLDEN} was missing and has been written; review it and run again`);
    }
    expect(actual).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });

  it('is deterministic: the same scenario and seed give the same result', async () => {
    const scenario = loadScenario(SMALL);
    const a = resultJson(await backtestWithBaselines(scenario, { record: false }));
    const b = resultJson(await backtestWithBaselines(loadScenario(SMALL), { record: false }));
    expect(b).toEqual(a);
  });
});

describe('backtest: accounting invariants', () => {
  it('balances its ledger, spends what it filled, and consumes what production and the BOM say', async () => {
    const scenario = loadScenario(SMALL);
    const run = await runBacktest(scenario);
    let trial = ZERO;
    for (const balance of run.ledgerBalances.values()) trial = trial.plus(balance);
    expect(trial.toFixed()).toBe('0');

    const gas = run.materials[0]!;
    const filled = run.trades.reduce((s, t) => s.plus(t.qty.times(t.price)), ZERO);
    const fees = run.trades.reduce((s, t) => s.plus(t.fee), ZERO);
    expect(gas.spend.toFixed()).toBe(filled.toFixed());
    expect(gas.fees.toFixed()).toBe(fees.toFixed());

    // The plant makes the noisy production, not the flat plan the desk knows.
    let made = ZERO;
    let planned = ZERO;
    for (let day = scenario.from; day <= scenario.to; day += DAY_MS) {
      made = made.plus(scenario.production.qtyOn('widget', day));
      planned = planned.plus(scenario.plan.qtyOn('widget', day));
    }
    expect(gas.consumedQty.toFixed()).toBe(made.times('10.2').toFixed());
    expect(run.unitsProduced.toFixed()).toBe(made.toFixed());
    expect(made.toFixed()).not.toBe(planned.toFixed());
    // Stock balance: opening + bought + emergency - consumed = closing (in transit included).
    expect(gas.openingQty.plus(gas.purchasedQty).plus(gas.emergencyQty).minus(gas.consumedQty).toFixed()).toBe(gas.closingQty.toFixed());
  });
});

describe('backtest: time', () => {
  it('fills no order on a bar that was already known when the order was decided', async () => {
    const scenario = loadScenario(SMALL);
    const run = await runBacktest(scenario, { decisions: Infinity });
    const series = scenario.materials[0]!.series;
    const decidedAt = new Map(run.decisions.filter((d) => d.clientOrderId !== undefined).map((d) => [d.clientOrderId!, d.at]));
    expect(run.trades.length).toBeGreaterThan(10);
    for (const trade of run.trades) {
      const decided = decidedAt.get(trade.clientOrderId);
      expect(decided).toBeDefined();
      const barIndex = Array.from(series.at).indexOf(trade.at);
      expect(barIndex).toBeGreaterThanOrEqual(0);
      // The fill bar's close became known strictly after the decision: it is a later bar.
      expect(closeKnownAt(series, barIndex)).toBeGreaterThan(decided!);
    }
  });

  it('shows a strategy only bars and costs known at its decision time, whatever comes later', async () => {
    const cutoff = Date.parse('2023-04-14T00:00:00Z');
    const seen = async (file: string): Promise<StrategyContext[]> => {
      const scenario = loadScenario(file);
      const contexts: StrategyContext[] = [];
      const spy = defineStrategy({
        name: 'spy',
        description: 'records every context, buys like jit',
        params: z.strictObject({}),
        needs: () => ({ signal: { fast: 5, slow: 20, ma: 'sma' as const }, schedule: true }),
        create: () => {
          const inner = jit.create({});
          return { name: 'spy', decide: (context) => (contexts.push(context), inner.decide(context)) };
        },
      });
      await runBacktest(scenario, { strategy: { definition: spy, params: {} } });
      return contexts;
    };
    const original = await seen(SMALL);
    // The same prices up to the cutoff, wildly different after it.
    const changed = variant('future', (text) => text, (csv) =>
      csv
        .split('\n')
        .map((line) => {
          const [date, price] = line.split(',');
          return date !== undefined && price !== undefined && /^\d{4}/.test(date) && Date.parse(`${date}T00:00:00Z`) >= cutoff - DAY_MS ? `${date},${(Number(price) * 3).toFixed(3)}` : line;
        })
        .join('\n'),
    );
    const altered = await seen(changed);
    const series = loadSeries(`${FIXTURES}/gas-daily.csv`);
    const before = original.filter((c) => c.at < cutoff);
    expect(before.length).toBeGreaterThan(40);
    for (const [i, context] of before.entries()) {
      // Identical views before the future changed: nothing after `at` leaked in.
      expect(JSON.stringify(altered[i], decimalsAsText)).toBe(JSON.stringify(context, decimalsAsText));
    }
    for (const context of original) {
      const known = indexKnownAt(series, context.at);
      expect(context.lastPrice).toBe(series.close[known]);
      expect(context.cost.knownAt).toBeLessThanOrEqual(context.at);
    }
    // And the change did reach the later decisions (the test would notice a frozen feed).
    const after = original.findIndex((c) => c.at >= cutoff + 2 * DAY_MS);
    expect(altered[after]!.lastPrice).not.toBe(original[after]!.lastPrice);
  });
});

function decimalsAsText(_key: string, value: unknown): unknown {
  if (value instanceof Map) return [...value.entries()];
  if (Decimal.isDecimal(value)) return (value as Decimal).toFixed();
  return value;
}

describe('backtest: no look-ahead in the cost-aware rules', () => {
  it.each([
    ['cost-aware', { fast: 5, slow: 20, trendBars: 2, trackBars: 5, minTrials: 5 }],
    ['layered-hedge', { fast: 5, slow: 20, months: 3 }],
  ])('%s decides every day before a changed future exactly as before (intents, causes and figures)', async (name, params) => {
    const cutoff = Date.parse('2023-04-14T00:00:00Z');
    const edit = (text: string): string =>
      text
        .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", `  name: ${name}\n  params: ${JSON.stringify(params)}`)
        .replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, months: 3, lotStep: "100", tickSize: "0.001" }');
    const decided = async (file: string): Promise<string[]> => {
      const run = await runBacktest(loadScenario(file), { decisions: Infinity });
      return run.decisions.filter((d) => d.at < cutoff).map((d) => JSON.stringify(d.intent, decimalsAsText));
    };
    const original = await decided(variant(`${name}-now`, edit));
    const changed = await decided(
      variant(`${name}-future`, edit, (csv) =>
        csv
          .split('\n')
          .map((line) => {
            const [date, price] = line.split(',');
            return date !== undefined && price !== undefined && /^\d{4}/.test(date) && Date.parse(`${date}T00:00:00Z`) >= cutoff - DAY_MS ? `${date},${(Number(price) * 3).toFixed(3)}` : line;
          })
          .join('\n'),
      ),
    );
    expect(original.length).toBeGreaterThan(10);
    expect(changed).toEqual(original);
  });
});

describe('backtest: expected outcomes are values', () => {
  it('records risk denials with the rule and the figures', async () => {
    const file = variant('denials', (text) => text.replace('maxOrderNotional: "50000"', 'maxOrderNotional: "2000"'));
    const run = await runBacktest(loadScenario(file));
    expect(run.counters.denials).toBeGreaterThan(0);
    const rows = denialsOf(run);
    expect(rows.length).toBe(run.counters.denials);
    expect(rows.every((r) => r.rule === 'order-notional' && /against limit 2000/.test(r.detail))).toBe(true);
  });

  it('records a stockout and covers it with an emergency purchase at the premium', async () => {
    const file = variant('stockout', (text) => text.replace('openingCoverDays: 5', 'openingCoverDays: 0'));
    const scenario = loadScenario(file);
    const run = await runBacktest(scenario);
    const first = run.stockouts[0]!;
    expect(formatDate(first.at)).toBe('2023-02-01');
    const need = scenario.production.qtyOn('widget', scenario.from).times('10.2');
    expect(first.qty.toFixed()).toBe(need.toFixed());
    const series = scenario.materials[0]!.series;
    const price = new Decimal(String(series.close[indexKnownAt(series, scenario.from)]!));
    expect(first.emergencyCost.toFixed()).toBe(need.times(price.times('1.5').toDecimalPlaces(6)).toFixed());
    expect(run.materials[0]!.emergencyQty.greaterThanOrEqualTo(need)).toBe(true);
    expect(run.materials[0]!.stockouts).toBe(run.stockouts.length);
  });
});

describe('backtest: bad scenario files', () => {
  const cases: [string, (text: string) => string, RegExp][] = [
    ['unknown strategy', (t) => t.replace('name: ma-procurement', 'name: ma-procurment'), /:\d+: field "strategy\.name": unknown strategy "ma-procurment"/],
    ['missing price file', (t) => t.replace('file: gas-daily.csv', 'file: no-such.csv'), /:\d+: field "materials\.gas\.prices\.file": price file not found/],
    ['slow not longer than fast', (t) => t.replace('fast: 5, slow: 20', 'fast: 20, slow: 20'), /:\d+: field "strategy\.params\.(slow|fast)": .*/],
    ['range before the data', (t) => t.replace('from: "2023-02-01"', 'from: "2022-06-01"'), /:\d+: field "from": the range starts 2022-06-01, before the first gas price is known/],
    ['range after the data', (t) => t.replace('to: "2023-06-30"', 'to: "2024-06-30"'), /:\d+: field "to": the range ends 2024-06-30, after the gas prices end/],
    ['a typo in a key', (t) => t.replace('leadTimeDays: 2', 'leadTimeDay: 2'), /:\d+: field "materials\.gas\.leadTimeDay": unknown key "leadTimeDay"; did you mean "leadTimeDays"\?/],
    ['unknown material', (t) => t.replace('  gas:\n', '  gsa:\n'), /:\d+: field "materials\.gsa": unknown material "gsa"/],
    ['malformed cron', (t) => `${t}schedule: { cron: "0 25 * * *" }\n`, /:\d+: field "schedule\.cron": invalid cron expression/],
  ];
  for (const [name, edit, message] of cases) {
    it(`refuses ${name} with file, line and field`, () => {
      const file = variant(name.replace(/\W+/g, '-'), edit);
      const error = configError(() => loadScenario(file));
      expect(error.where.file).toBe(file);
      expect(error.where.line).toBeGreaterThan(0);
      expect(error.message).toMatch(message);
    });
  }

  it('refuses a price file whose dates do not fit its declared cadence, naming the file, line and field', () => {
    const file = variant('cadence', (t) => t.replace('prices: { file: gas-daily.csv }', 'prices: { file: gas-daily.csv, cadence: weekly }'));
    let caught: unknown;
    try {
      loadScenario(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    const error = caught as InputError;
    expect(error.where.file).toBe(join(dirname(file), 'gas-daily.csv'));
    expect(error.where.line).toBe(3);
    expect(error.message).toMatch(/:3: field "[^"]+": \S+ is 1 day\(s\) after the previous date .*declared weekly.*materials\.gas\.prices\.cadence/);
  });

  it('records each price file\'s cadence and whether it was declared or inferred', () => {
    expect(loadScenario(SMALL).materials[0]!.series.intervalSource).toBe('inferred');
    const declared = loadScenario(variant('cadence-ok', (t) => t.replace('prices: { file: gas-daily.csv }', 'prices: { file: gas-daily.csv, cadence: daily }'))).materials[0]!.series;
    expect([declared.interval, declared.intervalSource]).toEqual(['daily', 'declared']);
  });

  it('points at the line of the offending field', () => {
    const file = variant('line', (t) => t.replace('name: ma-procurement', 'name: nope'));
    const error = configError(() => loadScenario(file));
    const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('name: nope')) + 1;
    expect(error.where.line).toBe(line);
  });
});

export type { Scenario };

describe('backtest: the price cap', () => {
  it('denies a discretionary buy above the cap but never a buy production needs', async () => {
    // A target unit cost of 40 USD/t caps gas at (40 - 20) / 10.2 = 1.96 USD, under every price.
    const file = variant('cap', (text) => text.replace('targetUnitCost: "60"', 'targetUnitCost: "40"'));
    // A reckless strategy: every Monday it buys ahead (discretionary, ignoring the cap); otherwise it buys like jit.
    const reckless = defineStrategy({
      name: 'reckless',
      description: 'buys ahead on Mondays whatever the price',
      params: z.strictObject({}),
      needs: () => ({}),
      create: () => {
        const inner = jit.create({});
        return {
          name: 'reckless',
          decide: (context) => {
            const need = inner.decide(context);
            if (new Date(context.at).getUTCDay() !== 1) return need;
            const ahead = { at: context.at, strategy: 'reckless', instrument: context.instrument, side: 'buy' as const, qty: new Decimal(500), reason: 'procure' as const, cause: {}, discretionary: true };
            return [...need, ahead];
          },
        };
      },
    });
    const run = await runBacktest(loadScenario(file), { strategy: { definition: reckless, params: {} }, decisions: Infinity });
    const rows = denialsOf(run);
    expect(rows.length).toBeGreaterThan(15);
    expect(rows.every((r) => r.rule === 'price-cap' && /against cap 1\.960784/.test(r.detail))).toBe(true);
    expect(run.denials.every((d) => d.intent.discretionary === true)).toBe(true);
    // Every buy for consumption went through at prices far above the cap.
    const needDecisions = run.decisions.filter((d) => d.intent.discretionary !== true && d.outcome !== 'skipped');
    expect(needDecisions.length).toBeGreaterThan(50);
    expect(needDecisions.every((d) => d.outcome === 'sent')).toBe(true);
  });
});

describe('backtest: safety stock from forecast error and the desk\'s receipts', () => {
  it('the strategy sees sigma_LT from production against the flat plan, with sigma_L from receipts once there are five', async () => {
    // leadTimeCv 0.5: until the desk has five receipts sigma_L = 0.5 x 2 days; after, the receipts
    // give sigma_L. With a price every calendar day (weekends filled with Friday's close) every
    // order fills the next day and arrives exactly 2 days after its order's day: sigma_L = 0.
    // (On weekday-only prices a Friday order fills on Monday and arrives a day late: the record sees that.)
    const everyDay = (csv: string): string => {
      const rows = csv.trim().split('\n').slice(1).map((line) => line.split(','));
      const out = ['Date,Price'];
      for (let i = 0; i < rows.length; i += 1) {
        const at = Date.parse(`${rows[i]![0]}T00:00:00Z`);
        const next = i + 1 < rows.length ? Date.parse(`${rows[i + 1]![0]}T00:00:00Z`) : at + DAY_MS;
        for (let day = at; day < next; day += DAY_MS) out.push(`${formatDate(day)},${rows[i]![1]}`);
      }
      return `${out.join('\n')}\n`;
    };
    const file = variant('sigma', (text) => text.replace('leadTimeDays: 2', 'leadTimeDays: 2\n    leadTimeCv: "0.5"'), everyDay);
    const scenario = loadScenario(file);
    const seen: { at: number; sigmaLT: Decimal; buffer: Decimal; daily: Decimal }[] = [];
    const spy = defineStrategy({
      name: 'spy',
      description: 'buys like jit and records what it saw',
      params: z.strictObject({}),
      needs: () => ({}),
      create: () => {
        const inner = jit.create({});
        return {
          name: 'spy',
          decide: (context: StrategyContext) => {
            seen.push({ at: context.at, sigmaLT: context.inventory.sigmaLeadTimeDemand, buffer: context.inventory.bufferStock, daily: context.inventory.dailyConsumption });
            return inner.decide(context);
          },
        };
      },
    });
    await runBacktest(scenario, { strategy: { definition: spy, params: {} } });
    expect(seen.length).toBeGreaterThan(100);
    // The plan is flat: d = 100 t x 10.2 = 1,020 a day.
    expect(seen.every((x) => x.daily.toFixed() === '1020')).toBe(true);
    // Every buffer is z(0.95) x sigma_LT and positive.
    expect(seen.every((x) => x.buffer.toFixed(9) === x.sigmaLT.times('1.644854').toFixed(9) && x.buffer.greaterThan(0))).toBe(true);
    // First decision: no history, no receipts: sqrt(2 x (0.1 x 1,020)^2 + 1,020^2 x 1^2).
    expect(seen[0]!.sigmaLT.toFixed(6)).toBe(Math.sqrt(2 * 102 ** 2 + 1020 ** 2).toFixed(6));
    // Late in the run: sigma_L = 0 from the receipts, sigma_d from the last 90 days of production
    // against the plan, computed here independently: sigma_LT = sigma_d x sqrt(2).
    const last = seen[seen.length - 1]!;
    const today = Math.floor(last.at / DAY_MS) * DAY_MS;
    const errors: number[] = [];
    for (let day = Math.max(scenario.from, today - 90 * DAY_MS); day < today; day += DAY_MS) {
      errors.push(scenario.production.qtyOn('widget', day).minus(scenario.plan.qtyOn('widget', day)).times('10.2').toNumber());
    }
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    const sigma = Math.sqrt(errors.reduce((a, b) => a + (b - mean) ** 2, 0) / errors.length);
    expect(errors.length).toBe(90);
    expect(last.sigmaLT.toNumber()).toBeCloseTo(sigma * Math.SQRT2, 6);
    expect(sigma).toBeGreaterThan(50); // noise 0.1 x 1,020
  });
});

describe('backtest: hedging', () => {
  it('books the hedge through the ledger and reports its P&L and effectiveness from the trades', async () => {
    const file = variant('hedge', (text) =>
      text
        .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", '  name: ma-hedge\n  params: { fast: 5, slow: 20, baseRatio: 0.5, upRatio: 0.9, downRatio: 0.2 }')
        .replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, lotStep: "100", tickSize: "0.001" }'),
    );
    const scenario = loadScenario(file);
    expect(scenario.strategy.definition.name).toBe('ma-hedge');
    const run = await runBacktest(scenario);
    const hedges = run.trades.filter((t) => t.instrument.startsWith('gas-swap:'));
    expect(hedges.some((t) => t.side === 'buy' && t.reason === 'hedge')).toBe(true);
    expect(hedges.some((t) => t.reason === 'roll-off')).toBe(true);
    // P&L from the trades alone: cash out for buys, in for sells (roll-offs included), the open positions at their last prices, fees.
    const strip = new HedgeStrip({ ...scenario.materials[0]!.hedge!.strip, index: scenario.materials[0]!.hedge!.series });
    const series = scenario.materials[0]!.series;
    for (let i = 0; i <= indexKnownAt(series, scenario.to); i += 1) strip.onIndexBar(i);
    let cash = ZERO;
    const open = new Map<string, Decimal>();
    for (const t of hedges) {
      const signed = t.side === 'buy' ? t.qty : t.qty.negated();
      cash = cash.minus(signed.times(t.price)).minus(t.fee);
      open.set(t.instrument, (open.get(t.instrument) ?? ZERO).plus(signed));
    }
    let pnl = cash;
    for (const [instrument, qty] of open) {
      if (qty.isZero()) continue;
      const month = monthOf(Date.parse(`${instrument.slice('gas-swap:'.length)}-01T00:00:00Z`));
      pnl = pnl.plus(qty.times(new Decimal(String(strip.price(month)))));
    }
    const gas = run.materials[0]!;
    expect(gas.hedgePnl.toFixed(6)).toBe(pnl.toFixed(6));
    expect(run.hedgePnl.toFixed(6)).toBe(pnl.toFixed(6));
    // The ledger agrees: hedge gains (a credit balance) plus trading fees equal the P&L with the sign flipped, to the
    // cent per entry (the ledger rounds each posting to the cent; these 90-odd trades and monthly marks stay within 5 cents).
    const gains = run.ledgerBalances.get('hedge_gains_losses') ?? ZERO;
    const fees = run.ledgerBalances.get('trading_fees') ?? ZERO;
    expect(gains.plus(fees).negated().minus(pnl).abs().lessThanOrEqualTo('0.05')).toBe(true);
    // Dollar offset against the departure from standard, and none for a run that never hedged.
    const overrun = gas.spend.plus(gas.fees).plus(gas.emergencySpend).plus(gas.carryingCost).plus(gas.openingQty.times(gas.openingPrice)).minus(gas.closingQty.times(gas.closingPrice)).minus(gas.consumedQty.times('3'));
    expect(gas.hedgeEffectiveness!.toFixed(12)).toBe(pnl.minus(gas.hedgeFinancing).dividedBy(overrun).toFixed(12));
    const jitRun = await runBacktest(scenario, { strategy: { definition: jit as never, params: {} } });
    expect(jitRun.materials[0]!.hedgeEffectiveness).toBeNull();
  });

  it('refuses a hedge intent from a strategy whose needs() do not declare hedging (its hedge contracts get no bars)', async () => {
    const file = variant('undeclared-hedge', (text) => text.replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, lotStep: "100", tickSize: "0.001" }'));
    const scenario = loadScenario(file);
    const hedger = getStrategy('static-hedge')!;
    const undeclared = defineStrategy({
      name: 'undeclared-hedger',
      description: 'static-hedge without saying it hedges',
      params: z.strictObject({}),
      needs: () => ({}),
      create: () => hedger.create(hedger.params.parse({})),
    });
    await expect(runBacktest(scenario, { strategy: { definition: undeclared, params: {} } })).rejects.toThrow(/sent a hedge intent but its needs\(\) do not declare hedging/);
  });
});

describe('backtest: a constant-ratio hedge on a flat market pays or earns the carry', () => {
  /** Gas at 3.000 every weekday, static-hedge at 0.5 on three monthly swaps, no fees, with the carry given. */
  const flat = (name: string, carry: string, marginRate: string): string =>
    variant(
      name,
      (text) =>
        text
          .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", '  name: static-hedge\n  params: { ratio: 0.5 }')
          .replace('venue: { feeBps: "10", feeFixed: "5", slippageBps: "10" }', 'venue: { feeBps: "0", feeFixed: "0", slippageBps: "0" }')
          .replace('horizonDays: 20', `horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, lotStep: "1", tickSize: "0.000001", months: 3, carry: ${carry}, marginRate: "${marginRate}" }`),
      (csv) => csv.split('\n').map((line, i) => (i === 0 || line.trim() === '' ? line : `${line.split(',')[0]},3.000`)).join('\n'),
    );

  /**
   * Each hedge buy's price, worked by hand: 3 x (1 + c x days from its bar to mid-month / 365)
   * before the month; in its own month the fixings so far and the spot for the rest, all 3.
   */
  const handPrice = (t: Trade, c: number): number => {
    const month = Date.parse(`${t.instrument.slice('gas-swap:'.length)}-01T00:00:00Z`);
    if (monthOf(t.at) === monthOf(month)) return 3;
    const tau = (month + Math.round((365.25 / 24) * DAY_MS) - t.at) / DAY_MS;
    return 3 * (1 + c * (tau / 365));
  };

  it('in contango (financing 5 %) the hedge loses exactly the carry it bought, and pays financing on its negative mark', async () => {
    const scenario = loadScenario(flat('contango', '{ financingRate: "0.05" }', '0.05'));
    const run = await runBacktest(scenario);
    const buys = run.trades.filter((t) => t.reason === 'hedge');
    expect(buys.length).toBeGreaterThan(3);
    for (const t of buys) expect(t.price.toNumber()).toBeCloseTo(handPrice(t, 0.05), 6);
    // Every swap settles at 3 (all fixings are 3): the loss is the premium paid over spot, on what settled, plus the open contracts' decay.
    const gas = run.materials[0]!;
    expect(gas.hedgePnl.isNegative()).toBe(true);
    const settled = run.trades.filter((t) => t.reason === 'roll-off');
    expect(settled.every((t) => t.price.equals(3))).toBe(true);
    const paid = buys.reduce((s, t) => s.plus(t.qty.times(t.price.minus(3))), ZERO);
    expect(gas.hedgePnl.negated().lessThanOrEqualTo(paid)).toBe(true);
    expect(gas.hedgePnl.negated().greaterThan(paid.times('0.5'))).toBe(true);
    expect(gas.hedgeFinancing.greaterThan(0)).toBe(true);
  });

  it('in backwardation (convenience yield 10 % over financing 5 %) the same hedge earns it, and its positive mark costs no financing', async () => {
    const scenario = loadScenario(flat('backwardation', '{ financingRate: "0.05", convenienceYield: "0.10" }', '0.05'));
    const run = await runBacktest(scenario);
    const buys = run.trades.filter((t) => t.reason === 'hedge');
    for (const t of buys) expect(t.price.toNumber()).toBeCloseTo(handPrice(t, -0.05), 6);
    const gas = run.materials[0]!;
    expect(gas.hedgePnl.greaterThan(0)).toBe(true);
    const earned = buys.reduce((s, t) => s.plus(t.qty.times(new Decimal(3).minus(t.price))), ZERO);
    expect(gas.hedgePnl.lessThanOrEqualTo(earned)).toBe(true);
    expect(gas.hedgeFinancing.isZero()).toBe(true);
  });
});

describe('backtest: coarse data, never silently wrong', () => {
  /** The small scenario on a monthly series (month-start labels, the synthetic gas averaged per month). */
  const monthly = (leadTimeDays: number): string =>
    variant(
      `monthly-${leadTimeDays}`,
      (text) =>
        text
          .replace('leadTimeDays: 2', `leadTimeDays: ${leadTimeDays}`)
          .replace('from: "2023-02-01"', 'from: "2023-03-01"')
          .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", '  name: jit'),
      (csv) => {
        const rows = csv.trim().split('\n').slice(1).map((line) => line.split(','));
        const months = new Map<string, number[]>();
        for (const [date, price] of rows) months.set(date!.slice(0, 7), [...(months.get(date!.slice(0, 7)) ?? []), Number(price)]);
        return `Date,Price\n${[...months].map(([m, p]) => `${m}-01,${(p.reduce((a, b) => a + b, 0) / p.length).toFixed(3)}`).join('\n')}\n`;
      },
    );

  it('refuses a lead time the data cadence cannot meet, naming the field', () => {
    const error = configError(() => loadScenario(monthly(5)));
    expect(error.message).toMatch(/field "materials\.gas\.leadTimeDays"/);
    expect(error.message).toMatch(/5 days is shorter than the monthly price series can meet.*at least 31/);
    expect(() => loadScenario(monthly(31))).not.toThrow();
  });

  it('ends a run with many stockouts or skipped orders with a warning naming the likely cause', async () => {
    // A lot step of 100,000 MMBtu against about 1,000 a day: jit's orders round to zero, production runs out.
    const file = variant('lots', (text) => text.replace('lotStep: "100"', 'lotStep: "100000"').replace('openingCoverDays: 5', 'openingCoverDays: 1'));
    const run = await runBacktest(loadScenario(file), { strategy: { definition: jit as never, params: {} } });
    const kinds = run.warnings.map((w) => w.kind);
    expect(kinds).toEqual(['stockouts', 'skipped-orders']);
    const [stockouts, skipped] = run.warnings;
    expect(stockouts!.share).toBeGreaterThan(0.02);
    expect(stockouts!.count).toBe(run.materials[0]!.stockouts);
    expect(stockouts!.message).toMatch(/gas ran out of stock on \d+ of 150 days .*likely cause: the lot step \(100000 MMBtu\) is larger than the lead-time demand/);
    expect(skipped!.message).toMatch(/orders were skipped .*likely cause: the lot step \(100000 MMBtu\) rounds small orders down to zero/);
    // The bundled small scenario stays quiet.
    expect((await runBacktest(loadScenario(SMALL))).warnings).toEqual([]);
  });

  it('names gaps in a daily series longer than the lead time as the cause', async () => {
    // Three weeks of March without prices: orders wait for the next bar.
    const file = variant('gaps', (text) => text, (csv) => csv.split('\n').filter((line) => !/^2023-03-(0[6-9]|1\d|2[0-6])/.test(line)).join('\n'));
    const run = await runBacktest(loadScenario(file), { strategy: { definition: jit as never, params: {} } });
    expect(run.warnings[0]?.message).toMatch(/gaps of up to 2[0-9] days .*longer than the 2-day lead time/);
  });
});

describe('backtest: what a result keeps', () => {
  it('keeps the latest 20 decisions by default, and every figure of a run that keeps them all', async () => {
    const scenario = loadScenario(SMALL);
    const jitStrategy = { definition: jit as never, params: {} };
    for (const strategy of [undefined, jitStrategy]) {
      const all = await runBacktest(scenario, { record: true, decisions: Infinity, ...(strategy === undefined ? {} : { strategy }) });
      const kept = await runBacktest(scenario, { record: true, ...(strategy === undefined ? {} : { strategy }) });
      expect(all.decisions.length).toBeGreaterThan(DEFAULT_KEPT_DECISIONS);
      expect(kept.decisions.length).toBe(DEFAULT_KEPT_DECISIONS);
      const text = (value: unknown): string => JSON.stringify(value, decimalsAsText);
      expect(text(kept.decisions)).toBe(text(all.decisions.slice(-DEFAULT_KEPT_DECISIONS)));
      // The store that lets finished orders go (MemoryOrderStore forgetFinished) changes nothing else.
      expect(text({ ...kept, decisions: [] })).toBe(text({ ...all, decisions: [] }));
    }
  });
});
