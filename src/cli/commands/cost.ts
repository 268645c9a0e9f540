/**
 * `procura cost --plant P --events E --plan F --prices material=file[:column][@factor] ...
 *   [--policy file.yaml] [--at T | --from T --to T --every 1d] [--json | --csv]`
 *
 * Replays the events into an in-memory ledger, builds the cost feed and prints one snapshot
 * as tables (or JSON), or a time series with one row per time x material (table, CSV or a
 * JSON array of snapshots). `--prices natgas=backtests/data/natural-gas/daily.csv` prices a
 * material from a close-only or OHLCV file; `:column` picks a column of a wide table and
 * `@factor` converts the quoted price to the material's unit (default 1).
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { Decimal, ZERO } from '../../core/decimal.js';
import { InputError } from '../../core/errors.js';
import { didYouMean } from '../../core/did-you-mean.js';
import { DAY_MS, formatTime, parseTime, type EpochMs } from '../../core/time.js';
import { Ledger, loadEvents, loadPlant } from '../../ledger/index.js';
import { CADENCES, cadenceLabel, loadSeries, type Cadence } from '../../market/series.js';
import {
  CostFeed,
  MATERIAL_FIELDS,
  formatMaterialField,
  formatProductField,
  loadCostOptions,
  loadPlan,
  type CostSnapshot,
  type MaterialPriceInput,
} from '../../costfeed/index.js';
import { action, formatTable as plainTable, printJson } from '../run.js';
import { groupThousands } from '../format.js';

/** Tables in the one number format: thousands separators in every numeric cell. */
function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return plainTable(header, rows.map((row) => row.map(groupThousands)));
}

interface CostCliOptions {
  plant: string;
  events?: string;
  plan: string;
  prices: string[];
  cadence: string[];
  policy?: string;
  onOrder: string[];
  horizon?: string;
  window?: string;
  at?: string;
  from?: string;
  to?: string;
  every?: string;
  json?: boolean;
  csv?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command('cost')
    .description('the cost feed as of a time: unit costs (standard, actual, replacement), carrying cost, inventory position and exposure')
    .requiredOption('--plant <file>', 'plant file (YAML)')
    .option('--events <file>', 'ledger events (JSON Lines); none means an empty ledger')
    .requiredOption('--plan <file>', 'production plan CSV: date,product,qty')
    .option('--prices <material=file[:column][@factor]>', 'price series of a material (repeatable)', collect, [])
    .option('--cadence <material=daily|weekly|monthly>', 'bar length of a --prices file, checked against its dates (repeatable; default: inferred and printed)', collect, [])
    .option('--policy <file>', 'cost feed options YAML: horizon, window, lead times, service levels, pricing, on order')
    .option('--on-order <material=qty>', 'quantity on order (repeatable; default 0)', collect, [])
    .option('--horizon <days>', 'forecast horizon in days (default 30)')
    .option('--window <days>', 'trailing window for actual costs in days (default 90)')
    .option('--at <time>', 'one snapshot at this time (default: the latest figure known)')
    .option('--from <time>', 'first time of a series')
    .option('--to <time>', 'last time of a series')
    .option('--every <step>', 'series step: Nd, Nh or Nw (default 1d)')
    .option('--json', 'machine output (decimal strings)')
    .option('--csv', 'CSV output, one row per time x material')
    .action(action((options: CostCliOptions) => runCost(options)));
}

/** Parses `material=file[:column][@factor]`. */
export function parsePriceArgument(text: string): { material: string; file: string; column: string | undefined; factor: Decimal } {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new InputError(`expected material=file[:column][@factor], got ${JSON.stringify(text)}`, { field: '--prices' });
  const material = text.slice(0, eq);
  let rest = text.slice(eq + 1);
  let factor = new Decimal(1);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const factorText = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^\d+(\.\d+)?$/.test(factorText)) throw new InputError(`unit conversion factor must be a plain decimal like 2204.62, got ${JSON.stringify(factorText)}`, { file: rest, field: 'factor' });
    factor = new Decimal(factorText);
  }
  let column: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > 1) {
    column = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { material, file: rest, column, factor };
}

function parseStep(text: string): number {
  const match = /^(\d+)(h|d|w)$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) throw new InputError(`expected a step like 1d, 12h or 1w, got ${JSON.stringify(text)}`, { field: '--every' });
  const unit = match[2] === 'h' ? 3_600_000 : match[2] === 'd' ? DAY_MS : 7 * DAY_MS;
  return Number(match[1]) * unit;
}

function parseDays(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InputError(`expected a whole number of days >= 1, got ${JSON.stringify(text)}`, { field });
  return Number(text);
}

function runCost(options: CostCliOptions): void {
  if (options.json === true && options.csv === true) throw new InputError('choose one of --json or --csv', { field: '--csv' });
  const plant = loadPlant(options.plant);
  const ledger = Ledger.inMemory(plant);
  if (options.events !== undefined) ledger.post(loadEvents(options.events, plant), { file: options.events });
  const plan = loadPlan(options.plan, plant);
  const fileOptions = options.policy !== undefined ? loadCostOptions(options.policy, plant) : undefined;

  const prices = new Map<string, MaterialPriceInput>(fileOptions?.prices ?? []);
  const cadences = new Map<string, Cadence>();
  for (const text of options.cadence) {
    const [material, cadence] = text.split('=');
    if (!material || cadence === undefined || !(CADENCES as readonly string[]).includes(cadence)) {
      throw new InputError(`expected material=${CADENCES.join('|')}, got ${JSON.stringify(text)}`, { field: '--cadence' });
    }
    if (!options.prices.some((p) => p.startsWith(`${material}=`))) throw new InputError(`--cadence for ${material}, which has no --prices file`, { field: '--cadence' });
    cadences.set(material, cadence as Cadence);
  }
  for (const text of options.prices) {
    const arg = parsePriceArgument(text);
    if (!plant.materials.has(arg.material)) {
      throw new InputError(`price file given for material ${JSON.stringify(arg.material)}, which the plant does not have${didYouMean(arg.material, plant.materials.keys())} (materials: ${[...plant.materials.keys()].join(', ')})`, {
        file: arg.file,
        field: 'material',
      });
    }
    if (arg.factor.isZero()) throw new InputError(`unit conversion factor for ${arg.material} must be greater than zero, got ${arg.factor.toFixed()}`, { file: arg.file, field: 'factor' });
    prices.set(arg.material, { series: loadSeries(arg.file, { column: arg.column, cadence: cadences.get(arg.material) }), factor: arg.factor });
  }
  const onOrder = new Map<string, Decimal>(fileOptions?.onOrder ?? []);
  for (const text of options.onOrder) {
    const [material, qty] = text.split('=');
    if (!material || qty === undefined || !/^\d+(\.\d+)?$/.test(qty)) throw new InputError(`expected material=qty, got ${JSON.stringify(text)}`, { field: '--on-order' });
    if (!plant.materials.has(material)) throw new InputError(`unknown material ${JSON.stringify(material)}${didYouMean(material, plant.materials.keys())}`, { field: '--on-order' });
    onOrder.set(material, new Decimal(qty));
  }

  for (const { series } of prices.values()) for (const warning of series.warnings) process.stderr.write(`procura: warning: ${warning}\n`);
  const horizonDays = parseDays(options.horizon, '--horizon') ?? fileOptions?.horizonDays;
  const actualWindowDays = parseDays(options.window, '--window') ?? fileOptions?.actualWindowDays;
  const feed = new CostFeed({
    plant,
    ledger,
    plan,
    prices,
    ...(horizonDays !== undefined ? { horizonDays } : {}),
    ...(actualWindowDays !== undefined ? { actualWindowDays } : {}),
    ...(fileOptions?.priceLagMs !== undefined ? { priceLagMs: fileOptions.priceLagMs } : {}),
    ...(fileOptions?.forecastErrorDays !== undefined ? { forecastErrorDays: fileOptions.forecastErrorDays } : {}),
    ...(fileOptions?.forecastErrorBucketDays !== undefined ? { forecastErrorBucketDays: fileOptions.forecastErrorBucketDays } : {}),
    ...(fileOptions?.minHistoryDays !== undefined ? { minHistoryDays: fileOptions.minHistoryDays } : {}),
    ...(fileOptions?.minReceipts !== undefined ? { minReceipts: fileOptions.minReceipts } : {}),
    ...(fileOptions?.closedPeriods !== undefined ? { closedPeriods: fileOptions.closedPeriods } : {}),
    ...(fileOptions?.defaultPolicy ? { defaultPolicy: fileOptions.defaultPolicy } : {}),
    ...(fileOptions ? { policy: fileOptions.policy, hedgeInstruments: fileOptions.hedgeInstruments } : {}),
    onOrder: (material) => onOrder.get(material) ?? ZERO,
  });

  if (options.from !== undefined || options.to !== undefined) {
    if (options.at !== undefined) throw new InputError('give either --at or --from/--to, not both', { field: '--at' });
    if (options.from === undefined || options.to === undefined) throw new InputError('a series needs both --from and --to', { field: options.from === undefined ? '--from' : '--to' });
    const from = parseTime(options.from, { field: '--from' });
    const to = parseTime(options.to, { field: '--to' });
    if (to < from) throw new InputError(`--to ${options.to} is before --from ${options.from}`, { field: '--to' });
    const step = parseStep(options.every ?? '1d');
    const snapshots: CostSnapshot[] = [];
    for (let t = from; t <= to; t += step) snapshots.push(feed.snapshot(t));
    if (options.json) printJson(snapshots);
    else if (options.csv) process.stdout.write(seriesCsv(snapshots, plant.moneyPlaces));
    else process.stdout.write(`${seriesTable(snapshots, plant.moneyPlaces)}\n`);
    return;
  }

  const at = options.at !== undefined ? parseTime(options.at, { field: '--at' }) : latestKnown(ledger, prices);
  const snapshot = feed.snapshot(at);
  if (options.json) printJson(snapshot);
  else if (options.csv) process.stdout.write(seriesCsv([snapshot], plant.moneyPlaces));
  else process.stdout.write(`${snapshotText(snapshot, plant.moneyPlaces)}\n${pricesText(prices)}`);
}

/** Default time: the newest figure known (the last entry's knownAt, or the last price bar). */
function latestKnown(ledger: Ledger, prices: ReadonlyMap<string, MaterialPriceInput>): EpochMs {
  let latest = -Infinity;
  for (const entry of ledger.entries()) if (entry.knownAt > latest) latest = entry.knownAt;
  for (const { series } of prices.values()) latest = Math.max(latest, series.at[series.length - 1]!);
  if (latest === -Infinity) throw new InputError('nothing is known: give --events or --prices, or --at', { field: '--at' });
  return latest;
}

function snapshotText(s: CostSnapshot, places: number): string {
  const m = (field: Parameters<typeof formatMaterialField>[0], value: unknown): string => formatMaterialField(field, value, places) ?? '-';
  const p = (field: Parameters<typeof formatProductField>[0], value: unknown): string => formatProductField(field, value, places) ?? '-';
  const out: string[] = [];
  out.push(`cost feed as of ${formatTime(s.at)} (figures known at ${formatTime(s.knownAt)}), ${s.currency}`);
  out.push(`horizon ${s.horizonDays} d, actual material costs over (T - ${s.actualWindowDays} d, T]`);
  out.push(
    s.conversionPeriods.length === 0
      ? 'actual conversion at standard (no period close known yet)'
      : `actual conversion over ${s.conversionPeriods.length} closed period(s): ${s.conversionPeriods.map((period) => `${period.from === null ? 'start' : formatTime(period.from)} .. ${formatTime(period.to)}`).join(', ')}; ${groupThousands(s.conversionIncurred.toFixed(places))} incurred`,
  );
  out.push('');
  out.push('products (per unit)');
  out.push(
    formatTable(
      ['product', 'unit', 'standard', 'actual', 'conversion', 'units', 'replacement', 'carry/unit-day', 'on hand', 'carry accrued'],
      Object.entries(s.products).map(([id, c]) => [
        id,
        c.unit,
        c.standard.toFixed(places),
        c.actual.toFixed(places),
        `${c.actualConversion.toFixed(places)}${c.actualConversionSource === 'standard' ? ' (std)' : ''}`,
        short(c.conversionUnits),
        c.replacement.toFixed(places),
        p('carryingPerUnitDay', c.carryingPerUnitDay),
        short(c.onHand),
        p('carryingAccrued', c.carryingAccrued),
      ]),
    ),
  );
  out.push('');
  out.push('materials: cost');
  out.push(
    formatTable(
      ['material', 'unit', 'standard', 'market', 'market at', 'actual', 'usage', 'carry/unit-day', 'carry accrued'],
      Object.entries(s.materials).map(([id, c]) => [
        id,
        c.unit,
        m('standardCost', c.standardCost),
        m('marketPrice', c.marketPrice),
        m('marketPriceAt', c.marketPriceAt),
        m('actualUnitCost', c.actualUnitCost),
        m('usageFactor', c.usageFactor),
        m('carryingPerUnitDay', c.carryingPerUnitDay),
        m('carryingAccrued', c.carryingAccrued),
      ]),
    ),
  );
  out.push('');
  out.push('materials: inventory position');
  out.push(
    formatTable(
      ['material', 'on hand', 'on order', 'hedged', 'use/day', 'cover d', 'exposure', 'exposure value'],
      Object.entries(s.materials).map(([id, c]) => [
        id,
        short(c.onHand),
        short(c.onOrder),
        short(c.hedged),
        short(c.dailyConsumption),
        c.daysOfCover === null ? '-' : c.daysOfCover.toFixed(1),
        short(c.exposureQty),
        m('exposureValue', c.exposureValue),
      ]),
    ),
  );
  out.push('');
  out.push('materials: safety stock, sigma_LT = sqrt(L x sigma_d^2 + d^2 x sigma_L^2), buffer = z x sigma_LT');
  out.push(
    formatTable(
      ['material', 'd/day', 'sigma_d', 'sigma_d from', 'L d', 'sigma_L d', 'sigma_L from', 'sigma_LT', 'service', 'z', 'buffer', 'reorder pt'],
      Object.entries(s.materials).map(([id, c]) => [
        id,
        short(c.dailyConsumption),
        short(c.sigmaDailyConsumption),
        c.sigmaDailySource === 'history'
          ? `history ${c.sigmaDailyHistoryDays} d from ${formatTime(c.sigmaDailyHistoryFrom!)}${c.sigmaDailyBucketDays === 1 ? '' : ` by ${c.sigmaDailyBucketDays} d`}`
          : `cv ${c.demandCv.toFixed()} (${c.sigmaDailyHistoryDays} d of history)`,
        c.leadTimeDays.toFixed(),
        c.sigmaLeadTimeDays.toFixed(2),
        c.sigmaLeadTimeSource === 'receipts' ? `${c.leadTimeReceipts} receipts` : `cv ${c.leadTimeCv.toFixed()} (${c.leadTimeReceipts} receipts)`,
        short(c.sigmaLeadTimeDemand),
        c.serviceLevel.toFixed(),
        c.z.toFixed(6),
        short(c.bufferStock),
        short(c.reorderPoint),
      ]),
    ),
  );
  return out.join('\n');
}

/** One line per priced material: its file and cadence (declared or inferred). */
function pricesText(prices: ReadonlyMap<string, MaterialPriceInput>): string {
  if (prices.size === 0) return '';
  const lines = [...prices].map(([id, { series }]) => `  ${id}: ${relative(process.cwd(), series.file)}${series.column === undefined ? '' : `:${series.column}`}, ${cadenceLabel(series)}`);
  return `\nprices\n${lines.join('\n')}\n`;
}

/** Quantities in tables: 2 decimals. */
function short(value: Decimal): string {
  return value.toFixed(2);
}

const SERIES_COLUMNS = ['standardCost', 'marketPrice', 'actualUnitCost', 'onHand', 'dailyConsumption', 'sigmaLeadTimeDemand', 'bufferStock', 'reorderPoint', 'daysOfCover', 'exposureQty', 'exposureValue'] as const;

function seriesTable(snapshots: readonly CostSnapshot[], places: number): string {
  const rows: string[][] = [];
  for (const s of snapshots) {
    for (const [id, c] of Object.entries(s.materials)) {
      rows.push([formatTime(s.at), formatTime(s.knownAt), id, ...SERIES_COLUMNS.map((f) => (f === 'daysOfCover' ? (c.daysOfCover === null ? '-' : c.daysOfCover.toFixed(1)) : formatMaterialField(f, c[f], places) ?? '-'))]);
    }
  }
  return formatTable(['at', 'known at', 'material', ...SERIES_COLUMNS], rows);
}

function csvCell(value: string | null): string {
  if (value === null) return '';
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function seriesCsv(snapshots: readonly CostSnapshot[], places: number): string {
  const lines = [['at', 'knownAt', 'currency', 'material', ...MATERIAL_FIELDS].join(',')];
  for (const s of snapshots) {
    for (const [id, c] of Object.entries(s.materials)) {
      lines.push([formatTime(s.at), formatTime(s.knownAt), s.currency, id, ...MATERIAL_FIELDS.map((f) => csvCell(formatMaterialField(f, c[f], places)))].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}
