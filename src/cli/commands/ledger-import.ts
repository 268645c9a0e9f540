/**
 * `procura ledger import FILE --map MAPPING --plant P (--db DB | --dry-run)`: an ERP export
 * (CSV) to ledger events by a mapping file (src/ledger/csv-import.ts), posted into the store
 * in one transaction, or printed as the JSON Lines `ledger post --events` reads. Event ids
 * come from the rows, so importing the same file twice posts nothing new.
 */
import type { Command } from 'commander';
import { ProcuraError, ErrorCode } from '../../core/errors.js';
import { formatTime } from '../../core/time.js';
import { eventToJson, type LedgerEvent } from '../../ledger/events.js';
import { entryToJson } from '../../ledger/report.js';
import { action, printJson } from '../run.js';
import { formatCount } from '../format.js';
import { parseStoreAddress } from '../../store/address.js';

interface ImportOptions {
  map: string;
  plant: string;
  db?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** Registers `ledger import` on the `ledger` command group. */
export function registerImport(ledger: Command): void {
  ledger
    .command('import')
    .description('ERP export (CSV) to events by a mapping file; posts into the store (importing twice posts nothing new)')
    .argument('<file>', 'the CSV export, e.g. examples/import/sap-mb51.csv')
    .requiredOption('--map <file>', 'mapping YAML (columns, date and number formats, items, rules), e.g. examples/import/sap-mb51.yaml')
    .requiredOption('--plant <file>', 'plant YAML')
    .option('--db <file|url>', 'ledger store to post into: a SQLite file (created if missing) or a postgres:// URL')
    .option('--dry-run', 'print the events as JSON Lines (what `ledger post --events` reads) and post nothing')
    .option('--json', 'machine output')
    .action(action((file: string, options: ImportOptions) => runImport(file, options)));
}

async function runImport(file: string, options: ImportOptions): Promise<void> {
  if (options.db === undefined && options.dryRun !== true) {
    throw new ProcuraError(ErrorCode.input, 'give --db FILE to post the events, or --dry-run to print them', { field: '--db' });
  }
  if (options.db !== undefined && options.dryRun === true) {
    throw new ProcuraError(ErrorCode.input, '--dry-run posts nothing: leave out --db, or leave out --dry-run to post', { field: '--dry-run' });
  }
  // Loaded on use: csv-parse, the mapping schema, the plant's parser (YAML, zod) and the ledger
  // are not needed by the commands that only read the chain (verify).
  const [{ importCsvFile, loadImportMap }, { loadPlant }, { openLedgerForPosting }] = await Promise.all([
    import('../../ledger/csv-import.js'),
    import('../../ledger/plant.js'),
    import('../../store/open.js'),
  ]);
  const plant = loadPlant(options.plant);
  const map = loadImportMap(options.map);
  const result = importCsvFile(file, map, plant);
  const skippedByRule = countBy(result.skipped.map((s) => s.reason));
  if (options.dryRun === true) {
    if (options.json === true) {
      printJson({ rows: result.rows, events: result.events.map(eventLine), skipped: result.skipped });
      return;
    }
    for (const event of result.events) process.stdout.write(`${JSON.stringify(eventLine(event))}\n`);
    process.stderr.write(`${summary(file, result.rows, result.events.length, skippedByRule)}\ndry run: nothing posted\n`);
    return;
  }
  const address = parseStoreAddress(options.db!, { field: '--db' });
  const { ledger: book, close } = await openLedgerForPosting(address, plant, { applicationName: 'procura ledger import' });
  try {
    const posted = await book.postAsync(result.events, { file });
    if (options.json === true) {
      printJson({
        rows: result.rows,
        events: result.events.length,
        skippedRows: result.skipped,
        posted: posted.posted,
        alreadyPosted: posted.skipped,
        entries: posted.entries.map((e) => entryToJson(e, plant.moneyPlaces)),
      });
      return;
    }
    process.stdout.write(`${summary(file, result.rows, result.events.length, skippedByRule)}\n`);
    process.stdout.write(`posted ${formatCount(posted.posted)} events (${formatCount(posted.entries.length)} entries) into ${address.display}${posted.skipped.length ? `; ${formatCount(posted.skipped.length)} already posted` : ''}\n`);
    for (const e of posted.flagged) process.stdout.write(`flagged: entry ${e.seq} (event ${e.eventId}): ${(e.flags ?? []).join('; ')}\n`);
  } finally {
    await close();
  }
}

/** An event as one JSON line for `ledger post --events`: dates as text, knownAt only when it differs. */
function eventLine(event: LedgerEvent): Record<string, unknown> {
  const json = eventToJson(event);
  const out: Record<string, unknown> = { type: json.type, id: json.id, at: formatTime(event.at) };
  for (const [key, value] of Object.entries(json)) {
    if (key === 'type' || key === 'id' || key === 'at') continue;
    if (key === 'knownAt') {
      if (event.knownAt !== event.at) out.knownAt = formatTime(event.knownAt);
      continue;
    }
    out[key] = value;
  }
  return out;
}

function summary(file: string, rows: number, events: number, skipped: Map<string, number>): string {
  const total = [...skipped.values()].reduce((a, b) => a + b, 0);
  const lines = [`${file}: ${formatCount(rows)} rows, ${formatCount(events)} events${total ? `, ${formatCount(total)} rows skipped by rules` : ''}`];
  for (const [reason, n] of skipped) lines.push(`  skipped ${formatCount(n)}: ${reason}`);
  return lines.join('\n');
}

function countBy(values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}
