/**
 * ERP exports (CSV) to ledger events, by a mapping file, the way hledger's CSV rules work:
 * the mapping names the file's columns, says how it writes dates and numbers, which ERP item
 * numbers are which plant materials and products (with unit conversions), and which rows
 * become which events (by a column's value, such as SAP's movement type or ERPNext's voucher
 * type), with the sign convention of each. Every row becomes an event or is skipped by a rule
 * that says why; a row no rule covers is refused. Event ids come from the row's own keys (a
 * material document and item) or, without an `id` template, from a digest of its cells, so
 * importing the same file twice posts nothing new. Refusals name the file, line and column.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Decimal } from '../core/decimal.js';
import { InputError, type Where } from '../core/errors.js';
import { parseCsv, type CsvTable } from '../core/csv.js';
import { didYouMean } from '../core/did-you-mean.js';
import { sha256Hex } from '../core/hash.js';
import { loadYamlConfig, type LoadedConfig } from '../config/load.js';
import { PositiveDecimalSchema } from '../config/schemas.js';
import { parseEventObject, type LedgerEvent } from './events.js';
import type { Plant } from './plant.js';

const DATE_TOKENS = /YYYY|MM|DD|HH|mm|ss/g;
const EVENT_TYPES = ['purchase', 'completion', 'sale', 'count', 'conversion'] as const;
/** Unit prices derived from an amount are kept to this many places (the ledger rounds money at the currency's places). */
export const IMPORT_PRICE_PLACES = 10;

const Cells = z.union([z.string(), z.array(z.string()).min(1)]);

const RuleSchema = z
  .strictObject({
    /** Column key -> the value (or one of the values) the row must have; `is` matches what the row's item maps to. */
    when: z.record(z.string(), Cells).default({}),
    /** The event a matching row becomes... */
    event: z.enum(EVENT_TYPES).optional(),
    /** ...or why matching rows are left out (e.g. "backflushed at completion"). */
    skip: z.string().min(1).optional(),
    /** Column key of the quantity (default `qty`). */
    qty: z.string().min(1).default('qty'),
    /** Column key of a unit price per file unit (purchase, sale). */
    unitPrice: z.string().min(1).optional(),
    /** Column key of a total amount (purchase, sale: unit price = amount / quantity; conversion: the amount). */
    amount: z.string().min(1).optional(),
    /** How the file signs this movement: `negative` when issues show as -5 (they are negated), `any` to take the magnitude. */
    sign: z.enum(['positive', 'negative', 'any']).default('positive'),
    /** Conversion category (labour, overhead, ...), a template like the id. */
    category: z.string().min(1).optional(),
  })
  .refine((r) => (r.event === undefined) !== (r.skip === undefined), 'a rule has exactly one of "event" or "skip"');

export const ImportMapSchema = z.strictObject({
  /** Shown in messages and stamped into event refs when no `ref` template is given. */
  name: z.string().min(1),
  description: z.string().optional(),
  csv: z
    .strictObject({
      /** Field separator: "," (default), ";", "\t", "|". */
      separator: z.enum([',', ';', '\t', '|']).default(','),
      /** Lines above the header row (report titles). */
      skipLines: z.int().min(0).max(100).default(0),
      /** Text encoding of the file: utf8 (default) or latin1 (older SAP GUI exports). */
      encoding: z.enum(['utf8', 'latin1']).default('utf8'),
      /** Decimal mark: "." (1234.5) or "," (1234,5). */
      decimal: z.enum(['.', ',']).default('.'),
      /** Thousands separator dropped from numbers: "" (none), ",", ".", " " or "'". */
      thousands: z.enum(['', ',', '.', ' ', "'"]).default(''),
      /** Date layout with YYYY, MM, DD (and optionally HH, mm, ss): DD.MM.YYYY, MM/DD/YYYY, YYYY-MM-DD. */
      dateFormat: z.string().regex(/YYYY/, 'must contain YYYY').regex(/MM/, 'must contain MM').regex(/DD/, 'must contain DD').default('YYYY-MM-DD'),
    })
    .prefault({}),
  /** Short names for the file's columns (key: name used below, value: header text, case-insensitive). `date` is required; `item` names the ERP item number, `unit` its unit. */
  columns: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'column keys are letters, digits and _'), z.string().min(1)).refine((c) => 'date' in c, 'must name the "date" column'),
  /** Event id template over column keys, e.g. "mb51:{document}:{line}". Default: a digest of the row's cells. */
  id: z.string().min(1).optional(),
  /** External reference template (e.g. the material document), kept on each event. */
  ref: z.string().min(1).optional(),
  /** ERP item numbers -> plant materials or products, with the file's units and their factor to the plant unit. */
  items: z.record(
    z.string().min(1),
    z
      .strictObject({
        material: z.string().min(1).optional(),
        product: z.string().min(1).optional(),
        /** File unit -> plant units per file unit (e.g. KG: "0.001" for a plant in tonnes). Without it the file's quantities are taken as plant units. */
        units: z.record(z.string().min(1), PositiveDecimalSchema).optional(),
      })
      .refine((i) => (i.material === undefined) !== (i.product === undefined), 'an item maps to exactly one of "material" or "product"'),
  ),
  /** First matching rule wins; a row that no rule matches is refused. */
  rules: z.array(RuleSchema).min(1),
});
export type ImportMap = z.output<typeof ImportMapSchema>;

/** Reads and validates a mapping file; errors name the file, line and field. */
export function loadImportMap(file: string): LoadedConfig<ImportMap> {
  const loaded = loadYamlConfig(file, ImportMapSchema);
  const map = loaded.value;
  const keys = Object.keys(map.columns);
  const checkTemplate = (path: (string | number)[], template: string | undefined): void => {
    for (const key of templateKeys(template ?? '')) if (!keys.includes(key)) throw loaded.fail(path, `no column key "${key}"${didYouMean(key, keys)} (columns: ${keys.join(', ')})`);
  };
  checkTemplate(['id'], map.id);
  checkTemplate(['ref'], map.ref);
  map.rules.forEach((rule, i) => {
    for (const key of Object.keys(rule.when)) {
      if (key !== 'is' && !keys.includes(key)) throw loaded.fail(['rules', i, 'when', key], `no column key "${key}"${didYouMean(key, keys)} (columns: ${keys.join(', ')})`);
    }
    for (const field of ['qty', 'unitPrice', 'amount'] as const) {
      const key = rule[field];
      if (rule.event !== undefined && key !== undefined && !keys.includes(key) && !(field === 'qty' && (rule.event === 'conversion'))) {
        throw loaded.fail(['rules', i, field], `no column key "${key}"${didYouMean(key, keys)} (columns: ${keys.join(', ')})`);
      }
    }
    checkTemplate(['rules', i, 'category'], rule.category);
    if (rule.event === 'conversion' && rule.amount === undefined) throw loaded.fail(['rules', i], 'a conversion rule needs "amount"');
    if (rule.event === 'purchase' && (rule.unitPrice === undefined) === (rule.amount === undefined)) throw loaded.fail(['rules', i], 'a purchase rule needs exactly one of "unitPrice" or "amount"');
    if (rule.event !== undefined && rule.event !== 'conversion' && !('item' in map.columns)) throw loaded.fail(['columns'], `a ${rule.event} rule needs the "item" column`);
  });
  return loaded;
}

/** What an import made of a file: the events (in time order) and the rows left out by `skip` rules. */
export interface ImportResult {
  readonly events: LedgerEvent[];
  readonly skipped: readonly { readonly line: number; readonly reason: string }[];
  readonly rows: number;
}

/** Reads `file` with `map` (loaded from `mapFile`) into events checked against `plant`. */
export function importCsvFile(file: string, loaded: LoadedConfig<ImportMap>, plant: Plant): ImportResult {
  let text: string;
  try {
    text = readFileSync(file, loaded.value.csv.encoding);
  } catch (error) {
    throw new InputError(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { file });
  }
  return importCsv(text, file, loaded, plant);
}

/** Same as importCsvFile, from text already read. */
export function importCsv(text: string, file: string, loaded: LoadedConfig<ImportMap>, plant: Plant): ImportResult {
  const map = loaded.value;
  // The mapping's items must name the plant's materials and products.
  for (const [code, item] of Object.entries(map.items)) {
    if (item.material !== undefined && !plant.materials.has(item.material)) {
      throw loaded.fail(['items', code, 'material'], `the plant has no material "${item.material}"${didYouMean(item.material, plant.materials.keys())}`);
    }
    if (item.product !== undefined && !plant.products.has(item.product)) {
      throw loaded.fail(['items', code, 'product'], `the plant has no product "${item.product}"${didYouMean(item.product, plant.products.keys())}`);
    }
  }
  const table = parseCsv(text, file, { delimiter: map.csv.separator, skipLines: map.csv.skipLines });
  const column = resolveColumns(table, map, file);
  const parseDate = dateParser(map.csv.dateFormat);
  const number = numberParser(map.csv.decimal, map.csv.thousands);
  const drafts: { at: number; line: number; event: LedgerEvent }[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const seenIds = new Map<string, number>();
  const digestCount = new Map<string, number>();

  table.rows.forEach((cells, r) => {
    const line = table.lines[r]!;
    const where = (key: string): Where => ({ file, line, field: map.columns[key] ?? key });
    const value = (key: string): string => {
      const index = column.get(key);
      return index === undefined ? '' : (cells[index] ?? '').trim();
    };
    const itemCode = column.has('item') ? value('item') : undefined;
    const item = itemCode === undefined || itemCode === '' ? undefined : map.items[itemCode];
    const kind = item === undefined ? undefined : item.material !== undefined ? 'material' : 'product';
    const rule = map.rules.find((candidate) =>
      Object.entries(candidate.when).every(([key, wanted]) => {
        const actual = key === 'is' ? (kind ?? '') : value(key);
        return typeof wanted === 'string' ? actual === wanted : wanted.includes(actual);
      }),
    );
    if (rule === undefined) {
      const keys = [...new Set(map.rules.flatMap((x) => Object.keys(x.when)))].filter((k) => k !== 'is');
      const shown = keys.map((k) => `${map.columns[k]} ${JSON.stringify(value(k))}`).join(', ');
      throw new InputError(`no rule of ${loaded.file} matches this row (${shown || 'no conditions'}); add a rule for it (event or skip)`, where(keys[0] ?? 'date'));
    }
    if (rule.skip !== undefined) {
      skipped.push({ line, reason: rule.skip });
      return;
    }
    const type = rule.event!;
    const dateText = value('date');
    if (dateText === '') throw new InputError('missing date', where('date'));
    const at = parseDate(dateText, where('date'));

    const event: Record<string, unknown> = { type, at };
    let factor = new Decimal(1);
    if (type !== 'conversion') {
      if (itemCode === undefined || itemCode === '') throw new InputError('missing item number', where('item'));
      if (item === undefined) throw new InputError(`item ${JSON.stringify(itemCode)} is not in ${loaded.file} items${didYouMean(itemCode, Object.keys(map.items))}`, where('item'));
      const wantsProduct = type === 'completion' || type === 'sale';
      if (wantsProduct && kind !== 'product') throw new InputError(`a ${type} needs a product, but item ${JSON.stringify(itemCode)} is the material ${item.material}`, where('item'));
      if (type === 'purchase' && kind !== 'material') throw new InputError(`a purchase needs a material, but item ${JSON.stringify(itemCode)} is the product ${item.product}`, where('item'));
      if (kind === 'material') event.material = item.material;
      else event.product = item.product;
      if (item.units !== undefined) {
        const unit = value('unit');
        if (unit === '') throw new InputError(`missing unit (item ${JSON.stringify(itemCode)} lists ${Object.keys(item.units).join(', ')})`, where('unit'));
        const f = item.units[unit];
        if (f === undefined) throw new InputError(`unit ${JSON.stringify(unit)} is not listed for item ${JSON.stringify(itemCode)} (${Object.keys(item.units).join(', ')})${didYouMean(unit, Object.keys(item.units))}`, where('unit'));
        factor = f;
      }
      const fileQty = signed(number(value(rule.qty), where(rule.qty)), rule.sign, where(rule.qty));
      const qty = fileQty.times(factor);
      if (type !== 'count' && qty.isZero()) throw new InputError('quantity is zero', where(rule.qty));
      event.qty = qty.toFixed();
      if (rule.unitPrice !== undefined) {
        const price = number(value(rule.unitPrice), where(rule.unitPrice)).abs();
        event.unitPrice = price.dividedBy(factor).toDecimalPlaces(IMPORT_PRICE_PLACES, Decimal.ROUND_HALF_EVEN).toFixed();
      } else if (rule.amount !== undefined && (type === 'purchase' || type === 'sale')) {
        const amount = signed(number(value(rule.amount), where(rule.amount)), rule.sign, where(rule.amount));
        event.unitPrice = amount.dividedBy(qty).toDecimalPlaces(IMPORT_PRICE_PLACES, Decimal.ROUND_HALF_EVEN).toFixed();
      }
    } else {
      event.amount = signed(number(value(rule.amount!), where(rule.amount!)), rule.sign, where(rule.amount!)).toFixed();
      if (rule.category !== undefined) event.category = fill(rule.category, value);
    }
    if (map.ref !== undefined) event.ref = fill(map.ref, value);
    let id: string;
    if (map.id !== undefined) {
      id = fill(map.id, value);
    } else {
      const digest = sha256Hex(JSON.stringify([map.name, ...cells.map((c) => c.trim())])).slice(0, 16);
      const n = (digestCount.get(digest) ?? 0) + 1;
      digestCount.set(digest, n);
      id = `${map.name}:${digest}${n > 1 ? `:${n}` : ''}`;
    }
    const earlier = seenIds.get(id);
    if (earlier !== undefined) throw new InputError(`event id ${JSON.stringify(id)} is also made by line ${earlier}; the id template ${JSON.stringify(map.id)} must tell rows apart`, where('date'));
    seenIds.set(id, line);
    event.id = id;
    drafts.push({ at, line, event: parseEventObject(event, { file, line }, plant) });
  });
  // ERP lists come sorted by material or document; the ledger posts in time order (stable within a day).
  drafts.sort((a, b) => a.at - b.at || a.line - b.line);
  return { events: drafts.map((d) => d.event), skipped, rows: table.rows.length };
}

function resolveColumns(table: CsvTable, map: ImportMap, file: string): Map<string, number> {
  const lower = table.header.map((h) => h.toLowerCase());
  const out = new Map<string, number>();
  for (const [key, name] of Object.entries(map.columns)) {
    const index = lower.indexOf(name.toLowerCase());
    if (index < 0) {
      throw new InputError(`no column "${name}" (mapping key ${key})${didYouMean(name, table.header)}; the header has ${table.header.join(', ')}`, { file, line: table.headerLine, field: name });
    }
    out.set(key, index);
  }
  return out;
}

function templateKeys(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

function fill(template: string, value: (key: string) => string): string {
  return template.replace(/\{([^}]+)\}/g, (_, key: string) => value(key));
}

function signed(value: Decimal, sign: 'positive' | 'negative' | 'any', where: Where): Decimal {
  if (sign === 'any') return value.abs();
  if (value.isZero()) return value.abs();
  if (sign === 'negative') {
    if (value.isPositive()) throw new InputError(`expected a negative number (this rule's movements are signed negative in the file), got ${value.toFixed()}`, where);
    return value.negated();
  }
  if (value.isNegative()) throw new InputError(`expected a number >= 0 (set sign: negative or any on the rule if the file signs these movements), got ${value.toFixed()}`, where);
  return value;
}

/** A parser for numbers as the ERP writes them: decimal comma, thousands separators, SAP's trailing minus ("1.000,5-"). */
export function numberParser(decimal: '.' | ',', thousands: string): (text: string, where: Where) => Decimal {
  const example = `${thousands === '' ? '1234' : `1${thousands}234`}${decimal}5`;
  const refuse = (text: string, where: Where): never => {
    throw new InputError(`expected a number like ${example} (the mapping's csv.decimal ${JSON.stringify(decimal)}, csv.thousands ${JSON.stringify(thousands)}), got ${JSON.stringify(text)}`, where);
  };
  return (text, where) => {
    let t = text.trim();
    if (t === '') throw new InputError('missing number', where);
    let negative = false;
    if (t.endsWith('-')) {
      negative = true;
      t = t.slice(0, -1).trim();
    }
    if (t.startsWith('-')) {
      if (negative) refuse(text, where);
      negative = true;
      t = t.slice(1);
    } else if (t.startsWith('+')) t = t.slice(1);
    if (thousands !== '') {
      const groups = t.split(decimal)[0]!;
      if (groups.includes(thousands) && !new RegExp(`^\\d{1,3}(${escape(thousands)}\\d{3})+$`).test(groups)) refuse(text, where);
      t = t.split(thousands).join('');
    }
    if (decimal === ',') {
      if (t.includes('.')) refuse(text, where);
      t = t.replace(',', '.');
    } else if (t.includes(',')) refuse(text, where);
    if (!/^\d+(\.\d+)?$/.test(t) || t.replace(/^0+/, '').split('.')[0]!.length > 18) refuse(text, where);
    const value = new Decimal(t);
    return negative ? value.negated() : value;
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A parser for dates in `format` (YYYY, MM, DD, HH, mm, ss; other characters literal), as UTC. */
export function dateParser(format: string): (text: string, where: Where) => number {
  const order: string[] = [];
  const pattern = format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(DATE_TOKENS, (token) => {
    order.push(token);
    return token === 'YYYY' ? '(\\d{4})' : '(\\d{1,2})';
  });
  const regex = new RegExp(`^${pattern}$`);
  return (text, where) => {
    const match = regex.exec(text.trim());
    if (!match) throw new InputError(`expected a date like ${format}, got ${JSON.stringify(text)}`, where);
    const part = (token: string): number => {
      const i = order.indexOf(token);
      return i < 0 ? 0 : Number(match[i + 1]);
    };
    const year = part('YYYY');
    const month = part('MM');
    const day = part('DD');
    const ms = Date.UTC(year, month - 1, day, part('HH'), part('mm'), part('ss'));
    const back = new Date(ms);
    if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || part('HH') > 23 || part('mm') > 59 || part('ss') > 59) {
      throw new InputError(`not a calendar date: ${JSON.stringify(text)} read as ${format}`, where);
    }
    return ms;
  };
}

