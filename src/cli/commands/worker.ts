/**
 * `procura worker --queue URL`: a sweep worker. Takes the parameter sets `procura backtest
 * SCENARIO --sweep GRID --queue URL` puts on the PostgreSQL queue, runs each, stores its
 * result; until stopped (Ctrl-C, SIGTERM). See engine/sweep-queue.ts and docs/scaling.md.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { parseStoreAddress } from '../../store/address.js';
import { action } from '../run.js';

export function register(program: Command): void {
  program
    .command('worker')
    .description('take parameter sets of sweeps from a PostgreSQL queue and run them (backtest --sweep --queue)')
    .requiredOption('--queue <url>', 'postgres://user@host:port/database (password from PGPASSWORD or ~/.pgpass)')
    .action(
      action(async (options: { queue: string }) => {
        const queue = parseStoreAddress(options.queue, { field: '--queue' });
        if (queue.kind !== 'postgres') throw new ConfigError(`expected a postgres:// URL, got ${JSON.stringify(options.queue)}`, { field: '--queue' });
        const { runQueueWorker } = await import('../../engine/sweep-queue.js');
        await runQueueWorker({ queue });
      }),
    );
}
