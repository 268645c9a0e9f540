/**
 * Cold start of the command line: `procura --help` and `procura ledger verify` on a small
 * store, each beside `node -e 0` (the bare runtime start) timed the same way in the same run:
 * child processes run interleaved, wall time per run (median) and CPU time per run (user +
 * system of the waited-for children, from /proc/self/stat, so Linux only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Bench } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'procura.js');
const RUNS = 15;
const TICK_MS = 10; // CLK_TCK 100

/** CPU time of all waited-for children so far, ms (clock-tick resolution). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

function run(args: readonly string[]): { wallMs: number; cpuMs: number } {
  const cpu = childrenCpuMs();
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const wallMs = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpu };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const bench: Bench = async (report) => {
  const dir = mkdtempSync(join(tmpdir(), 'procura-bench-startup-'));
  const db = join(dir, 'small.sqlite');
  run([BIN, 'ledger', 'post', '--db', db, '--plant', join(ROOT, 'config', 'ammonia-plant.yaml'), '--events', join(ROOT, 'config', 'ammonia-events.jsonl')]);
  const cases: Record<string, readonly string[]> = {
    reference: ['-e', '0'],
    'procura --help': [BIN, '--help'],
    'procura ledger verify, small store': [BIN, 'ledger', 'verify', '--db', db],
  };
  const samples = new Map<string, { wall: number[]; cpu: number[] }>(Object.keys(cases).map((k) => [k, { wall: [], cpu: [] }]));
  run(cases['procura --help']!); // warm the file cache
  for (let i = 0; i < RUNS; i += 1) {
    for (const [name, args] of Object.entries(cases)) {
      const t = run(args);
      samples.get(name)!.wall.push(t.wallMs);
      samples.get(name)!.cpu.push(t.cpuMs);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const ref = samples.get('reference')!;
  const refWall = median(ref.wall);
  const refCpu = ref.cpu.reduce((a, b) => a + b, 0) / RUNS;
  for (const name of ['procura --help', 'procura ledger verify, small store']) {
    const s = samples.get(name)!;
    report({ name: `${name}, wall (median of ${RUNS})`, value: median(s.wall), unit: 'ms', better: 'lower', reference: { name: 'node -e 0', value: refWall }, target: '<= 300 ms wall' });
    report({ name: `${name}, CPU (mean of ${RUNS})`, value: s.cpu.reduce((a, b) => a + b, 0) / RUNS, unit: 'ms', better: 'lower', reference: { name: 'node -e 0', value: refCpu } });
  }
};
