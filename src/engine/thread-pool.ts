/**
 * The worker-thread pool both the main job's runs (results.ts, run-worker.ts) and a sweep's
 * sets (sweep.ts, sweep-worker.ts) run on: `count` threads started from `url` with
 * `workerData` (each loads the scenario once), each sent the next job as soon as it answers
 * its last one. `answer` reads a thread's message: it returns an Error to fail the pool, or
 * undefined once it has taken the result. The first failure (an Error from `answer`, a thread's
 * error, or a thread that exits before its jobs are done) terminates every thread and rejects.
 */
import { Worker } from 'node:worker_threads';

export interface ThreadPool<J, M> {
  readonly url: URL;
  readonly workerData: unknown;
  readonly jobs: readonly J[];
  readonly count: number;
  /**
   * The order the jobs are handed out in, as indices into `jobs` (default: as listed). With
   * fewer threads than jobs, handing out the longest first keeps one long job from starting
   * last and running alone (longest-processing-time-first scheduling).
   */
  readonly order?: readonly number[];
  /** The message that sends job `index` to a thread. */
  message(index: number, job: J): unknown;
  answer(message: M): Error | undefined;
  /** What a thread is, for the message when one exits early ("a backtest worker thread"). */
  readonly what: string;
}

export async function runOnThreadPool<J, M>(pool: ThreadPool<J, M>): Promise<void> {
  let next = 0;
  let failed = false;
  const workers: Worker[] = [];
  const one = (): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const worker = new Worker(pool.url, { workerData: pool.workerData });
      workers.push(worker);
      // One failure ends every thread (the other jobs are of no use without it).
      const stop = (error: Error): void => {
        failed = true;
        for (const w of workers) void w.terminate();
        reject(error);
      };
      let done = false;
      const send = (): void => {
        if (next >= pool.jobs.length || failed) {
          done = true;
          void worker.terminate().then(() => resolvePromise());
          return;
        }
        const index = pool.order === undefined ? next : pool.order[next]!;
        next += 1;
        worker.postMessage(pool.message(index, pool.jobs[index]!));
      };
      worker.on('message', (message: M) => {
        const error = pool.answer(message);
        if (error !== undefined) stop(error);
        else send();
      });
      worker.on('error', stop);
      // A thread that ends on its own (out of memory, process.exit) would leave its job unanswered.
      worker.on('exit', (code) => {
        if (done || failed) return;
        stop(new Error(`internal: ${pool.what} exited with code ${code} before its jobs were done`));
      });
      worker.on('online', send);
    });
  await Promise.all(Array.from({ length: pool.count }, one));
}
