/**
 * `procura signals --data F --fast N --slow M [--ma sma|ema] [--column C] [--json|--csv]`:
 * moving-average crossover signals on a price file. JSON and CSV carry every bar; the human
 * table shows the last `--last` bars (20 by default) and the last `--last` crossings. Warnings about the
 * data (skipped rows, negative prices) go to stderr so they never mix with machine output.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.js';
import { barTimeFormatter, loadSeries, type PriceSeries } from '../../market/series.js';
import { crossover, type CrossoverResult, type Engine, type MovingAverageKind } from '../../market/signals.js';
import { action, formatTable, printJson } from '../run.js';
import { formatCount, formatNumber, groupThousands } from '../format.js';

interface SignalsOptions {
  data: string;
  fast: string;
  slow: string;
  ma: string;
  column?: string;
  json?: boolean;
  csv?: boolean;
  last: string;
  engine: string;
}

/** The `--json` document. */
export interface SignalsJson {
  bars: Array<{ date: string; close: number; fast: number | null; slow: number | null; state: 0 | 1 | null }>;
  crossings: Array<{ date: string; direction: 'up' | 'down'; price: number }>;
}

export function register(program: Command): void {
  program
    .command('signals')
    .description('moving-average crossover signals on a price series (CSV: Date,Price; OHLCV; or a wide table with --column)')
    .requiredOption('--data <file>', 'price CSV file')
    .requiredOption('--fast <bars>', 'fast moving-average window, in bars')
    .requiredOption('--slow <bars>', 'slow moving-average window, in bars (longer than --fast)')
    .option('--ma <kind>', 'sma or ema', 'sma')
    .option('--column <name>', 'price column of a wide table (e.g. copper in the World Bank file)')
    .option('--json', 'every bar and every crossing as JSON')
    .option('--csv', 'every bar as CSV (date,close,fast,slow,state,crossing)')
    .option('--last <n>', 'bars and crossings shown in the human tables (--json or --csv for all)', '20')
    .option('--engine <engine>', 'fast (running sums) or technicalindicators (the reference, slower)', 'fast')
    .action(action((options: SignalsOptions) => runSignals(options)));
}

function runSignals(options: SignalsOptions): void {
  if (options.json && options.csv) throw new InputError('choose one of --json or --csv', { field: '--csv' });
  const fast = parseBars(options.fast, '--fast');
  const slow = parseBars(options.slow, '--slow');
  const last = parseBars(options.last, '--last');
  const ma = options.ma.toLowerCase();
  if (ma !== 'sma' && ma !== 'ema') throw new InputError(`expected sma or ema, got ${JSON.stringify(options.ma)}`, { field: '--ma' });
  if (options.engine !== 'fast' && options.engine !== 'technicalindicators') {
    throw new InputError(`expected fast or technicalindicators, got ${JSON.stringify(options.engine)}`, { field: '--engine' });
  }
  const series = loadSeries(options.data, { column: options.column });
  const result = crossover(series.close, { fast, slow, ma: ma as MovingAverageKind }, { engine: options.engine as Engine, where: { file: options.data } });
  for (const warning of series.warnings) process.stderr.write(`procura: warning: ${warning}\n`);

  const document = toJson(series, result);
  if (options.json) {
    printJson(document);
    return;
  }
  if (options.csv) {
    const crossingAt = new Map(result.crossings.map((c) => [c.index, c.direction]));
    const lines = ['date,close,fast,slow,state,crossing'];
    document.bars.forEach((bar, i) => {
      lines.push([bar.date, bar.close, bar.fast ?? '', bar.slow ?? '', bar.state ?? '', crossingAt.get(i) ?? ''].join(','));
    });
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  const shownFrom = Math.max(0, series.length - last);
  const label = `${ma.toUpperCase()}(${fast}) / ${ma.toUpperCase()}(${slow})`;
  const out: string[] = [];
  out.push(`${series.id}: ${formatCount(series.length)} ${series.interval} bars, ${document.bars[0]!.date} .. ${document.bars[series.length - 1]!.date}, ${label}`);
  out.push('');
  out.push(`last ${formatCount(series.length - shownFrom)} bars (--json or --csv for all ${formatCount(series.length)}):`);
  out.push(
    formatTable(
      ['date', 'close', 'fast', 'slow', 'state'],
      document.bars.slice(shownFrom).map((bar) => [bar.date, groupThousands(String(bar.close)), fixed(bar.fast), fixed(bar.slow), bar.state === null ? '-' : String(bar.state)]),
    ),
  );
  out.push('');
  const current = document.bars[series.length - 1]!.state;
  const crossingsShown = document.crossings.slice(Math.max(0, document.crossings.length - last));
  const shownNote = crossingsShown.length < document.crossings.length ? ` (the last ${formatCount(crossingsShown.length)} shown; --last or --json for more)` : '';
  out.push(`${formatCount(document.crossings.length)} crossing(s)${shownNote}; state now ${current === null ? 'undefined' : current === 1 ? '1 (fast above slow)' : '0 (fast not above slow)'}:`);
  if (crossingsShown.length > 0) {
    out.push(formatTable(['date', 'direction', 'price'], crossingsShown.map((c) => [c.date, c.direction, groupThousands(String(c.price))])));
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The `--json` document for a series and its crossover result. */
export function toJson(series: PriceSeries, result: CrossoverResult): SignalsJson {
  const format = barTimeFormatter(series);
  const bars: SignalsJson['bars'] = new Array(series.length);
  for (let i = 0; i < series.length; i += 1) {
    const f = result.fast[i]!;
    const s = result.slow[i]!;
    const state = result.state[i]!;
    bars[i] = {
      date: format(series.at[i]!),
      close: series.close[i]!,
      fast: Number.isNaN(f) ? null : f,
      slow: Number.isNaN(s) ? null : s,
      state: state === -1 ? null : (state as 0 | 1),
    };
  }
  const crossings = result.crossings.map((c) => ({ date: format(series.at[c.index]!), direction: c.direction, price: series.close[c.index]! }));
  return { bars, crossings };
}

function parseBars(raw: string, field: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new InputError(`expected a whole number of bars, got ${JSON.stringify(raw)}`, { field });
  return Number(raw.trim());
}

function fixed(value: number | null): string {
  return value === null ? '-' : formatNumber(value, 4);
}
