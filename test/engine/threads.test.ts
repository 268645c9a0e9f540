/**
 * The main job's runs on worker threads (`procura backtest`, `--workers`): the same figures
 * in the same order as in process, Decimals intact across the thread boundary, and values
 * that cannot cross it refused instead of arriving changed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { fromTransfer, toTransfer } from '../../src/core/transfer.js';
import { pathToFileURL } from 'node:url';
import { dispatchOrder, THREAD_MIN_MATERIAL_DAYS, threadsFor } from '../../src/engine/results.js';
import { nextInGroups, runOnThreadPool, WorkerPool } from '../../src/engine/thread-pool.js';
import { ROOT } from '../support/cli.js';
import { shortAmmoniaFile } from '../support/scenarios.js';

const work = mkdtempSync(join(tmpdir(), 'procura-threads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('values across worker threads', () => {
  it('rebuilds every Decimal exactly (sign, exponent, digits), inside arrays, objects and Maps', () => {
    const text = fc.oneof(
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => n.toString()),
      fc.tuple(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.integer({ min: 0, max: 39 })).map(([n, e]) => new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)).toFixed()),
      fc.constantFrom('0', '-0', '1e-35', '-7e38', '0.1'),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 5 }), (texts) => {
        const values = texts.map((t) => new Decimal(t));
        const value = { list: values, map: new Map(values.map((v, i) => [String(i), { v }])), plain: 3, none: null, gone: undefined, series: new Float64Array([1.5, -2]) };
        // The structured clone a worker's postMessage does, then the rebuild.
        const back = fromTransfer(structuredClone(toTransfer(value))) as typeof value;
        expect(back).toStrictEqual(value);
        back.list.forEach((d, i) => {
          expect(d).toBeInstanceOf(Decimal);
          expect(d.toFixed()).toBe(values[i]!.toFixed());
          expect(Object.is(d.toNumber(), values[i]!.toNumber())).toBe(true);
          expect(d.plus(1).equals(values[i]!.plus(1))).toBe(true);
        });
      }),
    );
  });

  it('refuses class instances and functions, naming where they are', () => {
    class Book {
      qty = 1;
    }
    expect(() => toTransfer({ runs: [{ book: new Book() }] }, 'RunResult')).toThrow(/RunResult\.runs\[0\]\.book is a Book/);
    expect(() => toTransfer({ onDay: () => 1 }, 'RunResult')).toThrow(/RunResult\.onDay is a function/);
  });
});

describe('the strategy and its baselines on worker threads', () => {
  it('gives the same results, in the same order, as the runs in process (ammonia with its hedge, 18 months)', async () => {
    // The built modules: a worker thread loads dist/src/engine/run-worker.js.
    const { backtestWithBaselines, resultJson, summaryTable } = (await import(join(ROOT, 'dist', 'src', 'engine', 'results.js'))) as typeof import('../../src/engine/results.js');
    const { loadScenario } = (await import(join(ROOT, 'dist', 'src', 'engine', 'scenario.js'))) as typeof import('../../src/engine/scenario.js');
    const file = shortAmmoniaFile(work);
    const scenario = loadScenario(file);
    const inProcess = await backtestWithBaselines(scenario, { record: true });
    const progress: number[] = [];
    const threaded = await backtestWithBaselines(scenario, { record: true, threads: { file, overrides: {}, workers: 2, minMaterialDays: 0 }, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([1, 2, 3, 4]);
    expect([...threaded.baselines.keys()]).toEqual(['jit', 'schedule', 'static-hedge']);
    expect(threaded.run.trades.length).toBeGreaterThan(10);
    expect(threaded.baselines.get('static-hedge')!.materials[0]!.hedgePnl.isZero()).toBe(false);
    // Every field of every run (Decimals, Maps, typed arrays, the daily record), and what is printed.
    expect(threaded.run).toStrictEqual(inProcess.run);
    expect([...threaded.baselines.entries()]).toStrictEqual([...inProcess.baselines.entries()]);
    expect(JSON.stringify(resultJson(threaded))).toBe(JSON.stringify(resultJson(inProcess)));
    expect(summaryTable(threaded)).toStrictEqual(summaryTable(inProcess));

    // A thread that fails (here: its scenario file is gone) fails the whole job, naming the cause, and ends the other threads.
    const gone = join(work, 'gone.yaml');
    await expect(backtestWithBaselines(scenario, { threads: { file: gone, overrides: {}, workers: 2, minMaterialDays: 0 } })).rejects.toThrow(/gone\.yaml/);
  }, 600_000);
});

describe('the order runs are handed to threads in', () => {
  it('hands the jobs out in the order asked for, each answer at its own index', async () => {
    const worker = join(work, 'echo.mjs');
    writeFileSync(worker, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => parentPort.postMessage(m));\n");
    const seen: [number, string][] = [];
    await runOnThreadPool<string, { index: number; job: string }>({
      url: pathToFileURL(worker),
      workerData: null,
      jobs: ['a', 'b', 'c', 'd'],
      count: 1,
      order: [3, 1, 0, 2],
      message: (index, job) => ({ index, job }),
      answer: (m) => {
        seen.push([m.index, m.job]);
        return undefined;
      },
      what: 'an echo thread',
    });
    expect(seen).toEqual([[3, 'd'], [1, 'b'], [0, 'a'], [2, 'c']]);
  });

  it('keeps its threads between batches (a sweep confirms on the threads that screened), and ends on the first failure', async () => {
    const worker = join(work, 'echo-thread.mjs');
    writeFileSync(
      worker,
      "import { parentPort, threadId } from 'node:worker_threads';\n" +
        "parentPort.on('message', (m) => { if (m.job === 'exit') process.exit(3); parentPort.postMessage({ ...m, thread: threadId }); });\n",
    );
    type Echo = { index: number; job: string; thread: number };
    const pool = new WorkerPool<Echo>({ url: pathToFileURL(worker), workerData: null, count: 2, what: 'an echo thread' });
    const threadsOf = async (jobs: string[]): Promise<Echo[]> => {
      const seen: Echo[] = [];
      await pool.run<string>({ jobs, message: (index, job) => ({ index, job }), answer: (m) => (seen.push(m), undefined) });
      return seen;
    };
    try {
      const first = await threadsOf(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(first.map((m) => m.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      const started = new Set(first.map((m) => m.thread));
      expect(started.size).toBe(2);
      // The second batch runs on the same two threads: none is started again.
      const second = await threadsOf(['g', 'h', 'i']);
      expect(second.map((m) => m.job).sort()).toEqual(['g', 'h', 'i']);
      for (const m of second) expect(started.has(m.thread)).toBe(true);
      // With groups, every job is still answered once, at its own index; a thread's jobs of one group are its own.
      const grouped: Echo[] = [];
      const jobs = Array.from({ length: 24 }, (_, i) => `job ${i}`);
      await pool.run<string>({ jobs, group: (index) => `g${Math.floor(index / 6)}`, message: (index, job) => ({ index, job }), answer: (m) => (grouped.push(m), undefined) });
      expect(grouped.map((m) => m.index).sort((a, b) => a - b)).toEqual(jobs.map((_, i) => i));
      expect(grouped.map((m) => m.job).sort()).toEqual([...jobs].sort());
      for (const m of grouped) expect(started.has(m.thread)).toBe(true);
      // A thread that exits with jobs unanswered fails the batch and ends the pool.
      await expect(threadsOf(['j', 'exit', 'k'])).rejects.toThrow(/an echo thread exited with code 3 before its jobs were done/);
      await expect(threadsOf(['l'])).rejects.toThrow(/exited with code 3/);
    } finally {
      await pool.close();
    }
    await expect(threadsOf(['m'])).rejects.toThrow(/exited with code 3/);
    const closed = new WorkerPool<Echo>({ url: pathToFileURL(worker), workerData: null, count: 1, what: 'an echo thread' });
    await closed.close();
    await expect(closed.run<string>({ jobs: ['n'], message: (index, job) => ({ index, job }), answer: () => undefined })).rejects.toThrow(/pool is closed/);
  });


  it('takes a batch given while another is under way: a thread with no job left in the first takes the second\'s, and each answer goes to its own batch', async () => {
    // 'block' holds its thread until the test lets it go (Atomics, no clock): the second batch
    // can only finish if the other thread takes its jobs while the first batch's last job runs.
    const worker = join(work, 'blocking-thread.mjs');
    writeFileSync(
      worker,
      "import { parentPort, threadId, workerData } from 'node:worker_threads';\n" +
        "parentPort.on('message', (m) => { if (m.job === 'block') Atomics.wait(new Int32Array(workerData), 0, 0); parentPort.postMessage({ ...m, thread: threadId }); });\n",
    );
    type Echo = { index: number; job: string; thread: number };
    const gate = new SharedArrayBuffer(4);
    const pool = new WorkerPool<Echo>({ url: pathToFileURL(worker), workerData: gate, count: 2, what: 'a blocking thread' });
    const batch = (jobs: string[], seen: Echo[]): Promise<void> => pool.run<string>({ jobs, message: (index, job) => ({ index, job }), answer: (m) => (seen.push(m), undefined) });
    try {
      const first: Echo[] = [];
      const second: Echo[] = [];
      const firstDone = batch(['block', 'a'], first);
      await batch(['b', 'c', 'd'], second);
      expect(second.map((m) => [m.index, m.job]).sort()).toEqual([[0, 'b'], [1, 'c'], [2, 'd']]);
      expect(first.map((m) => m.job)).toEqual(['a']);
      // Every job of the second batch ran on the thread that was not held.
      expect(new Set(second.map((m) => m.thread)).size).toBe(1);
      expect(second[0]!.thread).toBe(first[0]!.thread);
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
      await firstDone;
      expect(first.map((m) => [m.index, m.job]).sort()).toEqual([[0, 'block'], [1, 'a']]);
      // Closing the pool rejects a batch still waiting for its answers.
      Atomics.store(new Int32Array(gate), 0, 0);
      const held = batch(['block'], []);
      const closing = pool.close();
      await expect(held).rejects.toThrow(/a blocking thread pool is closed/);
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
      await closing;
    } finally {
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
      await pool.close();
    }
  });
  it('with groups, keeps a thread on its group, gives a free thread a group no other is on, and leaves no thread idle while jobs are left', () => {
    // Threads asking in a random order until every position is handed out; each answer checked against the rule.
    const simulate = (groups: readonly string[], threads: number, asks: readonly number[]): { pairs: number } => {
      const handed = new Uint8Array(groups.length);
      const on = new Map<number, string>();
      const pairs = new Set<string>();
      let next = 0;
      for (let k = 0; next < groups.length; k += 1) {
        const thread = asks.length === 0 ? k % threads : asks[k % asks.length]! % threads;
        const mine = on.get(thread);
        const taken = new Set([...on].filter(([t]) => t !== thread).map(([, g]) => g));
        const p = nextInGroups(groups, handed, next, mine, taken);
        const open = (q: number): boolean => q >= next && handed[q] === 0;
        const firstOpen = (test: (q: number) => boolean): number => groups.findIndex((_, q) => open(q) && test(q));
        expect(open(p)).toBe(true);
        const ofMine = mine === undefined ? -1 : firstOpen((q) => groups[q] === mine);
        const untaken = firstOpen((q) => !taken.has(groups[q]!));
        expect(p).toBe(ofMine >= 0 ? ofMine : untaken >= 0 ? untaken : firstOpen(() => true));
        handed[p] = 1;
        on.set(thread, groups[p]!);
        pairs.add(`${thread}/${groups[p]}`);
        while (next < groups.length && handed[next] === 1) next += 1;
      }
      expect(nextInGroups(groups, handed, next, undefined, new Set())).toBe(groups.length);
      return { pairs: pairs.size };
    };
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(7), { maxLength: 20 }), (groups, threads, asks) => {
        simulate(groups, threads, asks);
      }),
    );
    // The sweep bench's grid: 100 signals of 10 sets each, in grid order, on 2 threads asking in
    // turn: each signal is computed by one thread (100 thread-signal pairs, where handing the sets
    // out in plain order had both threads compute every signal: 200).
    const grid = Array.from({ length: 1000 }, (_, i) => `signal ${Math.floor(i / 10)}`);
    expect(simulate(grid, 2, []).pairs).toBe(100);
  });

  it('keeps runs shorter than THREAD_MIN_MATERIAL_DAYS in process unless threads are asked for by number', () => {
    const defaults = { workers: 2 };
    expect(threadsFor(10_585, 4, defaults)).toBe(1); // the ammonia main job: one thread is faster there
    expect(threadsFor(THREAD_MIN_MATERIAL_DAYS - 1, 4, defaults)).toBe(1);
    expect(threadsFor(THREAD_MIN_MATERIAL_DAYS, 4, defaults)).toBe(2);
    expect(threadsFor(23_008, 4, defaults)).toBe(2); // chocolate-worldbank
    expect(threadsFor(23_008, 4, { workers: 8 })).toBe(4); // never more threads than runs
    expect(threadsFor(23_008, 4, undefined)).toBe(1);
    expect(threadsFor(10_585, 4, { workers: 2, minMaterialDays: 0 })).toBe(2); // --workers 2
  });

  it('puts the costliest runs first (static-hedge, jit, schedule, then the strategy), keeping equal costs in their order', () => {
    const jobs = [{ strategy: null }, { strategy: 'jit' }, { strategy: 'schedule' }, { strategy: 'static-hedge' }];
    expect(dispatchOrder(jobs)).toEqual([3, 1, 2, 0]);
    expect(dispatchOrder([{ strategy: null }, { strategy: 'jit' }, { strategy: 'schedule' }])).toEqual([1, 2, 0]);
    expect(dispatchOrder([{ strategy: null }, { strategy: 'ma-procurement' }])).toEqual([0, 1]);
  });
});
