/**
 * The production plan: how many units of each product the plant plans to make on each day.
 * It drives the cost feed's consumption forecast (plan x BOM), hence buffer stock, reorder
 * point, days of cover and exposure.
 *
 * File format (CSV with RFC 4180 quoting, header names case-insensitive, CRLF or LF, `#` comment
 * lines ignored):
 *
 *   date,product,qty
 *   2024-01-01,ammonia,100
 *   2024-01-01,urea,40
 *   2024-01-02,ammonia,102.5
 *
 * `qty` may also be headed `quantity` or `planned`. Each row is the planned production of
 * that product on that UTC day; a day without a row plans nothing for that product. Dates
 * must not decrease, a (date, product) pair appears at most once, quantities are plain
 * decimals >= 0, and products must exist in the plant. Every refusal names file, line, field.
 */
import { readFileSync } from 'node:fs';
import { Decimal, ZERO, parseNonNegative } from '../core/decimal.js';
import { InputError, type Where } from '../core/errors.js';
import { parseCsv } from '../core/csv.js';
import { didYouMean } from '../core/did-you-mean.js';
import { Random } from '../core/random.js';
import { Fixed } from '../core/fixed.js';
import { DAY_MS, formatDate, parseTime, type EpochMs } from '../core/time.js';
import type { Plant } from '../ledger/plant.js';

/** One planned production: `qty` units of `product` on the UTC day starting at `day`. */
export interface PlanRow {
  readonly day: EpochMs;
  readonly product: string;
  readonly qty: Decimal;
}

/** A validated production plan with dense per-day quantities (O(1) lookups by day). */
export class ProductionPlan {
  /** Where it came from (a file path, or a name for generated plans). */
  readonly file: string;
  /** UTC midnight of the first planned day (undefined for an empty plan). */
  readonly firstDay: EpochMs | undefined;
  /** Number of days from the first to the last planned day, inclusive (0 for an empty plan). */
  readonly dayCount: number;
  /** Products that appear in the plan, in order of first appearance. */
  readonly products: readonly string[];
  readonly rows: readonly PlanRow[];
  readonly #byProduct: ReadonlyMap<string, readonly Decimal[]>;

  private constructor(file: string, rows: readonly PlanRow[]) {
    this.file = file;
    this.rows = rows;
    const first = rows[0]?.day;
    const last = rows[rows.length - 1]?.day;
    this.firstDay = first;
    this.dayCount = first === undefined || last === undefined ? 0 : (last - first) / DAY_MS + 1;
    const byProduct = new Map<string, Decimal[]>();
    for (const row of rows) {
      let days = byProduct.get(row.product);
      if (!days) {
        days = new Array<Decimal>(this.dayCount).fill(ZERO);
        byProduct.set(row.product, days);
      }
      days[(row.day - first!) / DAY_MS] = row.qty;
    }
    this.#byProduct = byProduct;
    this.products = [...byProduct.keys()];
    Object.freeze(this);
  }

  /**
   * Builds a plan from rows, checking each against `plant`. `lines[i]` is the 1-based line of
   * row i in `file` (the row number when absent), for error messages.
   */
  static fromRows(rows: readonly { day: EpochMs; product: string; qty: Decimal }[], plant: Plant, file = '(plan)', lines?: readonly number[]): ProductionPlan {
    const check = new RowCheck(plant, file);
    const checked = new Array<PlanRow>(rows.length);
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i]!;
      checked[i] = check.row(row.day, row.product, row.qty, lines?.[i] ?? i + 1);
    }
    return new ProductionPlan(file, Object.freeze(checked));
  }

  /**
   * Builds a plan from parallel arrays (what a backtester generates): `at[i]` (UTC midnights),
   * `product[i]` (or one product for every row), `qty[i]`. The same checks and refusals as
   * fromRows, without building the rows twice.
   */
  static fromArrays(parts: { at: ArrayLike<EpochMs>; product: string | readonly string[]; qty: readonly Decimal[]; file?: string }, plant: Plant): ProductionPlan {
    const n = parts.at.length;
    const file = parts.file ?? '(plan)';
    if (parts.qty.length !== n) throw new InputError(`has ${parts.qty.length} quantities for ${n} dates`, { file, field: 'qty' });
    if (typeof parts.product !== 'string' && parts.product.length !== n) {
      throw new InputError(`has ${parts.product.length} products for ${n} dates`, { file, field: 'product' });
    }
    const check = new RowCheck(plant, file);
    const checked = new Array<PlanRow>(n);
    const one = typeof parts.product === 'string' ? parts.product : undefined;
    for (let i = 0; i < n; i += 1) {
      checked[i] = check.row(parts.at[i]!, one ?? (parts.product as readonly string[])[i]!, parts.qty[i]!, i + 1);
    }
    return new ProductionPlan(file, Object.freeze(checked));
  }

  /** Planned quantity of `product` on the UTC day starting at `day` (ZERO outside the plan). */
  qtyOn(product: string, day: EpochMs): Decimal {
    if (this.firstDay === undefined) return ZERO;
    const index = (day - this.firstDay) / DAY_MS;
    return this.#byProduct.get(product)?.[index] ?? ZERO;
  }
}

/**
 * A plan's rows checked in order: each a UTC midnight, dates not decreasing, a product of the
 * plant, a quantity not below zero, a (date, product) pair at most once. Since dates do not
 * decrease, a repeated pair can only be on the day being checked, so only that day's products
 * are kept. Returns each row frozen.
 */
class RowCheck {
  readonly #plant: Plant;
  readonly #file: string;
  #previous = -Infinity;
  /** The products planned so far on the day #previous. */
  readonly #today: string[] = [];

  constructor(plant: Plant, file: string) {
    this.#plant = plant;
    this.#file = file;
  }

  row(day: EpochMs, product: string, qty: Decimal, line: number): PlanRow {
    const file = this.#file;
    if (!Number.isFinite(day) || day % DAY_MS !== 0) {
      throw new InputError(`expected a date (a UTC midnight), got ${Number.isFinite(day) ? new Date(day).toISOString() : String(day)}`, { file, line, field: 'date' });
    }
    const previous = this.#previous;
    if (day < previous) {
      throw new InputError(`plan dates must not decrease: ${formatDate(day)} comes after ${formatDate(previous)}`, { file, line, field: 'date' });
    }
    const plant = this.#plant;
    if (!plant.products.has(product)) {
      throw new InputError(`unknown product ${JSON.stringify(product)}${didYouMean(product, plant.products.keys())} (the plant has ${[...plant.products.keys()].join(', ')})`, { file, line, field: 'product' });
    }
    if (qty.isNegative() && !qty.isZero()) throw new InputError(`must not be negative, got ${qty.toFixed()}`, { file, line, field: 'qty' });
    const today = this.#today;
    if (day !== previous) {
      this.#previous = day;
      today.length = 0;
    } else if (today.includes(product)) {
      throw new InputError(`${product} is planned twice on ${formatDate(day)}`, { file, line, field: 'product' });
    }
    today.push(product);
    return Object.freeze({ day, product, qty });
  }
}

/** Reads a plan CSV (format in the module comment). InputError names file, line and field. */
export function loadPlan(path: string, plant: Plant): ProductionPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read plan file: ${(error as Error).message}`, { file: path });
  }
  return parsePlan(text, path, plant);
}

const QTY_HEADERS = ['qty', 'quantity', 'planned'];

/** Parses plan CSV text (RFC 4180 quoting through core's CSV reader); `file` is used in error messages. */
export function parsePlan(text: string, file: string, plant: Plant): ProductionPlan {
  if (text.replace(/^\uFEFF/, '').split('\n').every((l) => l.trim() === '' || l.trimStart().startsWith('#'))) {
    throw new InputError('empty plan: expected a header line "date,product,qty"', { file, line: 1 });
  }
  const table = parseCsv(text, file, { comment: '#' });
  const header = table.header.map((h) => h.toLowerCase());
  const column = (names: readonly string[], label: string): number => {
    const i = header.findIndex((h) => names.includes(h));
    if (i < 0) throw new InputError(`no ${label} column: the header must name date, product and qty`, { file, line: table.headerLine, field: label });
    return i;
  };
  const dateColumn = column(['date'], 'date');
  const productColumn = column(['product'], 'product');
  const qtyColumn = column(QTY_HEADERS, 'qty');
  const rows: { day: EpochMs; product: string; qty: Decimal }[] = [];
  const rowLines: number[] = [];
  table.rows.forEach((cells, r) => {
    const lineNo = table.lines[r]!;
    const cell = (index: number, field: string): string => {
      const value = cells[index]?.trim();
      if (value === undefined || value === '') throw new InputError('missing', { file, line: lineNo, field });
      return value;
    };
    const where = (field: string): Where => ({ file, line: lineNo, field });
    const day = parseTime(cell(dateColumn, 'date'), where('date'));
    rows.push({ day, product: cell(productColumn, 'product'), qty: parseNonNegative(cell(qtyColumn, 'qty'), where('qty')) });
    rowLines.push(lineNo);
  });
  return ProductionPlan.fromRows(rows, plant, file, rowLines);
}

/**
 * A generated plan for backtests: `ratePerDay` units of `product` every day from `from` for
 * `days` days, each day multiplied by `1 + noise x N(0,1)` drawn from a Random seeded with
 * `seed` (never below zero), rounded to `places` decimals. The same arguments always give the
 * same plan.
 */
export function planFromRate(
  options: { product: string; from: EpochMs; days: number; ratePerDay: Decimal; noise?: number; seed?: number; places?: number; file?: string },
  plant: Plant,
): ProductionPlan {
  const noise = options.noise ?? 0;
  const places = options.places ?? 3;
  const random = new Random(options.seed ?? 1);
  const at = new Array<EpochMs>(options.days);
  const qty = new Array<Decimal>(options.days);
  // ratePerDay x factor (9 places) rounded half-even to `places`, in scaled integers (exact
  // products, one rounding: what decimal.js's times then toDecimalPlaces gives, see core/fixed.ts).
  const rate = Fixed.from(options.ratePerDay);
  let lastFactor = Number.NaN;
  let lastQty: Decimal = ZERO;
  for (let i = 0; i < options.days; i += 1) {
    at[i] = options.from + i * DAY_MS;
    const factor = noise === 0 ? 1 : Math.max(0, 1 + noise * random.normal());
    if (factor !== lastFactor) {
      lastFactor = factor;
      lastQty = rate.times(fixedOfToFixed(factor.toFixed(9), 9)).round(places).toDecimal();
    }
    qty[i] = lastQty;
  }
  return ProductionPlan.fromArrays({ at, product: options.product, qty, file: options.file ?? `(plan: ${options.product} at ${options.ratePerDay.toFixed()}/day)` }, plant);
}

/**
 * What a plant makes against `plan`: each row's quantity x max(0, 1 + noise x N(0,1)), seeded
 * (the same draw and rounding as planFromRate). With noise 0 it returns `plan` itself.
 */
export function perturbPlan(plan: ProductionPlan, plant: Plant, options: { noise: number; seed?: number; places?: number }): ProductionPlan {
  if (options.noise === 0) return plan;
  const places = options.places ?? 3;
  const random = new Random(options.seed ?? 1);
  const rows = plan.rows.map((row) => {
    const factor = Math.max(0, 1 + options.noise * random.normal());
    return { day: row.day, product: row.product, qty: row.qty.times(new Decimal(factor.toFixed(9))).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN) };
  });
  return ProductionPlan.fromRows(rows, plant, `${plan.file} (with production noise ${options.noise})`);
}

/** The Fixed of `text`, what Number.prototype.toFixed(places) printed for a number in [0, 1e21): digits, a point, `places` digits. */
function fixedOfToFixed(text: string, places: number): Fixed {
  const point = text.length - places - 1;
  if (point < 1 || text.charCodeAt(point) !== 46 /* . */ || text.charCodeAt(0) === 45 /* - */) return Fixed.parse(text);
  const m = Number(text.slice(0, point) + text.slice(point + 1));
  return Number.isSafeInteger(m) ? Fixed.of(m, places) : Fixed.parse(text);
}
