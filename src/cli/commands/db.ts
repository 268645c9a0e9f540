/**
 * `procura db ...`: the PostgreSQL store's schema (`migrate`) and moving a SQLite ledger into
 * PostgreSQL (`copy`, the chain verified on both sides). See docs/scaling.md.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { parseStoreAddress } from '../../store/address.js';
import { copySqliteToPostgres } from '../../store/copy.js';
import { connectPg, pgError, type PgAddress } from '../../store/pg/connect.js';
import { migrateOp, SCHEMA_VERSION } from '../../store/pg/migrations.js';
import { runAsync } from '../../store/pg/ops.js';
import { formatCount } from '../format.js';
import { progressBar } from '../progress.js';
import { action, printJson } from '../run.js';

/** 1 entry, 2 entries. */
function count(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

function postgresAddress(text: string, field: string): PgAddress {
  const address = parseStoreAddress(text, { field });
  if (address.kind !== 'postgres') throw new ConfigError(`expected a postgres:// URL, got ${JSON.stringify(text)}`, { field });
  return address;
}

/** Registers the `db` command group. */
export function register(program: Command): void {
  const db = program.command('db').description('PostgreSQL store: schema migrations, copy a SQLite ledger into PostgreSQL');

  db.command('migrate')
    .description(`create or upgrade the procura schema in a PostgreSQL database (to version ${SCHEMA_VERSION}); run as the database owner`)
    .requiredOption('--db <url>', 'postgres://user@host:port/database (password from PGPASSWORD or ~/.pgpass)')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { db: string; json?: boolean }) => {
        const address = postgresAddress(opts.db, '--db');
        const client = await connectPg(address, 'procura db migrate');
        try {
          const result = await runAsync(migrateOp(address.display), async (q) => (await client.query({ text: q.text, values: q.values as unknown[] | undefined })).rows).catch((error: unknown) => {
            throw pgError(error, address, 'migrate');
          });
          if (opts.json) {
            printJson({ database: address.display, from: result.from, to: result.to, applied: result.applied.map((m) => ({ version: m.version, name: m.name })) });
            return;
          }
          if (result.applied.length === 0) process.stdout.write(`${address.display}: procura schema already at version ${result.to}\n`);
          else {
            for (const m of result.applied) process.stdout.write(`applied ${m.version}: ${m.name}\n`);
            process.stdout.write(`${address.display}: procura schema at version ${result.to} (was ${result.from})\n`);
          }
        } finally {
          await client.end().catch(() => undefined);
        }
      }),
    );

  db.command('copy')
    .description('copy a SQLite ledger store into a PostgreSQL database in one transaction; both chains verified, same head')
    .requiredOption('--from <file>', 'SQLite ledger store')
    .requiredOption('--to <url>', 'postgres://user@host:port/database: empty, or filled by an earlier copy of the same file')
    .option('--json', 'machine output')
    .action(
      action(async (opts: { from: string; to: string; json?: boolean }) => {
        const from = parseStoreAddress(opts.from, { field: '--from' });
        if (from.kind !== 'sqlite') throw new ConfigError('expected a SQLite file (the copy goes from SQLite to PostgreSQL)', { field: '--from' });
        const to = postgresAddress(opts.to, '--to');
        const bar = await progressBar('copy', 'entries', { delayMs: 2000 });
        let result;
        try {
          result = await copySqliteToPostgres(from.path, to, (done, total) => bar.update(done, total));
        } finally {
          bar.stop();
        }
        if (opts.json) {
          printJson({ from: from.display, to: to.display, head: result.target, copied: result.copied, alreadyThere: result.alreadyThere });
          return;
        }
        process.stdout.write(`source ${from.display} verifies: ${formatCount(result.source.seq)} entries, ${formatCount(result.source.events)} events\n`);
        process.stdout.write(
          `copied ${count(result.copied.entries, 'entry', 'entries')}, ${count(result.copied.events, 'event')}, ${count(result.copied.plants, 'plant version')} and ${count(result.copied.checkpoints, 'checkpoint')} into ${to.display}${result.alreadyThere ? ` (${formatCount(result.alreadyThere)} entries were already there)` : ''}\n`,
        );
        process.stdout.write(`target verifies with the same head: ${result.target.seq}:${result.target.hash}\n`);
      }),
    );
}
