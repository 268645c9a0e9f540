/**
 * The one CSV reader behind every CSV procura reads (price files, production plans, ERP
 * exports): csv-parse, so quoting follows RFC 4180 (`"Ammonia, anhydrous"`, `""` escapes,
 * line breaks inside quotes) instead of a hand-rolled split. Its errors become InputErrors
 * naming the file and the line, like every other refusal of bad input.
 */
import { createRequire } from 'node:module';
import { InputError } from './errors.js';

/**
 * csv-parse's synchronous parser, required on first use: price files without a double quote
 * never reach it (market/series.ts splits them itself), so a backtest need not load its nine
 * modules (about 8 ms of start-up). The package's CommonJS build of the same version.
 */
let csvParse: typeof import('csv-parse/sync') | undefined;

export interface CsvReadOptions {
  /** Field separator (default `,`). */
  readonly delimiter?: string;
  /** Quote character (default `"`). */
  readonly quote?: string;
  /** Lines starting with this are ignored (e.g. `#`). */
  readonly comment?: string;
  /** Lines before the header row (report titles some ERPs put on top). */
  readonly skipLines?: number;
}

/** A CSV file as a header and rows of text cells, each row with the 1-based line it starts on. */
export interface CsvTable {
  readonly header: readonly string[];
  readonly headerLine: number;
  readonly rows: readonly (readonly string[])[];
  /** `lines[i]` is the file line on which `rows[i]` starts. */
  readonly lines: readonly number[];
}

/**
 * Parses CSV text (optional UTF-8 BOM, CRLF or LF, blank lines skipped). The first row read is
 * the header. Rows may have fewer or more cells than the header: the caller checks the
 * fields it needs and names them. Throws InputError with file and line.
 */
export function parseCsv(text: string, file: string, options: CsvReadOptions = {}): CsvTable {
  const { parse, CsvError } = (csvParse ??= createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync'));
  const skip = options.skipLines ?? 0;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      delimiter: options.delimiter ?? ',',
      quote: options.quote ?? '"',
      ...(options.comment !== undefined ? { comment: options.comment, comment_no_infix: true } : {}),
      from_line: skip + 1,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as InstanceType<typeof CsvError> & { lines?: number }).lines;
      throw new InputError(`malformed CSV: ${error.message}`, { file, ...(line !== undefined ? { line } : {}) });
    }
    throw error;
  }
  // csv-parse reports the line a record ends on, and counts a CRLF inside a quoted field as
  // two lines; undo both so each row carries the line it starts on.
  let drift = 0;
  const startLine = (record: readonly string[], end: number): number => {
    let breaks = 0;
    for (const cell of record) {
      if (cell.indexOf('\n') < 0) continue;
      for (let i = 0; i < cell.length; i += 1) {
        if (cell.charCodeAt(i) !== 10) continue;
        breaks += 1;
        if (i > 0 && cell.charCodeAt(i - 1) === 13) drift += 1;
      }
    }
    return end - drift - breaks;
  };
  const first = records[0];
  if (first === undefined || first.record.every((cell) => cell.trim() === '')) {
    throw new InputError('empty file: expected a header line', { file, line: skip + 1 });
  }
  const headerLine = startLine(first.record, first.info.lines);
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = 1; i < records.length; i += 1) {
    const r = records[i]!;
    const line = startLine(r.record, r.info.lines);
    if (r.record.length === 1 && r.record[0]!.trim() === '') continue;
    rows.push(r.record);
    lines.push(line);
  }
  return { header: first.record.map((h) => h.trim()), headerLine, rows, lines };
}

/** 10^k for k = 0..15, each exact in a double. */
const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A cell holding a plain decimal (an optional `-`, digits with at most one point, at most 15
 * digits, nothing around them) as the number `Number(text)` gives; NaN for anything else, for
 * the caller's own checks and refusals. At most 15 digits make an exact integer m and at most
 * 15 places an exact 10^k, so m / 10^k is the one correctly rounded quotient, which is what
 * Number gives for the text: the same double, without a regular expression per cell.
 */
export function plainNumber(text: string): number {
  return plainNumberAt(text, 0, text.length);
}

/**
 * plainNumber of `text[from .. end)`, read in place: a large file's cells without a string
 * each (market/series.ts's scan of `date,price` lines).
 */
export function plainNumberAt(text: string, from: number, end: number): number {
  let i = from;
  const negative = end > from && text.charCodeAt(from) === 45;
  if (negative) i += 1;
  let m = 0;
  let digits = 0;
  let places = -1;
  for (; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits += 1;
      if (places >= 0) places += 1;
    } else if (c === 46 && places < 0) {
      places = 0;
    } else {
      return Number.NaN;
    }
  }
  if (digits === 0 || digits > 15) return Number.NaN;
  const value = places > 0 ? m / POWERS_OF_TEN[places]! : m;
  return negative ? -value : value;
}
