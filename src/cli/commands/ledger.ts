/**
 * `procura ledger ...`: replay an event file into a fresh in-memory ledger, or post into and
 * read from the persistent store (a SQLite file, or a PostgreSQL database given as a
 * postgres:// URL: src/store/). Every command takes `--json`; errors go to stderr
 * as `procura: file:line: field: message` with a non-zero exit (2 bad input, 3 failed verify).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ProcuraError, ErrorCode } from '../../core/errors.js';
import { parseTime, formatTime, type EpochMs } from '../../core/time.js';
import { ZERO, type Decimal } from '../../core/decimal.js';
import type { JournalEntry, Ledger, VerifyResult } from '../../ledger/index.js';
import { loadEvents } from '../../ledger/events.js';
import { entryToJson, ledgerReport, quantitiesToJson } from '../../ledger/report.js';
import { readSync } from '../../ledger/store.js';
import { verifyStore } from '../../ledger/verify.js';
import { action, printJson, formatTable } from '../run.js';
import { registerImport } from './ledger-import.js';
import { formatCount, groupThousands } from '../format.js';
import { progressBar } from '../progress.js';
import { inStream, parseStoreAddress, type StoreAddress } from '../../store/address.js';
import { openSyncStore } from '../../store/open-store.js';

interface JsonOption {
  json?: boolean;
}

/**
 * The Ledger, its plant parser (YAML and zod) and the ledger openers, loaded by the commands
 * that build a Ledger: `verify` reads the bare store (store/open-store.ts), and its cold start
 * stays without them.
 */
async function ledgerModules() {
  const [{ Ledger }, { loadPlant, parsePlant }, { listStreams, openLedger, openLedgerForPosting }] = await Promise.all([
    import('../../ledger/ledger.js'),
    import('../../ledger/plant.js'),
    import('../../store/open.js'),
  ]);
  return { Ledger, loadPlant, parsePlant, listStreams, openLedger, openLedgerForPosting };
}

/** Registers the `ledger` command group. */
export function register(program: Command): void {
  const ledger = program.command('ledger').description('backflush cost ledger: replay, post, import, balances, journal, verify');

  ledger
    .command('replay')
    .description('post an event file into a fresh in-memory ledger; print the journal and balances')
    .requiredOption('--plant <file>', 'plant YAML')
    .requiredOption('--events <file>', 'events (JSON Lines)')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { plant: string; events: string } & JsonOption) => {
        const { Ledger, loadPlant } = await ledgerModules();
        const plant = loadPlant(opts.plant);
        const events = loadEvents(opts.events, plant);
        const book = Ledger.inMemory(plant);
        const result = book.post(events, { file: opts.events });
        if (opts.json) {
          printJson({ ...ledgerReport(book), posted: result.posted, skipped: result.skipped, flagged: result.flagged.map((e) => ({ seq: e.seq, event: e.eventId, flags: e.flags })) });
          return;
        }
        process.stdout.write(`${formatJournal(book.entries(), book.plant.moneyPlaces)}\n\n`);
        process.stdout.write(`${formatBalances(book)}\n`);
        process.stdout.write(`\nposted ${formatCount(result.posted)} events, ${formatCount(book.entries().length)} entries${result.skipped.length ? `, skipped ${formatCount(result.skipped.length)} already posted` : ''}${result.flagged.length ? `, ${formatCount(result.flagged.length)} flagged` : ''}\n`);
      }),
    );

  ledger
    .command('post')
    .description('post an event file into the store, in one transaction (all or nothing)')
    .requiredOption('--db <file|url>', 'ledger store: a SQLite file (created if missing) or a postgres:// URL')
    .requiredOption('--plant <file>', 'plant YAML')
    .requiredOption('--events <file>', 'events (JSON Lines)')
    .option('--lock-timeout <seconds>', 'how long to wait for another writer before giving up (exit 4)', '30')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { db: string; plant: string; events: string; lockTimeout: string } & JsonOption) => {
        const { loadPlant, openLedgerForPosting } = await ledgerModules();
        const plant = loadPlant(opts.plant);
        const events = loadEvents(opts.events, plant);
        const seconds = Number(opts.lockTimeout);
        if (!/^\d+(\.\d+)?$/.test(opts.lockTimeout.trim()) || !Number.isFinite(seconds)) throw new ProcuraError(ErrorCode.input, `expected a number of seconds, got ${JSON.stringify(opts.lockTimeout)}`, { field: '--lock-timeout' });
        const address = storeAddress(opts.db);
        const { ledger: book, close } = await openLedgerForPosting(address, plant, {
          lockTimeoutMs: Math.round(seconds * 1000),
          onWait: (name) => process.stderr.write(`procura: ${name}: another process is posting; waiting up to ${seconds} s for it to finish\n`),
          applicationName: 'procura ledger post',
        });
        // A bar (stderr, terminal only) when posting takes more than about 2 s.
        const bar = await progressBar('post', 'events', { delayMs: 2000 });
        try {
          let result;
          try {
            result = await book.postAsync(events, { file: opts.events, onProgress: (done, total) => bar.update(done, total) });
          } finally {
            bar.stop();
          }
          const places = plant.moneyPlaces;
          if (opts.json) {
            printJson({ posted: result.posted, skipped: result.skipped, entries: result.entries.map((e) => entryToJson(e, places)), flagged: result.flagged.map((e) => ({ seq: e.seq, event: e.eventId, flags: e.flags })) });
            return;
          }
          process.stdout.write(`posted ${formatCount(result.posted)} events (${formatCount(result.entries.length)} entries) into ${address.display}`);
          if (result.skipped.length) process.stdout.write(`; skipped ${formatCount(result.skipped.length)} already posted: ${result.skipped.slice(0, 10).join(', ')}${result.skipped.length > 10 ? ', ...' : ''}`);
          process.stdout.write('\n');
          for (const e of result.flagged) process.stdout.write(`flagged: entry ${e.seq} (event ${e.eventId}): ${(e.flags ?? []).join('; ')}\n`);
        } finally {
          await close();
        }
      }),
    );

  registerImport(ledger);

  ledger
    .command('balances')
    .description('trial balance and book quantities from the store, optionally as of a time')
    .requiredOption('--db <file|url>', 'ledger store: a SQLite file or a postgres:// URL')
    .option('--at <time>', 'only entries dated at or before this time (YYYY-MM-DD, ISO, epoch ms)')
    .option('--known-at <time>', 'only entries known at or before this time')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { db: string; at?: string; knownAt?: string } & JsonOption) => {
        const book = await openStore(opts.db);
        try {
          const asOf: { at?: EpochMs; knownAt?: EpochMs } = {};
          if (opts.at !== undefined) asOf.at = parseTime(opts.at, { field: '--at' });
          if (opts.knownAt !== undefined) asOf.knownAt = parseTime(opts.knownAt, { field: '--known-at' });
          if (opts.json) {
            printJson(ledgerReport(book, book.entries(asOf), asOf));
            return;
          }
          process.stdout.write(`${formatBalances(book, asOf)}\n`);
        } finally {
          book.close();
        }
      }),
    );

  ledger
    .command('journal')
    .description('journal entries from the store, each with its event, BOM and standard-cost versions')
    .requiredOption('--db <file|url>', 'ledger store: a SQLite file or a postgres:// URL')
    .option('--event <id>', 'only the entries of this event')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { db: string; event?: string } & JsonOption) => {
        const book = await openStore(opts.db);
        try {
          const entries = book.entries(opts.event !== undefined ? { eventId: opts.event } : {});
          if (opts.event !== undefined && entries.length === 0) throw new ProcuraError(ErrorCode.input, `no entries for event ${JSON.stringify(opts.event)}`, { field: '--event' });
          if (opts.json) {
            printJson({ entries: entries.map((e) => entryToJson(e, book.plant.moneyPlaces)) });
            return;
          }
          process.stdout.write(`${formatJournal(entries, book.plant.moneyPlaces)}\n`);
        } finally {
          book.close();
        }
      }),
    );

  ledger
    .command('verify')
    .description('check the whole store: entries balance, hash chain (entries, event records, plant versions), books checkpoint, trial balance, book quantities')
    .requiredOption('--db <file|url>', 'ledger store: a SQLite file or a postgres:// URL')
    .option('--expect-head <seq:hash>', 'a head printed earlier by `procura ledger head`: the chain must still contain it (detects a removed tail)')
    .option('--all-streams', 'verify every stream of a PostgreSQL ledger (a URL without ?stream=): one line each, exit 3 if any fails')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { db: string; expectHead?: string; allStreams?: boolean } & JsonOption) => {
        if (opts.allStreams === true) {
          await verifyAllStreams(opts.db, opts.expectHead, opts.json === true);
          return;
        }
        const expectHead = opts.expectHead === undefined ? undefined : parseHead(opts.expectHead);
        const result = await verifyAt(opts.db, expectHead ? { expectHead } : {});
        if (opts.json) printJson(result);
        else {
          for (const f of result.flagged) process.stdout.write(`flagged: entry ${f.seq} (event ${f.eventId}): ${f.flags.join('; ')}\n`);
          if (result.ok) {
            process.stdout.write(
              `ok: ${result.entries} entries balance, trial balance is zero, hash chain intact (entries, ${result.head.events} event records, plant versions), books checkpoint and book quantities consistent${result.flagged.length ? ` (${result.flagged.length} flagged)` : ''}\n`,
            );
            process.stdout.write(`head: ${result.head.seq}:${result.head.hash}${expectHead ? ` (contains the expected head ${expectHead.seq}:${expectHead.hash.slice(0, 12)}...)` : ''}\n`);
          }
        }
        if (!result.ok) throw new ProcuraError(ErrorCode.verify, result.fault ?? 'verification failed', { file: storeAddress(opts.db).display });
      }),
    );

  ledger
    .command('head')
    .description('print the chain head (last entry seq:hash) to keep outside the store; `verify --expect-head` checks it later')
    .requiredOption('--db <file|url>', 'ledger store: a SQLite file or a postgres:// URL')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { db: string } & JsonOption) => {
        const book = await openStore(opts.db);
        try {
          const head = book.head();
          if (opts.json) printJson(head);
          else process.stdout.write(`${head.seq}:${head.hash}\n`);
        } finally {
          book.close();
        }
      }),
    );
}

/**
 * `verify --all-streams`: lists the database's streams and verifies each exactly as a one-stream
 * verify does, one line (or one JSON object) per stream; exit 3 naming the streams that fail.
 */
async function verifyAllStreams(db: string, expectHead: string | undefined, json: boolean): Promise<void> {
  const address = storeAddress(db);
  const usage = (detail: string) => new ProcuraError(ErrorCode.input, detail, { field: '--all-streams' });
  if (address.kind !== 'postgres') throw usage(`${address.display} is a SQLite file, one stream; --all-streams takes a postgres:// URL`);
  if (new URL(db.trim()).searchParams.has('stream')) throw usage(`${address.display} names one stream; give the database's URL without ?stream= to verify all its streams`);
  if (expectHead !== undefined) throw usage('--expect-head speaks for one stream; verify that stream on its own (its URL with ?stream=)');
  const { listStreams, openLedger } = await ledgerModules();
  const streams = listStreams(address, { applicationName: 'procura ledger' });
  if (streams.length === 0) throw new ProcuraError(ErrorCode.store, 'no streams in this ledger (post events first)', { file: address.display });
  const results: (VerifyResult & { stream: string; db: string; storedHead?: string | null })[] = [];
  const width = Math.max(...streams.map((s) => s.length));
  for (const stream of streams) {
    const at = inStream(address, stream);
    const book = openLedger(at, undefined, { mustExist: true, applicationName: 'procura ledger' });
    let result: VerifyResult;
    // A stream that fails: its head as stored (the checkpoint's), which the chain does not back.
    let stored: string | undefined;
    try {
      result = book.verify();
      if (!result.ok) {
        try {
          const h = book.head();
          stored = `${h.seq}:${h.hash}`;
        } catch {
          stored = undefined;
        }
      }
    } finally {
      book.close();
    }
    results.push({ stream, db: at.display, ...result, ...(result.ok ? {} : { storedHead: stored ?? null }) });
    if (!json) {
      const flagged = result.flagged.length ? ` (${result.flagged.length} flagged)` : '';
      process.stdout.write(
        result.ok
          ? `ok      ${stream.padEnd(width)}  ${result.entries} entries, ${result.head.events} event records${flagged}  head ${result.head.seq}:${result.head.hash}\n`
          : `FAILED  ${stream.padEnd(width)}  ${result.fault ?? 'verification failed'}  stored head ${stored ?? '(unreadable)'}\n`,
      );
    }
  }
  if (json) printJson(results);
  const failed = results.filter((r) => !r.ok).map((r) => r.stream);
  if (failed.length) {
    throw new ProcuraError(ErrorCode.verify, `${failed.length} of ${streams.length} streams do${failed.length === 1 ? 'es' : ''} not verify: ${failed.join(', ')}`, { file: address.display });
  }
}

/** "46:3f2a..." -> { seq, hash }. */
function parseHead(text: string): { seq: number; hash: string } {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) throw new ProcuraError(ErrorCode.input, `expected <seq>:<64 hex digits> as printed by procura ledger head, got ${JSON.stringify(text)}`, { field: '--expect-head' });
  return { seq: Number(match[1]), hash: match[2]! };
}

/** `--db` as a store address (a SQLite path or a postgres:// URL). */
export function storeAddress(db: string): StoreAddress {
  return parseStoreAddress(db, { field: '--db' });
}

/**
 * `verify` of one store: the bare store's check (ledger/verify.ts), no Ledger and no plant
 * parsed. A store that has no plant yet goes the way of the other read-only commands
 * (openStore: a live store before its first posting verifies against the plant its runner
 * recorded, anything else is refused), so both paths answer every store alike.
 */
async function verifyAt(db: string, options: { expectHead?: { seq: number; hash: string } }): Promise<VerifyResult> {
  const address = storeAddress(db);
  const store = await openSyncStore(address, { mustExist: true, applicationName: 'procura ledger' });
  try {
    if (readSync(store, (r) => r.state()).plant !== undefined) return verifyStore(store, options);
  } finally {
    store.close();
  }
  const book = await openStore(db);
  try {
    return book.verify(options);
  } finally {
    book.close();
  }
}

/** A store that must exist (read-only commands). */
async function openStore(db: string): Promise<Ledger> {
  const address = storeAddress(db);
  const { Ledger, openLedger, parsePlant } = await ledgerModules();
  try {
    return openLedger(address, undefined, { mustExist: true, applicationName: 'procura ledger' });
  } catch (error) {
    if (address.kind !== 'sqlite' || !existsSync(address.path) || !(error instanceof ProcuraError && error.code === ErrorCode.store)) throw error;
    // A live store before its first posting: the plant its runner recorded at start (loaded only then: start-up stays small).
    const { storedLivePlant } = await import('../../live/store.js');
    const live = storedLivePlant(address.path);
    if (live === undefined) throw error;
    return Ledger.openSqlite(address.path, parsePlant(live.text, live.file));
  }
}

/** 1234567.5 -> "1,234,567.50". */
function money(value: Decimal, places: number): string {
  const [whole, fraction] = value.abs().toFixed(places).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${value.isNegative() && !value.isZero() ? '-' : ''}${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}

/** A readable journal: one block per entry, debits then credits indented, quantity changes below. */
export function formatJournal(entries: readonly JournalEntry[], places: number): string {
  const blocks: string[] = [];
  for (const e of entries) {
    const head = [`#${e.seq}`, formatTime(e.at), e.eventType, e.eventId];
    if (e.knownAt !== e.at) head.push(`(known ${formatTime(e.knownAt)})`);
    if (e.reverses !== undefined) head.push(`reverses #${e.reverses}`);
    if (e.ref !== undefined) head.push(`ref ${e.ref}`);
    if (e.reason !== undefined) head.push(`reason ${e.reason}`);
    const versions = Object.entries(e.versions).map(([k, v]) => `${k} ${v}`);
    const lines = [head.join('  ') + (versions.length ? `\n    versions: ${versions.join('; ')}` : '')];
    const width = Math.max(24, ...e.lines.map((l) => l.account.length));
    for (const l of e.lines) {
      if (!l.debit.isZero()) lines.push(`    Dr ${l.account.padEnd(width)} ${money(l.debit, places).padStart(16)}`);
    }
    for (const l of e.lines) {
      if (!l.credit.isZero()) lines.push(`        Cr ${l.account.padEnd(width)} ${''.padStart(12)}${money(l.credit, places).padStart(16)}`);
    }
    if (e.lines.length === 0) lines.push('    (no money entry)');
    if (e.movements.length) lines.push(`    quantities: ${e.movements.map((m) => `${m.id} ${m.qty.isNegative() ? '' : '+'}${groupThousands(m.qty.toFixed())} -> ${groupThousands(m.after.toFixed())}`).join(', ')}`);
    for (const flag of e.flags ?? []) lines.push(`    FLAGGED ${flag}`);
    blocks.push(lines.join('\n'));
  }
  return blocks.length ? blocks.join('\n') : '(no entries)';
}

/** Trial balance table plus book quantities. */
export function formatBalances(book: Ledger, asOf: { at?: EpochMs; knownAt?: EpochMs } = {}): string {
  const places = book.plant.moneyPlaces;
  const balances = book.balances(asOf);
  let debit: Decimal | undefined;
  let credit: Decimal | undefined;
  const rows: string[][] = [];
  for (const [account, value] of balances) {
    if (value.isZero()) continue;
    rows.push([account, value.isPositive() ? money(value, places) : '', value.isNegative() ? money(value.negated(), places) : '']);
    if (value.isPositive()) debit = debit ? debit.plus(value) : value;
    else credit = credit ? credit.plus(value.negated()) : value.negated();
  }
  rows.push(['total', money(debit ?? ZERO, places), money(credit ?? ZERO, places)]);
  const title = `Trial balance (${book.plant.currency}, ${book.plant.trigger}${asOf.at !== undefined ? `, at ${formatTime(asOf.at)}` : ''}${asOf.knownAt !== undefined ? `, known at ${formatTime(asOf.knownAt)}` : ''})`;
  const q = quantitiesToJson(book.quantities(asOf), places) as { materials: Record<string, string>; products: Record<string, string>; hedges: Record<string, { qty: string; carryingValue: string }> };
  const qRows: string[][] = [
    ...Object.entries(q.materials).map(([id, v]) => ['material', id, groupThousands(v), book.plant.materials.get(id)?.unit ?? '']),
    ...Object.entries(q.products).map(([id, v]) => ['product', id, groupThousands(v), book.plant.products.get(id)?.unit ?? '']),
    ...Object.entries(q.hedges).map(([id, h]) => ['hedge', id, groupThousands(h.qty), `carrying ${groupThousands(h.carryingValue)}`]),
  ];
  return `${title}\n${formatTable(['account', 'debit', 'credit'], rows)}\n\nBook quantities\n${qRows.length ? formatTable(['kind', 'id', 'qty', 'unit'], qRows) : '(none)'}`;
}

