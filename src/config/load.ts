/**
 * Loads a YAML configuration file, validates it with a zod schema (unknown keys rejected by
 * the schema's strict objects) and turns the first problem into a ConfigError naming the
 * file, the line and the field. The validated value is deep-frozen and hashed, so results
 * can be stamped with the exact configuration that produced them.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ConfigError, ProcuraError } from '../core/errors.js';
import { canonicalJson, sha256Hex } from '../core/hash.js';
import { didYouMean } from '../core/did-you-mean.js';

export type ConfigPath = readonly (string | number)[];

export interface LoadedConfig<T> {
  readonly value: T;
  /** sha256 of the canonical JSON of the file's data (key order does not matter). */
  readonly hash: string;
  readonly file: string;
  /** The 1-based line of a field, for consistency checks made after validation. */
  lineOf(path: ConfigPath): number | undefined;
  /** A ConfigError for a field that passed the schema but failed a consistency check. */
  fail(path: ConfigPath, message: string): ConfigError;
  /** A path written in the file, resolved against the file's own folder. */
  resolvePath(relative: string): string;
  /**
   * Runs `fn`; a ProcuraError it throws about this file (or about no file) is re-anchored at
   * `path`'s line and field; one naming another file (a plant, a price file) passes unchanged.
   */
  within<T>(path: ConfigPath, fn: () => T): T;
}

/** Reads and validates `file`; throws ConfigError with file, line and field on the first problem. */
export function loadYamlConfig<S extends z.ZodType>(file: string, schema: S): LoadedConfig<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { file });
  }
  return parseYamlConfig(text, file, schema);
}

/** Same as loadYamlConfig, from text already read. */
export function parseYamlConfig<S extends z.ZodType>(text: string, file: string, schema: S): LoadedConfig<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0]?.line ?? lineCounter.linePos(firstError.pos[0]).line;
    throw new ConfigError(`not valid YAML: ${firstError.message.split('\n')[0]}`, { file, line });
  }
  const data: unknown = toJsRefusingAliasBombs(doc, file);
  const lineOf = (path: ConfigPath): number | undefined => {
    const node = nodeAt(doc.contents as YamlNode | null, path);
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const fail = (path: ConfigPath, message: string): ConfigError =>
    new ConfigError(message, { file, line: lineOf(path), field: formatPath(path) || undefined });

  // jitless: zod would otherwise write and compile a parser for each object schema on its first
  // use (new Function), which a file parsed once never repays; the same result and issues.
  const parsed = schema.safeParse(data ?? {}, { jitless: true });
  if (!parsed.success) {
    // A misspelt key usually also makes the intended key "missing": report the typo first.
    const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0]!;
    let path: (string | number)[] = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      path = [...path, key];
      message = `unknown key "${key}"${didYouMean(key, knownKeys(schema, issue.path))}`;
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = `missing (${issue.message})`;
      throw new ConfigError(message, { file, line: lineOf(path.slice(0, -1)), field: formatPath(path) });
    }
    throw fail(path, message);
  }
  const base = dirname(resolve(file));
  const within = <T>(path: ConfigPath, fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ProcuraError && (error.where.file === undefined || error.where.file === file)) throw fail(path, error.detail);
      throw error;
    }
  };
  return { value: deepFreeze(parsed.data), hash: sha256Hex(canonicalJson(data)), file, lineOf, fail, resolvePath: (relative) => resolve(base, relative), within };
}

/** `materials[2].standardCost` */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

function nodeAt(root: YamlNode | null, path: ConfigPath): YamlNode | undefined {
  let node: YamlNode | null | undefined = root;
  let best: YamlNode | undefined = root ?? undefined;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) return best;
      // Point at the key for the line (a missing or wrong value is reported where its key stands).
      best = (pair.key as YamlNode) ?? best;
      node = pair.value as YamlNode | null;
      if (node && path.indexOf(part) < path.length - 1) best = node;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part] as YamlNode | null;
      if (node) best = node;
      else return best;
    } else {
      return best;
    }
  }
  return best;
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  // Walk zod's definitions through objects, records, arrays and wrappers; enough for suggestions.
  type Def = { type?: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown; valueType?: unknown; in?: unknown };
  const unwrap = (node: unknown): Def | undefined => {
    let def = (node as { def?: Def } | undefined)?.def;
    while (def && (def.type === 'optional' || def.type === 'default' || def.type === 'prefault' || def.type === 'nullable' || def.type === 'pipe')) {
      def = ((def.type === 'pipe' ? def.in : def.innerType) as { def?: Def } | undefined)?.def;
    }
    return def;
  };
  let current: unknown = schema;
  for (const part of path) {
    const def = unwrap(current);
    if (!def) return [];
    if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else current = def.shape?.[String(part)];
  }
  const def = unwrap(current);
  return def?.shape ? Object.keys(def.shape) : [];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** The most alias expansions a config may use (yaml's `maxAliasCount`; real configs use a handful). */
export const MAX_YAML_ALIASES = 100;

/**
 * `doc.toJS()` with a bound on alias expansion: a document whose aliases expand past the bound
 * (a "billion laughs" bomb) is refused as a ConfigError naming the file, instead of exhausting
 * memory or ending in an internal error.
 */
export function toJsRefusingAliasBombs(doc: { toJS(options?: { maxAliasCount?: number }): unknown }, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    if (error instanceof ReferenceError || /alias/i.test((error as Error).message)) {
      throw new ConfigError(`refused: YAML aliases expand too far (${(error as Error).message.split('\n')[0]}; at most ${MAX_YAML_ALIASES} expansions)`, { file });
    }
    throw error;
  }
}
