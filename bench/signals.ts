/**
 * Signals benchmark: crossover over 10 M synthetic bars, batch and streaming, each beside a
 * same-run reference (a raw Float64Array running-sum SMA crossover loop); technicalindicators
 * on 1 M bars for the record; and the CSV loader beside danfojs-node's read_csv.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../src/core/random.js';
import { parseSeries } from '../src/market/series.js';
import { CrossoverStream, crossover } from '../src/market/signals.js';
import { measure, rateRow, type Bench } from './harness.js';

const FAST = 20;
const SLOW = 50;

function syntheticCloses(n: number, seed: number): Float64Array {
  const random = new Random(seed);
  const close = new Float64Array(n);
  let x = 100;
  for (let i = 0; i < n; i += 1) {
    x += random.normal() * 0.5;
    close[i] = x;
  }
  return close;
}

/** The reference: one loop, two running sums, a state and a crossing count; no output arrays. */
function referenceLoop(close: Float64Array, fast: number, slow: number): number {
  let sumFast = 0;
  let sumSlow = 0;
  let state = -1;
  let crossings = 0;
  for (let i = 0; i < close.length; i += 1) {
    const x = close[i]!;
    sumFast += x;
    sumSlow += x;
    if (i >= fast) sumFast -= close[i - fast]!;
    if (i >= slow) sumSlow -= close[i - slow]!;
    if (i < slow - 1) continue;
    const f = sumFast / fast;
    const s = sumSlow / slow;
    const next = f > s ? 1 : f < s || state === -1 ? 0 : state;
    if (state !== -1 && next !== state) crossings += 1;
    state = next;
  }
  return crossings;
}

export const bench: Bench = async (report) => {
  // Every figure and its reference: best of the same number of runs, wall and CPU time.
  const n = 10_000_000;
  const close = syntheticCloses(n, 42);
  let sink = 0;
  const reference = { name: 'raw Float64Array running-sum SMA crossover loop', timing: await measure(() => (sink += referenceLoop(close, FAST, SLOW)), 3) };

  const batchSma = await measure(() => (sink += crossover(close, { fast: FAST, slow: SLOW, ma: 'sma' }).crossings.length), 3);
  report(rateRow({ name: `signals batch SMA(${FAST})/SMA(${SLOW}), 10M bars`, count: n, unit: 'bars/s', timing: batchSma, reference }));
  const batchEma = await measure(() => (sink += crossover(close, { fast: FAST, slow: SLOW, ma: 'ema' }).crossings.length), 3);
  report(rateRow({ name: `signals batch EMA(${FAST})/EMA(${SLOW}), 10M bars`, count: n, unit: 'bars/s', timing: batchEma, reference }));

  const stream = await measure(() => {
    const s = new CrossoverStream({ fast: FAST, slow: SLOW, ma: 'sma' });
    for (let i = 0; i < n; i += 1) if (s.update(close[i]!).crossing) sink += 1;
  }, 3);
  report(rateRow({ name: `signals streaming SMA(${FAST})/SMA(${SLOW}), 10M bars`, count: n, unit: 'bars/s', timing: stream, reference }));

  // technicalindicators, the library the fast path is checked against: 1 M bars, one run each (it is slow).
  const m = 1_000_000;
  const small = close.subarray(0, m);
  const smallReference = await measure(() => (sink += referenceLoop(small, FAST, SLOW)), 1);
  const ti = await measure(() => (sink += crossover(small, { fast: FAST, slow: SLOW, ma: 'sma' }, { engine: 'technicalindicators' }).crossings.length), 1);
  report(
    rateRow({
      name: `signals batch SMA via technicalindicators, 1M bars`,
      count: m,
      unit: 'bars/s',
      timing: ti,
      reference: { name: 'raw running-sum loop, 1M bars, one run like it', timing: smallReference },
      note: 'for the record; the fast engine is tested against it',
    }),
  );

  // Loading: the hand-rolled parser beside danfojs-node's read_csv on the same OHLCV text.
  const rows = 200_000;
  const lines = ['timestamp,open,high,low,close,volume'];
  for (let i = 0; i < rows; i += 1) {
    const c = close[i]!.toFixed(4);
    lines.push(`${1_600_000_000_000 + i * 60_000},${c},${c},${c},${c},${i % 1000}`);
  }
  const text = `${lines.join('\n')}\n`;
  const parse = await measure(() => (sink += parseSeries(text, 'bench.csv').length), 3);
  const dir = mkdtempSync(join(tmpdir(), 'procura-bench-'));
  const file = join(dir, 'ohlcv.csv');
  writeFileSync(file, text);
  const { readCSV } = await import('danfojs-node');
  await readCSV(file); // warm-up: the first call loads TensorFlow.js
  const danfo = await measure(async () => {
    const frame = await readCSV(file);
    sink += frame.shape[0]!;
  }, 3);
  rmSync(dir, { recursive: true, force: true });
  report(
    rateRow({
      name: `load OHLCV CSV, ${rows / 1000}k rows (parseSeries)`,
      count: rows,
      unit: 'rows/s',
      timing: parse,
      reference: { name: 'danfojs-node readCSV, same file', timing: danfo },
      note: 'reference/measured < 1 means the hand-rolled parser is faster',
    }),
  );
  // csv-parse beside the plain split: the same rows, once with a quoted header cell (which sends
  // the whole file through csv-parse) and once without (the plain split every unquoted file takes).
  const quoted = `"timestamp",open,high,low,close,volume\n${lines.slice(1).join('\n')}\n`;
  const csvParse = await measure(() => (sink += parseSeries(quoted, 'bench-quoted.csv').length), 3);
  report(
    rateRow({
      name: `load OHLCV CSV, ${rows / 1000}k rows, quoted file (csv-parse path)`,
      count: rows,
      unit: 'rows/s',
      timing: csvParse,
      reference: { name: 'same rows unquoted (plain split path)', timing: parse },
      note: 'why unquoted files keep the plain split',
    }),
  );
  if (sink === -1) process.stdout.write('unreachable\n');
};
