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
 * threads that import the engine and load the scenario again. Batches may overlap: one given
 * while another is under way waits behind it, and a thread the earlier batch has no job left for
 * takes the next batch's, so no thread waits for another's last job while work is queued (the
 * command line queues a sweep's whole-period runs behind its sets; three runs on two threads had
 * left one thread idle for most of a run). `runOnThreadPool` is one batch on a pool of its own.
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
  /**
   * Jobs of one group share what a thread prepares for them and keeps (a screened sweep's sets
   * of one signal: the thread computes the signal once). With groups, a free thread is handed
   * the next job of the group it is on while that group has jobs left, then the first job (in
   * `order`) of a group no other thread is on, and only when every group left has a thread on it
   * the next job in order, so that no thread waits while jobs are left. Default: no groups.
   */
  readonly group?: (index: number) => string;
  /** The message that sends job `index` to a thread. */
  message(index: number, job: J): unknown;
  answer(message: M): Error | undefined;
}

export type ThreadPool<J, M> = PoolThreads & PoolBatch<J, M>;

/** A batch given to the pool: its jobs, the next to hand out, and how many are still unanswered. */
interface Running<M> {
  readonly batch: PoolBatch<unknown, M>;
  /** The first position in the hand-out order not yet handed out. */
  next: number;
  unanswered: number;
  /** With groups: each position's group, which positions were handed out, and the group each thread is on. */
  readonly groups: readonly string[] | undefined;
  readonly handed: Uint8Array | undefined;
  readonly on: Map<Worker, string>;
  resolve(): void;
  reject(error: Error): void;
}

export class WorkerPool<M> {
  readonly #threads: PoolThreads;
  readonly #workers: Worker[] = [];
  /** The batches given and not yet answered in full, in the order they were given. */
  readonly #batches: Running<M>[] = [];
  /** The batch of the job each busy thread is running (its answer goes to that batch). */
  readonly #busy = new Map<Worker, Running<M>>();
  /** The failure that ended the pool, or 'closed'; a pool that has ended runs nothing more. */
  #ended: Error | 'closed' | undefined;

  constructor(threads: PoolThreads) {
    this.#threads = threads;
  }

  /**
   * Runs one batch on the threads (started at the first batch, at most one per job), in order,
   * after the jobs of any batch given before it have been handed out.
   */
  run<J>(batch: PoolBatch<J, M>): Promise<void> {
    if (this.#ended !== undefined) return Promise.reject(this.#endedError());
    if (batch.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const n = batch.jobs.length;
      const indexAt = (position: number): number => (batch.order === undefined ? position : batch.order[position]!);
      const groups = batch.group === undefined ? undefined : Array.from({ length: n }, (_, position) => batch.group!(indexAt(position)));
      this.#batches.push({ batch: batch as PoolBatch<unknown, M>, next: 0, unanswered: n, groups, handed: groups === undefined ? undefined : new Uint8Array(n), on: new Map(), resolve, reject });
      if (this.#workers.length === 0) {
        const count = Math.max(1, Math.min(this.#threads.count, batch.jobs.length));
        for (let i = 0; i < count; i += 1) this.#start();
      }
      // A message posted before a thread is online waits for it.
      for (const worker of this.#workers) if (!this.#busy.has(worker)) this.#send(worker);
    });
  }

  /** The threads this pool runs (started with its first batch, at most `count`). */
  get size(): number {
    return this.#workers.length > 0 ? this.#workers.length : this.#threads.count;
  }

  /** Ends every thread; the pool runs nothing more, and a batch not yet answered in full is rejected. */
  async close(): Promise<void> {
    if (this.#ended === undefined) {
      this.#ended = 'closed';
      this.#rejectAll(this.#endedError());
    }
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #endedError(): Error {
    return this.#ended === 'closed' || this.#ended === undefined ? new Error(`internal: ${this.#threads.what} pool is closed`) : this.#ended;
  }

  #start(): void {
    const worker = new Worker(this.#threads.url, { workerData: this.#threads.workerData });
    this.#workers.push(worker);
    worker.on('message', (message: M) => {
      const running = this.#busy.get(worker);
      if (running === undefined || this.#ended !== undefined) return;
      this.#busy.delete(worker);
      const error = running.batch.answer(message);
      if (error !== undefined) {
        this.#fail(error);
        return;
      }
      running.unanswered -= 1;
      if (running.unanswered === 0) {
        this.#batches.splice(this.#batches.indexOf(running), 1);
        running.resolve();
      }
      this.#send(worker);
    });
    worker.on('error', (error) => this.#fail(error));
    // A thread that ends on its own (out of memory, process.exit) would leave its job unanswered.
    worker.on('exit', (code) => {
      if (this.#ended !== undefined) return;
      this.#fail(new Error(`internal: ${this.#threads.what} exited with code ${code} before its jobs were done`));
    });
  }

  /** Hands `worker` the next job of the first batch that has one left; it stays idle if none has. */
  #send(worker: Worker): void {
    for (const running of this.#batches) {
      const { batch } = running;
      const position = running.groups === undefined ? running.next : this.#positionFor(worker, running);
      if (position >= batch.jobs.length) continue;
      if (running.handed === undefined) running.next += 1;
      else {
        running.handed[position] = 1;
        while (running.next < batch.jobs.length && running.handed[running.next] === 1) running.next += 1;
      }
      const index = batch.order === undefined ? position : batch.order[position]!;
      this.#busy.set(worker, running);
      worker.postMessage(batch.message(index, batch.jobs[index]));
      return;
    }
  }

  /** The position (in the hand-out order) of the job for `worker` in a batch with groups; past the end when none is left. */
  #positionFor(worker: Worker, running: Running<M>): number {
    const mine = running.on.get(worker);
    const taken = new Set<string>();
    for (const [other, group] of running.on) if (other !== worker) taken.add(group);
    const position = nextInGroups(running.groups!, running.handed!, running.next, mine, taken);
    if (position < running.groups!.length) running.on.set(worker, running.groups![position]!);
    return position;
  }

  /** One failure ends every thread and every batch (the other jobs are of no use without it). */
  #fail(error: Error): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    for (const w of this.#workers) void w.terminate();
    this.#rejectAll(error);
  }

  #rejectAll(error: Error): void {
    const batches = this.#batches.splice(0);
    this.#busy.clear();
    for (const running of batches) running.reject(error);
  }
}

/**
 * The hand-out rule of a batch with groups (PoolBatch.group), over positions in the hand-out
 * order: the first position not yet handed out of the group `mine` the thread is on; else the
 * first of a group not in `taken` (the groups other threads are on); else the first not handed
 * out. `next` is the first position not handed out; the answer is `groups.length` when every
 * position is handed out.
 */
export function nextInGroups(groups: readonly string[], handed: Uint8Array, next: number, mine: string | undefined, taken: ReadonlySet<string>): number {
  const n = groups.length;
  if (next >= n) return n;
  if (mine !== undefined) {
    for (let p = next; p < n; p += 1) if (handed[p] === 0 && groups[p] === mine) return p;
  }
  for (let p = next; p < n; p += 1) if (handed[p] === 0 && !taken.has(groups[p]!)) return p;
  return next;
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
