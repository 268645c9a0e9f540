/**
 * `procura init [DIR] --prices FILE`: scaffolds a desk that runs as written: a plant with one
 * material (priced by the user's CSV) and one product, a backtest scenario on that CSV with
 * the date range, price level and moving-average windows read from the file, and a live
 * config for the same plant on an exchange sandbox, each commented field by field and naming
 * its JSON Schema for editors. Existing files are never overwritten without --force, and
 * nothing is written unless every file can be.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Decimal } from '../../core/decimal.js';
import { InputError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import { formatDate } from '../../core/time.js';
import { CADENCES, loadSeries, type PriceSeries } from '../../market/series.js';
import { action } from '../run.js';

interface InitOptions {
  prices: string;
  column?: string;
  material: string;
  unit: string;
  product: string;
  symbol: string;
  force?: boolean;
}

const ID = /^[a-z][a-z0-9-]{0,39}$/;

export function register(program: Command): void {
  program
    .command('init')
    .description('scaffold a plant, a backtest scenario on your price CSV and a live config, commented, that run as written')
    .argument('[dir]', 'folder to write into (created if missing)', '.')
    .requiredOption('--prices <file>', 'your price CSV (Date,Price; OHLCV; or a wide table with --column)')
    .option('--column <name>', 'price column of a wide table')
    .option('--material <id>', 'id of the material the prices are for', 'material')
    .option('--unit <unit>', 'the unit the prices are quoted per (MMBtu, t, kg, bbl...)', 'unit')
    .option('--product <id>', 'id of the product made from it', 'product')
    .option('--symbol <symbol>', 'exchange symbol for the live config (ccxt spelling)', 'PAXG/USDT')
    .option('--force', 'overwrite existing files')
    .action(action((dir: string, options: InitOptions) => runInit(dir, options)));
}

function runInit(dir: string, options: InitOptions): void {
  for (const [flag, value] of [['--material', options.material], ['--product', options.product]] as const) {
    if (!ID.test(value)) throw new InputError(`expected an id of lower-case letters, digits and -, got ${JSON.stringify(value)}`, { field: flag });
  }
  if (options.material === options.product) throw new InputError('the material and the product need different ids', { field: '--product' });
  const series = loadSeries(options.prices, options.column === undefined ? {} : { column: options.column });
  if (series.length < 60) throw new InputError(`needs at least 60 price rows for a backtest, has ${series.length}`, { file: options.prices });
  const target = resolve(dir);
  const files = scaffold(series, target, options);
  const existing = Object.keys(files).filter((name) => existsSync(join(target, name)));
  if (existing.length > 0 && options.force !== true) {
    throw new InputError(`would overwrite ${existing.join(', ')} (use --force to replace them)`, { file: dir });
  }
  for (const [name, text] of Object.entries(files)) writeFileAtomic(join(target, name), text);
  const near = relative(process.cwd(), target);
  const shown = near === '' ? '.' : near.startsWith('..') ? target : near;
  process.stdout.write(`wrote ${Object.keys(files).map((name) => join(shown, name)).join(', ')}\n\n`);
  process.stdout.write(`next:\n  procura backtest ${join(shown, 'scenario.yaml')}\n  procura live --config ${join(shown, 'live.yaml')} --paper --once\n`);
}

/** Windows and horizons that suit the file's bar interval. */
function cadence(series: PriceSeries): { fast: number; slow: number; trendBars: number; ma: 'ema' | 'sma'; maxCoverDays: number; orderUpToDays: number; cron: string; leadTimeDays: number } {
  switch (series.interval) {
    case 'monthly':
    case 'yearly':
      return { fast: 3, slow: 12, trendBars: 2, ma: 'sma', maxCoverDays: 150, orderUpToDays: 30, cron: '0 9 1 * *', leadTimeDays: 30 };
    case 'weekly':
      return { fast: 4, slow: 13, trendBars: 2, ma: 'ema', maxCoverDays: 60, orderUpToDays: 14, cron: '0 9 * * 1', leadTimeDays: 7 };
    default:
      return { fast: 10, slow: 40, trendBars: 5, ma: 'ema', maxCoverDays: 30, orderUpToDays: 7, cron: '0 9 * * 1', leadTimeDays: 3 };
  }
}

/** A price rounded to 3 significant digits, as decimal text. */
function round3(value: number): string {
  return new Decimal(value.toPrecision(3)).toFixed();
}

function scaffold(series: PriceSeries, target: string, options: InitOptions): Record<string, string> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  const schemas = relative(target, join(existsSync(join(root, 'schemas')) ? root : join(root, '..'), 'schemas')).split('\\').join('/');
  const pricesPath = relative(target, resolve(options.prices)).split('\\').join('/');
  const n = series.length;
  const recent = Array.from(series.close.subarray(Math.max(0, n - 250))).filter((v) => v > 0).sort((a, b) => a - b);
  const median = recent[Math.floor(recent.length / 2)] ?? series.close[n - 1]!;
  const standard = round3(median);
  const conversion = round3(median * 0.2);
  const targetUnitCost = round3(median * 1.5 + median * 0.2);
  const ratePerDay = 100;
  const maxOrder = round3(median * ratePerDay * 90);
  const maxDaily = round3(median * ratePerDay * 180);
  const c = cadence(series);
  // The first bar's close is known only once it closes: start on the second bar.
  const from = formatDate(series.at[1]!);
  const to = formatDate(series.at[n - 1]!);
  const m = options.material;
  const p = options.product;
  // The cadence the dates suggest, written out so the scenario declares it (and checks it on every load).
  const declared = (CADENCES as readonly string[]).includes(series.interval) ? `, cadence: ${series.interval}` : '';
  const column = `${options.column === undefined ? '' : `, column: ${JSON.stringify(options.column)}`}${declared}`;

  const plant = `# yaml-language-server: $schema=${schemas}/plant.schema.json
# The plant: what it buys (materials), what it makes (products, with their bill of materials)
# and the standard costs the backflush ledger books at. Written by procura init from
# ${pricesPath}; edit freely (docs/ledger.md explains each field).
currency: USD
backflush: purchase-completion-sale   # which events post entries: also purchase-sale, completion-sale, sale
close: writeoff                       # period close: under/over-allocated conversion cost to COGS
negativeStock: refuse                 # a completion that needs more than is on hand is refused
carrying:
  annualRate: "0.12"                  # cost of capital + insurance, per year
  storagePerUnitDay:
    ${m}: "0"                         # storage fee per ${options.unit} per day
materials:
  - id: ${m}
    unit: ${options.unit}
    standardCost: "${standard}"       # the median price of the last ${recent.length} bars in your file
products:
  - id: ${p}
    unit: unit
    conversionCost: "${conversion}"   # standard labour + overhead per ${p} unit
    bom: [ { material: ${m}, qty: "1" } ]   # ${options.unit} of ${m} per ${p} unit
`;

  const scenario = `# yaml-language-server: $schema=${schemas}/scenario.schema.json
# A backtest of the ma-procurement strategy against the jit and schedule baselines on your
# prices: procura backtest scenario.yaml (docs/backtesting.md explains each field).
name: ${p}-on-${m}
description: ${p} made from ${m}, bought on ${pricesPath}
plant: plant.yaml
from: "${from}"                        # the whole file (from its second bar); narrow it to test a period
to: "${to}"
seed: 1                                # production noise and conversion-cost noise are seeded
production:
  product: ${p}
  ratePerDay: "${ratePerDay}"          # ${p} units per day (or plan: a CSV of date,product,qty)
  noise: 0.05                          # day-to-day variation of output
  targetUnitCost: "${targetUnitCost}"  # buys ahead only below the price this implies
materials:
  ${m}:
    prices: { file: ${pricesPath}${column} }
    priceUnit: USD/${options.unit}
    factor: "1"                        # quoted units per ${options.unit}
    leadTimeDays: ${c.leadTimeDays}
    serviceLevel: "0.95"               # sizes the buffer stock
    openingCoverDays: 15               # opening inventory, in days of planned use
strategy:
  name: ma-procurement                 # or jit, schedule, ma-hedge (docs/strategies.md)
  params: { fast: ${c.fast}, slow: ${c.slow}, ma: ${c.ma}, maxCoverDays: ${c.maxCoverDays}, orderUpToDays: ${c.orderUpToDays}, trendBars: ${c.trendBars} }
schedule: { cron: "${c.cron}", timezone: UTC }   # when the desk decides (node-cron syntax)
venue: { feeBps: "5", feeFixed: "0", slippageBps: "5" }
emergency: { premium: "0.25" }         # a stockout is covered at market x 1.25
risk: { maxOrderNotional: "${maxOrder}", maxDailyNotional: "${maxDaily}", maxDeviationFromLast: "0.5" }
report: report.html                    # the HTML report, beside this file
`;

  const live = `# yaml-language-server: $schema=${schemas}/live.schema.json
# The same plant and strategy live: procura live --config live.yaml --paper --once runs one
# tick on live prices with simulated fills (no credentials). For orders on the exchange's
# sandbox, set PROCURA_BINANCE_API_KEY and PROCURA_BINANCE_SECRET in the environment (never
# in this file) and leave out --paper. docs/live.md explains each field.
name: ${p}-desk
runId: ${p}-desk                       # part of every client order id: keep it while the store is in use
exchange: binance                      # any ccxt exchange id
mode: sandbox                          # sandbox (testnet), demo, or live (real money; needs PROCURA_ALLOW_REAL_TRADING=yes)
timeframe: 1d
schedule: { cron: "5 0 * * *", timezone: UTC }   # five minutes after the daily close
store: var/${p}-live.sqlite            # the ledger and the live state (orders, fills, candles)
plant: plant.yaml
production:
  product: ${p}
  ratePerDay: "${ratePerDay}"
  from: "${to}"
  simulate: true                       # the desk posts the plan's production itself (no ERP feed)
  targetUnitCost: "${targetUnitCost}"
materials:
  ${m}:
    symbol: ${options.symbol}          # the exchange symbol that stands for ${m}: set yours
    factor: "1"                        # quoted units per ${options.unit} (live orders need 1)
    leadTimeDays: ${c.leadTimeDays}
strategy:
  name: ma-procurement
  params: { fast: ${c.fast}, slow: ${c.slow}, ma: ${c.ma}, maxCoverDays: ${c.maxCoverDays}, orderUpToDays: ${c.orderUpToDays}, trendBars: ${c.trendBars} }
risk: { maxOrderNotional: "${maxOrder}", maxDailyNotional: "${maxDaily}", maxDeviationFromLast: "0.05" }
`;
  return { 'plant.yaml': plant, 'scenario.yaml': scenario, 'live.yaml': live };
}
