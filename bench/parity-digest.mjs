// The exact engine's parity oracle: for a speed change that must not move one figure.
//   node bench/parity-digest.mjs ROOT [YEARS] > digest.txt
// ROOT is a checkout with a build in ROOT/dist. Runs every bundled and held-out scenario with
// its own strategy and with each shipped strategy, over the first YEARS years (default 8; 0 = the
// full range), with the daily record on, and prints one line per run: scenario, strategy,
// product unit cost and a hash of the whole result (every figure, cause, order, trade and daily
// row; Decimals as text). Run it on the build before a change and on the build after, then
// `diff` the two outputs: any difference is a changed figure. About 2.5 min of CPU for 8 years,
// 6-8 min for the full range.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const rootArg = process.argv[2];
if (!rootArg) throw new Error('usage: node bench/parity-digest.mjs ROOT [YEARS]');
const root = resolve(rootArg);
const dist = pathToFileURL(`${root}/dist`).href;
const years = Number(process.argv[3] ?? 8);
const { runBacktest } = await import(`${dist}/src/engine/backtest.js`);
const { loadScenario } = await import(`${dist}/src/engine/scenario.js`);
const { getStrategy, strategyNames } = await import(`${dist}/strategies/index.js`);
const names = strategyNames();
const yamlIn = (dir) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => `${dir}/${f}`);
const files = [...yamlIn(`${root}/backtests`), ...yamlIn(`${root}/backtests/held-out`)];
const replacer = (_key, value) => (value instanceof Map ? Object.fromEntries(value) : typeof value === 'bigint' ? value.toString() : value);
let cpu = 0;
for (const file of files) {
  const scenario = loadScenario(file);
  const to = years > 0 ? Math.min(scenario.to, scenario.from + years * 365.25 * 86_400_000) : scenario.to;
  for (const name of [undefined, ...names]) {
    // 5,000 decisions kept, as every build before round 11 kept (a build that does not know the
    // option ignores it), so that digests of builds on both sides of that change compare.
    const options = { record: true, to, decisions: 5000 };
    if (name) {
      const definition = getStrategy(name);
      options.strategy = { definition, params: definition.params.parse({}) };
    }
    const start = process.cpuUsage();
    let line;
    try {
      const result = await runBacktest(scenario, options);
      line = `${result.productUnitCost.toFixed(8)} ${createHash('sha256').update(JSON.stringify(result, replacer)).digest('hex').slice(0, 16)}`;
    } catch (error) {
      line = `error ${String(error.message).slice(0, 80)}`;
    }
    const used = process.cpuUsage(start);
    cpu += (used.user + used.system) / 1e6;
    process.stdout.write(`${file.split('/').pop()} ${name ?? '(own)'} ${line}\n`);
  }
}
process.stderr.write(`cpu ${cpu.toFixed(1)} s\n`);
