// The main job's phases in one fresh process, wall and CPU (all threads), for work on what a
// first run pays (V8 compiling, garbage):
//   node bench/main-phases.mjs DIST      (from the repository root; DIST a build, e.g. dist)
// Imports the engine, loads backtests/ammonia-henry-hub.yaml, then runs the scenario's own
// strategy and the jit, schedule and static-hedge baselines once each, recorded and kept, side
// by side as `npm start` does before its report (ORDER=-,jit,... changes the runs, `-` being the
// own; SEQUENTIAL=1 runs them one after another and times each).
// Run it interleaved with the build before a change; the machine is shared.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const distArg = process.argv[2];
if (!distArg) throw new Error('usage: node bench/main-phases.mjs DIST');
const dist = pathToFileURL(resolve(distArg)).href;
const t0 = performance.now();
const c0 = process.cpuUsage();
let lastWall = t0;
let lastCpu = c0;
const lap = (label) => {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const ms = (cpu.user + cpu.system - (lastCpu.user + lastCpu.system)) / 1000;
  console.log(`${label.padEnd(20)} wall ${(wall - lastWall).toFixed(0).padStart(5)} ms  cpu ${ms.toFixed(0).padStart(5)} ms`);
  lastWall = wall;
  lastCpu = cpu;
};
const { runBacktest } = await import(`${dist}/src/engine/backtest.js`);
const { loadScenario } = await import(`${dist}/src/engine/scenario.js`);
const { getStrategy } = await import(`${dist}/strategies/index.js`);
lap('import');
const scenario = loadScenario('backtests/ammonia-henry-hub.yaml');
lap('loadScenario');
const names = (process.env.ORDER ?? '-,jit,schedule,static-hedge').split(',');
const optionsOf = (name) => {
  const options = { record: true };
  if (name !== '-') {
    const definition = getStrategy(name);
    options.strategy = { definition, params: definition.params.parse({}) };
  }
  return options;
};
const kept = [];
if (process.env.SEQUENTIAL === '1') {
  for (const name of names) {
    kept.push(await runBacktest(scenario, optionsOf(name)));
    lap(`run ${name}`);
  }
} else {
  // Side by side, as backtestWithBaselines runs them in process.
  kept.push(...(await Promise.all(names.map((name) => runBacktest(scenario, optionsOf(name))))));
  lap(`runs ${names.join(' ')}`);
}
