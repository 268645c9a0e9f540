// A sweep thread's exact confirmation in one process, for before/after comparisons of what the
// exact runs after a screening share (the cost feed's shared sigma chain, CostFeed.finish):
//   node bench/confirm-cpu.mjs DIST [SETS]
// DIST is a build output (`dist`, or an earlier build's `dist/` kept aside). Screens the first
// SETS sets (default 10) of `fast=5:50:5,slow=60:240:20,maxCoverDays=10:55:5` over
// bench/fixtures/petchem.yaml, as a sweep's thread does first, then runs each on the exact engine
// in and out of sample, then the jit and schedule baselines, one after another as one thread's
// share of a confirmation. Prints wall and CPU (process.cpuUsage) of each exact job and of all.
// Compare two builds interleaved, in the same minute: the machine is shared.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distArg, setsArg] = process.argv.slice(2);
if (!distArg) throw new Error('usage: node bench/confirm-cpu.mjs DIST [SETS]');
const dist = pathToFileURL(resolve(distArg)).href;
await import(`${dist}/src/core/v8-tuning.js`);
const { loadScenario } = await import(`${dist}/src/engine/scenario.js`);
const { parseSweepSpec, evaluateSet, evaluateBaseline } = await import(`${dist}/src/engine/sweep.js`);
const scenario = loadScenario(resolve('bench/fixtures/petchem.yaml'));
const grid = parseSweepSpec('fast=5:50:5,slow=60:240:20,maxCoverDays=10:55:5', scenario);
const sets = grid.sets.slice(0, Number(setsArg ?? 10));
for (const params of sets) await evaluateSet(scenario, params, 'screen');
const line = (label, wall, cpu) => {
  const used = process.cpuUsage(cpu);
  console.log(`${label.padEnd(44)} wall ${(performance.now() - wall).toFixed(0).padStart(6)} ms  cpu ${((used.user + used.system) / 1000).toFixed(0).padStart(6)} ms`);
};
const wall0 = performance.now();
const cpu0 = process.cpuUsage();
for (const params of sets) {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  await evaluateSet(scenario, params, 'exact');
  line(`set ${JSON.stringify(params).slice(0, 38)}`, wall, cpu);
}
for (const name of ['jit', 'schedule']) {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  await evaluateBaseline(scenario, name);
  line(`baseline ${name}`, wall, cpu);
}
line('all exact jobs', wall0, cpu0);
