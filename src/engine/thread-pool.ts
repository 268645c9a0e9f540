/**
 * The worker-thread pool both the main job's runs (results.ts, run-worker.ts) and a sweep's
 * sets (sweep.ts, sweep-worker.ts) run on: `count` threads started from `url` with
 * `workerData` (each loads the scenario once), each sent the next job as soon as it answers
 * its last one. `answer` reads a thread's message: it returns an Error to fail the pool, or
 * undefined once it has taken the result. The first failure (an Error from `answer`, a thread's
 * error, or a thread that exits before its jobs are done) terminates every thread and rejects.
 *
 * A `WorkerPool` keeps its threads between batches (`run` again, then `close`): a sweep screens
 * its sets and confirms the best on the same threads, so the confirmation does not start new
 * threads that import the engine and load the scenario again. `runOnThreadPool` is one batch
 * on a pool of its own.
 */
import { Worker } from 'node:worker_threads';

/** What the threads are: started once per pool. */
export interface PoolThreads {
  readonly url: URL;
  readonly workerData: unknown;
  readonly count: number;
  /** What a thread is, for the message when one exits early ("a backtest worker thread"). */
  readonly what: string;
}

/** One batch of jobs for the threads. */
export interface PoolBatch<J, M> {
  readonly jobs: readonly J[];
  /**
   * The order the jobs are handed out in, as indices into `jobs` (default: as listed). With
   * fewer threads than jobs, handing out the longest first keeps one long job from starting
   * last and running alone (longest-processing-time-first scheduling).
   */
  readonly order?: readonly number[];
  /** The message that sends job `index` to a thread. */
  message(index: number, job: J): unknown;
  answer(message: M): Error | undefined;
}

export type ThreadPool<J, M> = PoolThreads & PoolBatch<J, M>;

/** The batch under way: its jobs, the next to hand out, and how many are still unanswered. */
interface Running<M> {
  readonly batch: PoolBatch<unknown, M>;
  next: number;
  unanswered: number;
  resolve(): void;
  reject(error: Error): void;
}

export class WorkerPool<M> {
  readonly #threads: PoolThreads;
  readonly #workers: Worker[] = [];
  #running: Running<M> | undefined;
  /** The failure that ended the pool, or 'closed'; a pool that has ended runs nothing more. */
  #ended: Error | 'closed' | undefined;

  constructor(threads: PoolThreads) {
    this.#threads = threads;
  }

  /** Runs one batch on the threads (started at the first batch, at most one per job), in order. */
  run<J>(batch: PoolBatch<J, M>): Promise<void> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended === 'closed' ? new Error(`internal: ${this.#threads.what} pool is closed`) : this.#ended);
    if (this.#running !== undefined) return Promise.reject(new Error(`internal: ${this.#threads.what} pool is already running a batch`));
    if (batch.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#running = { batch: batch as PoolBatch<unknown, M>, next: 0, unanswered: batch.jobs.length, resolve, reject };
      if (this.#workers.length === 0) {
        const count = Math.max(1, Math.min(this.#threads.count, batch.jobs.length));
        for (let i = 0; i < count; i += 1) this.#start();
      }
      // A message posted before a thread is online waits for it.
      for (const worker of this.#workers) this.#send(worker);
    });
  }

  /** Ends every thread; the pool runs nothing more. */
  async close(): Promise<void> {
    if (this.#ended === undefined) this.#ended = 'closed';
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #start(): void {
    const worker = new Worker(this.#threads.url, { workerData: this.#threads.workerData });
    this.#workers.push(worker);
    worker.on('message', (message: M) => {
      const running = this.#running;
      if (running === undefined || this.#ended !== undefined) return;
      const error = running.batch.answer(message);
      if (error !== undefined) {
        this.#fail(error);
        return;
      }
      running.unanswered -= 1;
      if (running.unanswered === 0) {
        this.#running = undefined;
        running.resolve();
      } else {
        this.#send(worker);
      }
    });
    worker.on('error', (error) => this.#fail(error));
    // A thread that ends on its own (out of memory, process.exit) would leave its job unanswered.
    worker.on('exit', (code) => {
      if (this.#ended !== undefined) return;
      this.#fail(new Error(`internal: ${this.#threads.what} exited with code ${code} before its jobs were done`));
    });
  }

  #send(worker: Worker): void {
    const running = this.#running!;
    const { batch } = running;
    if (running.next >= batch.jobs.length) return;
    const index = batch.order === undefined ? running.next : batch.order[running.next]!;
    running.next += 1;
    worker.postMessage(batch.message(index, batch.jobs[index]));
  }

  /** One failure ends every thread (the other jobs are of no use without it). */
  #fail(error: Error): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    for (const w of this.#workers) void w.terminate();
    const running = this.#running;
    this.#running = undefined;
    running?.reject(error);
  }
}

/** One batch on a pool of its own, whose threads end with it. */
export async function runOnThreadPool<J, M>(pool: ThreadPool<J, M>): Promise<void> {
  const workers = new WorkerPool<M>(pool);
  try {
    await workers.run(pool);
  } finally {
    await workers.close();
  }
}
