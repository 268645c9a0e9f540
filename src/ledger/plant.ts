/**
 * The plant file: currency, trigger variant, materials with (versioned) standard costs,
 * products with (versioned) conversion costs and BOMs. YAML validated by zod with unknown
 * keys rejected, then a second pass of named consistency checks (duplicate ids, BOM lines
 * naming unknown materials, version dates in order). Every error names file, line and field.
 *
 * The schema pieces are exported so that other parts (the cost feed adds `leadTimeDays`,
 * `serviceLevel`, ...) can extend them without copying.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { Decimal, ZERO, parseDecimal } from '../core/decimal.js';
import { ConfigError, InputError, ProcuraError, type Where } from '../core/errors.js';
import { parseTime, formatDate, type EpochMs } from '../core/time.js';
import { sha256Hex } from '../core/hash.js';
import { TRIGGERS, type Trigger } from './accounts.js';

export { DecimalSchema, NonNegativeDecimalSchema, PositiveDecimalSchema, DateSchema } from '../config/schemas.js';
import { NonNegativeDecimalSchema, PositiveDecimalSchema, DateSchema } from '../config/schemas.js';
import { toJsRefusingAliasBombs } from '../config/load.js';

const IdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'expected an id of letters, digits, "_", ".", ":" or "-"');

/** A cost that is either one figure or a list of dated versions `[{ from, cost }]`. */
export const VersionedCostSchema = z.union([
  NonNegativeDecimalSchema,
  z.array(z.strictObject({ from: DateSchema, cost: NonNegativeDecimalSchema })).min(1),
]);

/** One BOM line: `qty` of `material` per unit of product, plus an optional scrap factor (0.02 = 2 %). */
export const BomLineSchema = z.strictObject({
  material: IdSchema,
  qty: PositiveDecimalSchema,
  scrap: NonNegativeDecimalSchema.optional(),
});

/** A BOM: a list of lines, or a list of dated versions `[{ from, lines: [...] }]`. */
export const VersionedBomSchema = z.union([
  z.array(BomLineSchema).min(1),
  z.array(z.strictObject({ from: DateSchema, lines: z.array(BomLineSchema).min(1) })).min(1),
]);

export const MaterialSchema = z.strictObject({
  id: IdSchema,
  unit: z.string().min(1),
  standardCost: VersionedCostSchema,
  leadTimeDays: NonNegativeDecimalSchema.optional(),
  serviceLevel: PositiveDecimalSchema.optional(),
});

export const ProductSchema = z.strictObject({
  id: IdSchema,
  unit: z.string().min(1),
  conversionCost: VersionedCostSchema,
  bom: VersionedBomSchema,
});

export const CarryingSchema = z.strictObject({
  annualRate: NonNegativeDecimalSchema,
  storagePerUnitDay: z.record(z.string(), NonNegativeDecimalSchema).optional(),
});

export const PlantSchema = z.strictObject({
  currency: z.string().regex(/^[A-Z]{3,5}$/, 'expected a currency code like USD'),
  backflush: z.enum(TRIGGERS),
  close: z.enum(['writeoff', 'prorate']).optional(),
  negativeStock: z.enum(['refuse', 'allow']).optional(),
  /** Decimal places of the currency's minor unit (2 unless told). */
  moneyPlaces: z.number().int().min(0).max(8).optional(),
  carrying: CarryingSchema.optional(),
  materials: z.array(MaterialSchema).min(1),
  products: z.array(ProductSchema).min(1),
});
export type PlantInput = z.output<typeof PlantSchema>;

/** One dated version of a cost. `from` is null for the simple (undated) form. */
export interface CostVersion {
  /** `<id>@<YYYY-MM-DD>` for dated versions, `<id>@base` for the simple form. */
  readonly version: string;
  readonly from: EpochMs | null;
  readonly cost: Decimal;
}

export interface BomLine {
  readonly material: string;
  readonly qty: Decimal;
  /** Scrap factor: the backflush consumes qty x (1 + scrap). ZERO when not given. */
  readonly scrap: Decimal;
}

export interface BomVersion {
  readonly version: string;
  readonly from: EpochMs | null;
  readonly lines: readonly BomLine[];
}

export interface Material {
  readonly id: string;
  readonly unit: string;
  /** Versions in increasing `from` order. */
  readonly standardCost: readonly CostVersion[];
  readonly leadTimeDays?: Decimal;
  readonly serviceLevel?: Decimal;
}

export interface Product {
  readonly id: string;
  readonly unit: string;
  readonly conversionCost: readonly CostVersion[];
  readonly bom: readonly BomVersion[];
}

export interface Carrying {
  readonly annualRate: Decimal;
  readonly storagePerUnitDay: ReadonlyMap<string, Decimal>;
}

/** A standard-cost version change of one material, in effect from `at`. */
export interface Revision {
  readonly material: string;
  readonly at: EpochMs;
  readonly previous: CostVersion;
  readonly next: CostVersion;
}

export type CloseMethod = 'writeoff' | 'prorate';
export type NegativeStockPolicy = 'refuse' | 'allow';

/**
 * A validated, frozen plant. Lookups by time pick the version whose `from` is the latest at
 * or before `at`; asking before the first dated version is an error (no standard known).
 */
export class Plant {
  readonly currency: string;
  readonly trigger: Trigger;
  readonly close: CloseMethod;
  readonly negativeStock: NegativeStockPolicy;
  readonly moneyPlaces: number;
  readonly carrying: Carrying;
  readonly materials: ReadonlyMap<string, Material>;
  readonly products: ReadonlyMap<string, Product>;
  /** Standard-cost changes of all materials, in time order. */
  readonly revisions: readonly Revision[];
  /** SHA-256 of the source text (stamped into stores and results). */
  readonly hash: string;
  /** The source text (kept so a store can reopen without the file). */
  readonly text: string;
  readonly file: string;

  constructor(input: PlantInput, text: string, file: string) {
    this.currency = input.currency;
    this.trigger = input.backflush;
    this.close = input.close ?? 'writeoff';
    this.negativeStock = input.negativeStock ?? 'refuse';
    this.moneyPlaces = input.moneyPlaces ?? 2;
    this.text = text;
    this.file = file;
    this.hash = sha256Hex(text);
    const storage = new Map<string, Decimal>();
    for (const [id, value] of Object.entries(input.carrying?.storagePerUnitDay ?? {})) storage.set(id, value);
    this.carrying = Object.freeze({ annualRate: input.carrying?.annualRate ?? ZERO, storagePerUnitDay: storage });
    const materials = new Map<string, Material>();
    for (const m of input.materials) {
      const material: Material = {
        id: m.id,
        unit: m.unit,
        standardCost: costVersions(m.id, m.standardCost),
        ...(m.leadTimeDays !== undefined ? { leadTimeDays: m.leadTimeDays } : {}),
        ...(m.serviceLevel !== undefined ? { serviceLevel: m.serviceLevel } : {}),
      };
      materials.set(m.id, Object.freeze(material));
    }
    const products = new Map<string, Product>();
    for (const p of input.products) {
      products.set(p.id, Object.freeze({ id: p.id, unit: p.unit, conversionCost: costVersions(p.id, p.conversionCost), bom: bomVersions(p.id, p.bom) }));
    }
    this.materials = materials;
    this.products = products;
    const revisions: Revision[] = [];
    for (const m of materials.values()) {
      for (let i = 1; i < m.standardCost.length; i += 1) {
        const next = m.standardCost[i]!;
        revisions.push({ material: m.id, at: next.from!, previous: m.standardCost[i - 1]!, next });
      }
    }
    revisions.sort((a, b) => a.at - b.at || (a.material < b.material ? -1 : 1));
    this.revisions = revisions;
    Object.freeze(this);
  }

  /** File, line and field of a value in the plant text, by its path (for messages about a plant that conflicts with a store). */
  where(path: readonly PropertyKey[]): Where {
    const lineCounter = new LineCounter();
    const doc = parseDocument(this.text, { lineCounter });
    return { file: this.file, line: lineOf(doc, lineCounter, path), field: fieldName(path) };
  }

  /** The standard unit cost of `materialId` in effect at `at`, with its version id. */
  standardCostAt(materialId: string, at: EpochMs): CostVersion {
    const material = this.materials.get(materialId);
    if (!material) throw new InputError(`unknown material ${JSON.stringify(materialId)}`);
    return pick(material.standardCost, at, 'standard cost of', materialId);
  }

  /** The standard conversion cost per unit of `productId` in effect at `at`. */
  conversionCostAt(productId: string, at: EpochMs): CostVersion {
    const product = this.products.get(productId);
    if (!product) throw new InputError(`unknown product ${JSON.stringify(productId)}`);
    return pick(product.conversionCost, at, 'conversion cost of', productId);
  }

  /** The BOM of `productId` in effect at `at`: lines of material, qty per unit and scrap factor. */
  bomAt(productId: string, at: EpochMs): BomVersion {
    const product = this.products.get(productId);
    if (!product) throw new InputError(`unknown product ${JSON.stringify(productId)}`);
    return pick(product.bom, at, 'BOM of', productId);
  }
}

/** The version of `what` `id` in effect at `at` (the message is made only when there is none: the feed asks three times a day). */
function pick<T extends { readonly from: EpochMs | null }>(versions: readonly T[], at: EpochMs, what: string, id: string): T {
  for (let i = versions.length - 1; i >= 0; i -= 1) {
    const v = versions[i]!;
    if (v.from === null || v.from <= at) return v;
  }
  throw new InputError(`no ${what} ${id} in effect on ${formatDate(at)} (the first version starts ${formatDate(versions[0]!.from ?? at)})`);
}

function costVersions(id: string, input: Decimal | { from: EpochMs; cost: Decimal }[]): CostVersion[] {
  if (input instanceof Decimal) return [Object.freeze({ version: `${id}@base`, from: null, cost: input })];
  return input.map((v) => Object.freeze({ version: `${id}@${formatDate(v.from)}`, from: v.from, cost: v.cost }));
}

type BomInput = z.output<typeof VersionedBomSchema>;

function bomVersions(id: string, input: BomInput): BomVersion[] {
  const line = (l: z.output<typeof BomLineSchema>): BomLine => Object.freeze({ material: l.material, qty: l.qty, scrap: l.scrap ?? ZERO });
  const first = input[0]!;
  if ('material' in first) {
    return [Object.freeze({ version: `${id}@base`, from: null, lines: Object.freeze((input as z.output<typeof BomLineSchema>[]).map(line)) })];
  }
  return (input as { from: EpochMs; lines: z.output<typeof BomLineSchema>[] }[]).map((v) =>
    Object.freeze({ version: `${id}@${formatDate(v.from)}`, from: v.from, lines: Object.freeze(v.lines.map(line)) }),
  );
}

/** Reads and validates a plant file. Errors name the file, line and field. */
export function loadPlant(path: string): Plant {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read plant file: ${(error as Error).message}`, { file: path });
  }
  return parsePlant(text, path);
}

/**
 * Validates plant YAML text. `file` is only used in error messages. Throws ConfigError naming
 * file, line and field for the first problem found.
 */
export function parsePlant(text: string, file: string): Plant {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const line = lineCounter.linePos(error.pos[0]).line;
    throw new ConfigError(`malformed YAML: ${error.message.split('\n')[0]}`, { file, line });
  }
  const locate = (path: readonly PropertyKey[]): Where => ({ file, line: lineOf(doc, lineCounter, path), field: fieldName(path) });
  const result = PlantSchema.safeParse(toJsRefusingAliasBombs(doc, file));
  if (!result.success) {
    const issue = deepestIssue(result.error.issues);
    const path = issue.code === 'unrecognized_keys' && issue.keys.length > 0 ? [...issue.path, issue.keys[0]!] : issue.path;
    throw new ConfigError(describeIssue(issue), locate(path));
  }
  const input = result.data;
  checkConsistency(input, locate);
  return new Plant(input, text, file);
}

function checkConsistency(input: PlantInput, locate: (path: readonly PropertyKey[]) => Where): void {
  const materialIds = new Set<string>();
  input.materials.forEach((m, i) => {
    if (materialIds.has(m.id)) throw new ConfigError(`duplicate material id ${JSON.stringify(m.id)}`, locate(['materials', i, 'id']));
    materialIds.add(m.id);
    if (Array.isArray(m.standardCost)) checkDatesIncrease(m.standardCost, ['materials', i, 'standardCost'], locate);
  });
  const productIds = new Set<string>();
  input.products.forEach((p, i) => {
    if (productIds.has(p.id)) throw new ConfigError(`duplicate product id ${JSON.stringify(p.id)}`, locate(['products', i, 'id']));
    if (materialIds.has(p.id)) throw new ConfigError(`product id ${JSON.stringify(p.id)} is also a material id`, locate(['products', i, 'id']));
    productIds.add(p.id);
    if (Array.isArray(p.conversionCost)) checkDatesIncrease(p.conversionCost, ['products', i, 'conversionCost'], locate);
    const bom = p.bom;
    const checkLines = (lines: readonly { material: string }[], path: readonly PropertyKey[]): void => {
      const seen = new Set<string>();
      lines.forEach((l, k) => {
        if (!materialIds.has(l.material)) throw new ConfigError(`BOM of ${p.id} names unknown material ${JSON.stringify(l.material)}`, locate([...path, k, 'material']));
        if (seen.has(l.material)) throw new ConfigError(`BOM of ${p.id} lists material ${JSON.stringify(l.material)} twice`, locate([...path, k, 'material']));
        seen.add(l.material);
      });
    };
    const first = bom[0]!;
    if ('material' in first) checkLines(bom as { material: string }[], ['products', i, 'bom']);
    else {
      const versions = bom as { from: EpochMs; lines: { material: string }[] }[];
      checkDatesIncrease(versions, ['products', i, 'bom'], locate);
      versions.forEach((v, k) => checkLines(v.lines, ['products', i, 'bom', k, 'lines']));
    }
  });
  for (const id of Object.keys(input.carrying?.storagePerUnitDay ?? {})) {
    if (!materialIds.has(id)) throw new ConfigError(`storage cost for unknown material ${JSON.stringify(id)}`, locate(['carrying', 'storagePerUnitDay', id]));
  }
}

function checkDatesIncrease(versions: readonly { from: EpochMs }[], path: readonly PropertyKey[], locate: (path: readonly PropertyKey[]) => Where): void {
  for (let k = 1; k < versions.length; k += 1) {
    if (versions[k]!.from <= versions[k - 1]!.from) {
      throw new ConfigError(`version dates must increase: ${formatDate(versions[k]!.from)} is not after ${formatDate(versions[k - 1]!.from)}`, locate([...path, k, 'from']));
    }
  }
}

type Issue = z.core.$ZodIssue;

/** In a union, the branch that got furthest (longest path, not a plain type mismatch) explains the error best. */
function deepestIssue(issues: readonly Issue[]): Issue {
  let best: Issue = issues[0]!;
  let bestScore = -1;
  const visit = (issue: Issue, prefix: readonly PropertyKey[]): void => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      for (const branch of issue.errors) for (const inner of branch) visit(inner, path);
      return;
    }
    const score = path.length * 2 + (issue.code === 'invalid_type' ? 0 : 1);
    if (score > bestScore) {
      bestScore = score;
      best = { ...issue, path: path as PropertyKey[] } as Issue;
    }
  };
  for (const issue of issues) visit(issue, []);
  return best;
}

function describeIssue(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

function fieldName(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Line of the deepest existing node on `path` (the value if present, else the nearest parent). */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n -= 1) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
