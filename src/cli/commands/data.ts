/**
 * `procura data fetch --exchange X --symbol S --timeframe 1d [--since T] [--out F] [--emulator URL] [--sandbox]`:
 * downloads candles through the ccxt venue into the OHLCV CSV the backtester reads, resuming
 * where the file ends. Public market data only: no credentials are read, and the venue opened
 * here cannot place orders (`market-data` mode), so it reads the real exchange's prices
 * unless `--sandbox` asks for the sandbox's.
 */
import type { Command } from 'commander';
import { ProcuraError } from '../../core/errors.js';
import { formatTime, parseTime, systemClock } from '../../core/time.js';
import { action, printJson } from '../run.js';
import { formatCount } from '../format.js';
import { progressBar } from '../progress.js';

interface FetchOptions {
  exchange: string;
  symbol: string;
  timeframe: string;
  since?: string;
  out?: string;
  emulator?: string;
  sandbox?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const data = program.command('data').description('market data downloads');
  data
    .command('fetch')
    .description('download candles through ccxt into timestamp,open,high,low,close,volume CSV, resuming where the file ends')
    .requiredOption('--exchange <id>', 'ccxt exchange id, e.g. binance')
    .requiredOption('--symbol <symbol>', 'exchange symbol, e.g. PAXG/USDT')
    .option('--timeframe <tf>', 'candle timeframe (1m, 1h, 1d, ...)', '1d')
    .option('--since <time>', 'first candle when the file is new (YYYY-MM-DD, ISO time or epoch ms)')
    .option('--out <file>', 'CSV file (default data/<exchange>-<symbol>-<timeframe>.csv)')
    .option('--emulator <url>', 'base URL of a Binance emulator (tests and demos)')
    .option('--sandbox', "the exchange sandbox's candles instead of the real market's")
    .option('--json', 'print the result as JSON')
    .action(action((options: FetchOptions) => runFetch(options)));
}

/** Default output path for a download. */
export function defaultCandleFile(exchange: string, symbol: string, timeframe: string): string {
  return `data/${exchange}-${symbol.replace(/[^A-Za-z0-9]+/g, '-')}-${timeframe}.csv`;
}

async function runFetch(options: FetchOptions): Promise<void> {
  const since = options.since === undefined ? undefined : parseTime(options.since, { field: '--since' });
  // ccxt is loaded only by the commands that talk to an exchange (start-up of every other command).
  const { CcxtVenue } = await import('../../venues/ccxt/ccxt-venue.js');
  const { downloadCandles } = await import('../../venues/ccxt/download-candles.js');
  const venue = new CcxtVenue({
    exchange: options.exchange,
    mode: options.sandbox ? 'sandbox' : 'market-data',
    ...(options.emulator !== undefined ? { emulatorUrl: options.emulator } : {}),
    env: {},
  });
  await venue.init();
  const symbol = reanchor(() => venue.symbolOf(options.symbol), '--symbol');
  reanchor(() => venue.timeframeMs(options.timeframe), '--timeframe');
  const out = options.out ?? defaultCandleFile(options.exchange, symbol, options.timeframe);
  const periodMs = venue.timeframeMs(options.timeframe);
  const bar = await progressBar('fetch', `${options.timeframe} candles`, { enabled: options.json !== true });
  const result = await downloadCandles(venue, { symbol, timeframe: options.timeframe, out, since, clock: systemClock, onPage: (done, of) => bar.update(Math.floor(done / periodMs), Math.ceil(of / periodMs)) }).finally(() => bar.stop());
  if (options.json) {
    printJson(result);
    return;
  }
  if (result.resumedFrom !== undefined) {
    process.stderr.write(`procura: note: ${out} already has data; resuming from ${formatTime(result.resumedFrom)} (--since ignored)\n`);
  }
  const span = result.firstAt !== undefined && result.lastAt !== undefined ? ` (${formatTime(result.firstAt)} .. ${formatTime(result.lastAt)})` : '';
  process.stdout.write(`${out}: ${formatCount(result.addedRows)} new candles, ${formatCount(result.keptRows + result.addedRows)} in total${span}\n`);
}

/** Runs `check`, naming the command-line option in any ProcuraError it throws. */
function reanchor<T>(check: () => T, option: string): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ProcuraError) throw new ProcuraError(error.code, error.detail, { field: option });
    throw error;
  }
}
