// CPU time of the screening engine over the sweep bench's grid in one process, for
// before/after comparisons of screen.ts (the sweep's first phase without its threads):
//   node bench/screen-cpu.mjs DIST [SETS]
// DIST is a build output (`dist`, or a copy of an earlier build's `dist/` kept aside). Screens
// the first SETS sets (default 200) of `fast=5:50:5,slow=60:240:20,maxCoverDays=10:55:5` over
// bench/fixtures/petchem.yaml, in and out of sample, as a sweep's thread does, then the next
// SETS: the first block pays V8's compilation and the signals' first computation, the second is
// the warm loop. Prints wall and CPU (process.cpuUsage) of each block and the second's CPU per
// material-day. Compare two builds interleaved, in the same minute: the machine is shared.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distArg, setsArg] = process.argv.slice(2);
if (!distArg) throw new Error('usage: node bench/screen-cpu.mjs DIST [SETS]');
const dist = pathToFileURL(resolve(distArg)).href;
// The inlining budget the CLI and the bench harness run under (src/core/v8-tuning.ts).
await import(`${dist}/src/core/v8-tuning.js`);
const { loadScenario } = await import(`${dist}/src/engine/scenario.js`);
const { parseSweepSpec, evaluateSet } = await import(`${dist}/src/engine/sweep.js`);
const scenario = loadScenario(resolve('bench/fixtures/petchem.yaml'));
const grid = parseSweepSpec('fast=5:50:5,slow=60:240:20,maxCoverDays=10:55:5', scenario);
const sets = Math.min(Number(setsArg ?? 200), Math.floor(grid.sets.length / 2));
const days = Math.round((scenario.to - scenario.from) / 86_400_000) + 1;
for (const [label, from] of [['first', 0], ['next', sets]]) {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  for (let i = from; i < from + sets; i += 1) await evaluateSet(scenario, grid.sets[i], 'screen');
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const perDay = (cpuMs * 1000) / (sets * days * scenario.materials.length);
  console.log(`${label} ${sets} sets: wall ${(performance.now() - wall).toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms (${perDay.toFixed(3)} µs per material-day)`);
}
