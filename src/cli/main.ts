/**
 * The `procura` command. This is the composition root: the only place that wires adapters
 * (stores, venues, clocks, data sources) together. Each command group lives in its own file
 * under commands/ and is listed in commands.ts; only the group named on the command line is
 * loaded (start-up stays small: no ccxt, danfojs-node or backtester for `procura --help`).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ExitStatus } from '../core/errors.js';
import { COMMANDS, commandNamed } from './commands.js';

// `procura ledger journal | head`: a reader that closes the pipe early ends the command quietly,
// as a Unix filter killed by SIGPIPE does (status 141, not 0: the command did not finish, which
// `set -o pipefail` and a service's restart policy must see), instead of a stack trace for the
// unhandled EPIPE. Stores commit or roll back whole transactions, so nothing is half-written; a
// live run stopped mid-tick recovers on its next start, as after a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitStatus.stdoutClosed);
  throw error;
});

const program = new Command();
program
  .name('procura')
  .description('Cost-driven commodity procurement and hedging: backflush cost ledger, cost feed, signals, backtests, live runs.')
  .version(packageVersion(), '-V, --version', 'print the version')
  .showHelpAfterError('(procura --help, or procura <command> --help, shows the usage)')
  .configureOutput({
    writeErr: (text) => process.stderr.write(text),
    // Usage errors read like every other procura error: "procura: <message>", exit 2 below.
    outputError: (text, write) => write(`procura: ${text.replace(/^error: /, '')}`),
  })
  .exitOverride((error) => {
    // commander's own usage errors (unknown option, missing argument) exit 2 like any bad input.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

const named = commandNamed(process.argv.slice(2));
if (named !== undefined) {
  (await COMMANDS[named]!.load()).register(program);
} else {
  // Help, --version or a mistyped command: the list of groups is all that is needed.
  for (const [name, entry] of Object.entries(COMMANDS)) program.command(name).description(entry.description);
  program.configureHelp({ subcommandTerm: (command) => COMMANDS[command.name()]?.term ?? command.name() });
}

await program.parseAsync(process.argv);

function packageVersion(): string {
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (json.name === 'procura' && json.version !== undefined) return json.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
