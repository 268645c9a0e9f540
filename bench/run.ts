/**
 * `npm run bench`: runs every benchmark module (or those named on the command line, e.g.
 * `npm run bench -- ledger`) and prints one line per figure with its same-run reference.
 */
// The CLI's V8 setting (evaluated first, before any benchmark module is loaded): the benchmarks measure what `procura` runs.
import '../src/core/v8-tuning.js';
import { formatRow, type Bench, type BenchRow } from './harness.js';

const modules: Record<string, () => Promise<{ bench: Bench }>> = {
  backtest: () => import('./backtest.js'),
  // name: () => import('./name.js'),
  ledger: () => import('./ledger.js'),
  signals: () => import('./signals.js'),
  costfeed: () => import('./costfeed.js'),
  live: () => import('./live.js'),
  startup: () => import('./startup.js'),
  pg: () => import('./pg.js'),
  engine: () => import('./engine.js'),
  queue: () => import('./queue.js'),
  sweep: () => import('./sweep.js'),
};

const wanted = process.argv.slice(2);
const rows: BenchRow[] = [];
for (const [name, load] of Object.entries(modules)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`# ${name}\n`);
  const { bench } = await load();
  await bench((row) => {
    rows.push(row);
    process.stdout.write(`${formatRow(row)}\n`);
  });
}
if (rows.length === 0) process.stdout.write('no benchmark matched\n');
