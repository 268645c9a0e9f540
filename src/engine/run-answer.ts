/**
 * A worker thread's answer to one main-job run (a RunJob): the run's result with its Decimals
 * intact (core/transfer.ts), or its error in a form the parent turns back into a ProcuraError.
 * The main job's workers (run-worker.ts) and a sweep's (sweep-worker.ts, for the runs after the
 * sweep) answer alike.
 */
import { ProcuraError } from '../core/errors.js';
import { toTransfer } from '../core/transfer.js';
import { runOne, type RunAnswer, type RunJob } from './results.js';
import type { Scenario } from './scenario.js';

export async function answerRunJob(scenario: Scenario, job: RunJob): Promise<RunAnswer> {
  try {
    return { index: job.index, result: toTransfer(await runOne(scenario, job), 'RunResult') };
  } catch (error) {
    return {
      index: job.index,
      error:
        error instanceof ProcuraError
          ? { message: error.message, code: error.code, detail: error.detail, where: error.where }
          : { message: error instanceof Error ? (error.stack ?? error.message) : String(error) },
    };
  }
}
