/**
 * The `procura` command. This is the composition root: the only place that wires adapters
 * (stores, venues, clocks, data sources) together. Each command group lives in its own file
 * under commands/ and registers itself here.
 */
import { Command } from 'commander';
import { register as registerLedger } from './commands/ledger.js';
import { register as registerSignals } from './commands/signals.js';
import { register as registerData } from './commands/data.js';
import { register as registerCost } from './commands/cost.js';
import { register as registerBacktest } from './commands/backtest.js';
import { register as registerLive } from './commands/live.js';

const program = new Command();
program
  .name('procura')
  .description('Cost-driven commodity procurement and hedging: backflush cost ledger, cost feed, signals, backtests, live runs.')
  .showHelpAfterError()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) })
  .exitOverride((error) => {
    // commander's own usage errors (unknown option, missing argument) exit 2 like any bad input.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

const registrations: Array<(program: Command) => void> = [
  // command groups register here, one import each
  registerLedger,
  registerSignals,
  registerData,
  registerCost,
  registerBacktest,
  registerLive,
];
for (const register of registrations) register(program);

await program.parseAsync(process.argv);
