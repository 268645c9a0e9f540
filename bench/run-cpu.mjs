// CPU time of one exact backtest run of a build, for before/after comparisons of the engine:
//   node bench/run-cpu.mjs DIST [SCENARIO.yaml] [STRATEGY|-] [RUNS]
// DIST is a build output (`dist`, or a copy of an earlier build's `dist/` kept aside). Runs once
// to warm up, then RUNS times (default 3) with the daily record off (what a sweep runs; add
// RECORD=1 for the main job's recorded runs); prints each run's CPU seconds (process.cpuUsage:
// every thread of the process, V8's garbage-collection helpers included), the median, and the
// median per material-day. Compare two builds interleaved, in the same minute: the machine is
// shared. STRATEGY `-` (the default) is the scenario's own; otherwise a name from strategies/.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distArg, scenarioArg, strategyArg, runsArg] = process.argv.slice(2);
if (!distArg) throw new Error('usage: node bench/run-cpu.mjs DIST [SCENARIO.yaml] [STRATEGY|-] [RUNS]');
const dist = pathToFileURL(resolve(distArg)).href;
const scenarioPath = resolve(scenarioArg ?? 'backtests/ammonia-henry-hub.yaml');
const strategyName = strategyArg && strategyArg !== '-' ? strategyArg : undefined;
const runs = Number(runsArg ?? 3);
const { runBacktest } = await import(`${dist}/src/engine/backtest.js`);
const { loadScenario } = await import(`${dist}/src/engine/scenario.js`);
const { getStrategy } = await import(`${dist}/strategies/index.js`);
const scenario = loadScenario(scenarioPath);
const options = { dailyCosts: false, record: process.env.RECORD === '1' };
if (strategyName) {
  const definition = getStrategy(strategyName);
  if (!definition) throw new Error(`unknown strategy ${strategyName}`);
  options.strategy = { definition, params: definition.params.parse({}) };
}
let result = await runBacktest(scenario, options);
const cpu = [];
for (let i = 0; i < runs; i += 1) {
  const start = process.cpuUsage();
  result = await runBacktest(scenario, options);
  const used = process.cpuUsage(start);
  cpu.push((used.user + used.system) / 1e6);
}
const median = [...cpu].sort((a, b) => a - b)[Math.floor(cpu.length / 2)];
const materialDays = result.days * result.materials.length;
process.stdout.write(
  `${distArg} ${scenarioPath.split('/').pop()} ${strategyName ?? '(own)'}: unit cost ${result.productUnitCost.toFixed(6)}, ` +
    `CPU ${cpu.map((x) => x.toFixed(2)).join(' ')} s, median ${median.toFixed(2)} s = ${((median * 1e6) / materialDays).toFixed(0)} µs per material-day\n`,
);
