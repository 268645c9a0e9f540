/**
 * `procura backtest --export DIR`: the daily series and the trades of every run (the
 * strategy and each baseline) as CSV, and as JSON too when asked, written through
 * danfojs-node data frames (daily-frame.ts documents every column).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import type { BacktestResult } from '../engine/results.js';
import { dailyFrame, loadDanfo, tradeFrame } from './daily-frame.js';

/** The files an export writes, in order. */
export const EXPORT_FILES = { dailyCsv: 'daily.csv', tradesCsv: 'trades.csv', dailyJson: 'daily.json', tradesJson: 'trades.json' } as const;

/**
 * Writes `daily.csv` and `trades.csv` into `dir` (created if missing), and `daily.json` and
 * `trades.json` (arrays of row objects) when `json` is set. Every file's content is built
 * before the first is written, and each is written atomically. Returns the paths written.
 */
export async function exportBacktest(result: BacktestResult, dir: string, options: { json?: boolean } = {}): Promise<string[]> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ConfigError(`${dir} exists and is not a directory`, { field: '--export' });
  const { toCSV, toJSON } = await loadDanfo();
  const daily = await dailyFrame(result);
  const trades = await tradeFrame(result);
  const files: [string, string][] = [
    [EXPORT_FILES.dailyCsv, csvText(toCSV(daily) as string, 'daily')],
    [EXPORT_FILES.tradesCsv, csvText(toCSV(trades) as string, 'trades')],
  ];
  if (options.json === true) {
    files.push([EXPORT_FILES.dailyJson, `${JSON.stringify(toJSON(daily))}\n`], [EXPORT_FILES.tradesJson, `${JSON.stringify(toJSON(trades))}\n`]);
  }
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileAtomic(path, text);
    return path;
  });
}

/**
 * danfo joins cells with "," and quotes nothing: every cell procura exports is a number, a
 * date, an id or a decimal, none of which holds a comma, a quote or a line break. This
 * checks that rather than trusting it, so a future column cannot corrupt the file quietly.
 */
function csvText(text: string, what: string): string {
  if (/["\r]/.test(text)) throw new Error(`internal: the ${what} export holds a character CSV would need to quote`);
  const lines = text.split('\n');
  const width = lines[0]!.split(',').length;
  for (let i = 1; i < lines.length; i += 1) {
    if (lines[i] === '') continue;
    if (lines[i]!.split(',').length !== width) throw new Error(`internal: the ${what} export's line ${i + 1} has a cell with a comma`);
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}
