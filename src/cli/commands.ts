/**
 * The `procura` command groups, for a start-up that loads only what it runs. Each entry has
 * the group's help line and a loader for its module; main.ts imports just the module of the
 * command on the command line (`procura ledger verify` never loads the backtester, ccxt or
 * danfojs-node), and for `procura --help` registers these lines alone. A test checks that
 * the lines here match what each module registers.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  /** As commander prints it in the command list: name, [options], arguments. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<{ register: (program: Command) => void }>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  init: { term: 'init [options] [dir]', description: 'scaffold a plant, a backtest scenario on your price CSV and a live config, commented, that run as written', load: () => import('./commands/init.js') },
  ledger: { term: 'ledger', description: 'backflush cost ledger: replay, post, import, balances, journal, verify', load: () => import('./commands/ledger.js') },
  signals: { term: 'signals [options]', description: 'moving-average crossover signals on a price series (CSV: Date,Price; OHLCV; or a wide table with --column)', load: () => import('./commands/signals.js') },
  data: { term: 'data', description: 'market data downloads', load: () => import('./commands/data.js') },
  cost: { term: 'cost [options]', description: 'the cost feed as of a time: unit costs (standard, actual, replacement), carrying cost, inventory position and exposure', load: () => import('./commands/cost.js') },
  backtest: { term: 'backtest [options] <scenario>', description: 'Run a backtest scenario (strategy vs the jit and schedule baselines, and static-hedge when it hedges) and write its HTML report', load: () => import('./commands/backtest.js') },
  db: { term: 'db', description: 'PostgreSQL store: schema migrations, copy a SQLite ledger into PostgreSQL', load: () => import('./commands/db.js') },
  worker: { term: 'worker [options]', description: 'take parameter sets of sweeps from a PostgreSQL queue and run them (backtest --sweep --queue)', load: () => import('./commands/worker.js') },
  live: { term: 'live [options]', description: "run the desk live on the config's cron schedule (or once) against an exchange sandbox or demo account", load: () => import('./commands/live.js') },
};

/** The command group named on a command line (`procura [global options] NAME ...`, or `procura help NAME`), if any. */
export function commandNamed(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const first = words[0] === 'help' ? words[1] : words[0];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}
